//! Certificate paths: test-PKI fixtures and Microsoft-signed files against their anchors.

use std::path::Path;

use bingate::pki::chain::{Anchors, ChainError, Purpose, build};
use x509_cert::Certificate;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn signer_and_bag(rel: &str) -> (Certificate, Vec<Certificate>) {
    let data = std::fs::read(Path::new(ROOT).join(rel)).unwrap();
    let layout = bingate::pe::signing_layout(&data).unwrap();
    let table = bingate::authenticode::table::read(&data, &layout)
        .unwrap()
        .unwrap();
    let (signer, bag) =
        bingate::authenticode::signature::certificates(table.entries[0].der).unwrap();
    (signer.unwrap(), bag)
}

fn anchors(rel: &str) -> Anchors {
    Anchors::from_pem(&std::fs::read(Path::new(ROOT).join(rel)).unwrap()).unwrap()
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
    let tsa = Certificate::load_pem_chain(
        &std::fs::read(Path::new(ROOT).join("corpus/pki/tsa-chain.pem")).unwrap(),
    )
    .unwrap();
    let a = anchors("corpus/pki/root.pem");
    let e = build(&tsa[0], &tsa, &a, NOV_2026, Purpose::CodeSigning).unwrap_err();
    assert!(matches!(e, ChainError::WrongPurpose { .. }), "{e:?}");
    build(&tsa[0], &tsa, &a, NOV_2026, Purpose::TimeStamping).unwrap();
}

#[test]
fn microsoft_signed_dlls_chain_to_the_default_code_signing_roots() {
    let dll = Path::new(ROOT).join("corpus/public/msvc-runtime/vcruntime140.dll");
    if !dll.exists() {
        assert!(
            std::env::var("BINGATE_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "public corpus absent"
        );
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
}
