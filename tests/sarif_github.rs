//! `--format sarif` as GitHub code scanning ingests it: artifact URIs relative to `--sarif-root`
//! (default: the current directory), fingerprints that do not depend on where the tree lies,
//! `security-severity` and `helpUri` on every rule (the anchors exist in docs/policies.md),
//! `--min-level`, and Microsoft's SARIF Multitool `validate` with its SARIF and GitHub rules.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::interop;
use common::paths;
use common::run::{bingate, bingate_in};
use serde_json::Value;

/// What `helpUri`s start with: docs/policies.md at this version's tag, unless the build set
/// `BINGATE_DOCS_BASE` (the test is built with the same environment as the binary).
const DOCS_BASE: &str = match option_env!("BINGATE_DOCS_BASE") {
    Some(base) => base,
    None => concat!(
        env!("CARGO_PKG_REPOSITORY"),
        "/blob/v",
        env!("CARGO_PKG_VERSION"),
        "/docs/policies.md"
    ),
};

/// `src` copied to `dst` (files and directories; the fixtures have no links).
fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// A project directory `<tmp>/<name>` holding `dist/` (a copy of tests/data/dist) and an empty
/// `other/`.
fn project(tmp: &Path, name: &str) -> PathBuf {
    let proj = tmp.join(name);
    copy_tree(&paths::repo("tests/data/dist"), &proj.join("dist"));
    std::fs::create_dir_all(proj.join("other")).unwrap();
    proj
}

fn sarif(out: &Output) -> Value {
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "bingate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the SARIF output is JSON")
}

fn results(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["results"].as_array().unwrap()
}

fn rules(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
}

fn artifact(result: &Value) -> &Value {
    &result["locations"][0]["physicalLocation"]["artifactLocation"]
}

fn uris(doc: &Value) -> BTreeSet<String> {
    results(doc)
        .iter()
        .map(|r| artifact(r)["uri"].as_str().unwrap().to_owned())
        .collect()
}

/// `file:///abs/dir/` for a directory, as the renderer writes it (the test paths need no
/// percent-encoding: tempdir names are alphanumeric).
fn dir_uri(dir: &Path) -> String {
    let abs = std::path::absolute(dir).unwrap();
    let s = abs.to_str().unwrap();
    assert!(
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b)),
        "{s} needs encoding"
    );
    format!("file://{s}/")
}

const DIST_FILES: [&str; 4] = ["app.exe", "libfoo.so", "plugin.dll", "tool"];

#[test]
fn default_root_is_the_current_directory() {
    let tmp = paths::tempdir();
    let proj = project(tmp.path(), "proj");
    let doc = sarif(&bingate_in(&proj, &["check", "--format", "sarif", "dist/"]));
    common::sarif::assert_valid_sarif(&doc);
    // What GitHub needs: the path from the repository root, not from the scanned directory.
    let want: BTreeSet<String> = DIST_FILES.iter().map(|f| format!("dist/{f}")).collect();
    assert_eq!(uris(&doc), want);
    for r in results(&doc) {
        assert_eq!(artifact(r)["uriBaseId"], "SRCROOT", "{r}");
    }
    assert_eq!(
        doc["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"],
        dir_uri(&proj)
    );
    // The same with an absolute path to scan: the URI is relative to the root all the same.
    let abs = proj.join("dist");
    let doc = sarif(&bingate_in(
        &proj,
        &["check", "--format", "sarif", abs.to_str().unwrap()],
    ));
    assert_eq!(uris(&doc), want);
}

#[test]
fn sarif_root_changes_the_base() {
    let tmp = paths::tempdir();
    let proj = project(tmp.path(), "proj");
    // Relative to the scanned directory itself.
    let doc = sarif(&bingate_in(
        &proj,
        &[
            "check",
            "--format",
            "sarif",
            "--sarif-root",
            "dist",
            "dist/",
        ],
    ));
    let want: BTreeSet<String> = DIST_FILES.iter().map(|f| f.to_string()).collect();
    assert_eq!(uris(&doc), want);
    assert_eq!(
        doc["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"],
        dir_uri(&proj.join("dist"))
    );

    // From somewhere else entirely: the root decides, not the current directory.
    let doc = sarif(&bingate_in(
        tmp.path(),
        &[
            "check",
            "--format",
            "sarif",
            "--sarif-root",
            proj.to_str().unwrap(),
            "proj/dist",
        ],
    ));
    let want: BTreeSet<String> = DIST_FILES.iter().map(|f| format!("dist/{f}")).collect();
    assert_eq!(uris(&doc), want);
}

#[test]
fn files_outside_the_root_get_absolute_uris_without_a_base() {
    let tmp = paths::tempdir();
    let proj = project(tmp.path(), "proj");
    let doc = sarif(&bingate_in(
        &proj,
        &[
            "check",
            "--format",
            "sarif",
            "--sarif-root",
            "other",
            "dist/",
        ],
    ));
    common::sarif::assert_valid_sarif(&doc);
    let dist = dir_uri(&proj.join("dist"));
    let want: BTreeSet<String> = DIST_FILES.iter().map(|f| format!("{dist}{f}")).collect();
    assert_eq!(uris(&doc), want);
    for r in results(&doc) {
        assert!(artifact(r).get("uriBaseId").is_none(), "{r}");
    }
}

#[test]
fn sarif_root_must_be_a_directory() {
    let out = bingate(&[
        "check",
        "--format",
        "sarif",
        "--sarif-root",
        "tests/data/dist/app.exe",
        "tests/data/dist",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--sarif-root"), "{err}");
}

/// (ruleId, uri, logical location, partialFingerprints) of every result.
fn identities(doc: &Value) -> Vec<(String, String, String, String)> {
    results(doc)
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                artifact(r)["uri"].as_str().unwrap().to_owned(),
                r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].to_string(),
                r["partialFingerprints"].to_string(),
            )
        })
        .collect()
}

#[test]
fn fingerprints_do_not_depend_on_where_the_tree_lies() {
    // Two copies of the same tree at different places and depths, scanned from different
    // working directories: one from its root, one from outside with --sarif-root.
    let a = paths::tempdir();
    let b = paths::tempdir();
    let proj_a = project(a.path(), "checkout");
    let proj_b = project(&b.path().join("deeper/still"), "elsewhere");
    copy_tree(
        &paths::corpus("containers"),
        &proj_a.join("dist/containers"),
    );
    copy_tree(
        &paths::corpus("containers"),
        &proj_b.join("dist/containers"),
    );

    let doc_a = sarif(&bingate_in(
        &proj_a,
        &["check", "--format", "sarif", "dist"],
    ));
    let doc_b = sarif(&bingate_in(
        b.path(),
        &[
            "check",
            "--format",
            "sarif",
            "--sarif-root",
            proj_b.to_str().unwrap(),
            proj_b.join("dist").to_str().unwrap(),
        ],
    ));
    let ids_a = identities(&doc_a);
    assert!(ids_a.len() > 10, "{ids_a:?}");
    // Container entries are in there, each with its own fingerprint.
    assert!(
        ids_a
            .iter()
            .any(|(_, uri, inner, _)| uri.starts_with("dist/containers/") && inner != "null"),
        "{ids_a:?}"
    );
    assert_eq!(ids_a, identities(&doc_b));

    // Fingerprints tell results apart: no two results share one.
    let mut seen = BTreeSet::new();
    for r in results(&doc_a) {
        let fp = &r["partialFingerprints"];
        let ours = fp["bingateFinding/v1"].as_str().unwrap();
        let github = fp["primaryLocationLineHash"].as_str().unwrap();
        assert_eq!(ours.len(), 64);
        assert_eq!(github, format!("{}:1", &ours[..16]));
        assert!(seen.insert(ours.to_owned()), "duplicate fingerprint {r}");
    }

    // Apart from the root's own URI, the two logs are the same bytes.
    let text = |doc: &Value, proj: &Path| {
        serde_json::to_string(doc)
            .unwrap()
            .replace(&dir_uri(proj), "file:///ROOT/")
    };
    assert_eq!(text(&doc_a, &proj_a), text(&doc_b, &proj_b));
}

/// GitHub's band for a `security-severity` score.
fn github_band(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "critical",
        s if s >= 7.0 => "high",
        s if s >= 4.0 => "medium",
        s if s >= 0.1 => "low",
        _ => "none",
    }
}

#[test]
fn every_rule_of_every_shipped_policy_is_described_for_github() {
    for policy in bingate::policy::builtin_names() {
        let doc = sarif(&bingate(&[
            "check",
            "--format",
            "sarif",
            "--policy",
            policy,
            "tests/data/dist",
        ]));
        let driver = &doc["runs"][0]["tool"]["driver"];
        assert_eq!(driver["informationUri"], env!("CARGO_PKG_REPOSITORY"));
        assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
        for rule in rules(&doc) {
            let id = rule["id"].as_str().unwrap();
            let props = &rule["properties"];
            let score: f64 = props["security-severity"]
                .as_str()
                .unwrap_or_else(|| panic!("{policy}/{id}: no security-severity"))
                .parse()
                .unwrap();
            // The documented mapping: deny high, warn medium, info low.
            let (band, problem) = match rule["defaultConfiguration"]["level"].as_str().unwrap() {
                "error" => ("high", "error"),
                "warning" => ("medium", "warning"),
                "note" => ("low", "recommendation"),
                other => panic!("{policy}/{id}: level {other}"),
            };
            assert_eq!(github_band(score), band, "{policy}/{id}: {score}");
            assert_eq!(props["problem.severity"], problem, "{policy}/{id}");
            assert!(
                matches!(props["precision"].as_str(), Some("high" | "medium")),
                "{policy}/{id}"
            );
            // GitHub shows security-severity only for rules tagged `security`.
            assert!(
                props["tags"]
                    .as_array()
                    .unwrap()
                    .contains(&Value::from("security")),
                "{policy}/{id}"
            );
            for required in ["shortDescription", "fullDescription", "help"] {
                assert!(
                    !rule[required]["text"].as_str().unwrap_or("").is_empty(),
                    "{policy}/{id}: no {required}.text"
                );
            }
            assert_eq!(
                rule["helpUri"],
                format!("{DOCS_BASE}#{id}"),
                "{policy}/{id}"
            );
        }
    }
}

/// GitHub's heading anchors, in document order: the heading text lowercased, letters, digits,
/// `-` and `_` kept, spaces turned into `-`, everything else (backticks, punctuation) dropped;
/// a repeated anchor gets `-1`, `-2`, … Headings inside fenced code blocks are not headings.
fn github_anchors(markdown: &str) -> Vec<String> {
    let mut anchors = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let hashes = line.bytes().take_while(|&b| b == b'#').count();
        if hashes == 0 || hashes > 6 || line.as_bytes().get(hashes) != Some(&b' ') {
            continue;
        }
        let mut slug = String::new();
        for c in line[hashes..].trim().to_lowercase().chars() {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                slug.push(c);
            } else if c == ' ' {
                slug.push('-');
            }
        }
        let n = counts.entry(slug.clone()).or_insert(0);
        anchors.push(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    anchors
}

#[test]
fn anchor_algorithm_follows_github() {
    let md = "# Policies\n## Levels and `--fail-on`\n```sh\n# not a heading\n```\n### pe-aslr\n### pe-aslr\n#nope\n";
    assert_eq!(
        github_anchors(md),
        ["policies", "levels-and---fail-on", "pe-aslr", "pe-aslr-1"]
    );
}

#[test]
fn every_shipped_rule_id_has_a_heading_in_docs_policies() {
    let docs = paths::read_to_string("docs/policies.md");
    let anchors = github_anchors(&docs);
    let rules_at = docs
        .find("\n## Rules\n")
        .expect("docs/policies.md has a `## Rules` section");
    let mut ids = BTreeSet::from(["parse-error".to_owned()]);
    for name in bingate::policy::builtin_names() {
        let p = bingate::policy::load(name, &[]).unwrap();
        ids.extend(p.rules.iter().map(|r| r.id.clone()));
    }
    assert!(ids.len() > 30, "{ids:?}");
    for id in &ids {
        // The heading's anchor is the id itself, unsuffixed: no other heading takes it first.
        assert!(
            anchors.contains(id),
            "docs/policies.md: no heading for {id}"
        );
        let heading = format!("\n### {id}\n");
        let at = docs
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/policies.md: no `### {id}`"));
        assert!(at > rules_at, "`### {id}` is not under `## Rules`");
    }

    // And every helpUri the default policy's log carries lands on one of those anchors.
    let doc = sarif(&bingate(&["check", "--format", "sarif", "tests/data/dist"]));
    for rule in rules(&doc) {
        let uri = rule["helpUri"].as_str().unwrap();
        let (base, anchor) = uri.split_once('#').unwrap();
        assert_eq!(base, DOCS_BASE);
        assert!(anchors.iter().any(|a| a == anchor), "{uri}");
    }
}

#[test]
fn a_rule_of_ones_own_without_docs_has_help_but_no_help_uri() {
    let tmp = paths::tempdir();
    let policy = tmp.path().join("release.toml");
    std::fs::write(
        &policy,
        r#"name = "release"
description = "default plus a rule of our own"
extends = "default"

[[rule]]
id = "acme-nx-again"
description = "The image is NX-compatible (Acme ES-12)."
level = "info"
applies = { format = "pe" }
check = { fact = "nx_compat", equals = true }
rationale = "Acme requires it twice."

[rule.remediation]
default = "Link with /NXCOMPAT."
"#,
    )
    .unwrap();
    let doc = sarif(&bingate(&[
        "check",
        "--format",
        "sarif",
        "--policy",
        policy.to_str().unwrap(),
        "tests/data/dist",
    ]));
    let rules = rules(&doc);
    let own = rules.iter().find(|r| r["id"] == "acme-nx-again").unwrap();
    assert!(own.get("helpUri").is_none(), "{own}");
    assert_eq!(own["help"]["text"], "default: Link with /NXCOMPAT.");
    assert_eq!(own["properties"]["security-severity"], "2.0");
    // The inherited rules keep their links.
    let aslr = rules.iter().find(|r| r["id"] == "pe-aslr").unwrap();
    assert_eq!(aslr["helpUri"], format!("{DOCS_BASE}#pe-aslr"));
}

#[test]
fn results_have_a_whole_file_region() {
    let doc = sarif(&bingate(&["check", "--format", "sarif", "tests/data/dist"]));
    assert!(!results(&doc).is_empty());
    for r in results(&doc) {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert_eq!(
            *region,
            serde_json::json!({"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}),
            "{r}"
        );
    }
}

fn levels(doc: &Value) -> BTreeSet<String> {
    results(doc)
        .iter()
        .map(|r| r["level"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn min_level_leaves_out_results_not_rules() {
    let run = |min: &str| {
        sarif(&bingate(&[
            "check",
            "--format",
            "sarif",
            "--min-level",
            min,
            "tests/data/dist",
        ]))
    };
    let all = run("info");
    // The fixture has failures at every level, so each cut below removes something.
    assert_eq!(
        levels(&all),
        BTreeSet::from(["error".into(), "warning".into(), "note".into()])
    );
    let warn = run("warn");
    assert_eq!(
        levels(&warn),
        BTreeSet::from(["error".into(), "warning".into()])
    );
    let deny = run("deny");
    assert_eq!(levels(&deny), BTreeSet::from(["error".into()]));
    // Exactly the results at or above the level are kept, in the same order.
    let kept: Vec<&Value> = results(&all)
        .iter()
        .filter(|r| r["level"] != "note")
        .collect();
    assert_eq!(kept, results(&warn).iter().collect::<Vec<_>>());
    // The rule table does not change.
    assert_eq!(rules(&all), rules(&deny));
    common::sarif::assert_valid_sarif(&deny);
}

// ---- Microsoft SARIF Multitool ----------------------------------------------------------------

/// The Multitool: `BINGATE_SARIF_MULTITOOL` (a path to the `Sarif.Multitool` executable, as
/// `.ci/run` installs it), else `sarif-multitool` or `Sarif.Multitool` in `PATH`.
fn multitool() -> Option<String> {
    if let Ok(path) = std::env::var("BINGATE_SARIF_MULTITOOL") {
        return Some(path);
    }
    ["sarif-multitool", "Sarif.Multitool"]
        .into_iter()
        .find(|t| interop::installed(t))
        .map(str::to_owned)
}

/// Multitool warnings that do not matter for GitHub ingestion; every other warning, and every
/// error, fails the test. A new rule of a new Multitool version therefore fails until someone
/// decides which side it is on.
///
/// - SARIF2001 (end messages with a period), SARIF2002 (use message arguments), SARIF2009
///   (conventional identifiers), SARIF2014/SARIF2015 (dynamic message content): style of the
///   message text; GitHub shows the text as it is.
/// - SARIF2003 (versionControlProvenance): GitHub takes the commit and ref from the upload.
/// - SARIF2004 (optimise file size): the log is small; GitHub's limits are far away.
/// - SARIF2010 (region snippets), SARIF2011 (context regions), SARIF2013 (embedded file
///   content): a binary has no text to quote, and GitHub reads the file from the repository.
const IRRELEVANT_FOR_GITHUB: [&str; 10] = [
    "SARIF2001",
    "SARIF2002",
    "SARIF2003",
    "SARIF2004",
    "SARIF2009",
    "SARIF2010",
    "SARIF2011",
    "SARIF2013",
    "SARIF2014",
    "SARIF2015",
];

/// The Multitool's findings on `log` (with its SARIF and GitHub rule kinds), as
/// `(level, rule id, message)`.
fn multitool_findings(tool: &str, log: &Path, dir: &Path) -> Vec<(String, String, String)> {
    let report = dir.join(format!(
        "{}.validation.sarif",
        log.file_stem().unwrap().to_str().unwrap()
    ));
    let out = Command::new(tool)
        .arg("validate")
        .arg(log)
        .arg("--output")
        .arg(&report)
        .args(["--log", "ForceOverwrite", "--rule-kind", "Sarif;Gh"])
        .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        .output()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() || report.exists(),
        "{tool} validate {}: {}\n{}",
        log.display(),
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    // A tool error (a log it could not read) is a notification, not a result.
    for n in doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .into_iter()
        .flatten()
    {
        assert_ne!(n["level"], "error", "{tool} could not validate: {n}");
    }
    results(&doc)
        .iter()
        .map(|r| {
            (
                r["level"].as_str().unwrap_or("warning").to_owned(),
                r["ruleId"].as_str().unwrap_or("?").to_owned(),
                r["message"]["text"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| r["message"].to_string()),
            )
        })
        .collect()
}

#[test]
fn multitool_accepts_the_logs_for_github() {
    let Some(tool) = multitool() else {
        interop::skip(
            "the SARIF Multitool is not installed (BINGATE_SARIF_MULTITOOL, or sarif-multitool / Sarif.Multitool in PATH)",
        );
        return;
    };
    let tmp = paths::tempdir();
    // PE (unsigned, waived), ELF, containers and installers' entries, signed PE files.
    let inputs = [
        (
            "dist",
            vec![
                "--waivers",
                "tests/data/dist-waivers.toml",
                "tests/data/dist",
            ],
        ),
        ("elf", vec!["corpus/elf"]),
        ("containers", vec!["corpus/containers"]),
        ("signed", vec!["corpus/signed"]),
    ];
    let mut problems = Vec::new();
    for (name, args) in inputs {
        let mut full = vec!["check", "--format", "sarif"];
        full.extend(args);
        let doc = sarif(&bingate(&full));
        assert!(!results(&doc).is_empty(), "{name}: no results to validate");
        let log = tmp.path().join(format!("{name}.sarif"));
        std::fs::write(&log, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        for (level, rule, message) in multitool_findings(&tool, &log, tmp.path()) {
            let matters = match level.as_str() {
                "error" => true,
                "warning" => !IRRELEVANT_FOR_GITHUB.contains(&rule.as_str()),
                _ => false,
            };
            if matters {
                problems.push(format!("{name}: {level} {rule}: {message}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The negative control: the Multitool and the filter above do catch what GitHub needs.
#[test]
fn multitool_catches_a_log_github_would_not_show_right() {
    let Some(tool) = multitool() else {
        interop::skip("the SARIF Multitool is not installed");
        return;
    };
    let tmp = paths::tempdir();
    let mut doc = sarif(&bingate(&["check", "--format", "sarif", "tests/data/dist"]));
    // No region and no help: the two things the renderer adds for GitHub.
    for r in doc["runs"][0]["results"].as_array_mut().unwrap() {
        r["locations"][0]["physicalLocation"]
            .as_object_mut()
            .unwrap()
            .remove("region");
    }
    doc["runs"][0]["tool"]["driver"]["rules"][0]
        .as_object_mut()
        .unwrap()
        .remove("help");
    let log = tmp.path().join("broken.sarif");
    std::fs::write(&log, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let found: BTreeSet<String> = multitool_findings(&tool, &log, tmp.path())
        .into_iter()
        .filter(|(level, rule, _)| {
            level == "error"
                || (level == "warning" && !IRRELEVANT_FOR_GITHUB.contains(&rule.as_str()))
        })
        .map(|(_, rule, _)| rule)
        .collect();
    assert!(found.contains("SARIF2017"), "{found:?}");
    assert!(found.contains("GH2012"), "{found:?}");
}
