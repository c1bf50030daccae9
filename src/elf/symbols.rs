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
pub fn read(data: &[u8], h: &ElfHeaders) -> Result<SymbolFacts> {
    let mut facts = SymbolFacts {
        has_symtab: h.sections_of_type(SHT_SYMTAB).next().is_some(),
        ..SymbolFacts::default()
    };
    let mut budget = MAX_SYMBOLS_EXAMINED;
    let dynsyms: Vec<&ElfSection> = h.sections_of_type(SHT_DYNSYM).collect();
    for s in &dynsyms {
        walk(data, h, s, &mut budget, |name, undefined| {
            note_common(&mut facts, name);
            if undefined {
                note_fortify(&mut facts, name);
            }
        })?;
    }
    let symtabs: Vec<&ElfSection> = h.sections_of_type(SHT_SYMTAB).collect();
    let fortify_from_symtab = dynsyms.is_empty();
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

fn note_common(facts: &mut SymbolFacts, name: &[u8]) {
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
