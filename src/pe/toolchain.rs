//! Which toolchain built a PE, and the evidence that decided it.

use super::headers::PeHeaders;
use crate::facts::{Toolchain, ToolchainName};
use crate::toolchain::{go_evidence, rust_evidence};

/// The mingw-w64 CRT's own diagnostic, linked into every mingw-w64 program that uses its CRT.
const MINGW_CRT_STRING: &[u8] = b"Mingw-w64 runtime failure";

pub fn detect(data: &[u8], headers: &PeHeaders, dotnet: bool) -> Toolchain {
    let (major, minor) = headers.linker_version;
    let linker = format!("linker version {major}.{minor}");
    if dotnet {
        return Toolchain::new(
            ToolchainName::Dotnet,
            "CLR runtime header (data directory 14)",
        );
    }
    if let Some(ev) = go_evidence(data) {
        return Toolchain::new(ToolchainName::Go, format!("{ev}; {linker}"));
    }
    if let Some(ev) = rust_evidence(data) {
        let linked = match &headers.rich {
            Some(_) => "; linked by MSVC link.exe (Rich header)",
            None if major == 2 => "; linked by GNU ld",
            None => "",
        };
        return Toolchain::new(ToolchainName::Rust, format!("{ev}{linked}"));
    }
    let mingw_crt = memchr::memmem::find(data, MINGW_CRT_STRING);
    if let Some(at) = mingw_crt {
        return Toolchain::new(
            ToolchainName::Mingw,
            format!("mingw-w64 CRT string at offset {at:#x}; {linker}"),
        );
    }
    if let Some(rich) = &headers.rich {
        let newest = rich.iter().map(|e| e.build).max().unwrap_or(0);
        return Toolchain::new(
            ToolchainName::Msvc,
            format!(
                "Rich header with {} tool entries (newest build {newest}); {linker}",
                rich.len()
            ),
        );
    }
    // GNU ld stamps its own version (2.x) into the optional header; link.exe and lld-link
    // stamp 14.x. A PE from GNU ld is a mingw-w64 (or cygwin) binutils build.
    if major == 2 {
        let crt = if headers.sections.iter().any(|s| s.name == ".CRT") {
            " and a .CRT section"
        } else {
            ", no CRT linked"
        };
        return Toolchain::new(ToolchainName::Mingw, format!("GNU ld {linker}{crt}"));
    }
    Toolchain::new(
        ToolchainName::Unknown,
        format!("no Rich header, no runtime markers; {linker}"),
    )
}
