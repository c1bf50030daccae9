//! Sizing the `.bingate.sig` section before anything is hashed (docs/elf-signature.md, "The
//! contents"): the CMS length computed from lengths alone equals the CMS built afterwards (RSA) or
//! bounds it by the few bytes an ECDSA signature varies; signing without a timestamp never lays
//! its tail out twice; a timestamp token larger than its reserve re-plans the tail once.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use bingate::cms::Signer;
use bingate::cms::build::{attached_signature, attached_signature_len};
use bingate::cms::verdict::{FixedAnchors, Status, VerifyEnv};
use bingate::elfsig::SignOptions;
use bingate::hash::DigestAlg;
use bingate::pki::chain::Anchors;
use bingate::sign::key::{LocalSigner, load_certificates, load_private_key};
use bingate::sign::stream::sign_in_memory;
use common::der::der_len;
use common::interop;
use common::paths::{self, pki};
use der::{Decode, Encode};
use x509_cert::Certificate;

/// The signing time: 2025-06-01T00:00:00Z (a UTCTime, as any time before 2050: same length).
const SIGNED_AT: u64 = 1_748_736_000;
/// The verification time: 2030-01-01T00:00:00Z, inside every test leaf's validity (the P-384
/// leaf's starts in November 2026).
const VERIFY_AT: u64 = 1_893_456_000;

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

struct Fixture {
    signer: LocalSigner,
    cert: Certificate,
    chain: Vec<Certificate>,
}

fn fixture(key_name: &str, cert_name: &str) -> Fixture {
    Fixture {
        signer: key(&pki(key_name)),
        cert: certs(&pki(cert_name)).remove(0),
        chain: certs(&pki("intermediate.pem")),
    }
}

fn opts<'a>(
    f: &'a Fixture,
    alg: DigestAlg,
    timestamper: Option<bingate::cms::build::Timestamper<'a>>,
) -> SignOptions<'a> {
    SignOptions {
        signer: &f.signer,
        cert: &f.cert,
        chain: &f.chain,
        digest: alg,
        timestamper,
        replace: false,
        signed_at: SIGNED_AT,
    }
}

/// The signature section's contents and the status `bingate verify` would give (root trusted).
fn verify(signed: &[u8]) -> (Vec<u8>, Status, bool) {
    let (c, s, m, _) = verify_why(signed);
    (c, s, m)
}

/// [`verify`] and the reasons given.
fn verify_why(signed: &[u8]) -> (Vec<u8>, Status, bool, String) {
    let anchors = Anchors::from_pem(&std::fs::read(pki("root.pem")).unwrap()).unwrap();
    let env = VerifyEnv {
        anchors: &FixedAnchors {
            code_signing: &anchors,
            time_stamping: &anchors,
        },
        at: VERIFY_AT,
        strict: false,
        require_all: false,
        revoked: &|_, _| None,
    };
    let v = bingate::elfsig::verify(signed, &env, &[]);
    let l = bingate::elfsig::layout::Layout::parse(signed).unwrap();
    let s = l
        .sections
        .iter()
        .find(|s| s.name == ".bingate.sig")
        .unwrap();
    let contents = signed[s.offset as usize..(s.offset + s.size) as usize].to_vec();
    let matches = v
        .signatures
        .first()
        .is_some_and(|s| s.digest.matches && s.digest.computed.is_some());
    let why = format!("{:?}", v.signatures.first().map(|s| &s.reasons));
    (contents, v.status, matches, why)
}

#[test]
fn signing_without_a_timestamp_never_lays_the_tail_out_twice() {
    let keys = [
        ("leaf-rsa.key", "leaf-rsa.pem"),
        ("leaf-ecdsa.key", "leaf-ecdsa.pem"),
        ("leaf-ecdsa384.key", "leaf-ecdsa384.pem"),
    ];
    let mut signed_files = 0;
    for entry in std::fs::read_dir(paths::corpus("elf")).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        for (k, c) in keys {
            let f = fixture(k, c);
            for alg in [DigestAlg::Sha256, DigestAlg::Sha512] {
                let (out, replans) = sign_in_memory(&data, false, &opts(&f, alg, None))
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert_eq!(replans, 0, "{}", path.display());
                let (contents, status, matches, why) = verify_why(&out);
                assert_eq!(status, Status::Valid, "{} with {k}: {why}", path.display());
                assert!(matches);
                let padding = contents.len() - der_len(&contents);
                if k.contains("rsa") {
                    assert_eq!(padding, 0, "{}: RSA is sized exactly", path.display());
                } else {
                    // At most what the signature lacks of its longest (a few bytes), plus the
                    // DER lengths that shrank with it.
                    assert!(
                        padding <= 8,
                        "{}: {padding} bytes of padding",
                        path.display()
                    );
                }
                signed_files += 1;
            }
        }
    }
    assert!(signed_files >= 3 * 2 * 20, "{signed_files} signed");
}

#[test]
fn a_token_larger_than_its_reserve_re_plans_the_tail_once() {
    let f = fixture("leaf-rsa.key", "leaf-rsa.pem");
    let data = std::fs::read(paths::corpus("elf").join("pie-default")).unwrap();
    // A stand-in TSA whose "token" is any DER value (the layout does not look inside it): an
    // OCTET STRING of `len` bytes. Verification reports it unreadable; the file digest and the
    // signer's signature do not depend on it.
    let calls = AtomicU32::new(0);
    for (len, want_replans, want_calls) in [(3000usize, 0u32, 1u32), (12_000, 1, 2)] {
        calls.store(0, Ordering::SeqCst);
        let token = der::asn1::OctetString::new(vec![0x5a; len])
            .unwrap()
            .to_der()
            .unwrap();
        let stamp = |_signature: &[u8]| -> Result<Vec<u8>, String> {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(token.clone())
        };
        let (out, replans) =
            sign_in_memory(&data, false, &opts(&f, DigestAlg::Sha256, Some(&stamp))).unwrap();
        assert_eq!(replans, want_replans, "{len}-byte token");
        assert_eq!(calls.load(Ordering::SeqCst), want_calls, "{len}-byte token");
        let (contents, _, matches) = verify(&out);
        assert!(matches, "{len}-byte token: the file digest matches");
        let cms_len = der_len(&contents);
        assert!(cms_len > len, "the token is in the signature");
        assert!(
            contents[cms_len..].iter().all(|b| *b == 0),
            "zero padding after the CMS"
        );
        // The signer's signature covers the manifest, which lists the section at its final size.
        let ci = cms::content_info::ContentInfo::from_der(&contents[..cms_len]).unwrap();
        let sd: cms::signed_data::SignedData = ci.content.decode_as().unwrap();
        let manifest = sd.encap_content_info.econtent.unwrap();
        let manifest = manifest
            .decode_as::<der::asn1::OctetString>()
            .unwrap()
            .into_bytes();
        let line = format!(" {} ", contents.len());
        assert!(
            String::from_utf8(manifest)
                .unwrap()
                .lines()
                .any(|l| l.starts_with("section .bingate.sig ") && l.contains(&line)),
            "the manifest lists the section at its final size"
        );
    }
}

#[test]
fn the_command_writes_what_signing_in_memory_makes() {
    // Same input, key and signing time: the streamed output of the command and the in-memory one
    // are the same bytes (the command's time is its own, so compare the layout and the digest).
    let dir = paths::tempdir();
    let f = fixture("leaf-rsa.key", "leaf-rsa.pem");
    let input = paths::corpus("elf").join("static-pie");
    let data = std::fs::read(&input).unwrap();
    let (mem, _) = sign_in_memory(&data, false, &opts(&f, DigestAlg::Sha256, None)).unwrap();
    let out = dir.path().join("signed");
    let o = common::run::bingate_mixed(&[
        &"sign",
        &"elf",
        &"--key",
        &pki("leaf-rsa.key"),
        &"--cert",
        &pki("leaf-rsa.pem"),
        &"--chain",
        &pki("intermediate.pem"),
        &"--output",
        &out,
        &input,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cmd = std::fs::read(&out).unwrap();
    let (lm, lc) = (
        bingate::elfsig::layout::Layout::parse(&mem).unwrap(),
        bingate::elfsig::layout::Layout::parse(&cmd).unwrap(),
    );
    assert_eq!(lm.sections, lc.sections, "same layout, same section sizes");
    assert_eq!(mem.len(), cmd.len());
    let sig = lm.sections.last().unwrap();
    assert_eq!(sig.name, ".bingate.sig");
    // Everything but the signature's contents is identical.
    let at = sig.offset as usize;
    assert_eq!(mem[..at], cmd[..at]);
}
