//! The attribute certificate table: WIN_CERTIFICATE entries and the anomalies around them.
//!
//! The security data directory holds a file offset (not an RVA) and a size. Entries are
//! `dwLength` (u32, header included), `wRevision` (u16), `wCertificateType` (u16), then the
//! DER; each starts on an 8-byte boundary. signtool pads the DER with up to 7 zero bytes inside
//! `dwLength`; anything more, or non-zero, is data the signature does not cover (CVE-2013-3900).

use serde::Serialize;

use crate::budget::MAX_CERT_ENTRIES;
use crate::cms::codes::AnomalyId;
use crate::error::{Error, Result};
use crate::pe::SigningLayout;
use crate::read::Bytes;

pub const WIN_CERT_REVISION_1_0: u16 = 0x0100;
pub const WIN_CERT_REVISION_2_0: u16 = 0x0200;
pub const WIN_CERT_TYPE_PKCS_SIGNED_DATA: u16 = 0x0002;

/// A finding about the table, with the file offset it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Anomaly {
    /// Bytes inside a WIN_CERTIFICATE after the DER beyond the 8-byte alignment, or non-zero.
    Padding {
        entry: usize,
        offset: u64,
        bytes: u64,
        nonzero: bool,
    },
    /// File data after the certificate table: not covered by the directory.
    TrailingData { offset: u64, bytes: u64 },
    /// More than one WIN_CERTIFICATE entry (Windows reads the first).
    MultipleEntries { count: usize },
    /// An entry whose revision or type is not a PKCS#7 Authenticode signature.
    UnsupportedEntry {
        entry: usize,
        offset: u64,
        revision: u16,
        cert_type: u16,
    },
    /// Bytes at the end of the table too short to be an entry.
    TableSlack { offset: u64, bytes: u64 },
}

impl Anomaly {
    /// A stable id for reports and policies.
    pub fn id(&self) -> AnomalyId {
        match self {
            Anomaly::Padding { .. } => AnomalyId::Padding,
            Anomaly::TrailingData { .. } => AnomalyId::TrailingData,
            Anomaly::MultipleEntries { .. } => AnomalyId::MultipleEntries,
            Anomaly::UnsupportedEntry { .. } => AnomalyId::UnsupportedEntry,
            Anomaly::TableSlack { .. } => AnomalyId::TableSlack,
        }
    }
}

/// One WIN_CERTIFICATE entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub index: usize,
    pub offset: u64,
    pub revision: u16,
    pub cert_type: u16,
    /// The DER of the signature, exactly (padding excluded).
    pub der: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table<'a> {
    pub offset: u64,
    pub size: u64,
    pub entries: Vec<Entry<'a>>,
    pub anomalies: Vec<Anomaly>,
}

fn align8(v: u64) -> Option<u64> {
    v.checked_add(7).map(|x| x & !7)
}

/// Reads the table: `Ok(None)` when the image has no certificate table (unsigned).
pub fn read<'a>(data: &'a [u8], layout: &SigningLayout) -> Result<Option<Table<'a>>> {
    let Some((offset, size)) = layout.certificate_table else {
        return Ok(None);
    };
    if size == 0 {
        return Ok(None);
    }
    let bytes = Bytes::new(data, true);
    if offset == 0 {
        return Err(Error::bad_value(
            "certificate table offset",
            0,
            Some(layout.security_dir_offset),
        ));
    }
    // The whole table must be inside the file.
    let table = bytes.sub("certificate table", offset, size)?;
    let mut entries = Vec::new();
    let mut anomalies = Vec::new();
    let mut at = 0u64;
    while at < size {
        let remaining = size.saturating_sub(at);
        let abs = offset.saturating_add(at);
        if remaining < 8 {
            anomalies.push(Anomaly::TableSlack {
                offset: abs,
                bytes: remaining,
            });
            break;
        }
        if entries.len() as u64 >= MAX_CERT_ENTRIES {
            return Err(Error::budget(
                "certificate table entries",
                (entries.len() as u64).saturating_add(1),
                MAX_CERT_ENTRIES,
                Some(abs),
            ));
        }
        let length = u64::from(table.u32("WIN_CERTIFICATE dwLength", at)?);
        let revision = table.u16("WIN_CERTIFICATE wRevision", at.saturating_add(4))?;
        let cert_type = table.u16("WIN_CERTIFICATE wCertificateType", at.saturating_add(6))?;
        if length < 8 {
            return Err(Error::bad_value(
                "WIN_CERTIFICATE dwLength",
                length,
                Some(abs),
            ));
        }
        let content = table.get(
            "WIN_CERTIFICATE",
            at.saturating_add(8),
            length.saturating_sub(8),
        )?;
        let index = entries.len();
        if (revision != WIN_CERT_REVISION_2_0 && revision != WIN_CERT_REVISION_1_0)
            || cert_type != WIN_CERT_TYPE_PKCS_SIGNED_DATA
        {
            anomalies.push(Anomaly::UnsupportedEntry {
                entry: index,
                offset: abs,
                revision,
                cert_type,
            });
        }
        let der_len = crate::read::der_element_len(content)
            .filter(|l| *l <= content.len() as u64)
            .ok_or_else(|| {
                Error::bad_value(
                    "signature DER length",
                    content.len() as u64,
                    abs.checked_add(8),
                )
            })?;
        let der = content.get(..der_len as usize).unwrap_or_default();
        let pad = content.get(der_len as usize..).unwrap_or_default();
        // signtool's padding: zero bytes up to the next 8-byte boundary of the entry.
        let allowed = align8(der_len.saturating_add(8))
            .map_or(0, |a| a.saturating_sub(der_len).saturating_sub(8));
        let nonzero = pad.iter().any(|b| *b != 0);
        if pad.len() as u64 > allowed || nonzero {
            anomalies.push(Anomaly::Padding {
                entry: index,
                offset: abs.saturating_add(8).saturating_add(der_len),
                bytes: pad.len() as u64,
                nonzero,
            });
        }
        entries.push(Entry {
            index,
            offset: abs,
            revision,
            cert_type,
            der,
        });
        at = align8(at.saturating_add(length))
            .ok_or_else(|| Error::bad_value("WIN_CERTIFICATE dwLength", length, Some(abs)))?;
    }
    if entries.len() > 1 {
        anomalies.insert(
            0,
            Anomaly::MultipleEntries {
                count: entries.len(),
            },
        );
    }
    let end = offset.saturating_add(size);
    let file_len = data.len() as u64;
    if end < file_len {
        anomalies.push(Anomaly::TrailingData {
            offset: end,
            bytes: file_len.saturating_sub(end),
        });
    }
    Ok(Some(Table {
        offset,
        size,
        entries,
        anomalies,
    }))
}
