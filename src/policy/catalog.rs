//! The facts a rule may name: their type and where each is read from (the evidence a finding
//! quotes). Kept in step with `PeHardening`/`ElfHardening` by a test that serialises real files.

use crate::facts::Format;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    Bool,
    Int,
    Str,
    List,
}

impl FactType {
    pub fn name(self) -> &'static str {
        match self {
            FactType::Bool => "boolean",
            FactType::Int => "integer",
            FactType::Str => "string",
            FactType::List => "list",
        }
    }
}

pub struct FactInfo {
    pub name: &'static str,
    pub format: Format,
    pub ty: FactType,
    /// Where the fact comes from, quoted in findings.
    pub source: &'static str,
}

const fn pe(name: &'static str, ty: FactType, source: &'static str) -> FactInfo {
    FactInfo {
        name,
        format: Format::Pe,
        ty,
        source,
    }
}

const fn elf(name: &'static str, ty: FactType, source: &'static str) -> FactInfo {
    FactInfo {
        name,
        format: Format::Elf,
        ty,
        source,
    }
}

use FactType::{Bool, Int, List, Str};

pub const FACTS: &[FactInfo] = &[
    pe(
        "dynamic_base",
        Bool,
        "DllCharacteristics DYNAMIC_BASE (0x0040)",
    ),
    pe(
        "relocs_stripped",
        Bool,
        "FileHeader.Characteristics RELOCS_STRIPPED (0x0001)",
    ),
    pe(
        "high_entropy_va",
        Bool,
        "DllCharacteristics HIGH_ENTROPY_VA (0x0020), PE32+ only",
    ),
    pe(
        "large_address_aware",
        Bool,
        "FileHeader.Characteristics LARGE_ADDRESS_AWARE (0x0020)",
    ),
    pe("image_base", Int, "OptionalHeader.ImageBase"),
    pe("nx_compat", Bool, "DllCharacteristics NX_COMPAT (0x0100)"),
    pe("guard_cf", Bool, "DllCharacteristics GUARD_CF (0x4000)"),
    pe(
        "cfg_instrumented",
        Bool,
        "load config GuardCFCheckFunctionPointer, GuardCFFunctionTable and GuardFlags CF_INSTRUMENTED|FUNCTION_TABLE_PRESENT (0x500)",
    ),
    pe(
        "ehcont",
        Bool,
        "load config GuardFlags EH_CONTINUATION_TABLE_PRESENT (0x00400000)",
    ),
    pe(
        "cet_compat",
        Bool,
        "debug directory type 20 (EX_DLLCHARACTERISTICS) CET_COMPAT (0x1)",
    ),
    pe(
        "safe_seh",
        Str,
        "DllCharacteristics NO_SEH (0x0400) or load config SEHandlerTable/SEHandlerCount",
    ),
    pe("gs_cookie", Bool, "load config SecurityCookie"),
    pe(
        "force_integrity",
        Bool,
        "DllCharacteristics FORCE_INTEGRITY (0x0080)",
    ),
    pe(
        "isolation",
        Bool,
        "DllCharacteristics NO_ISOLATION (0x0200) clear",
    ),
    pe(
        "appcontainer",
        Bool,
        "DllCharacteristics APPCONTAINER (0x1000)",
    ),
    pe("dotnet", Bool, "CLR runtime header (data directory 14)"),
    pe(
        "has_load_config",
        Bool,
        "load configuration directory (data directory 10)",
    ),
    pe(
        "wx_sections",
        List,
        "sections with MEM_WRITE (0x80000000) and MEM_EXECUTE (0x20000000)",
    ),
    pe(
        "shared_writable_sections",
        List,
        "sections with MEM_SHARED (0x10000000) and MEM_WRITE",
    ),
    pe(
        "executable_imports",
        Bool,
        "MEM_EXECUTE on the section holding the import directory",
    ),
    pe("checksum.stored", Int, "OptionalHeader.CheckSum"),
    pe(
        "checksum.computed",
        Int,
        "the PE checksum computed over the file",
    ),
    pe("subsystem", Str, "OptionalHeader.Subsystem"),
    pe(
        "has_signature",
        Bool,
        "certificate table (data directory 4) present",
    ),
    pe(
        "has_relocations",
        Bool,
        "base-relocation directory (data directory 5) present",
    ),
    elf(
        "pie",
        Str,
        "e_type, PT_INTERP, DT_SONAME and DT_FLAGS_1 DF_1_PIE",
    ),
    elf("nx", Bool, "PT_GNU_STACK without PF_X"),
    elf("relro", Str, "PT_GNU_RELRO and immediate binding"),
    elf("bind_now", Bool, "DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW"),
    elf("canary", Bool, "__stack_chk_fail/__stack_chk_guard symbols"),
    elf("fortify.fortified", Int, "imported glibc __*_chk functions"),
    elf(
        "fortify.unfortified",
        Int,
        "imported functions that have a __*_chk counterpart",
    ),
    elf("rpath", List, "DT_RPATH"),
    elf("runpath", List, "DT_RUNPATH"),
    elf("stripped", Bool, "no .symtab section"),
    elf("textrel", Bool, "DT_TEXTREL or DF_TEXTREL"),
    elf("wx_segments", Bool, "PT_LOAD segments with PF_W and PF_X"),
    elf(
        "ibt",
        Bool,
        ".note.gnu.property X86_FEATURE_1_AND IBT (0x1)",
    ),
    elf(
        "shstk",
        Bool,
        ".note.gnu.property X86_FEATURE_1_AND SHSTK (0x2)",
    ),
    elf(
        "bti",
        Bool,
        ".note.gnu.property AARCH64_FEATURE_1_AND BTI (0x1)",
    ),
    elf(
        "pac",
        Bool,
        ".note.gnu.property AARCH64_FEATURE_1_AND PAC (0x2)",
    ),
    elf("static", Bool, "no PT_INTERP and no DT_NEEDED"),
    elf("interpreter", Str, "PT_INTERP"),
    elf("safestack", Bool, "__safestack_init symbol"),
    elf("clang_cfi", Bool, "__cfi_check/__cfi_slowpath symbols"),
];

pub fn lookup(format: Format, name: &str) -> Option<&'static FactInfo> {
    FACTS.iter().find(|f| f.format == format && f.name == name)
}

pub fn names(format: Format) -> impl Iterator<Item = &'static str> {
    FACTS
        .iter()
        .filter(move |f| f.format == format)
        .map(|f| f.name)
}
