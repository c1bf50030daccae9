//! Which toolchain built an ELF file, and the evidence that decided it.

use super::headers::ElfHeaders;
use crate::facts::{Toolchain, ToolchainName};
use crate::toolchain::{Haystack, go_evidence, rust_evidence};

/// Symbol names only Rust code defines: the panic entry std provides (`rust_begin_unwind`), its
/// unwinding personality, and the global allocator shims (mangled since rustc 1.8x, so matched
/// as a substring). Looked up in `.strtab` and `.dynstr` when `.comment` and `.rodata` say nothing.
const RUST_SYMBOLS: &[&[u8]] = &[
    b"rust_begin_unwind",
    b"rust_eh_personality",
    b"__rust_alloc",
];

/// `sh_flags` bit: the section occupies memory at run time.
const SHF_ALLOC: u64 = 0x2;
/// `sh_type` of a section with no bytes in the file (`.bss`).
const SHT_NOBITS: u32 = 8;

pub fn detect(data: &[u8], h: &ElfHeaders) -> Toolchain {
    let bytes = h.bytes(data);
    // The Go linker names its sections .go.buildinfo, .gopclntab, .go.module, .note.go.buildid.
    if let Some(s) = h.sections.iter().find(|s| {
        s.name.starts_with(".go.") || s.name == ".gopclntab" || s.name == ".note.go.buildid"
    }) {
        // The markers are loaded data: search the allocated sections, not debug info.
        let loaded = h
            .sections
            .iter()
            .filter(|s| s.flags & SHF_ALLOC != 0 && s.sh_type != SHT_NOBITS)
            .map(|s| (s.offset, s.offset.saturating_add(s.size)));
        let ev = match go_evidence(&Haystack::ranges(data, loaded)) {
            Some(detail) => format!("section {}; {detail}", s.name),
            None => format!("section {}", s.name),
        };
        return Toolchain::new(ToolchainName::Go, ev);
    }
    // `.comment` lists every compiler that contributed an object ("GCC: (Debian 12.2.0-14)
    // 12.2.0", "clang version 14.0.6", "rustc version 1.95.0").
    let comment = h
        .section(".comment")
        .and_then(|s| s.contents(bytes).ok())
        .map(|c| c.as_slice())
        .unwrap_or_default();
    let entries: Vec<String> = comment
        .split(|b| *b == 0)
        .filter(|e| !e.is_empty())
        .take(64)
        .map(|e| String::from_utf8_lossy(e).into_owned())
        .collect();
    let find = |needle: &str| entries.iter().find(|e| e.contains(needle));
    if let Some(e) = find("rustc version") {
        return Toolchain::new(ToolchainName::Rust, format!(".comment: {e}"));
    }
    if h.segments.is_empty() && h.sections.is_empty() {
        return Toolchain::new(ToolchainName::Unknown, "no sections to inspect");
    }
    // Without `.comment` (or without rustc in it), look for the standard library's paths in
    // read-only data, and for Go's build info where section headers were stripped.
    let rodata = h
        .section(".rodata")
        .and_then(|s| Some((s.offset, s.contents(bytes).ok()?.as_slice())))
        .unwrap_or_default();
    if let Some(ev) = rust_evidence(&Haystack::at(rodata.0, rodata.1)) {
        return Toolchain::new(ToolchainName::Rust, ev);
    }
    // rustc puts crate metadata in `.rustc` (dylibs and proc-macros).
    if h.section(".rustc").is_some() {
        return Toolchain::new(ToolchainName::Rust, "section .rustc (Rust crate metadata)");
    }
    for table in [".strtab", ".dynstr"] {
        let names = h
            .section(table)
            .and_then(|s| s.contents(bytes).ok())
            .map(|c| c.as_slice())
            .unwrap_or_default();
        if let Some((sym, at)) = RUST_SYMBOLS
            .iter()
            .find_map(|n| memchr::memmem::find(names, n).map(|at| (n, at)))
        {
            return Toolchain::new(
                ToolchainName::Rust,
                format!(
                    "Rust symbol name {} in {table} at offset {at:#x}",
                    String::from_utf8_lossy(sym)
                ),
            );
        }
    }
    if h.sections.is_empty() {
        if let Some(ev) = go_evidence(&Haystack::at(0, data)) {
            return Toolchain::new(ToolchainName::Go, ev);
        }
    }
    if let Some(e) = find("clang version") {
        return Toolchain::new(ToolchainName::Clang, format!(".comment: {e}"));
    }
    if let Some(e) = find("GCC:") {
        return Toolchain::new(ToolchainName::Gcc, format!(".comment: {e}"));
    }
    if entries.is_empty() {
        Toolchain::new(
            ToolchainName::Unknown,
            "no .comment section, no runtime markers",
        )
    } else {
        Toolchain::new(
            ToolchainName::Unknown,
            format!(".comment: {}", entries.join("; ")),
        )
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        crate::test_support::fixture("elf", name)
    }

    /// `data` with the first `from` replaced by `to` (same length, so no offset moves).
    fn patched(mut data: Vec<u8>, from: &[u8], to: &[u8]) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let at = memchr::memmem::find(&data, from).expect("bytes to patch");
        data.splice(at..at + from.len(), to.iter().copied());
        data
    }

    #[test]
    fn rust_symbol_name_in_strtab_is_rust_evidence() {
        // A Rust binary without `.comment` rustc entries or /rustc/ paths still names std's
        // panic entry in its symbol table: pie-default's .strtab with one name rewritten.
        let data = patched(
            fixture("pie-default"),
            b"__do_global_dtors_aux_fini_array_entry\0",
            b"rust_begin_unwind\0____________________\0",
        );
        let h = ElfHeaders::parse(&data).unwrap();
        let tc = detect(&data, &h);
        assert_eq!(tc.name, ToolchainName::Rust, "{}", tc.evidence);
        assert!(
            tc.evidence.contains("rust_begin_unwind in .strtab"),
            "{}",
            tc.evidence
        );
        // Unpatched it is gcc's.
        let data = fixture("pie-default");
        let h = ElfHeaders::parse(&data).unwrap();
        assert_eq!(detect(&data, &h).name, ToolchainName::Gcc);
    }

    #[test]
    fn rustc_metadata_section_is_rust_evidence() {
        // rustc's dylibs and proc-macros carry `.rustc`; it decides before .comment's GCC entry
        // (pie-default with its .comment section renamed). The std strings that stand in for
        // /rustc/ paths in `.rodata` are tested on the scanner in crate::toolchain.
        let data = patched(fixture("pie-default"), b".comment\0", b".rustc\0\0\0");
        let h = ElfHeaders::parse(&data).unwrap();
        let tc = detect(&data, &h);
        assert_eq!(tc.name, ToolchainName::Rust, "{}", tc.evidence);
        assert!(tc.evidence.contains(".rustc"), "{}", tc.evidence);
    }
}
