//! `--format sarif`: the log SarifRenderer writes validates against the OASIS SARIF 2.1.0 schema
//! and says what the findings say (rules, levels, suppressions, locations, fingerprints).
//! A broken document must fail the same validation, so these tests cannot pass vacuously.

mod common;

use std::cell::RefCell;
use std::io::{self, Write};
use std::path::Path;
use std::rc::Rc;

use bingate::policy::{
    Applies, Check, Finding, Level, NamedCheck, Policy, Remediation, Rule, Status, WaiverRef,
};
use bingate::report::{FileReport, Renderer, SarifRenderer, Severity, Summary};
use bingate::{FileError, FileErrorKind};
use common::sarif::{assert_valid_sarif, sarif_schema_errors, sarif_uri_errors};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ROOT: &str = "/srv/bingate scan";

fn rule(id: &str, level: Level, controls: &[&str], remediation: Remediation) -> Rule {
    Rule {
        id: id.to_string(),
        description: format!("{id} is on"),
        level,
        applies: Applies::default(),
        check: Check::Named(NamedCheck::PeAslr),
        controls: controls.iter().map(|c| c.to_string()).collect(),
        rationale: format!("why {id} matters"),
        remediation,
    }
}

fn policy() -> Policy {
    Policy {
        name: "test".to_string(),
        description: "synthetic policy".to_string(),
        source: "builtin:test".to_string(),
        rules: vec![
            rule(
                "pe-aslr",
                Level::Deny,
                &["NIST SP 800-53 SI-16", "security"],
                Remediation {
                    msvc: Some("link with /DYNAMICBASE".to_string()),
                    mingw: Some("link with -Wl,--dynamicbase".to_string()),
                    ..Remediation::default()
                },
            ),
            rule("elf-full-relro", Level::Warn, &[], Remediation::default()),
            rule(
                "pe-checksum",
                Level::Info,
                &["CIS 2.1"],
                Remediation::default(),
            ),
            rule("pe-safe-seh", Level::Off, &[], Remediation::default()),
        ],
        waivers: Vec::new(),
        risk: bingate::risk::Weights::default(),
    }
}

fn finding(rule: &str, level: Level, status: Status) -> Finding {
    Finding {
        rule: rule.to_string(),
        level,
        status,
        message: format!("{rule}: {status:?}"),
        controls: Vec::new(),
        remediation: None,
        waiver: None,
    }
}

fn report(path: &str, error: Option<&str>, findings: Vec<Finding>) -> FileReport {
    let mut r = FileReport::error(
        path.to_string(),
        None,
        None,
        None,
        FileError::io(""),
        Severity::Examined,
    );
    r.error = error.map(|e| FileError::new(FileErrorKind::Parser, None, e));
    r.findings = Some(findings);
    r
}

/// An entry of a container, as `check` reports it: `container!/entry`.
fn inside(container: &str, entry: &str, findings: Vec<Finding>) -> FileReport {
    let mut r = report(&format!("{container}!/{entry}"), None, findings);
    r.inside = Some(container.len());
    r
}

/// The files of a run, in report (path) order, then an entry of a container.
fn files() -> Vec<FileReport> {
    let mut aslr = finding("pe-aslr", Level::Deny, Status::Fail);
    aslr.remediation = Some("link with /DYNAMICBASE".to_string());
    let mut waived = finding("pe-aslr", Level::Deny, Status::Waived);
    waived.waiver = Some(WaiverRef {
        reason: "vendor binary, ticket SEC-42".to_string(),
        expires: Some("2099-01-01".to_string()),
        origin: "bingate.toml:12:1".to_string(),
    });
    vec![
        report(
            &format!("{ROOT}/broken.bin"),
            Some("ELF header truncated"),
            vec![finding("parse-error", Level::Deny, Status::Fail)],
        ),
        report(&format!("{ROOT}/legacy/old.dll"), None, vec![waived]),
        report(
            &format!("{ROOT}/lib/libgood.so"),
            None,
            vec![
                finding("elf-full-relro", Level::Warn, Status::Pass),
                finding("pe-aslr", Level::Deny, Status::NotApplicable),
            ],
        ),
        report(
            &format!("{ROOT}/sub dir/app one.exe"),
            None,
            vec![
                aslr,
                finding("elf-full-relro", Level::Warn, Status::NotApplicable),
                finding("pe-checksum", Level::Info, Status::Fail),
            ],
        ),
        report(
            "/opt/elsewhere/tool",
            None,
            vec![finding("elf-full-relro", Level::Warn, Status::Fail)],
        ),
        // Last, so the indexes above stay as other tests know them.
        inside(
            &format!("{ROOT}/dist/pkg.whl"),
            "lib/native.pyd",
            vec![finding("pe-checksum", Level::Info, Status::Fail)],
        ),
    ]
}

fn render(policy: &Policy, files: &[FileReport]) -> Vec<u8> {
    let mut r = SarifRenderer::new(Vec::new(), policy, Path::new(ROOT));
    r.begin().unwrap();
    for f in files {
        r.file(f).unwrap();
    }
    r.finish(&[], &Summary::default()).unwrap();
    r.into_inner()
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("the SARIF output is JSON")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn results_for<'a>(doc: &'a Value, uri: &str) -> Vec<&'a Value> {
    doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri)
        .collect()
}

#[test]
fn synthetic_run_is_valid_sarif() {
    let doc = parse(&render(&policy(), &files()));
    assert_valid_sarif(&doc);
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn driver_lists_every_enabled_rule_and_parse_error() {
    let doc = parse(&render(&policy(), &files()));
    let driver = &doc["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "bingate");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    // `pe-safe-seh` is off: not listed. `parse-error` is the built-in rule, always listed.
    assert_eq!(
        ids,
        ["pe-aslr", "elf-full-relro", "pe-checksum", "parse-error"]
    );

    let aslr = &rules[0];
    assert_eq!(aslr["name"], "PeAslr");
    assert_eq!(aslr["shortDescription"]["text"], "pe-aslr is on");
    assert_eq!(aslr["fullDescription"]["text"], "why pe-aslr matters");
    assert_eq!(
        aslr["help"]["text"],
        "msvc: link with /DYNAMICBASE\nmingw: link with -Wl,--dynamicbase"
    );
    assert_eq!(aslr["defaultConfiguration"]["level"], "error");
    // Controls become tags, without repeating "security".
    assert_eq!(
        aslr["properties"]["tags"],
        json!(["security", "NIST SP 800-53 SI-16"])
    );
    assert!(
        aslr["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("/docs/policies.md#pe-aslr"),
        "{aslr}"
    );
    // No remediation: GitHub still needs help.text, so it is the description.
    assert_eq!(rules[1]["help"]["text"], "elf-full-relro is on");
    assert_eq!(rules[1]["defaultConfiguration"]["level"], "warning");
    assert_eq!(rules[2]["defaultConfiguration"]["level"], "note");
    assert_eq!(rules[3]["defaultConfiguration"]["level"], "error");
    assert_eq!(
        rules[3]["shortDescription"]["text"],
        "bingate could not parse the binary"
    );
}

#[test]
fn results_only_for_failed_and_waived_findings() {
    let doc = parse(&render(&policy(), &files()));
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let got: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap(),
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("parse-error", "broken.bin"),
            ("pe-aslr", "legacy/old.dll"),
            ("pe-aslr", "sub%20dir/app%20one.exe"),
            ("pe-checksum", "sub%20dir/app%20one.exe"),
            ("elf-full-relro", "file:///opt/elsewhere/tool"),
            ("pe-checksum", "dist/pkg.whl"),
        ]
    );
    // Each ruleIndex points at the descriptor with the result's ruleId.
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
    }
}

#[test]
fn levels_follow_the_finding_level() {
    let doc = parse(&render(&policy(), &files()));
    let app = results_for(&doc, "sub%20dir/app%20one.exe");
    assert_eq!(app[0]["level"], "error");
    assert_eq!(app[1]["level"], "note");
    assert_eq!(results_for(&doc, "broken.bin")[0]["level"], "error");
    assert_eq!(
        results_for(&doc, "file:///opt/elsewhere/tool")[0]["level"],
        "warning"
    );
}

#[test]
fn locations_are_relative_to_srcroot() {
    let doc = parse(&render(&policy(), &files()));
    let run = &doc["runs"][0];
    assert_eq!(
        run["originalUriBaseIds"]["SRCROOT"]["uri"],
        "file:///srv/bingate%20scan/"
    );
    let app = results_for(&doc, "sub%20dir/app%20one.exe");
    let loc = &app[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(loc["uriBaseId"], "SRCROOT");
    // Outside the root: an absolute URI, no base.
    let outside = results_for(&doc, "file:///opt/elsewhere/tool");
    let loc = &outside[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert!(loc.get("uriBaseId").is_none(), "{loc}");
}

#[test]
fn entries_of_containers_point_at_the_container_file() {
    let doc = parse(&render(&policy(), &files()));
    let results = results_for(&doc, "dist/pkg.whl");
    assert_eq!(results.len(), 1, "{doc}");
    let r = results[0];
    assert_eq!(
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "lib/native.pyd"
    );
    assert!(
        r["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("In lib/native.pyd: ")
    );
}

#[test]
fn messages_carry_the_remediation() {
    let doc = parse(&render(&policy(), &files()));
    let app = results_for(&doc, "sub%20dir/app%20one.exe");
    assert_eq!(
        app[0]["message"]["text"],
        "pe-aslr: Fail\nRemediation: link with /DYNAMICBASE"
    );
    assert_eq!(app[1]["message"]["text"], "pe-checksum: Fail");
}

#[test]
fn waived_finding_is_a_suppressed_result() {
    let doc = parse(&render(&policy(), &files()));
    let waived = results_for(&doc, "legacy/old.dll");
    assert_eq!(waived.len(), 1);
    let s = &waived[0]["suppressions"];
    assert_eq!(s.as_array().unwrap().len(), 1);
    assert_eq!(s[0]["kind"], "external");
    assert_eq!(s[0]["status"], "accepted");
    assert_eq!(s[0]["justification"], "vendor binary, ticket SEC-42");
    assert_eq!(s[0]["properties"]["expires"], "2099-01-01");
    assert_eq!(s[0]["properties"]["origin"], "bingate.toml:12:1");
    // A failure that is not waived is not suppressed.
    let app = results_for(&doc, "sub%20dir/app%20one.exe");
    assert!(app[0].get("suppressions").is_none());
}

#[test]
fn fingerprints_are_stable_and_distinct() {
    let first = render(&policy(), &files());
    let second = render(&policy(), &files());
    // Two renders of the same findings are the same bytes, fingerprints included.
    assert_eq!(first, second);

    let doc = parse(&first);
    let fp = |r: &Value| {
        r["partialFingerprints"]["bingateFinding/v1"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let app = results_for(&doc, "sub%20dir/app%20one.exe");
    // Same file, two rules: two fingerprints.
    assert_ne!(fp(app[0]), fp(app[1]));
    // Same rule, two files: two fingerprints.
    assert_ne!(fp(app[0]), fp(results_for(&doc, "legacy/old.dll")[0]));
    // Documented input: rule id, NUL, result URI.
    assert_eq!(fp(app[0]), sha256_hex(b"pe-aslr\0sub%20dir/app%20one.exe"));
    // GitHub's key: the first 64 bits of the same hash, in the upload action's `hex:n` form.
    assert_eq!(
        app[0]["partialFingerprints"]["primaryLocationLineHash"],
        format!("{}:1", &fp(app[0])[..16])
    );
    // An entry of a container: the container's URI and the path inside.
    assert_eq!(
        fp(results_for(&doc, "dist/pkg.whl")[0]),
        sha256_hex(b"pe-checksum\0dist/pkg.whl!/lib/native.pyd")
    );

    // Independent of what changes on a rebuild (message, remediation, file hash) and of
    // the other files in the run.
    let mut rebuilt = files().split_off(3);
    rebuilt[0].sha256 = Some("ab".repeat(32));
    rebuilt[0].findings.as_mut().unwrap()[0].message = "different text".to_string();
    let doc2 = parse(&render(&policy(), &rebuilt));
    assert_eq!(
        fp(results_for(&doc2, "sub%20dir/app%20one.exe")[0]),
        fp(app[0])
    );
}

#[test]
fn empty_run_is_valid_with_no_results() {
    let doc = parse(&render(&policy(), &[]));
    assert_valid_sarif(&doc);
    assert_eq!(doc["runs"][0]["results"], json!([]));
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );

    // A policy with no rules still describes parse-error.
    let mut bare = policy();
    bare.rules.clear();
    let doc = parse(&render(&bare, &[]));
    assert_valid_sarif(&doc);
    assert_eq!(
        doc["runs"][0]["tool"]["driver"]["rules"][0]["id"],
        "parse-error"
    );
}

#[test]
fn files_without_findings_give_no_results() {
    let mut plain = report(&format!("{ROOT}/a.exe"), None, Vec::new());
    plain.findings = None;
    let doc = parse(&render(&policy(), &[plain]));
    assert_valid_sarif(&doc);
    assert_eq!(doc["runs"][0]["results"], json!([]));
}

/// The negative controls: each mutation of a valid log must be caught.
#[test]
fn broken_documents_fail_validation() {
    let valid = parse(&render(&policy(), &files()));
    assert!(sarif_schema_errors(&valid).is_empty());
    assert!(sarif_uri_errors(&valid).is_empty());

    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        ("version 2.0", Box::new(|d| d["version"] = json!("2.0"))),
        // Proves `format` is checked, not only annotated.
        (
            "$schema not a URI",
            Box::new(|d| d["$schema"] = json!("not a uri")),
        ),
        (
            "no runs",
            Box::new(|d| {
                d.as_object_mut().unwrap().remove("runs");
            }),
        ),
        (
            "unknown level",
            Box::new(|d| d["runs"][0]["results"][0]["level"] = json!("fatal")),
        ),
        (
            "result without message",
            Box::new(|d| {
                d["runs"][0]["results"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("message");
            }),
        ),
        (
            "suppression kind",
            Box::new(|d| d["runs"][0]["results"][1]["suppressions"][0]["kind"] = json!("internal")),
        ),
        (
            "negative ruleIndex",
            Box::new(|d| d["runs"][0]["results"][0]["ruleIndex"] = json!(-2)),
        ),
        (
            "unknown property",
            Box::new(|d| d["runs"][0]["results"][0]["severity"] = json!("high")),
        ),
        (
            "driver without name",
            Box::new(|d| {
                d["runs"][0]["tool"]["driver"]
                    .as_object_mut()
                    .unwrap()
                    .remove("name");
            }),
        ),
    ];
    for (what, mutate) in mutations {
        let mut doc = valid.clone();
        mutate(&mut doc);
        assert!(
            !sarif_schema_errors(&doc).is_empty(),
            "{what}: accepted by the schema"
        );
    }

    // URIs the draft-04 schema cannot check.
    let mut doc = valid.clone();
    doc["runs"][0]["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        json!("sub dir/app one.exe");
    assert!(
        !sarif_uri_errors(&doc).is_empty(),
        "raw space in a URI accepted"
    );
    let mut doc = valid.clone();
    doc["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] = json!("file:///srv/scan");
    assert!(
        !sarif_uri_errors(&doc).is_empty(),
        "base URI without trailing slash accepted"
    );
    let mut doc = valid;
    doc["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] = json!("srv/scan/");
    assert!(
        !sarif_uri_errors(&doc).is_empty(),
        "relative base URI accepted"
    );
}

/// A writer whose bytes can be read while the renderer still holds it.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn results_are_written_as_files_arrive() {
    let out = Shared::default();
    let files = files();
    let mut r = SarifRenderer::new(out.clone(), &policy(), Path::new(ROOT));
    r.begin().unwrap();
    let header = String::from_utf8(out.0.borrow().clone()).unwrap();
    assert!(header.contains("\"rules\""), "{header}");
    assert!(header.ends_with("\"results\": ["), "{header}");

    r.file(&files[0]).unwrap();
    let after_one = String::from_utf8(out.0.borrow().clone()).unwrap();
    assert!(after_one.len() > header.len());
    assert!(after_one.contains("broken.bin"));
    assert!(!after_one.contains("old.dll"));

    for f in &files[1..] {
        r.file(f).unwrap();
    }
    r.finish(&[], &Summary::default()).unwrap();
    drop(r);
    assert_valid_sarif(&parse(&out.0.borrow()));
}

#[test]
fn rules_carry_github_severity_by_level() {
    let doc = parse(&render(&policy(), &files()));
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let props: Vec<(&str, &str, &str, &str)> = rules
        .iter()
        .map(|r| {
            let p = &r["properties"];
            (
                r["id"].as_str().unwrap(),
                p["security-severity"].as_str().unwrap(),
                p["problem.severity"].as_str().unwrap(),
                p["precision"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        props,
        [
            ("pe-aslr", "8.0", "error", "high"),
            ("elf-full-relro", "5.0", "warning", "high"),
            ("pe-checksum", "2.0", "recommendation", "high"),
            ("parse-error", "8.0", "error", "high"),
        ]
    );
    // Every rule has what GitHub requires: full description and help.
    for r in rules {
        assert!(r["fullDescription"]["text"].is_string(), "{r}");
        assert!(r["help"]["text"].is_string(), "{r}");
    }
    let driver = &doc["runs"][0]["tool"]["driver"];
    assert_eq!(driver["informationUri"], env!("CARGO_PKG_REPOSITORY"));
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn the_risk_estimate_is_medium_precision() {
    let mut p = policy();
    p.rules[0].check = Check::RiskAtMost(bingate::risk::RiskLevel::Medium);
    let doc = parse(&render(&p, &[]));
    let rules = &doc["runs"][0]["tool"]["driver"]["rules"];
    assert_eq!(rules[0]["properties"]["precision"], "medium");
    assert_eq!(rules[1]["properties"]["precision"], "high");
}

#[test]
fn user_rule_ids_without_docs_get_no_help_uri() {
    let mut p = policy();
    p.rules[0].id = "acme-own-rule".to_string();
    let doc = parse(&render(&p, &[]));
    let rules = &doc["runs"][0]["tool"]["driver"]["rules"];
    assert_eq!(rules[0]["id"], "acme-own-rule");
    assert!(rules[0].get("helpUri").is_none(), "{}", rules[0]);
    assert!(rules[1]["helpUri"].is_string());
    assert!(
        rules[3]["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("#parse-error")
    );
}

#[test]
fn min_level_drops_results_below_it() {
    let render_min = |level: Level| {
        let mut r = SarifRenderer::new(Vec::new(), &policy(), Path::new(ROOT)).min_level(level);
        r.begin().unwrap();
        for f in files() {
            r.file(&f).unwrap();
        }
        r.finish(&[], &Summary::default()).unwrap();
        parse(&r.into_inner())
    };
    let levels = |doc: &Value| -> Vec<String> {
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["level"].as_str().unwrap().to_string())
            .collect()
    };
    let all = render_min(Level::Info);
    assert_eq!(
        levels(&all),
        ["error", "error", "error", "note", "warning", "note"]
    );
    assert_eq!(
        levels(&render_min(Level::Warn)),
        ["error", "error", "error", "warning"]
    );
    let deny = render_min(Level::Deny);
    assert_eq!(levels(&deny), ["error", "error", "error"]);
    // The waived deny finding is still there, suppressed.
    assert!(results_for(&deny, "legacy/old.dll")[0]["suppressions"].is_array());
    // The rule table is the same.
    assert_eq!(
        deny["runs"][0]["tool"]["driver"],
        all["runs"][0]["tool"]["driver"]
    );
    assert_valid_sarif(&deny);
}

#[test]
fn every_result_has_the_whole_file_region() {
    let doc = parse(&render(&policy(), &files()));
    for r in doc["runs"][0]["results"].as_array().unwrap() {
        assert_eq!(
            r["locations"][0]["physicalLocation"]["region"],
            json!({"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1})
        );
    }
}
