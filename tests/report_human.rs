//! `check`'s human report, focused: `--only-failures`, `--min-level`, the per-rule summary with
//! each fix once, warnings shown, one header per format block, "1 file", the RISK column and the
//! ELF signature verdict. What the report says is compared with the JSON report of the same run.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

use common::paths::{self, corpus, pki};
use common::run::{bingate, bingate_mixed, text};
use serde_json::Value;

const DIST: &str = "tests/data/dist";

fn check(extra: &[&str], path: &str) -> (String, Option<i32>) {
    let mut args = vec!["check", "--color", "never", "--today", "2026-11-22"];
    args.extend_from_slice(extra);
    args.push(path);
    let o = bingate(&args);
    (text(&o), o.status.code())
}

fn json(path: &str) -> Value {
    let o = bingate(&["check", "--format", "json", "--today", "2026-11-22", path]);
    serde_json::from_slice(&o.stdout).expect("JSON report")
}

/// The failing (not waived) findings of the JSON report: (path, rule, level, remediation).
fn failing(report: &Value) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for f in report["files"].as_array().expect("files") {
        for x in f["findings"].as_array().into_iter().flatten() {
            if x["status"] == "fail" {
                out.push((
                    f["path"].as_str().unwrap_or_default().to_owned(),
                    x["rule"].as_str().unwrap_or_default().to_owned(),
                    x["level"].as_str().unwrap_or_default().to_owned(),
                    x["remediation"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
    }
    out
}

/// Every failing finding is shown under its file; each distinct fix is written exactly once,
/// in the rule summary, which counts the files each rule fails on as the JSON report does.
#[test]
fn each_fix_is_written_once_and_the_rule_summary_counts_files() {
    let (out, code) = check(&[], DIST);
    assert_eq!(code, Some(1), "{out}");
    let report = json(DIST);
    let failing = failing(&report);
    assert!(failing.len() >= 5, "{report}");
    let mut files_per_rule: BTreeMap<&str, (u64, &str)> = BTreeMap::new();
    for (path, rule, level, fix) in &failing {
        assert!(
            out.contains(&format!("{path}\n")) || out.contains(&format!("{path}  ")),
            "{path} has no row:\n{out}"
        );
        assert!(out.contains(&format!("{rule}: ")), "{rule}:\n{out}");
        assert_eq!(
            out.matches(fix.as_str()).count(),
            1,
            "the fix for {rule} is not written exactly once:\n{out}"
        );
        let e = files_per_rule.entry(rule).or_insert((0, level));
        e.0 += 1;
    }
    let summary = out
        .split("failing rules")
        .nth(1)
        .unwrap_or_else(|| panic!("no rule summary:\n{out}"));
    for (rule, (files, level)) in &files_per_rule {
        let line = summary
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(rule))
            .unwrap_or_else(|| panic!("{rule} not in the summary:\n{summary}"));
        let unit = if *files == 1 { "file" } else { "files" };
        assert!(line.contains(&format!("{files} {unit}")), "{line}");
        assert!(line.trim_start().starts_with(level), "{line}");
    }
    // No fix under a row without --details; with it, under every failing finding.
    assert!(!out.contains("           fix ("), "{out}");
    let (details, _) = check(&["--details"], DIST);
    let fix_lines = details.matches("           fix (").count();
    assert_eq!(fix_lines, failing.len(), "{details}");
    assert!(details.contains("           controls: "), "{details}");
}

/// `--min-level deny --only-failures`: only files with a failing deny finding, only deny
/// findings, and a line saying how many files were left out; the exit code is unchanged.
#[test]
fn only_failures_and_min_level_focus_the_report() {
    let report = json(DIST);
    let failing = failing(&report);
    let deny_files: std::collections::BTreeSet<&str> = failing
        .iter()
        .filter(|(_, _, level, _)| level == "deny")
        .map(|(p, _, _, _)| p.as_str())
        .collect();
    let all_files = report["summary"]["files"].as_u64().unwrap_or(0);
    let (out, code) = check(&["--only-failures", "--min-level", "deny"], DIST);
    assert_eq!(code, Some(1), "{out}");
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("    ") && l.contains(DIST))
        .collect();
    assert_eq!(rows.len(), deny_files.len(), "{out}");
    for p in &deny_files {
        assert!(rows.iter().any(|r| r.ends_with(p)), "{p}:\n{out}");
    }
    assert!(!out.contains("    warn   "), "{out}");
    assert!(!out.contains("    info   "), "{out}");
    let hidden = all_files - deny_files.len() as u64;
    let unit = if hidden == 1 { "file" } else { "files" };
    assert!(
        out.contains(&format!(
            "{hidden} {unit} with nothing failing at deny not shown (--only-failures)"
        )),
        "{out}"
    );
    // The policy line still counts every finding.
    let f = &report["summary"]["policy"]["failed"];
    assert!(
        out.contains(&format!(
            "policy: {} deny, {} warn, {} info findings",
            f["deny"], f["warn"], f["info"]
        )),
        "{out}"
    );
    // --min-level warn keeps warn findings, drops info ones.
    let (out, _) = check(&["--min-level", "warn"], DIST);
    assert!(out.contains("    warn   "), "{out}");
    assert!(!out.contains("    info   "), "{out}");
}

/// Files of two formats named so that they alternate in report order: one header per format.
#[test]
fn one_header_per_format_block() {
    let dir = paths::tempdir();
    let pe = corpus("pe").join("x64-default.exe");
    let elf = corpus("elf").join("pie-default");
    for (name, from) in [("a.exe", &pe), ("b", &elf), ("c.exe", &pe), ("d", &elf)] {
        std::fs::copy(from, dir.path().join(name)).expect("copy");
    }
    let d = dir.path().to_str().expect("utf-8");
    let (out, _) = check(&["--no-verify"], d);
    assert_eq!(out.matches("ELF PIE").count(), 1, "{out}");
    assert_eq!(out.matches("PE  ASLR").count(), 1, "{out}");
    // Each block holds its rows: the PE block (first in report order) then the ELF one.
    let pe_at = out.find("PE  ASLR").unwrap_or(usize::MAX);
    let elf_at = out.find("ELF PIE").unwrap_or(usize::MAX);
    assert!(pe_at < elf_at, "{out}");
    let (pe_block, elf_block) = out.split_at(elf_at);
    assert_eq!(pe_block.matches(".exe\n").count(), 2, "{out}");
    assert!(
        elf_block.contains("/b\n") && elf_block.contains("/d\n"),
        "{out}"
    );
}

/// "1 file", not "1 files".
#[test]
fn one_file_is_singular() {
    let (out, _) = check(&[], "tests/data/dist/tool");
    assert!(out.contains("1 file examined: 1 ELF, 0 PE"), "{out}");
    assert!(out.contains("failed in 1 file;"), "{out}");
    assert!(!out.contains("1 files"), "{out}");
}

/// A file's warnings are listed under its row, not only counted (an ELF file whose section
/// header table starts near its end: the facts stay, with a warning).
#[test]
fn warnings_are_shown() {
    let dir = paths::tempdir();
    let mut elf = paths::read(corpus("elf").join("pie-default"));
    let near_end = (elf.len() as u64 - 8).to_le_bytes();
    elf[0x28..0x30].copy_from_slice(&near_end);
    let file = dir.path().join("broken-sections");
    std::fs::write(&file, &elf).expect("write");
    let file = file.to_str().expect("utf-8");
    let report = json(file);
    let warnings = report["files"][0]["warnings"].as_array().expect("warnings");
    assert!(!warnings.is_empty(), "{report}");
    let (out, _) = check(&[], file);
    for w in warnings {
        let w = w.as_str().unwrap_or_default();
        assert!(out.contains(&format!("    warning: {w}\n")), "{w}:\n{out}");
    }
    assert!(out.contains("1 with warnings"), "{out}");
}

/// The RISK column shows the estimate's level and the SIGNED column an ELF file's verdict.
#[test]
fn risk_level_and_elf_signature_verdict_are_shown() {
    let root = pki("root.pem");
    let o = bingate_mixed(&[
        &"check",
        &"--color",
        &"never",
        &"--trust",
        &root,
        &"--format",
        &"json",
        &"corpus/signed/valid-rsa.exe",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let level = v["files"][0]["risk"]["level"].as_str().expect("risk level");
    let o = bingate_mixed(&[
        &"check",
        &"--color",
        &"never",
        &"--trust",
        &root,
        &"corpus/signed/valid-rsa.exe",
    ]);
    let out = text(&o);
    let row = out
        .lines()
        .find(|l| l.ends_with("corpus/signed/valid-rsa.exe"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains(&format!(" valid   {level:<7}")), "{row}");

    let dir = paths::tempdir();
    let signed = dir.path().join("signed");
    let (key, cert) = (pki("leaf-rsa.key"), pki("leaf-rsa.pem"));
    let input = corpus("elf").join("pie-default");
    let o = bingate_mixed(&[
        &"sign",
        &"elf",
        &"--key",
        &key,
        &"--cert",
        &cert,
        &"--chain",
        &pki("intermediate.pem"),
        &"--output",
        &signed,
        &input,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let args: [&dyn AsRef<OsStr>; 7] = [
        &"check", &"--color", &"never", &"--trust", &root, &signed, &input,
    ];
    let out = text(&bingate_mixed(&args));
    let cell = |p: &Path| {
        let row = out
            .lines()
            .find(|l| l.ends_with(p.to_str().unwrap_or_default()))
            .unwrap_or_else(|| panic!("{out}"));
        // SIGNED is the tenth column of the ELF table.
        row.split_whitespace().nth(9).unwrap_or_default().to_owned()
    };
    assert_eq!(cell(&signed), "valid", "{out}");
    assert_eq!(cell(&input), "no", "{out}");
    // With --no-verify nothing was checked: "-", not "no".
    let out = text(&bingate_mixed(&[&"check", &"--no-verify", &input]));
    let row = out
        .lines()
        .find(|l| l.ends_with("pie-default"))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(row.split_whitespace().nth(9), Some("-"), "{row}");
}

/// `--details` shows the version resource's strings as the JSON report has them.
#[test]
fn details_show_the_version_resource() {
    let file = "corpus/risk/app-signed.exe";
    let o = bingate(&["check", "--format", "json", "--no-verify", file]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let version = &v["files"][0]["version"];
    assert!(version.is_object(), "{v}");
    let (out, _) = check(&["--no-verify", "--details"], file);
    for (key, label) in [
        ("company", "company"),
        ("product", "product"),
        ("file_version", "file version"),
        ("original_filename", "original name"),
    ] {
        let value = version[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key}: {v}"));
        assert!(
            out.contains(&format!("    {label:<16}{value}\n")),
            "{label}:\n{out}"
        );
    }
    // Not without --details.
    let (out, _) = check(&["--no-verify"], file);
    assert!(!out.contains("    company"), "{out}");
}
