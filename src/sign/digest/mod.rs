//! Signatures built from digests, on the server: what `POST /v1/sign/digest` answers. The client
//! sends the format, the digest (and for `elf-section` the manifest); the server builds every
//! signed attribute itself, signs with its key, timestamps, and returns the PKCS#7, so it always
//! knows what it signed. The same key material signs whole files (`KeyMaterial`).

mod elf;
mod pe;

use x509_cert::Certificate;

use super::remote::{DigestRequest, Format};
use crate::cms::Signer;
use crate::cms::build::Timestamper;

/// A configured key, resolved: what every signing path (digest-only or whole file) signs with.
pub struct KeyMaterial<'a> {
    pub signer: &'a dyn Signer,
    pub cert: &'a Certificate,
    pub chain: &'a [Certificate],
    /// Asks the key's time-stamping authorities for a token over a signature value.
    pub timestamper: Option<Timestamper<'a>>,
}

/// A signature built for a digest request.
#[derive(Debug)]
pub struct Built {
    /// The DER ContentInfo (SignedData) to return.
    pub signature: Vec<u8>,
    /// The timestamp token's time (Unix seconds), when timestamped.
    pub timestamp_time: Option<u64>,
}

/// Why no signature was built.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// The request is malformed or asks for what this key or format cannot do (HTTP 400).
    BadRequest(String),
    /// The key failed to sign (HTTP 500; a token error counts as an HSM error).
    Sign(String),
    /// The key's token is saturated (HTTP 503).
    Busy(String),
    /// The time-stamping authority failed (HTTP 502).
    Timestamp(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::BadRequest(e)
            | BuildError::Sign(e)
            | BuildError::Busy(e)
            | BuildError::Timestamp(e) => f.write_str(e),
        }
    }
}

/// Builds the signature `req` asks for with `key`, signing time `signed_at` (Unix seconds).
pub fn build(
    req: &DigestRequest,
    key: &KeyMaterial<'_>,
    signed_at: u64,
) -> Result<Built, BuildError> {
    match req.format {
        Format::Pe => pe::build(req, key, signed_at),
        Format::ElfSection => elf::build_section(req, key, signed_at),
        Format::ElfModule => elf::build_module(req, key, signed_at),
    }
}
