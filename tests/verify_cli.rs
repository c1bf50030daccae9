//! `bingate verify` and `bingate trust list` end to end, and agreement with osslsigncode on the
//! signed fixtures where osslsigncode is right (corpus/signed/expected.json says where it is not).

mod common;

use std::process::Command;

use common::run::bingate;
use common::{interop, paths};
use serde_json::Value;

const TIME: &str = "2026-11-22T00:00:00Z";

#[test]
fn verify_reports_the_verdict_first_and_exits_by_validity() {
    let out = bingate(&[
        "verify",
        "--trust",
        "corpus/pki/root.pem",
        "--time",
        TIME,
        "corpus/signed/valid-rsa.exe",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("VALID"), "{text}");
    assert!(
        text.contains("timestamp   2026-01-15T00:00:00Z (RFC 3161"),
        "{text}"
    );
    assert!(
        text.contains("<- O=Bingate Test PKI (NOT TRUSTED),CN=Bingate Test root CA"),
        "{text}"
    );

    let out = bingate(&[
        "verify",
        "--trust",
        "corpus/pki/root.pem",
        "--time",
        TIME,
        "corpus/signed/tampered-section.exe",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("(digest-mismatch)"));

    // The padding payload is valid with an anomaly, and invalid under --strict.
    let args = [
        "verify",
        "--trust",
        "corpus/pki/root.pem",
        "--time",
        TIME,
        "corpus/signed/padding-payload.exe",
    ];
    assert_eq!(bingate(&args).status.code(), Some(0));
    let mut strict = args.to_vec();
    strict.insert(1, "--strict");
    assert_eq!(bingate(&strict).status.code(), Some(1));

    // Without the test root the same file is untrusted.
    let out = bingate(&["verify", "--time", TIME, "corpus/signed/valid-rsa.exe"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("UNTRUSTED"));

    // Revocation: the CRL makes the untimestamped revoked signature invalid; a timestamp before
    // the revocation date keeps the other one valid.
    let crl = [
        "verify",
        "--trust",
        "corpus/pki/root.pem",
        "--crl",
        "corpus/pki/intermediate.crl.pem",
        "--time",
        TIME,
    ];
    let mut a = crl.to_vec();
    a.push("corpus/signed/revoked-no-ts.exe");
    assert_eq!(bingate(&a).status.code(), Some(1));
    let mut b = crl.to_vec();
    b.push("corpus/signed/revoked-ts-before.exe");
    assert_eq!(bingate(&b).status.code(), Some(0));
}

#[test]
fn verify_json_is_the_report_document_with_signature() {
    let out = bingate(&[
        "verify",
        "--format",
        "json",
        "--trust",
        "corpus/pki/root.pem",
        "--time",
        TIME,
        "corpus/signed/nested.exe",
        "corpus/pe/x64-default.exe",
    ]);
    assert_eq!(out.status.code(), Some(1), "the unsigned file is not valid");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], "bingate.report/1");
    let files = doc["files"].as_array().unwrap();
    let nested = files
        .iter()
        .find(|f| f["path"] == "corpus/signed/nested.exe")
        .unwrap();
    assert_eq!(nested["signature"]["status"], "valid");
    let sigs = nested["signature"]["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "primary and nested");
    assert_eq!(sigs[0]["digest_algorithm"], "sha1");
    assert_eq!(sigs[1]["nested"], 1);
    assert_eq!(sigs[1]["digest_algorithm"], "sha256");
    assert_eq!(sigs[0]["digest"]["match"], true);
    let unsigned = files
        .iter()
        .find(|f| f["path"] == "corpus/pe/x64-default.exe")
        .unwrap();
    assert_eq!(unsigned["signature"]["status"], "unsigned");
    assert_eq!(doc["summary"]["signatures"]["valid"], 1);
    assert_eq!(doc["summary"]["signatures"]["unsigned"], 1);
}

#[test]
fn microsoft_signed_files_verify_with_the_default_store_only() {
    let dll = "corpus/public/msvc-runtime/vcruntime140.dll";
    if !interop::public(dll) {
        return;
    }
    let out = bingate(&[
        "verify",
        "--time",
        TIME,
        dll,
        "corpus/public/electron-winstaller/signtool.exe",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = bingate(&["verify", "--no-default-trust", "--time", TIME, dll]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("UNTRUSTED"));
    // signtool.exe is SHA-1 only (2010): valid by default, invalid under --strict.
    let out = bingate(&[
        "verify",
        "--strict",
        "--time",
        TIME,
        "corpus/public/electron-winstaller/signtool.exe",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn trust_list_and_usage_errors() {
    let out = bingate(&["trust", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Microsoft Root Certificate Authority 2011"),
        "{}",
        &text[..text.len().min(2000)]
    );
    assert_eq!(
        bingate(&[
            "verify",
            "--time",
            "yesterday",
            "corpus/signed/valid-rsa.exe"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        bingate(&[
            "verify",
            "--trust",
            "no/such/file.pem",
            "corpus/signed/valid-rsa.exe"
        ])
        .status
        .code(),
        Some(2)
    );
}

/// Where osslsigncode is right (expected.json `osslsigncode_agrees`), bingate reaches the same
/// pass/fail verdict on the same fixture, trust and CRL, verified now.
#[test]
fn agrees_with_osslsigncode_where_osslsigncode_is_right() {
    if !interop::require("osslsigncode") {
        return;
    }
    let corpus = paths::corpus_dir();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus.join("signed/expected.json")).unwrap(),
    )
    .unwrap();
    let root = corpus.join("pki/root.pem");
    let mut compared = 0;
    for (rel, want) in expected.as_object().unwrap() {
        if want["osslsigncode_agrees"] != true {
            continue;
        }
        let file = corpus.join(rel);
        let ossl = Command::new("osslsigncode")
            .args(["verify", "-ignore-crl", "-CAfile"])
            .arg(&root)
            .arg("-TSA-CAfile")
            .arg(&root)
            .arg("-in")
            .arg(&file)
            .output()
            .unwrap();
        let ours = bingate(&[
            "verify",
            "--trust",
            root.to_str().unwrap(),
            file.to_str().unwrap(),
        ]);
        let ossl_ok = ossl.status.success();
        let ours_ok = ours.status.code() == Some(0);
        assert_eq!(
            ours_ok,
            ossl_ok,
            "{rel}: bingate {:?} vs osslsigncode {}\n{}",
            ours.status.code(),
            ossl.status,
            String::from_utf8_lossy(&ours.stdout)
        );
        compared += 1;
    }
    assert!(compared >= 15, "{compared}");
}

/// Debian's signed GRUB EFI image: the signature and digest are intact, but the chain ends at
/// the Debian Secure Boot CA, which no default bundle contains: untrusted, not invalid.
/// osslsigncode fails it too (no issuer certificate).
#[test]
fn debian_signed_grub_is_untrusted_offline() {
    let efi = "corpus/public/grub/grubx64.efi.signed";
    if !interop::public(efi) {
        return;
    }
    let out = bingate(&["verify", "--format", "json", "--time", TIME, efi]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sig = &doc["files"][0]["signature"];
    assert_eq!(sig["status"], "untrusted", "{sig}");
    let s0 = &sig["signatures"][0];
    assert_eq!(s0["digest"]["match"], true);
    assert!(
        s0["signer"]["subject"]
            .as_str()
            .unwrap()
            .contains("Debian Secure Boot Signer 2022")
    );
    assert_eq!(s0["timestamp"], Value::Null);
    assert_eq!(s0["reasons"][0]["code"], "untrusted-root");
}

/// Node.js's node.exe: signed through Azure Artifact Signing (Microsoft Identity Verification
/// root) with a three-day certificate that its RFC 3161 timestamp keeps valid, and a signature
/// whose certificate SET lists a certificate twice (regression: strict DER decoding called it
/// malformed; Windows accepts it, and so does bingate now).
#[test]
fn azure_artifact_signing_with_duplicate_certificates_is_valid() {
    let exe = "corpus/public/node/node.exe";
    if !interop::public(exe) {
        return;
    }
    let out = bingate(&["verify", "--format", "json", "--time", TIME, exe]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s0 = &doc["files"][0]["signature"]["signatures"][0];
    assert_eq!(s0["status"], "valid");
    assert!(
        s0["signer"]["subject"]
            .as_str()
            .unwrap()
            .contains("OpenJS Foundation")
    );
    let chain: Vec<&str> = s0["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        chain
            .last()
            .unwrap()
            .contains("Microsoft Identity Verification Root Certificate Authority 2020"),
        "{chain:?}"
    );
    assert_eq!(s0["timestamp"]["valid"], true);
    assert_eq!(s0["key_bits"], 3072);
}
