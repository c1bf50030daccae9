//! Symbol-table evidence: stack protector, FORTIFY, SafeStack and clang CFI.

use std::collections::BTreeSet;

use goblin::elf::sym::Symtab;

use super::fortify;
use super::headers::{ElfHeaders, ElfSection, SHT_DYNSYM, SHT_SYMTAB};
use crate::budget::{MAX_STRING_LEN, MAX_SYMBOLS_EXAMINED};
use crate::error::{Error, Result};
use crate::guard::contain;

/// Symbols whose presence shows stack-protector code (gcc/clang and Intel's compiler).
const CANARY_SYMBOLS: &[&[u8]] = &[
    b"__stack_chk_fail",
    b"__stack_chk_fail_local",
    b"__stack_chk_guard",
    b"__intel_security_cookie",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SymbolFacts {
    pub canary: bool,
    pub fortified: BTreeSet<Vec<u8>>,
    pub unfortified: BTreeSet<Vec<u8>>,
    pub safestack: bool,
    pub clang_cfi: bool,
    pub has_symtab: bool,
}

/// Walks `.dynsym` (imports: canary, FORTIFY) and `.symtab` (canary, SafeStack, CFI; FORTIFY
/// for files without dynamic symbols, i.e. static binaries).
///
/// Without a `.dynsym` section (section headers stripped, or unreadable), the dynamic symbols
/// are read the way the loader finds them: DT_SYMTAB and DT_STRTAB, counted by DT_HASH or
/// DT_GNU_HASH ([`dynamic_symbols`]).
pub fn read(
    data: &[u8],
    h: &ElfHeaders,
    dynamic: Option<&super::dynamic::DynamicFacts>,
) -> Result<SymbolFacts> {
    let mut facts = SymbolFacts {
        has_symtab: h.sections_of_type(SHT_SYMTAB).next().is_some(),
        ..SymbolFacts::default()
    };
    let mut budget = MAX_SYMBOLS_EXAMINED;
    let dynsyms: Vec<&ElfSection> = h.sections_of_type(SHT_DYNSYM).collect();
    let from_segments = dynsyms.is_empty() && dynamic.is_some_and(|d| d.symtab.is_some());
    if let (true, Some(d)) = (from_segments, dynamic) {
        dynamic_symbols(data, h, d, &mut budget, |name, undefined| {
            note_common(&mut facts, name);
            if undefined {
                note_fortify(&mut facts, name);
            }
        })?;
    }
    for s in &dynsyms {
        walk(data, h, s, &mut budget, |name, undefined| {
            note_common(&mut facts, name);
            if undefined {
                note_fortify(&mut facts, name);
            }
        })?;
    }
    let symtabs: Vec<&ElfSection> = h.sections_of_type(SHT_SYMTAB).collect();
    let fortify_from_symtab = dynsyms.is_empty() && !from_segments;
    for s in &symtabs {
        walk(data, h, s, &mut budget, |name, _| {
            note_common(&mut facts, name);
            if fortify_from_symtab {
                note_fortify(&mut facts, name);
            }
        })?;
    }
    Ok(facts)
}

/// A symbol name without a GNU version suffix: GNU ld (2.35 and later) writes `.symtab` names of
/// versioned imports as `__stack_chk_fail@GLIBC_2.4` (`@@` for a default version).
fn unversioned(name: &[u8]) -> &[u8] {
    match memchr::memchr(b'@', name) {
        Some(at) => name.get(..at).unwrap_or(name),
        None => name,
    }
}

fn note_common(facts: &mut SymbolFacts, name: &[u8]) {
    let name = unversioned(name);
    if name.starts_with(b"__") {
        if CANARY_SYMBOLS.contains(&name) {
            facts.canary = true;
        } else if name == b"__safestack_init" {
            facts.safestack = true;
        } else if name == b"__cfi_check"
            || name == b"__cfi_slowpath"
            || name == b"__cfi_slowpath_diag"
        {
            facts.clang_cfi = true;
        }
    } else if name.ends_with(b".cfi") {
        facts.clang_cfi = true;
    }
}

fn note_fortify(facts: &mut SymbolFacts, name: &[u8]) {
    let name = unversioned(name);
    if fortify::is_chk(name) {
        facts.fortified.insert(name.to_vec());
    } else if fortify::is_fortifiable(name) {
        facts.unfortified.insert(name.to_vec());
    }
}

fn walk(
    data: &[u8],
    h: &ElfHeaders,
    section: &ElfSection,
    budget: &mut u64,
    mut visit: impl FnMut(&[u8], bool),
) -> Result<()> {
    let bytes = h.bytes(data);
    let entsize: u64 = if h.is_64 { 24 } else { 16 };
    let count = section.size.checked_div(entsize).unwrap_or(0);
    *budget = budget.checked_sub(count).ok_or_else(|| {
        Error::budget("symbols", count, MAX_SYMBOLS_EXAMINED, Some(section.offset))
    })?;
    let strtab_section = h
        .sections
        .get(usize::try_from(section.link).unwrap_or(usize::MAX))
        .ok_or_else(|| {
            Error::bad_value(
                "symbol table sh_link",
                u64::from(section.link),
                Some(section.offset),
            )
        })?;
    let strtab = strtab_section.contents(bytes)?;
    // Check the table is in the file before goblin sees it.
    bytes.get(
        "ELF symbol table",
        section.offset,
        count.saturating_mul(entsize),
    )?;
    let offset = usize::try_from(section.offset)
        .map_err(|_| Error::bad_value("symbol table offset", section.offset, None))?;
    let symtab = contain("ELF symbol table", Some(section.offset), || {
        Symtab::parse(data, offset, count as usize, h.ctx)
    })?
    .map_err(|e| Error::parser("ELF symbol table", e, Some(section.offset)))?;
    for sym in symtab.iter() {
        if sym.st_name == 0 {
            continue;
        }
        // A bad name offset skips that symbol; the rest of the table is still meaningful.
        if let Ok(name) = strtab.cstr_bytes("ELF symbol name", sym.st_name as u64, MAX_STRING_LEN) {
            visit(name, sym.st_shndx == 0);
        }
    }
    Ok(())
}

/// The dynamic symbol table through the dynamic segment, as the loader reads it: DT_SYMTAB for
/// the entries, DT_STRTAB/DT_STRSZ for the names, and the count from DT_HASH (`nchain`), else
/// DT_GNU_HASH (the last chain's end), else the gap up to DT_STRTAB when the string table
/// follows the symbols (where every linker puts it). Every address goes through the load
/// segments; every count is capped by the symbol budget and by the file.
fn dynamic_symbols(
    data: &[u8],
    h: &ElfHeaders,
    d: &super::dynamic::DynamicFacts,
    budget: &mut u64,
    mut visit: impl FnMut(&[u8], bool),
) -> Result<()> {
    let bytes = h.bytes(data);
    let Some(symtab_addr) = d.symtab else {
        return Ok(());
    };
    let entsize: u64 = if h.is_64 { 24 } else { 16 };
    let symtab = h
        .vaddr_to_offset(symtab_addr)
        .ok_or_else(|| Error::bad_value("DT_SYMTAB address", symtab_addr, None))?;
    let strtab = super::dynamic::dynstr(h, data, d.strtab, d.strsz)?;
    let count = dynamic_symbol_count(data, h, d, symtab_addr, entsize)?;
    // At most the entries the file holds from DT_SYMTAB on.
    let room = (data.len() as u64)
        .saturating_sub(symtab)
        .checked_div(entsize)
        .unwrap_or(0);
    let count = count.min(room);
    *budget = budget
        .checked_sub(count)
        .ok_or_else(|| Error::budget("symbols", count, MAX_SYMBOLS_EXAMINED, Some(symtab)))?;
    for i in 0..count {
        let at = symtab.saturating_add(i.saturating_mul(entsize));
        let name = u64::from(bytes.u32("dynamic symbol st_name", at)?);
        let shndx = bytes.u16(
            "dynamic symbol st_shndx",
            at.saturating_add(if h.is_64 { 6 } else { 14 }),
        )?;
        if name == 0 {
            continue;
        }
        if let Ok(n) = strtab.cstr_bytes("ELF symbol name", name, MAX_STRING_LEN) {
            visit(n, shndx == 0);
        }
    }
    Ok(())
}

/// How many dynamic symbols there are (see [`dynamic_symbols`]).
fn dynamic_symbol_count(
    data: &[u8],
    h: &ElfHeaders,
    d: &super::dynamic::DynamicFacts,
    symtab_addr: u64,
    entsize: u64,
) -> Result<u64> {
    let bytes = h.bytes(data);
    if let Some(off) = d.hash.and_then(|a| h.vaddr_to_offset(a)) {
        return Ok(u64::from(
            bytes.u32("DT_HASH nchain", off.saturating_add(4))?,
        ));
    }
    if let Some(off) = d.gnu_hash.and_then(|a| h.vaddr_to_offset(a)) {
        let nbuckets = u64::from(bytes.u32("DT_GNU_HASH nbuckets", off)?);
        let symoffset = u64::from(bytes.u32("DT_GNU_HASH symoffset", off.saturating_add(4))?);
        let bloom_size = u64::from(bytes.u32("DT_GNU_HASH bloom size", off.saturating_add(8))?);
        let word: u64 = if h.is_64 { 8 } else { 4 };
        let buckets = off
            .saturating_add(16)
            .saturating_add(bloom_size.saturating_mul(word));
        // Every bucket is read once; the file bounds the count.
        bytes.get("DT_GNU_HASH buckets", buckets, nbuckets.saturating_mul(4))?;
        let mut last = 0u64;
        for b in 0..nbuckets {
            let v = u64::from(bytes.u32(
                "DT_GNU_HASH bucket",
                buckets.saturating_add(b.saturating_mul(4)),
            )?);
            last = last.max(v);
        }
        if last < symoffset {
            return Ok(symoffset);
        }
        let chains = buckets.saturating_add(nbuckets.saturating_mul(4));
        let mut i = last;
        // The chain of the last bucket ends at the entry with its low bit set.
        for _ in 0..MAX_SYMBOLS_EXAMINED {
            let at = chains.saturating_add(i.saturating_sub(symoffset).saturating_mul(4));
            let v = bytes.u32("DT_GNU_HASH chain", at)?;
            if v & 1 == 1 {
                return Ok(i.saturating_add(1));
            }
            i = i.saturating_add(1);
        }
        return Err(Error::budget(
            "symbols",
            i,
            MAX_SYMBOLS_EXAMINED,
            Some(chains),
        ));
    }
    match d.strtab {
        Some(strtab) if strtab > symtab_addr => Ok(strtab
            .saturating_sub(symtab_addr)
            .checked_div(entsize)
            .unwrap_or(0)),
        _ => Err(Error::bad_value(
            "dynamic symbol count (no DT_HASH, DT_GNU_HASH or DT_STRTAB after DT_SYMTAB)",
            symtab_addr,
            None,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnu_version_suffixes_do_not_hide_canary_or_fortify_symbols() {
        let mut f = SymbolFacts::default();
        note_common(&mut f, b"__stack_chk_fail@GLIBC_2.4");
        note_fortify(&mut f, b"__memcpy_chk@GLIBC_2.3.4");
        note_fortify(&mut f, b"strcpy@@GLIBC_2.2.5");
        assert!(f.canary);
        assert!(f.fortified.contains(b"__memcpy_chk".as_slice()));
        assert!(f.unfortified.contains(b"strcpy".as_slice()));
        assert_eq!(unversioned(b"plain"), b"plain");
    }
}
