//! Which toolchain built an ELF file, and the evidence that decided it.

use super::headers::ElfHeaders;
use crate::facts::{Toolchain, ToolchainName};
use crate::toolchain::{go_evidence, rust_evidence};

pub fn detect(data: &[u8], h: &ElfHeaders) -> Toolchain {
    let bytes = h.bytes(data);
    // The Go linker names its sections .go.buildinfo, .gopclntab, .go.module, .note.go.buildid.
    if let Some(s) = h.sections.iter().find(|s| {
        s.name.starts_with(".go.") || s.name == ".gopclntab" || s.name == ".note.go.buildid"
    }) {
        let ev = match go_evidence(data) {
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
        .and_then(|s| s.contents(bytes).ok())
        .map(|c| c.as_slice())
        .unwrap_or_default();
    if let Some(ev) = rust_evidence(rodata) {
        return Toolchain::new(ToolchainName::Rust, ev);
    }
    if h.sections.is_empty() {
        if let Some(ev) = go_evidence(data) {
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
