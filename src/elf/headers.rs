//! ELF header, program headers and section headers, read by goblin into values we own.

use goblin::container::{Container, Ctx};
use goblin::elf::Elf;
use goblin::elf::program_header::ProgramHeader;
use goblin::elf::section_header::SectionHeader;

use crate::budget::{MAX_ELF_SECTIONS, MAX_ELF_SEGMENTS, MAX_STRING_LEN};
use crate::error::{Error, Result};
use crate::guard::contain;
use crate::read::Bytes;

pub const ET_REL: u16 = 1;
pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
pub const ET_CORE: u16 = 4;

pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;
pub const PT_NOTE: u32 = 4;
pub const PT_GNU_STACK: u32 = 0x6474_e551;
pub const PT_GNU_RELRO: u32 = 0x6474_e552;
pub const PT_GNU_PROPERTY: u32 = 0x6474_e553;

pub const PF_X: u32 = 0x1;
pub const PF_W: u32 = 0x2;

pub const SHT_SYMTAB: u32 = 2;
pub const SHT_NOTE: u32 = 7;
pub const SHT_DYNSYM: u32 = 11;
pub const SHT_NOBITS: u32 = 8;
pub const SHF_ALLOC: u64 = 0x2;
pub const SHF_EXECINSTR: u64 = 0x4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub align: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfSection {
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub entsize: u64,
}

impl ElfSection {
    /// The section's bytes in the file (none for SHT_NOBITS).
    pub fn contents<'a>(&self, bytes: Bytes<'a>) -> Result<Bytes<'a>> {
        if self.sh_type == SHT_NOBITS {
            return bytes.sub("ELF section", 0, 0);
        }
        bytes.sub("ELF section", self.offset, self.size)
    }
}

pub struct ElfHeaders {
    pub is_64: bool,
    pub little_endian: bool,
    pub e_type: u16,
    pub machine: u16,
    pub ctx: Ctx,
    pub segments: Vec<Segment>,
    pub sections: Vec<ElfSection>,
    /// Why the section header table could not be read, when it could not (missing tables are
    /// not a problem: `e_shoff` 0 is a stripped-of-sections file). The loader reads only program
    /// headers, so every fact that does not need sections is still read.
    pub section_problem: Option<String>,
}

impl ElfHeaders {
    pub fn parse(data: &[u8]) -> Result<ElfHeaders> {
        let header = contain("ELF header", Some(0), || Elf::parse_header(data))?
            .map_err(|e| Error::parser("ELF header", e, Some(0)))?;
        let container = header
            .container()
            .map_err(|e| Error::parser("ELF class", e, Some(4)))?;
        let endian = header
            .endianness()
            .map_err(|e| Error::parser("ELF data encoding", e, Some(5)))?;
        let ctx = Ctx::new(container, endian);
        let is_64 = container == Container::Big;
        let little_endian = endian.is_little();
        let bytes = Bytes::new(data, little_endian);

        let phnum = u64::from(header.e_phnum);
        if phnum > MAX_ELF_SEGMENTS {
            return Err(Error::budget(
                "ELF program headers",
                phnum,
                MAX_ELF_SEGMENTS,
                Some(header.e_phoff),
            ));
        }
        let phdrs: Vec<ProgramHeader> = if header.e_phoff == 0 || phnum == 0 {
            Vec::new()
        } else {
            let off = usize::try_from(header.e_phoff)
                .map_err(|_| Error::bad_value("e_phoff", header.e_phoff, Some(0)))?;
            contain("ELF program headers", Some(header.e_phoff), || {
                ProgramHeader::parse(data, off, header.e_phnum.into(), ctx)
            })?
            .map_err(|e| Error::parser("ELF program headers", e, Some(header.e_phoff)))?
        };
        let segments = phdrs
            .iter()
            .map(|p| Segment {
                p_type: p.p_type,
                flags: p.p_flags,
                offset: p.p_offset,
                vaddr: p.p_vaddr,
                filesz: p.p_filesz,
                align: p.p_align,
            })
            .collect();

        let (sections, section_problem) = match Self::parse_sections(data, bytes, &header, ctx) {
            Ok(s) => (s, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        Ok(ElfHeaders {
            is_64,
            little_endian,
            e_type: header.e_type,
            machine: header.e_machine,
            ctx,
            segments,
            sections,
            section_problem,
        })
    }

    fn parse_sections(
        data: &[u8],
        bytes: Bytes<'_>,
        header: &goblin::elf::Header,
        ctx: Ctx,
    ) -> Result<Vec<ElfSection>> {
        let shoff = header.e_shoff;
        if shoff == 0 {
            return Ok(Vec::new());
        }
        let entsize: u64 = if ctx.container == Container::Big {
            64
        } else {
            40
        };
        // e_shnum == 0 means the count is in section 0's sh_size (extended numbering).
        let mut count = u64::from(header.e_shnum);
        if count == 0 {
            let at = shoff.saturating_add(if ctx.container == Container::Big {
                32
            } else {
                20
            });
            count = if ctx.container == Container::Big {
                bytes.u64("ELF section 0 sh_size", at)?
            } else {
                u64::from(bytes.u32("ELF section 0 sh_size", at)?)
            };
        }
        if count == 0 {
            return Ok(Vec::new());
        }
        if count > MAX_ELF_SECTIONS {
            return Err(Error::budget(
                "ELF section headers",
                count,
                MAX_ELF_SECTIONS,
                Some(shoff),
            ));
        }
        // The whole table must be in the file before goblin sees it.
        bytes.get(
            "ELF section header table",
            shoff,
            count.saturating_mul(entsize),
        )?;
        let off =
            usize::try_from(shoff).map_err(|_| Error::bad_value("e_shoff", shoff, Some(0)))?;
        let shdrs: Vec<SectionHeader> = contain("ELF section headers", Some(shoff), || {
            SectionHeader::parse(data, off, count as usize, ctx)
        })?
        .map_err(|e| Error::parser("ELF section headers", e, Some(shoff)))?;

        // Section names come from the section-name string table (e_shstrndx).
        let names = (header.e_shstrndx != 0)
            .then(|| shdrs.get(usize::from(header.e_shstrndx)))
            .flatten()
            .and_then(|s| {
                bytes
                    .sub("ELF section name table", s.sh_offset, s.sh_size)
                    .ok()
            });
        Ok(shdrs
            .iter()
            .map(|s| ElfSection {
                name: names
                    .and_then(|n| {
                        n.cstr("ELF section name", s.sh_name as u64, MAX_STRING_LEN)
                            .ok()
                    })
                    .unwrap_or_default(),
                sh_type: s.sh_type,
                flags: s.sh_flags,
                offset: s.sh_offset,
                size: s.sh_size,
                link: s.sh_link,
                entsize: s.sh_entsize,
            })
            .collect())
    }

    pub fn bytes<'a>(&self, data: &'a [u8]) -> Bytes<'a> {
        Bytes::new(data, self.little_endian)
    }

    pub fn segment(&self, p_type: u32) -> Option<&Segment> {
        self.segments.iter().find(|s| s.p_type == p_type)
    }

    pub fn section(&self, name: &str) -> Option<&ElfSection> {
        self.sections.iter().find(|s| s.name == name)
    }

    pub fn sections_of_type(&self, sh_type: u32) -> impl Iterator<Item = &ElfSection> {
        self.sections.iter().filter(move |s| s.sh_type == sh_type)
    }

    /// Maps a virtual address to a file offset through the PT_LOAD segments.
    pub fn vaddr_to_offset(&self, vaddr: u64) -> Option<u64> {
        self.segments
            .iter()
            .filter(|s| s.p_type == PT_LOAD)
            .find(|s| vaddr >= s.vaddr && vaddr < s.vaddr.saturating_add(s.filesz))
            .and_then(|s| s.offset.checked_add(vaddr.checked_sub(s.vaddr)?))
    }
}
