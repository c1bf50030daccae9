//! Timestamps on an Authenticode signature: RFC 3161 tokens (`1.3.6.1.4.1.311.3.3.1`, whose
//! TSTInfo imprint is the hash of the signature value) and legacy countersignatures
//! (`1.2.840.113549.1.9.6`, a SignerInfo whose messageDigest is that hash, with signingTime).
//!
//! This layer checks what the bytes prove: the imprint or messageDigest, and the TSA's
//! signature. Whether the TSA is trusted (its chain, for time stamping, at the stamped time) is
//! decided by the caller with `pki::chain`.

use cms::signed_data::SignerInfo;
use der::{Decode, Encode};
use serde::Serialize;
use x509_cert::Certificate;

use super::open::{OpenError, find_cert, open_walked};
use super::signer::{CmsCheck, verify_signer_info};
use crate::hash::DigestAlg;
use crate::hash::digest as hash;

const RFC3161_ATTR: &str = "1.3.6.1.4.1.311.3.3.1";
const COUNTERSIGNATURE_ATTR: &str = "1.2.840.113549.1.9.6";
const TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const SIGNING_TIME: &str = "1.2.840.113549.1.9.5";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Rfc3161,
    Legacy,
}

/// A timestamp and what its bytes prove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timestamp {
    pub kind: Kind,
    /// Unix seconds of genTime (RFC 3161) or signingTime (legacy).
    pub time: u64,
    pub tsa: Option<String>,
    /// The token is bound to this signature (imprint / messageDigest equals the hash of the
    /// signature value).
    pub imprint_match: bool,
    /// The TSA's own SignerInfo checks (messageDigest and signature).
    pub cms: CmsCheck,
    /// The digest algorithm of the TSA's SignerInfo (`sha1`, `sha256`…, or the OID).
    pub digest_algorithm: String,
    #[serde(skip)]
    pub tsa_cert: Option<Certificate>,
    /// Certificates that came with an RFC 3161 token. Empty for a legacy countersignature, whose
    /// certificates are the signature's own bag (not copied per countersignature: a signature
    /// with thousands of them would copy the bag thousands of times).
    #[serde(skip)]
    pub certificates: Vec<Certificate>,
}

/// The messageImprint and genTime of a TSTInfo. genTime may carry fractional seconds (RFC 3161
/// §2.4.2; Microsoft's TSAs use them), which DER GeneralizedTime decoding rejects, so the
/// fields are read one by one and the time is parsed here.
fn tst_info(der_bytes: &[u8]) -> Result<(x509_tsp::MessageImprint, u64), String> {
    use der::SliceReader;
    let err = |e: der::Error| format!("RFC 3161 TSTInfo: {e}");
    // `der`'s owned decoders allocate a value's declared length (up to 256 MiB) before reading
    // it, so every length must be known to fit first. The signature's DER was walked when it was
    // parsed; the TSTInfo is inside an OCTET STRING, which that walk does not enter.
    crate::read::der_depth(der_bytes, crate::budget::MAX_DER_DEPTH)
        .map_err(|e| format!("RFC 3161 TSTInfo: {e}"))?;
    let seq = der::Any::from_der(der_bytes).map_err(err)?;
    let mut r = SliceReader::new(seq.value()).map_err(err)?;
    let _version = der::Any::decode(&mut r).map_err(err)?;
    let _policy = der::Any::decode(&mut r).map_err(err)?;
    let imprint = x509_tsp::MessageImprint::decode(&mut r).map_err(err)?;
    let _serial = der::Any::decode(&mut r).map_err(err)?;
    let time = der::Any::decode(&mut r).map_err(err)?;
    let text =
        std::str::from_utf8(time.value()).map_err(|_| "RFC 3161 genTime is not text".to_owned())?;
    Ok((
        imprint,
        generalized_time(text)
            .ok_or_else(|| format!("RFC 3161 genTime {text:?} is not YYYYMMDDHHMMSS[.f]Z"))?,
    ))
}

/// `YYYYMMDDHHMMSS[.fraction]Z` to Unix seconds (fraction dropped).
pub(crate) fn generalized_time(s: &str) -> Option<u64> {
    let s = s.strip_suffix('Z')?;
    let whole = s.split('.').next()?;
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |a: usize, b: usize| whole.get(a..b)?.parse::<u16>().ok();
    let dt = der::DateTime::new(
        n(0, 4)?,
        n(4, 6)? as u8,
        n(6, 8)? as u8,
        n(8, 10)? as u8,
        n(10, 12)? as u8,
        n(12, 14)? as u8,
    )
    .ok()?;
    Some(dt.unix_duration().as_secs())
}

fn digest_name(si: &SignerInfo) -> String {
    let oid = si.digest_alg.oid.to_string();
    DigestAlg::from_oid(&oid).map_or(oid, |a| a.name().to_owned())
}

fn rfc3161(value: &der::Any, signature: &[u8]) -> Result<Timestamp, String> {
    let sd = match open_walked(value, "RFC 3161 token SignedData") {
        Ok(o) => o.signed_data,
        Err(OpenError::ContentInfo(e)) => return Err(format!("RFC 3161 token: {e}")),
        Err(OpenError::NotSignedData(oid)) => {
            return Err(format!("RFC 3161 token holds {oid}, not SignedData"));
        }
        Err(e) => return Err(e.to_string()),
    };
    if sd.encap.econtent_type.to_string() != TST_INFO {
        return Err(format!(
            "RFC 3161 token holds {}, not TSTInfo",
            sd.encap.econtent_type
        ));
    }
    let econtent = sd
        .encap
        .econtent
        .as_ref()
        .ok_or("RFC 3161 token without TSTInfo")?;
    let tst_der = econtent
        .decode_as::<der::asn1::OctetString>()
        .map_err(|e| format!("RFC 3161 TSTInfo: {e}"))?;
    let (imprint, gen_time) = tst_info(tst_der.as_bytes())?;
    let imprint_alg = DigestAlg::from_oid(&imprint.hash_algorithm.oid.to_string());
    let imprint_match = imprint_alg
        .and_then(|a| hash(a, signature))
        .is_some_and(|h| h.as_slice() == imprint.hashed_message.as_bytes());
    let certs = sd.certificates;
    let si: &SignerInfo = sd
        .signer_infos
        .first()
        .ok_or("RFC 3161 token without SignerInfo")?;
    let cert = find_cert(&si.sid, &certs).cloned();
    let cms = verify_signer_info(si, tst_der.as_bytes(), cert.as_ref());
    Ok(Timestamp {
        kind: Kind::Rfc3161,
        time: gen_time,
        tsa: cert.as_ref().map(|c| c.tbs_certificate.subject.to_string()),
        imprint_match,
        cms,
        digest_algorithm: digest_name(si),
        tsa_cert: cert,
        certificates: certs,
    })
}

fn legacy(value: &der::Any, signature: &[u8], bag: &[Certificate]) -> Result<Timestamp, String> {
    let si = value
        .decode_as::<SignerInfo>()
        .map_err(|e| format!("countersignature: {e}"))?;
    let time = si
        .signed_attrs
        .as_ref()
        .and_then(|a| a.iter().find(|a| a.oid.to_string() == SIGNING_TIME))
        .and_then(|a| a.values.iter().next())
        .and_then(|v| v.to_der().ok())
        .and_then(|d| x509_cert::time::Time::from_der(&d).ok())
        .map(|t| t.to_unix_duration().as_secs())
        .ok_or("countersignature without signingTime")?;
    let cert = find_cert(&si.sid, bag).cloned();
    // The countersignature's messageDigest is the hash of the signature value: checking it
    // against `signature` binds the token, and its signature covers the signed attributes.
    let cms = verify_signer_info(&si, signature, cert.as_ref());
    Ok(Timestamp {
        kind: Kind::Legacy,
        time,
        tsa: cert.as_ref().map(|c| c.tbs_certificate.subject.to_string()),
        imprint_match: cms.message_digest_match,
        cms,
        digest_algorithm: digest_name(&si),
        tsa_cert: cert,
        certificates: Vec::new(),
    })
}

/// The timestamps in a SignerInfo's unsigned attributes (normally at most one): Authenticode's
/// RFC 3161 attribute (1.3.6.1.4.1.311.3.3.1) and legacy countersignatures.
pub fn read(si: &SignerInfo, bag: &[Certificate]) -> Vec<Result<Timestamp, String>> {
    read_attrs(si, bag, RFC3161_ATTR)
}

/// id-aa-timeStampToken (RFC 3161 appendix A), the standard CMS attribute bingate's ELF
/// signatures use.
pub const TIMESTAMP_TOKEN_ATTR: &str = "1.2.840.113549.1.9.16.2.14";

/// The timestamps of a plain CMS SignerInfo: id-aa-timeStampToken tokens and RFC 5652
/// countersignatures.
pub fn read_standard(si: &SignerInfo, bag: &[Certificate]) -> Vec<Result<Timestamp, String>> {
    read_attrs(si, bag, TIMESTAMP_TOKEN_ATTR)
}

fn read_attrs(
    si: &SignerInfo,
    bag: &[Certificate],
    rfc3161_attr: &str,
) -> Vec<Result<Timestamp, String>> {
    let signature = si.signature.as_bytes();
    let Some(attrs) = &si.unsigned_attrs else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut skipped = 0usize;
    for a in attrs.iter() {
        let oid = a.oid.to_string();
        for v in a.values.iter() {
            let is_timestamp = oid == rfc3161_attr || oid == COUNTERSIGNATURE_ATTR;
            if is_timestamp && out.len() >= crate::budget::MAX_TIMESTAMPS_PER_SIGNATURE {
                // Each one costs a signature check: thousands of them are only there to be slow.
                skipped = skipped.saturating_add(1);
            } else if oid == rfc3161_attr {
                out.push(rfc3161(v, signature));
            } else if oid == COUNTERSIGNATURE_ATTR {
                out.push(legacy(v, signature, bag));
            }
        }
    }
    if skipped > 0 {
        out.push(Err(format!(
            "{skipped} more timestamps not read (budget MAX_TIMESTAMPS_PER_SIGNATURE = {})",
            crate::budget::MAX_TIMESTAMPS_PER_SIGNATURE
        )));
    }
    out
}

/// OIDs of unsigned attributes that are neither timestamps nor nested signatures: not covered
/// by the signature, so reported.
pub fn other_unsigned_attributes(si: &SignerInfo) -> Vec<String> {
    const NESTED: &str = "1.3.6.1.4.1.311.2.4.1";
    si.unsigned_attrs
        .as_ref()
        .map(|attrs| {
            attrs
                .iter()
                .map(|a| a.oid.to_string())
                .filter(|o| o != RFC3161_ATTR && o != COUNTERSIGNATURE_ATTR && o != NESTED)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::generalized_time;

    /// Only MAX_TIMESTAMPS_PER_SIGNATURE timestamps are read (each costs a signature check); the
    /// rest are counted in one error.
    #[test]
    fn timestamps_past_the_budget_are_counted_not_read() {
        use der::asn1::SetOfVec;
        let data = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/corpus/signed/valid-rsa.exe"
        ))
        .unwrap();
        let layout = crate::pe::signing_layout(&data).unwrap();
        let table = crate::authenticode::table::read(&data, &layout)
            .unwrap()
            .unwrap();
        let parsed = crate::authenticode::signature::parse(table.entries[0].der).unwrap();
        let mut si = parsed.sig.signer_info().clone();
        let mut values = SetOfVec::new();
        for i in 1..=10u8 {
            // INTEGER i: not a SignerInfo, so each one read is an error of its own.
            values
                .insert(der::Any::new(der::Tag::Integer, vec![i]).unwrap())
                .unwrap();
        }
        let attr = x509_cert::attr::Attribute {
            oid: der::asn1::ObjectIdentifier::new_unwrap(super::COUNTERSIGNATURE_ATTR),
            values,
        };
        si.unsigned_attrs = Some(SetOfVec::try_from(vec![attr]).unwrap());
        let out = super::read(&si, &parsed.certs);
        let max = crate::budget::MAX_TIMESTAMPS_PER_SIGNATURE;
        assert_eq!(out.len(), max + 1);
        let last = out.last().unwrap().as_ref().unwrap_err();
        assert!(
            last.contains(&format!("{} more timestamps not read", 10 - max)),
            "{last}"
        );
    }

    #[test]
    fn generalized_time_with_and_without_fractions() {
        assert_eq!(generalized_time("20260115000000Z"), Some(1_768_435_200));
        assert_eq!(generalized_time("20260115000000.123Z"), Some(1_768_435_200));
        assert_eq!(generalized_time("20260115000000"), None);
        assert_eq!(generalized_time("2026011500000Z"), None);
        assert_eq!(generalized_time("20261345000000Z"), None);
    }
}
