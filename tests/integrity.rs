//! The integrity fixtures (corpus/integrity/, made by corpus/recipes/build-integrity.sh): trust
//! anchors taken from the trust store and never from the signature, timestamps only from
//! timestamping authorities, every byte of the image hash, big RSA keys and odd certificate
//! sets. `bingate verify` must give each fixture the status and reason codes recorded in
//! corpus/integrity/expected.json; osslsigncode's recorded pass/fail is re-checked too.

mod common;

use std::process::Command;

use common::paths::corpus_dir;
use common::{interop, run};
use serde_json::Value;

fn fixtures() -> Vec<(String, Value)> {
    let path = corpus_dir().join("integrity/expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    let map = doc.as_object().expect("expected.json is an object");
    assert!(map.len() >= 25, "{} fixtures", map.len());
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not a list"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SSZ` (osslsigncode's `-time`).
fn unix_time(rfc3339: &str) -> i64 {
    let b = rfc3339.as_bytes();
    assert!(
        b.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z',
        "{rfc3339}"
    );
    let n = |r: std::ops::Range<usize>| rfc3339[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from civil (proleptic Gregorian), March-based year.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

#[test]
fn unix_time_matches_known_values() {
    assert_eq!(unix_time("1970-01-01T00:00:00Z"), 0);
    assert_eq!(unix_time("2021-06-01T00:00:00Z"), 1_622_505_600);
    assert_eq!(unix_time("2026-11-22T00:00:00Z"), 1_795_305_600);
}

#[test]
fn every_integrity_fixture_gets_its_expected_verdict() {
    let corpus = corpus_dir();
    let mut mismatches = Vec::new();
    for (rel, want) in fixtures() {
        let file = corpus.join(&rel);
        assert!(
            file.is_file(),
            "{rel} missing (corpus/recipes/build-integrity.sh)"
        );
        let mut cmd = run::command();
        cmd.arg("verify").arg("--no-default-trust");
        for t in strings(&want, "trust") {
            cmd.arg("--trust").arg(corpus.join(t));
        }
        for c in strings(&want, "crl") {
            cmd.arg("--crl").arg(corpus.join(c));
        }
        let time = want["verification_time"].as_str().unwrap();
        cmd.args(["--time", time, "--format", "json"]).arg(&file);
        let out = cmd.output().unwrap();
        let doc: Value = match serde_json::from_slice(&out.stdout) {
            Ok(doc) => doc,
            Err(e) => {
                mismatches.push(format!(
                    "{rel}: no JSON report ({e}); exit {:?}; stderr: {}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
                continue;
            }
        };
        let sig = &doc["files"][0]["signature"];
        let status = sig["status"].as_str().unwrap_or("<none>");
        let got: Vec<String> = sig["signatures"]
            .as_array()
            .map(|sigs| {
                sigs.iter()
                    .flat_map(|s| s["reasons"].as_array().cloned().unwrap_or_default())
                    .map(|r| {
                        format!(
                            "{}: {}",
                            r["code"].as_str().unwrap_or("?"),
                            r["message"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let codes: Vec<&str> = got.iter().map(|r| r.split(':').next().unwrap()).collect();
        let want_status = want["expected_status"].as_str().unwrap();
        let missing: Vec<String> = strings(&want, "expected_reason_codes")
            .into_iter()
            .filter(|c| !codes.contains(&c.as_str()))
            .collect();
        if status != want_status || !missing.is_empty() {
            mismatches.push(format!(
                "{rel} [{}]: expected {want_status} {:?}, got {status} {got:?}{}",
                want["class"].as_str().unwrap_or("?"),
                strings(&want, "expected_reason_codes"),
                match sig["error"].as_str() {
                    Some(e) => format!(" error: {e}"),
                    None => String::new(),
                }
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// `osslsigncode_agrees` in expected.json is what osslsigncode 2.9 really does: re-run it with
/// the recorded trust, CRL and time and compare its pass/fail with the expected status.
#[test]
fn osslsigncode_verdicts_are_as_recorded() {
    if !interop::require("osslsigncode") {
        return;
    }
    let corpus = corpus_dir();
    let mut wrong = Vec::new();
    for (rel, want) in fixtures() {
        let trust = strings(&want, "trust");
        assert_eq!(trust.len(), 1, "{rel}: osslsigncode takes one -CAfile");
        let anchor = corpus.join(&trust[0]);
        let mut cmd = Command::new("osslsigncode");
        cmd.args(["verify", "-ignore-crl", "-CAfile"])
            .arg(&anchor)
            .arg("-TSA-CAfile")
            .arg(&anchor);
        for c in strings(&want, "crl") {
            cmd.arg("-CRLfile").arg(corpus.join(c));
        }
        let time = unix_time(want["verification_time"].as_str().unwrap());
        cmd.args(["-time", &time.to_string(), "-in"])
            .arg(corpus.join(&rel));
        let out = cmd.output().unwrap();
        let passed = out.status.success();
        let agrees = passed == (want["expected_status"] == "valid");
        if Some(agrees) != want["osslsigncode_agrees"].as_bool() {
            wrong.push(format!(
                "{rel}: osslsigncode {} (recorded: {}), so osslsigncode_agrees is {agrees}",
                out.status,
                want["osslsigncode"].as_str().unwrap_or("?")
            ));
        }
    }
    // The SHA-1 rule fixtures record osslsigncode's exit code as it is (it applies none of
    // Windows' SHA-1 dates, so it accepts every one of them).
    let sha1: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus.join("integrity/sha1/expected.json")).unwrap(),
    )
    .unwrap();
    for (rel, want) in sha1.as_object().unwrap() {
        let anchor = corpus.join(want["root"].as_str().unwrap());
        let time = unix_time(want["verification_time"].as_str().unwrap());
        let out = Command::new("osslsigncode")
            .args(["verify", "-ignore-crl", "-CAfile"])
            .arg(&anchor)
            .arg("-TSA-CAfile")
            .arg(&anchor)
            .args(["-time", &time.to_string(), "-in"])
            .arg(corpus.join(rel))
            .output()
            .unwrap();
        if Some(i64::from(out.status.code().unwrap_or(-1))) != want["osslsigncode_exit"].as_i64() {
            wrong.push(format!(
                "{rel}: osslsigncode {} (recorded exit {})",
                out.status, want["osslsigncode_exit"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
