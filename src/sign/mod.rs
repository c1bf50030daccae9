//! Signing: keys and the signer abstraction (`key`), CMS SignedData built for each format
//! (`cms`), and the RFC 3161 client (`tsp`). The formats (`crate::elfsig`) only ever ask a
//! [`Signer`](crate::cms::Signer) to sign a digest, so a hardware token or a remote signer slots
//! in without touching them.

pub mod command;
pub mod key;
pub mod output;
pub mod tsp;
