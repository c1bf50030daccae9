//! The dynamic section: binding, RELRO completion, text relocations, RPATH/RUNPATH, PIE flag.

use goblin::elf::dynamic::Dynamic;
use goblin::elf::program_header::ProgramHeader;

use super::headers::{ElfHeaders, PT_DYNAMIC};
use crate::budget::{MAX_DYNAMIC_ENTRIES, MAX_STRING_LEN};
use crate::error::{Error, Result};
use crate::guard::contain;

const DT_NEEDED: u64 = 1;
const DT_HASH: u64 = 4;
const DT_STRTAB: u64 = 5;
const DT_SYMTAB: u64 = 6;
const DT_STRSZ: u64 = 10;
const DT_GNU_HASH: u64 = 0x6fff_fef5;
const DT_SONAME: u64 = 14;
const DT_RPATH: u64 = 15;
const DT_TEXTREL: u64 = 22;
const DT_BIND_NOW: u64 = 24;
const DT_RUNPATH: u64 = 29;
const DT_FLAGS: u64 = 30;
const DT_FLAGS_1: u64 = 0x6fff_fffb;

const DF_TEXTREL: u64 = 0x4;
const DF_BIND_NOW: u64 = 0x8;
const DF_1_NOW: u64 = 0x1;
const DF_1_PIE: u64 = 0x0800_0000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DynamicFacts {
    pub bind_now: bool,
    pub textrel: bool,
    pub pie_flag: bool,
    /// DT_SONAME present: the file is meant to be loaded as a library.
    pub soname: bool,
    pub needed: u64,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    /// Addresses of the dynamic symbol table, its string table (and size) and hash tables:
    /// what the loader itself uses to find symbols, so they can be read without sections.
    pub symtab: Option<u64>,
    pub strtab: Option<u64>,
    pub strsz: Option<u64>,
    pub hash: Option<u64>,
    pub gnu_hash: Option<u64>,
}

/// Reads PT_DYNAMIC: `Ok(None)` when the file has none.
pub fn read(data: &[u8], h: &ElfHeaders) -> Result<Option<DynamicFacts>> {
    let Some(seg) = h.segment(PT_DYNAMIC) else {
        return Ok(None);
    };
    let entsize: u64 = if h.is_64 { 16 } else { 8 };
    let count = seg.filesz.checked_div(entsize).unwrap_or(0);
    if count > MAX_DYNAMIC_ENTRIES {
        return Err(Error::budget(
            "dynamic entries",
            count,
            MAX_DYNAMIC_ENTRIES,
            Some(seg.offset),
        ));
    }
    // goblin only needs the PT_DYNAMIC header to find the table.
    let phdr = ProgramHeader {
        p_type: PT_DYNAMIC,
        p_offset: seg.offset,
        p_filesz: seg.filesz,
        p_vaddr: seg.vaddr,
        ..ProgramHeader::default()
    };
    let dynamic = contain("ELF dynamic section", Some(seg.offset), || {
        Dynamic::parse(data, std::slice::from_ref(&phdr), h.ctx)
    })?
    .map_err(|e| Error::parser("ELF dynamic section", e, Some(seg.offset)))?;
    let Some(dynamic) = dynamic else {
        return Ok(None);
    };

    let mut facts = DynamicFacts::default();
    let (mut strtab, mut strsz) = (None, None);
    let (mut flags, mut flags_1) = (0u64, 0u64);
    let mut rpath_offsets = Vec::new();
    let mut runpath_offsets = Vec::new();
    for d in &dynamic.dyns {
        match d.d_tag {
            DT_NEEDED => facts.needed = facts.needed.saturating_add(1),
            DT_SONAME => facts.soname = true,
            DT_STRTAB => strtab = Some(d.d_val),
            DT_STRSZ => strsz = Some(d.d_val),
            DT_SYMTAB => facts.symtab = Some(d.d_val),
            DT_HASH => facts.hash = Some(d.d_val),
            DT_GNU_HASH => facts.gnu_hash = Some(d.d_val),
            DT_RPATH => rpath_offsets.push(d.d_val),
            DT_RUNPATH => runpath_offsets.push(d.d_val),
            DT_TEXTREL => facts.textrel = true,
            DT_BIND_NOW => facts.bind_now = true,
            DT_FLAGS => flags |= d.d_val,
            DT_FLAGS_1 => flags_1 |= d.d_val,
            _ => {}
        }
    }
    facts.bind_now |= flags & DF_BIND_NOW != 0 || flags_1 & DF_1_NOW != 0;
    facts.textrel |= flags & DF_TEXTREL != 0;
    facts.pie_flag = flags_1 & DF_1_PIE != 0;
    facts.strtab = strtab;
    facts.strsz = strsz;

    if !rpath_offsets.is_empty() || !runpath_offsets.is_empty() {
        let table = dynstr(h, data, strtab, strsz)?;
        let split = |offs: &[u64]| -> Result<Vec<String>> {
            let mut out = Vec::new();
            for &o in offs {
                let s = table.cstr("RPATH/RUNPATH string", o, MAX_STRING_LEN)?;
                out.extend(s.split(':').map(str::to_owned));
            }
            Ok(out)
        };
        facts.rpath = split(&rpath_offsets)?;
        facts.runpath = split(&runpath_offsets)?;
    }
    Ok(Some(facts))
}

/// The dynamic string table: DT_STRTAB through the load segments, else the `.dynstr` section.
pub(super) fn dynstr<'a>(
    h: &ElfHeaders,
    data: &'a [u8],
    strtab: Option<u64>,
    strsz: Option<u64>,
) -> Result<crate::read::Bytes<'a>> {
    let bytes = h.bytes(data);
    if let (Some(addr), Some(size)) = (strtab, strsz) {
        if let Some(off) = h.vaddr_to_offset(addr) {
            return bytes.sub("ELF dynamic string table", off, size);
        }
    }
    match h.section(".dynstr") {
        Some(s) => s.contents(bytes),
        None => Err(Error::bad_value(
            "DT_STRTAB address",
            strtab.unwrap_or(0),
            None,
        )),
    }
}
