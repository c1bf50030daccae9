//! The signature layer every format shares: CMS SignedData (RFC 5652) read and built, the
//! SignerInfo check, timestamps, and the verdict vocabulary.
//!
//! - `open`: the one way a SignedData is opened (nesting depth, content type, the certificate
//!   budget, signer lookup), leniently as Windows reads it (`lenient`).
//! - `signer`: a SignerInfo's messageDigest and signature, the report's view of a signer
//!   certificate, the digest check every format reports.
//! - `timestamp`: RFC 3161 tokens and legacy countersignatures.
//! - `verdict`: statuses, reasons, what the caller decides (`VerifyEnv`), and the identity rules
//!   every format applies (timestamp time rules, the signer's chain to an anchor, revocation).
//! - `signing` and `build`: the building side: the [`Signer`] abstraction key backends
//!   implement, signed attributes, SignerInfo and SignedData assembly.
//!
//! Formats call in: `crate::authenticode` (PE) and `crate::elfsig` (ELF). This layer uses
//! `crate::pki` for X.509 (chains, trust, keys) and `crate::hash` for digests, and knows no file
//! format.

pub mod build;
pub mod codes;
pub mod lenient;
pub mod open;
pub mod signer;
pub mod signing;
pub mod timestamp;
pub mod verdict;

pub use crate::hash::{DigestAlg, digest};
pub use signing::{KeyKind, SignDigestError, Signer};
