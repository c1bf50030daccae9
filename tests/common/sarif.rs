//! SARIF 2.1.0 validation, fully offline against the committed OASIS schema
//! (`tests/schemas/sarif-schema-2.1.0.json`, see `tests/schemas/PROVENANCE.md`); the schema has
//! only internal `$ref`s and `jsonschema` is built without its HTTP or file resolvers.

use std::sync::OnceLock;

use serde_json::{Value, json};

/// The OASIS SARIF 2.1.0 schema (errata 01), byte for byte as published in the package named in
/// `tests/schemas/PROVENANCE.md`.
pub const SARIF_SCHEMA_JSON: &str = include_str!("../schemas/sarif-schema-2.1.0.json");

fn sarif_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(SARIF_SCHEMA_JSON).expect("the schema is JSON");
        // The draft comes from the schema's own `$schema` (draft-04). Formats the draft knows
        // (`uri`, `date-time`) are checked, not just annotated.
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF schema compiles offline")
    })
}

/// Every violation of the SARIF 2.1.0 schema in `doc`, as `instance path: message`; empty when
/// the document is valid.
pub fn sarif_schema_errors(doc: &Value) -> Vec<String> {
    sarif_validator()
        .iter_errors(doc)
        .map(|e| format!("{}: {}", e.instance_path(), e))
        .collect()
}

/// URI checks the draft-04 schema cannot make (it has no `uri-reference` format): every
/// `artifactLocation.uri` must be an RFC 3986 URI reference, and every `originalUriBaseIds` entry
/// an absolute URI ending in `/` (SARIF §3.14.14). Checked with JSON Schema draft-07 formats.
pub fn sarif_uri_errors(doc: &Value) -> Vec<String> {
    let reference = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&json!({ "type": "string", "format": "uri-reference" }))
        .expect("uri-reference schema");
    let absolute = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&json!({ "type": "string", "format": "uri", "pattern": "/$" }))
        .expect("uri schema");

    let mut errors = Vec::new();
    let mut locations = Vec::new();
    collect_artifact_uris(doc, "", &mut locations);
    for (path, uri) in &locations {
        if !reference.is_valid(uri) {
            errors.push(format!("{path}: {uri} is not a URI reference"));
        }
    }
    for (i, run) in doc["runs"].as_array().into_iter().flatten().enumerate() {
        for (id, base) in run["originalUriBaseIds"].as_object().into_iter().flatten() {
            if !absolute.is_valid(&base["uri"]) {
                errors.push(format!(
                    "/runs/{i}/originalUriBaseIds/{id}: {} is not an absolute URI ending in /",
                    base["uri"]
                ));
            }
        }
    }
    errors
}

fn collect_artifact_uris(v: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let child_path = format!("{path}/{k}");
                if k == "artifactLocation" {
                    if let Some(uri) = child.get("uri") {
                        out.push((format!("{child_path}/uri"), uri.clone()));
                    }
                }
                collect_artifact_uris(child, &child_path, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_artifact_uris(child, &format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Panics, listing every problem, unless `doc` is valid SARIF 2.1.0 with well-formed URIs.
pub fn assert_valid_sarif(doc: &Value) {
    let mut errors = sarif_schema_errors(doc);
    errors.extend(sarif_uri_errors(doc));
    assert!(
        errors.is_empty(),
        "SARIF document is invalid:\n  {}",
        errors.join("\n  ")
    );
}
