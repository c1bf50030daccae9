//! The signing server's API as data: the JSON bodies of `GET /v1/keys` and `POST
//! /v1/sign/digest` (`protocol`, shared by `bingate serve` and the client of `sign pe|elf
//! --server`), and the client's HTTP transport (`client`). `docs/openapi.yaml` documents the
//! same shapes for other clients.

pub mod client;

use serde::{Deserialize, Serialize};

/// The API version prefix of every route.
pub const API_PREFIX: &str = "/v1";

/// What a digest-only request signs: which signature the server builds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Authenticode: `digest` is the PE image digest; the server builds SpcIndirectDataContent
    /// and the SignedData around it (the client embeds it in the certificate table).
    Pe,
    /// bingate's `.bingate.sig` ELF section: `manifest` is the manifest text the signature
    /// carries (its digest must equal `digest`); the server signs it as attached content.
    ElfSection,
    /// The Linux kernel's appended module signature: `digest` is the digest of the module bytes;
    /// the server builds the detached SignedData without attributes (as `sign-file`).
    ElfModule,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pe => "pe",
            Format::ElfSection => "elf-section",
            Format::ElfModule => "elf-module",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "pe" => Some(Format::Pe),
            "elf-section" => Some(Format::ElfSection),
            "elf-module" => Some(Format::ElfModule),
            _ => None,
        }
    }

    pub const ALL: [Format; 3] = [Format::Pe, Format::ElfSection, Format::ElfModule];
}

/// `POST /v1/sign/digest`: everything the server needs to build the signature itself, and what
/// it records (the file's name and SHA-256 as the client read it).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DigestRequest {
    /// The key's name in the server's configuration.
    pub key: String,
    pub format: Format,
    /// The file's name as the client knows it (recorded; not a path on the server).
    pub file_name: String,
    /// SHA-256 of the whole input file, lowercase hex.
    pub file_sha256: String,
    /// `sha256`, `sha384`, `sha512` (and `sha1` for `pe`).
    pub digest_alg: String,
    /// Lowercase hex: the image digest (`pe`), the manifest's digest (`elf-section`) or the
    /// module's digest (`elf-module`).
    pub digest: String,
    /// `elf-section` only: the manifest text to sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// `pe` only: the SpcSpOpusInfo program name and URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The client's check report of the file (`bingate check --json`'s file entry): the facts
    /// the key's policy is evaluated on for a digest-only request (recorded as client-supplied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<serde_json::Value>,
}

/// The answer to a digest request.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DigestResponse {
    pub request_id: String,
    pub key: String,
    pub format: Format,
    /// The signature: a DER ContentInfo (SignedData), base64 (standard alphabet, padded).
    pub signature: String,
    /// SHA-256 of the signature's DER, hex (as recorded in the audit log).
    pub signature_sha256: String,
    /// The timestamp's time (RFC 3339) when the server timestamped the signature.
    #[serde(default)]
    pub timestamp_time: Option<String>,
    /// The audit record's sequence number.
    pub audit_seq: u64,
}

/// One key as `GET /v1/keys` lists it (only keys the caller may use).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct KeyInfo {
    pub name: String,
    /// What the key signs: a subset of `pe`, `elf-section`, `elf-module`.
    pub formats: Vec<Format>,
    /// e.g. `RSA 3072`, `ECDSA P-256`.
    pub algorithm: String,
    /// The signer's certificate, DER, base64.
    pub certificate: String,
    /// SHA-256 of the certificate's DER, hex.
    pub certificate_sha256: String,
    pub subject: String,
    /// Further certificates embedded in signatures, DER, base64.
    pub chain: Vec<String>,
    /// Whether the server timestamps this key's signatures.
    pub timestamped: bool,
    /// The policy checked before signing, by name.
    pub policy: Option<String>,
    /// The SmartScreen-risk ceiling (`low`, `medium`, `high`) for whole PE files.
    pub risk_at_most: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct KeysResponse {
    pub keys: Vec<KeyInfo>,
}

/// Every error response: `{"error": {...}}` with the HTTP status.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ErrorBody {
    pub error: ApiError,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ApiError {
    /// Stable, snake_case: `unauthorized`, `forbidden`, `bad_request`, `not_found`,
    /// `too_large`, `policy_refused`, `busy`, `rate_limited`, `audit_unavailable`, `sign_failed`,
    /// `timestamp_failed`, `internal`.
    pub code: String,
    pub message: String,
    pub request_id: String,
    /// `policy_refused`: the failing findings (`rule: message`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
    /// `policy_refused` on a whole-file request: the server's check report of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<serde_json::Value>,
}

/// The TLS provider of the server and the client: rustls over ring (no C toolchain beyond
/// ring's own, no OpenSSL). rustls 0.23.48 deprecates it for lacking post-quantum key exchange;
/// the classical groups (X25519, P-256, P-384) are what it negotiates.
#[allow(deprecated)]
pub fn tls_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Parses lowercase or uppercase hex; `None` for anything else.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i.saturating_add(2))
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

/// Standard base64 with padding.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip_through_json() {
        for f in Format::ALL {
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(json, format!("\"{}\"", f.as_str()));
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
    }

    #[test]
    fn hex_round_trips_and_rejects_odd_or_non_hex() {
        assert_eq!(
            unhex(&hex(&[0, 1, 0xab, 0xff])),
            Some(vec![0, 1, 0xab, 0xff])
        );
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn digest_request_refuses_unknown_fields() {
        let j = r#"{"key":"k","format":"pe","file_name":"a","file_sha256":"00","digest_alg":"sha256","digest":"00","surprise":1}"#;
        assert!(serde_json::from_str::<DigestRequest>(j).is_err());
    }
}
