//! Authenticode SignedData built for PE files: the `SpcIndirectDataContent` that names the image
//! hash, signed attributes as signtool writes them, and nesting a signature into another.
//!
//! Structure (Microsoft's "Windows Authenticode Portable Executable Signature Format"):
//!
//! - eContentType `SPC_INDIRECT_DATA_OBJID` (1.3.6.1.4.1.311.2.1.4), eContent the
//!   `SpcIndirectDataContent` itself (not wrapped in an OCTET STRING):
//!   `SEQUENCE { SEQUENCE { SPC_PE_IMAGE_DATAOBJ, SpcPeImageData }, DigestInfo }`, where
//!   `SpcPeImageData` is `SEQUENCE { flags BIT STRING (empty), [0] SpcLink }` and the link is
//!   the file `<<<Obsolete>>>` (as signtool writes it), or, with page hashes, a
//!   `SpcSerializedObject` carrying the page hash table.
//! - Signed attributes: contentType (`SPC_INDIRECT_DATA_OBJID`), SpcSpOpusInfo (program name
//!   and URL, both optional), SpcStatementType (individual code signing) and messageDigest, which
//!   is the digest of the `SpcIndirectDataContent`'s value bytes (its tag and length excluded).
//!   No signingTime, so the same input, key and options give the same bytes.
//! - Digest algorithm identifiers carry NULL parameters and the RSA signature algorithm is
//!   `rsaEncryption` (`crate::cms::build::signature_algorithm`), as signtool writes them.
//! - A timestamp token goes into the unsigned attribute 1.3.6.1.4.1.311.3.3.1; a nested
//!   signature into 1.3.6.1.4.1.311.2.4.1 of the primary signature's SignerInfo.

use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

use crate::cms::build::{
    CONTENT_TYPE, CmsError, ID_SIGNED_DATA, MESSAGE_DIGEST, Timestamper, certificate_set,
    digest_oid, enc, issuer_and_serial, sign_attributes, signature_algorithm, wrap,
};
use crate::cms::signing::Signer;
use crate::hash::DigestAlg;

/// SPC_INDIRECT_DATA_OBJID.
pub const SPC_INDIRECT_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.4");
/// SPC_PE_IMAGE_DATAOBJ.
const SPC_PE_IMAGE_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.15");
/// SPC_SP_OPUS_INFO_OBJID.
const SPC_SP_OPUS_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.12");
/// SPC_STATEMENT_TYPE_OBJID, and its one value bingate writes: individual code signing.
const SPC_STATEMENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.11");
const SPC_INDIVIDUAL_SP_KEY_PURPOSE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.21");
/// SPC_RFC3161_OBJID: where Authenticode keeps an RFC 3161 timestamp token.
pub const RFC3161_TIMESTAMP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.3.3.1");
/// szOID_NESTED_SIGNATURE.
pub const NESTED_SIGNATURE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.4.1");
/// SPC_PE_IMAGE_PAGE_HASHES_V1 (SHA-1 pages) and V2 (SHA-256 pages).
const PAGE_HASHES_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.3.1");
const PAGE_HASHES_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.3.2");

/// What the optional SpcSpOpusInfo attribute says (signtool `/d` and `/du`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opus {
    /// The program name Windows shows in the UAC prompt.
    pub description: Option<String>,
    /// A URL with more information.
    pub url: Option<String>,
}

/// One DER TLV. Lengths come from our own buffers (at most a few megabytes), so the long form
/// needs at most 4 length bytes.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = Vec::with_capacity(len.saturating_add(6));
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn oid_der(oid: &ObjectIdentifier) -> Result<Vec<u8>, CmsError> {
    oid.to_der().map_err(enc)
}

/// A BMPString's content: UTF-16 big-endian (characters outside the BMP as surrogate pairs,
/// which Windows reads).
fn bmp(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// The digest AlgorithmIdentifier as signtool writes it: NULL parameters.
fn digest_algorithm(alg: DigestAlg) -> Result<AlgorithmIdentifierOwned, CmsError> {
    Ok(AlgorithmIdentifierOwned {
        oid: digest_oid(alg)?,
        parameters: Some(Any::null()),
    })
}

/// The page hash table as a SpcSerializedObject's content: `alg` is SHA-1 (V1) or SHA-256 (V2);
/// `table` the entries (file offset as a little-endian u32, then the page digest).
fn serialized_page_hashes(alg: DigestAlg, table: &[u8]) -> Result<Vec<u8>, CmsError> {
    let kind = match alg {
        DigestAlg::Sha1 => PAGE_HASHES_V1,
        DigestAlg::Sha256 => PAGE_HASHES_V2,
        _ => return Err(CmsError::Digest("page hashes other than SHA-1 and SHA-256")),
    };
    let attr = tlv(
        0x30,
        &cat(&[&oid_der(&kind)?, &tlv(0x31, &tlv(0x04, table))]),
    );
    let serialized = tlv(0x31, &attr);
    Ok(cat(&[
        &tlv(0x04, &super::pagehash::PAGE_HASH_CLASS_ID),
        &tlv(0x04, &serialized),
    ]))
}

/// The DER of `SpcIndirectDataContent` for an image whose hash (with `alg`) is `image_digest`,
/// with the page hash table `(page algorithm, table)` when given.
pub fn indirect_data(
    alg: DigestAlg,
    image_digest: &[u8],
    page_hashes: Option<(DigestAlg, &[u8])>,
) -> Result<Vec<u8>, CmsError> {
    let link = match page_hashes {
        // [1] IMPLICIT SpcSerializedObject.
        Some((page_alg, table)) => tlv(0xa1, &serialized_page_hashes(page_alg, table)?),
        // [2] EXPLICIT SpcString, unicode [0] IMPLICIT BMPString.
        None => tlv(0xa2, &tlv(0x80, &bmp("<<<Obsolete>>>"))),
    };
    let pe_image_data = tlv(
        0x30,
        &cat(&[
            // flags: an empty BIT STRING, as signtool writes it.
            &[0x03, 0x01, 0x00],
            &tlv(0xa0, &link),
        ]),
    );
    let data = tlv(0x30, &cat(&[&oid_der(&SPC_PE_IMAGE_DATA)?, &pe_image_data]));
    let digest_info = tlv(
        0x30,
        &cat(&[
            &digest_algorithm(alg)?.to_der().map_err(enc)?,
            &OctetString::new(image_digest.to_vec())
                .map_err(enc)?
                .to_der()
                .map_err(enc)?,
        ]),
    );
    Ok(tlv(0x30, &cat(&[&data, &digest_info])))
}

/// The value bytes of a DER TLV (its tag and length skipped).
fn value_of(der_bytes: &[u8]) -> Result<&[u8], CmsError> {
    let any = der::AnyRef::from_der(der_bytes).map_err(enc)?;
    Ok(any.value())
}

/// An attribute with one value, given as DER.
fn attribute(oid: ObjectIdentifier, value_der: &[u8]) -> Result<Attribute, CmsError> {
    crate::cms::build::attribute(oid, Any::from_der(value_der).map_err(enc)?)
}

/// SpcSpOpusInfo: `SEQUENCE { [0] EXPLICIT SpcString OPTIONAL, [1] EXPLICIT SpcLink OPTIONAL }`.
fn opus_info(opus: &Opus) -> Vec<u8> {
    let mut content = Vec::new();
    if let Some(d) = &opus.description {
        content.extend(tlv(0xa0, &tlv(0x80, &bmp(d))));
    }
    if let Some(u) = &opus.url {
        // SpcLink url: [0] IMPLICIT IA5String.
        content.extend(tlv(0xa1, &tlv(0x80, u.as_bytes())));
    }
    tlv(0x30, &content)
}

/// Everything one Authenticode signature is made of, besides the indirect data.
pub struct Signing<'a> {
    pub signer: &'a dyn Signer,
    pub cert: &'a Certificate,
    /// Certificates to embed besides the signer's (self-signed roots are left out: a verifier
    /// must have them already, and relic and jsign leave them out too).
    pub chain: &'a [Certificate],
    pub digest: DigestAlg,
    pub opus: &'a Opus,
    pub timestamp: Option<Timestamper<'a>>,
}

fn self_signed(c: &Certificate) -> bool {
    c.tbs_certificate.issuer == c.tbs_certificate.subject
}

/// A ContentInfo SignedData over `indirect` (the DER of [`indirect_data`]).
pub fn signed_data(s: &Signing<'_>, indirect: &[u8]) -> Result<Vec<u8>, CmsError> {
    let alg = s.digest;
    let message_digest =
        crate::hash::digest(alg, value_of(indirect)?).ok_or(CmsError::Digest("md5"))?;
    let statement = tlv(0x30, &oid_der(&SPC_INDIVIDUAL_SP_KEY_PURPOSE)?);
    let attrs = vec![
        attribute(CONTENT_TYPE, &oid_der(&SPC_INDIRECT_DATA)?)?,
        attribute(SPC_SP_OPUS_INFO, &opus_info(s.opus))?,
        attribute(SPC_STATEMENT_TYPE, &statement)?,
        attribute(
            MESSAGE_DIGEST,
            &OctetString::new(message_digest)
                .map_err(enc)?
                .to_der()
                .map_err(enc)?,
        )?,
    ];
    let signed_attrs = SetOfVec::try_from(attrs).map_err(enc)?;
    let signature = sign_attributes(s.signer, alg, &signed_attrs)?;
    let unsigned_attrs = match s.timestamp {
        None => None,
        Some(ts) => {
            let token = ts(&signature).map_err(CmsError::Timestamp)?;
            Some(SetOfVec::try_from(vec![attribute(RFC3161_TIMESTAMP, &token)?]).map_err(enc)?)
        }
    };
    let si = SignerInfo {
        version: CmsVersion::V1,
        sid: issuer_and_serial(s.cert),
        digest_alg: digest_algorithm(alg)?,
        signed_attrs: Some(signed_attrs),
        signature_algorithm: signature_algorithm(s.signer.kind(), alg)?,
        signature: OctetString::new(signature).map_err(enc)?,
        unsigned_attrs,
    };
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![digest_algorithm(alg)?]).map_err(enc)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: SPC_INDIRECT_DATA,
            econtent: Some(Any::from_der(indirect).map_err(enc)?),
        },
        certificates: Some(certificate_set(
            std::iter::once(s.cert).chain(s.chain.iter().filter(|c| !self_signed(c))),
        )?),
        crls: None,
        signer_infos: cms::signed_data::SignerInfos(SetOfVec::try_from(vec![si]).map_err(enc)?),
    };
    wrap(&sd)
}

/// One TLV of a DER (or BER with definite lengths) buffer: its tag byte, and where its header
/// and value are.
struct Tlv {
    tag: u8,
    start: usize,
    value: std::ops::Range<usize>,
}

/// The TLVs one after another in `buf[range]`. Only one-byte tags and definite lengths of up to
/// four bytes: everything in a SignedData down to its SignerInfos.
fn children(buf: &[u8], range: std::ops::Range<usize>) -> Result<Vec<Tlv>, CmsError> {
    let bad = |what: &str, at: usize| {
        CmsError::Encode(format!("{what} at byte {at} of the existing signature"))
    };
    let mut out = Vec::new();
    let mut at = range.start;
    while at < range.end {
        let start = at;
        let tag = *buf.get(at).ok_or_else(|| bad("truncated TLV", at))?;
        if tag & 0x1f == 0x1f {
            return Err(bad("multi-byte tag", at));
        }
        let first = *buf
            .get(at.saturating_add(1))
            .ok_or_else(|| bad("truncated length", at))?;
        at = at.saturating_add(2);
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err(bad("indefinite or oversized length", start));
            }
            let bytes = buf
                .get(at..at.saturating_add(n))
                .ok_or_else(|| bad("truncated length", start))?;
            at = at.saturating_add(n);
            bytes.iter().fold(0usize, |l, b| (l << 8) | usize::from(*b))
        };
        let end = at
            .checked_add(len)
            .filter(|e| *e <= range.end)
            .ok_or_else(|| bad("TLV past its parent's end", start))?;
        out.push(Tlv {
            tag,
            start,
            value: at..end,
        });
        at = end;
    }
    Ok(out)
}

/// `primary` (a ContentInfo SignedData) with `nested` added as a nested signature of its first
/// SignerInfo (unsigned attribute 1.3.6.1.4.1.311.2.4.1; an existing one gains a value, after
/// the ones it has, as signtool and osslsigncode append).
///
/// The existing signature is edited in place, not decoded and re-encoded: signatures in the
/// field carry BER, certificate sets with duplicates and other things a strict DER decoder
/// rejects, and every byte but the lengths on the path to the new attribute stays as it was.
pub fn nest(primary: &[u8], nested: &[u8]) -> Result<Vec<u8>, CmsError> {
    let bad = |what: &str| CmsError::Encode(format!("the existing signature: {what}"));
    let top = children(primary, 0..primary.len())?;
    let [ci] = top.as_slice() else {
        return Err(bad("not one ContentInfo"));
    };
    let ci_parts = children(primary, ci.value.clone())?;
    let [oid, explicit] = ci_parts.as_slice() else {
        return Err(bad("ContentInfo is not { contentType, [0] content }"));
    };
    if primary.get(oid.start..oid.value.end) != Some(oid_der(&ID_SIGNED_DATA)?.as_slice()) {
        return Err(bad("not a SignedData"));
    }
    let sd_tlv = children(primary, explicit.value.clone())?;
    let [sd] = sd_tlv.as_slice() else {
        return Err(bad("[0] does not hold one SignedData"));
    };
    let sd_parts = children(primary, sd.value.clone())?;
    let infos = sd_parts
        .last()
        .filter(|t| t.tag == 0x31)
        .ok_or_else(|| bad("no SignerInfos"))?;
    let info_list = children(primary, infos.value.clone())?;
    let first = info_list.first().ok_or_else(|| bad("no SignerInfo"))?;
    let si_parts = children(primary, first.value.clone())?;
    let nested_attr_oid = oid_der(&NESTED_SIGNATURE)?;
    let get = |r: std::ops::Range<usize>| primary.get(r).unwrap_or_default();
    // The new unsigned attributes' content.
    let unsigned = si_parts.iter().find(|t| t.tag == 0xa1);
    let mut attrs = Vec::new();
    let mut added = false;
    if let Some(u) = unsigned {
        for attr in children(primary, u.value.clone())? {
            let parts = children(primary, attr.value.clone())?;
            match parts.as_slice() {
                [o, values] if get(o.start..o.value.end) == nested_attr_oid.as_slice() => {
                    let mut content = get(values.value.clone()).to_vec();
                    content.extend_from_slice(nested);
                    attrs.extend(tlv(0x30, &cat(&[&nested_attr_oid, &tlv(0x31, &content)])));
                    added = true;
                }
                _ => attrs.extend_from_slice(get(attr.start..attr.value.end)),
            }
        }
    }
    if !added {
        attrs.extend(tlv(0x30, &cat(&[&nested_attr_oid, &tlv(0x31, nested)])));
    }
    // The SignerInfo: its fields, the unsigned attributes replaced or appended.
    let mut si = Vec::new();
    for part in si_parts.iter().filter(|t| t.tag != 0xa1) {
        si.extend_from_slice(get(part.start..part.value.end));
    }
    si.extend(tlv(0xa1, &attrs));
    let mut infos_content = tlv(0x30, &si);
    for other in info_list.iter().skip(1) {
        infos_content.extend_from_slice(get(other.start..other.value.end));
    }
    let mut sd_content = Vec::new();
    for part in sd_parts.iter().take(sd_parts.len().saturating_sub(1)) {
        sd_content.extend_from_slice(get(part.start..part.value.end));
    }
    sd_content.extend(tlv(0x31, &infos_content));
    let ci_content = cat(&[
        get(oid.start..oid.value.end),
        &tlv(explicit.tag, &tlv(sd.tag, &sd_content)),
    ]);
    Ok(tlv(ci.tag, &ci_content))
}

/// The image digest a SignedData's `SpcIndirectDataContent` names: (algorithm, digest).
pub fn signed_image_digest(signed: &[u8]) -> Result<(DigestAlg, Vec<u8>), CmsError> {
    let ci = ContentInfo::from_der(signed).map_err(enc)?;
    let sd: SignedData = ci.content.decode_as().map_err(enc)?;
    if sd.encap_content_info.econtent_type != SPC_INDIRECT_DATA {
        return Err(CmsError::Encode(
            "the signature's content is not SpcIndirectDataContent".into(),
        ));
    }
    let content = sd
        .encap_content_info
        .econtent
        .ok_or_else(|| CmsError::Encode("the signature has no content".into()))?;
    // SpcIndirectDataContent: SEQUENCE { data, DigestInfo }.
    let mut r = der::SliceReader::new(content.value()).map_err(enc)?;
    let _data: der::AnyRef<'_> = der::Reader::decode(&mut r).map_err(enc)?;
    let digest_info: der::AnyRef<'_> = der::Reader::decode(&mut r).map_err(enc)?;
    let mut r = der::SliceReader::new(digest_info.value()).map_err(enc)?;
    let alg: AlgorithmIdentifierOwned = der::Reader::decode(&mut r).map_err(enc)?;
    let digest: OctetString = der::Reader::decode(&mut r).map_err(enc)?;
    let alg = DigestAlg::from_oid(&alg.oid.to_string())
        .ok_or_else(|| CmsError::Encode(format!("unknown digest algorithm {}", alg.oid)))?;
    Ok((alg, digest.as_bytes().to_vec()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn tlv_lengths_use_the_short_and_long_forms() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0u8; 200]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = tlv(0x04, &vec![0u8; 70_000]);
        assert_eq!(&longer[..5], &[0x04, 0x83, 0x01, 0x11, 0x70]);
    }

    /// The indirect data names the digest, and the digest round-trips through a SignedData
    /// reader ([`signed_image_digest`] reads what a verifier reads).
    #[test]
    fn indirect_data_is_the_signtool_layout() {
        let d = [7u8; 32];
        let der = indirect_data(DigestAlg::Sha256, &d, None).unwrap();
        // SEQUENCE { SEQUENCE { OID 1.3.6.1.4.1.311.2.1.15, SEQUENCE { 03 01 00, a0 { a2 { 80
        // "<<<Obsolete>>>" } } } }, DigestInfo }
        let obsolete = bmp("<<<Obsolete>>>");
        assert!(der.windows(obsolete.len()).any(|w| w == obsolete));
        assert!(der.windows(3).any(|w| w == [0x03, 0x01, 0x00]));
        assert!(der.ends_with(&d));
        der::AnyRef::from_der(&der).unwrap();
    }
}
