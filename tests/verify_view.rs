//! `bingate verify`'s view: `--unsigned-only` (sigcheck's `-u`), the summary line per status, and
//! the version resource's lines (sigcheck's Company, Description, Product, File version and
//! Original name), checked against the JSON report of the same run and, for the version strings,
//! against `strings -el` (binutils) and the fixture's resource script.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::run::bingate;
use common::{interop, paths};
use serde_json::Value;

const TIME: &str = "2026-11-22T00:00:00Z";

fn verify(extra: &[&str], targets: &[&str]) -> (Option<i32>, String) {
    let mut args = vec![
        "verify",
        "--trust",
        "corpus/pki/root.pem",
        "--time",
        TIME,
        "--color",
        "never",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(targets);
    let out = bingate(&args);
    assert!(
        out.stderr.is_empty() || out.status.code() != Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("UTF-8 output"),
    )
}

fn json(targets: &[&str]) -> Value {
    let (_, text) = verify(&["--format", "json"], targets);
    serde_json::from_str(&text).unwrap()
}

/// The file lines of human output: (label, path). File lines start with an upper-case label
/// (or `-`) in a 10-column field; detail lines are indented; status lines are lower-case.
fn file_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase() || c == '-'))
        .map(|l| {
            let (label, rest) = l.split_at(10);
            (label.trim().to_owned(), rest.to_owned())
        })
        .collect()
}

/// The status lines at the end: `valid: 13 files` -> ("valid", 13).
fn status_lines(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|l| {
            let (name, count) = l.split_once(": ")?;
            let n = count
                .strip_suffix(" files")
                .or_else(|| count.strip_suffix(" file"))?;
            Some((name.to_owned(), n.parse().unwrap()))
        })
        .collect()
}

/// Statuses per file in the JSON report.
fn statuses(report: &Value) -> Vec<(String, String)> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["signature"]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const TARGETS: &[&str] = &["corpus/signed", "corpus/risk"];

#[test]
fn unsigned_only_lists_exactly_the_files_whose_signature_is_not_valid() {
    let report = json(TARGETS);
    let all = statuses(&report);
    let not_valid: Vec<&(String, String)> = all.iter().filter(|(_, s)| s != "valid").collect();
    // The corpus has every status but valid among the files to list.
    for status in ["invalid", "untrusted", "unsigned", "malformed"] {
        assert!(not_valid.iter().any(|(_, s)| s == status), "{status}");
    }
    assert!(all.iter().any(|(_, s)| s == "valid"));

    let (code, text) = verify(&["--unsigned-only"], TARGETS);
    assert_eq!(
        code,
        Some(1),
        "a file is not valid: exit 1 as without the flag"
    );
    let listed = file_lines(&text);
    assert_eq!(
        listed
            .iter()
            .map(|(label, path)| (path.as_str(), label.to_ascii_lowercase()))
            .collect::<Vec<_>>(),
        not_valid
            .iter()
            .map(|(p, s)| (p.as_str(), s.clone()))
            .collect::<Vec<_>>()
    );
    // No valid file's details slip in under another file.
    assert!(!text.contains("VALID     "), "{text}");

    // The status lines still count every file, as without the flag.
    let (_, full) = verify(&[], TARGETS);
    assert_eq!(status_lines(&text), status_lines(&full));
    assert!(
        text.ends_with(&format!("{} files verified\n", all.len())),
        "{text}"
    );
}

#[test]
fn one_status_line_per_status_present_with_the_json_counts() {
    let report = json(TARGETS);
    let (_, text) = verify(&[], TARGETS);
    let mut want = BTreeMap::new();
    for (_, s) in statuses(&report) {
        *want.entry(s).or_insert(0u64) += 1;
    }
    assert_eq!(status_lines(&text), want);
    let counts = &report["summary"]["signatures"];
    for (status, n) in &want {
        assert_eq!(counts[status].as_u64(), Some(*n), "{status}");
    }
    // In the order of the statuses' severity, just before the total.
    let tail: Vec<&str> = text.lines().rev().take(want.len() + 1).collect();
    assert_eq!(
        tail[0],
        format!("{} files verified", report["summary"]["files"])
    );
    let order = ["valid", "invalid", "untrusted", "unsigned", "malformed"];
    let shown: Vec<&str> = tail[1..]
        .iter()
        .rev()
        .map(|l| l.split_once(": ").unwrap().0)
        .collect();
    let expected: Vec<&str> = order
        .into_iter()
        .filter(|s| want.contains_key(*s))
        .collect();
    assert_eq!(shown, expected);
}

#[test]
fn one_file_is_one_file() {
    let (code, text) = verify(&[], &["corpus/risk/app-signed.exe"]);
    assert_eq!(code, Some(0));
    assert!(text.ends_with("valid: 1 file\n1 file verified\n"), "{text}");
    let (code, text) = verify(&["--unsigned-only"], &["corpus/risk/app-signed.exe"]);
    assert_eq!(code, Some(0));
    assert_eq!(text, "valid: 1 file\n1 file verified\n");
}

/// The value that follows each key in `strings -el` output (the StringFileInfo's String blocks
/// are key then value, UTF-16LE). `strings` stops at the first character that is not printable
/// ASCII (`Microsoft®`): see [`agrees`].
fn strings_el(path: &str) -> Option<BTreeMap<String, String>> {
    if !interop::require("strings") {
        return None;
    }
    let out = Command::new("strings")
        .args(["-el", "-n", "1"])
        .arg(paths::repo(path))
        .output()
        .expect("run strings");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let keys = [
        "CompanyName",
        "ProductName",
        "FileDescription",
        "FileVersion",
        "ProductVersion",
        "OriginalFilename",
    ];
    let mut found = BTreeMap::new();
    for pair in lines.windows(2) {
        if keys.contains(&pair[0]) && !found.contains_key(pair[0]) {
            found.insert(pair[0].to_owned(), pair[1].to_owned());
        }
    }
    Some(found)
}

/// Whether bingate's `value` is what `strings` printed: the same up to its first character that
/// is not printable ASCII, where `strings` stops.
fn agrees(value: Option<&str>, printed: Option<&String>) -> bool {
    match (value, printed) {
        (Some(v), Some(p)) => {
            let ascii: String = v
                .chars()
                .take_while(|c| c.is_ascii() && !c.is_ascii_control())
                .collect();
            &ascii == p
        }
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn version_lines_agree_with_strings_and_the_resource_script() {
    let file = "corpus/risk/app-signed.exe";
    // The resource script the fixture was built from (corpus/src/risk/app.rc).
    let rc = paths::read_to_string(paths::corpus("src/risk/app.rc"));
    for v in [
        "\"Bingate Test Corp\"",
        "\"bingate risk fixture\"",
        "\"Bingate Risk App\"",
        "\"app.exe\"",
        "\"1.2.3.4\"",
    ] {
        assert!(rc.contains(v), "app.rc has {v}");
    }
    let (code, text) = verify(&[], &[file]);
    assert_eq!(code, Some(0));
    let expected = "VALID     corpus/risk/app-signed.exe\n\
                    \x20   company         Bingate Test Corp\n\
                    \x20   description     bingate risk fixture\n\
                    \x20   product         Bingate Risk App\n\
                    \x20   file version    1.2.3.4\n\
                    \x20   product version 1.2.3.4\n\
                    \x20   original name   app.exe\n\
                    \x20   primary signature: valid (sha256)\n";
    assert!(text.starts_with(expected), "{text}");

    let report = json(&[file]);
    let v = &report["files"][0]["version"];
    // No ProductVersion string: the fixed block's PRODUCTVERSION 1,2,3,4.
    assert_eq!(v["product_version"], "1.2.3.4");
    let Some(found) = strings_el(file) else {
        return;
    };
    assert!(!found.contains_key("ProductVersion"));
    for (key, field) in [
        ("CompanyName", "company"),
        ("ProductName", "product"),
        ("FileDescription", "description"),
        ("FileVersion", "file_version"),
        ("OriginalFilename", "original_filename"),
    ] {
        assert_eq!(
            v[field].as_str(),
            found.get(key).map(String::as_str),
            "{key}"
        );
    }
}

#[test]
fn public_dll_version_agrees_with_strings() {
    let file = "corpus/public/msvc-runtime/vcruntime140.dll";
    if !interop::public(file) {
        return;
    }
    let report = json(&[file]);
    let v = &report["files"][0]["version"];
    let Some(found) = strings_el(file) else {
        return;
    };
    for (key, field) in [
        ("CompanyName", "company"),
        ("ProductName", "product"),
        ("FileDescription", "description"),
        ("FileVersion", "file_version"),
        ("ProductVersion", "product_version"),
        ("OriginalFilename", "original_filename"),
    ] {
        assert!(
            agrees(v[field].as_str(), found.get(key)),
            "{key}: {} vs {:?}",
            v[field],
            found.get(key)
        );
    }
    let (_, text) = verify(&[], &[file]);
    assert!(
        text.contains("\n    company         Microsoft Corporation\n"),
        "{text}"
    );
}

#[test]
fn version_is_reported_by_check_risk_and_container_entries() {
    let exe = "corpus/risk/app.exe";
    let version = |args: &[&str]| -> Vec<(String, Value)> {
        let out = bingate(args);
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        report["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["path"].as_str().unwrap().to_owned(), f["version"].clone()))
            .collect()
    };
    let expected = serde_json::json!({
        "company": "Bingate Test Corp",
        "product": "Bingate Risk App",
        "description": "bingate risk fixture",
        "file_version": "1.2.3.4",
        "product_version": "1.2.3.4",
        "original_filename": "app.exe",
    });
    for args in [
        &["check", "--format", "json", exe][..],
        &["check", "--format", "json", "--no-verify", exe],
        &["check", "--format", "json", "--no-policy", exe],
        &["risk", "--format", "json", exe],
        &["verify", "--format", "json", exe],
    ] {
        assert_eq!(
            version(args),
            vec![(exe.to_owned(), expected.clone())],
            "{args:?}"
        );
    }
    // An ELF file and a PE without a version resource have none.
    for f in ["corpus/elf/canary", "corpus/pe/x64-default.exe"] {
        assert_eq!(
            version(&["check", "--format", "json", f]),
            vec![(f.to_owned(), Value::Null)]
        );
    }

    // Inside a container: the same code path.
    if !interop::require("python3") {
        return;
    }
    let dir = paths::tempdir();
    let zip = dir.path().join("bundle.zip");
    let status = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[1], 'w') as z: z.write(sys.argv[2], 'bin/app.exe')",
        ])
        .arg(&zip)
        .arg(paths::repo(exe))
        .status()
        .unwrap();
    assert!(status.success());
    let zip = zip.to_str().unwrap();
    let got = version(&["check", "--format", "json", "--no-verify", zip]);
    assert_eq!(
        got,
        vec![
            (zip.to_owned(), Value::Null),
            (format!("{zip}!/bin/app.exe"), expected)
        ]
    );
}
