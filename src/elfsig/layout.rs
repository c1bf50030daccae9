//! The raw ELF layout signing needs: the header fields it rewrites and every section header
//! field, read and written in the file's own class and byte order.
//!
//! Facts (`crate::elf`) only read; signing must write a section header table back exactly, so
//! this reader keeps every field and refuses anything it could not write back faithfully.

use crate::budget::{MAX_ELF_SECTIONS, MAX_ELF_SEGMENTS, MAX_STRING_LEN};
use crate::error::{Error, ErrorKind, Result};
use crate::read::Bytes;

pub const SHT_NOBITS: u32 = 8;
pub const SHT_STRTAB: u32 = 3;
pub const SHF_ALLOC: u64 = 0x2;
pub const PT_LOAD: u32 = 1;

/// One section header, every field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shdr {
    pub name_off: u32,
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub info: u32,
    pub addralign: u64,
    pub entsize: u64,
}

impl Shdr {
    /// The file range of the section's contents, if it has any.
    pub fn file_range(&self) -> Option<(u64, u64)> {
        (self.sh_type != SHT_NOBITS && self.size > 0 && self.sh_type != 0)
            .then_some((self.offset, self.size))
    }
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub is_64: bool,
    pub le: bool,
    pub ehsize: u64,
    pub phoff: u64,
    pub phentsize: u64,
    pub phnum: u64,
    pub shoff: u64,
    pub shentsize: u64,
    pub shstrndx: u16,
    pub sections: Vec<Shdr>,
    /// (offset, filesz) of every program header's file range.
    pub segments: Vec<(u32, u64, u64)>,
    pub file_len: u64,
}

const ELF_MAGIC: [u8; 4] = [0x7f, b'E', b'L', b'F'];

fn not_elf(data: &[u8]) -> Error {
    let mut magic = [0u8; 4];
    let len = data.len().min(4);
    for (d, s) in magic.iter_mut().zip(data.iter()) {
        *d = *s;
    }
    Error::new(ErrorKind::NotABinary { magic, len }, None)
}

impl Layout {
    pub fn parse(data: &[u8]) -> Result<Layout> {
        if data.get(..4) != Some(&ELF_MAGIC[..]) {
            return Err(not_elf(data));
        }
        let raw = Bytes::new(data, true);
        let class = raw.u8("ELF class", 4)?;
        let is_64 = match class {
            1 => false,
            2 => true,
            c => return Err(Error::bad_value("ELF class", c.into(), Some(4))),
        };
        let le = match raw.u8("ELF data encoding", 5)? {
            1 => true,
            2 => false,
            d => return Err(Error::bad_value("ELF data encoding", d.into(), Some(5))),
        };
        let b = Bytes::new(data, le);
        let word = |what: &'static str, off: u64| -> Result<u64> {
            if is_64 {
                b.u64(what, off)
            } else {
                b.u32(what, off).map(u64::from)
            }
        };
        let (phoff, shoff, flags_at) = if is_64 {
            (word("e_phoff", 32)?, word("e_shoff", 40)?, 48u64)
        } else {
            (word("e_phoff", 28)?, word("e_shoff", 32)?, 36u64)
        };
        let ehsize = u64::from(b.u16("e_ehsize", flags_at.saturating_add(4))?);
        let phentsize = u64::from(b.u16("e_phentsize", flags_at.saturating_add(6))?);
        let phnum = u64::from(b.u16("e_phnum", flags_at.saturating_add(8))?);
        let shentsize = u64::from(b.u16("e_shentsize", flags_at.saturating_add(10))?);
        let shnum = u64::from(b.u16("e_shnum", flags_at.saturating_add(12))?);
        let shstrndx = b.u16("e_shstrndx", flags_at.saturating_add(14))?;
        let min_ehsize = if is_64 { 64 } else { 52 };
        if ehsize < min_ehsize {
            return Err(Error::bad_value(
                "e_ehsize",
                ehsize,
                Some(flags_at.saturating_add(4)),
            ));
        }
        let file_len = data.len() as u64;

        let mut segments = Vec::new();
        if phoff != 0 && phnum != 0 {
            if phnum > MAX_ELF_SEGMENTS {
                return Err(Error::budget(
                    "ELF program headers",
                    phnum,
                    MAX_ELF_SEGMENTS,
                    Some(phoff),
                ));
            }
            let want = if is_64 { 56 } else { 32 };
            if phentsize < want {
                return Err(Error::bad_value(
                    "e_phentsize",
                    phentsize,
                    Some(flags_at.saturating_add(6)),
                ));
            }
            for i in 0..phnum {
                let at = i
                    .checked_mul(phentsize)
                    .and_then(|o| o.checked_add(phoff))
                    .ok_or_else(|| Error::bad_value("e_phoff", phoff, Some(0)))?;
                let p_type = b.u32("program header", at)?;
                let (off, filesz) = if is_64 {
                    (
                        b.u64("p_offset", at.saturating_add(8))?,
                        b.u64("p_filesz", at.saturating_add(32))?,
                    )
                } else {
                    (
                        u64::from(b.u32("p_offset", at.saturating_add(4))?),
                        u64::from(b.u32("p_filesz", at.saturating_add(16))?),
                    )
                };
                segments.push((p_type, off, filesz));
            }
        }

        let mut layout = Layout {
            is_64,
            le,
            ehsize,
            phoff,
            phentsize,
            phnum,
            shoff,
            shentsize,
            shstrndx,
            sections: Vec::new(),
            segments,
            file_len,
        };
        if shoff == 0 {
            return Ok(layout);
        }
        if shnum == 0 {
            return Err(Error::bad_value(
                "e_shnum (extended section numbering is not supported for signing)",
                0,
                Some(flags_at.saturating_add(12)),
            ));
        }
        if shnum > MAX_ELF_SECTIONS {
            return Err(Error::budget(
                "ELF section headers",
                shnum,
                MAX_ELF_SECTIONS,
                Some(shoff),
            ));
        }
        let want = if is_64 { 64 } else { 40 };
        if shentsize != want {
            return Err(Error::bad_value(
                "e_shentsize",
                shentsize,
                Some(flags_at.saturating_add(10)),
            ));
        }
        let table_len = shnum
            .checked_mul(shentsize)
            .ok_or_else(|| Error::bad_value("e_shnum", shnum, Some(flags_at.saturating_add(12))))?;
        b.get("ELF section header table", shoff, table_len)?;
        for i in 0..shnum {
            let at = i
                .checked_mul(shentsize)
                .and_then(|o| o.checked_add(shoff))
                .ok_or_else(|| Error::bad_value("e_shoff", shoff, Some(0)))?;
            layout.sections.push(read_shdr(&b, at, is_64)?);
        }
        if usize::from(shstrndx) >= layout.sections.len() || shstrndx == 0 {
            return Err(Error::bad_value(
                "e_shstrndx",
                shstrndx.into(),
                Some(flags_at.saturating_add(14)),
            ));
        }
        let strtab = layout
            .sections
            .get(usize::from(shstrndx))
            .map(|s| (s.offset, s.size))
            .unwrap_or_default();
        let names = b.sub("ELF section name table", strtab.0, strtab.1)?;
        for s in &mut layout.sections {
            if s.name_off != 0 || s.sh_type != 0 {
                s.name = names
                    .cstr("ELF section name", u64::from(s.name_off), MAX_STRING_LEN)
                    .map_err(|e| {
                        Error::new(e.kind, Some(strtab.0.saturating_add(s.name_off.into())))
                    })?;
            }
        }
        // Every section's contents must be in the file: a header that lies is refused here,
        // before anything is hashed or written.
        for s in &layout.sections {
            if let Some((off, size)) = s.file_range() {
                b.get("ELF section contents", off, size)?;
            }
        }
        Ok(layout)
    }

    pub fn section_index(&self, name: &str) -> Vec<usize> {
        self.sections
            .iter()
            .enumerate()
            .filter(|(_, s)| s.name == name)
            .map(|(i, _)| i)
            .collect()
    }

    pub fn sht_len(&self) -> u64 {
        (self.sections.len() as u64).saturating_mul(self.shentsize)
    }

    /// Encodes one section header in this file's class and byte order.
    pub fn encode_shdr(&self, s: &Shdr, out: &mut Vec<u8>) -> Result<()> {
        let narrow = |what: &'static str, v: u64| -> Result<u32> {
            u32::try_from(v).map_err(|_| Error::bad_value(what, v, None))
        };
        let put32 = |out: &mut Vec<u8>, v: u32| {
            out.extend_from_slice(&if self.le {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            })
        };
        let put64 = |out: &mut Vec<u8>, v: u64| {
            out.extend_from_slice(&if self.le {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            })
        };
        put32(out, s.name_off);
        put32(out, s.sh_type);
        if self.is_64 {
            put64(out, s.flags);
            put64(out, s.addr);
            put64(out, s.offset);
            put64(out, s.size);
            put32(out, s.link);
            put32(out, s.info);
            put64(out, s.addralign);
            put64(out, s.entsize);
        } else {
            put32(out, narrow("sh_flags", s.flags)?);
            put32(out, narrow("sh_addr", s.addr)?);
            put32(out, narrow("sh_offset", s.offset)?);
            put32(out, narrow("sh_size", s.size)?);
            put32(out, s.link);
            put32(out, s.info);
            put32(out, narrow("sh_addralign", s.addralign)?);
            put32(out, narrow("sh_entsize", s.entsize)?);
        }
        Ok(())
    }

    /// The ELF header of `data` with e_shoff, e_shnum and e_shstrndx replaced.
    pub fn patched_header(
        &self,
        data: &[u8],
        shoff: u64,
        shnum: u16,
        shstrndx: u16,
    ) -> Result<Vec<u8>> {
        let b = Bytes::new(data, self.le);
        let mut h = b.get("ELF header", 0, self.ehsize)?.to_vec();
        let (shoff_at, rest_at) = if self.is_64 {
            (40usize, 48usize)
        } else {
            (32usize, 36usize)
        };
        let shoff_bytes: Vec<u8> = if self.is_64 {
            if self.le {
                shoff.to_le_bytes().to_vec()
            } else {
                shoff.to_be_bytes().to_vec()
            }
        } else {
            let v = u32::try_from(shoff).map_err(|_| Error::bad_value("e_shoff", shoff, None))?;
            if self.le {
                v.to_le_bytes().to_vec()
            } else {
                v.to_be_bytes().to_vec()
            }
        };
        let u16b = |v: u16| {
            if self.le {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let mut put = |at: usize, bytes: &[u8]| -> Result<()> {
            let end = at
                .checked_add(bytes.len())
                .ok_or_else(|| Error::bad_value("ELF header", 0, None))?;
            h.get_mut(at..end)
                .ok_or_else(|| Error::truncated("ELF header", at as u64, bytes.len() as u64, 0))?
                .copy_from_slice(bytes);
            Ok(())
        };
        put(shoff_at, &shoff_bytes)?;
        put(rest_at.saturating_add(12), &u16b(shnum))?;
        put(rest_at.saturating_add(14), &u16b(shstrndx))?;
        Ok(h)
    }
}

fn read_shdr(b: &Bytes<'_>, at: u64, is_64: bool) -> Result<Shdr> {
    Ok(if is_64 {
        Shdr {
            name_off: b.u32("sh_name", at)?,
            name: String::new(),
            sh_type: b.u32("sh_type", at.saturating_add(4))?,
            flags: b.u64("sh_flags", at.saturating_add(8))?,
            addr: b.u64("sh_addr", at.saturating_add(16))?,
            offset: b.u64("sh_offset", at.saturating_add(24))?,
            size: b.u64("sh_size", at.saturating_add(32))?,
            link: b.u32("sh_link", at.saturating_add(40))?,
            info: b.u32("sh_info", at.saturating_add(44))?,
            addralign: b.u64("sh_addralign", at.saturating_add(48))?,
            entsize: b.u64("sh_entsize", at.saturating_add(56))?,
        }
    } else {
        Shdr {
            name_off: b.u32("sh_name", at)?,
            name: String::new(),
            sh_type: b.u32("sh_type", at.saturating_add(4))?,
            flags: b.u32("sh_flags", at.saturating_add(8))?.into(),
            addr: b.u32("sh_addr", at.saturating_add(12))?.into(),
            offset: b.u32("sh_offset", at.saturating_add(16))?.into(),
            size: b.u32("sh_size", at.saturating_add(20))?.into(),
            link: b.u32("sh_link", at.saturating_add(24))?,
            info: b.u32("sh_info", at.saturating_add(28))?,
            addralign: b.u32("sh_addralign", at.saturating_add(32))?.into(),
            entsize: b.u32("sh_entsize", at.saturating_add(36))?.into(),
        }
    })
}
