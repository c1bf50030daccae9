//! Certificate paths: test-PKI fixtures and Microsoft-signed files against their anchors.

mod common;

use bingate::pki::chain::{Anchors, ChainError, Purpose, build};
use common::{interop, paths};
use x509_cert::Certificate;

fn signer_and_bag(rel: &str) -> (Certificate, Vec<Certificate>) {
    let data = paths::read(rel);
    let layout = bingate::pe::signing_layout(&data).unwrap();
    let table = bingate::authenticode::table::read(&data, &layout)
        .unwrap()
        .unwrap();
    let (signer, bag) =
        bingate::authenticode::signature::certificates(table.entries[0].der).unwrap();
    (signer.unwrap(), bag)
}

fn anchors(rel: &str) -> Anchors {
    Anchors::from_pem(&paths::read(rel)).unwrap()
}

/// 2026-11-22T00:00:00Z
const NOV_2026: u64 = 1_795_305_600;

#[test]
fn test_pki_leaf_chains_through_the_intermediate_to_the_root() {
    let (leaf, bag) = signer_and_bag("corpus/signed/valid-rsa.exe");
    let path = build(
        &leaf,
        &bag,
        &anchors("corpus/pki/root.pem"),
        NOV_2026,
        Purpose::CodeSigning,
    )
    .unwrap();
    assert_eq!(path.subjects.len(), 3, "{:?}", path.subjects);
    assert!(path.subjects[2].contains("root"), "{:?}", path.subjects);
    // Without the anchor there is no path.
    let e = build(
        &leaf,
        &bag,
        &Anchors::default(),
        NOV_2026,
        Purpose::CodeSigning,
    )
    .unwrap_err();
    // The bag stops at the intermediate: the root is neither there nor an anchor.
    assert!(
        matches!(&e, ChainError::NoIssuer { issuer, .. } if issuer.contains("root CA")),
        "{e:?}"
    );
}

#[test]
fn self_signed_signers_are_untrusted() {
    let (leaf, bag) = signer_and_bag("corpus/signed/self-signed.exe");
    let e = build(
        &leaf,
        &bag,
        &anchors("corpus/pki/root.pem"),
        NOV_2026,
        Purpose::CodeSigning,
    )
    .unwrap_err();
    assert!(matches!(e, ChainError::Untrusted { .. }), "{e:?}");
}

#[test]
fn expiry_is_judged_at_the_time_given() {
    let (leaf, bag) = signer_and_bag("corpus/signed/expired-no-ts.exe");
    let a = anchors("corpus/pki/root.pem");
    let e = build(&leaf, &bag, &a, NOV_2026, Purpose::CodeSigning).unwrap_err();
    assert!(matches!(e, ChainError::Expired { .. }), "{e:?}");
    let inside = leaf
        .tbs_certificate
        .validity
        .not_before
        .to_unix_duration()
        .as_secs()
        + 86_400;
    build(&leaf, &bag, &a, inside, Purpose::CodeSigning).unwrap();
}

#[test]
fn a_timestamping_certificate_cannot_sign_code() {
    let tsa = Certificate::load_pem_chain(&paths::read("corpus/pki/tsa-chain.pem")).unwrap();
    let a = anchors("corpus/pki/root.pem");
    let e = build(&tsa[0], &tsa, &a, NOV_2026, Purpose::CodeSigning).unwrap_err();
    assert!(matches!(e, ChainError::WrongPurpose { .. }), "{e:?}");
    build(&tsa[0], &tsa, &a, NOV_2026, Purpose::TimeStamping).unwrap();
}

#[test]
fn microsoft_signed_dlls_chain_to_the_default_code_signing_roots() {
    if !interop::public("corpus/public/msvc-runtime/vcruntime140.dll") {
        return;
    }
    let (leaf, bag) = signer_and_bag("corpus/public/msvc-runtime/vcruntime140.dll");
    let a = anchors("policies/trust/microsoft-codesigning.pem");
    let path = build(&leaf, &bag, &a, NOV_2026, Purpose::CodeSigning).unwrap();
    assert!(
        path.subjects
            .last()
            .unwrap()
            .contains("Microsoft Root Certificate Authority"),
        "{:?}",
        path.subjects
    );
    // Its RFC 3161 timestamp verifies and the TSA chains to a Microsoft time-stamping root.
    let ts = timestamps("corpus/public/msvc-runtime/vcruntime140.dll");
    let t = &ts[0];
    assert!(t.imprint_match && t.cms.signature_valid, "{t:?}");
    let tsa_roots = anchors("policies/trust/microsoft-timestamping.pem");
    build(
        t.tsa_cert.as_ref().unwrap(),
        &t.certificates,
        &tsa_roots,
        t.time,
        Purpose::TimeStamping,
    )
    .unwrap();
}

fn timestamps(rel: &str) -> Vec<bingate::cms::timestamp::Timestamp> {
    let data = paths::read(rel);
    let i = bingate::authenticode::inspect(&data).unwrap().unwrap();
    let s = i.signatures.into_iter().next().unwrap().unwrap();
    assert!(
        s.timestamp_errors.is_empty(),
        "{rel}: {:?}",
        s.timestamp_errors
    );
    s.timestamps
}

/// RFC 3161: the token is bound to the signature, signed by the TSA, and the TSA chains to the
/// root for time stamping at the stamped time.
#[test]
fn rfc3161_timestamps_are_bound_signed_and_chain_for_time_stamping() {
    let ts = timestamps("corpus/signed/valid-rsa.exe");
    assert_eq!(ts.len(), 1);
    let t = &ts[0];
    assert_eq!(t.kind, bingate::cms::timestamp::Kind::Rfc3161);
    assert!(
        t.imprint_match && t.cms.message_digest_match && t.cms.signature_valid,
        "{t:?}"
    );
    // corpus/signed/expected.json: valid-rsa.exe is stamped 2026-01-15.
    assert_eq!(t.time, 1_768_435_200, "{}", t.time);
    let a = anchors("corpus/pki/root.pem");
    build(
        t.tsa_cert.as_ref().unwrap(),
        &t.certificates,
        &a,
        t.time,
        Purpose::TimeStamping,
    )
    .unwrap();
    assert!(timestamps("corpus/signed/valid-notimestamp.exe").is_empty());
}

/// A legacy countersignature (signtool.exe, 2010) is bound to the signature and verifies.
#[test]
fn legacy_countersignatures_are_read_and_verified() {
    let rel = "corpus/public/electron-winstaller/signtool.exe";
    if !interop::public(rel) {
        return;
    }
    let ts = timestamps(rel);
    assert_eq!(ts.len(), 1);
    let t = &ts[0];
    assert_eq!(t.kind, bingate::cms::timestamp::Kind::Legacy);
    assert!(t.imprint_match && t.cms.signature_valid, "{t:?}");
    // Signed in 2010 (between 2010-01-01 and 2011-01-01).
    assert!(
        (1_262_304_000..1_293_840_000).contains(&t.time),
        "{}",
        t.time
    );
}
