//! PKCS#12 key files (`src/sign/pkcs12.rs`): every fixture in `corpus/pki/p12` (made by its
//! `make.sh` from the test PKI) loads, and yields the same key and certificate as the PEM files it
//! was made from; wrong passwords, damaged files and budget-breaking files are typed errors,
//! never panics. Files made by `openssl` at test time load too (skipped without `openssl` unless
//! `BINGATE_REQUIRE_INTEROP=1`).

// Tests and examples report to the person running them.
#![allow(clippy::disallowed_macros)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bingate::cms::Signer;
use bingate::hash::{DigestAlg, digest};
use bingate::pki::keys::verify_prehashed;
use bingate::sign::key::{LocalSigner, load_certificates, load_private_key};
use bingate::sign::pkcs12::{
    MAX_PKCS12_ITERATIONS, Pkcs12Contents, Pkcs12Error, load, looks_like_pkcs12,
};
use common::interop;
use common::paths::{pki, read, tempdir};
use der::Encode;
use x509_cert::Certificate;

const PASSWORD: &[u8] = b"test";
const MESSAGE: &[u8] = b"bingate pkcs12 test message";

/// (fixture, PEM key, PEM certificate, password) for every fixture with a key.
const FIXTURES: [(&str, &str, &str, &str); 9] = [
    ("rsa-aes256.p12", "leaf-rsa.key", "leaf-rsa.pem", "test"),
    ("rsa-legacy.p12", "leaf-rsa.key", "leaf-rsa.pem", "test"),
    ("rsa-windows.p12", "leaf-rsa.key", "leaf-rsa.pem", "test"),
    ("rsa-rc2-128.p12", "leaf-rsa.key", "leaf-rsa.pem", "test"),
    ("rsa-chain.p12", "leaf-rsa.key", "leaf-rsa.pem", "test"),
    ("rsa-nomac.p12", "leaf-rsa.key", "leaf-rsa.pem", "test"),
    ("rsa-empty-password.p12", "leaf-rsa.key", "leaf-rsa.pem", ""),
    ("ecdsa-p256.p12", "leaf-ecdsa.key", "leaf-ecdsa.pem", "test"),
    (
        "ecdsa-p384-legacy.p12",
        "leaf-ecdsa384.key",
        "leaf-ecdsa384.pem",
        "test",
    ),
];

fn p12(name: &str) -> Vec<u8> {
    read(pki(Path::new("p12").join(name)))
}

fn pem_key(name: &str) -> LocalSigner {
    let path = pki(name);
    load_private_key(&read(&path), None, &path.display().to_string())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn pem_cert(name: &str) -> Certificate {
    let path = pki(name);
    load_certificates(&read(&path), &path.display().to_string())
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
}

fn load_ok(bytes: &[u8], password: &[u8], origin: &str) -> Pkcs12Contents {
    load(bytes, password, origin).unwrap_or_else(|e| panic!("{e}"))
}

/// The key of `got` is `key`'s: same public key, and (RSA PKCS#1 v1.5 being deterministic) the
/// same signature of a fixed digest; ECDSA signatures are checked against the PEM public key.
fn assert_same_key(got: &LocalSigner, key: &LocalSigner, what: &str) {
    assert_eq!(got.kind(), key.kind(), "{what}");
    assert_eq!(got.public_key(), key.public_key(), "{what}");
    let d = digest(DigestAlg::Sha256, MESSAGE).unwrap();
    let mine = got.sign_digest(DigestAlg::Sha256, &d).unwrap();
    verify_prehashed(key.public_key(), DigestAlg::Sha256, &d, &mine, false)
        .unwrap_or_else(|e| panic!("{what}: {e:?}"));
    if matches!(key.kind(), bingate::cms::KeyKind::Rsa { .. }) {
        let theirs = key.sign_digest(DigestAlg::Sha256, &d).unwrap();
        assert_eq!(mine, theirs, "{what}: RSA PKCS#1 v1.5 signatures differ");
    }
}

#[test]
fn every_fixture_yields_the_pem_key_and_certificate() {
    for (file, key, cert, password) in FIXTURES {
        let bytes = p12(file);
        assert!(looks_like_pkcs12(&bytes), "{file}");
        let got = load_ok(&bytes, password.as_bytes(), file);
        assert_same_key(&got.signer, &pem_key(key), file);
        let expected = pem_cert(cert).to_der().unwrap();
        let cert = got.cert.unwrap_or_else(|| panic!("{file}: no certificate"));
        assert_eq!(cert.to_der().unwrap(), expected, "{file}");
    }
}

#[test]
fn chain_is_returned_issuer_first() {
    let got = load_ok(&p12("rsa-chain.p12"), PASSWORD, "rsa-chain.p12");
    let chain: Vec<Vec<u8>> = got.chain.iter().map(|c| c.to_der().unwrap()).collect();
    let expected = vec![
        pem_cert("intermediate.pem").to_der().unwrap(),
        pem_cert("root.pem").to_der().unwrap(),
    ];
    assert_eq!(chain, expected);
}

#[test]
fn wrong_password_is_the_specific_error() {
    for (file, _, _, _) in FIXTURES {
        let err = load(&p12(file), b"wrong", file).unwrap_err();
        let mac = file != "rsa-nomac.p12";
        assert_eq!(
            err,
            Pkcs12Error::WrongPassword {
                origin: file.to_owned(),
                mac
            },
            "{file}"
        );
        assert!(
            err.to_string().contains("wrong password or corrupted file"),
            "{err}"
        );
    }
}

#[test]
fn a_file_without_a_key_says_so() {
    let err = load(&p12("cert-only.p12"), PASSWORD, "cert-only.p12").unwrap_err();
    assert!(
        matches!(
            err,
            Pkcs12Error::NoKey {
                certificates: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn iteration_count_over_the_budget_is_refused_before_any_work() {
    let start = Instant::now();
    let err = load(&p12("rsa-over-budget.p12"), PASSWORD, "big").unwrap_err();
    assert!(
        matches!(
            err,
            Pkcs12Error::Budget { value: 10_000_001, limit, .. }
                if limit == u64::from(MAX_PKCS12_ITERATIONS)
        ),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = p12("rsa-legacy.p12");
    for len in 0..bytes.len() {
        assert!(
            load(&bytes[..len], PASSWORD, "truncated").is_err(),
            "truncated to {len} bytes"
        );
    }
}

#[test]
fn single_byte_flips_never_panic() {
    // MAC-protected (legacy: 3DES and RC2) and MAC-less (plain certificates, PBES2 key) files.
    for file in ["rsa-legacy.p12", "rsa-nomac.p12"] {
        let bytes = p12(file);
        let original = load_ok(&bytes, PASSWORD, file);
        // 300 positions spread over the file, each flipped with a different mask.
        let step = (bytes.len() / 300).max(1);
        for (n, pos) in (0..bytes.len()).step_by(step).enumerate() {
            let mut bad = bytes.clone();
            bad[pos] ^= 1u8 << (n % 8);
            if let Ok(got) = load(&bad, PASSWORD, file) {
                // A flip the format cannot notice (outside the MAC's reach, e.g. in the
                // unauthenticated MAC-less file's certificate signature) still gives the key.
                assert_eq!(
                    got.signer.public_key(),
                    original.signer.public_key(),
                    "{file}: flip at {pos} changed the key"
                );
            }
        }
    }
}

#[test]
fn a_flip_in_the_mac_protected_part_is_a_wrong_password_or_malformed_error() {
    let bytes = p12("rsa-aes256.p12");
    let mut bad = bytes.clone();
    // Well inside the authSafe content (the PFX header takes about 20 bytes).
    let mid = bytes.len() / 2;
    bad[mid] ^= 0x40;
    let err = load(&bad, PASSWORD, "flipped").unwrap_err();
    assert!(
        matches!(
            err,
            Pkcs12Error::WrongPassword { mac: true, .. } | Pkcs12Error::Malformed { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn pem_and_der_keys_are_not_pkcs12() {
    assert!(!looks_like_pkcs12(&read(pki("leaf-rsa.key"))));
    assert!(!looks_like_pkcs12(&read(pki("leaf-rsa.pem"))));
    let der = pem_cert("leaf-rsa.pem").to_der().unwrap();
    assert!(!looks_like_pkcs12(&der));
}

// ---------------------------------------------------------------------------------------------
// Interop: files made by openssl now
// ---------------------------------------------------------------------------------------------

#[test]
fn openssl_made_files_load_and_match() {
    if !interop::require("openssl") {
        return;
    }
    let dir = tempdir();
    let key = pki("leaf-rsa.key");
    let cert = pki("leaf-rsa.pem");
    let chain = pki("intermediate.pem");
    for (name, extra) in [
        ("default", &[][..]),
        ("legacy", &["-legacy"][..]),
        (
            "windows",
            &[
                "-legacy",
                "-keypbe",
                "PBE-SHA1-3DES",
                "-certpbe",
                "PBE-SHA1-3DES",
                "-macalg",
                "sha1",
            ][..],
        ),
    ] {
        let out = dir.path().join(format!("{name}.p12"));
        let mut args = vec![
            "pkcs12".to_owned(),
            "-export".to_owned(),
            "-inkey".to_owned(),
            key.display().to_string(),
            "-in".to_owned(),
            cert.display().to_string(),
            "-certfile".to_owned(),
            chain.display().to_string(),
            "-passout".to_owned(),
            "pass:interop pässword".to_owned(),
            "-out".to_owned(),
            out.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let status = Command::new("openssl")
            .args(&args)
            .output()
            .expect("run openssl");
        assert!(
            status.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let bytes = read(&out);
        let got = load_ok(&bytes, "interop pässword".as_bytes(), name);
        assert_same_key(&got.signer, &pem_key("leaf-rsa.key"), name);
        assert_eq!(
            got.cert.map(|c| c.to_der().unwrap()),
            Some(pem_cert("leaf-rsa.pem").to_der().unwrap()),
            "{name}"
        );
        assert_eq!(got.chain.len(), 1, "{name}");
        assert!(matches!(
            load(&bytes, b"interop password", name),
            Err(Pkcs12Error::WrongPassword { mac: true, .. })
        ));
    }
}

/// `sign elf` takes the same .pfx as `sign pe` (one key for the Windows and the Linux builds):
/// the legacy (3DES/RC2) file signs an ELF file that verifies through the test root.
#[test]
fn sign_elf_with_a_pfx() {
    let dir = common::paths::tempdir();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "test\n").unwrap();
    let out = dir.path().join("static.signed");
    let o = common::run::bingate(&[
        "sign",
        "elf",
        "--key",
        common::paths::pki("p12/rsa-legacy.p12").to_str().unwrap(),
        "--pass",
        &format!("file:{}", pw.display()),
        "--chain",
        common::paths::pki("intermediate.pem").to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        common::paths::corpus("elf")
            .join("static")
            .to_str()
            .unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = common::run::bingate(&[
        "verify",
        "--trust",
        common::paths::pki("root.pem").to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}
