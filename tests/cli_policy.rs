//! Golden human, JSON and SARIF reports of a small release directory under the default policy
//! with waivers; the SARIF one is validated against the official SARIF 2.1.0 schema.
//! Regenerate with `BINGATE_BLESS=1 cargo test --test cli_policy` and review the diff.

mod common;

use std::process::Output;

use common::golden::assert_golden;
use common::run::bingate;
use serde_json::Value;

fn run(format: &str) -> Output {
    bingate(&[
        "check",
        "--color",
        "never",
        "--today",
        "2026-11-22",
        "--format",
        format,
        "--waivers",
        "tests/data/dist-waivers.toml",
        "tests/data/dist",
    ])
}

#[test]
fn golden_human_policy_report() {
    let out = run("human");
    assert_eq!(out.status.code(), Some(1), "deny failures fail the run");
    assert_golden("dist.txt", &out.stdout);
}

#[test]
fn golden_json_policy_report() {
    let out = run("json");
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["policy"]["name"], "default");
    assert_eq!(doc["summary"]["policy"]["waived"], 1);
    assert_eq!(
        doc["summary"]["policy"]["expired_waivers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        doc["summary"]["policy"]["unused_waivers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_golden("dist.json", &out.stdout);
}

#[test]
fn golden_sarif_policy_report_is_schema_valid() {
    let out = run("sarif");
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    common::sarif::assert_valid_sarif(&doc);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    // Relative to the current directory (the repository root: GitHub's base), not to the
    // scanned directory.
    assert!(
        uris.contains(&"tests/data/dist/app.exe") && uris.contains(&"tests/data/dist/tool"),
        "{uris:?}"
    );
    assert_eq!(
        doc["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"],
        format!("file://{}/", common::paths::ROOT)
    );
    assert!(
        results.iter().any(|r| r["suppressions"].is_array()),
        "the waived finding is suppressed"
    );
    // The absolute root differs between machines; everything else is byte-stable.
    let root = doc["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&root, "file:///SRCROOT/");
    assert_golden("dist.sarif", text.as_bytes());
}
