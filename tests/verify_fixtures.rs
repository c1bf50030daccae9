//! The Authenticode verdict on every signed fixture, against the expected verdicts in
//! corpus/signed/expected.json (WinVerifyTrust's rules; where osslsigncode differs, the file
//! says why).

mod common;

use bingate::authenticode::verify::verify;
use bingate::cms::verdict::{Status, VerifyEnv};
use bingate::pki::chain::Anchors;
use common::paths;
use serde_json::Value;

/// 2026-11-22T00:00:00Z, the verification time most fixtures in expected.json reason with (each
/// fixture's own `verification_time` is used).
const NOV_2026: u64 = 1_795_305_600;

fn status_name(s: Status) -> &'static str {
    s.as_str()
}

#[test]
fn every_signed_fixture_gets_its_expected_verdict() {
    let corpus = paths::corpus_dir();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus.join("signed/expected.json")).unwrap(),
    )
    .unwrap();
    let anchors = Anchors::from_pem(&std::fs::read(corpus.join("pki/root.pem")).unwrap()).unwrap();
    let crl_path = corpus.join("pki/intermediate.crl.pem");
    let crls = bingate::pki::crl::load(&std::fs::read(&crl_path).unwrap(), "intermediate.crl.pem")
        .unwrap();
    let revs = bingate::pki::crl::Revocations::new(crls);
    let revoked = |cert: &x509_cert::Certificate, issuer: &x509_cert::Certificate| match revs
        // The time only decides staleness notes; revocation dates do not depend on it.
        .check(cert, issuer, NOV_2026)
    {
        bingate::pki::crl::RevocationStatus::Revoked { at, .. } => Some(at),
        _ => None,
    };
    let mut mismatches = Vec::new();
    let fixtures = expected.as_object().unwrap();
    assert!(fixtures.len() >= 24, "{} fixtures", fixtures.len());
    for (rel, want) in fixtures {
        let data = std::fs::read(corpus.join(rel)).unwrap();
        let at = bingate::time::parse_rfc3339(want["verification_time"].as_str().unwrap()).unwrap();
        for strict in [false, true] {
            let env = VerifyEnv {
                anchors: &bingate::cms::verdict::FixedAnchors {
                    code_signing: &anchors,
                    time_stamping: &anchors,
                },
                at,
                strict,
                require_all: false,
                revoked: &revoked,
            };
            let v = verify(&data, &env);
            let key = if strict {
                "expected_strict_status"
            } else {
                "expected_status"
            };
            let want_status = want[key].as_str().unwrap();
            if status_name(v.status) != want_status {
                let reasons: Vec<String> = v
                    .signatures
                    .iter()
                    .flat_map(|s| {
                        s.reasons
                            .iter()
                            .map(|r| format!("{}: {}", r.code, r.message))
                    })
                    .collect();
                mismatches.push(format!(
                    "{rel} (strict {strict}): expected {want_status}, got {} {reasons:?} {:?}",
                    status_name(v.status),
                    v.error
                ));
            }
            if !strict {
                let mut got: Vec<String> = v
                    .anomalies
                    .iter()
                    .map(|a| a.id.as_str().to_owned())
                    .collect();
                got.sort();
                got.dedup();
                let mut want_a: Vec<String> = want["expected_anomalies"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect();
                want_a.sort();
                if got != want_a {
                    mismatches.push(format!("{rel}: anomalies expected {want_a:?}, got {got:?}"));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
