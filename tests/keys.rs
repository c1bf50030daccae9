//! The signature primitives against OpenSSL: RSA-PSS (which osslsigncode cannot make) verified
//! over a digest signed by `openssl dgst -sigopt rsa_padding_mode:pss`.

mod common;

use std::process::Command;

use bingate::hash::DigestAlg;
use common::{interop, paths};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

#[test]
fn rsa_pss_signatures_from_openssl_verify() {
    if !interop::require("openssl") {
        return;
    }
    let dir = paths::tempdir();
    let data = dir.path().join("data");
    std::fs::write(&data, b"bingate RSA-PSS test").unwrap();
    let key = paths::pki("leaf-rsa.key");
    let cert = Certificate::load_pem_chain(&paths::read(paths::pki("leaf-rsa.pem"))).unwrap();
    let spki = &cert[0].tbs_certificate.subject_public_key_info;
    let digest = Sha256::digest(b"bingate RSA-PSS test").to_vec();
    for saltlen in ["digest", "max"] {
        let sig = dir.path().join(format!("sig-{saltlen}"));
        let st = Command::new("openssl")
            .args([
                "dgst",
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
            ])
            .arg(format!("rsa_pss_saltlen:{saltlen}"))
            .arg("-sign")
            .arg(&key)
            .arg("-out")
            .arg(&sig)
            .arg(&data)
            .status()
            .unwrap();
        assert!(st.success());
        let sig = std::fs::read(&sig).unwrap();
        bingate::pki::keys::verify_prehashed(spki, DigestAlg::Sha256, &digest, &sig, true)
            .unwrap_or_else(|e| panic!("salt length {saltlen}: {e}"));
        // The same bytes are not a PKCS#1 v1.5 signature, and a different digest fails.
        assert!(
            bingate::pki::keys::verify_prehashed(spki, DigestAlg::Sha256, &digest, &sig, false)
                .is_err()
        );
        let mut other = digest.clone();
        other[0] ^= 1;
        assert!(
            bingate::pki::keys::verify_prehashed(spki, DigestAlg::Sha256, &other, &sig, true)
                .is_err()
        );
    }
}
