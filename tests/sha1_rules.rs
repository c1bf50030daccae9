//! Windows' SHA-1 rules on the fixtures in corpus/integrity/sha1/ (made by the "SHA-1 RULES"
//! section of corpus/recipes/build-integrity.sh), verified through the library API twice: with
//! sha1-root as a Microsoft Trusted Root Program root (`Anchor { program: true, .. }`, where the
//! cut-offs apply) and as a root the user trusts (`Anchors::from_pem`, where they do not).
//!
//! * a leaf certificate signed with SHA-1 is not trusted for a signature whose decisive time
//!   (valid timestamp, else verification time) is on or after 2016-01-01 (`sha1-certificate`);
//! * a timestamp made after 2017-02-14 whose TSA SignerInfo digest is SHA-1, or whose TSA
//!   certificate is signed with SHA-1, is ignored (`sha1-timestamp`);
//! * a SHA-1 primary failing on trust grounds only, with a valid SHA-256 nested signature, is
//!   decided by the nested one (`decided_by`).
//!
//! Expectations: corpus/integrity/sha1/expected.json (`program` and `user` per fixture).

// Tests and examples report to the person running them.
#![allow(clippy::disallowed_macros)]

mod common;

use bingate::authenticode::verify::verify;
use bingate::cms::verdict::{FixedAnchors, VerifyEnv};
use bingate::pki::chain::{Anchor, Anchors};
use common::paths;
use serde_json::Value;

/// The same certificates as `user`, every one marked as a Trusted Root Program root.
fn as_program_roots(user: &Anchors) -> Anchors {
    let mut program = Anchors::default();
    for a in user.iter() {
        program.push(Anchor {
            cert: a.cert.clone(),
            program: true,
            not_before: None,
            disallowed_after: None,
        });
    }
    program
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("{v} is not a list"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn sha1_rules_apply_to_program_roots_only() {
    let corpus = paths::corpus_dir();
    let path = corpus.join("integrity/sha1/expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expected: Value = serde_json::from_str(&text).unwrap();
    let fixtures = expected.as_object().expect("expected.json is an object");
    assert_eq!(fixtures.len(), 7, "{} fixtures", fixtures.len());

    let revoked = |_: &x509_cert::Certificate, _: &x509_cert::Certificate| None;
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for (rel, want) in fixtures {
        let file = corpus.join(rel);
        let data = std::fs::read(&file)
            .unwrap_or_else(|e| panic!("{rel}: {e} (corpus/recipes/build-integrity.sh builds it)"));
        let root = corpus.join(want["root"].as_str().unwrap());
        let user = Anchors::from_pem(&std::fs::read(&root).unwrap()).unwrap();
        assert!(!user.is_empty(), "{}: no certificate", root.display());
        assert!(
            user.iter().all(|a| !a.program),
            "Anchors::from_pem must give user anchors"
        );
        let program = as_program_roots(&user);
        let at = bingate::time::parse_rfc3339(want["verification_time"].as_str().unwrap()).unwrap();

        for (case, anchors) in [("program", &program), ("user", &user)] {
            let exp = &want[case];
            let env = VerifyEnv {
                anchors: &FixedAnchors {
                    code_signing: anchors,
                    time_stamping: anchors,
                },
                at,
                strict: false,
                require_all: false,
                revoked: &revoked,
            };
            let v = verify(&data, &env);
            checked += 1;

            let want_status = exp["status"].as_str().unwrap();
            let want_codes = strings(&exp["reason_codes"]);
            let want_nested = exp["decided_by_nested"].as_u64().map(|n| n as usize);

            let got_status = v.status.as_str();
            let got_codes: Vec<&str> = v
                .signatures
                .iter()
                .flat_map(|s| s.reasons.iter().map(|r| r.code.as_str()))
                .collect();
            let got_nested = v.decided_by.as_ref().map(|d| d.nested);
            // Shown with `cargo test --test sha1_rules -- --nocapture`.
            println!(
                "{rel} ({case} root): {got_status} {got_codes:?} decided_by_nested {got_nested:?}"
            );
            let missing: Vec<&String> = want_codes
                .iter()
                .filter(|c| !got_codes.contains(&c.as_str()))
                .collect();

            if got_status != want_status || !missing.is_empty() || got_nested != want_nested {
                let detail: Vec<String> = v
                    .signatures
                    .iter()
                    .map(|s| {
                        format!(
                            "[entry {} nested {} {} {}: {}{}]",
                            s.entry,
                            s.nested,
                            s.digest_algorithm,
                            s.status.as_str(),
                            s.reasons
                                .iter()
                                .map(|r| format!("{}: {}", r.code, r.message))
                                .collect::<Vec<_>>()
                                .join("; "),
                            match &s.timestamp {
                                Some(t) => format!(" | timestamp {} valid {}", t.time, t.valid),
                                None => String::new(),
                            }
                        )
                    })
                    .collect();
                mismatches.push(format!(
                    "{rel} ({case} root): expected {want_status} {want_codes:?} decided_by_nested \
                     {want_nested:?}; got {got_status} {got_codes:?} decided_by_nested \
                     {got_nested:?}{} {}",
                    match &v.error {
                        Some(e) => format!(" error: {e}"),
                        None => String::new(),
                    },
                    detail.join(" ")
                ));
            }
        }
    }
    assert_eq!(checked, 14);
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
