//! ELF files: headers through goblin, then the hardening facts bingate owns.

mod dynamic;
mod fortify;
mod headers;
mod notes;
mod symbols;
mod toolchain;

pub use crate::facts::elf::{ElfHardening, Fortify, Pie, Relro};

use crate::budget::MAX_STRING_LEN;
use crate::error::Result;
use crate::facts::{BinaryFacts, Format, Hardening, Kind};
use headers::{
    ET_CORE, ET_DYN, ET_EXEC, ET_REL, ElfHeaders, PF_W, PF_X, PT_GNU_RELRO, PT_GNU_STACK,
    PT_INTERP, PT_LOAD, SHF_EXECINSTR,
};

const X86_FEATURE_IBT: u32 = 0x1;
const X86_FEATURE_SHSTK: u32 = 0x2;
const AARCH64_FEATURE_BTI: u32 = 0x1;
const AARCH64_FEATURE_PAC: u32 = 0x2;

/// Names for e_machine; others are reported as `machine-<n>`.
fn arch_name(machine: u16, is_64: bool) -> String {
    match (machine, is_64) {
        (3, _) => "x86".into(),
        (62, _) => "x86_64".into(),
        (183, _) => "aarch64".into(),
        (40, _) => "arm".into(),
        (243, true) => "riscv64".into(),
        (243, false) => "riscv32".into(),
        (20, _) => "powerpc".into(),
        (21, _) => "powerpc64".into(),
        (8, true) => "mips64".into(),
        (8, false) => "mips".into(),
        (22, true) => "s390x".into(),
        (22, false) => "s390".into(),
        (2, _) => "sparc".into(),
        (43, _) => "sparc64".into(),
        (258, _) => "loongarch64".into(),
        (other, _) => format!("machine-{other}"),
    }
}

/// Reads an ELF file and returns its facts.
/// A separate debug-info file: it has allocated sections, code among them, and every allocated
/// section other than notes is SHT_NOBITS (`objcopy --only-keep-debug` and `dh_strip` keep the
/// section table and the notes, and drop the bytes of everything the loader would map).
fn is_debug_info(h: &ElfHeaders) -> bool {
    let mut allocated = h
        .sections
        .iter()
        .filter(|s| s.flags & headers::SHF_ALLOC != 0 && s.sh_type != headers::SHT_NOTE)
        .peekable();
    allocated.peek().is_some()
        && h.sections
            .iter()
            .any(|s| s.flags & SHF_EXECINSTR != 0 && s.sh_type == headers::SHT_NOBITS)
        && allocated.all(|s| s.sh_type == headers::SHT_NOBITS)
}

pub fn analyze(data: &[u8]) -> Result<BinaryFacts> {
    let h = ElfHeaders::parse(data)?;
    let bytes = h.bytes(data);
    let mut warnings = Vec::new();
    if let Some(problem) = &h.section_problem {
        warnings.push(format!(
            "{problem}; section headers ignored: facts read from the program headers and the dynamic segment (symbols through DT_SYMTAB)"
        ));
    }

    let dynamic = dynamic::read(data, &h).unwrap_or_else(|e| {
        warnings.push(format!(
            "{e}; binding, RPATH/RUNPATH and TEXTREL read as absent"
        ));
        None
    });
    let syms = symbols::read(data, &h, dynamic.as_ref()).unwrap_or_else(|e| {
        warnings.push(format!(
            "{e}; canary and FORTIFY read from the symbols before it"
        ));
        symbols::SymbolFacts {
            has_symtab: h.sections_of_type(headers::SHT_SYMTAB).next().is_some(),
            ..Default::default()
        }
    });
    let features = notes::read(data, &h).unwrap_or_else(|e| {
        warnings.push(format!("{e}; CET/BTI/PAC markings read as absent"));
        notes::Features::default()
    });
    let interpreter = match h.segment(PT_INTERP) {
        Some(seg) => match bytes
            .sub("PT_INTERP", seg.offset, seg.filesz)
            .and_then(|b| b.cstr("PT_INTERP", 0, MAX_STRING_LEN))
        {
            Ok(s) => Some(s),
            Err(e) => {
                warnings.push(format!("{e}; interpreter path unreadable"));
                Some(String::new())
            }
        },
        None => None,
    };

    let dyn_facts = dynamic.clone().unwrap_or_default();
    let has_interp = interpreter.is_some();
    // ET_DYN is a PIE when DF_1_PIE says so, or when it names an interpreter and no SONAME:
    // libc.so.6 and libcap.so have PT_INTERP (they run) but are libraries first.
    let pie = match h.e_type {
        ET_REL => Pie::Rel,
        ET_EXEC => Pie::No,
        ET_DYN if dyn_facts.pie_flag || (has_interp && !dyn_facts.soname) => Pie::Pie,
        ET_DYN => Pie::Dso,
        _ => Pie::No,
    };
    let kind = match h.e_type {
        _ if is_debug_info(&h) => Kind::DebugInfo,
        ET_REL => Kind::Object,
        ET_EXEC => Kind::Executable,
        ET_DYN if pie == Pie::Pie => Kind::Executable,
        ET_DYN => Kind::SharedLibrary,
        ET_CORE => Kind::Core,
        _ => Kind::Other,
    };
    let nx = match h.segment(PT_GNU_STACK) {
        Some(seg) => seg.flags & PF_X == 0,
        // Objects carry the stack request in a .note.GNU-stack section instead.
        None if h.e_type == ET_REL => h
            .section(".note.GNU-stack")
            .is_some_and(|s| s.flags & SHF_EXECINSTR == 0),
        None => false,
    };
    let relro = match (h.segment(PT_GNU_RELRO).is_some(), dyn_facts.bind_now) {
        (true, true) => Relro::Full,
        (true, false) => Relro::Partial,
        (false, _) => Relro::None,
    };
    let is_static = kind == Kind::Executable && !has_interp && dyn_facts.needed == 0;
    let hardening = ElfHardening {
        pie,
        nx,
        relro,
        bind_now: dyn_facts.bind_now,
        canary: syms.canary,
        fortify: Fortify {
            fortified: syms.fortified.len() as u64,
            unfortified: syms.unfortified.len() as u64,
        },
        rpath: dyn_facts.rpath,
        runpath: dyn_facts.runpath,
        stripped: !syms.has_symtab,
        textrel: dyn_facts.textrel,
        wx_segments: h
            .segments
            .iter()
            .any(|s| s.p_type == PT_LOAD && s.flags & (PF_W | PF_X) == PF_W | PF_X),
        ibt: features.x86 & X86_FEATURE_IBT != 0,
        shstk: features.x86 & X86_FEATURE_SHSTK != 0,
        bti: features.aarch64 & AARCH64_FEATURE_BTI != 0,
        pac: features.aarch64 & AARCH64_FEATURE_PAC != 0,
        is_static,
        interpreter,
        safestack: syms.safestack,
        clang_cfi: syms.clang_cfi,
    };
    if kind == Kind::DebugInfo {
        // The program headers point at bytes this file does not carry (PT_INTERP, PT_DYNAMIC,
        // notes aside): what failed to read there is expected, not a problem of the file.
        warnings.clear();
    }
    Ok(BinaryFacts {
        format: Format::Elf,
        arch: arch_name(h.machine, h.is_64),
        bits: if h.is_64 { 64 } else { 32 },
        kind,
        toolchain: toolchain::detect(data, &h),
        hardening: Hardening::Elf(hardening),
        warnings,
    })
}
