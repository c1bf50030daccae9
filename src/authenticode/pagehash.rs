//! Authenticode page hashes: the per-page digests some signatures carry (`signtool /ph`,
//! `osslsigncode -ph`) so that Windows can check each page of the image as it is mapped.
//!
//! Where they live:
//!
//! ```text
//! SpcIndirectDataContent.data ::= SpcAttributeTypeAndOptionalValue {
//!     type  1.3.6.1.4.1.311.2.1.15 (SpcPeImageData),
//!     value SpcPeImageData ::= SEQUENCE {
//!         flags BIT STRING DEFAULT includeResources,
//!         file  [0] EXPLICIT SpcLink OPTIONAL } }
//! SpcLink.moniker [1] IMPLICIT SpcSerializedObject ::= SEQUENCE {
//!     classId        OCTET STRING,  -- a6b586d5-b4a1-2466-ae05-a217da8e60d6
//!     serializedData OCTET STRING } -- DER of the SET below
//! SET { SEQUENCE {
//!     type  OID,                    -- 1.3.6.1.4.1.311.2.3.1 SHA-1, .2 SHA-256
//!     value SET { OCTET STRING } } } -- (u32 LE file offset, digest) entries
//! ```
//!
//! What each entry covers (as osslsigncode 2.9 computes and checks them, `pe_page_hash_calc`;
//! confirmed against its tables for `corpus/signed/pagehash.exe` and every `corpus/pe` image signed
//! with `-ph`, SHA-1 and SHA-256, in `tests/pagehash.rs`):
//! 1. Offset 0, the headers: bytes `0..SizeOfHeaders` without the CheckSum field (4 bytes) and the
//!    security directory entry (8 bytes), then `PAGE_SIZE - SizeOfHeaders` zero bytes. The
//!    exclusions are dropped, not zeroed, so `PAGE_SIZE - 12` bytes are hashed in all.
//! 2. Each section with raw data, in section-table order: one entry per page at
//!    `PointerToRawData + k * PAGE_SIZE`, hashing `PAGE_SIZE` bytes of the section's raw data,
//!    the last page of a section zero-padded past `SizeOfRawData`.
//! 3. A final entry: the end of the raw data of the last section (in table order) that has any,
//!    with an all-zero digest.
//!
//! Data outside the headers and the sections (the certificate table, an overlay) is not covered.
//! The check here recomputes that table and compares it with the signed one entry by entry,
//! reporting the file offset of the first entry that differs.

use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Reader, SliceReader, Tag, TagNumber, Tagged};
use digest::Digest;
use serde::Serialize;

use crate::budget::{DEFAULT_MAX_FILE_SIZE, MAX_PE_SECTIONS};
use crate::hash::DigestAlg;
use crate::pe::SigningLayout;

/// The page size the hashes are taken over: 4 KiB, the x86, x64 and ARM64 page size. (osslsigncode
/// takes the image's SectionAlignment instead; the two agree on ordinary images, whose
/// SectionAlignment is 4096.)
pub const PAGE_SIZE: u64 = 4096;

pub use crate::budget::MAX_PAGE_HASHES;
// The budget assumes the page size of this module.
const _: () = assert!(MAX_PAGE_HASHES == DEFAULT_MAX_FILE_SIZE / PAGE_SIZE + MAX_PE_SECTIONS + 2);

/// SpcPeImageData.
const SPC_PE_IMAGE_DATA: &str = "1.3.6.1.4.1.311.2.1.15";
/// SPC_PE_IMAGE_PAGE_HASHES_V1: SHA-1 page hashes.
const PAGE_HASHES_V1: &str = "1.3.6.1.4.1.311.2.3.1";
/// SPC_PE_IMAGE_PAGE_HASHES_V2: SHA-256 page hashes.
const PAGE_HASHES_V2: &str = "1.3.6.1.4.1.311.2.3.2";

/// The SpcSerializedObject class id of page hashes, `a6b586d5-b4a1-2466-ae05-a217da8e60d6`, as the
/// bytes appear in the signature.
pub const PAGE_HASH_CLASS_ID: [u8; 16] = [
    0xa6, 0xb5, 0x86, 0xd5, 0xb4, 0xa1, 0x24, 0x66, 0xae, 0x05, 0xa2, 0x17, 0xda, 0x8e, 0x60, 0xd6,
];

/// Size of the table's offset field.
const OFFSET_LEN: usize = 4;

/// Zeros to pad pages with.
static ZEROS: [u8; PAGE_SIZE as usize] = [0; PAGE_SIZE as usize];

/// The page hash check of one signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageHashes {
    /// `sha1` or `sha256`; the type OID when it is neither.
    pub algorithm: String,
    /// Pages the signed table covers (its entries without the final one).
    pub pages: u64,
    /// Every signed entry equals the recomputed one.
    pub verified: bool,
    /// File offset of the first entry that differs (the page whose hash or position changed).
    pub first_mismatch: Option<u64>,
    /// Why the table could not be checked (malformed page hash data, a layout that cannot be
    /// paged, a budget exceeded); `verified` is false then and `first_mismatch` is `None`.
    pub error: Option<String>,
}

/// Why page hashes could not be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageHashError {
    /// The SpcSerializedObject does not have the page hash class id.
    ClassId { found: Vec<u8> },
    /// The serialized data is not SET { SEQUENCE { OID, SET { OCTET STRING } } }.
    Encoding { what: &'static str, detail: String },
    /// The type OID is neither SHA-1 nor SHA-256 page hashes.
    UnknownType { oid: String },
    /// A digest algorithm page hashes are not computed with.
    Algorithm { name: &'static str },
    /// The table is not a whole number of (offset, digest) entries.
    TableLength { length: u64, entry: u64 },
    /// SizeOfHeaders is larger than a page or the file, or the CheckSum and security directory
    /// fields are not inside the headers in that order.
    Headers {
        size_of_headers: u64,
        checksum_offset: u64,
        security_dir_offset: u64,
    },
    /// A section's raw data is not inside the file.
    Section {
        index: usize,
        offset: u64,
        size: u64,
        file_size: u64,
    },
    /// The layout asks for more pages than the budget allows.
    Budget { pages: u64, limit: u64 },
}

impl std::fmt::Display for PageHashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageHashError::ClassId { found } => {
                let hex: String = found.iter().map(|b| format!("{b:02x}")).collect();
                write!(f, "SpcSerializedObject class id {hex} is not page hashes")
            }
            PageHashError::Encoding { what, detail } => {
                write!(f, "malformed page hash data: {what}: {detail}")
            }
            PageHashError::UnknownType { oid } => write!(f, "unknown page hash type {oid}"),
            PageHashError::Algorithm { name } => write!(f, "{name} is not a page hash algorithm"),
            PageHashError::TableLength { length, entry } => write!(
                f,
                "page hash table of {length} bytes is not a multiple of the {entry}-byte entry"
            ),
            PageHashError::Headers {
                size_of_headers,
                checksum_offset,
                security_dir_offset,
            } => write!(
                f,
                "headers cannot be paged: SizeOfHeaders {size_of_headers:#x}, CheckSum at \
                 {checksum_offset:#x}, security directory at {security_dir_offset:#x} (page \
                 size {PAGE_SIZE:#x})"
            ),
            PageHashError::Section {
                index,
                offset,
                size,
                file_size,
            } => write!(
                f,
                "section {index} raw data {offset:#x}+{size:#x} is outside the file \
                 ({file_size:#x} bytes)"
            ),
            PageHashError::Budget { pages, limit } => {
                write!(f, "{pages} pages exceed the page hash budget of {limit}")
            }
        }
    }
}

impl std::error::Error for PageHashError {}

fn encoding(what: &'static str, e: impl std::fmt::Display) -> PageHashError {
    PageHashError::Encoding {
        what,
        detail: e.to_string(),
    }
}

/// What the SpcIndirectDataContent says about page hashes.
enum Signed<'a> {
    Table {
        alg: DigestAlg,
        table: &'a [u8],
    },
    Malformed {
        algorithm: String,
        error: PageHashError,
    },
}

/// The first DER element of `bytes`.
fn first(bytes: &[u8]) -> der::Result<AnyRef<'_>> {
    SliceReader::new(bytes)?.decode()
}

fn context(number: TagNumber) -> Tag {
    Tag::ContextSpecific {
        constructed: true,
        number,
    }
}

/// Finds the page hash table in SpcIndirectDataContent (its DER contents, as
/// `AuthenticodeSignature::encapsulated_content` gives them, or the whole SEQUENCE). `None`
/// when there is no SpcPeImageData moniker: the signature carries no page hashes.
fn find(indirect_content: &[u8]) -> Option<Signed<'_>> {
    let mut data = first(indirect_content).ok()?;
    if data.tag() != Tag::Sequence {
        return None;
    }
    // Given the whole SpcIndirectDataContent rather than its contents: step inside once.
    if first(data.value()).ok()?.tag() == Tag::Sequence {
        data = first(data.value()).ok()?;
    }
    let mut r = SliceReader::new(data.value()).ok()?;
    let kind: ObjectIdentifier = r.decode().ok()?;
    if kind.to_string() != SPC_PE_IMAGE_DATA {
        return None;
    }
    let image_data: AnyRef<'_> = r.decode().ok()?;
    if image_data.tag() != Tag::Sequence {
        return None;
    }
    // flags BIT STRING (DEFAULT, may be absent), then file [0] EXPLICIT SpcLink OPTIONAL.
    let mut r = SliceReader::new(image_data.value()).ok()?;
    let mut file = None;
    while !r.is_finished() {
        let field: AnyRef<'_> = r.decode().ok()?;
        if field.tag() == context(TagNumber::N0) {
            file = Some(field);
            break;
        }
    }
    let link = first(file?.value()).ok()?;
    // moniker [1] IMPLICIT SpcSerializedObject; url [0] and file [2] carry no page hashes.
    if link.tag() != context(TagNumber::N1) {
        return None;
    }
    Some(match serialized(link.value()) {
        Ok(s) => s,
        Err(error) => Signed::Malformed {
            algorithm: "unknown".into(),
            error,
        },
    })
}

/// Reads SpcSerializedObject { classId, serializedData } down to the table.
fn serialized(object: &[u8]) -> Result<Signed<'_>, PageHashError> {
    let mut r = SliceReader::new(object).map_err(|e| encoding("SpcSerializedObject", e))?;
    let class_id: AnyRef<'_> = r.decode().map_err(|e| encoding("classId", e))?;
    let data: AnyRef<'_> = r.decode().map_err(|e| encoding("serializedData", e))?;
    if class_id.tag() != Tag::OctetString || data.tag() != Tag::OctetString {
        return Err(encoding(
            "SpcSerializedObject",
            "classId and serializedData must be OCTET STRINGs",
        ));
    }
    if class_id.value() != PAGE_HASH_CLASS_ID {
        return Err(PageHashError::ClassId {
            found: class_id.value().to_vec(),
        });
    }
    let set = first(data.value()).map_err(|e| encoding("serializedData", e))?;
    if set.tag() != Tag::Set {
        return Err(encoding("serializedData", "not a SET"));
    }
    let attr = first(set.value()).map_err(|e| encoding("page hash attribute", e))?;
    if attr.tag() != Tag::Sequence {
        return Err(encoding("page hash attribute", "not a SEQUENCE"));
    }
    let mut r = SliceReader::new(attr.value()).map_err(|e| encoding("page hash attribute", e))?;
    let kind: ObjectIdentifier = r.decode().map_err(|e| encoding("page hash type", e))?;
    let values: AnyRef<'_> = r.decode().map_err(|e| encoding("page hash value", e))?;
    let kind = kind.to_string();
    let alg = match kind.as_str() {
        PAGE_HASHES_V1 => DigestAlg::Sha1,
        PAGE_HASHES_V2 => DigestAlg::Sha256,
        _ => {
            return Ok(Signed::Malformed {
                algorithm: kind.clone(),
                error: PageHashError::UnknownType { oid: kind },
            });
        }
    };
    let table = (|| {
        if values.tag() != Tag::Set {
            return Err(encoding("page hash value", "not a SET"));
        }
        let table = first(values.value()).map_err(|e| encoding("page hash table", e))?;
        if table.tag() != Tag::OctetString {
            return Err(encoding("page hash table", "not an OCTET STRING"));
        }
        Ok(table.value())
    })();
    Ok(match table {
        Ok(table) => Signed::Table { alg, table },
        Err(error) => Signed::Malformed {
            algorithm: alg.name().into(),
            error,
        },
    })
}

/// A page digest: `parts` in order, then `zeros` zero bytes (at most a page).
fn page_digest(alg: DigestAlg, parts: &[&[u8]], zeros: usize) -> Vec<u8> {
    fn run<D: Digest>(parts: &[&[u8]], zeros: usize) -> Vec<u8> {
        let mut d = D::new();
        for p in parts {
            d.update(p);
        }
        d.update(ZEROS.get(..zeros).unwrap_or(&ZEROS));
        d.finalize().to_vec()
    }
    match alg {
        // Refused by `digest_len` before any page is hashed.
        DigestAlg::Md5 => Vec::new(),
        DigestAlg::Sha1 => run::<sha1::Sha1>(parts, zeros),
        DigestAlg::Sha256 => run::<sha2::Sha256>(parts, zeros),
        DigestAlg::Sha384 => run::<sha2::Sha384>(parts, zeros),
        DigestAlg::Sha512 => run::<sha2::Sha512>(parts, zeros),
    }
}

/// The digest length of `alg`. The signature names SHA-1 or SHA-256 (the two type OIDs); the
/// larger SHA-2 digests are accepted for [`computed_table`], MD5 is not.
fn digest_len(alg: DigestAlg) -> Result<usize, PageHashError> {
    match alg {
        DigestAlg::Md5 => Err(PageHashError::Algorithm { name: alg.name() }),
        DigestAlg::Sha1 => Ok(20),
        DigestAlg::Sha256 => Ok(32),
        DigestAlg::Sha384 => Ok(48),
        DigestAlg::Sha512 => Ok(64),
    }
}

/// The most entries a file of `file_size` bytes with `sections` sections may produce: its size
/// in pages, one partial page per section, the header page and the final entry, capped by
/// [`MAX_PAGE_HASHES`]. Sections that overlap or repeat cannot make bingate hash the file over
/// and over.
pub fn page_budget(file_size: u64, sections: usize) -> u64 {
    (file_size / PAGE_SIZE)
        .saturating_add(u64::try_from(sections).unwrap_or(u64::MAX))
        .saturating_add(2)
        .min(MAX_PAGE_HASHES)
}

fn us(v: u64) -> Option<usize> {
    usize::try_from(v).ok()
}

/// Calls `visit(offset, digest)` for each entry of the table the file should carry, in order,
/// until `visit` returns false. Validates the whole layout and the budget before hashing.
fn for_each_entry(
    data: &[u8],
    layout: &SigningLayout,
    alg: DigestAlg,
    mut visit: impl FnMut(u64, Vec<u8>) -> bool,
) -> Result<(), PageHashError> {
    let final_digest = vec![0; digest_len(alg)?];
    let file_size = data.len() as u64;
    let soh = layout.size_of_headers;
    let cs = layout.checksum_offset;
    let sd = layout.security_dir_offset;
    let headers_err = PageHashError::Headers {
        size_of_headers: soh,
        checksum_offset: cs,
        security_dir_offset: sd,
    };
    let cs_end = cs.checked_add(4).ok_or_else(|| headers_err.clone())?;
    let sd_end = sd.checked_add(8).ok_or_else(|| headers_err.clone())?;
    if soh > PAGE_SIZE || soh > file_size || cs_end > sd || sd_end > soh {
        return Err(headers_err);
    }
    let header = |a: u64, b: u64| data.get(us(a).unwrap_or(usize::MAX)..us(b).unwrap_or(0));
    let (Some(h1), Some(h2), Some(h3)) = (header(0, cs), header(cs_end, sd), header(sd_end, soh))
    else {
        return Err(headers_err);
    };

    // Validate every section and count the pages before hashing anything.
    let mut pages: u64 = 2; // the header page and the final entry
    for (index, &(offset, size)) in layout.sections.iter().enumerate() {
        if size == 0 {
            continue;
        }
        let inside = offset.checked_add(size).is_some_and(|end| end <= file_size);
        if !inside {
            return Err(PageHashError::Section {
                index,
                offset,
                size,
                file_size,
            });
        }
        pages = pages.saturating_add(size.div_ceil(PAGE_SIZE));
    }
    let limit = page_budget(file_size, layout.sections.len());
    if pages > limit {
        return Err(PageHashError::Budget { pages, limit });
    }

    let pad = us(PAGE_SIZE.saturating_sub(soh)).unwrap_or(0);
    if !visit(0, page_digest(alg, &[h1, h2, h3], pad)) {
        return Ok(());
    }
    let mut last_end = 0u64;
    for &(offset, size) in &layout.sections {
        if size == 0 {
            continue;
        }
        // Checked above: offset + size <= file size.
        let end = offset.saturating_add(size);
        let mut at = offset;
        while at < end {
            let take = end.saturating_sub(at).min(PAGE_SIZE);
            let chunk = data
                .get(us(at).unwrap_or(usize::MAX)..)
                .and_then(|rest| rest.get(..us(take).unwrap_or(usize::MAX)))
                .unwrap_or_default();
            let zeros = us(PAGE_SIZE.saturating_sub(take)).unwrap_or(0);
            if !visit(at, page_digest(alg, &[chunk], zeros)) {
                return Ok(());
            }
            at = at.saturating_add(take);
        }
        last_end = end;
    }
    visit(last_end, final_digest);
    Ok(())
}

/// The page hash table `data` should carry for `alg`: (file offset, digest) entries in order,
/// the last one the end of the section data with an all-zero digest. For tests and diagnostics;
/// [`verify`] compares without building it.
pub fn computed_table(
    data: &[u8],
    layout: &SigningLayout,
    alg: DigestAlg,
) -> Result<Vec<(u64, Vec<u8>)>, PageHashError> {
    let mut out = Vec::new();
    for_each_entry(data, layout, alg, |offset, digest| {
        out.push((offset, digest));
        true
    })?;
    Ok(out)
}

/// Compares the signed table with the file.
fn check(
    data: &[u8],
    layout: &SigningLayout,
    alg: DigestAlg,
    table: &[u8],
) -> Result<(u64, Option<u64>), PageHashError> {
    let entry = OFFSET_LEN.saturating_add(digest_len(alg)?);
    if table.len().checked_rem(entry) != Some(0) || table.is_empty() {
        return Err(PageHashError::TableLength {
            length: table.len() as u64,
            entry: entry as u64,
        });
    }
    let count = table.len().checked_div(entry).unwrap_or(0) as u64;
    let mut signed = table.chunks_exact(entry).map(|e| {
        let (off, digest) = e.split_at(OFFSET_LEN.min(e.len()));
        let off: [u8; OFFSET_LEN] = off.try_into().unwrap_or_default();
        (u64::from(u32::from_le_bytes(off)), digest)
    });
    let mut mismatch = None;
    for_each_entry(data, layout, alg, |offset, digest| match signed.next() {
        Some((o, d)) if o == offset && d == digest.as_slice() => true,
        _ => {
            mismatch = Some(offset);
            false
        }
    })?;
    // Signed entries beyond the computed table.
    if mismatch.is_none() {
        mismatch = signed.next().map(|(o, _)| o);
    }
    Ok((count.saturating_sub(1), mismatch))
}

/// Checks the page hashes an Authenticode signature carries against `data`. `indirect_content` is
/// the SpcIndirectDataContent, as `AuthenticodeSignature::encapsulated_content` gives it. `None`
/// when the signature carries no page hashes.
pub fn verify(data: &[u8], layout: &SigningLayout, indirect_content: &[u8]) -> Option<PageHashes> {
    let (alg, table) = match find(indirect_content)? {
        Signed::Table { alg, table } => (alg, table),
        Signed::Malformed { algorithm, error } => {
            return Some(PageHashes {
                algorithm,
                pages: 0,
                verified: false,
                first_mismatch: None,
                error: Some(error.to_string()),
            });
        }
    };
    let entry = OFFSET_LEN.saturating_add(digest_len(alg).unwrap_or(0));
    let signed_pages = (table.len().checked_div(entry).unwrap_or(0) as u64).saturating_sub(1);
    Some(match check(data, layout, alg, table) {
        Ok((pages, first_mismatch)) => PageHashes {
            algorithm: alg.name().into(),
            pages,
            verified: first_mismatch.is_none(),
            first_mismatch,
            error: None,
        },
        Err(e) => PageHashes {
            algorithm: alg.name().into(),
            pages: signed_pages,
            verified: false,
            first_mismatch: None,
            error: Some(e.to_string()),
        },
    })
}
