//! The signer side of a CMS SignedData, for every format: the SignerInfo check (messageDigest
//! against the content, the signature over the signed attributes with the signer's key), the
//! report's view of a signer certificate, and the digest check every format reports.

use der::{Decode, Encode};
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use crate::hash::{DigestAlg, digest as hash};
use crate::read::hex;

/// The image digest check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestCheck {
    pub algorithm: crate::hash::Algorithm,
    pub signed: String,
    /// `None` when the algorithm is not supported (MD5) or the layout does not fit the file.
    pub computed: Option<String>,
    #[serde(rename = "match")]
    pub matches: bool,
    /// Why no image hash could be computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The signer certificate, as the signature's certificate bag presents it (not yet validated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignerCert {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: crate::time::Time,
    pub not_after: crate::time::Time,
    pub sha256: String,
    pub key_algorithm: KeyAlgorithm,
    /// Extended key usages (dotted OIDs), in certificate order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ekus: Vec<String>,
    /// Certificate policies (dotted OIDs), e.g. `2.23.140.1.3` for EV code signing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// EV subject attributes present (businessCategory, jurisdictionCountryName…), by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ev_subject_attributes: Vec<String>,
}

/// The CMS SignerInfo checks: the messageDigest attribute against the hash of the encapsulated
/// SpcIndirectDataContent, and the signer's signature over the DER SET OF signed attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CmsCheck {
    pub message_digest_match: bool,
    pub signature_valid: bool,
    /// The SignerInfo, SignedData and SpcIndirectDataContent name the same digest algorithm.
    pub algorithms_consistent: bool,
    /// Why a check failed, when one did.
    pub error: Option<String>,
}

/// The public-key algorithm of a signer certificate, as reports name it: `rsa`, `rsa-pss`, `ec`,
/// or the dotted OID of anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAlgorithm {
    Rsa,
    RsaPss,
    /// id-ecPublicKey (ECDSA keys of any curve).
    Ec,
    /// Any other algorithm, by its dotted OID.
    Other(String),
}

impl KeyAlgorithm {
    pub fn from_oid(oid: &str) -> KeyAlgorithm {
        match oid {
            "1.2.840.113549.1.1.1" => KeyAlgorithm::Rsa,
            "1.2.840.10045.2.1" => KeyAlgorithm::Ec,
            "1.2.840.113549.1.1.10" => KeyAlgorithm::RsaPss,
            other => KeyAlgorithm::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            KeyAlgorithm::Rsa => "rsa",
            KeyAlgorithm::RsaPss => "rsa-pss",
            KeyAlgorithm::Ec => "ec",
            KeyAlgorithm::Other(oid) => oid,
        }
    }
}

impl std::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for KeyAlgorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

const MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";

/// Checks a CMS SignerInfo: its messageDigest attribute against the hash of `content` and its
/// signature (over the DER SET OF signed attributes, or over `content` when there are none)
/// with `cert`'s key. Shared by signatures, RFC 3161 tokens and legacy countersignatures.
pub fn verify_signer_info(
    si: &cms::signed_data::SignerInfo,
    content: &[u8],
    cert: Option<&Certificate>,
) -> CmsCheck {
    let signer_alg = si.digest_alg.oid.to_string();
    let mut check = CmsCheck {
        message_digest_match: false,
        signature_valid: false,
        algorithms_consistent: true,
        error: None,
    };
    let Some(alg) = DigestAlg::from_oid(&signer_alg) else {
        check.error = Some(format!(
            "unsupported SignerInfo digest algorithm {signer_alg}"
        ));
        return check;
    };
    let Some(content_hash) = hash(alg, content) else {
        check.error = Some(format!("{} is not accepted for signatures", alg.name()));
        return check;
    };
    let (signed_bytes_hash, md_ok) = match &si.signed_attrs {
        Some(attrs) => {
            let md = attrs
                .iter()
                .find(|a| a.oid.to_string() == MESSAGE_DIGEST)
                .and_then(|a| a.values.iter().next())
                .and_then(|v| v.decode_as::<der::asn1::OctetString>().ok());
            let md_ok = md
                .as_ref()
                .is_some_and(|m| m.as_bytes() == content_hash.as_slice());
            let der = match attrs.to_der() {
                Ok(d) => d,
                Err(e) => {
                    check.error = Some(format!("signed attributes do not re-encode: {e}"));
                    return check;
                }
            };
            (hash(alg, &der), md_ok)
        }
        // Without signed attributes the signature covers the content itself.
        None => (Some(content_hash), true),
    };
    check.message_digest_match = md_ok;
    if !md_ok {
        check.error = Some("the messageDigest attribute does not match the signed content".into());
    }
    let Some(cert) = cert else {
        check.error = Some("no certificate in the signature matches the SignerInfo".into());
        return check;
    };
    let pss = si.signature_algorithm.oid.to_string() == RSASSA_PSS;
    match signed_bytes_hash {
        Some(h) => match crate::pki::keys::verify_prehashed(
            &cert.tbs_certificate.subject_public_key_info,
            alg,
            &h,
            si.signature.as_bytes(),
            pss,
        ) {
            Ok(()) => check.signature_valid = true,
            Err(e) => check.error = Some(e.to_string()),
        },
        None => check.error = Some("unsupported digest".into()),
    }
    check
}

/// The report's view of a signer certificate (every signature format uses it).
pub fn signer_from_cert(cert: &Certificate) -> Option<SignerCert> {
    let tbs = &cert.tbs_certificate;
    let der = cert.to_der().ok()?;
    Some(SignerCert {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        serial: hex(tbs.serial_number.as_bytes()),
        not_before: crate::time::Time::from_x509(tbs.validity.not_before),
        not_after: crate::time::Time::from_x509(tbs.validity.not_after),
        sha256: hex(&Sha256::digest(&der)),
        key_algorithm: KeyAlgorithm::from_oid(
            &tbs.subject_public_key_info.algorithm.oid.to_string(),
        ),
        ekus: crate::pki::ext::eku(cert).oids().to_vec(),
        policies: extension_oids(cert, EXT_POLICIES, |v| {
            x509_cert::ext::pkix::CertificatePolicies::from_der(v).map(|p| {
                p.0.iter()
                    .map(|i| i.policy_identifier.to_string())
                    .collect()
            })
        }),
        ev_subject_attributes: tbs
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .filter_map(|atv| {
                let oid = atv.oid.to_string();
                EV_SUBJECT_ATTRIBUTES
                    .iter()
                    .find(|(o, _)| *o == oid)
                    .map(|(_, name)| (*name).to_owned())
            })
            .collect(),
    })
}

const EXT_POLICIES: &str = "2.5.29.32";

/// Subject attributes the CA/B Forum EV guidelines require (§9.2): businessCategory and the
/// jurisdiction of incorporation.
const EV_SUBJECT_ATTRIBUTES: &[(&str, &str)] = &[
    ("2.5.4.15", "businessCategory"),
    ("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionLocalityName"),
    (
        "1.3.6.1.4.1.311.60.2.1.2",
        "jurisdictionStateOrProvinceName",
    ),
    ("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionCountryName"),
];

/// The OIDs an extension lists, decoded with `decode`; empty when absent or unreadable.
fn extension_oids(
    cert: &Certificate,
    id: &str,
    decode: impl Fn(&[u8]) -> der::Result<Vec<String>>,
) -> Vec<String> {
    crate::pki::ext::extension(cert, id)
        .and_then(|v| decode(v).ok())
        .unwrap_or_default()
}
