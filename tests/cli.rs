//! The `check` command end to end: golden reports, exit codes, ordering, walking rules, and
//! atomic `--output`.
//!
//! Golden files live in `tests/golden/`; regenerate with `BINGATE_BLESS=1 cargo test` and review
//! the diff.

mod common;

use std::process::Output;

use common::golden::assert_golden;
use common::paths;
use common::run::bingate;
use serde_json::Value;

/// `bingate check --no-policy --no-verify ARGS`: the facts report alone (policies are tested in
/// policy.rs, signatures in verify_cli.rs).
fn facts(args: &[&str]) -> Output {
    let mut all = vec!["check", "--no-policy", "--no-verify"];
    all.extend_from_slice(args);
    bingate(&all)
}

#[test]
fn golden_json_report_of_the_corpus() {
    let out = facts(&["--format", "json", "corpus/elf", "corpus/pe"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], "bingate.report/1");
    assert_golden("corpus.json", &out.stdout);
}

#[test]
fn golden_human_report_of_the_corpus() {
    let out = facts(&["--color", "never", "corpus/elf", "corpus/pe"]);
    assert_eq!(out.status.code(), Some(0));
    assert_golden("corpus.txt", &out.stdout);
}

#[test]
fn report_order_does_not_depend_on_parallelism() {
    let one = facts(&["--format", "json", "--jobs", "1", "corpus"]);
    let many = facts(&["--format", "json", "--jobs", "8", "corpus"]);
    assert_eq!(one.stdout, many.stdout);
    let doc: Value = serde_json::from_slice(&one.stdout).unwrap();
    let paths: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        // Entries of a container follow it in the container's own order.
        .filter(|p| !p.contains("!/"))
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
}

#[test]
fn json_entries_carry_hash_size_and_facts() {
    let out = facts(&["--format", "json", "corpus/elf/pie-default"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &doc["files"][0];
    let bytes = paths::read("corpus/elf/pie-default");
    assert_eq!(f["size"], bytes.len() as u64);
    assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
    for key in [
        "path",
        "sha256",
        "size",
        "format",
        "arch",
        "bits",
        "kind",
        "toolchain",
        "hardening",
        "error",
    ] {
        assert!(f.get(key).is_some(), "missing {key}");
    }
    assert_eq!(f["error"], Value::Null);
    assert_eq!(doc["summary"]["elf"], 1);
}

#[test]
fn non_binaries_in_a_directory_are_skipped_and_counted() {
    let dir = paths::tempdir();
    std::fs::write(dir.path().join("script.sh"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::write(dir.path().join("empty"), "").unwrap();
    std::fs::copy(paths::repo("corpus/elf/no-pie"), dir.path().join("prog")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("prog", dir.path().join("link")).unwrap();
    let out = facts(&["--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["files"], 1);
    assert_eq!(doc["summary"]["skipped_not_binary"], 2);
    #[cfg(unix)]
    assert_eq!(doc["summary"]["skipped_symlinks"], 1);
    let reasons: Vec<&str> = doc["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"not-binary"));
    // Following symlinks examines the target too.
    let out = facts(&[
        "--format",
        "json",
        "--follow-symlinks",
        dir.path().to_str().unwrap(),
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    #[cfg(unix)]
    assert_eq!(doc["summary"]["files"], 2);
}

#[test]
fn a_named_non_binary_is_an_error_for_that_file() {
    let out = facts(&["--format", "json", "Cargo.toml", "corpus/elf/no-pie"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let readme = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "Cargo.toml")
        .unwrap();
    assert!(
        readme["error"]
            .as_str()
            .unwrap()
            .contains("not a PE or ELF file"),
        "{readme}"
    );
    assert_eq!(doc["summary"]["elf"], 1, "the other file is still examined");
}

#[test]
fn a_missing_path_is_an_io_error_with_exit_2() {
    let out = facts(&["--format", "json", "does/not/exist"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["files"][0]["error"].is_string());
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(bingate(&["check"]).status.code(), Some(2));
    assert_eq!(facts(&["--jobs", "0", "corpus"]).status.code(), Some(2));
    assert_eq!(facts(&["--exclude", "a{", "corpus"]).status.code(), Some(2));
}

/// `--exclude` globs match the path relative to the scanned root (`elf/…` under `corpus`), at
/// any depth; tests/exclude_globs.rs covers depths, root spellings and waivers.
#[test]
fn exclude_globs_match_names_and_paths() {
    let out = facts(&[
        "--format",
        "json",
        "--exclude",
        "*.exe",
        "--exclude",
        "elf/**",
        "corpus",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    for f in doc["files"].as_array().unwrap() {
        let p = f["path"].as_str().unwrap();
        assert!(
            !p.ends_with(".exe") && !p.starts_with("corpus/elf/"),
            "{p} not excluded"
        );
    }
    assert!(
        doc["summary"]["pe"].as_u64().unwrap() > 0,
        "DLLs, .sys and .efi remain"
    );
}

/// Regression: `--output /dev/null` once renamed its temporary file over the device node.
#[cfg(unix)]
#[test]
fn output_to_a_device_writes_through_it_and_leaves_it_a_device() {
    use std::os::unix::fs::FileTypeExt;
    let out = facts(&[
        "--format",
        "json",
        "--output",
        "/dev/null",
        "corpus/elf/no-pie",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let meta = std::fs::metadata("/dev/null").unwrap();
    assert!(
        meta.file_type().is_char_device(),
        "/dev/null is no longer a device"
    );
}

#[test]
fn output_file_is_written_whole_or_not_at_all() {
    let dir = paths::tempdir();
    let target = dir.path().join("report.json");
    let out = facts(&[
        "--format",
        "json",
        "--output",
        target.to_str().unwrap(),
        "corpus/pe",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert!(doc["summary"]["pe"].as_u64().unwrap() >= 22);
    // Only the report itself is left in the directory (no temporary files).
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

/// `bingate verify` human output over every signed fixture, at a fixed time, with the test PKI
/// and its CRL: statuses, signers, chains, timestamps and anomalies as a person reads them.
#[test]
fn verify_human_output_matches_golden() {
    let out = bingate(&[
        "verify",
        "--trust",
        "corpus/pki/root.pem",
        "--crl",
        "corpus/pki/intermediate.crl.pem",
        "--time",
        "2026-11-22T00:00:00Z",
        "corpus/signed",
    ]);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    assert_golden("verify-signed.txt", &out.stdout);
}

/// `bingate risk` human output over every risk fixture, at a fixed time, trusting the test PKI:
/// levels, outcome sentences, evidence with weights and fixes.
#[test]
fn risk_human_output_matches_golden() {
    let out = bingate(&[
        "risk",
        "--trust",
        "corpus/pki/root.pem",
        "--time",
        "2026-11-22T00:00:00Z",
        "corpus/risk",
    ]);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    assert_golden("risk.txt", &out.stdout);
}
