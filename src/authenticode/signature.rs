//! One Authenticode signature: the signed image digest against the computed one, and the signer.
//!
//! This is the first layer of verification: it says whether the file still hashes to what was
//! signed and who claims to have signed it. The CMS signature, the chain to a trust anchor and
//! timestamps are checked by later layers; nothing here calls a file `valid`.

use authenticode::AuthenticodeSignature;
use der::Encode;
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use super::image::{DigestAlg, image_digest};
use crate::pe::SigningLayout;

/// The image digest check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestCheck {
    pub algorithm: String,
    pub signed: String,
    /// `None` when the algorithm is not supported (MD5) or the layout does not fit the file.
    pub computed: Option<String>,
    #[serde(rename = "match")]
    pub matches: bool,
}

/// The signer certificate, as the signature's certificate bag presents it (not yet validated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signer {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub sha256: String,
    pub key_algorithm: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureInfo {
    pub entry: usize,
    pub digest: DigestCheck,
    /// `None` when no certificate in the bag matches the SignerInfo's issuer and serial.
    pub signer: Option<Signer>,
    pub certificates: usize,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn key_algorithm(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.1" => "rsa".into(),
        "1.2.840.10045.2.1" => "ec".into(),
        "1.2.840.113549.1.1.10" => "rsa-pss".into(),
        other => other.to_owned(),
    }
}

fn signer_of(sig: &AuthenticodeSignature) -> Option<Signer> {
    use cms::signed_data::SignerIdentifier;
    let SignerIdentifier::IssuerAndSerialNumber(ias) = &sig.signer_info().sid else {
        return None;
    };
    let cert: &Certificate = sig.certificates().find(|c| {
        c.tbs_certificate.serial_number == ias.serial_number
            && c.tbs_certificate.issuer == ias.issuer
    })?;
    let tbs = &cert.tbs_certificate;
    let der = cert.to_der().ok()?;
    Some(Signer {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        serial: hex(tbs.serial_number.as_bytes()),
        not_before: tbs.validity.not_before.to_string(),
        not_after: tbs.validity.not_after.to_string(),
        sha256: hex(&Sha256::digest(&der)),
        key_algorithm: key_algorithm(&tbs.subject_public_key_info.algorithm.oid.to_string()),
    })
}

/// Parses one entry's DER and checks the image digest. Errors are messages for the report.
pub fn inspect(
    data: &[u8],
    layout: &SigningLayout,
    entry: usize,
    der: &[u8],
) -> Result<SignatureInfo, String> {
    let sig = crate::guard::contain("Authenticode signature", None, || {
        AuthenticodeSignature::from_bytes(der)
    })
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("malformed Authenticode signature: {e}"))?;
    let oid = sig.digest_algorithm().oid.to_string();
    let alg = DigestAlg::from_oid(&oid);
    let computed = alg.and_then(|a| image_digest(data, layout, a));
    let signed = hex(sig.digest());
    let computed_hex = computed.as_deref().map(hex);
    Ok(SignatureInfo {
        entry,
        digest: DigestCheck {
            algorithm: alg.map_or(oid, |a| a.name().to_owned()),
            matches: computed_hex.as_deref() == Some(signed.as_str()),
            signed,
            computed: computed_hex,
        },
        signer: signer_of(&sig),
        certificates: sig.certificates().count(),
    })
}
