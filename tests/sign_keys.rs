//! Signing keys (`src/sign/key.rs`): every key format bingate reads, signatures checked with the
//! project's verifier and independently with OpenSSL, and every refusal as a typed error.
//!
//! Keys and certificates come from `corpus/pki` (never modified); other formats are derived with
//! `openssl` into a temporary directory. Tests that need `openssl` skip when it is missing,
//! unless `BINGATE_REQUIRE_INTEROP=1`, where its absence is a failure.

// Tests and examples report to the person running them.
#![allow(clippy::disallowed_macros)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use bingate::cms::{KeyKind, SignDigestError, Signer};
use bingate::hash::DigestAlg;
use bingate::hash::digest;
use bingate::pki::keys::{signature_algorithm, verify_prehashed};
use bingate::sign::key::{
    KeyError, LocalSigner, check_key_matches, load_certificates, load_private_key,
};
use common::interop;
use common::paths::{pki, read, tempdir};
use der::Encode;
use x509_cert::Certificate;

const MESSAGE: &[u8] = b"bingate signing-key test message";
const SHA2: [DigestAlg; 3] = [DigestAlg::Sha256, DigestAlg::Sha384, DigestAlg::Sha512];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn load(path: &Path, passphrase: Option<&[u8]>) -> Result<LocalSigner, KeyError> {
    load_private_key(&read(path), passphrase, &path.display().to_string())
}

fn load_ok(path: &Path) -> LocalSigner {
    load(path, None).unwrap_or_else(|e| panic!("{e}"))
}

fn cert(name: &str) -> Certificate {
    let path = pki(name);
    let mut certs = load_certificates(&read(&path), &path.display().to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    certs.remove(0)
}

/// Returns from the test when `openssl` is not installed; with `BINGATE_REQUIRE_INTEROP=1` its
/// absence fails the test (see `common::interop`).
macro_rules! require_openssl {
    () => {
        if !interop::require("openssl") {
            return;
        }
    };
}

fn openssl_output(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl")
}

/// Runs `openssl args…` and insists on success.
fn openssl(args: &[&str]) -> Output {
    let out = openssl_output(args);
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// The key/certificate pairs of the test PKI.
const PAIRS: [(&str, &str, KeyKind); 3] = [
    ("leaf-rsa.key", "leaf-rsa.pem", KeyKind::Rsa { bits: 2048 }),
    ("leaf-ecdsa.key", "leaf-ecdsa.pem", KeyKind::EcdsaP256),
    ("leaf-ecdsa384.key", "leaf-ecdsa384.pem", KeyKind::EcdsaP384),
];

/// Signs `MESSAGE`'s `alg` digest and checks the signature with bingate's verifier against
/// `cert`'s public key.
fn assert_signs_for(signer: &dyn Signer, cert: &Certificate, alg: DigestAlg, what: &str) {
    let d = digest(alg, MESSAGE).expect("SHA digest");
    let sig = signer
        .sign_digest(alg, &d)
        .unwrap_or_else(|e| panic!("{what} {alg:?}: {e}"));
    let spki = &cert.tbs_certificate.subject_public_key_info;
    verify_prehashed(spki, alg, &d, &sig, false).unwrap_or_else(|e| panic!("{what} {alg:?}: {e}"));
    // The same signature must not verify over another digest.
    let mut other = d.clone();
    other[0] ^= 1;
    assert!(
        verify_prehashed(spki, alg, &other, &sig, false).is_err(),
        "{what} {alg:?}: verifies over a different digest"
    );
}

// ---------------------------------------------------------------------------------------------
// Loading and signing
// ---------------------------------------------------------------------------------------------

#[test]
fn corpus_keys_load_with_their_kind() {
    for (key, certificate, kind) in PAIRS {
        let signer = load_ok(&pki(key));
        assert_eq!(signer.kind(), kind, "{key}");
        // The public key is the certificate's, byte for byte.
        assert_eq!(
            signer.public_key().to_der().unwrap(),
            cert(certificate)
                .tbs_certificate
                .subject_public_key_info
                .to_der()
                .unwrap(),
            "{key}"
        );
    }
    assert_eq!(
        load_ok(&pki("root.key")).kind(),
        KeyKind::Rsa { bits: 3072 }
    );
    assert_eq!(
        load_ok(&pki("leaf-weak1024.key")).kind(),
        KeyKind::Rsa { bits: 1024 }
    );
}

#[test]
fn key_kinds_describe_themselves() {
    assert_eq!(KeyKind::Rsa { bits: 3072 }.describe(), "RSA-3072");
    assert_eq!(KeyKind::EcdsaP256.describe(), "ECDSA P-256");
    assert_eq!(KeyKind::EcdsaP384.describe(), "ECDSA P-384");
    assert_eq!(KeyKind::EcdsaP384.to_string(), "ECDSA P-384");
}

#[test]
fn signatures_verify_with_the_certificate_key() {
    for (key, certificate, _) in PAIRS {
        let signer = load_ok(&pki(key));
        let cert = cert(certificate);
        for alg in SHA2 {
            assert_signs_for(&signer, &cert, alg, key);
        }
    }
}

#[test]
fn rsa_signature_is_modulus_length_and_deterministic() {
    let signer = load_ok(&pki("leaf-rsa.key"));
    for alg in [
        DigestAlg::Sha1,
        DigestAlg::Sha256,
        DigestAlg::Sha384,
        DigestAlg::Sha512,
    ] {
        let d = digest(alg, MESSAGE).unwrap();
        let a = signer.sign_digest(alg, &d).unwrap();
        let b = signer.sign_digest(alg, &d).unwrap();
        assert_eq!(a.len(), 256, "{alg:?}");
        assert_eq!(a, b, "{alg:?}: RSA PKCS#1 v1.5 must be deterministic");
    }
    // SHA-1 is accepted (timestamps and legacy dual signatures) and verifies.
    let d = digest(DigestAlg::Sha1, MESSAGE).unwrap();
    let sig = signer.sign_digest(DigestAlg::Sha1, &d).unwrap();
    verify_prehashed(
        &cert("leaf-rsa.pem").tbs_certificate.subject_public_key_info,
        DigestAlg::Sha1,
        &d,
        &sig,
        false,
    )
    .unwrap();
}

#[test]
fn ecdsa_signatures_are_der_and_deterministic() {
    for (key, _, _) in &PAIRS[1..] {
        let signer = load_ok(&pki(key));
        let d = digest(DigestAlg::Sha256, MESSAGE).unwrap();
        let a = signer.sign_digest(DigestAlg::Sha256, &d).unwrap();
        // Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
        assert_eq!(a[0], 0x30, "{key}: not a DER SEQUENCE");
        assert_eq!(usize::from(a[1]) + 2, a.len(), "{key}: DER length");
        assert_eq!(
            a,
            signer.sign_digest(DigestAlg::Sha256, &d).unwrap(),
            "{key}: RFC 6979"
        );
    }
}

#[test]
fn md5_and_wrong_digest_lengths_are_refused() {
    for (key, _, kind) in PAIRS {
        let signer = load_ok(&pki(key));
        let md5 = [0u8; 16];
        assert_eq!(
            signer.sign_digest(DigestAlg::Md5, &md5),
            Err(SignDigestError::UnsupportedDigest {
                digest: "md5",
                key: kind.describe()
            }),
            "{key}"
        );
        let short = [0u8; 31];
        let err = signer.sign_digest(DigestAlg::Sha256, &short).unwrap_err();
        assert_eq!(
            err,
            SignDigestError::DigestLength {
                digest: "sha256",
                expected: 32,
                got: 31
            },
            "{key}"
        );
        assert!(err.to_string().contains("32 bytes"), "{err}");
        // A SHA-512-sized digest labelled SHA-256 is refused, not truncated.
        assert!(matches!(
            signer.sign_digest(DigestAlg::Sha256, &[0u8; 64]),
            Err(SignDigestError::DigestLength { got: 64, .. })
        ));
        assert!(matches!(
            signer.sign_digest(DigestAlg::Sha1, &[]),
            Err(SignDigestError::DigestLength { got: 0, .. })
        ));
    }
}

#[test]
fn signature_algorithm_is_what_the_verifier_reads() {
    for (key, _, kind) in PAIRS {
        for alg in [
            DigestAlg::Sha1,
            DigestAlg::Sha256,
            DigestAlg::Sha384,
            DigestAlg::Sha512,
        ] {
            let id = kind.signature_algorithm(alg).expect("SHA");
            assert_eq!(
                signature_algorithm(&id.oid.to_string()),
                Some((alg, false)),
                "{key} {alg:?}"
            );
            // RSA identifiers carry NULL parameters, ECDSA ones none.
            assert_eq!(
                id.parameters.is_some(),
                matches!(kind, KeyKind::Rsa { .. }),
                "{key} {alg:?}"
            );
        }
        assert!(kind.signature_algorithm(DigestAlg::Md5).is_none());
    }
}

#[test]
fn signer_is_object_safe_and_shared_across_threads() {
    let signers: Vec<Arc<dyn Signer>> = PAIRS
        .iter()
        .map(|(key, _, _)| Arc::new(load_ok(&pki(key))) as Arc<dyn Signer>)
        .collect();
    let d = digest(DigestAlg::Sha256, MESSAGE).unwrap();
    let handles: Vec<_> = signers
        .iter()
        .map(|s| {
            let s = Arc::clone(s);
            let d = d.clone();
            std::thread::spawn(move || s.sign_digest(DigestAlg::Sha256, &d))
        })
        .collect();
    for ((h, (key, certificate, _)), signer) in handles.into_iter().zip(PAIRS).zip(&signers) {
        let sig = h.join().unwrap().unwrap();
        verify_prehashed(
            &cert(certificate).tbs_certificate.subject_public_key_info,
            DigestAlg::Sha256,
            &d,
            &sig,
            false,
        )
        .unwrap_or_else(|e| panic!("{key}: {e}"));
        // Debug output never shows key material.
        let dbg = format!("{:?}", load_ok(&pki(key)));
        assert!(dbg.starts_with("LocalSigner"), "{dbg}");
        assert!(dbg.len() < 80, "{dbg}");
        assert_eq!(signer.kind(), load_ok(&pki(key)).kind());
    }
}

// ---------------------------------------------------------------------------------------------
// Other formats, derived with OpenSSL
// ---------------------------------------------------------------------------------------------

#[test]
fn every_key_format_loads_and_signs() {
    require_openssl!();
    let dir = tempdir();
    let out = |name: &str| dir.path().join(name);
    let rsa = pki("leaf-rsa.key");
    let p256 = pki("leaf-ecdsa.key");
    let p384 = pki("leaf-ecdsa384.key");
    // (file, how it was made, the pair it must match)
    let mut cases: Vec<(PathBuf, &str, usize)> = Vec::new();
    let mut derive = |name: &'static str, args: &[&str], pair: usize| {
        let path = out(name);
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["-out", s(&path)]);
        openssl(&full);
        cases.push((path, name, pair));
    };
    let (r, e2, e3) = (s(&rsa), s(&p256), s(&p384));
    // RSA: PKCS#1 PEM and DER, PKCS#8 DER.
    derive("rsa-pkcs1.pem", &["rsa", "-in", r, "-traditional"], 0);
    derive(
        "rsa-pkcs1.der",
        &["rsa", "-in", r, "-traditional", "-outform", "DER"],
        0,
    );
    derive(
        "rsa-pkcs8.der",
        &["pkcs8", "-topk8", "-nocrypt", "-in", r, "-outform", "DER"],
        0,
    );
    // P-256: SEC1 PEM and DER (also with a compressed public point), PKCS#8 DER.
    derive("p256-sec1.pem", &["ec", "-in", e2], 1);
    derive("p256-sec1.der", &["ec", "-in", e2, "-outform", "DER"], 1);
    derive(
        "p256-sec1-compressed.pem",
        &["ec", "-in", e2, "-conv_form", "compressed"],
        1,
    );
    derive(
        "p256-pkcs8.der",
        &["pkcs8", "-topk8", "-nocrypt", "-in", e2, "-outform", "DER"],
        1,
    );
    // P-384: PKCS#8 PEM and DER, SEC1 DER.
    derive(
        "p384-pkcs8.pem",
        &["pkcs8", "-topk8", "-nocrypt", "-in", e3],
        2,
    );
    derive(
        "p384-pkcs8.der",
        &["pkcs8", "-topk8", "-nocrypt", "-in", e3, "-outform", "DER"],
        2,
    );
    derive("p384-sec1.der", &["ec", "-in", e3, "-outform", "DER"], 2);

    for (path, name, pair) in &cases {
        let (_, certificate, kind) = PAIRS[*pair];
        let head = read(path);
        if name.ends_with(".der") {
            assert!(!head.starts_with(b"-----"), "{name} is not DER");
        }
        let signer = load(path, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(signer.kind(), kind, "{name}");
        let cert = cert(certificate);
        check_key_matches(&signer, &cert).unwrap_or_else(|e| panic!("{name}: {e}"));
        for alg in SHA2 {
            assert_signs_for(&signer, &cert, alg, name);
        }
    }
    assert!(read(out("rsa-pkcs1.pem")).starts_with(b"-----BEGIN RSA PRIVATE KEY-----"));
    assert!(read(out("p256-sec1.pem")).starts_with(b"-----BEGIN EC PRIVATE KEY-----"));
}

#[test]
fn ecparam_genkey_output_with_its_ec_parameters_block_loads() {
    require_openssl!();
    let dir = tempdir();
    for (curve, kind) in [
        ("prime256v1", KeyKind::EcdsaP256),
        ("secp384r1", KeyKind::EcdsaP384),
    ] {
        let path = dir.path().join(format!("{curve}.pem"));
        openssl(&["ecparam", "-name", curve, "-genkey", "-out", s(&path)]);
        assert!(read(&path).starts_with(b"-----BEGIN EC PARAMETERS-----"));
        let signer = load(&path, None).unwrap_or_else(|e| panic!("{curve}: {e}"));
        assert_eq!(signer.kind(), kind);
        let d = digest(DigestAlg::Sha384, MESSAGE).unwrap();
        let sig = signer.sign_digest(DigestAlg::Sha384, &d).unwrap();
        verify_prehashed(signer.public_key(), DigestAlg::Sha384, &d, &sig, false).unwrap();
    }
}

#[test]
fn key_and_certificate_in_one_pem_file() {
    // The key may share its file with certificates and explanatory text, in any order.
    let mut bytes = b"Bingate test bundle\n".to_vec();
    bytes.extend(read(pki("leaf-rsa-chain.pem")));
    bytes.extend(read(pki("leaf-rsa.key")));
    let signer = load_private_key(&bytes, None, "bundle.pem").unwrap();
    assert_eq!(signer.kind(), KeyKind::Rsa { bits: 2048 });
    let certs = load_certificates(&bytes, "bundle.pem").unwrap();
    assert_eq!(certs.len(), 2);
    check_key_matches(&signer, &certs[0]).unwrap();

    // Two keys in one file are ambiguous.
    let mut two = read(pki("leaf-rsa.key"));
    two.extend(read(pki("leaf-ecdsa.key")));
    assert_eq!(
        load_private_key(&two, None, "two.pem").unwrap_err(),
        KeyError::SeveralKeys {
            origin: "two.pem".into(),
            count: 2
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Independent checks with OpenSSL
// ---------------------------------------------------------------------------------------------

#[test]
fn openssl_verifies_rsa_and_ecdsa_signatures() {
    require_openssl!();
    let dir = tempdir();
    for (key, certificate, kind) in PAIRS {
        let pubkey = dir.path().join(format!("{key}.pub.pem"));
        let out = openssl(&["x509", "-in", s(&pki(certificate)), "-pubkey", "-noout"]);
        std::fs::write(&pubkey, &out.stdout).unwrap();
        let signer = load_ok(&pki(key));
        let mut algs = SHA2.to_vec();
        if kind == KeyKind::EcdsaP384 {
            // SHA-1 is shorter than half the P-384 field: padded, not refused.
            algs.push(DigestAlg::Sha1);
        }
        for alg in algs {
            let d = digest(alg, MESSAGE).unwrap();
            let digest_file = dir.path().join(format!("{key}.{}.bin", alg.name()));
            let sig_file = dir.path().join(format!("{key}.{}.sig", alg.name()));
            std::fs::write(&digest_file, &d).unwrap();
            std::fs::write(&sig_file, signer.sign_digest(alg, &d).unwrap()).unwrap();
            let verify = |input: &Path| {
                openssl_output(&[
                    "pkeyutl",
                    "-verify",
                    "-pubin",
                    "-inkey",
                    s(&pubkey),
                    "-pkeyopt",
                    &format!("digest:{}", alg.name()),
                    "-sigfile",
                    s(&sig_file),
                    "-in",
                    s(input),
                ])
            };
            let ok = verify(&digest_file);
            assert!(
                ok.status.success()
                    && String::from_utf8_lossy(&ok.stdout).contains("Verified Successfully"),
                "{key} {alg:?}: openssl rejects the signature: {}{}",
                String::from_utf8_lossy(&ok.stdout),
                String::from_utf8_lossy(&ok.stderr)
            );
            // And OpenSSL does reject it over another digest (the check can fail).
            let mut other = d.clone();
            other[0] ^= 1;
            let other_file = dir.path().join(format!("{key}.{}.other", alg.name()));
            std::fs::write(&other_file, &other).unwrap();
            assert!(
                !verify(&other_file).status.success(),
                "{key} {alg:?}: openssl accepts the signature over another digest"
            );
        }
    }
}

#[test]
fn rsa_signatures_are_byte_equal_to_openssl() {
    require_openssl!();
    let dir = tempdir();
    let key = pki("leaf-rsa.key");
    let signer = load_ok(&key);
    for alg in [
        DigestAlg::Sha1,
        DigestAlg::Sha256,
        DigestAlg::Sha384,
        DigestAlg::Sha512,
    ] {
        let d = digest(alg, MESSAGE).unwrap();
        let digest_file = dir.path().join(format!("{}.bin", alg.name()));
        std::fs::write(&digest_file, &d).unwrap();
        let theirs = openssl(&[
            "pkeyutl",
            "-sign",
            "-inkey",
            s(&key),
            "-pkeyopt",
            &format!("digest:{}", alg.name()),
            "-in",
            s(&digest_file),
        ])
        .stdout;
        let ours = signer.sign_digest(alg, &d).unwrap();
        assert_eq!(ours.len(), 256);
        assert_eq!(ours, theirs, "{alg:?}: differs from openssl pkeyutl -sign");
    }
}

/// `openssl pkeyutl -sign` over `d`, an `alg` digest, with the key file `key` (PKCS#1 v1.5).
fn pkeyutl_sign(dir: &Path, key: &Path, alg: DigestAlg, d: &[u8]) -> Vec<u8> {
    let digest_file = dir.join(format!("pkeyutl-{}.bin", alg.name()));
    std::fs::write(&digest_file, d).unwrap();
    openssl(&[
        "pkeyutl",
        "-sign",
        "-inkey",
        s(key),
        "-pkeyopt",
        &format!("digest:{}", alg.name()),
        "-in",
        s(&digest_file),
    ])
    .stdout
}

/// A new RSA key of `bits` bits from `openssl genpkey`, in `dir`.
fn genrsa(dir: &Path, bits: u32) -> PathBuf {
    let path = dir.join(format!("rsa{bits}.pem"));
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        &format!("rsa_keygen_bits:{bits}"),
        "-out",
        s(&path),
    ]);
    path
}

#[test]
fn rsa_message_signatures_by_ring_are_byte_equal_to_digest_signatures_and_openssl() {
    // `sign_message` (ring, for the CMS signed attributes) and `sign_digest` (the rsa crate)
    // must make the same PKCS#1 v1.5 signature, and OpenSSL's, for every size ring signs.
    require_openssl!();
    let dir = tempdir();
    let keys = [
        (pki("leaf-rsa.key"), 2048),
        (genrsa(dir.path(), 3072), 3072),
        (genrsa(dir.path(), 4096), 4096),
    ];
    for (key, bits) in keys {
        let signer = load_ok(&key);
        assert_eq!(signer.kind(), KeyKind::Rsa { bits });
        assert!(
            signer.signs_messages_with_ring(),
            "RSA-{bits}: ring should sign messages"
        );
        for alg in SHA2 {
            let d = digest(alg, MESSAGE).unwrap();
            let by_message = signer.sign_message(alg, MESSAGE).unwrap();
            assert_eq!(by_message.len(), usize::try_from(bits / 8).unwrap());
            assert_eq!(
                by_message,
                signer.sign_digest(alg, &d).unwrap(),
                "RSA-{bits} {alg:?}: sign_message differs from sign_digest"
            );
            assert_eq!(
                by_message,
                pkeyutl_sign(dir.path(), &key, alg, &d),
                "RSA-{bits} {alg:?}: differs from openssl pkeyutl -sign"
            );
        }
    }
}

#[test]
fn rsa_keys_and_digests_ring_refuses_still_sign_messages() {
    // ring signs neither SHA-1 nor keys under 2048 or over 4096 bits: those go through the rsa
    // crate, with the same result as OpenSSL.
    require_openssl!();
    let dir = tempdir();
    let all = [
        DigestAlg::Sha1,
        DigestAlg::Sha256,
        DigestAlg::Sha384,
        DigestAlg::Sha512,
    ];
    let cases = [
        (pki("leaf-weak1024.key"), 1024, &all[..]),
        (genrsa(dir.path(), 4608), 4608, &[DigestAlg::Sha256][..]),
        (pki("leaf-rsa.key"), 2048, &[DigestAlg::Sha1][..]),
    ];
    for (key, bits, algs) in cases {
        let signer = load_ok(&key);
        assert_eq!(signer.kind(), KeyKind::Rsa { bits });
        assert_eq!(
            signer.signs_messages_with_ring(),
            bits == 2048,
            "RSA-{bits}"
        );
        for &alg in algs {
            let d = digest(alg, MESSAGE).unwrap();
            let by_message = signer
                .sign_message(alg, MESSAGE)
                .unwrap_or_else(|e| panic!("RSA-{bits} {alg:?}: {e}"));
            assert_eq!(by_message, signer.sign_digest(alg, &d).unwrap());
            assert_eq!(
                by_message,
                pkeyutl_sign(dir.path(), &key, alg, &d),
                "RSA-{bits} {alg:?}: differs from openssl pkeyutl -sign"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Encrypted keys
// ---------------------------------------------------------------------------------------------

#[test]
fn encrypted_key_needs_the_right_passphrase() {
    require_openssl!();
    let dir = tempdir();
    let pass = "correct horse battery staple";
    let passout = format!("pass:{pass}");
    let mut files: Vec<(PathBuf, KeyKind)> = Vec::new();
    // `openssl pkcs8 -topk8 -v2 aes-256-cbc`, PEM and DER, RSA and P-384 (from SEC1).
    for (key, kind) in [
        ("leaf-rsa.key", KeyKind::Rsa { bits: 2048 }),
        ("leaf-ecdsa384.key", KeyKind::EcdsaP384),
    ] {
        for form in ["PEM", "DER"] {
            let path = dir.path().join(format!("{key}.enc.{form}"));
            openssl(&[
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-passout",
                &passout,
                "-in",
                s(&pki(key)),
                "-outform",
                form,
                "-out",
                s(&path),
            ]);
            files.push((path, kind));
        }
    }
    // OpenSSL 3's default encryption for a new key, and scrypt.
    let genpkey = dir.path().join("genpkey-aes256.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-aes256",
        "-pass",
        &passout,
        "-out",
        s(&genpkey),
    ]);
    files.push((genpkey, KeyKind::EcdsaP256));
    let scrypt = dir.path().join("scrypt.pem");
    openssl(&[
        "pkcs8",
        "-topk8",
        "-scrypt",
        "-passout",
        &passout,
        "-in",
        s(&pki("leaf-ecdsa.key")),
        "-out",
        s(&scrypt),
    ]);
    files.push((scrypt, KeyKind::EcdsaP256));

    for (path, kind) in &files {
        let name = path.display().to_string();
        let bytes = read(path);
        if name.ends_with("PEM") || name.ends_with(".pem") {
            assert!(
                bytes.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"),
                "{name}"
            );
        }
        let signer = load_private_key(&bytes, Some(pass.as_bytes()), &name)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(signer.kind(), *kind, "{name}");
        let d = digest(DigestAlg::Sha256, MESSAGE).unwrap();
        let sig = signer.sign_digest(DigestAlg::Sha256, &d).unwrap();
        verify_prehashed(signer.public_key(), DigestAlg::Sha256, &d, &sig, false).unwrap();

        let missing = load_private_key(&bytes, None, &name).unwrap_err();
        assert_eq!(
            missing,
            KeyError::PassphraseRequired {
                origin: name.clone()
            }
        );
        let msg = missing.to_string();
        assert!(
            msg.contains(&name)
                && msg.contains("--passphrase-file")
                && msg.contains("BINGATE_KEY_PASSPHRASE"),
            "{msg}"
        );
        // scrypt at OpenSSL's default cost takes seconds in a debug build: one wrong try.
        let wrongs: &[&[u8]] = if name.contains("scrypt") {
            &[b"correct horse battery stapler"]
        } else {
            &[b"correct horse battery stapler", b"", b"x"]
        };
        for &wrong in wrongs {
            assert_eq!(
                load_private_key(&bytes, Some(wrong), &name).unwrap_err(),
                KeyError::WrongPassphrase {
                    origin: name.clone()
                },
                "{name} with {:?}",
                String::from_utf8_lossy(wrong)
            );
        }
    }
    // The key decrypted from the RSA file is the corpus key.
    let (rsa_enc, _) = &files[0];
    let signer = load(rsa_enc, Some(pass.as_bytes())).unwrap();
    check_key_matches(&signer, &cert("leaf-rsa.pem")).unwrap();
}

#[test]
fn wrong_passphrase_never_panics_or_loads() {
    // Many wrong passphrases: about one in 256 passes the CBC padding check, and what it
    // decrypts to must still be reported as a wrong passphrase.
    require_openssl!();
    let dir = tempdir();
    let path = dir.path().join("enc.pem");
    openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-128-cbc",
        "-iter",
        "1",
        "-passout",
        "pass:right",
        "-in",
        s(&pki("leaf-ecdsa.key")),
        "-out",
        s(&path),
    ]);
    let bytes = read(&path);
    for i in 0..2000u32 {
        let wrong = format!("wrong-{i}");
        let err = load_private_key(&bytes, Some(wrong.as_bytes()), "enc.pem").unwrap_err();
        assert_eq!(
            err,
            KeyError::WrongPassphrase {
                origin: "enc.pem".into()
            },
            "{wrong}"
        );
    }
    assert!(load_private_key(&bytes, Some(b"right"), "enc.pem").is_ok());
}

#[test]
fn unsupported_encryption_schemes_are_named() {
    require_openssl!();
    let dir = tempdir();
    let key = pki("leaf-rsa.key");
    // (file, openssl arguments, a name the error must mention)
    let cases: [(&str, Vec<&str>, &str); 4] = [
        (
            "pbes2-des3.pem",
            vec!["pkcs8", "-topk8", "-v2", "des3"],
            "des-ede3-cbc",
        ),
        (
            "pbes2-sha1prf.pem",
            vec![
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-v2prf",
                "hmacWithSHA1",
            ],
            "hmacWithSHA1",
        ),
        (
            "pkcs12-pbe.pem",
            vec!["pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES"],
            "pbeWithSHAAnd3-KeyTripleDES-CBC",
        ),
        (
            "legacy.pem",
            vec!["rsa", "-traditional", "-aes256"],
            "Proc-Type",
        ),
    ];
    for (name, args, scheme_name) in cases {
        let path = dir.path().join(name);
        let mut full = args.clone();
        full.extend(["-passout", "pass:pw", "-in", s(&key), "-out", s(&path)]);
        openssl(&full);
        // With or without a passphrase: the scheme is the problem, and the message says which.
        for pass in [Some(&b"pw"[..]), None] {
            let err = load(&path, pass).unwrap_err();
            let KeyError::UnsupportedEncryption { origin, scheme } = &err else {
                panic!("{name}: {err:?}");
            };
            assert_eq!(origin, &path.display().to_string());
            assert!(scheme.contains(scheme_name), "{name}: {scheme}");
            let msg = err.to_string();
            assert!(msg.contains(name) && msg.contains("openssl pkcs8"), "{msg}");
        }
    }
}

#[test]
fn kdf_budgets_bound_hostile_encrypted_keys() {
    require_openssl!();
    let dir = tempdir();
    let key = s(&pki("leaf-ecdsa.key")).to_owned();
    let iter = dir.path().join("iter.pem");
    openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-iter",
        "2000001",
        "-passout",
        "pass:pw",
        "-in",
        &key,
        "-out",
        s(&iter),
    ]);
    let err = load(&iter, Some(b"pw")).unwrap_err();
    assert!(
        matches!(
            err,
            KeyError::Budget {
                value: 2_000_001,
                limit: 2_000_000,
                ..
            }
        ),
        "{err:?}"
    );
    // scrypt with N = 2^20, r = 8: 1 GiB; refused before any allocation.
    let scrypt = dir.path().join("scrypt.pem");
    let out = openssl_output(&[
        "pkcs8",
        "-topk8",
        "-scrypt",
        "-scrypt_N",
        "1048576",
        "-scrypt_r",
        "8",
        "-scrypt_p",
        "1",
        "-passout",
        "pass:pw",
        "-in",
        &key,
        "-out",
        s(&scrypt),
    ]);
    if out.status.success() {
        let err = load(&scrypt, Some(b"pw")).unwrap_err();
        assert!(matches!(err, KeyError::Budget { .. }), "{err:?}");
    } else {
        // OpenSSL's own 32 MiB limit stops it from writing the file; nothing to check.
        eprintln!(
            "openssl refused scrypt N=2^20: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Unsupported keys and hostile bytes
// ---------------------------------------------------------------------------------------------

#[test]
fn unsupported_key_algorithms_are_named() {
    require_openssl!();
    let dir = tempdir();
    let make = |name: &str, args: &[&str]| {
        let path = dir.path().join(name);
        let mut full = args.to_vec();
        full.extend(["-out", s(&path)]);
        openssl(&full);
        path
    };
    let dsa_params = make(
        "dsa-params.pem",
        &[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DSA",
            "-pkeyopt",
            "dsa_paramgen_bits:1024",
        ],
    );
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            make("ed25519.pem", &["genpkey", "-algorithm", "ed25519"]),
            "Ed25519",
        ),
        (
            make("ed448.pem", &["genpkey", "-algorithm", "ed448"]),
            "Ed448",
        ),
        (
            make(
                "p521-pkcs8.pem",
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-521",
                ],
            ),
            "P-521",
        ),
        (
            make(
                "p521-sec1.pem",
                &["ecparam", "-name", "secp521r1", "-genkey"],
            ),
            "P-521",
        ),
        (
            make(
                "p521-sec1.der",
                &[
                    "ecparam",
                    "-name",
                    "secp521r1",
                    "-genkey",
                    "-noout",
                    "-outform",
                    "DER",
                ],
            ),
            "P-521",
        ),
        (
            make(
                "secp256k1.pem",
                &["ecparam", "-name", "secp256k1", "-genkey"],
            ),
            "secp256k1",
        ),
        (
            make(
                "explicit.pem",
                &[
                    "ec",
                    "-in",
                    s(&pki("leaf-ecdsa.key")),
                    "-param_enc",
                    "explicit",
                ],
            ),
            "explicit curve parameters",
        ),
        (
            make(
                "explicit-pkcs8.pem",
                &[
                    "pkcs8",
                    "-topk8",
                    "-nocrypt",
                    "-in",
                    s(&dir.path().join("explicit.pem")),
                ],
            ),
            "explicit curve parameters",
        ),
        (
            make(
                "rsa-pss.pem",
                &[
                    "genpkey",
                    "-algorithm",
                    "RSA-PSS",
                    "-pkeyopt",
                    "rsa_keygen_bits:1024",
                ],
            ),
            "RSASSA-PSS",
        ),
        (
            make("dsa.pem", &["genpkey", "-paramfile", s(&dsa_params)]),
            "DSA",
        ),
        (
            make(
                "dsa-traditional.pem",
                &[
                    "pkey",
                    "-in",
                    s(&dir.path().join("dsa.pem")),
                    "-traditional",
                ],
            ),
            "DSA",
        ),
        (
            make(
                "dsa-traditional.der",
                &[
                    "dsa",
                    "-in",
                    s(&dir.path().join("dsa.pem")),
                    "-outform",
                    "DER",
                ],
            ),
            "DSA",
        ),
    ];
    for (path, expected) in cases {
        let err = load(&path, None).unwrap_err();
        let KeyError::UnsupportedAlgorithm { origin, algorithm } = &err else {
            panic!("{}: {err:?}", path.display());
        };
        assert_eq!(origin, &path.display().to_string());
        assert!(
            algorithm.contains(expected),
            "{}: {algorithm}",
            path.display()
        );
        let msg = err.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
    }
}

#[test]
fn garbage_empty_and_non_keys_are_typed_errors() {
    let not_a_key = |bytes: &[u8], needle: &str| {
        let err = load_private_key(bytes, None, "in.key").unwrap_err();
        match &err {
            KeyError::NotAKey { origin, found } => {
                assert_eq!(origin, "in.key");
                assert!(found.contains(needle), "{found} (wanted {needle})");
            }
            other => panic!("{other:?} (wanted NotAKey with {needle})"),
        }
        assert!(err.to_string().starts_with("in.key: "), "{err}");
    };
    not_a_key(b"", "empty");
    not_a_key(b"\n  \n", "whitespace");
    not_a_key(b"\x00\x01\x02 this is not a key \xff", "neither PEM nor");
    not_a_key(&[0x30, 0x03, 0x02, 0x01, 0x00], "not a private key");
    not_a_key(&read(pki("leaf-rsa.pem")), "a PEM CERTIFICATE block");
    not_a_key(&read(pki("leaf-rsa-chain.pem")), "2 PEM CERTIFICATE blocks");
    not_a_key(&read(pki("intermediate.crl.pem")), "X509 CRL");
    let cert_der = cert("leaf-rsa.pem").to_der().unwrap();
    not_a_key(&cert_der, "a certificate");
    let spki_der = cert("leaf-ecdsa.pem")
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    not_a_key(&spki_der, "a public key");
    not_a_key(b"-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", "FOO");

    let malformed = |bytes: &[u8]| {
        let err = load_private_key(bytes, None, "in.key").unwrap_err();
        assert!(
            matches!(&err, KeyError::Malformed { origin, .. } if origin == "in.key"),
            "{err:?}"
        );
    };
    malformed(b"-----BEGIN PRIVATE KEY-----\nMIIB\n");
    malformed(b"-----BEGIN PRIVATE KEY-----\n!!!! not base64 !!!!\n-----END PRIVATE KEY-----\n");
    // PKCS#8 naming RSA around bytes that are not an RSAPrivateKey.
    let mut pkcs8 = vec![0x30, 0x17, 0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09];
    pkcs8.extend([
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ]);
    pkcs8.extend([0x04, 0x03, 0x01, 0x02, 0x03]);
    malformed(&pkcs8);
    malformed(b"-----BEGIN PRIVATE KEY");

    // More PEM blocks than the budget allows: refused, not scanned forever.
    let many = "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n".repeat(1025);
    for err in [
        load_private_key(many.as_bytes(), None, "many.pem").unwrap_err(),
        load_certificates(many.as_bytes(), "many.pem").unwrap_err(),
    ] {
        assert!(
            matches!(
                err,
                KeyError::Budget {
                    value: 1025,
                    limit: 1024,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    let openssh = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n\
                    -----END OPENSSH PRIVATE KEY-----\n";
    assert!(matches!(
        load_private_key(openssh, None, "id_ed25519").unwrap_err(),
        KeyError::UnsupportedFormat { .. }
    ));
}

/// The DER of a corpus PEM key.
fn key_der(name: &str) -> Vec<u8> {
    let text = String::from_utf8(read(pki(name))).unwrap();
    let (_, der) = der::pem::decode_vec(text.as_bytes()).unwrap();
    der
}

#[test]
fn truncated_and_bit_flipped_keys_never_panic() {
    // Every prefix of each corpus key, and a bit flip in every byte of the P-256 and P-384 keys:
    // an error or (for flips in unchecked fields) a key, never a panic.
    for name in ["leaf-rsa.key", "leaf-ecdsa.key", "leaf-ecdsa384.key"] {
        let der = key_der(name);
        for len in 0..der.len() {
            assert!(
                load_private_key(&der[..len], None, name).is_err(),
                "{name}: the {len}-byte prefix loads"
            );
        }
    }
    for name in ["leaf-ecdsa.key", "leaf-ecdsa384.key"] {
        let der = key_der(name);
        let original = load_private_key(&der, None, name).unwrap();
        for i in 0..der.len() {
            // One bit per byte, a different one each time (every bit of every byte costs
            // 2,000 scalar multiplications, too slow for a debug build).
            let bit = i % 8;
            let mut flipped = der.clone();
            flipped[i] ^= 1 << bit;
            if let Ok(signer) = load_private_key(&flipped, None, name) {
                // A flip the parser cannot notice (the version, say) still leaves a usable
                // key; one in the secret must have been caught by the embedded public key
                // check.
                assert_eq!(
                    signer.public_key(),
                    original.public_key(),
                    "{name} {i}:{bit}"
                );
            }
        }
    }
    // RSA: flips in the primes and exponents must be caught by key validation.
    let der = key_der("leaf-rsa.key");
    let original = load_private_key(&der, None, "rsa").unwrap();
    let d = digest(DigestAlg::Sha256, MESSAGE).unwrap();
    let good = original.sign_digest(DigestAlg::Sha256, &d).unwrap();
    for i in (0..der.len()).step_by(13) {
        let mut flipped = der.clone();
        flipped[i] ^= 0x10;
        if let Ok(signer) = load_private_key(&flipped, None, "rsa") {
            assert_eq!(
                signer.sign_digest(DigestAlg::Sha256, &d).unwrap(),
                good,
                "byte {i}: a damaged RSA key signed differently"
            );
        }
    }
}

#[test]
fn oversized_rsa_modulus_is_refused_before_any_arithmetic() {
    // RSAPrivateKey with a 16,392-bit modulus (2,049 bytes) and tiny other fields: refused on
    // its size, not computed with.
    let mut body = Vec::new();
    body.extend([0x02, 0x01, 0x00]); // version 0
    let mut n = vec![0x02, 0x82, 0x08, 0x02, 0x00];
    n.extend(std::iter::repeat_n(0xff, 2049));
    body.extend(n);
    for _ in 0..7 {
        body.extend([0x02, 0x01, 0x03]);
    }
    let len = u16::try_from(body.len()).unwrap().to_be_bytes();
    let mut der = vec![0x30, 0x82, len[0], len[1]];
    der.extend(body);
    let err = load_private_key(&der, None, "huge.der").unwrap_err();
    assert!(
        matches!(
            err,
            KeyError::Budget {
                value: 16_392,
                limit: 16_384,
                ..
            }
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Key and certificate
// ---------------------------------------------------------------------------------------------

#[test]
fn matching_key_and_certificate_pass() {
    for (key, certificate, _) in PAIRS {
        check_key_matches(&load_ok(&pki(key)), &cert(certificate))
            .unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    check_key_matches(&load_ok(&pki("root.key")), &cert("root.pem")).unwrap();
}

#[test]
fn key_certificate_mismatch_is_refused() {
    let rsa = load_ok(&pki("leaf-rsa.key"));
    let p256 = load_ok(&pki("leaf-ecdsa.key"));
    let p384 = load_ok(&pki("leaf-ecdsa384.key"));
    let cases: [(&dyn Signer, &str, &str, &str); 6] = [
        (&rsa, "leaf-ecdsa.pem", "RSA-2048", "ECDSA P-256"),
        (&rsa, "root.pem", "RSA-2048", "RSA-3072"),
        (&rsa, "leaf-expired.pem", "RSA-2048", "RSA-2048"),
        (&p256, "leaf-rsa.pem", "ECDSA P-256", "RSA-2048"),
        (&p256, "leaf-ecdsa384.pem", "ECDSA P-256", "ECDSA P-384"),
        (&p384, "leaf-ecdsa.pem", "ECDSA P-384", "ECDSA P-256"),
    ];
    for (signer, certificate, key, their_key) in cases {
        let c = cert(certificate);
        let err = check_key_matches(signer, &c).unwrap_err();
        let subject = c.tbs_certificate.subject.to_string();
        assert_eq!(
            err,
            KeyError::KeyMismatch {
                key: key.to_owned(),
                certificate_subject: subject.clone(),
                certificate_key: their_key.to_owned(),
            },
            "{certificate}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("the key ({key}) does not match the certificate"))
                && msg.contains(&subject)
                && msg.ends_with("refusing to sign"),
            "{msg}"
        );
    }
    let c = cert("leaf-ecdsa.pem");
    assert!(
        c.tbs_certificate
            .subject
            .to_string()
            .contains("CN=Bingate Test signer ECDSA P-256")
    );
}

#[test]
fn certificate_with_compressed_point_matches() {
    require_openssl!();
    // A self-signed certificate whose SubjectPublicKeyInfo holds the compressed point of the
    // corpus P-256 key: the same key, different bytes.
    let dir = tempdir();
    let pubkey = dir.path().join("pub-compressed.pem");
    openssl(&[
        "ec",
        "-in",
        s(&pki("leaf-ecdsa.key")),
        "-pubout",
        "-conv_form",
        "compressed",
        "-out",
        s(&pubkey),
    ]);
    let certificate = dir.path().join("compressed.pem");
    let made = openssl_output(&[
        "x509",
        "-new",
        "-subj",
        "/CN=compressed",
        "-key",
        s(&pki("leaf-ecdsa.key")),
        "-force_pubkey",
        s(&pubkey),
        "-days",
        "1",
        "-out",
        s(&certificate),
    ]);
    if !made.status.success() {
        // `x509 -new` arrived in OpenSSL 3.0; older versions cannot make this certificate.
        interop::skip(format_args!(
            "openssl cannot make the certificate: {}",
            String::from_utf8_lossy(&made.stderr)
        ));
        return;
    }
    let c = load_certificates(&read(&certificate), "compressed.pem")
        .unwrap()
        .remove(0);
    let point = c
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    assert_eq!(point.len(), 33, "the certificate's point is not compressed");
    check_key_matches(&load_ok(&pki("leaf-ecdsa.key")), &c).unwrap();
    assert!(matches!(
        check_key_matches(&load_ok(&pki("leaf-ecdsa384.key")), &c),
        Err(KeyError::KeyMismatch { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

#[test]
fn load_certificates_reads_a_pem_chain() {
    let path = pki("leaf-rsa-chain.pem");
    let certs = load_certificates(&read(&path), &path.display().to_string()).unwrap();
    let subjects: Vec<String> = certs
        .iter()
        .map(|c| c.tbs_certificate.subject.to_string())
        .collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(
        subjects[0].contains("CN=Bingate Test signer RSA"),
        "{subjects:?}"
    );
    assert!(
        subjects[1].contains("CN=Bingate Test code signing CA"),
        "{subjects:?}"
    );
}

#[test]
fn load_certificates_reads_der() {
    let pem = cert("leaf-ecdsa.pem");
    let der = pem.to_der().unwrap();
    let certs = load_certificates(&der, "leaf.cer").unwrap();
    assert_eq!(certs, vec![pem]);
}

#[test]
fn load_certificates_reads_openssl_der() {
    require_openssl!();
    let dir = tempdir();
    let path = dir.path().join("leaf.cer");
    openssl(&[
        "x509",
        "-in",
        s(&pki("leaf-rsa.pem")),
        "-outform",
        "DER",
        "-out",
        s(&path),
    ]);
    let certs = load_certificates(&read(&path), "leaf.cer").unwrap();
    assert_eq!(certs, vec![cert("leaf-rsa.pem")]);
}

#[test]
fn load_certificates_refuses_what_is_not_a_certificate() {
    for bytes in [&b""[..], b"\n", &read(pki("leaf-rsa.key"))] {
        assert_eq!(
            load_certificates(bytes, "in.pem").unwrap_err(),
            KeyError::NoCertificate {
                origin: "in.pem".into()
            }
        );
    }
    // DER that is not a certificate.
    assert!(matches!(
        load_certificates(&key_der("leaf-ecdsa.key"), "in.cer").unwrap_err(),
        KeyError::BadCertificate { index: 0, .. }
    ));
    // A damaged second certificate is named by its position.
    let chain = String::from_utf8(read(pki("leaf-rsa-chain.pem"))).unwrap();
    let second = chain.rfind("-----BEGIN CERTIFICATE-----").unwrap();
    let mut damaged = chain.clone();
    let at = second + "-----BEGIN CERTIFICATE-----\n".len();
    damaged.replace_range(at..at + 4, "AAAA");
    let err = load_certificates(damaged.as_bytes(), "chain.pem").unwrap_err();
    assert!(
        matches!(&err, KeyError::BadCertificate { origin, index: 1, .. } if origin == "chain.pem"),
        "{err:?}"
    );
    assert!(err.to_string().contains("certificate #2"), "{err}");
}
