//! PE headers and the section table, read by goblin and copied into values we own.

use goblin::pe::header::Header;

use crate::budget::MAX_PE_SECTIONS;
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
}

impl PeHeaders {
    pub fn parse(data: &[u8]) -> Result<PeHeaders> {
        // The fixed-size headers goblin reads first, checked here so that a truncated file gets
        // a message naming the structure and the offset (goblin says "type is too big (4) for 0").
        let b = crate::read::Bytes::new(data, true);
        b.get("DOS header", 0, 0x40)?;
        let pe_off = u64::from(b.u32("DOS header e_lfanew", 0x3c)?);
        b.get("PE signature and COFF file header", pe_off, 24)?;
        let opt_size = b.u16("COFF SizeOfOptionalHeader", pe_off.saturating_add(20))?;
        b.get(
            "PE optional header",
            pe_off.saturating_add(24),
            u64::from(opt_size),
        )?;
        let header = contain("PE headers", Some(0), || Header::parse(data))?
            .map_err(|e| Error::parser("PE headers", e, Some(0)))?;
        let pe_offset = u64::from(header.dos_header.pe_pointer);
        let Some(opt) = header.optional_header else {
            return Err(Error::bad_value(
                "PE optional header size",
                u64::from(header.coff_header.size_of_optional_header),
                pe_offset.checked_add(20),
            ));
        };
        let coff = header.coff_header;
        let count = u64::from(coff.number_of_sections);
        if count > MAX_PE_SECTIONS {
            return Err(Error::budget(
                "PE sections",
                count,
                MAX_PE_SECTIONS,
                pe_offset.checked_add(6),
            ));
        }
        let opt_offset = pe_offset
            .checked_add(24)
            .ok_or_else(|| Error::bad_value("PE header offset", pe_offset, Some(0x3c)))?;
        let section_table = opt_offset
            .checked_add(u64::from(coff.size_of_optional_header))
            .ok_or_else(|| {
                Error::bad_value("PE optional header size", opt_offset, Some(opt_offset))
            })?;
        let mut cursor = usize::try_from(section_table)
            .map_err(|_| Error::bad_value("PE section table offset", section_table, None))?;
        let raw_sections = contain("PE section table", Some(section_table), || {
            coff.sections(data, &mut cursor)
        })?
        .map_err(|e| Error::parser("PE section table", e, Some(section_table)))?;
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

        let mut dirs = [DataDir::default(); 16];
        for (slot, entry) in dirs
            .iter_mut()
            .zip(opt.data_directories.data_directories.iter())
        {
            if let Some((_, dd)) = entry {
                *slot = DataDir {
                    address: dd.virtual_address,
                    size: dd.size,
                };
            }
        }
        let wf = &opt.windows_fields;
        let rich = header.rich_header.map(|r| {
            r.metadatas()
                .filter_map(std::result::Result::ok)
                .take(1024)
                .map(|m| RichEntry {
                    product: m.product,
                    build: m.build,
                    count: m.use_count,
                })
                .collect()
        });
        Ok(PeHeaders {
            machine: coff.machine,
            characteristics: coff.characteristics,
            is_64: opt.standard_fields.magic == goblin::pe::optional_header::MAGIC_64,
            linker_version: (
                opt.standard_fields.major_linker_version,
                opt.standard_fields.minor_linker_version,
            ),
            image_base: wf.image_base,
            file_alignment: wf.file_alignment,
            subsystem: wf.subsystem,
            dll_characteristics: wf.dll_characteristics,
            checksum: wf.check_sum,
            // CheckSum sits 64 bytes into the optional header in both PE32 and PE32+.
            checksum_offset: opt_offset.saturating_add(64),
            // Data directories start 96 (PE32) or 112 (PE32+) bytes in; entry 4 is 8 bytes each.
            security_dir_offset: opt_offset
                .saturating_add(
                    if opt.standard_fields.magic == goblin::pe::optional_header::MAGIC_64 {
                        112
                    } else {
                        96
                    },
                )
                .saturating_add(SECURITY_DIR_BYTE_OFFSET),
            size_of_headers: wf.size_of_headers,
            dirs,
            sections,
            rich,
            raw_sections,
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
