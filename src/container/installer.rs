//! Installer payloads carried by a PE file: recognised from raw bytes, without parsing the PE.
//!
//! The caller (`scan`) reads the PE headers and hands in an [`Overlay`]: where the image's last
//! section ends, the certificate table's range, and the bytes of a `.wixburn` section. This
//! module then looks for the payload each installer builder appends to its stub:
//!
//! - **WiX Burn**: the `.wixburn` section's header (magic `0x00F14300`) gives the stub size, where
//!   the attached containers start, and each container's size.
//! - **NSIS**: the first header (flags, `0xDEADBEEF`, `"NullsoftInst"`, the header's length and
//!   the length of all the data that follows, the header included) at a 512-byte aligned file
//!   offset in the overlay, where the NSIS stub looks for it.
//! - **Inno Setup**: the setup loader's offset table (`"rDlPtS"`, version, total size, the
//!   offsets of the compressed setup program and of the setup data, a CRC-32 over the table),
//!   found in the image (the stub keeps it in a resource) or through the old locator at file
//!   offset 0x30; failing that, the `"Inno Setup Setup Data ("` signature near the overlay's head.
//! - **Zip self-extractors**: an end-of-central-directory record whose archive ends at the
//!   certificate table or at the end of the file, the central directory right before it; the
//!   local-header offsets it stores may count from the archive's start (a zip concatenated to a
//!   stub) or from the file's start (`zip -A`), and the difference places the archive.
//!
//! Every search is bounded (`crate::budget`), every offset read from the file is checked, and a
//! payload whose declared extent leaves the file is not reported. Whether the signature covers
//! the payload follows from the certificate table: Authenticode hashes the file up to the table
//! (the overlay included) and nothing after it.

use memchr::memmem;

use super::{Installer, InstallerKind};
use crate::budget::{
    INNO_SIGNATURE_WINDOW, INNO_TABLE_WINDOW, MAX_BURN_CONTAINERS, NSIS_HEADER_PROBES,
    ZIP_EOCD_SEARCH,
};
use crate::read::Bytes;

/// What the PE headers say about where a payload could be (all file offsets).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overlay<'a> {
    /// The end of the last section's raw data: where the image ends and an overlay starts.
    pub image_end: u64,
    /// The certificate table as the security directory declares it: (file offset, size).
    pub certificate_table: Option<(u64, u64)>,
    /// The raw bytes of the image's `.wixburn` section, when it has one.
    pub wixburn: Option<&'a [u8]>,
}

/// The installer payload `data` (a whole PE file) carries, if one is recognised. `examined` is
/// always false here: the scan sets it once it has walked the payload's files.
pub fn recognise(data: &[u8], overlay: &Overlay<'_>) -> Option<Installer> {
    // Every payload lies after the image: a file that is the image and its certificate table
    // and nothing else is not searched at all.
    let len = file_len(data);
    let table = match overlay.certificate_table {
        Some((t, size)) if t >= overlay.image_end && t <= len => size.min(len.saturating_sub(t)),
        _ => 0,
    };
    if len.saturating_sub(overlay.image_end).saturating_sub(table) == 0 {
        return None;
    }
    let found = overlay
        .wixburn
        .and_then(|s| find_burn(data, s, overlay.image_end))
        .map(|r| (InstallerKind::WixBurn, r))
        .or_else(|| find_nsis(data, overlay).map(|r| (InstallerKind::Nsis, r)))
        .or_else(|| find_inno(data, overlay).map(|r| (InstallerKind::InnoSetup, r)))
        .or_else(|| find_zip_sfx(data, overlay).map(|r| (InstallerKind::ZipSfx, r)))?;
    let (kind, (offset, size)) = found;
    Some(Installer {
        kind,
        offset,
        size,
        covered_by_signature: covered(offset, size, overlay.certificate_table),
        examined: false,
    })
}

/// Whether bytes `offset..offset+size` lie in what the Authenticode image hash covers: before
/// the certificate table (`None` when there is no table). A payload that reaches into or past
/// the table is not covered: the signature says nothing about its bytes after the table.
pub fn covered(offset: u64, size: u64, certificate_table: Option<(u64, u64)>) -> Option<bool> {
    let (table, _) = certificate_table?;
    Some(offset.checked_add(size).is_some_and(|end| end <= table))
}

/// The file's length.
fn file_len(data: &[u8]) -> u64 {
    data.len() as u64
}

/// `data[start..end]` as a slice, both bounds clamped to the file.
fn window(data: &[u8], start: u64, end: u64) -> &[u8] {
    let len = file_len(data);
    let (s, e) = (start.min(len), end.min(len));
    let (Ok(s), Ok(e)) = (usize::try_from(s), usize::try_from(e)) else {
        return &[];
    };
    data.get(s..e.max(s)).unwrap_or(&[])
}

// ------------------------------------------------------------------------------------ WiX Burn

/// `.wixburn` section magic (wix `src/burn/stub/StubSection.cpp`).
const BURN_MAGIC: u32 = 0x00F1_4300;
/// Offsets in the section: stub size, container count, then one size per container.
const BURN_STUB_SIZE: u64 = 24;
const BURN_CONTAINER_COUNT: u64 = 44;
const BURN_CONTAINER_SIZES: u64 = 48;

/// A Burn bundle's attached containers: (offset, size) from the `.wixburn` section `section`.
/// They start at the stub's size, which is at or after the image's end (`image_end`).
pub fn find_burn(data: &[u8], section: &[u8], image_end: u64) -> Option<(u64, u64)> {
    let b = Bytes::new(section, true);
    if b.u32("Burn magic", 0).ok()? != BURN_MAGIC {
        return None;
    }
    let stub = u64::from(b.u32("Burn stub size", BURN_STUB_SIZE).ok()?);
    let count = u64::from(b.u32("Burn container count", BURN_CONTAINER_COUNT).ok()?);
    if count == 0 || count > MAX_BURN_CONTAINERS {
        return None;
    }
    let mut size = 0u64;
    for i in 0..count {
        let at = i.checked_mul(4)?.checked_add(BURN_CONTAINER_SIZES)?;
        size = size.checked_add(u64::from(b.u32("Burn container size", at).ok()?))?;
    }
    let end = stub.checked_add(size)?;
    (stub >= image_end && size > 0 && end <= file_len(data)).then_some((stub, size))
}

/// Bytes of a cabinet header before its optional fields ([MS-CAB] CFHEADER): a cabinet shorter
/// than this cannot be one.
const CAB_HEADER_LEN: u64 = 36;

/// The name the report gives a Burn bundle's `index`th attached container. The bundle stores no
/// file names for them (its manifest, inside container 0, names them by id): container 0 holds
/// the bootstrapper application's files, the others the packages (MSIs, EXEs, MSUs).
pub fn burn_container_name(index: u64) -> String {
    format!("container-{index}.cab")
}

/// Walks a WiX Burn payload: the attached containers, cabinets laid end to end from the stub's
/// end, each the length its own header declares (`cbCabinet`), at most
/// [`MAX_BURN_CONTAINERS`]. Each is one entry (the caller walks it as a cabinet in turn); bytes
/// that do not start a cabinet end the walk with an error naming their offset.
pub fn walk_burn<T: Send>(
    data: &[u8],
    budget: &super::Budget,
    visit: &super::Visit<'_, T>,
) -> super::Walked<T> {
    let mut summary = super::Summary::new(super::Kind::Burn);
    let mut items = Vec::new();
    let mut error = None;
    let len = file_len(data);
    let mut at = 0u64;
    let b = Bytes::new(data, true);
    while at < len {
        if summary.entries >= MAX_BURN_CONTAINERS {
            error = Some(crate::error::Error::budget(
                "Burn attached containers",
                summary.entries.saturating_add(1),
                MAX_BURN_CONTAINERS,
                Some(at),
            ));
            break;
        }
        let index = summary.entries;
        if let Err(e) = super::count_entry(&mut summary, &budget.limits) {
            error = Some(e);
            break;
        }
        if window(data, at, at.saturating_add(4)) != b"MSCF" {
            error = Some(crate::error::Error::parser(
                "Burn attached container",
                "not a cabinet (no MSCF signature)",
                Some(at),
            ));
            break;
        }
        let size = b
            .u32("cbCabinet", at.saturating_add(8))
            .map(u64::from)
            .ok()
            .filter(|&n| n >= CAB_HEADER_LEN && at.checked_add(n).is_some_and(|e| e <= len));
        let Some(size) = size else {
            error = Some(crate::error::Error::parser(
                "Burn attached container",
                "its cabinet's declared length (cbCabinet) leaves the payload",
                Some(at),
            ));
            break;
        };
        let end = at.saturating_add(size);
        let meta = super::EntryMeta {
            index,
            name: burn_container_name(index),
            size: Some(size),
            offset: Some(at),
        };
        let mut reader = super::Guarded::new(window(data, at, end), budget, size);
        items.push(visit(&meta, &mut reader));
        if let Some(e) = reader.exceeded() {
            error = Some(e.clone());
            break;
        }
        at = end;
    }
    super::Walked {
        items,
        summary,
        error,
    }
}

// ---------------------------------------------------------------------------------------- NSIS

/// The first header: flags (u32), `0xDEADBEEF`, `"NullsoftInst"`, header length, data length.
const NSIS_SIG: &[u8] = b"\xEF\xBE\xAD\xDENullsoftInst";
const NSIS_FIRST_HEADER_LEN: u64 = 28;
/// Flag bits a first header may carry (uninstall, silent, no CRC, force CRC).
const NSIS_FLAGS_MASK: u32 = 0xF;
const NSIS_ALIGN: u64 = 512;

/// An NSIS payload: (offset of the first header, length of everything from it, the CRC
/// included).
pub fn find_nsis(data: &[u8], overlay: &Overlay<'_>) -> Option<(u64, u64)> {
    let b = Bytes::new(data, true);
    let first = overlay
        .image_end
        .checked_add(NSIS_ALIGN - 1)?
        .checked_div(NSIS_ALIGN)?
        .checked_mul(NSIS_ALIGN)?;
    for i in 0..NSIS_HEADER_PROBES {
        let at = i.checked_mul(NSIS_ALIGN)?.checked_add(first)?;
        let Ok(head) = b.get("NSIS first header", at, NSIS_FIRST_HEADER_LEN) else {
            return None;
        };
        if head.get(4..20) != Some(NSIS_SIG) {
            continue;
        }
        let flags = b.u32("NSIS flags", at).ok()?;
        let header_len = u64::from(b.u32("NSIS header length", at.checked_add(20)?).ok()?);
        let total = u64::from(b.u32("NSIS data length", at.checked_add(24)?).ok()?);
        if flags & !NSIS_FLAGS_MASK != 0 || total < NSIS_FIRST_HEADER_LEN || header_len > total {
            continue;
        }
        let end = at.checked_add(total)?;
        return (end <= file_len(data)).then_some((at, total));
    }
    None
}

// ---------------------------------------------------------------------------------- Inno Setup

/// The setup loader offset table's ID starts with this (the six bytes after it name the
/// layout's generation).
const INNO_TABLE_ID: &[u8] = b"rDlPtS";
/// The ID of the table Inno Setup 5.1.5 and later write (in resource RCDATA 11111).
const INNO_TABLE_ID_51: &[u8] = b"rDlPtS\xCD\xE6\xD7\x7B\x0B\x2A";
/// That table: ID (12), Version, TotalSize, OffsetEXE, UncompressedSizeEXE, CRCEXE, Offset0,
/// Offset1, TableCRC (u32 each); TableCRC is the CRC-32 of the 40 bytes before it.
const INNO_TABLE_LEN: u64 = 44;
/// The old loaders' locator at file offset 0x30: `"Inno"`, the table's offset, its complement.
const INNO_LOCATOR: u64 = 0x30;
const INNO_LOCATOR_MAGIC: &[u8] = b"Inno";
/// The setup data (setup-0) starts with this, followed by the version and `)`.
const INNO_SETUP_DATA: &[u8] = b"Inno Setup Setup Data (";

/// An Inno Setup payload: (offset, size), from the loader's offset table when one is found (the
/// compressed setup program and the setup data through the table's total size), else from the
/// setup data's signature near the overlay's head through the overlay's end.
pub fn find_inno(data: &[u8], overlay: &Overlay<'_>) -> Option<(u64, u64)> {
    inno_from_table(data, overlay).or_else(|| inno_from_signature(data, overlay))
}

fn inno_from_table(data: &[u8], overlay: &Overlay<'_>) -> Option<(u64, u64)> {
    let b = Bytes::new(data, true);
    // The old locator names the table directly.
    let located = (b.get("Inno locator", INNO_LOCATOR, 4).ok()? == INNO_LOCATOR_MAGIC)
        .then(|| {
            let at = b
                .u32("Inno table offset", INNO_LOCATOR.checked_add(4)?)
                .ok()?;
            let not = b
                .u32("Inno table offset complement", INNO_LOCATOR.checked_add(8)?)
                .ok()?;
            (at == !not).then_some(u64::from(at))
        })
        .flatten();
    let table = match located {
        Some(at) => at,
        None => {
            // The stub keeps the table in its resources, inside the image: search the image's
            // last bytes (the resource section is the last one Inno's stub has).
            let start = overlay.image_end.saturating_sub(INNO_TABLE_WINDOW);
            let hay = window(data, start, overlay.image_end);
            let mut found = None;
            for at in memmem::find_iter(hay, INNO_TABLE_ID_51) {
                let at = start.checked_add(at as u64)?;
                if inno_table_crc_ok(&b, at) {
                    found = Some(at);
                    break;
                }
            }
            found?
        }
    };
    let id = b.get("Inno table ID", table, 12).ok()?;
    if !id.starts_with(INNO_TABLE_ID) {
        return None;
    }
    if id == INNO_TABLE_ID_51 {
        if !inno_table_crc_ok(&b, table) {
            return None;
        }
        let total = u64::from(b.u32("Inno TotalSize", table.checked_add(16)?).ok()?);
        let exe = u64::from(b.u32("Inno OffsetEXE", table.checked_add(20)?).ok()?);
        let setup0 = u64::from(b.u32("Inno Offset0", table.checked_add(32)?).ok()?);
        let offset = exe.min(setup0);
        let end = total.min(file_len(data));
        let size = end.checked_sub(offset)?;
        return (offset >= overlay.image_end && size > 0).then_some((offset, size));
    }
    // Older tables (before 5.1.5): TotalSize right after the ID; the payload is the overlay.
    let total = u64::from(b.u32("Inno TotalSize", table.checked_add(12)?).ok()?);
    let end = total.min(file_len(data));
    let size = end.checked_sub(overlay.image_end)?;
    (size > 0).then_some((overlay.image_end, size))
}

fn inno_table_crc_ok(b: &Bytes<'_>, at: u64) -> bool {
    let body = INNO_TABLE_LEN.saturating_sub(4);
    match (
        b.get("Inno offset table", at, body),
        at.checked_add(body).map(|c| b.u32("Inno TableCRC", c)),
    ) {
        (Ok(bytes), Some(Ok(stored))) => crc32(bytes) == stored,
        _ => false,
    }
}

fn inno_from_signature(data: &[u8], overlay: &Overlay<'_>) -> Option<(u64, u64)> {
    let limit = overlay_limit(data, overlay);
    let end = overlay
        .image_end
        .saturating_add(INNO_SIGNATURE_WINDOW)
        .min(limit);
    let hay = window(data, overlay.image_end, end);
    memmem::find(hay, INNO_SETUP_DATA)?;
    let size = limit.checked_sub(overlay.image_end)?;
    (size > 0).then_some((overlay.image_end, size))
}

/// Where the overlay's own bytes end: the certificate table's start when it lies after the
/// image inside the file, else the end of the file.
fn overlay_limit(data: &[u8], overlay: &Overlay<'_>) -> u64 {
    let len = file_len(data);
    match overlay.certificate_table {
        Some((t, _)) if t >= overlay.image_end && t <= len => t,
        _ => len,
    }
}

/// CRC-32 (IEEE 802.3, reflected, the zlib one), bitwise: it runs over 40 bytes per candidate.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

// ------------------------------------------------------------------------------------ zip SFX

const EOCD_SIG: &[u8] = b"PK\x05\x06";
const EOCD_LEN: u64 = 22;
const CDH_SIG: &[u8] = b"PK\x01\x02";
const CDH_LEN: u64 = 46;
const LFH_SIG: &[u8] = b"PK\x03\x04";

/// A zip archive in the overlay: (offset of its first local header, or of the central
/// directory when it lists nothing; size through the end of the EOCD record and its comment).
/// The archive must end at the certificate table (signed after the zip was appended) or at the
/// end of the file (appended after signing, or unsigned); its comment may run on to the end of
/// the file, as some self-extractors make it do to swallow the certificate table. Zip64
/// archives are not recognised.
pub fn find_zip_sfx(data: &[u8], overlay: &Overlay<'_>) -> Option<(u64, u64)> {
    let len = file_len(data);
    let mut limits = vec![len];
    if let Some((t, _)) = overlay.certificate_table {
        if t > overlay.image_end && t < len {
            limits.push(t);
        }
    }
    for limit in limits {
        let start = limit.saturating_sub(ZIP_EOCD_SEARCH).max(overlay.image_end);
        let hay = window(data, start, limit);
        // The last record whose comment ends the archive at `limit` decides, as in zip readers:
        // one central directory walk per limit, however many signatures the window holds.
        let Some(eocd) = memmem::rfind_iter(hay, EOCD_SIG)
            .filter_map(|at| start.checked_add(at as u64))
            .find(|&at| eocd_ends_at(data, at, limit))
        else {
            continue;
        };
        if let Some(found) = zip_at(data, overlay, eocd) {
            return Some(found);
        }
    }
    None
}

/// Whether the EOCD record at `eocd` (with its comment) ends the archive at `limit`: within the
/// 8 bytes osslsigncode pads the file to before the certificate table, or running past `limit`
/// to at most the end of the file.
fn eocd_ends_at(data: &[u8], eocd: u64, limit: u64) -> bool {
    const TABLE_ALIGN_SLACK: u64 = 8;
    let b = Bytes::new(data, true);
    let Some(end) = eocd
        .checked_add(20)
        .and_then(|at| b.u16("EOCD comment length", at).ok())
        .and_then(|comment| eocd.checked_add(EOCD_LEN)?.checked_add(u64::from(comment)))
    else {
        return false;
    };
    end <= file_len(data) && end.saturating_add(TABLE_ALIGN_SLACK) >= limit
}

/// The archive whose EOCD record is at `eocd`, if the record and its central directory make
/// sense ([`eocd_ends_at`] has placed its end).
fn zip_at(data: &[u8], overlay: &Overlay<'_>, eocd: u64) -> Option<(u64, u64)> {
    let b = Bytes::new(data, true);
    let comment = u64::from(b.u16("EOCD comment length", eocd.checked_add(20)?).ok()?);
    let end = eocd.checked_add(EOCD_LEN)?.checked_add(comment)?;
    let entries = u64::from(b.u16("EOCD entries", eocd.checked_add(10)?).ok()?);
    let cd_size = u64::from(
        b.u32("EOCD central directory size", eocd.checked_add(12)?)
            .ok()?,
    );
    let cd_offset = u64::from(
        b.u32("EOCD central directory offset", eocd.checked_add(16)?)
            .ok()?,
    );
    if entries == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        return None; // zip64
    }
    // The central directory ends where the EOCD record starts; the stored offset may count
    // from the archive's start instead of the file's: the difference is the archive's place.
    let cd = eocd.checked_sub(cd_size)?;
    if cd < overlay.image_end {
        return None;
    }
    let shift = cd.checked_sub(cd_offset)?;
    if entries == 0 {
        return (cd_size == 0).then(|| (cd, end.saturating_sub(cd)));
    }
    // At most 65,535 headers (a u16 count), each checked to stay before the EOCD record.
    let mut at = cd;
    let mut first = u64::MAX;
    for _ in 0..entries {
        if b.get("central directory header", at, 4).ok()? != CDH_SIG {
            return None;
        }
        let name = u64::from(b.u16("CD name length", at.checked_add(28)?).ok()?);
        let extra = u64::from(b.u16("CD extra length", at.checked_add(30)?).ok()?);
        let note = u64::from(b.u16("CD comment length", at.checked_add(32)?).ok()?);
        let local = u64::from(b.u32("CD local header offset", at.checked_add(42)?).ok()?);
        first = first.min(local);
        at = at
            .checked_add(CDH_LEN)?
            .checked_add(name)?
            .checked_add(extra)?
            .checked_add(note)?;
        if at > eocd {
            return None;
        }
    }
    let offset = shift.checked_add(first)?;
    if offset < overlay.image_end || b.get("local file header", offset, 4).ok()? != LFH_SIG {
        return None;
    }
    Some((offset, end.checked_sub(offset)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_zlib_one() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn coverage_follows_the_certificate_table() {
        assert_eq!(covered(100, 50, None), None);
        assert_eq!(covered(100, 50, Some((150, 10))), Some(true));
        assert_eq!(covered(100, 51, Some((150, 10))), Some(false));
        assert_eq!(covered(160, 50, Some((150, 10))), Some(false));
        assert_eq!(covered(u64::MAX, 2, Some((150, 10))), Some(false));
    }
}
