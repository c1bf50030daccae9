//! PE headers and the section table, read by goblin and copied into values we own.

use crate::budget::MAX_PE_SECTIONS;
use crate::budget::MAX_RICH_ENTRIES;
use crate::budget::MAX_RICH_LEN;
use crate::budget::MAX_RICH_MARKERS;
use crate::error::{Error, Result};
use crate::guard::contain;

/// IMAGE_FILE_HEADER.Characteristics bits.
pub const IMAGE_FILE_RELOCS_STRIPPED: u16 = 0x0001;
pub const IMAGE_FILE_LARGE_ADDRESS_AWARE: u16 = 0x0020;
pub const IMAGE_FILE_DLL: u16 = 0x2000;

/// Section characteristics.
pub const IMAGE_SCN_MEM_SHARED: u32 = 0x1000_0000;
pub const IMAGE_SCN_MEM_EXECUTE: u32 = 0x2000_0000;
pub const IMAGE_SCN_MEM_WRITE: u32 = 0x8000_0000;

/// Data directory indices.
pub const DIR_IMPORT: usize = 1;
pub const DIR_RESOURCE: usize = 2;
pub const DIR_SECURITY: usize = 4;
pub const DIR_BASERELOC: usize = 5;
pub const DIR_DEBUG: usize = 6;
pub const DIR_LOAD_CONFIG: usize = 10;
pub const DIR_CLR: usize = 14;
/// Byte offset of the security entry within the data directories (8 bytes per entry).
pub(super) const SECURITY_DIR_BYTE_OFFSET: u64 = 8 * DIR_SECURITY as u64;

/// One data directory entry (an RVA, or a file offset for the certificate table).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataDir {
    pub address: u32,
    pub size: u32,
}

impl DataDir {
    pub fn present(&self) -> bool {
        self.address != 0 && self.size != 0
    }
}

/// One section header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub virtual_address: u32,
    pub virtual_size: u32,
    pub raw_offset: u32,
    pub raw_size: u32,
    pub characteristics: u32,
}

impl Section {
    pub fn has(&self, flags: u32) -> bool {
        self.characteristics & flags == flags
    }

    /// Does this section's memory image contain `rva`?
    pub fn contains_rva(&self, rva: u32) -> bool {
        let span = self.virtual_size.max(self.raw_size);
        rva >= self.virtual_address
            && u64::from(rva) < u64::from(self.virtual_address).saturating_add(u64::from(span))
    }
}

/// An entry of the Rich header: a tool (product id) and its build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RichEntry {
    pub product: u16,
    pub build: u16,
    pub count: u32,
}

/// The headers of a PE image.
#[derive(Debug, Clone)]
pub struct PeHeaders {
    pub machine: u16,
    pub characteristics: u16,
    pub is_64: bool,
    pub linker_version: (u8, u8),
    pub image_base: u64,
    pub file_alignment: u32,
    pub subsystem: u16,
    pub dll_characteristics: u16,
    pub checksum: u32,
    /// File offset of OptionalHeader.CheckSum (excluded from the computed checksum).
    pub checksum_offset: u64,
    /// File offset of the security (certificate table) data directory entry.
    pub security_dir_offset: u64,
    pub size_of_headers: u32,
    pub dirs: [DataDir; 16],
    pub sections: Vec<Section>,
    pub rich: Option<Vec<RichEntry>>,
    /// goblin's section table, kept only to hand back to goblin's load-config parser.
    pub(super) raw_sections: Vec<goblin::pe::section_table::SectionTable>,
    /// Structures the loader does not need that could not be read (each names what and where);
    /// the facts that depend on them are absent, every other fact is read.
    pub warnings: Vec<String>,
}

const SECTION_HEADER_LEN: u64 = 40;

/// The section table through goblin, which resolves `/123` names through the COFF string table.
fn goblin_sections(
    data: &[u8],
    coff: u64,
) -> std::result::Result<Vec<goblin::pe::section_table::SectionTable>, String> {
    let mut at = usize::try_from(coff).map_err(|_| "COFF header offset".to_owned())?;
    let header = contain("PE COFF header", Some(coff), || {
        goblin::pe::header::CoffHeader::parse(data, &mut at)
    })
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let mut cursor = usize::try_from(coff)
        .ok()
        .and_then(|c| c.checked_add(20))
        .and_then(|c| c.checked_add(usize::from(header.size_of_optional_header)))
        .ok_or_else(|| "section table offset".to_owned())?;
    contain("PE section table", None, || {
        header.sections(data, &mut cursor)
    })
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())
}

/// The section table read field by field, names as stored (no string-table lookup).
fn own_sections(
    b: &crate::read::Bytes<'_>,
    table: u64,
    count: u64,
) -> Result<Vec<goblin::pe::section_table::SectionTable>> {
    let mut out = Vec::new();
    for i in 0..count {
        let at = table.saturating_add(i.saturating_mul(SECTION_HEADER_LEN));
        let raw = b.get("PE section header", at, SECTION_HEADER_LEN)?;
        let mut name = [0u8; 8];
        for (d, s) in name.iter_mut().zip(raw) {
            *d = *s;
        }
        let u32_at = |o: u64| b.u32("PE section header", at.saturating_add(o));
        let u16_at = |o: u64| b.u16("PE section header", at.saturating_add(o));
        out.push(goblin::pe::section_table::SectionTable {
            name,
            real_name: None,
            virtual_size: u32_at(8)?,
            virtual_address: u32_at(12)?,
            size_of_raw_data: u32_at(16)?,
            pointer_to_raw_data: u32_at(20)?,
            pointer_to_relocations: u32_at(24)?,
            pointer_to_linenumbers: u32_at(28)?,
            number_of_relocations: u16_at(32)?,
            number_of_linenumbers: u16_at(34)?,
            characteristics: u32_at(36)?,
        });
    }
    Ok(out)
}

/// The Rich header: between the DOS header and the PE header, `DanS` XOR key, three padding
/// words XOR key, then (comp.id, count) pairs XOR key, then `Rich` and the key in clear. The
/// last `Rich` marker with a `DanS` start before it wins; a marker without one is an error
/// (a warning for the caller), no marker at all is `None`.
fn rich_header(data: &[u8], pe_off: u64) -> std::result::Result<Option<Vec<RichEntry>>, String> {
    let end = usize::try_from(pe_off)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let Some(stub) = data.get(0x40..end) else {
        return Ok(None);
    };
    let word = |at: usize| -> Option<u32> {
        let b = stub.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([
            *b.first()?,
            *b.get(1)?,
            *b.get(2)?,
            *b.get(3)?,
        ]))
    };
    let mut first_problem = None;
    for marker in memchr::memmem::rfind_iter(stub, b"Rich").take(MAX_RICH_MARKERS) {
        let Some(key) = marker.checked_add(4).and_then(word) else {
            first_problem.get_or_insert(format!(
                "`Rich` marker at {:#x} without its key",
                marker.saturating_add(0x40)
            ));
            continue;
        };
        let lowest = marker.saturating_sub(MAX_RICH_LEN);
        let mut at = marker;
        let mut start = None;
        while at >= lowest.saturating_add(4) {
            at = at.saturating_sub(4);
            if word(at).map(|w| w ^ key) == Some(u32::from_le_bytes(*b"DanS")) {
                start = Some(at);
                break;
            }
        }
        let Some(start) = start else {
            first_problem.get_or_insert(format!(
                "`Rich` marker at {:#x} without a `DanS` start before it",
                marker.saturating_add(0x40)
            ));
            continue;
        };
        let mut entries = Vec::new();
        let mut at = start.saturating_add(16);
        while at.saturating_add(8) <= marker && entries.len() < MAX_RICH_ENTRIES {
            let (Some(id), Some(count)) = (word(at), word(at.saturating_add(4))) else {
                break;
            };
            let id = id ^ key;
            entries.push(RichEntry {
                product: u16::try_from(id >> 16).unwrap_or(0),
                build: u16::try_from(id & 0xffff).unwrap_or(0),
                count: count ^ key,
            });
            at = at.saturating_add(8);
        }
        return Ok(Some(entries));
    }
    first_problem.map_or(Ok(None), Err)
}

impl PeHeaders {
    /// Reads the DOS, COFF and optional headers, the data directories and the section table.
    ///
    /// The fixed fields are read here, each with its name and offset, rather than by goblin's
    /// `Header::parse`, which refuses a whole file for structures the Windows loader does not
    /// read: a stray `Rich` marker in the DOS stub, a Rich header without its `DanS` start, or
    /// NumberOfRvaAndSizes above 16. Those are [`PeHeaders::warnings`] and every fact that does
    /// not depend on them is still read. goblin still reads the section table (it resolves
    /// `/123` long names through the COFF string table); where it cannot, the table is read here
    /// with the names as stored, and that is a warning too.
    pub fn parse(data: &[u8]) -> Result<PeHeaders> {
        let b = crate::read::Bytes::new(data, true);
        let mut warnings = Vec::new();
        b.get("DOS header", 0, 0x40)?;
        let pe_off = u64::from(b.u32("DOS header e_lfanew", 0x3c)?);
        b.get("PE signature and COFF file header", pe_off, 24)?;
        let coff = pe_off.saturating_add(4);
        let machine = b.u16("COFF Machine", coff)?;
        let number_of_sections = b.u16("COFF NumberOfSections", coff.saturating_add(2))?;
        let characteristics = b.u16("COFF Characteristics", coff.saturating_add(18))?;
        let opt_size = b.u16("COFF SizeOfOptionalHeader", coff.saturating_add(16))?;
        let opt_offset = pe_off.saturating_add(24);
        let opt = b.get("PE optional header", opt_offset, u64::from(opt_size))?;
        let field = |what: &'static str, at: u64, len: u64| -> Result<u64> {
            // Every field must lie inside SizeOfOptionalHeader, not only inside the file.
            let end = at.checked_add(len).filter(|&e| e <= opt.len() as u64);
            if end.is_none() {
                return Err(Error::truncated(
                    what,
                    opt_offset.saturating_add(at),
                    len,
                    (opt.len() as u64).saturating_sub(at),
                ));
            }
            let o = opt_offset.saturating_add(at);
            match len {
                1 => b.u8(what, o).map(u64::from),
                2 => b.u16(what, o).map(u64::from),
                4 => b.u32(what, o).map(u64::from),
                _ => b.u64(what, o),
            }
        };
        let magic = field("optional header Magic", 0, 2)?;
        let is_64 = match magic {
            0x10b => false,
            0x20b => true,
            other => {
                return Err(Error::bad_value(
                    "optional header Magic",
                    other,
                    Some(opt_offset),
                ));
            }
        };
        let linker_version = (
            u8::try_from(field("MajorLinkerVersion", 2, 1)?).unwrap_or(0),
            u8::try_from(field("MinorLinkerVersion", 3, 1)?).unwrap_or(0),
        );
        let image_base = if is_64 {
            field("ImageBase", 24, 8)?
        } else {
            field("ImageBase", 28, 4)?
        };
        let file_alignment = u32::try_from(field("FileAlignment", 36, 4)?).unwrap_or(0);
        let size_of_headers = u32::try_from(field("SizeOfHeaders", 60, 4)?).unwrap_or(0);
        let checksum = u32::try_from(field("CheckSum", 64, 4)?).unwrap_or(0);
        let subsystem = u16::try_from(field("Subsystem", 68, 2)?).unwrap_or(0);
        let dll_characteristics = u16::try_from(field("DllCharacteristics", 70, 2)?).unwrap_or(0);
        let (count_at, dirs_at) = if is_64 { (108u64, 112u64) } else { (92, 96) };
        let declared = field("NumberOfRvaAndSizes", count_at, 4)?;
        let room = (opt.len() as u64).saturating_sub(dirs_at) / 8;
        let mut count = declared;
        if declared > 16 {
            warnings.push(format!(
                "NumberOfRvaAndSizes is {declared}, above the 16 data directories PE/COFF defines (at {:#x}); the first 16 are read",
                opt_offset.saturating_add(count_at)
            ));
            count = 16;
        }
        if count > room {
            warnings.push(format!(
                "NumberOfRvaAndSizes is {declared} but SizeOfOptionalHeader ({opt_size}) holds {room} data directories; {room} are read"
            ));
            count = room;
        }
        let mut dirs = [DataDir::default(); 16];
        for (i, slot) in (0u64..count).zip(dirs.iter_mut()) {
            let at = dirs_at.saturating_add(i.saturating_mul(8));
            *slot = DataDir {
                address: u32::try_from(field("data directory", at, 4)?).unwrap_or(0),
                size: u32::try_from(field("data directory", at.saturating_add(4), 4)?).unwrap_or(0),
            };
        }

        let count = u64::from(number_of_sections);
        if count > MAX_PE_SECTIONS {
            return Err(Error::budget(
                "PE sections",
                count,
                MAX_PE_SECTIONS,
                pe_off.checked_add(6),
            ));
        }
        let section_table = opt_offset.saturating_add(u64::from(opt_size));
        b.get(
            "PE section table",
            section_table,
            count.saturating_mul(SECTION_HEADER_LEN),
        )?;
        let raw_sections = match goblin_sections(data, coff) {
            Ok(s) => s,
            Err(e) => {
                warnings.push(format!(
                    "section names unreadable ({e}); names are shown as stored in the section table"
                ));
                own_sections(&b, section_table, count)?
            }
        };
        let sections = raw_sections
            .iter()
            .map(|s| Section {
                name: s.name().map(str::to_owned).unwrap_or_else(|_| {
                    String::from_utf8_lossy(&s.name)
                        .trim_end_matches('\0')
                        .to_owned()
                }),
                virtual_address: s.virtual_address,
                virtual_size: s.virtual_size,
                raw_offset: s.pointer_to_raw_data,
                raw_size: s.size_of_raw_data,
                characteristics: s.characteristics,
            })
            .collect();
        let rich = match rich_header(data, pe_off) {
            Ok(r) => r,
            Err(why) => {
                warnings.push(format!(
                    "Rich header unreadable ({why}); toolchain evidence from it is not used"
                ));
                None
            }
        };
        Ok(PeHeaders {
            machine,
            characteristics,
            is_64,
            linker_version,
            image_base,
            file_alignment,
            subsystem,
            dll_characteristics,
            checksum,
            // CheckSum sits 64 bytes into the optional header in both PE32 and PE32+.
            checksum_offset: opt_offset.saturating_add(64),
            security_dir_offset: opt_offset
                .saturating_add(dirs_at)
                .saturating_add(SECURITY_DIR_BYTE_OFFSET),
            size_of_headers,
            dirs,
            sections,
            rich,
            raw_sections,
            warnings,
        })
    }

    pub fn dir(&self, index: usize) -> DataDir {
        self.dirs.get(index).copied().unwrap_or_default()
    }

    /// The section whose memory image holds `rva`.
    pub fn section_of(&self, rva: u32) -> Option<&Section> {
        self.sections.iter().find(|s| s.contains_rva(rva))
    }

    /// Maps an RVA to a file offset, if the RVA is backed by file data.
    pub fn rva_to_offset(&self, rva: u32) -> Option<u64> {
        match self.section_of(rva) {
            Some(s) => {
                let delta = rva.checked_sub(s.virtual_address)?;
                if delta >= s.raw_size {
                    return None;
                }
                u64::from(s.raw_offset).checked_add(u64::from(delta))
            }
            // RVAs below the first section are in the headers, mapped 1:1.
            None if self.sections.iter().all(|s| rva < s.virtual_address) => Some(u64::from(rva)),
            None => None,
        }
    }

    pub fn has_dll_characteristic(&self, flag: u16) -> bool {
        self.dll_characteristics & flag != 0
    }

    pub fn has_characteristic(&self, flag: u16) -> bool {
        self.characteristics & flag != 0
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod rich_tests {
    use super::*;

    /// A DOS stub region (from 0x40) holding `prefix`, then a Rich header with `entries`.
    fn stub_with_rich(prefix: &[u8], entries: &[(u32, u32)], key: u32, dans: bool) -> Vec<u8> {
        let mut d = vec![0u8; 0x40];
        d.extend_from_slice(prefix);
        while d.len() % 4 != 0 {
            d.push(0);
        }
        let start = if dans { *b"DanS" } else { *b"Dans" };
        d.extend_from_slice(&(u32::from_le_bytes(start) ^ key).to_le_bytes());
        for _ in 0..3 {
            d.extend_from_slice(&key.to_le_bytes());
        }
        for (id, count) in entries {
            d.extend_from_slice(&(id ^ key).to_le_bytes());
            d.extend_from_slice(&(count ^ key).to_le_bytes());
        }
        d.extend_from_slice(b"Rich");
        d.extend_from_slice(&key.to_le_bytes());
        d
    }

    #[test]
    fn the_last_rich_marker_with_a_dans_start_wins_over_a_stray_one() {
        let d = stub_with_rich(
            b"text Rich\x01\x02\x03\x04 more",
            &[(0x0104_7a64, 5)],
            0x1234_5678,
            true,
        );
        let len = d.len() as u64;
        let entries = rich_header(&d, len).unwrap().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].product, entries[0].build, entries[0].count),
            (0x0104, 0x7a64, 5)
        );
    }

    #[test]
    fn a_rich_marker_without_dans_is_an_error_and_no_marker_is_none() {
        let d = stub_with_rich(b"", &[(1, 1)], 0x1111_2222, false);
        let len = d.len() as u64;
        let e = rich_header(&d, len).unwrap_err();
        assert!(e.contains("without a `DanS` start"), "{e}");
        let plain = vec![0u8; 0x100];
        assert!(rich_header(&plain, 0x100).unwrap().is_none());
    }
}
