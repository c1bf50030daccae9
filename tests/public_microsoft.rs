//! Genuine Microsoft signatures from files nobody here made: the VC++ and .NET Core runtime DLLs
//! vendored in PyPI wheels (fetched by `bash corpus/fetch-public.sh`). They are signed or
//! timestamped through "Microsoft Root Certificate Authority" (2001), one of Windows' required
//! built-in roots, and dual-signed (SHA-1 primary with SHA-1 countersignatures from 2017-2020,
//! valid SHA-256 nested signature). signify 0.9.3 and osslsigncode 2.9 call each of them valid
//! (docs/peer-agreement.md); bingate must too, for the reasons docs/authenticode.md gives.
//! numpy 2.1.3's copy of msvcp140.dll (VC++ 2022, signed in 2024) writes SHA-256 without
//! parameters in the SignedData's digestAlgorithms and with NULL ones in the SignerInfo: valid
//! for Windows and osslsigncode (RFC 5754), once malformed for bingate
//! (`tests/digest_algorithm_params.rs`).
//!
//! Skipped when the public corpus is absent, unless BINGATE_REQUIRE_INTEROP=1 (CI).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{interop, paths, run};
use serde_json::Value;
const TIME: &str = "2026-12-01T00:00:00Z";

/// The public DLLs of `dirs` (relative to corpus/public), or None when the corpus is absent.
fn files(dirs: &[&str]) -> Option<Vec<PathBuf>> {
    let mut out = Vec::new();
    for d in dirs {
        let dir = paths::corpus("public").join(d);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            interop::skip(format_args!(
                "{} is absent: run corpus/fetch-public.sh",
                dir.display()
            ));
            return None;
        };
        let mut v: Vec<PathBuf> = rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "dll"))
            .collect();
        v.sort();
        out.extend(v);
    }
    Some(out)
}

fn verify(files: &[PathBuf]) -> Vec<Value> {
    let out = run::command()
        .args(["verify", "--format", "json", "--time", TIME])
        .args(files)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["files"].as_array().unwrap().clone()
}

fn codes(sig: &Value) -> Vec<String> {
    sig["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn vendored_microsoft_runtimes_verify_valid() {
    let Some(files) = files(&["pyqt5-qt5", "dotnetcore2", "msvc-runtime", "numpy"]) else {
        return;
    };
    assert!(files.len() >= 20, "{}", files.len());
    let mut wrong = Vec::new();
    for f in verify(&files) {
        let sig = &f["signature"];
        if sig["status"] != "valid" {
            wrong.push(format!(
                "{}: {} {}",
                f["path"], sig["status"], sig["signatures"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The PyQt5-Qt5 and .NET Core DLLs are valid through their SHA-256 nested signatures: the SHA-1
/// primaries carry SHA-1 legacy countersignatures made after 2017-02-14, which Windows counts as
/// no timestamp, so the primaries' certificates have expired.
#[test]
fn dual_signed_files_are_decided_by_the_sha256_signature() {
    let Some(files) = files(&["pyqt5-qt5", "dotnetcore2"]) else {
        return;
    };
    for f in verify(&files) {
        let sig = &f["signature"];
        assert_eq!(sig["status"], "valid", "{f}");
        assert_eq!(sig["decided_by"]["nested"], 1, "{f}");
        let sigs = sig["signatures"].as_array().unwrap();
        let primary = &sigs[0];
        assert_eq!(primary["digest_algorithm"], "sha1", "{f}");
        let c = codes(primary);
        assert!(c.contains(&"sha1-timestamp".to_owned()), "{c:?} {f}");
        let nested = sigs.iter().find(|s| s["nested"] == 1).unwrap();
        assert_eq!(nested["status"], "valid", "{f}");
        assert_eq!(nested["digest_algorithm"], "sha256", "{f}");
    }
}

/// osslsigncode 2.9 with the embedded Microsoft bundles agrees on every file.
#[test]
fn osslsigncode_agrees_on_the_vendored_runtimes() {
    let Some(files) = files(&["pyqt5-qt5", "dotnetcore2", "numpy"]) else {
        return;
    };
    if !interop::require("osslsigncode") {
        return;
    }
    let trust = paths::repo("policies/trust");
    for f in &files {
        let out = Command::new("osslsigncode")
            .arg("verify")
            .arg("-ignore-crl")
            .arg("-CAfile")
            .arg(trust.join("microsoft-codesigning.pem"))
            .arg("-TSA-CAfile")
            .arg(trust.join("microsoft-timestamping.pem"))
            .arg("-in")
            .arg(f)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "osslsigncode rejects {}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
