//! Sizing the `.bingate.sig` section before anything is hashed: the CMS length computed from
//! lengths alone equals the CMS built afterwards (RSA) or bounds it by the few bytes an ECDSA
//! signature varies.

mod common;

use std::path::Path;
use std::process::Command;

use bingate::cms::Signer;
use bingate::cms::build::{attached_signature, attached_signature_len};
use bingate::hash::DigestAlg;
use bingate::sign::key::{LocalSigner, load_certificates, load_private_key};
use common::interop;
use common::paths::{self, pki};
use der::Decode;
use x509_cert::Certificate;

/// The signing time: 2025-06-01T00:00:00Z (a UTCTime, as any time before 2050: same length).
const SIGNED_AT: u64 = 1_748_736_000;

fn key(path: &Path) -> LocalSigner {
    load_private_key(&std::fs::read(path).unwrap(), None, "test key").unwrap()
}

fn certs(path: &Path) -> Vec<Certificate> {
    load_certificates(&std::fs::read(path).unwrap(), "test certificate").unwrap()
}

/// An RSA-4096 key and a self-signed certificate for it, made by openssl (the test PKI has
/// none); `None` when openssl is absent and interop is not required.
fn rsa4096(dir: &Path) -> Option<(LocalSigner, Certificate)> {
    if !interop::require("openssl") {
        return None;
    }
    let (k, c) = (dir.join("rsa4096.key"), dir.join("rsa4096.pem"));
    let o = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:4096", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/O=Bingate Test PKI (NOT TRUSTED)/CN=sizing RSA-4096",
        ])
        .arg("-keyout")
        .arg(&k)
        .arg("-out")
        .arg(&c)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some((key(&k), certs(&c).remove(0)))
}

/// The signature value inside a DER ContentInfo(SignedData) with one SignerInfo.
fn signature_len(der: &[u8]) -> usize {
    let ci = cms::content_info::ContentInfo::from_der(der).unwrap();
    let sd: cms::signed_data::SignedData = ci.content.decode_as().unwrap();
    sd.signer_infos.0.get(0).unwrap().signature.as_bytes().len()
}

#[test]
fn signature_length_is_known_before_signing() {
    let dir = paths::tempdir();
    let chain = [certs(&pki("intermediate.pem")), certs(&pki("root.pem"))].concat();
    let mut signers: Vec<(String, LocalSigner, Certificate)> = vec![
        (
            "RSA-2048".into(),
            key(&pki("leaf-rsa.key")),
            certs(&pki("leaf-rsa.pem")).remove(0),
        ),
        (
            "RSA-3072".into(),
            key(&pki("intermediate.key")),
            certs(&pki("intermediate.pem")).remove(0),
        ),
        (
            "P-256".into(),
            key(&pki("leaf-ecdsa.key")),
            certs(&pki("leaf-ecdsa.pem")).remove(0),
        ),
        (
            "P-384".into(),
            key(&pki("leaf-ecdsa384.key")),
            certs(&pki("leaf-ecdsa384.pem")).remove(0),
        ),
    ];
    if let Some((k, c)) = rsa4096(dir.path()) {
        signers.push(("RSA-4096".into(), k, c));
    }
    let mut checked = 0;
    for (name, signer, cert) in &signers {
        let rsa = name.starts_with("RSA");
        for chain in [&[][..], &chain[..]] {
            for alg in [DigestAlg::Sha256, DigestAlg::Sha384, DigestAlg::Sha512] {
                // Content lengths on both sides of DER length-of-length boundaries (the manifest
                // is the content; a large file's is tens of KiB).
                for content_len in [0, 1, 127, 128, 255, 256, 4000, 65_535, 65_536, 70_000] {
                    let computed =
                        attached_signature_len(signer, cert, chain, alg, content_len, SIGNED_AT)
                            .unwrap();
                    let content: Vec<u8> = (0..content_len).map(|i| (i % 251) as u8).collect();
                    let real =
                        attached_signature(signer, cert, chain, alg, &content, SIGNED_AT, None)
                            .unwrap();
                    let what = format!(
                        "{name}, {} chain certificates, {alg:?}, {content_len}-byte content",
                        chain.len()
                    );
                    if rsa {
                        assert_eq!(computed, real.len(), "{what}: exact for RSA");
                    } else {
                        // The documented bound: shorter by what the signature lacks of its
                        // longest, plus at most one byte for each of the five DER lengths that
                        // enclose it (SignerInfo, SignerInfos, SignedData, [0], ContentInfo).
                        let short = signer
                            .kind()
                            .max_signature_len()
                            .checked_sub(signature_len(&real))
                            .expect("no ECDSA signature is longer than the maximum");
                        assert!(computed >= real.len(), "{what}: an upper bound");
                        assert!(
                            computed - real.len() <= short + 5,
                            "{what}: {computed} computed, {} built, signature {short} bytes short",
                            real.len()
                        );
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 4 * 2 * 3 * 10, "{checked} cases");
}
