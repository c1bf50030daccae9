//! Signing: key backends (`key`: key files; each implements [`crate::cms::Signer`]), the RFC 3161
//! client (`tsp`), atomic output (`output`), the one copy-and-hash pass over the input
//! (`stream`) and the `sign` commands (`command`). SignedData is
//! built by `crate::cms::build`; the formats (`crate::elfsig`) only ever ask a
//! [`crate::cms::Signer`] to sign a digest, so a hardware token or a remote signer slots in
//! without touching them.

pub mod command;
pub mod digest;
pub mod key;
pub mod output;
pub mod pe;
pub mod pkcs11;
pub mod pkcs12;
pub mod remote;
pub mod stream;
pub mod tsp;
