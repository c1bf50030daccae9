//! Authenticode: the attribute certificate table, the image hash and the signatures in it.
//!
//! Built in layers: `table` reads WIN_CERTIFICATE entries and reports the anomalies around them;
//! `image` computes the image hash (every byte but three ranges: docs/authenticode.md);
//! `signature` parses each SignedData, compares the signed digest and checks the signer's CMS
//! signature; `timestamp` reads RFC 3161 tokens and legacy countersignatures; `pagehash` checks
//! page hashes; `verify` puts them together with the chain and trust decisions of `crate::pki`
//! into the verdict. `build` is the signing side: the SignedData bingate writes.

pub mod build;
pub mod cab;
pub mod image;
pub mod msi;
pub mod pagehash;
pub mod signature;
pub mod table;
pub mod verify;

use crate::error::Result;

/// What the certificate table holds, before any trust decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub table_offset: u64,
    pub table_size: u64,
    pub entries: usize,
    /// Per entry: the signature, or why its DER could not be read.
    pub signatures: Vec<std::result::Result<signature::SignatureInfo, String>>,
    pub anomalies: Vec<table::Anomaly>,
}

/// Reads the table and inspects every entry: `Ok(None)` for an image without a table.
pub fn inspect(data: &[u8]) -> Result<Option<Inspection>> {
    let layout = crate::pe::signing_layout(data)?;
    let Some(t) = table::read(data, &layout)? else {
        return Ok(None);
    };
    let signatures = t
        .entries
        .iter()
        .filter(|e| e.cert_type == table::WIN_CERT_TYPE_PKCS_SIGNED_DATA)
        .map(|e| signature::inspect(data, &layout, e.index, e.der))
        .collect();
    Ok(Some(Inspection {
        table_offset: t.offset,
        table_size: t.size,
        entries: t.entries.len(),
        signatures,
        anomalies: t.anomalies,
    }))
}
