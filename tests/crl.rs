//! Offline revocation from CRL files: the test PKI's CRL (`corpus/pki/intermediate.crl.pem`,
//! issued by the intermediate, revoking `leaf-revoked.pem` on 2025-06-01) against the test
//! certificates and the revoked-* signed fixtures.

mod common;

use std::process::Command;

use bingate::pki::crl::{self, Crl, RevocationStatus, Revocations};
use common::interop;
use common::paths::{self, read};
use x509_cert::Certificate;
use x509_cert::der::DecodePem;

const CRL_PEM: &str = "corpus/pki/intermediate.crl.pem";

/// 2025-06-01T00:00:00Z: leaf-revoked.pem's revocation date.
const REVOKED_AT: u64 = 1_748_736_000;
/// 2025-06-02T00:00:00Z: the CRL's thisUpdate.
const CRL_THIS_UPDATE: u64 = 1_748_822_400;
/// 2035-12-31T23:59:59Z: the CRL's nextUpdate.
const CRL_NEXT_UPDATE: u64 = 2_082_758_399;
/// 2026-11-22T00:00:00Z: a verification time while the CRL is current.
const NOV_2026: u64 = 1_795_305_600;
/// 2036-06-01T00:00:00Z: a verification time after the CRL's nextUpdate.
const JUN_2036: u64 = 2_095_977_600;
/// 2025-03-01T00:00:00Z and 2026-01-15T00:00:00Z: the timestamps of revoked-ts-before.exe and
/// revoked-ts-after.exe (corpus/signed/expected.json).
const TS_BEFORE: u64 = 1_740_787_200;
const TS_AFTER: u64 = 1_768_435_200;

fn cert(rel: &str) -> Certificate {
    Certificate::from_pem(read(rel)).unwrap()
}

fn fixture_crl() -> Crl {
    let mut v = crl::load(&read(CRL_PEM), CRL_PEM).unwrap();
    assert_eq!(v.len(), 1);
    v.remove(0)
}

fn fixture_der() -> Vec<u8> {
    let pem = read(CRL_PEM);
    let (label, der) = x509_cert::der::pem::decode_vec(&pem).unwrap();
    assert_eq!(label, "X509 CRL");
    der
}

/// The fixture CRL's DER with the last byte of the signature flipped.
fn corrupted_der() -> Vec<u8> {
    let mut der = fixture_der();
    *der.last_mut().unwrap() ^= 0x01;
    der
}

fn revocations(crls: Vec<Crl>) -> Revocations {
    Revocations::new(crls)
}

fn signer(rel: &str) -> Certificate {
    let data = read(rel);
    let layout = bingate::pe::signing_layout(&data).unwrap();
    let table = bingate::authenticode::table::read(&data, &layout)
        .unwrap()
        .unwrap();
    let (signer, _) = bingate::authenticode::signature::certificates(table.entries[0].der).unwrap();
    signer.unwrap()
}

#[test]
fn fixture_crl_loads_from_pem_with_its_dates_and_entry() {
    let c = fixture_crl();
    assert_eq!(c.origin(), format!("{CRL_PEM} (CRL 1)"));
    assert_eq!(
        *c.issuer(),
        cert("corpus/pki/intermediate.pem").tbs_certificate.subject
    );
    assert_eq!(c.this_update(), CRL_THIS_UPDATE);
    assert_eq!(c.next_update(), Some(CRL_NEXT_UPDATE));
    assert_eq!(c.revoked().len(), 1);
    let e = &c.revoked()[0];
    assert_eq!(e.serial, vec![0x20, 0x05]);
    assert_eq!(e.at, REVOKED_AT);
    assert_eq!(e.reason.as_deref(), Some("cessationOfOperation"));
}

#[test]
fn fixture_crl_loads_from_der_identically() {
    let der = fixture_der();
    let v = crl::load(&der, "intermediate.crl.der").unwrap();
    assert_eq!(v.len(), 1);
    let (d, p) = (&v[0], fixture_crl());
    assert_eq!(d.origin(), "intermediate.crl.der");
    assert_eq!(d.this_update(), p.this_update());
    assert_eq!(d.next_update(), p.next_update());
    assert_eq!(d.revoked(), p.revoked());
    assert!(d.verify_signature(&cert("corpus/pki/intermediate.pem")));
}

#[test]
fn pem_bundles_yield_every_crl_block_and_skip_other_blocks() {
    let pem = read(CRL_PEM);
    let mut bundle = b"comment line\n".to_vec();
    bundle.extend_from_slice(&pem);
    bundle.extend_from_slice(&read("corpus/pki/root.pem"));
    bundle.extend_from_slice(&pem);
    let v = crl::load(&bundle, "bundle.pem").unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].origin(), "bundle.pem (CRL 1)");
    assert_eq!(v[1].origin(), "bundle.pem (CRL 2)");
    assert_eq!(v[1].revoked(), v[0].revoked());
}

#[test]
fn load_errors_name_the_origin() {
    let e = crl::load(b"not a crl", "junk.crl").unwrap_err();
    assert!(matches!(e, crl::CrlError::NotDer { .. }), "{e:?}");
    assert_eq!(e.origin(), "junk.crl");
    let e = e.to_string();
    assert!(e.starts_with("junk.crl: "), "{e}");
    let e = crl::load(&read("corpus/pki/root.pem"), "root.pem").unwrap_err();
    assert_eq!(
        e,
        crl::CrlError::NoPemBlock {
            origin: "root.pem".into()
        }
    );
    let e = e.to_string();
    assert!(e.starts_with("root.pem: ") && e.contains("X509 CRL"), "{e}");
    let pem = String::from_utf8(read(CRL_PEM)).unwrap();
    let truncated = &pem[..pem.len() / 2];
    let e = crl::load(truncated.as_bytes(), "half.pem").unwrap_err();
    assert_eq!(
        e.offset(),
        Some(pem.find("-----BEGIN X509 CRL").unwrap() as u64)
    );
    let e = e.to_string();
    assert!(e.starts_with("half.pem: "), "{e}");
    let der = fixture_der();
    let e = crl::load(&der[..der.len() - 10], "short.der").unwrap_err();
    assert!(e.offset().is_some(), "{e:?}");
    let e = e.to_string();
    assert!(e.starts_with("short.der: "), "{e}");
}

#[test]
fn signature_verifies_with_the_intermediate_and_not_with_the_root() {
    let c = fixture_crl();
    assert!(c.verify_signature(&cert("corpus/pki/intermediate.pem")));
    assert!(!c.verify_signature(&cert("corpus/pki/root.pem")));
    let bad = crl::load(&corrupted_der(), "corrupted.der").unwrap();
    assert!(!bad[0].verify_signature(&cert("corpus/pki/intermediate.pem")));
}

#[test]
fn leaf_revoked_is_revoked_at_the_entry_date() {
    let r = revocations(vec![fixture_crl()]);
    let got = r.check_noted(
        &cert("corpus/pki/leaf-revoked.pem"),
        &cert("corpus/pki/intermediate.pem"),
        NOV_2026,
    );
    assert_eq!(
        got.status,
        RevocationStatus::Revoked {
            at: REVOKED_AT,
            reason: Some("cessationOfOperation".into()),
        }
    );
    assert!(got.notes.is_empty(), "{:?}", got.notes);
}

#[test]
fn revocation_date_is_reported_even_when_the_crl_postdates_the_timestamp() {
    // revoked-ts-before.exe: timestamp 2025-03-01, CRL issued 2025-06-02. The CRL is not "not
    // yet valid" at the timestamp: it reports the revocation date, which the caller compares.
    let r = revocations(vec![fixture_crl()]);
    let issuer = cert("corpus/pki/intermediate.pem");
    for (file, ts, stays_valid) in [
        ("corpus/signed/revoked-ts-before.exe", TS_BEFORE, true),
        ("corpus/signed/revoked-ts-after.exe", TS_AFTER, false),
        ("corpus/signed/revoked-no-ts.exe", NOV_2026, false),
    ] {
        let leaf = signer(file);
        let RevocationStatus::Revoked { at, .. } = r.check(&leaf, &issuer, ts) else {
            panic!("{file}: not revoked");
        };
        assert_eq!(at, REVOKED_AT, "{file}");
        assert_eq!(ts < at, stays_valid, "{file}");
    }
}

#[test]
fn stale_crl_is_noted_and_still_applied() {
    let r = revocations(vec![fixture_crl()]);
    let issuer = cert("corpus/pki/intermediate.pem");
    let got = r.check_noted(&cert("corpus/pki/leaf-revoked.pem"), &issuer, JUN_2036);
    assert!(matches!(
        got.status,
        RevocationStatus::Revoked { at: REVOKED_AT, .. }
    ));
    assert_eq!(got.notes.len(), 1, "{:?}", got.notes);
    assert!(
        got.notes[0].contains("stale") && got.notes[0].contains("2035-12-31T23:59:59Z"),
        "{:?}",
        got.notes
    );
    let got = r.check_noted(&cert("corpus/pki/leaf-rsa.pem"), &issuer, JUN_2036);
    assert_eq!(got.status, RevocationStatus::Good);
    assert!(got.notes[0].contains("stale"), "{:?}", got.notes);
}

#[test]
fn unlisted_leaves_of_the_issuer_are_good() {
    let r = revocations(vec![fixture_crl()]);
    let issuer = cert("corpus/pki/intermediate.pem");
    for leaf in ["corpus/pki/leaf-rsa.pem", "corpus/pki/leaf-ecdsa.pem"] {
        assert_eq!(
            r.check(&cert(leaf), &issuer, NOV_2026),
            RevocationStatus::Good,
            "{leaf}"
        );
    }
}

#[test]
fn certificates_of_another_issuer_are_not_checked() {
    let r = revocations(vec![fixture_crl()]);
    // The TSA is issued by the root, for which no CRL was given.
    assert_eq!(
        r.check(
            &cert("corpus/pki/tsa.pem"),
            &cert("corpus/pki/root.pem"),
            NOV_2026
        ),
        RevocationStatus::NotChecked
    );
    let selfsigned = cert("corpus/pki/selfsigned.pem");
    assert_eq!(
        r.check(&selfsigned, &selfsigned, NOV_2026),
        RevocationStatus::NotChecked
    );
    // The wrong issuer for a listed leaf: nothing is consulted, with a note saying so.
    let got = r.check_noted(
        &cert("corpus/pki/leaf-revoked.pem"),
        &cert("corpus/pki/root.pem"),
        NOV_2026,
    );
    assert_eq!(got.status, RevocationStatus::NotChecked);
    assert!(got.notes[0].contains("not the issuer"), "{:?}", got.notes);
    // No CRLs at all.
    assert_eq!(
        Revocations::default().check(
            &cert("corpus/pki/leaf-revoked.pem"),
            &cert("corpus/pki/intermediate.pem"),
            NOV_2026
        ),
        RevocationStatus::NotChecked
    );
}

#[test]
fn corrupted_crl_alone_is_crl_invalid() {
    let r = revocations(crl::load(&corrupted_der(), "corrupted.der").unwrap());
    let issuer = cert("corpus/pki/intermediate.pem");
    for leaf in ["corpus/pki/leaf-revoked.pem", "corpus/pki/leaf-rsa.pem"] {
        match r.check(&cert(leaf), &issuer, NOV_2026) {
            RevocationStatus::CrlInvalid(why) => {
                assert!(
                    why.contains("corrupted.der") && why.contains("signature does not verify"),
                    "{why}"
                );
            }
            other => panic!("{leaf}: {other:?}"),
        }
    }
}

#[test]
fn corrupted_crl_next_to_a_good_one_is_ignored_with_a_note() {
    let mut crls = crl::load(&corrupted_der(), "corrupted.der").unwrap();
    crls.push(fixture_crl());
    let r = revocations(crls);
    let got = r.check_noted(
        &cert("corpus/pki/leaf-revoked.pem"),
        &cert("corpus/pki/intermediate.pem"),
        NOV_2026,
    );
    assert!(matches!(
        got.status,
        RevocationStatus::Revoked { at: REVOKED_AT, .. }
    ));
    assert!(
        got.notes
            .iter()
            .any(|n| n.contains("ignored") && n.contains("corrupted.der")),
        "{:?}",
        got.notes
    );
}

/// OpenSSL agrees on the DER and on the signature (skipped without `openssl` unless
/// `BINGATE_REQUIRE_INTEROP=1`).
#[test]
fn openssl_agrees_on_der_and_signature() {
    let pem = paths::repo(CRL_PEM);
    let ca = paths::repo("corpus/pki/intermediate.pem");
    let Ok(out) = Command::new("openssl")
        .args(["crl", "-outform", "DER", "-in"])
        .arg(&pem)
        .output()
    else {
        interop::skip("openssl not found");
        return;
    };
    assert!(out.status.success());
    assert_eq!(out.stdout, fixture_der());
    let dir = paths::tempdir();
    let bad = dir.path().join("corrupted.der");
    std::fs::write(&bad, corrupted_der()).unwrap();
    for (file, form, ok) in [(pem.as_path(), "PEM", true), (bad.as_path(), "DER", false)] {
        let out = Command::new("openssl")
            .args(["crl", "-noout", "-inform", form, "-CAfile"])
            .arg(&ca)
            .arg("-in")
            .arg(file)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(text.contains("verify OK"), ok, "{file:?}: {text}");
        let ours = crl::load(&std::fs::read(file).unwrap(), "x").unwrap();
        assert_eq!(
            ours[0].verify_signature(&cert("corpus/pki/intermediate.pem")),
            ok
        );
    }
}
