//! One Authenticode signature: the signed image digest against the computed one, and the signer.
//!
//! This is the first layer of verification: it says whether the file still hashes to what was
//! signed and who claims to have signed it. The CMS signature, the chain to a trust anchor and
//! timestamps are checked by later layers; nothing here calls a file `valid`.

use crate::read::hex;
use authenticode::AuthenticodeSignature;
use der::{Decode, Encode};
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use super::image::image_digest;
use crate::hash::DigestAlg;
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
    /// Why no image hash could be computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureInfo {
    pub entry: usize,
    pub digest: DigestCheck,
    pub cms: CmsCheck,
    pub signer_key: Option<crate::pki::keys::KeyInfo>,
    /// RFC 3161 tokens and legacy countersignatures on this signature.
    pub timestamps: Vec<super::timestamp::Timestamp>,
    /// Timestamp attributes that could not be read.
    pub timestamp_errors: Vec<String>,
    /// Unsigned attributes other than timestamps and nested signatures (not covered by the
    /// signature).
    pub other_unsigned_attributes: Vec<String>,
    /// `None` when no certificate in the bag matches the SignerInfo's issuer and serial.
    pub signer: Option<Signer>,
    pub certificates: usize,
}

fn key_algorithm(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.1" => "rsa".into(),
        "1.2.840.10045.2.1" => "ec".into(),
        "1.2.840.113549.1.1.10" => "rsa-pss".into(),
        other => other.to_owned(),
    }
}

/// A parsed Authenticode signature and its certificate bag. The bag is read by bingate
/// (`lenient::certificates`), never through `AuthenticodeSignature::certificates()`, which
/// panics on a SignedData without a certificate set or with a non-X.509 certificate choice.
pub struct Parsed {
    pub sig: AuthenticodeSignature,
    /// The X.509 certificates of the SignedData, each once (possibly none).
    pub certs: Vec<Certificate>,
}

impl Parsed {
    /// The certificate the SignerInfo names (issuer and serial) in the signature's bag.
    pub fn signer_cert(&self) -> Option<&Certificate> {
        super::timestamp::find_cert(&self.sig.signer_info().sid, &self.certs)
    }
}

pub(crate) use crate::hash::digest as hash;

const MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";

fn cms_check(sig: &AuthenticodeSignature, cert: Option<&Certificate>) -> CmsCheck {
    let si = sig.signer_info();
    let algorithms_consistent = sig.digest_algorithm().oid == si.digest_alg.oid;
    let content = sig.encapsulated_content().unwrap_or_default();
    let mut check = verify_signer_info(si, content, cert);
    check.algorithms_consistent = algorithms_consistent;
    check
}

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
pub fn signer_from_cert(cert: &Certificate) -> Option<Signer> {
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

/// Parses an Authenticode signature's DER. The DER is walked first within the nesting and SET
/// budgets (so no decoder below allocates a lying length or sorts a huge SET). Strict first; if
/// the SignedData only fails strict DER rules that Windows does not apply (a certificate listed
/// twice in the SET), it is read leniently and re-encoded canonically (see `lenient.rs`).
pub fn parse(der: &[u8]) -> Result<Parsed, String> {
    crate::read::der_depth(der, crate::budget::MAX_DER_DEPTH)
        .map_err(|e| format!("malformed Authenticode signature: {e}"))?;
    let (sig, ci) = parse_unchecked(der)?;
    let certs = super::lenient::certificates(&ci.content, "Authenticode SignedData")?;
    let n = certs.len() as u64;
    if n > crate::budget::MAX_CERTIFICATES_PER_SIGNATURE {
        return Err(format!(
            "{n} certificates in the signature, over the budget of {} (MAX_CERTIFICATES_PER_SIGNATURE)",
            crate::budget::MAX_CERTIFICATES_PER_SIGNATURE
        ));
    }
    Ok(Parsed { sig, certs })
}

fn parse_unchecked(
    der: &[u8],
) -> Result<(AuthenticodeSignature, cms::content_info::ContentInfo), String> {
    use der::Decode as _;
    let ci = crate::guard::contain("Authenticode ContentInfo", None, || {
        let mut r = der::SliceReader::new(der)?;
        cms::content_info::ContentInfo::decode(&mut r)
    })
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("malformed Authenticode signature: {e}"))?;
    let strict = crate::guard::contain("Authenticode signature", None, || {
        AuthenticodeSignature::from_bytes(der)
    })
    .map_err(|e| e.to_string())?;
    let first_error = match strict {
        Ok(sig) => return Ok((sig, ci)),
        Err(e) => format!("malformed Authenticode signature: {e}"),
    };
    let Ok(sd) = super::lenient::signed_data(&ci.content, "Authenticode SignedData") else {
        return Err(first_error);
    };
    let canonical = sd.to_canonical_der().map_err(|_| first_error.clone())?;
    let sig = crate::guard::contain("Authenticode signature", None, || {
        AuthenticodeSignature::from_bytes(&canonical)
    })
    .map_err(|e| e.to_string())?
    .map_err(|_| first_error)?;
    Ok((sig, ci))
}

/// The signer certificate and the whole certificate bag of a signature's DER.
pub fn certificates(der: &[u8]) -> Result<(Option<Certificate>, Vec<Certificate>), String> {
    let p = parse(der)?;
    Ok((p.signer_cert().cloned(), p.certs))
}

/// Parses one entry's DER and checks the image digest. Errors are messages for the report.
pub fn inspect(
    data: &[u8],
    layout: &SigningLayout,
    entry: usize,
    der: &[u8],
) -> Result<SignatureInfo, String> {
    inspect_cached(data, layout, entry, der, &mut DigestCache::default())
}

type Digested = Result<Vec<u8>, super::image::ImageHashError>;

/// Image digests already computed for a file, by algorithm (nested signatures usually repeat
/// the primary's algorithm: the file is hashed once per algorithm, not once per signature).
#[derive(Default)]
pub struct DigestCache(Vec<(DigestAlg, Digested)>);

impl DigestCache {
    fn get(&mut self, data: &[u8], layout: &SigningLayout, alg: DigestAlg) -> Digested {
        if let Some((_, d)) = self.0.iter().find(|(a, _)| *a == alg) {
            return d.clone();
        }
        let d = image_digest(data, layout, alg);
        self.0.push((alg, d.clone()));
        d
    }
}

/// [`inspect`] with a digest cache shared by the signatures of one file.
pub fn inspect_cached(
    data: &[u8],
    layout: &SigningLayout,
    entry: usize,
    der: &[u8],
    cache: &mut DigestCache,
) -> Result<SignatureInfo, String> {
    Ok(inspect_parsed(data, layout, entry, &parse(der)?, cache))
}

/// [`inspect_cached`] on a signature already parsed.
pub fn inspect_parsed(
    data: &[u8],
    layout: &SigningLayout,
    entry: usize,
    parsed: &Parsed,
    cache: &mut DigestCache,
) -> SignatureInfo {
    let sig = &parsed.sig;
    let oid = sig.digest_algorithm().oid.to_string();
    let alg = DigestAlg::from_oid(&oid);
    let computed = alg.map(|a| cache.get(data, layout, a));
    let signed = hex(sig.digest());
    let computed_hex = computed.as_ref().and_then(|c| c.as_deref().ok()).map(hex);
    let digest_error = match (&computed, alg) {
        (Some(Err(e)), _) => Some(e.to_string()),
        (_, None) => Some(format!("unknown image digest algorithm {oid}")),
        _ => None,
    };
    let cert = parsed.signer_cert();
    let (mut timestamps, mut timestamp_errors) = (Vec::new(), Vec::new());
    for t in super::timestamp::read(sig.signer_info(), &parsed.certs) {
        match t {
            Ok(t) => timestamps.push(t),
            Err(e) => timestamp_errors.push(e),
        }
    }
    SignatureInfo {
        entry,
        timestamps,
        timestamp_errors,
        other_unsigned_attributes: super::timestamp::other_unsigned_attributes(sig.signer_info()),
        cms: cms_check(sig, cert),
        signer_key: cert
            .map(|c| crate::pki::keys::key_info(&c.tbs_certificate.subject_public_key_info)),
        digest: DigestCheck {
            algorithm: alg.map_or(oid, |a| a.name().to_owned()),
            matches: computed_hex.as_deref() == Some(signed.as_str()),
            signed,
            computed: computed_hex,
            error: digest_error,
        },
        signer: cert.and_then(signer_from_cert),
        certificates: parsed.certs.len(),
    }
}
