//! The RFC 3161 client: asks a time-stamping authority (TSA) to sign a hash the caller computed,
//! and checks what comes back before anything relies on it.
//!
//! Transport is plain HTTP (RFC 3161 §3.4) over [`std::net::TcpStream`], written here (in
//! `http.rs`) so that every byte the network controls goes through one bounded parser
//! ([`MAX_HEADER_BYTES`], [`MAX_BODY_BYTES`], an overall deadline). `https://` is refused on
//! purpose: a time-stamp token is signed by the TSA, so the `http://` endpoint every public TSA
//! offers is as safe to use. Errors and their messages are in `error.rs`.
//!
//! What the reply must show before a [`Token`] is returned: a TimeStampResp whose status is
//! granted (or grantedWithMods), a token that is CMS SignedData over an id-ct-TSTInfo, the
//! messageImprint and nonce we sent, and a TSA SignerInfo whose messageDigest and signature
//! check with the TSA certificate carried in the token (we ask for it with `certReq`). Whether
//! that certificate chains to a trusted root, for time stamping, is decided later by the
//! verifier (`pki::chain`), not here.

use crate::read::hex;
use std::time::Duration;

use der::asn1::{Any, BitString, Int, ObjectIdentifier, OctetString, Utf8StringRef};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use spki::AlgorithmIdentifier;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

use crate::cms::open::{OpenError, find_cert, open};
use crate::cms::signer::verify_signer_info;
use crate::cms::timestamp::generalized_time;
use crate::hash::DigestAlg;

mod error;
mod http;

pub use error::TspError;
pub use http::{MAX_BODY_BYTES, MAX_CHUNK_FRAMING_BYTES, MAX_HEADER_BYTES};

use error::{fail_info_name, shown};
use http::{parse_url, post};

/// id-ct-TSTInfo (RFC 3161 §2.4.2).
const TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
/// id-contentType (RFC 5652 §11.1).
const CONTENT_TYPE_ATTR: &str = "1.2.840.113549.1.9.3";

const SHA1_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// What to ask a TSA for.
#[derive(Debug, Clone, Copy)]
pub struct TsaRequest<'a> {
    /// `http://host[:port]/path`.
    pub url: &'a str,
    /// The algorithm `imprint` was computed with.
    pub digest: DigestAlg,
    /// The hash of the data to be timestamped (the caller hashes).
    pub imprint: &'a [u8],
    /// Connect, read and write timeout, and the deadline for the whole exchange.
    pub timeout: Duration,
}

/// What came back, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The TimeStampToken as DER ContentInfo, as the TSA sent it: ready to be the value of the
    /// unsigned attribute id-aa-timeStampToken (1.2.840.113549.1.9.16.2.14).
    pub der: Vec<u8>,
    /// The genTime the token states, in Unix seconds (fractions dropped).
    pub gen_time: u64,
    /// The subject of the certificate that signed the token.
    pub tsa: Option<String>,
}

fn digest_oid(alg: DigestAlg) -> Option<(ObjectIdentifier, usize)> {
    match alg {
        DigestAlg::Md5 => None,
        DigestAlg::Sha1 => Some((SHA1_OID, 20)),
        DigestAlg::Sha256 => Some((SHA256_OID, 32)),
        DigestAlg::Sha384 => Some((SHA384_OID, 48)),
        DigestAlg::Sha512 => Some((SHA512_OID, 64)),
    }
}

/// The nonce as a DER INTEGER (always non-negative: a leading zero octet when the top bit is set).
fn nonce_int(nonce: u64) -> Result<Int, der::Error> {
    Int::from_der(&nonce.to_der()?)
}

// ---------------------------------------------------------------------------------------------
// Request

/// The DER TimeStampReq for `imprint`: version 1, messageImprint (hashAlgorithm with NULL
/// parameters, as `openssl ts -query` writes it), `nonce` (a positive INTEGER for any non-zero
/// value; [`request`] never sends zero), certReq TRUE, no policy.
pub fn encode_request(digest: DigestAlg, imprint: &[u8], nonce: u64) -> Result<Vec<u8>, TspError> {
    encode_request_for("", digest, imprint, nonce)
}

fn encode_request_for(
    url: &str,
    digest: DigestAlg,
    imprint: &[u8],
    nonce: u64,
) -> Result<Vec<u8>, TspError> {
    let (oid, len) = digest_oid(digest).ok_or_else(|| TspError::UnsupportedDigest {
        url: url.to_owned(),
        digest: digest.name(),
    })?;
    if imprint.len() != len {
        return Err(TspError::ImprintLength {
            url: url.to_owned(),
            digest: digest.name(),
            expected: len,
            found: imprint.len(),
        });
    }
    let enc = |e: der::Error| TspError::Encode {
        url: url.to_owned(),
        detail: e.to_string(),
    };
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifier {
                oid,
                parameters: Some(Any::null()),
            },
            hashed_message: OctetString::new(imprint).map_err(enc)?,
        },
        req_policy: None,
        nonce: Some(nonce_int(nonce).map_err(enc)?),
        cert_req: true,
        extensions: None,
    };
    req.to_der().map_err(enc)
}

/// 64 random bits, never zero (RFC 3161 wants a positive nonce; zero is not).
fn random_nonce(url: &str) -> Result<u64, TspError> {
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b).map_err(|e| TspError::Random {
        url: url.to_owned(),
        detail: e.to_string(),
    })?;
    Ok(u64::from_be_bytes(b).max(1))
}

/// Sends a TimeStampReq for `req.imprint` to `req.url` (a fresh random nonce, certReq TRUE) and
/// returns the token once the reply passes [`check_response`]'s checks. Every error names the
/// URL. `req.timeout` bounds connecting, sending and receiving, each step and all together; name
/// resolution is the system resolver's and has its own timeouts.
pub fn request(req: &TsaRequest<'_>) -> Result<Token, TspError> {
    let url = req.url;
    let endpoint = parse_url(url)?;
    let nonce = random_nonce(url)?;
    let body = encode_request_for(url, req.digest, req.imprint, nonce)?;
    let reply = post(url, &endpoint, &body, req.timeout)?;
    let labelled = reply.content_type.as_deref().is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/timestamp-reply"))
    });
    match check(url, &reply.body, req.digest, req.imprint, nonce) {
        Err(TspError::MalformedReply { url, detail, .. }) if !labelled => {
            Err(TspError::MalformedReply {
                url,
                content_type: Some(
                    reply
                        .content_type
                        .as_deref()
                        .map_or_else(|| "(none)".to_owned(), shown),
                ),
                detail,
            })
        }
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Reply checks

/// Checks a DER TimeStampResp against the request it answers and returns the token.
///
/// `digest`, `imprint` and `nonce` are what was sent ([`encode_request`]). Errors have an empty
/// `url`.
pub fn check_response(
    der: &[u8],
    digest: DigestAlg,
    imprint: &[u8],
    nonce: u64,
) -> Result<Token, TspError> {
    check("", der, digest, imprint, nonce)
}

/// The status and the token (as DER) of a TimeStampResp, read field by field: PKIStatus values
/// and PKIFailureInfo bits beyond the ones a typed decoder knows must not turn a clear
/// refusal into "malformed".
struct Reply {
    status: u32,
    status_string: Option<String>,
    fail_info: Vec<String>,
    token: Option<Vec<u8>>,
}

fn read_reply(der_bytes: &[u8]) -> Result<Reply, der::Error> {
    let outer = Any::from_der(der_bytes)?;
    if outer.tag() != Tag::Sequence {
        return Err(outer.tag().unexpected_error(Some(Tag::Sequence)));
    }
    let mut r = SliceReader::new(outer.value())?;
    let status_info = Any::decode(&mut r)?;
    if status_info.tag() != Tag::Sequence {
        return Err(status_info.tag().unexpected_error(Some(Tag::Sequence)));
    }
    let token = if r.is_finished() {
        None
    } else {
        Some(Any::decode(&mut r)?.to_der()?)
    };
    r.finish(())?;

    let mut s = SliceReader::new(status_info.value())?;
    let status = u32::decode(&mut s)?;
    let mut status_string = None;
    let mut fail_info = Vec::new();
    if s.peek_tag().ok() == Some(Tag::Sequence) {
        let texts: Vec<Utf8StringRef<'_>> = Vec::decode(&mut s)?;
        status_string = Some(shown(
            &texts
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    if !s.is_finished() {
        let bits = BitString::decode(&mut s)?;
        fail_info = bits
            .bits()
            .enumerate()
            .filter(|(_, set)| *set)
            .map(|(i, _)| fail_info_name(i))
            .take(32)
            .collect();
    }
    s.finish(())?;
    Ok(Reply {
        status,
        status_string,
        fail_info,
        token,
    })
}

/// The TSTInfo fields the client checks. Read field by field: genTime may carry fractional
/// seconds (RFC 3161 §2.4.2), which DER GeneralizedTime decoding rejects.
struct TstFields {
    imprint: MessageImprint,
    gen_time: u64,
    nonce: Option<Int>,
}

fn tst_fields(der_bytes: &[u8]) -> Result<TstFields, String> {
    let err = |e: der::Error| format!("TSTInfo: {e}");
    let seq = Any::from_der(der_bytes).map_err(err)?;
    if seq.tag() != Tag::Sequence {
        return Err(format!("TSTInfo is a {}, not a SEQUENCE", seq.tag()));
    }
    let mut r = SliceReader::new(seq.value()).map_err(err)?;
    let version = Int::decode(&mut r).map_err(err)?;
    if version.as_bytes() != [1] {
        return Err(format!(
            "TSTInfo version {} is not 1",
            hex(version.as_bytes())
        ));
    }
    let _policy = ObjectIdentifier::decode(&mut r).map_err(err)?;
    let imprint = MessageImprint::decode(&mut r).map_err(err)?;
    let _serial = Int::decode(&mut r).map_err(err)?;
    let time = Any::decode(&mut r).map_err(err)?;
    if time.tag() != Tag::GeneralizedTime {
        return Err(format!("TSTInfo genTime is a {}", time.tag()));
    }
    let text = std::str::from_utf8(time.value()).map_err(|_| "genTime is not text".to_owned())?;
    let gen_time = generalized_time(text)
        .ok_or_else(|| format!("genTime {:?} is not YYYYMMDDHHMMSS[.f]Z", shown(text)))?;
    // accuracy (SEQUENCE), ordering (BOOLEAN), nonce (INTEGER), tsa [0], extensions [1]: the
    // nonce is the only INTEGER.
    let mut nonce = None;
    while !r.is_finished() {
        let item = Any::decode(&mut r).map_err(err)?;
        if item.tag() == Tag::Integer {
            nonce = Some(item.decode_as::<Int>().map_err(err)?);
            break;
        }
    }
    Ok(TstFields {
        imprint,
        gen_time,
        nonce,
    })
}

fn check(
    url: &str,
    der_bytes: &[u8],
    digest: DigestAlg,
    imprint: &[u8],
    nonce: u64,
) -> Result<Token, TspError> {
    let u = || url.to_owned();
    let reply = read_reply(der_bytes).map_err(|e| TspError::MalformedReply {
        url: u(),
        content_type: None,
        detail: e.to_string(),
    })?;
    if reply.status > 1 {
        return Err(TspError::NotGranted {
            url: u(),
            status: reply.status,
            status_string: reply.status_string,
            fail_info: reply.fail_info,
        });
    }
    let token_der = reply.token.ok_or_else(|| TspError::NoToken { url: u() })?;
    let malformed = |detail: String| TspError::MalformedToken { url: u(), detail };

    // A TSA's reply is bytes from the network: opened within the same budgets as a signature.
    let sd = match open(&token_der, "SignedData") {
        Ok(o) => o.signed_data,
        Err(OpenError::NotSignedData(content_type)) => {
            return Err(TspError::NotSignedData {
                url: u(),
                content_type,
            });
        }
        Err(OpenError::ContentInfo(e)) => return Err(malformed(format!("ContentInfo: {e}"))),
        Err(e) => return Err(malformed(e.to_string())),
    };
    if sd.encap.econtent_type.to_string() != TST_INFO {
        return Err(TspError::WrongContentType {
            url: u(),
            econtent_type: sd.encap.econtent_type.to_string(),
        });
    }
    let tst_der = sd
        .encap
        .econtent
        .as_ref()
        .ok_or_else(|| malformed("the SignedData carries no TSTInfo".into()))?
        .decode_as::<OctetString>()
        .map_err(|e| malformed(format!("eContent: {e}")))?;
    let tst = tst_fields(tst_der.as_bytes()).map_err(malformed)?;

    let alg_oid = tst.imprint.hash_algorithm.oid.to_string();
    if DigestAlg::from_oid(&alg_oid) != Some(digest) {
        return Err(TspError::ImprintAlgorithmMismatch {
            url: u(),
            expected: digest.name(),
            found: DigestAlg::from_oid(&alg_oid).map_or(alg_oid, |a| a.name().to_owned()),
        });
    }
    if tst.imprint.hashed_message.as_bytes() != imprint {
        return Err(TspError::ImprintMismatch {
            url: u(),
            expected: hex(imprint),
            found: hex(tst.imprint.hashed_message.as_bytes()),
        });
    }
    let sent = nonce_int(nonce).map_err(|e| TspError::Encode {
        url: u(),
        detail: e.to_string(),
    })?;
    match &tst.nonce {
        None => return Err(TspError::NonceMissing { url: u() }),
        Some(n) if n != &sent => {
            return Err(TspError::NonceMismatch {
                url: u(),
                sent: hex(sent.as_bytes()),
                received: hex(n.as_bytes()),
            });
        }
        Some(_) => {}
    }

    // RFC 3161 §2.4.2: the token carries the TSA's signature and no other.
    let si = match sd.signer_infos.as_slice() {
        [si] => si,
        [] => return Err(malformed("the SignedData has no SignerInfo".into())),
        more => {
            return Err(malformed(format!(
                "the SignedData has {} SignerInfos; a time-stamp token has exactly one",
                more.len()
            )));
        }
    };
    let cert = find_cert(&si.sid, &sd.certificates)
        .ok_or_else(|| TspError::TsaCertificateMissing { url: u() })?;
    let bad_sig = |detail: String| TspError::BadTokenSignature { url: u(), detail };
    // RFC 5652 §5.3: with signed attributes, contentType must be there and name the eContentType.
    if let Some(attrs) = &si.signed_attrs {
        let ct = attrs
            .iter()
            .find(|a| a.oid.to_string() == CONTENT_TYPE_ATTR)
            .and_then(|a| a.values.iter().next())
            .and_then(|v| v.decode_as::<ObjectIdentifier>().ok());
        match ct {
            Some(oid) if oid.to_string() == TST_INFO => {}
            Some(oid) => {
                return Err(bad_sig(format!(
                    "the contentType attribute names {oid}, not id-ct-TSTInfo"
                )));
            }
            None => {
                return Err(bad_sig(
                    "the signed attributes have no contentType (RFC 5652 §5.3)".into(),
                ));
            }
        }
    }
    let cms = verify_signer_info(si, tst_der.as_bytes(), Some(cert));
    if !cms.message_digest_match || !cms.signature_valid {
        return Err(bad_sig(
            cms.error
                .unwrap_or_else(|| "the SignerInfo does not verify".into()),
        ));
    }
    Ok(Token {
        der: token_der,
        gen_time: tst.gen_time,
        tsa: Some(cert.tbs_certificate.subject.to_string()),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn request_encoding_round_trips() {
        let imprint = [7u8; 32];
        let der = encode_request(DigestAlg::Sha256, &imprint, 0x8000_0000_0000_0001).unwrap();
        let req = TimeStampReq::from_der(&der).unwrap();
        assert_eq!(req.version, TspVersion::V1);
        assert!(req.cert_req);
        assert_eq!(req.message_imprint.hash_algorithm.oid, SHA256_OID);
        assert_eq!(
            req.message_imprint.hash_algorithm.parameters,
            Some(Any::null())
        );
        assert_eq!(req.message_imprint.hashed_message.as_bytes(), imprint);
        // Positive: a leading zero octet before a set top bit.
        assert_eq!(
            req.nonce.unwrap().as_bytes(),
            [0, 0x80, 0, 0, 0, 0, 0, 0, 1]
        );
        assert!(matches!(
            encode_request(DigestAlg::Sha256, &[0; 20], 1),
            Err(TspError::ImprintLength {
                expected: 32,
                found: 20,
                ..
            })
        ));
        assert!(matches!(
            encode_request(DigestAlg::Md5, &[0; 16], 1),
            Err(TspError::UnsupportedDigest { .. })
        ));
    }

    fn seq(parts: &[&[u8]]) -> Vec<u8> {
        Any::new(Tag::Sequence, parts.concat())
            .unwrap()
            .to_der()
            .unwrap()
    }

    #[test]
    fn rejection_reports_status_string_and_fail_info() {
        let text = Any::new(Tag::Utf8String, b"policy says no\n".to_vec())
            .unwrap()
            .to_der()
            .unwrap();
        // failInfo badRequest (bit 2) and timeNotAvailable (bit 14).
        let status = seq(&[&[2, 1, 2], &seq(&[&text]), &[3, 3, 1, 0x20, 0x02]]);
        let reply = seq(&[&status]);
        match check_response(&reply, DigestAlg::Sha256, &[0; 32], 1) {
            Err(e @ TspError::NotGranted { .. }) => {
                let TspError::NotGranted {
                    status,
                    status_string,
                    fail_info,
                    ..
                } = &e
                else {
                    unreachable!()
                };
                assert_eq!(*status, 2);
                assert_eq!(status_string.as_deref(), Some("policy says no\\n"));
                assert_eq!(fail_info, &["badRequest", "timeNotAvailable"]);
                let msg = e.to_string();
                assert!(
                    msg.contains("rejection") && msg.contains("the TSA reply"),
                    "{msg}"
                );
            }
            other => panic!("{other:?}"),
        }
        // A status no typed decoder knows is still a refusal, not "malformed".
        let reply = seq(&[&seq(&[&[2, 1, 42]])]);
        assert!(matches!(
            check_response(&reply, DigestAlg::Sha256, &[0; 32], 1),
            Err(TspError::NotGranted { status: 42, .. })
        ));
    }

    #[test]
    fn granted_without_token_and_non_signed_data_token() {
        let granted = seq(&[&[2, 1, 0]]);
        assert!(matches!(
            check_response(&seq(&[&granted]), DigestAlg::Sha256, &[0; 32], 1),
            Err(TspError::NoToken { .. })
        ));
        // ContentInfo { id-data, [0] OCTET STRING }.
        let oid = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1")
            .to_der()
            .unwrap();
        let content = [0xa0, 3, 4, 1, 0];
        let token = seq(&[&oid, &content]);
        assert!(matches!(
            check_response(&seq(&[&granted, &token]), DigestAlg::Sha256, &[0; 32], 1),
            Err(TspError::NotSignedData { .. })
        ));
    }

    #[test]
    fn garbage_and_trailing_bytes_are_malformed() {
        for bad in [&b"<html>"[..], b"", &[0x30, 0x03, 0x30, 0x01]] {
            assert!(matches!(
                check_response(bad, DigestAlg::Sha256, &[0; 32], 1),
                Err(TspError::MalformedReply { .. })
            ));
        }
        let mut reply = seq(&[&seq(&[&[2, 1, 0]])]);
        reply.push(0);
        assert!(matches!(
            check_response(&reply, DigestAlg::Sha256, &[0; 32], 1),
            Err(TspError::MalformedReply { .. })
        ));
    }
}
