//! Which toolchain built a PE, and the evidence that decided it.
//!
//! The label picks the remediation text a user sees, so it names the toolchain that produced the
//! image (its linker and entry point); code from another toolchain linked into it (a Rust static
//! library in a C++ program) is recorded in `components`.

use super::headers::{IMAGE_FILE_DLL, IMAGE_SCN_MEM_EXECUTE, PeHeaders, Section};
use crate::facts::{Toolchain, ToolchainName};
use crate::read::Bytes;
use crate::toolchain::{
    Haystack, Markers, Prescan, go_evidence_with, rust_evidence_with, rust_program_evidence,
};

/// The mingw-w64 CRT's own diagnostic, linked into every mingw-w64 program that uses its CRT.
const MINGW_CRT_STRING: &[u8] = b"Mingw-w64 runtime failure";

/// Magic numbers that Linux kernel images carry around the DOS stub of their PE header (the EFI
/// stub), each as the (file offset, bytes) that must all match and what it is. Sources:
/// Documentation/arch/x86/boot.rst (setup header: `boot_flag` 0xAA55 at 0x1fe, `header` "HdrS"
/// at 0x202), Documentation/arch/arm64/booting.rst (`magic` "ARM\x64" at 0x38),
/// Documentation/arch/riscv/boot-image-header.rst (`magic2` "RSC\x05" at 0x34), and
/// drivers/firmware/efi/libstub/zboot-header.S (EFI zboot's "zimg" at 4). All but the x86 one lie
/// in the DOS header's reserved or page-count fields, which linkers fill with fixed values.
type Magic = (u64, &'static [u8]);
const LINUX_IMAGE_MAGICS: &[(&[Magic], &str)] = &[
    (
        &[(0x1fe, b"\x55\xaa"), (0x202, b"HdrS")],
        "x86 boot protocol 'HdrS'",
    ),
    (&[(0x38, b"ARM\x64")], "arm64 Image 'ARM\\x64'"),
    (&[(0x34, b"RSC\x05")], "RISC-V Image 'RSC\\x05'"),
    (&[(0x04, b"zimg")], "EFI zboot 'zimg'"),
];

/// Section names only an ELF link produces. GNU-EFI links an ELF shared object and converts it
/// with `objcopy --target efi-app-*`, keeping these; GNU ld's PE emulation (mingw-w64, cygwin)
/// never creates them.
const ELF_ONLY_SECTIONS: &[&str] = &[
    ".dynamic",
    ".dynsym",
    ".dynstr",
    ".rela",
    ".rel",
    ".hash",
    ".gnu.hash",
];

/// Where toolchain markers can be: the file data of the image's sections, without the DWARF
/// that GNU ld keeps in `.debug_*` sections (most of an unstripped mingw-w64 image: 90% of
/// Wine's DLLs) and without the overlay (data appended after the image, such as an installer's
/// payload, is not this image's code). The headers hold none either.
fn searched<'a>(data: &'a [u8], headers: &PeHeaders) -> Haystack<'a> {
    searched_where(data, headers, |_| true)
}

/// [`searched`], of the sections `keep` takes.
fn searched_where<'a>(
    data: &'a [u8],
    headers: &PeHeaders,
    keep: impl Fn(&Section) -> bool,
) -> Haystack<'a> {
    let ranges = headers
        .sections
        .iter()
        .filter(|s| !s.name.starts_with(".debug") && keep(s))
        .map(|s| {
            let start = u64::from(s.raw_offset);
            (start, start.saturating_add(u64::from(s.raw_size)))
        });
    Haystack::ranges(data, ranges)
}

pub fn detect(data: &[u8], headers: &PeHeaders, dotnet: bool) -> Toolchain {
    let (major, minor) = headers.linker_version;
    let linker = format!("linker version {major}.{minor}");
    if dotnet {
        return Toolchain::new(
            ToolchainName::Dotnet,
            "CLR runtime header (data directory 14)",
        );
    }
    let hay = searched(data, headers);
    // Every marker an image is searched for, in one pass over its data sections (the mingw-w64
    // CRT string with them), and in its code only the Go markers that the Go linker puts there:
    // Rust's and the C runtime's strings are read-only data, never in an executable section.
    let code = |s: &Section| s.has(IMAGE_SCN_MEM_EXECUTE);
    let pre = Prescan::run(
        &searched_where(data, headers, |s| !code(s)),
        &[MINGW_CRT_STRING],
    )
    .earliest(Prescan::of(
        &searched_where(data, headers, code),
        Markers::GoCode,
        &[],
    ));
    let mingw_crt = pre.extra.first().copied().flatten().map(|(at, _)| at);
    if let Some(ev) = go_evidence_with(&hay, &pre) {
        return Toolchain::new(ToolchainName::Go, format!("{ev}; {linker}"));
    }
    let rust = rust_evidence_with(&hay, &pre);
    if let Some(tc) = not_mingw(data, headers, &linker) {
        return with_rust(tc, rust.as_deref());
    }
    if let Some(ev) = &rust {
        // A Rust program (rustc wrote its `main`) is rust even though link.exe gives it a Rich
        // header. Rust code in an executable without Rust's `main` is a library crate linked
        // into a program of another toolchain, which decides the fix. A DLL has no program
        // entry to tell the two apart (a cdylib and a C++ DLL with a Rust staticlib both start
        // in the C runtime's DllMain), so there the Rust markers still decide.
        let program = rust_program_evidence(&hay);
        let dll = headers.has_characteristic(IMAGE_FILE_DLL);
        if program.is_some() || dll {
            let linked = match &headers.rich {
                Some(_) => "; linked by MSVC link.exe (Rich header)",
                None if major == 2 => "; linked by GNU ld",
                None => "",
            };
            let entry = program.map(|p| format!("; {p}")).unwrap_or_default();
            return Toolchain::new(ToolchainName::Rust, format!("{ev}{entry}{linked}"));
        }
        if let Some(tc) = linking_toolchain(mingw_crt, headers, &linker) {
            let evidence = format!(
                "{}; Rust code linked in ({ev}) but no Rust main (no std::rt::lang_start strings)",
                tc.evidence
            );
            return Toolchain::new(tc.name, evidence).with_component(ToolchainName::Rust);
        }
        return Toolchain::new(ToolchainName::Rust, ev.clone());
    }
    linking_toolchain(mingw_crt, headers, &linker).unwrap_or_else(|| {
        Toolchain::new(
            ToolchainName::Unknown,
            format!("no Rich header, no runtime markers; {linker}"),
        )
    })
}

/// `tc` with rust recorded as a component when `rust` holds evidence of Rust code.
fn with_rust(tc: Toolchain, rust: Option<&str>) -> Toolchain {
    match rust {
        Some(ev) => {
            let evidence = format!("{}; Rust code linked in ({ev})", tc.evidence);
            Toolchain {
                evidence,
                ..tc.with_component(ToolchainName::Rust)
            }
        }
        None => tc,
    }
}

/// Images that GNU binutils wrote (linker version 2.x) but mingw-w64 did not build: Linux kernel
/// images with an EFI stub and GNU-EFI applications. They are labelled `unknown`, whose
/// remediation is the policy's `default` text: no toolchain key fits a kernel build or GNU-EFI,
/// and a new name would drop these images out of every rule that lists the PE toolchains to
/// leave .NET out (`toolchain = ["msvc", "mingw", "go", "rust", "unknown"]`).
fn not_mingw(data: &[u8], headers: &PeHeaders, linker: &str) -> Option<Toolchain> {
    let b = Bytes::new(data, true);
    let matches = |(offset, magic): &Magic| {
        u64::try_from(magic.len())
            .ok()
            .and_then(|len| b.get("Linux image magic", *offset, len).ok())
            == Some(*magic)
    };
    for (magics, what) in LINUX_IMAGE_MAGICS {
        if magics.iter().all(matches) {
            let at = magics.last().map_or(0, |(offset, _)| *offset);
            return Some(Toolchain::new(
                ToolchainName::Unknown,
                format!(
                    "Linux kernel image with an EFI stub: {what} magic at offset {at:#x}; \
                     built by the kernel's own build, not mingw-w64; {linker}"
                ),
            ));
        }
    }
    if headers.linker_version.0 == 2 {
        if let Some(s) = headers
            .sections
            .iter()
            .find(|s| ELF_ONLY_SECTIONS.contains(&s.name.as_str()))
        {
            return Some(Toolchain::new(
                ToolchainName::Unknown,
                format!(
                    "GNU-EFI image: ELF section {} kept by objcopy's conversion from an ELF \
                     shared object (GNU ld's PE output has none), subsystem {}; not mingw-w64; \
                     {linker}",
                    s.name,
                    super::subsystem_name(headers.subsystem)
                ),
            ));
        }
    }
    None
}

/// The toolchain that linked the image: the mingw-w64 CRT string (its file offset, when found),
/// a Rich header (MSVC link.exe) or GNU ld's linker version.
fn linking_toolchain(
    mingw_crt: Option<u64>,
    headers: &PeHeaders,
    linker: &str,
) -> Option<Toolchain> {
    let (major, _) = headers.linker_version;
    if let Some(at) = mingw_crt {
        return Some(Toolchain::new(
            ToolchainName::Mingw,
            format!("mingw-w64 CRT string at offset {at:#x}; {linker}"),
        ));
    }
    if let Some(rich) = &headers.rich {
        let newest = rich.iter().map(|e| e.build).max().unwrap_or(0);
        return Some(Toolchain::new(
            ToolchainName::Msvc,
            format!(
                "Rich header with {} tool entries (newest build {newest}); {linker}",
                rich.len()
            ),
        ));
    }
    // GNU ld stamps its own version (2.x) into the optional header; link.exe and lld-link
    // stamp 14.x. A PE from GNU ld is a mingw-w64 (or cygwin) binutils build.
    if major == 2 {
        let crt = if headers.sections.iter().any(|s| s.name == ".CRT") {
            " and a .CRT section"
        } else {
            ", no CRT linked"
        };
        return Some(Toolchain::new(
            ToolchainName::Mingw,
            format!("GNU ld {linker}{crt}"),
        ));
    }
    None
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
        crate::test_support::fixture("pe", name)
    }

    /// A panic-location path std leaves in any binary with Rust code in it.
    const RUST_PATH: &[u8] =
        b"\0/rustc/0123456789abcdef0123456789abcdef01234567/library/core/src/option.rs\0";
    /// What a Rust program's `std::rt::lang_start_internal` brings along.
    const LANG_START: &[u8] = b"\0drop of the panic payload panicked\0";

    /// clang-cfg.exe (lld-link, linker 14.x, no Rich header, no CRT strings) made to look as
    /// link.exe's output: a Rich header and Rust bytes appended after the image. Synthetic:
    /// there is no MSVC on the build machine.
    fn msvc_image(extra: &[&[u8]]) -> (Vec<u8>, PeHeaders) {
        let mut data = fixture("clang-cfg.exe");
        let mut headers = PeHeaders::parse(&data).unwrap();
        // Two tool entries (the values are illustrative: only the header's presence counts).
        headers.rich = Some(vec![
            crate::pe::headers::RichEntry {
                product: 0x0105,
                build: 33_523,
                count: 12,
            },
            crate::pe::headers::RichEntry {
                product: 0x0102,
                build: 33_523,
                count: 1,
            },
        ]);
        headers.linker_version = (14, 38);
        add_section(&mut data, &mut headers, ".rdata2", extra);
        (data, headers)
    }

    /// Appends `parts` to the image as the file data of a new section `name` (in the parsed
    /// headers only: detection reads the section table from them).
    fn add_section(data: &mut Vec<u8>, headers: &mut PeHeaders, name: &str, parts: &[&[u8]]) {
        let start = data.len();
        for p in parts {
            data.extend_from_slice(p);
        }
        headers.sections.push(crate::pe::headers::Section {
            name: name.to_owned(),
            virtual_address: 0x10_0000,
            virtual_size: (data.len() - start) as u32,
            raw_offset: start as u32,
            raw_size: (data.len() - start) as u32,
            characteristics: 0x4000_0040,
        });
    }

    #[test]
    fn markers_in_debug_sections_or_the_overlay_are_not_evidence() {
        // The same Rust bytes that make `msvc_image` read as Rust with a component, in DWARF or
        // appended after the image, say nothing about the image's code.
        let (mut data, mut headers) = msvc_image(&[]);
        add_section(
            &mut data,
            &mut headers,
            ".debug_str",
            &[RUST_PATH, LANG_START],
        );
        data.extend_from_slice(RUST_PATH);
        data.extend_from_slice(b"\xff Go buildinf:");
        let tc = detect(&data, &headers, false);
        assert_eq!(tc.name, ToolchainName::Msvc, "{}", tc.evidence);
        assert!(tc.components.is_empty(), "{:?}", tc.components);
        // Moved into a data section, they count.
        add_section(&mut data, &mut headers, ".rdata2", &[RUST_PATH]);
        assert_eq!(
            detect(&data, &headers, false).components,
            [ToolchainName::Rust]
        );
    }

    #[test]
    fn code_sections_are_searched_for_the_go_markers_only() {
        let (mut data, mut headers) = msvc_image(&[]);
        add_section(&mut data, &mut headers, ".text2", &[RUST_PATH, LANG_START]);
        headers.sections.last_mut().unwrap().characteristics = 0x6000_0020;
        let tc = detect(&data, &headers, false);
        assert_eq!(tc.name, ToolchainName::Msvc, "{}", tc.evidence);
        assert!(tc.components.is_empty(), "{:?}", tc.components);
        // The Go linker's build ID string opens .text.
        add_section(
            &mut data,
            &mut headers,
            ".text3",
            &[b"\xff Go build ID: \"abc/def\"\n"],
        );
        headers.sections.last_mut().unwrap().characteristics = 0x6000_0020;
        let tc = detect(&data, &headers, false);
        assert_eq!(tc.name, ToolchainName::Go, "{}", tc.evidence);
    }

    #[test]
    fn overlapping_sections_are_searched_once_with_file_offsets() {
        let (mut data, mut headers) = msvc_image(&[]);
        let at = data.len();
        add_section(&mut data, &mut headers, ".a", &[b"xxxx", RUST_PATH]);
        for _ in 0..1000 {
            let dup = headers.sections.last().unwrap().clone();
            headers.sections.push(dup);
        }
        let tc = detect(&data, &headers, false);
        let expected = format!("at offset {:#x}", at + 4 + 1);
        assert!(tc.evidence.contains(&expected), "{}", tc.evidence);
        assert_eq!(
            searched(&data, &headers).searched_bytes(),
            (data.len() - at) as u64 + searched_before(&headers)
        );
    }

    /// Bytes searched in the image's own sections (all but the last 1001 added by the test).
    fn searched_before(headers: &PeHeaders) -> u64 {
        let mut h = headers.clone();
        h.sections.truncate(h.sections.len() - 1001);
        let (data, _) = msvc_image(&[]);
        searched(&data, &h).searched_bytes()
    }

    #[test]
    fn msvc_cpp_program_with_a_rust_staticlib_is_msvc_with_rust_component() {
        let (data, headers) = msvc_image(&[RUST_PATH]);
        let tc = detect(&data, &headers, false);
        assert_eq!(tc.name, ToolchainName::Msvc, "{}", tc.evidence);
        assert_eq!(tc.components, vec![ToolchainName::Rust]);
        assert!(tc.evidence.starts_with("Rich header"), "{}", tc.evidence);
        assert!(tc.evidence.contains("no Rust main"), "{}", tc.evidence);
    }

    #[test]
    fn rust_program_linked_by_link_exe_stays_rust() {
        // A pure Rust msvc-target program has a Rich header too; rustc's main decides.
        let (data, headers) = msvc_image(&[RUST_PATH, LANG_START]);
        let tc = detect(&data, &headers, false);
        assert_eq!(tc.name, ToolchainName::Rust, "{}", tc.evidence);
        assert!(tc.components.is_empty());
        assert!(tc.evidence.contains("lang_start"), "{}", tc.evidence);
        assert!(tc.evidence.contains("Rich header"), "{}", tc.evidence);
    }

    #[test]
    fn rust_dll_without_program_entry_stays_rust() {
        // A cdylib and a C++ DLL with a Rust staticlib look alike: the Rust markers decide.
        let (data, mut headers) = msvc_image(&[RUST_PATH]);
        headers.characteristics |= IMAGE_FILE_DLL;
        let tc = detect(&data, &headers, false);
        assert_eq!(tc.name, ToolchainName::Rust, "{}", tc.evidence);
    }

    #[test]
    fn mingw_program_with_a_rust_staticlib_is_mingw_with_rust_component() {
        let mut data = fixture("x64-default.exe");
        let mut headers = PeHeaders::parse(&data).unwrap();
        add_section(&mut data, &mut headers, ".rdata2", &[RUST_PATH]);
        let tc = detect(&data, &headers, false);
        assert_eq!(tc.name, ToolchainName::Mingw, "{}", tc.evidence);
        assert_eq!(tc.components, vec![ToolchainName::Rust]);
    }

    #[test]
    fn rust_program_without_rustc_paths_is_found_by_std_strings() {
        // --remap-path-prefix / -Zbuild-std with trimmed paths: no /rustc/<hash>/ left.
        let (data, headers) = msvc_image(&[
            b"\0RUST_BACKTRACE\0",
            b"\0called `Option::unwrap()` on a `None` value\0",
            LANG_START,
        ]);
        let tc = detect(&data, &headers, false);
        assert_eq!(tc.name, ToolchainName::Rust, "{}", tc.evidence);
        assert!(tc.evidence.contains("RUST_BACKTRACE"), "{}", tc.evidence);
        // The variable's name alone (a C program documenting it) is not Rust.
        let (data, headers) = msvc_image(&[b"\0RUST_BACKTRACE\0"]);
        assert_eq!(detect(&data, &headers, false).name, ToolchainName::Msvc);
    }

    #[test]
    fn gnu_efi_image_is_not_mingw() {
        // Built by corpus/recipes/build.sh with gnu-efi 3.0.15 and objcopy (binutils 2.40).
        let data = fixture("gnu-efi-app.efi");
        let headers = PeHeaders::parse(&data).unwrap();
        assert_eq!(headers.linker_version.0, 2, "BFD stamps its version");
        let tc = detect(&data, &headers, false);
        assert_eq!(tc.name, ToolchainName::Unknown, "{}", tc.evidence);
        assert!(tc.evidence.starts_with("GNU-EFI image"), "{}", tc.evidence);
        assert!(tc.evidence.contains(".dynamic"), "{}", tc.evidence);
        // mingw-w64's own EFI application (GNU ld PE output) stays mingw.
        let data = fixture("x64-efi-app.efi");
        let headers = PeHeaders::parse(&data).unwrap();
        assert_eq!(detect(&data, &headers, false).name, ToolchainName::Mingw);
    }

    /// x64-efi-app.efi's headers with the bytes of a Linux image's DOS stub patched in (the
    /// header bytes goblin reads are parsed first, so the patch cannot disturb them). Synthetic:
    /// a kernel image is megabytes and cannot be committed.
    fn kernel_like(patches: &[(usize, &[u8])]) -> Toolchain {
        let mut data = fixture("x64-efi-app.efi");
        let headers = PeHeaders::parse(&data).unwrap();
        for (at, bytes) in patches {
            data.splice(*at..at + bytes.len(), bytes.iter().copied());
        }
        detect(&data, &headers, false)
    }

    #[test]
    fn linux_kernel_efi_stub_is_not_mingw() {
        let tc = kernel_like(&[(0x1fe, b"\x55\xaa"), (0x202, b"HdrS")]);
        assert_eq!(tc.name, ToolchainName::Unknown, "{}", tc.evidence);
        assert!(
            tc.evidence
                .starts_with("Linux kernel image with an EFI stub: x86 boot protocol 'HdrS'"),
            "{}",
            tc.evidence
        );
        let tc = kernel_like(&[(0x38, b"ARM\x64")]);
        assert!(tc.evidence.contains("arm64 Image"), "{}", tc.evidence);
        // "HdrS" without the boot sector's 0xAA55 is not the boot protocol.
        assert_eq!(kernel_like(&[(0x202, b"HdrS")]).name, ToolchainName::Mingw);
    }

    /// The running machine's kernel, when there is one to read (not committed: megabytes).
    #[test]
    fn installed_kernel_image_is_not_mingw() {
        let Ok(dir) = std::fs::read_dir("/boot") else {
            return;
        };
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with("vmlinuz") {
                continue;
            }
            let Ok(data) = std::fs::read(entry.path()) else {
                continue;
            };
            let Ok(headers) = PeHeaders::parse(&data) else {
                continue; // a kernel built without the EFI stub has no PE header
            };
            let tc = detect(&data, &headers, false);
            assert_ne!(tc.name, ToolchainName::Mingw, "{name}: {}", tc.evidence);
        }
    }
}
