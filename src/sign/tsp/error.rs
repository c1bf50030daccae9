//! Errors of the RFC 3161 client: [`TspError`], its messages, and how server-provided text
//! (reason phrases, statusString, failInfo) is named and made safe to show.

use std::fmt;
use std::time::Duration;

use super::TST_INFO;
use crate::budget::MAX_SHOWN_CHARS;

/// Why no token was obtained. `url` is empty when the reply was checked on its own
/// ([`check_response`](super::check_response)).
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
pub(super) fn fail_info_name(bit: usize) -> String {
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
pub(super) fn shown(text: &str) -> String {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn shown_text_is_escaped_and_bounded() {
        assert_eq!(shown("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(
            shown(&"x".repeat(10_000)).chars().count(),
            MAX_SHOWN_CHARS + 1
        );
    }
}
