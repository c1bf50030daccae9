//! The RFC 3161 client: asks a time-stamping authority (TSA) to sign a hash the caller computed,
//! and checks what comes back before anything relies on it.
//!
//! Transport is plain HTTP (RFC 3161 §3.4) over [`std::net::TcpStream`], written here so that
//! every byte the network controls goes through one bounded parser ([`MAX_HEADER_BYTES`],
//! [`MAX_BODY_BYTES`], an overall deadline). `https://` is refused on purpose: a time-stamp token
//! is signed by the TSA, so the `http://` endpoint every public TSA offers is as safe to use.
//!
//! What the reply must show before a [`Token`] is returned: a TimeStampResp whose status is
//! granted (or grantedWithMods), a token that is CMS SignedData over an id-ct-TSTInfo, the
//! messageImprint and nonce we sent, and a TSA SignerInfo whose messageDigest and signature
//! check with the TSA certificate carried in the token (we ask for it with `certReq`). Whether
//! that certificate chains to a trusted root, for time stamping, is decided later by the
//! verifier (`pki::chain`), not here.
#![deny(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used
)]

use crate::read::hex;
use std::fmt;
use std::io::{Read, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use cms::content_info::ContentInfo;
use der::asn1::{Any, BitString, Int, ObjectIdentifier, OctetString, Utf8StringRef};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use spki::AlgorithmIdentifier;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

use crate::cms::lenient;
use crate::cms::open::find_cert;
use crate::cms::signer::verify_signer_info;
use crate::cms::timestamp::generalized_time;
use crate::hash::DigestAlg;

/// Response status line and headers, all 1xx interim heads included: 64 KiB. This is the order
/// of what HTTP servers accept for a request head (nginx `large_client_header_buffers` 4 × 8 KiB,
/// Apache `LimitRequestFieldSize` 8 KiB × 100 fields); a TSA reply needs a few hundred bytes.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Response body: 1 MiB. A TimeStampResp is a token plus the TSA's chain, 2 to 10 KiB from
/// public TSAs (DigiCert, Sectigo, GlobalSign, FreeTSA); 1 MiB leaves room for long chains and
/// CRLs inside the token while bounding what a hostile server can make us hold.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Chunked framing on top of the body (chunk-size lines, extensions, trailers): 64 KiB, the same
/// as a head. A TSA sends its reply in one or a few chunks.
pub const MAX_CHUNK_FRAMING_BYTES: usize = 64 * 1024;

/// One chunk-size line with its extensions. RFC 9112 §7.1.1 sets no limit; a size is at most 16
/// hex digits and TSAs send no extensions, so 1 KiB is generous.
const MAX_CHUNK_LINE_BYTES: usize = 1024;

/// Addresses tried for one host name (a name may resolve to many; each try can take until the
/// deadline).
const MAX_ADDRESSES: usize = 8;

/// Longest URL accepted: RFC 9110 §4.1 asks for at least 8000 octets.
const MAX_URL_BYTES: usize = 8000;

/// Longest timeout honoured: a longer one is taken as a day, so that `Instant` arithmetic cannot
/// overflow.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Server-provided text (HTTP reason phrase, statusString, header values) shown in an error is
/// cut to this many characters.
const MAX_SHOWN_CHARS: usize = 512;

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;

const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
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

/// Why no token was obtained. `url` is empty when the reply was checked on its own
/// ([`check_response`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TspError {
    /// The URL is not `http://host[:port]/path`.
    InvalidUrl { url: String, reason: String },
    /// A scheme other than `http` (`https` included).
    UnsupportedScheme { url: String, scheme: String },
    /// The digest algorithm cannot be used for an imprint (MD5).
    UnsupportedDigest { url: String, digest: &'static str },
    /// The imprint's length is not the digest's output length.
    ImprintLength {
        url: String,
        digest: &'static str,
        expected: usize,
        found: usize,
    },
    /// The operating system's random source failed (the nonce).
    Random { url: String, detail: String },
    /// The request could not be DER-encoded.
    Encode { url: String, detail: String },
    /// Name resolution failed or no address accepted the connection.
    Unreachable { url: String, detail: String },
    /// The deadline passed.
    Timeout {
        url: String,
        after: Duration,
        during: &'static str,
    },
    /// The connection failed after it was made.
    Transport { url: String, detail: String },
    /// The reply is not well-formed HTTP/1.x.
    BadHttp { url: String, detail: String },
    /// The reply's head or body is over its budget.
    ResponseTooLarge {
        url: String,
        part: &'static str,
        limit: usize,
    },
    /// An HTTP status other than 200.
    HttpStatus {
        url: String,
        code: u16,
        reason: String,
    },
    /// The body is not a TimeStampResp. `content_type` is set when the server did not label it
    /// `application/timestamp-reply` either.
    MalformedReply {
        url: String,
        content_type: Option<String>,
        detail: String,
    },
    /// The TSA answered with a status other than granted / grantedWithMods.
    NotGranted {
        url: String,
        status: u32,
        status_string: Option<String>,
        fail_info: Vec<String>,
    },
    /// Granted, but no timeStampToken.
    NoToken { url: String },
    /// The token is a ContentInfo of another type than SignedData.
    NotSignedData { url: String, content_type: String },
    /// The token's SignedData does not encapsulate a TSTInfo.
    WrongContentType { url: String, econtent_type: String },
    /// The token or its TSTInfo cannot be read.
    MalformedToken { url: String, detail: String },
    /// The TSTInfo's imprint uses another algorithm than the request.
    ImprintAlgorithmMismatch {
        url: String,
        expected: &'static str,
        found: String,
    },
    /// The TSTInfo's imprint is not the hash that was sent (hex).
    ImprintMismatch {
        url: String,
        expected: String,
        found: String,
    },
    /// The TSTInfo has no nonce although the request had one.
    NonceMissing { url: String },
    /// The TSTInfo's nonce is not the one sent (hex of the DER INTEGER contents).
    NonceMismatch {
        url: String,
        sent: String,
        received: String,
    },
    /// No certificate in the token matches its SignerInfo, so its signature cannot be checked.
    TsaCertificateMissing { url: String },
    /// The TSA's SignerInfo does not check: messageDigest, contentType or signature.
    BadTokenSignature { url: String, detail: String },
}

impl TspError {
    /// The TSA URL the error is about; empty for a reply checked on its own.
    pub fn url(&self) -> &str {
        match self {
            TspError::InvalidUrl { url, .. }
            | TspError::UnsupportedScheme { url, .. }
            | TspError::UnsupportedDigest { url, .. }
            | TspError::ImprintLength { url, .. }
            | TspError::Random { url, .. }
            | TspError::Encode { url, .. }
            | TspError::Unreachable { url, .. }
            | TspError::Timeout { url, .. }
            | TspError::Transport { url, .. }
            | TspError::BadHttp { url, .. }
            | TspError::ResponseTooLarge { url, .. }
            | TspError::HttpStatus { url, .. }
            | TspError::MalformedReply { url, .. }
            | TspError::NotGranted { url, .. }
            | TspError::NoToken { url }
            | TspError::NotSignedData { url, .. }
            | TspError::WrongContentType { url, .. }
            | TspError::MalformedToken { url, .. }
            | TspError::ImprintAlgorithmMismatch { url, .. }
            | TspError::ImprintMismatch { url, .. }
            | TspError::NonceMissing { url }
            | TspError::NonceMismatch { url, .. }
            | TspError::TsaCertificateMissing { url }
            | TspError::BadTokenSignature { url, .. } => url,
        }
    }
}

/// "TSA http://…" or, for a reply checked without a URL, "the TSA reply".
struct Who<'a>(&'a str);

impl fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("the TSA reply")
        } else {
            write!(f, "TSA {}", self.0)
        }
    }
}

impl fmt::Display for TspError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = Who(self.url());
        match self {
            TspError::InvalidUrl { url, reason } => write!(
                f,
                "TSA URL \"{url}\" is not usable ({reason}); expected http://host[:port]/path"
            ),
            TspError::UnsupportedScheme { url, scheme } if scheme.eq_ignore_ascii_case("https") => {
                write!(
                    f,
                    "TSA URL {url}: https is not supported; RFC 3161 tokens are signed by the TSA \
                     and checked on receipt, so the TSA's http:// endpoint is safe to use"
                )
            }
            TspError::UnsupportedScheme { url, scheme } => write!(
                f,
                "TSA URL {url}: scheme {scheme:?} is not supported; use the TSA's http:// endpoint"
            ),
            TspError::UnsupportedDigest { digest, .. } => write!(
                f,
                "{who}: {digest} cannot be used for a time-stamp imprint (use sha256 or stronger)"
            ),
            TspError::ImprintLength {
                digest,
                expected,
                found,
                ..
            } => write!(
                f,
                "{who}: a {digest} imprint is {expected} bytes, the one given is {found}"
            ),
            TspError::Random { detail, .. } => {
                write!(
                    f,
                    "{who}: no random nonce from the operating system: {detail}"
                )
            }
            TspError::Encode { detail, .. } => {
                write!(f, "{who}: the TimeStampReq does not encode: {detail}")
            }
            TspError::Unreachable { detail, .. } => write!(f, "{who} is unreachable: {detail}"),
            TspError::Timeout { after, during, .. } => write!(
                f,
                "{who} timed out while {during} (timeout {} ms)",
                after.as_millis()
            ),
            TspError::Transport { detail, .. } => {
                write!(f, "{who}: connection failed: {detail}")
            }
            TspError::BadHttp { detail, .. } => {
                write!(f, "{who} sent a malformed HTTP reply: {detail}")
            }
            TspError::ResponseTooLarge { part, limit, .. } => write!(
                f,
                "{who} sent HTTP response {part} over the {limit}-byte limit; refused"
            ),
            TspError::HttpStatus { code, reason, .. } => {
                write!(f, "{who} answered HTTP {code} {reason:?}")
            }
            TspError::MalformedReply {
                content_type,
                detail,
                ..
            } => {
                write!(
                    f,
                    "{who} sent a reply that is not an RFC 3161 TimeStampResp"
                )?;
                if let Some(ct) = content_type {
                    write!(f, " (Content-Type {ct:?}, not application/timestamp-reply)")?;
                }
                write!(f, ": {detail}")
            }
            TspError::NotGranted {
                status,
                status_string,
                fail_info,
                ..
            } => {
                write!(
                    f,
                    "{who} did not grant the time stamp: status {status} ({})",
                    status_name(*status)
                )?;
                if let Some(s) = status_string {
                    write!(f, ", statusString {s:?}")?;
                }
                if !fail_info.is_empty() {
                    write!(f, ", failInfo {}", fail_info.join(", "))?;
                }
                Ok(())
            }
            TspError::NoToken { .. } => {
                write!(f, "{who} granted the request but sent no timeStampToken")
            }
            TspError::NotSignedData { content_type, .. } => write!(
                f,
                "{who}: the timeStampToken is a {content_type} ContentInfo, not SignedData"
            ),
            TspError::WrongContentType { econtent_type, .. } => write!(
                f,
                "{who}: the timeStampToken encapsulates {econtent_type}, not id-ct-TSTInfo \
                 ({TST_INFO})"
            ),
            TspError::MalformedToken { detail, .. } => {
                write!(f, "{who}: malformed timeStampToken: {detail}")
            }
            TspError::ImprintAlgorithmMismatch {
                expected, found, ..
            } => write!(
                f,
                "{who}: the token's imprint uses {found}, the request {expected}"
            ),
            TspError::ImprintMismatch {
                expected, found, ..
            } => write!(
                f,
                "{who}: the token timestamps {found}, not the hash sent ({expected})"
            ),
            TspError::NonceMissing { .. } => write!(
                f,
                "{who}: the token has no nonce although the request had one (RFC 3161 §2.4.2)"
            ),
            TspError::NonceMismatch { sent, received, .. } => write!(
                f,
                "{who}: the token's nonce {received} is not the nonce sent ({sent}); a replayed \
                 or substituted reply"
            ),
            TspError::TsaCertificateMissing { .. } => write!(
                f,
                "{who}: no certificate in the token matches its SignerInfo, so its signature \
                 cannot be checked"
            ),
            TspError::BadTokenSignature { detail, .. } => {
                write!(f, "{who}: the token's signature does not check: {detail}")
            }
        }
    }
}

impl std::error::Error for TspError {}

fn status_name(status: u32) -> &'static str {
    match status {
        0 => "granted",
        1 => "grantedWithMods",
        2 => "rejection",
        3 => "waiting",
        4 => "revocationWarning",
        5 => "revocationNotification",
        _ => "unknown",
    }
}

/// PKIFailureInfo bit names used by RFC 3161 §2.4.2 (RFC 4210 names the others).
fn fail_info_name(bit: usize) -> String {
    match bit {
        0 => "badAlg".into(),
        2 => "badRequest".into(),
        5 => "badDataFormat".into(),
        14 => "timeNotAvailable".into(),
        15 => "unacceptedPolicy".into(),
        16 => "unacceptedExtension".into(),
        17 => "addInfoNotAvailable".into(),
        25 => "systemFailure".into(),
        n => format!("bit {n}"),
    }
}

/// Server text made safe to show: control characters escaped, cut to [`MAX_SHOWN_CHARS`].
fn shown(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i >= MAX_SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
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
// URL

/// Where to connect and what to send in the request line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    /// Host name or IP address, without IPv6 brackets.
    host: String,
    port: u16,
    /// The authority as given, for the Host header.
    host_header: String,
    /// Path and query, starting with `/`.
    path: String,
}

fn parse_url(url: &str) -> Result<Endpoint, TspError> {
    let bad = |reason: &str| TspError::InvalidUrl {
        url: shown(url),
        reason: reason.to_owned(),
    };
    if url.len() > MAX_URL_BYTES {
        return Err(bad("longer than 8000 bytes"));
    }
    if url
        .bytes()
        .any(|b| !b.is_ascii_graphic() || b == b'\\' || b == b'"')
    {
        return Err(bad(
            "contains spaces, control, quote or non-ASCII characters; percent-encode them",
        ));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(bad("no scheme"));
    };
    if !scheme.eq_ignore_ascii_case("http") {
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(bad("malformed scheme"));
        }
        return Err(TspError::UnsupportedScheme {
            url: url.to_owned(),
            scheme: scheme.to_owned(),
        });
    }
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at_checked(at).unwrap_or((rest, "")),
        None => (rest, ""),
    };
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    if authority.contains('@') {
        return Err(bad("user information in the URL is not supported"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed '[' in the host"))?;
        if addr.parse::<Ipv6Addr>().is_err() {
            return Err(bad("the bracketed host is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| bad("junk after the IPv6 address"))?,
            ),
        };
        (addr, port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if !authority.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        return Err(bad("the host has characters a host name cannot have"));
    }
    let port = match port {
        None | Some("") => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(bad("the port is not a number from 1 to 65535")),
        },
    };
    Ok(Endpoint {
        host: host.to_owned(),
        port,
        host_header: authority.to_owned(),
        path,
    })
}

// ---------------------------------------------------------------------------------------------
// HTTP exchange

/// The deadline of one exchange.
struct Clock {
    deadline: Instant,
    timeout: Duration,
}

impl Clock {
    fn new(timeout: Duration) -> Clock {
        let timeout = timeout.min(MAX_TIMEOUT);
        let now = Instant::now();
        Clock {
            deadline: now.checked_add(timeout).unwrap_or(now),
            timeout,
        }
    }

    /// Time left, or the timeout error naming what was being done.
    fn remaining(&self, url: &str, during: &'static str) -> Result<Duration, TspError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(self.expired(url, during))
        } else {
            Ok(left)
        }
    }

    fn expired(&self, url: &str, during: &'static str) -> TspError {
        TspError::Timeout {
            url: url.to_owned(),
            after: self.timeout,
            during,
        }
    }

    fn io_error(&self, url: &str, during: &'static str, e: &std::io::Error) -> TspError {
        use std::io::ErrorKind;
        match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => self.expired(url, during),
            _ => TspError::Transport {
                url: url.to_owned(),
                detail: format!("{during}: {e}"),
            },
        }
    }
}

fn connect(url: &str, ep: &Endpoint, clock: &Clock) -> Result<TcpStream, TspError> {
    let unreachable = |detail: String| TspError::Unreachable {
        url: url.to_owned(),
        detail,
    };
    // Name resolution has no timeout of its own in std; the deadline applies from here on.
    let addrs: Vec<SocketAddr> = (ep.host.as_str(), ep.port)
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve {}: {e}", ep.host)))?
        .take(MAX_ADDRESSES)
        .collect();
    let mut last = unreachable(format!("{} resolves to no address", ep.host));
    for addr in addrs {
        let left = clock.remaining(url, "connecting")?;
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                last = clock.expired(url, "connecting");
            }
            Err(e) => last = unreachable(format!("connecting to {addr}: {e}")),
        }
    }
    Err(last)
}

fn post(
    url: &str,
    ep: &Endpoint,
    body: &[u8],
    timeout: Duration,
) -> Result<HttpResponse, TspError> {
    let clock = Clock::new(timeout);
    clock.remaining(url, "connecting")?;
    let mut stream = connect(url, ep, &clock)?;
    // Best effort: the request goes out in one write either way.
    let _ = stream.set_nodelay(true);
    let mut message = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: bingate/{}\r\n\
         Content-Type: application/timestamp-query\r\nAccept: application/timestamp-reply\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        ep.path,
        ep.host_header,
        env!("CARGO_PKG_VERSION"),
        body.len()
    )
    .into_bytes();
    message.extend_from_slice(body);
    const SENDING: &str = "sending the request";
    stream
        .set_write_timeout(Some(clock.remaining(url, SENDING)?))
        .map_err(|e| clock.io_error(url, SENDING, &e))?;
    stream
        .write_all(&message)
        .and_then(|()| stream.flush())
        .map_err(|e| clock.io_error(url, SENDING, &e))?;
    const WAITING: &str = "waiting for the reply";
    let mut parser = ResponseParser::new(url);
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        stream
            .set_read_timeout(Some(clock.remaining(url, WAITING)?))
            .map_err(|e| clock.io_error(url, WAITING, &e))?;
        match stream.read(&mut chunk) {
            Ok(0) => return parser.finish(),
            Ok(n) => {
                let data = chunk.get(..n).unwrap_or_default();
                if let Some(reply) = parser.feed(data)? {
                    return Ok(reply);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(clock.io_error(url, WAITING, &e)),
        }
    }
}

/// A complete 200 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HttpResponse {
    content_type: Option<String>,
    body: Vec<u8>,
}

#[derive(Debug)]
enum Framing {
    Length(usize),
    Chunked(Chunked),
    Close,
}

/// Progress through a chunked body: `pos` is the next undecoded byte of the parser's buffer.
#[derive(Debug, Default)]
struct Chunked {
    pos: usize,
    body: Vec<u8>,
    in_trailer: bool,
}

#[derive(Debug)]
struct Head {
    status: u16,
    reason: String,
    content_type: Option<String>,
    /// Framing errors only matter for a 200: the status is reported first.
    framing: Result<Framing, TspError>,
}

#[derive(Debug)]
enum State {
    Head,
    Body {
        content_type: Option<String>,
        framing: Framing,
    },
}

/// An incremental HTTP/1.x response parser: bytes in as they arrive, a reply out once complete.
/// Each byte is examined a bounded number of times, and the buffer never holds more than the
/// budgets plus one read.
#[derive(Debug)]
struct ResponseParser<'u> {
    url: &'u str,
    buf: Vec<u8>,
    /// Bytes of `buf` already searched for the end of the head.
    scanned: usize,
    /// Head bytes consumed by interim (1xx) responses.
    head_total: usize,
    state: State,
}

impl<'u> ResponseParser<'u> {
    fn new(url: &'u str) -> Self {
        ResponseParser {
            url,
            buf: Vec::new(),
            scanned: 0,
            head_total: 0,
            state: State::Head,
        }
    }

    fn bad(&self, detail: impl Into<String>) -> TspError {
        TspError::BadHttp {
            url: self.url.to_owned(),
            detail: detail.into(),
        }
    }

    fn too_large(&self, part: &'static str, limit: usize) -> TspError {
        TspError::ResponseTooLarge {
            url: self.url.to_owned(),
            part,
            limit,
        }
    }

    /// Takes the next bytes; `Some` once the reply is complete.
    fn feed(&mut self, data: &[u8]) -> Result<Option<HttpResponse>, TspError> {
        self.buf.extend_from_slice(data);
        loop {
            match &mut self.state {
                State::Head => {
                    let head_room = MAX_HEADER_BYTES.saturating_sub(self.head_total);
                    let Some(end) = head_end(&self.buf, self.scanned) else {
                        if self.buf.len() > head_room {
                            return Err(self.too_large("headers", MAX_HEADER_BYTES));
                        }
                        self.scanned = self.buf.len();
                        return Ok(None);
                    };
                    if end > head_room {
                        return Err(self.too_large("headers", MAX_HEADER_BYTES));
                    }
                    let head = parse_head(self.url, self.buf.get(..end).unwrap_or_default())?;
                    self.buf.drain(..end);
                    self.scanned = 0;
                    self.head_total = self.head_total.saturating_add(end);
                    match head.status {
                        101 => return Err(self.bad("101 Switching Protocols to a POST")),
                        100..=199 => continue,
                        200 => {}
                        code => {
                            return Err(TspError::HttpStatus {
                                url: self.url.to_owned(),
                                code,
                                reason: head.reason,
                            });
                        }
                    }
                    self.state = State::Body {
                        content_type: head.content_type,
                        framing: head.framing?,
                    };
                }
                State::Body {
                    content_type,
                    framing,
                } => {
                    let body = match framing {
                        Framing::Length(n) => {
                            let n = *n;
                            if self.buf.len() < n {
                                return Ok(None);
                            }
                            // Bytes after the declared length are not part of the reply.
                            self.buf.truncate(n);
                            std::mem::take(&mut self.buf)
                        }
                        Framing::Close => {
                            if self.buf.len() > MAX_BODY_BYTES {
                                return Err(self.too_large("body", MAX_BODY_BYTES));
                            }
                            return Ok(None);
                        }
                        Framing::Chunked(c) => {
                            let raw_limit = MAX_BODY_BYTES.saturating_add(MAX_CHUNK_FRAMING_BYTES);
                            if self.buf.len() > raw_limit {
                                return Err(TspError::ResponseTooLarge {
                                    url: self.url.to_owned(),
                                    part: "chunked body with framing",
                                    limit: raw_limit,
                                });
                            }
                            match dechunk(self.url, &self.buf, c)? {
                                true => std::mem::take(&mut c.body),
                                false => return Ok(None),
                            }
                        }
                    };
                    return Ok(Some(HttpResponse {
                        content_type: content_type.take(),
                        body,
                    }));
                }
            }
        }
    }

    /// The peer closed the connection: a reply delimited by close is complete, anything else
    /// is cut short.
    fn finish(mut self) -> Result<HttpResponse, TspError> {
        match &mut self.state {
            State::Head if self.buf.is_empty() && self.head_total == 0 => {
                Err(self.bad("the server closed the connection without answering"))
            }
            State::Head => Err(self.bad("the connection closed inside the response head")),
            State::Body {
                framing: Framing::Length(n),
                ..
            } => {
                let n = *n;
                Err(self.bad(format!(
                    "the body stopped after {} of the {n} bytes of Content-Length",
                    self.buf.len()
                )))
            }
            State::Body {
                framing: Framing::Chunked(_),
                ..
            } => Err(self.bad("the chunked body stopped before its last chunk")),
            State::Body {
                framing: Framing::Close,
                content_type,
            } => Ok(HttpResponse {
                content_type: content_type.take(),
                body: std::mem::take(&mut self.buf),
            }),
        }
    }
}

/// The offset just past the blank line that ends a head, searching from `from` (minus the few
/// bytes a terminator can straddle). Lines may end in CRLF or, leniently, LF (RFC 9112 §2.2).
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    let tail = buf.get(start..)?;
    let mut prev_line_empty_at = None;
    for (i, &b) in tail.iter().enumerate() {
        if b != b'\n' {
            continue;
        }
        let at = start.checked_add(i)?;
        // The line that ends here is empty if the previous byte is '\n' or it is "\r\n" after a
        // '\n'.
        let before = at.checked_sub(1).and_then(|j| buf.get(j)).copied();
        let before2 = at.checked_sub(2).and_then(|j| buf.get(j)).copied();
        let empty = before == Some(b'\n') || (before == Some(b'\r') && before2 == Some(b'\n'));
        if empty && at > 1 {
            prev_line_empty_at = Some(at.checked_add(1)?);
            break;
        }
    }
    prev_line_empty_at
}

fn parse_head(url: &str, raw: &[u8]) -> Result<Head, TspError> {
    let bad = |detail: String| TspError::BadHttp {
        url: url.to_owned(),
        detail,
    };
    let mut lines = raw
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next().unwrap_or_default();
    let status_line =
        std::str::from_utf8(status_line).map_err(|_| bad("the status line is not text".into()))?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(bad(format!(
            "not an HTTP/1.x status line: {:?}",
            shown(status_line)
        )));
    }
    let code = parts.next().unwrap_or_default();
    let status = match code.parse::<u16>() {
        Ok(n) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) && n >= 100 => n,
        _ => return Err(bad(format!("bad status code {:?}", shown(code)))),
    };
    let reason = shown(parts.next().unwrap_or_default());

    let mut content_type = None;
    let mut content_length: Option<u64> = None;
    let mut content_length_conflict = false;
    let mut transfer_encoding: Vec<String> = Vec::new();
    let mut content_encoding: Option<String> = None;
    for line in lines {
        if line.is_empty() {
            continue;
        }
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            return Err(bad("obsolete header line folding".into()));
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| bad("a header line without ':'".into()))?;
        let (name, value) = line.split_at_checked(colon).unwrap_or((line, b""));
        let value = value.get(1..).unwrap_or_default();
        if name.is_empty()
            || !name
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
        {
            return Err(bad(format!(
                "bad header name {:?}",
                shown(&String::from_utf8_lossy(name))
            )));
        }
        let value = String::from_utf8_lossy(value.trim_ascii()).into_owned();
        if name.eq_ignore_ascii_case(b"content-type") {
            content_type.get_or_insert(value);
        } else if name.eq_ignore_ascii_case(b"content-length") {
            // A list of equal values is allowed (RFC 9112 §6.3); anything else is a conflict.
            for v in value.split(',') {
                let v = v.trim();
                match v.parse::<u64>() {
                    Ok(n) if v.bytes().all(|b| b.is_ascii_digit()) => {
                        if content_length.is_some_and(|old| old != n) {
                            content_length_conflict = true;
                        }
                        content_length = Some(n);
                    }
                    _ => content_length_conflict = true,
                }
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            transfer_encoding.extend(
                value
                    .split(',')
                    .map(|c| c.trim().to_ascii_lowercase())
                    .filter(|c| !c.is_empty()),
            );
        } else if name.eq_ignore_ascii_case(b"content-encoding") {
            content_encoding = Some(value);
        }
    }

    let framing = (|| {
        if let Some(ce) = &content_encoding {
            if !ce.trim().eq_ignore_ascii_case("identity") {
                return Err(bad(format!(
                    "unsupported Content-Encoding {:?} (none was asked for)",
                    shown(ce)
                )));
            }
        }
        // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3).
        if !transfer_encoding.is_empty() {
            return if transfer_encoding == ["chunked"] {
                Ok(Framing::Chunked(Chunked::default()))
            } else {
                Err(bad(format!(
                    "unsupported Transfer-Encoding {:?}",
                    shown(&transfer_encoding.join(", "))
                )))
            };
        }
        if content_length_conflict {
            return Err(bad("invalid or conflicting Content-Length".into()));
        }
        match content_length {
            Some(n) => match usize::try_from(n) {
                Ok(n) if n <= MAX_BODY_BYTES => Ok(Framing::Length(n)),
                _ => Err(TspError::ResponseTooLarge {
                    url: url.to_owned(),
                    part: "body",
                    limit: MAX_BODY_BYTES,
                }),
            },
            None => Ok(Framing::Close),
        }
    })();
    Ok(Head {
        status,
        reason,
        content_type,
        framing,
    })
}

/// Decodes as many chunks of `buf` as have arrived; `true` once the last chunk and the trailer
/// section are in.
fn dechunk(url: &str, buf: &[u8], c: &mut Chunked) -> Result<bool, TspError> {
    let bad = |detail: &str| TspError::BadHttp {
        url: url.to_owned(),
        detail: format!("chunked body: {detail}"),
    };
    let overflow = || bad("offset overflow");
    loop {
        let rest = buf.get(c.pos..).unwrap_or_default();
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() > MAX_CHUNK_LINE_BYTES {
                return Err(bad("a chunk-size or trailer line is too long"));
            }
            return Ok(false);
        };
        if nl > MAX_CHUNK_LINE_BYTES {
            return Err(bad("a chunk-size or trailer line is too long"));
        }
        let line = rest.get(..nl).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let after_line = c
            .pos
            .checked_add(nl)
            .and_then(|p| p.checked_add(1))
            .ok_or_else(overflow)?;
        if c.in_trailer {
            c.pos = after_line;
            if line.is_empty() {
                return Ok(true);
            }
            continue;
        }
        let size_field = line
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        if size_field.is_empty()
            || size_field.len() > 16
            || !size_field.iter().all(u8::is_ascii_hexdigit)
        {
            return Err(bad("a chunk size is not a hexadecimal number"));
        }
        let size = std::str::from_utf8(size_field)
            .ok()
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .ok_or_else(|| bad("a chunk size does not fit in memory"))?;
        if size == 0 {
            c.pos = after_line;
            c.in_trailer = true;
            continue;
        }
        if c.body
            .len()
            .checked_add(size)
            .is_none_or(|n| n > MAX_BODY_BYTES)
        {
            return Err(TspError::ResponseTooLarge {
                url: url.to_owned(),
                part: "body",
                limit: MAX_BODY_BYTES,
            });
        }
        let data_end = after_line.checked_add(size).ok_or_else(overflow)?;
        let Some(data) = buf.get(after_line..data_end) else {
            return Ok(false);
        };
        let next = match (buf.get(data_end), buf.get(data_end.saturating_add(1))) {
            (None, _) | (Some(b'\r'), None) => return Ok(false),
            (Some(b'\n'), _) => data_end.checked_add(1),
            (Some(b'\r'), Some(b'\n')) => data_end.checked_add(2),
            _ => return Err(bad("a chunk is not followed by CRLF")),
        }
        .ok_or_else(overflow)?;
        c.body.extend_from_slice(data);
        c.pos = next;
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

    let ci =
        ContentInfo::from_der(&token_der).map_err(|e| malformed(format!("ContentInfo: {e}")))?;
    if ci.content_type.to_string() != SIGNED_DATA {
        return Err(TspError::NotSignedData {
            url: u(),
            content_type: ci.content_type.to_string(),
        });
    }
    let sd = lenient::signed_data(&ci.content, "SignedData").map_err(malformed)?;
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

    const URL: &str = "http://tsa.test/";

    fn parse_all(bytes: &[u8]) -> Result<HttpResponse, TspError> {
        let mut p = ResponseParser::new(URL);
        match p.feed(bytes)? {
            Some(r) => Ok(r),
            None => p.finish(),
        }
    }

    fn parse_bytewise(bytes: &[u8]) -> Result<HttpResponse, TspError> {
        let mut p = ResponseParser::new(URL);
        for b in bytes {
            if let Some(r) = p.feed(std::slice::from_ref(b))? {
                return Ok(r);
            }
        }
        p.finish()
    }

    #[test]
    fn http_content_length_body() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\n\
                    Content-Length: 5\r\n\r\nhello";
        for parse in [parse_all, parse_bytewise] {
            let r = parse(raw).unwrap();
            assert_eq!(r.body, b"hello");
            assert_eq!(
                r.content_type.as_deref(),
                Some("application/timestamp-reply")
            );
        }
    }

    #[test]
    fn http_content_length_complete_without_close() {
        let mut p = ResponseParser::new(URL);
        let r = p
            .feed(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcEXTRA")
            .unwrap()
            .unwrap();
        assert_eq!(r.body, b"abc");
    }

    #[test]
    fn http_header_names_are_case_insensitive_and_lf_is_accepted() {
        let raw =
            b"HTTP/1.0 200 OK\nCONTENT-TYPE: application/timestamp-reply\nCoNtEnT-LeNgTh: 2\n\nok";
        let r = parse_all(raw).unwrap();
        assert_eq!(r.body, b"ok");
        assert!(r.content_type.is_some());
    }

    #[test]
    fn http_chunked_body_with_extensions_and_trailers() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                    5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n";
        for parse in [parse_all, parse_bytewise] {
            assert_eq!(parse(raw).unwrap().body, b"hello world");
        }
    }

    #[test]
    fn http_chunked_truncated_is_an_error() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel";
        assert!(matches!(parse_all(raw), Err(TspError::BadHttp { .. })));
    }

    #[test]
    fn http_chunked_bad_size_is_an_error() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n";
        assert!(matches!(parse_all(raw), Err(TspError::BadHttp { .. })));
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n";
        assert!(matches!(parse_all(raw), Err(TspError::BadHttp { .. })));
    }

    #[test]
    fn http_chunked_oversize_body_refused_before_it_arrives() {
        let raw = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            MAX_BODY_BYTES + 1
        );
        assert!(matches!(
            parse_all(raw.as_bytes()),
            Err(TspError::ResponseTooLarge { part: "body", .. })
        ));
    }

    #[test]
    fn http_chunked_framing_overhead_is_bounded() {
        let mut raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        // One-byte chunks: six framing bytes per body byte.
        while raw.len() < MAX_BODY_BYTES + MAX_CHUNK_FRAMING_BYTES + 1024 {
            raw.extend_from_slice(b"1\r\nx\r\n");
        }
        assert!(matches!(
            parse_all(&raw),
            Err(TspError::ResponseTooLarge { .. })
        ));
    }

    #[test]
    fn http_oversize_content_length_refused_at_the_header() {
        let raw = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        let mut p = ResponseParser::new(URL);
        assert!(matches!(
            p.feed(raw.as_bytes()),
            Err(TspError::ResponseTooLarge {
                part: "body",
                limit: MAX_BODY_BYTES,
                ..
            })
        ));
        let raw = "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n";
        assert!(matches!(
            parse_all(raw.as_bytes()),
            Err(TspError::BadHttp { .. })
        ));
    }

    #[test]
    fn http_close_delimited_body_and_its_limit() {
        let raw = b"HTTP/1.1 200 OK\r\n\r\nuntil close";
        assert_eq!(parse_all(raw).unwrap().body, b"until close");
        let mut big = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        big.resize(big.len() + MAX_BODY_BYTES + 1, b'x');
        assert!(matches!(
            parse_all(&big),
            Err(TspError::ResponseTooLarge { part: "body", .. })
        ));
    }

    #[test]
    fn http_headers_too_long_refused() {
        let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
        while raw.len() <= MAX_HEADER_BYTES {
            raw.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        let mut p = ResponseParser::new(URL);
        assert!(matches!(
            p.feed(&raw),
            Err(TspError::ResponseTooLarge {
                part: "headers",
                ..
            })
        ));
        // Also when the head is complete but too long, and when fed slowly.
        raw.extend_from_slice(b"\r\n");
        assert!(matches!(
            parse_all(&raw),
            Err(TspError::ResponseTooLarge {
                part: "headers",
                ..
            })
        ));
        assert!(matches!(
            parse_bytewise(&raw),
            Err(TspError::ResponseTooLarge {
                part: "headers",
                ..
            })
        ));
    }

    #[test]
    fn http_non_200_reports_code_and_reason() {
        let raw = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
        match parse_all(raw) {
            Err(TspError::HttpStatus { code, reason, .. }) => {
                assert_eq!(code, 503);
                assert_eq!(reason, "Service Unavailable");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn http_interim_100_is_skipped() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz";
        for parse in [parse_all, parse_bytewise] {
            assert_eq!(parse(raw).unwrap().body, b"z");
        }
    }

    #[test]
    fn http_malformed_heads() {
        for raw in [
            &b"garbage\r\n\r\n"[..],
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx",
            b"",
            b"HTTP/1.1 200 OK\r\nContent-Le",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        ] {
            assert!(
                matches!(parse_all(raw), Err(TspError::BadHttp { .. })),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn urls() {
        let ep = parse_url("http://tsa.example.com/ts?x=1#frag").unwrap();
        assert_eq!(
            ep,
            Endpoint {
                host: "tsa.example.com".into(),
                port: 80,
                host_header: "tsa.example.com".into(),
                path: "/ts?x=1".into()
            }
        );
        let ep = parse_url("HTTP://[::1]:8080").unwrap();
        assert_eq!((ep.host.as_str(), ep.port), ("::1", 8080));
        assert_eq!(
            (ep.host_header.as_str(), ep.path.as_str()),
            ("[::1]:8080", "/")
        );
        let ep = parse_url("http://127.0.0.1:3180?q").unwrap();
        assert_eq!((ep.port, ep.path.as_str()), (3180, "/?q"));
        assert!(matches!(
            parse_url("https://tsa.example.com/"),
            Err(TspError::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            parse_url("ftp://tsa.example.com/"),
            Err(TspError::UnsupportedScheme { .. })
        ));
        for bad in [
            "",
            "tsa.example.com",
            "http://",
            "http://:80/",
            "http://host:0/",
            "http://host:65536/",
            "http://host:+80/",
            "http://user@host/",
            "http://[::1/",
            "http://[nothost]/",
            "http://exa mple/",
            "http://host/\r\nX-Injected: 1",
            "http://hö.st/",
            "://host/",
        ] {
            assert!(
                matches!(parse_url(bad), Err(TspError::InvalidUrl { .. })),
                "{bad:?}"
            );
        }
    }

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

    #[test]
    fn shown_text_is_escaped_and_bounded() {
        assert_eq!(shown("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(
            shown(&"x".repeat(10_000)).chars().count(),
            MAX_SHOWN_CHARS + 1
        );
    }
}
