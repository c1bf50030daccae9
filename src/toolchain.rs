//! Toolchain markers shared by PE and ELF: Go build info and Rust standard-library paths.
//!
//! Format-specific evidence (Rich header, `.comment`, CLR header) lives in `pe/toolchain.rs` and
//! `elf/toolchain.rs`; these scanners look for byte strings the toolchains embed in any format.

use memchr::memmem;

use crate::read::Bytes;

/// The magic that opens Go's build information blob (`debug/buildinfo`).
const GO_BUILDINFO_MAGIC: &[u8] = b"\xff Go buildinf:";
/// Go before 1.18 has no inline version; its build ID note/string is the fallback evidence.
const GO_BUILD_ID: &[u8] = b"Go build ID: \"";
/// Rust's standard library records panic locations under `/rustc/<commit>/library/`.
const RUST_STD_PATH: &[u8] = b"/rustc/";
/// The environment variable std's default panic hook reads; any Rust code that can panic with the
/// standard library carries it, whatever its paths were remapped to.
const RUST_BACKTRACE: &[u8] = b"RUST_BACKTRACE";
/// Messages of std/core panics that sit beside `RUST_BACKTRACE` in a Rust binary. One of them is
/// required with it, so a C program that merely names the variable is not taken for Rust.
const RUST_STD_MESSAGES: &[&[u8]] = &[
    b"called `Option::unwrap()` on a `None` value",
    b"called `Result::unwrap()` on an `Err` value",
    b"' panicked at ",
    b"panicked after panic::always_abort()",
];
/// Messages only `std::rt::lang_start_internal` uses (`rtabort!` when the payload of a panic in
/// `main` cannot be dropped, or when runtime init or cleanup unwinds). rustc calls that function
/// from the `main` it generates for a Rust program; a static library linked into a C or C++
/// program never references it. Checked in rustc 1.95: both strings are in a Rust program (plain
/// and `strip`ped), neither is in a C program linked against a Rust staticlib with section GC
/// (`gcc -Wl,--gc-sections`, as link.exe's `/OPT:REF` in release builds). Without section GC the
/// whole std object comes along, strings included, and the program reads as Rust (the label
/// bingate gave before this rule).
const RUST_LANG_START_MESSAGES: &[&[u8]] = &[
    b"drop of the panic payload panicked",
    b"initialization or cleanup bug",
];

/// Go evidence: the build info blob (with the Go version it records, Go >= 1.18), else the
/// runtime's PC-line table header together with `runtime.main` among its function names (present
/// even in stripped builds that drop build info, such as esbuild's), else the build ID string.
pub fn go_evidence(data: &[u8]) -> Option<String> {
    if let Some(at) = memmem::find(data, GO_BUILDINFO_MAGIC) {
        let version = go_version(data, at as u64);
        return Some(match version {
            Some(v) => format!("Go build info at offset {at:#x} ({v})"),
            None => format!("Go build info at offset {at:#x}"),
        });
    }
    if let Some((at, magic)) = pclntab(data) {
        if memmem::find(data, b"\0runtime.main\0").is_some() {
            let version = runtime_version(data)
                .map(|v| format!("; version string {v}"))
                .unwrap_or_default();
            return Some(format!(
                "Go pclntab header (magic {magic:#x}) at offset {at:#x} naming runtime.main{version}"
            ));
        }
    }
    memmem::find(data, GO_BUILD_ID).map(|at| format!("'Go build ID' string at offset {at:#x}"))
}

/// The header of Go's PC-line table: magic (1.2, 1.16, 1.18, 1.20), two zero bytes, the
/// instruction quantum (1, 2 or 4) and the pointer size (4 or 8).
fn pclntab(data: &[u8]) -> Option<(usize, u32)> {
    for magic in [0xffff_fff1u32, 0xffff_fff0, 0xffff_fffa, 0xffff_fffb] {
        let mut needle = magic.to_le_bytes().to_vec();
        needle.extend_from_slice(&[0, 0]);
        for at in memmem::find_iter(data, &needle) {
            let tail = data.get(at.checked_add(6)?..at.checked_add(8)?)?;
            if let [quantum, ptr] = tail {
                if matches!(quantum, 1 | 2 | 4) && matches!(ptr, 4 | 8) {
                    return Some((at, magic));
                }
            }
        }
    }
    None
}

/// `runtime.buildVersion`'s text: the first NUL-terminated "go1.N[.M]" in the file.
fn runtime_version(data: &[u8]) -> Option<String> {
    for at in memmem::find_iter(data, b"go1.") {
        let rest = data.get(at..)?.get(..16)?;
        let end = rest.iter().position(|b| *b == 0)?;
        let v = rest.get(..end)?;
        if v.len() > 4 && v.iter().skip(2).all(|b| b.is_ascii_digit() || *b == b'.') {
            return Some(String::from_utf8_lossy(v).into_owned());
        }
    }
    None
}

/// Go 1.18+ build info: 14-byte magic, pointer size, flags; with flag 0x2 the version follows at
/// offset 32 as a varint-length-prefixed string.
fn go_version(data: &[u8], at: u64) -> Option<String> {
    let b = Bytes::new(data, true);
    let flags = b.u8("Go build info", at.checked_add(15)?).ok()?;
    if flags & 0x2 == 0 {
        return None;
    }
    let start = at.checked_add(32)?;
    let len = u64::from(b.u8("Go build info", start).ok()?);
    if len == 0 || len >= 0x80 {
        return None;
    }
    let raw = b.get("Go build info", start.checked_add(1)?, len).ok()?;
    let v = std::str::from_utf8(raw).ok()?;
    v.starts_with("go").then(|| v.to_owned())
}

/// Evidence of Rust code in `data`, cheapest marker first: a `/rustc/<40 hex>/` path left by the
/// standard library, else std's `RUST_BACKTRACE` with one of its panic messages (binaries whose
/// paths were remapped or trimmed).
pub fn rust_evidence(data: &[u8]) -> Option<String> {
    rust_std_path(data).or_else(|| rust_std_strings(data))
}

/// std's `RUST_BACKTRACE` and one of its panic messages.
fn rust_std_strings(data: &[u8]) -> Option<String> {
    let at = memmem::find(data, RUST_BACKTRACE)?;
    let (message, msg_at) = RUST_STD_MESSAGES
        .iter()
        .find_map(|m| memmem::find(data, m).map(|p| (*m, p)))?;
    Some(format!(
        "Rust standard library strings 'RUST_BACKTRACE' at offset {at:#x} and '{}' at offset {msg_at:#x}",
        String::from_utf8_lossy(message).trim_matches(|c| c == '\'' || c == ' ')
    ))
}

/// Evidence that `data` is a Rust *program* (rustc generated its `main`), not foreign code with a
/// Rust library linked in: a message only `std::rt::lang_start_internal` uses.
pub fn rust_program_evidence(data: &[u8]) -> Option<String> {
    RUST_LANG_START_MESSAGES.iter().find_map(|m| {
        memmem::find(data, m).map(|at| {
            format!(
                "std::rt::lang_start string '{}' at offset {at:#x}",
                String::from_utf8_lossy(m)
            )
        })
    })
}

/// A `/rustc/<40 hex>/` path left by the Rust standard library.
fn rust_std_path(data: &[u8]) -> Option<String> {
    for at in memmem::find_iter(data, RUST_STD_PATH) {
        let hash = data
            .get(at.checked_add(RUST_STD_PATH.len())?..)?
            .get(..40)?;
        if hash.iter().all(u8::is_ascii_hexdigit) {
            let short = String::from_utf8_lossy(hash.get(..12)?);
            return Some(format!(
                "Rust standard library path /rustc/{short}… at offset {at:#x}"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_version_is_read_from_inline_build_info() {
        let mut blob = vec![0u8; 64];
        blob.extend_from_slice(GO_BUILDINFO_MAGIC);
        blob.push(8); // pointer size
        blob.push(2); // inline strings
        blob.resize(64 + 32, 0);
        blob.push(8);
        blob.extend_from_slice(b"go1.22.5");
        let ev = go_evidence(&blob).unwrap();
        assert_eq!(ev, "Go build info at offset 0x40 (go1.22.5)");
    }

    #[test]
    fn truncated_go_build_info_still_counts_without_version() {
        let mut blob = b"xx".to_vec();
        blob.extend_from_slice(GO_BUILDINFO_MAGIC);
        blob.push(8);
        blob.push(2);
        assert_eq!(go_evidence(&blob).unwrap(), "Go build info at offset 0x2");
    }

    #[test]
    fn rust_without_rustc_paths_is_found_by_std_strings() {
        let s = b"..RUST_BACKTRACE\0..full\0..called `Result::unwrap()` on an `Err` value\0";
        let ev = rust_evidence(s).unwrap();
        assert_eq!(
            ev,
            "Rust standard library strings 'RUST_BACKTRACE' at offset 0x2 and \
             'called `Result::unwrap()` on an `Err` value' at offset 0x1a"
        );
        // Either half alone is not enough.
        assert!(rust_evidence(b"set RUST_BACKTRACE=1 to see more").is_none());
        assert!(rust_evidence(b"called `Option::unwrap()` on a `None` value").is_none());
    }

    #[test]
    fn rust_program_needs_lang_start_strings() {
        assert!(rust_program_evidence(b"/rustc/ RUST_BACKTRACE").is_none());
        let ev = rust_program_evidence(b"xx\0initialization or cleanup bug\0").unwrap();
        assert_eq!(
            ev,
            "std::rt::lang_start string 'initialization or cleanup bug' at offset 0x3"
        );
    }

    #[test]
    fn rust_path_needs_a_commit_hash() {
        assert!(rust_evidence(b"/rustc/not-a-hash").is_none());
        let s =
            b"....library/std /rustc/0123456789abcdef0123456789abcdef01234567/library/std/src/x.rs";
        assert!(
            rust_evidence(s)
                .unwrap()
                .starts_with("Rust standard library path /rustc/0123456789ab")
        );
    }
}
