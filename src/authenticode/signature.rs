//! One Authenticode signature: the signed image digest against the computed one, and the signer.
//!
//! This is the first layer of verification: it says whether the file still hashes to what was
//! signed and who claims to have signed it. The CMS signature, the chain to a trust anchor and
//! timestamps are checked by later layers; nothing here calls a file `valid`.

use crate::read::hex;
use authenticode::AuthenticodeSignature;
use serde::Serialize;
use x509_cert::Certificate;

use super::image::image_digest;
use crate::cms::open::{OpenError, open};
use crate::cms::signer::{CmsCheck, DigestCheck, SignerCert, signer_from_cert, verify_signer_info};
use crate::cms::timestamp;
use crate::hash::DigestAlg;
use crate::pe::SigningLayout;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureInfo {
    pub entry: usize,
    pub digest: DigestCheck,
    pub cms: CmsCheck,
    pub signer_key: Option<crate::pki::keys::KeyInfo>,
    /// RFC 3161 tokens and legacy countersignatures on this signature.
    pub timestamps: Vec<timestamp::Timestamp>,
    /// Timestamp attributes that could not be read.
    pub timestamp_errors: Vec<String>,
    /// Unsigned attributes other than timestamps and nested signatures (not covered by the
    /// signature).
    pub other_unsigned_attributes: Vec<String>,
    /// `None` when no certificate in the bag matches the SignerInfo's issuer and serial.
    pub signer: Option<SignerCert>,
    pub certificates: usize,
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
        crate::cms::open::find_cert(&self.sig.signer_info().sid, &self.certs)
    }
}

fn cms_check(sig: &AuthenticodeSignature, cert: Option<&Certificate>) -> CmsCheck {
    let si = sig.signer_info();
    let algorithms_consistent = sig.digest_algorithm().oid == si.digest_alg.oid;
    let content = sig.encapsulated_content().unwrap_or_default();
    let mut check = verify_signer_info(si, content, cert);
    check.algorithms_consistent = algorithms_consistent;
    check
}

/// Parses an Authenticode signature's DER. The DER is walked first within the nesting and SET
/// budgets (so no decoder below allocates a lying length or sorts a huge SET). Strict first; if
/// the SignedData only fails rules that Windows does not apply (a certificate listed twice in
/// the SET, a digest algorithm written with NULL parameters in `digestAlgorithms` and without
/// them in the SignerInfo), it is read leniently and re-encoded canonically (see `lenient.rs`).
pub fn parse(der: &[u8]) -> Result<Parsed, String> {
    let malformed = |e: &dyn std::fmt::Display| format!("malformed Authenticode signature: {e}");
    let opened = match open(der, "Authenticode SignedData") {
        Ok(o) => o,
        Err(e @ (OpenError::Structure(_) | OpenError::ContentInfo(_))) => {
            return Err(malformed(&e));
        }
        Err(e @ OpenError::TooManyCertificates(_)) => return Err(e.to_string()),
        // Not a SignedData, or one whose fields do not decode: the authenticode crate's reading
        // says why in its words.
        Err(e) => {
            return Err(match strict(der)? {
                Err(strict) => malformed(&strict),
                Ok(_) => malformed(&e),
            });
        }
    };
    let sig = match strict(der)? {
        Ok(sig) => sig,
        Err(first) => {
            // Only strict DER rules Windows does not apply failed (a certificate listed twice):
            // the SignedData read leniently, re-encoded canonically, is read again.
            let canonical = opened
                .signed_data
                .to_canonical_der()
                .map_err(|_| malformed(&first))?;
            strict(&canonical)?.map_err(|_| malformed(&first))?
        }
    };
    Ok(Parsed {
        sig,
        certs: opened.signed_data.certificates,
    })
}

/// The authenticode crate's strict reading of `der`; the outer error is a panic it was kept from.
fn strict(
    der: &[u8],
) -> Result<Result<AuthenticodeSignature, authenticode::AuthenticodeSignatureParseError>, String> {
    crate::guard::contain("Authenticode signature", None, || {
        AuthenticodeSignature::from_bytes(der)
    })
    .map_err(|e| e.to_string())
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

/// A digest, or why it cannot be computed.
type Digested = Result<Vec<u8>, String>;

/// Image digests already computed for a file, by algorithm (nested signatures usually repeat
/// the primary's algorithm: the file is hashed once per algorithm, not once per signature).
#[derive(Default)]
pub struct DigestCache(Vec<(DigestAlg, Digested)>);

impl DigestCache {
    /// A cache that already holds the image digest with `alg`: for a caller that hashed the
    /// file's covered ranges itself (the signer, which hashes what it writes, and checks that
    /// its ranges are the ones [`super::image::covered_ranges`] gives for the file written).
    pub fn seeded(alg: DigestAlg, digest: Vec<u8>) -> DigestCache {
        DigestCache(vec![(alg, Ok(digest))])
    }

    fn get(&mut self, alg: DigestAlg, compute: impl FnOnce(DigestAlg) -> Digested) -> Digested {
        if let Some((_, d)) = self.0.iter().find(|(a, _)| *a == alg) {
            return d.clone();
        }
        let d = compute(alg);
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
    inspect_parsed_with(entry, parsed, cache, &|alg, _| {
        image_digest(data, layout, alg).map_err(|e| e.to_string())
    })
}

/// The type OID of a signature's SpcIndirectDataContent `data` (SpcPeImageData for a PE,
/// SpcSipInfo for an MSI…), when it can be read.
pub fn indirect_data_type(sig: &AuthenticodeSignature) -> Option<String> {
    use der::Decode;
    let content = sig.encapsulated_content()?;
    authenticode::SpcIndirectDataContent::from_der(content)
        .ok()
        .map(|c| c.data.value_type.to_string())
}

/// How a format computes the digest its signatures sign: given the algorithm and the type of
/// the signed content (see [`indirect_data_type`]), the digest or why it cannot be computed.
pub type DigestFn<'a> = dyn Fn(DigestAlg, Option<&str>) -> Result<Vec<u8>, String> + Sync + 'a;

/// [`inspect_parsed`] for any format: the digest comes from `compute`.
pub fn inspect_parsed_with(
    entry: usize,
    parsed: &Parsed,
    cache: &mut DigestCache,
    compute: &DigestFn<'_>,
) -> SignatureInfo {
    let sig = &parsed.sig;
    let oid = sig.digest_algorithm().oid.to_string();
    let alg = DigestAlg::from_oid(&oid);
    let content_type = indirect_data_type(sig);
    let computed = alg.map(|a| cache.get(a, |a| compute(a, content_type.as_deref())));
    let signed = hex(sig.digest());
    let computed_hex = computed.as_ref().and_then(|c| c.as_deref().ok()).map(hex);
    let digest_error = match (&computed, alg) {
        (Some(Err(e)), _) => Some(e.to_string()),
        (_, None) => Some(format!("unknown image digest algorithm {oid}")),
        _ => None,
    };
    let cert = parsed.signer_cert();
    let (mut timestamps, mut timestamp_errors) = (Vec::new(), Vec::new());
    for t in timestamp::read(sig.signer_info(), &parsed.certs) {
        match t {
            Ok(t) => timestamps.push(t),
            Err(e) => timestamp_errors.push(e),
        }
    }
    SignatureInfo {
        entry,
        timestamps,
        timestamp_errors,
        other_unsigned_attributes: timestamp::other_unsigned_attributes(sig.signer_info()),
        cms: cms_check(sig, cert),
        signer_key: cert
            .map(|c| crate::pki::keys::key_info(&c.tbs_certificate.subject_public_key_info)),
        digest: DigestCheck {
            algorithm: alg.map_or(
                crate::hash::Algorithm::Unknown(oid),
                crate::hash::Algorithm::Known,
            ),
            matches: computed_hex.as_deref() == Some(signed.as_str()),
            signed,
            computed: computed_hex,
            error: digest_error,
        },
        signer: cert.and_then(signer_from_cert),
        certificates: parsed.certs.len(),
    }
}
