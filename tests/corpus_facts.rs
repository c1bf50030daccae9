//! Every fact in `corpus/expected.json` (derived from build flags and readelf/objdump/llvm-readobj,
//! never from bingate) must be what bingate reports.
//!
//! Third-party files under `corpus/public/` are checked when `corpus/fetch-public.sh` has fetched
//! them; with `BINGATE_REQUIRE_INTEROP=1` (set by `.ci/run`) their absence is a failure.

mod common;

use std::path::Path;

use bingate::report::FileReport;
use common::interop;
use common::paths::corpus;
use serde_json::Value;

fn facts_json(path: &Path) -> Value {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let facts = bingate::analyze(&data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        facts.warnings.is_empty(),
        "{}: warnings {:?}",
        path.display(),
        facts.warnings
    );
    let report = FileReport::from_facts(
        path.display().to_string(),
        Some(String::new()),
        data.len() as u64,
        facts,
    );
    serde_json::to_value(&report).unwrap()
}

#[test]
fn corpus_facts_match_the_expected_table() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus("expected.json")).unwrap()).unwrap();
    let mut checked_files = 0;
    let mut checked_facts = 0;
    let mut missing_public = Vec::new();
    let mut mismatches = Vec::new();
    for (rel, want) in expected.as_object().unwrap() {
        let path = corpus(rel);
        if !path.exists() {
            assert!(
                rel.starts_with("public/"),
                "committed fixture {rel} is missing"
            );
            missing_public.push(rel.clone());
            continue;
        }
        let got = facts_json(&path);
        checked_files += 1;
        for key in ["format", "arch", "bits", "kind"] {
            if let Some(w) = want.get(key) {
                checked_facts += 1;
                if got[key] != *w {
                    mismatches.push(format!("{rel}: {key} expected {w} got {}", got[key]));
                }
            }
        }
        if let Some(w) = want.get("toolchain") {
            checked_facts += 1;
            if got["toolchain"]["name"] != *w {
                mismatches.push(format!(
                    "{rel}: toolchain expected {w} got {}",
                    got["toolchain"]
                ));
            }
        }
        for (fact, w) in want["hardening"].as_object().unwrap() {
            checked_facts += 1;
            let g = &got["hardening"][fact];
            if g != w {
                mismatches.push(format!("{rel}: hardening.{fact} expected {w} got {g}"));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(checked_files >= 52, "only {checked_files} fixtures checked");
    assert!(checked_facts > 1000, "only {checked_facts} facts checked");
    if !missing_public.is_empty() {
        // Not checked: a note, or a failure with BINGATE_REQUIRE_INTEROP=1.
        interop::skip(format_args!(
            "public corpus files are absent (run corpus/fetch-public.sh): {missing_public:?}"
        ));
    }
}

/// Go and MSVC binaries are first-class: the evidence names what decided it.
#[test]
fn toolchain_evidence_names_its_source() {
    let cases = [
        ("pe/x64-default.exe", "mingw", "mingw-w64 CRT string"),
        ("elf/pie-default", "gcc", ".comment: GCC:"),
        // objcopy'd from ELF: GNU ld's linker version, but not mingw (issue 13, item 9).
        (
            "pe/gnu-efi-app.efi",
            "unknown",
            "GNU-EFI image: ELF section .dynamic",
        ),
    ];
    for (rel, name, evidence) in cases {
        let got = facts_json(&corpus(rel));
        assert_eq!(got["toolchain"]["name"], name, "{rel}");
        let ev = got["toolchain"]["evidence"].as_str().unwrap();
        assert!(
            ev.contains(evidence),
            "{rel}: evidence {ev:?} lacks {evidence:?}"
        );
    }
    let esbuild = corpus("public/esbuild.exe");
    if esbuild.exists() {
        let got = facts_json(&esbuild);
        assert_eq!(got["toolchain"]["name"], "go");
        let ev = got["toolchain"]["evidence"].as_str().unwrap();
        assert!(
            ev.contains("runtime.main") || ev.contains("Go build info"),
            "{ev}"
        );
        // Go's linker: no load config, so no CFG, GS cookie or CET (reported, not invented).
        assert_eq!(got["hardening"]["has_load_config"], false);
        assert_eq!(got["hardening"]["cfg_instrumented"], false);
    }
}

/// The PE checksum bingate computes agrees with the one the linker stored where it stored one.
#[test]
fn pe_checksum_matches_stored_value_of_signed_msvc_dlls() {
    let dir = corpus("public/msvc-runtime");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        // The public corpus is fetched (corpus/fetch-public.sh), not committed.
        interop::skip(format_args!(
            "{} is absent: run corpus/fetch-public.sh",
            dir.display()
        ));
        return;
    };
    let mut n = 0;
    for e in entries {
        let path = e.unwrap().path();
        let got = facts_json(&path);
        let c = &got["hardening"]["checksum"];
        assert_eq!(c["stored"], c["computed"], "{}", path.display());
        n += 1;
    }
    assert!(n > 0);
}

/// Regression: Visual Studio 2008–2012 linkers write 0x40 as the load-config directory size (for
/// Windows XP) while the structure, with its SafeSEH table at offset 0x40, is larger. The
/// structure's own Size field decides (as for the Windows loader and llvm-readobj), so SafeSEH is
/// still found. electron-winstaller's Setup.exe is such a file in the wild.
#[test]
fn load_config_size_comes_from_the_structure_not_the_directory() {
    let mut data = std::fs::read(corpus("pe/clang-x86-safeseh.exe")).unwrap();
    let lfanew = u32::from_le_bytes(data[0x3c..0x40].try_into().unwrap()) as usize;
    // PE32: data directories start 96 bytes into the optional header; load config is entry 10.
    let size_field = lfanew + 24 + 96 + 10 * 8 + 4;
    data[size_field..size_field + 4].copy_from_slice(&0x40u32.to_le_bytes());
    let facts = bingate::analyze(&data).unwrap();
    let bingate::facts::Hardening::Pe(h) = facts.hardening else {
        panic!("not PE")
    };
    assert_eq!(h.safe_seh, bingate::pe::SafeSeh::Table);
    assert!(
        facts.warnings.is_empty(),
        "0x40 is the documented XP convention: {:?}",
        facts.warnings
    );
}

/// Rust binaries are first-class: bingate's own executable is built by rustc, which on Linux
/// links PIE with full RELRO and a non-executable stack by default and has no stack protector on
/// stable (rustc's target specifications: `position_independent_executables`, `relro_level`).
#[cfg(target_os = "linux")]
#[test]
fn rust_binaries_are_detected_with_their_default_mitigations() {
    let got = facts_json(Path::new(common::run::EXE));
    assert_eq!(got["toolchain"]["name"], "rust", "{}", got["toolchain"]);
    assert!(
        got["toolchain"]["evidence"]
            .as_str()
            .unwrap()
            .contains("rustc version")
    );
    let h = &got["hardening"];
    assert_eq!(h["pie"], "pie");
    assert_eq!(h["nx"], true);
    assert_eq!(h["relro"], "full");
    assert_eq!(h["canary"], false);
}
