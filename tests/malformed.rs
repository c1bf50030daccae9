//! Hostile input: truncations and field corruptions of the fixtures must each give an error (or,
//! for an optional structure, a warning) for that file, never a panic or a hang, and `check`
//! must exit normally with the file reported.
//!
//! The malformed files are generated here from committed fixtures (this file is their recipe);
//! each case is named after what it guards.

mod common;

use std::path::{Path, PathBuf};

use common::paths;
use common::run::bingate_mixed;
use serde_json::Value;

fn fixture(rel: &str) -> Vec<u8> {
    paths::read(paths::corpus(rel))
}

fn put_u16(d: &mut [u8], at: usize, v: u16) {
    d[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(d: &mut [u8], at: usize, v: u32) {
    d[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(d: &mut [u8], at: usize, v: u64) {
    d[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
fn get_u32(d: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(d[at..at + 4].try_into().unwrap())
}
fn get_u64(d: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(d[at..at + 8].try_into().unwrap())
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    Error,
    Warning,
    /// Garbage that may still parse as headers: the guarantee is a normal result, no panic.
    Survive,
}

/// (name, bytes, expected outcome)
fn cases() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let elf = fixture("elf/pie-default");
    let pe = fixture("pe/x64-default.exe");
    let cfg = fixture("pe/clang-cfg.exe");
    let e_shoff = get_u64(&elf, 0x28) as usize;
    let e_phoff = get_u64(&elf, 0x20) as usize;
    let lfanew = get_u32(&pe, 0x3c) as usize;
    let cfg_lfanew = get_u32(&cfg, 0x3c) as usize;
    let mut v = Vec::new();

    v.push(("elf_truncated_header", elf[..40].to_vec(), Expect::Error));
    v.push((
        "elf_truncated_program_headers",
        elf[..e_phoff + 30].to_vec(),
        Expect::Error,
    ));
    let mut d = elf.clone();
    put_u64(&mut d, 0x20, u64::MAX - 8); // e_phoff past the end (and overflowing)
    v.push(("elf_phoff_past_end", d, Expect::Error));
    let mut d = elf.clone();
    put_u16(&mut d, 0x38, 0xffff); // e_phnum
    v.push(("elf_phnum_huge", d, Expect::Error));
    let mut d = elf.clone();
    put_u64(&mut d, 0x28, elf.len() as u64 - 8); // e_shoff near the end
    // The loader never reads section headers: a broken table is a warning, facts stay (issue 13).
    v.push(("elf_shoff_past_end", d, Expect::Warning));
    let mut d = elf.clone();
    put_u16(&mut d, 0x3c, 0); // e_shnum = 0: count in section 0's sh_size
    put_u64(&mut d, e_shoff + 32, 5_000_000);
    v.push(("elf_section_count_in_the_millions", d, Expect::Warning));
    let mut d = elf.clone();
    put_u64(&mut d, 0x28, 0x40); // section table overlapping the program headers
    v.push(("elf_sections_overlap_headers", d, Expect::Survive));
    v.push((
        "elf_truncated_mid_file",
        elf[..elf.len() / 2].to_vec(),
        Expect::Warning,
    ));
    let mut d = elf.clone();
    d[4] = 7; // EI_CLASS invalid
    v.push(("elf_bad_class", d, Expect::Error));
    // PT_DYNAMIC lying about its size.
    let mut d = elf.clone();
    let phnum = u16::from_le_bytes([elf[0x38], elf[0x39]]) as usize;
    for i in 0..phnum {
        let ph = e_phoff + i * 56;
        if get_u32(&d, ph) == 2 {
            put_u64(&mut d, ph + 32, u64::MAX / 2); // p_filesz
        }
    }
    v.push(("elf_dynamic_size_lies", d, Expect::Warning));

    v.push((
        "pe_truncated_after_dos_header",
        pe[..lfanew + 4].to_vec(),
        Expect::Error,
    ));
    v.push((
        "pe_truncated_optional_header",
        pe[..lfanew + 24 + 40].to_vec(),
        Expect::Error,
    ));
    let mut d = pe.clone();
    put_u16(&mut d, lfanew + 6, 0xffff); // NumberOfSections
    v.push(("pe_section_count_max", d, Expect::Error));
    let mut d = pe.clone();
    put_u16(&mut d, lfanew + 20, 0xfff0); // SizeOfOptionalHeader past the end
    v.push(("pe_optional_header_size_lies", d, Expect::Error));
    let mut d = pe.clone();
    put_u16(&mut d, lfanew + 24, 0x999); // optional header magic
    v.push(("pe_bad_optional_magic", d, Expect::Error));
    let mut d = pe.clone();
    put_u32(&mut d, lfanew + 24 + 108, 0xffff_ffff); // NumberOfRvaAndSizes
    // Above 16 the extra entries are not read; a warning, not a refusal (issue 13).
    v.push(("pe_data_directory_count_lies", d, Expect::Warning));
    // Load config: RVA past every section, then a size field that lies.
    let lc_dir = cfg_lfanew + 24 + 112 + 10 * 8;
    let mut d = cfg.clone();
    put_u32(&mut d, lc_dir, 0x7fff_0000);
    v.push(("pe_load_config_rva_unmapped", d, Expect::Warning));
    let mut d = cfg.clone();
    put_u32(&mut d, lc_dir + 4, 0xffff_fff0);
    v.push(("pe_load_config_size_lies", d, Expect::Warning));
    // Debug directory pointing past the end.
    let mut d = cfg.clone();
    let dbg_dir = cfg_lfanew + 24 + 112 + 6 * 8;
    put_u32(&mut d, dbg_dir, 0x7fff_0000);
    put_u32(&mut d, dbg_dir + 4, 28);
    v.push(("pe_debug_directory_unmapped", d, Expect::Warning));
    v
}

fn write_cases(dir: &Path) -> Vec<(PathBuf, &'static str, Expect)> {
    cases()
        .into_iter()
        .map(|(name, bytes, expect)| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            (p, name, expect)
        })
        .collect()
}

#[test]
fn malformed_fixtures_are_reported_not_crashed() {
    let mut failures = Vec::new();
    for (name, bytes, expect) in cases() {
        match (bingate::analyze(&bytes), expect) {
            (Err(_), Expect::Error) => {}
            (Ok(f), Expect::Warning) if !f.warnings.is_empty() => {}
            (_, Expect::Survive) => {}
            (got, want) => failures.push(format!("{name}: expected {want:?}, got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn check_exits_normally_and_reports_each_malformed_file() {
    let dir = paths::tempdir();
    let written = write_cases(dir.path());
    let out = bingate_mixed(&[&"check", &"--no-policy", &"--format", &"json", &dir.path()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = doc["files"].as_array().unwrap();
    for (path, name, expect) in written {
        let entry = files
            .iter()
            .find(|f| f["path"] == path.display().to_string())
            .unwrap_or_else(|| panic!("{name} missing from the report"));
        match expect {
            Expect::Error => {
                let e = entry["error"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: no error: {entry}"));
                assert!(!e.is_empty(), "{name}");
            }
            Expect::Survive => assert!(
                entry["error"].is_string() || entry["hardening"].is_object(),
                "{name}"
            ),
            Expect::Warning => assert!(
                !entry["warnings"].as_array().unwrap().is_empty(),
                "{name}: no warning: {entry}"
            ),
        }
    }
}

#[test]
fn errors_name_the_offset() {
    let elf = fixture("elf/pie-default");
    let e = bingate::analyze(&elf[..0x50]).unwrap_err();
    assert!(e.to_string().contains("offset 0x40"), "{e}");
    let mut d = fixture("pe/x64-default.exe");
    let lfanew = get_u32(&d, 0x3c) as usize;
    put_u16(&mut d, lfanew + 6, 0xffff);
    let e = bingate::analyze(&d).unwrap_err().to_string();
    assert!(e.contains("65535") && e.contains("offset"), "{e}");
}

/// A report entry keeps the kind and offset of the error that stopped it; the JSON report shows
/// the message alone, as a string.
#[test]
fn report_entries_carry_the_error_kind_and_offset() {
    use bingate::FileErrorKind;
    let elf = fixture("elf/pie-default");
    let truncated = &elf[..0x50];
    let want = bingate::analyze(truncated).unwrap_err();
    let report = bingate::scan::examine(truncated, Path::new("short.elf"), None, None);
    let e = report.error.as_ref().expect("an error entry");
    assert_eq!(e.kind(), FileErrorKind::Parser, "{e:?}");
    assert_eq!(e.kind(), want.kind.file_kind());
    assert_eq!(e.kind().as_str(), "parser");
    assert_eq!(e.offset(), Some(0x40));
    assert_eq!(e.offset(), want.offset);
    assert_eq!(e.message(), want.to_string());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["error"], Value::from(want.to_string()));

    let mut d = fixture("pe/x64-default.exe");
    let lfanew = get_u32(&d, 0x3c) as usize;
    put_u16(&mut d, lfanew + 6, 0xffff);
    let report = bingate::scan::examine(&d, Path::new("sections.exe"), None, None);
    let e = report.error.as_ref().expect("an error entry");
    let want = bingate::analyze(&d).unwrap_err();
    assert_eq!(e.kind(), want.kind.file_kind());
    assert!(e.offset().is_some(), "{e:?}");
    assert_eq!(e.offset(), want.offset);

    let report = bingate::scan::examine(b"#!/bin/sh\n", Path::new("script.sh"), None, None);
    let e = report.error.as_ref().expect("an error entry");
    assert_eq!(e.kind(), FileErrorKind::NotABinary);
    assert_eq!(e.offset(), None);
    assert_eq!(
        e.message(),
        "not a PE or ELF file (starts with 23 21 2f 62)"
    );
}

/// A deterministic light mutation pass (the full harness is issue 7): flips, byte runs and
/// truncations of every fixture must never panic.
#[test]
fn seeded_mutations_of_every_fixture_never_panic() {
    let root = paths::corpus_dir();
    let mut seed: u64 = 0x5eed_b1a9_a7e0_0001;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut n = 0;
    for sub in ["elf", "pe"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for p in paths {
            let orig = std::fs::read(&p).unwrap();
            for round in 0..60 {
                let mut d = orig.clone();
                match round % 4 {
                    0 => {
                        for _ in 0..8 {
                            let i = (next() as usize) % d.len();
                            d[i] ^= 1 << (next() % 8);
                        }
                    }
                    1 => {
                        // A run of 0x00 or 0xff in the first 1 KiB (the headers).
                        let i = (next() as usize) % d.len().min(1024);
                        let len = 1 + (next() as usize) % 16;
                        let b = if next() % 2 == 0 { 0 } else { 0xff };
                        for x in d.iter_mut().skip(i).take(len) {
                            *x = b;
                        }
                    }
                    2 => {
                        let cut = (next() as usize) % d.len();
                        d.truncate(cut.max(4));
                    }
                    _ => {
                        // A header word set to an extreme value.
                        let i = ((next() as usize) % d.len().min(512)) & !3;
                        if i + 4 <= d.len() {
                            let v = [0u32, u32::MAX, 1, 0x8000_0000][(next() % 4) as usize];
                            put_u32(&mut d, i, v);
                        }
                    }
                }
                let r = std::panic::catch_unwind(|| bingate::analyze(&d));
                assert!(r.is_ok(), "{} round {round}: panic", p.display());
                n += 1;
            }
        }
    }
    assert!(n > 3000, "{n}");
}

/// A certificate table whose "signature" is 200 nested SEQUENCEs: a `malformed` verdict naming
/// the DER depth budget, before any decoder sees it.
#[test]
fn signature_budgets_are_findings() {
    fn with_table(der: &[u8]) -> Vec<u8> {
        let mut d = fixture("pe/x64-default.exe");
        while d.len() % 8 != 0 {
            d.push(0);
        }
        let off = d.len();
        let len = 8 + der.len();
        d.extend_from_slice(&(len as u32).to_le_bytes());
        d.extend_from_slice(&0x0200u16.to_le_bytes());
        d.extend_from_slice(&0x0002u16.to_le_bytes());
        d.extend_from_slice(der);
        while d.len() % 8 != 0 {
            d.push(0);
        }
        let pe = get_u32(&d, 0x3c) as usize;
        // PE32+: data directories at optional header + 112; security is entry 4.
        let dir = pe + 24 + 112 + 4 * 8;
        put_u32(&mut d, dir, off as u32);
        let size = (d.len() - off) as u32;
        put_u32(&mut d, dir + 4, size);
        d
    }
    let signing = common::trust::signing(&[], true);
    // 200 nested SEQUENCEs with long-form lengths.
    let mut deep: Vec<u8> = Vec::new();
    for _ in 0..200 {
        let inner = deep.len();
        let mut v = vec![0x30, 0x82, (inner >> 8) as u8, inner as u8];
        v.extend_from_slice(&deep);
        deep = v;
    }
    let r = bingate::scan::examine(
        &with_table(&deep),
        Path::new("deep.exe"),
        Some(&signing),
        None,
    );
    let v = r.signature.expect("verdict");
    assert_eq!(v.status.as_str(), "malformed");
    let why = format!("{:?}", v.signatures);
    assert!(why.contains("DER nesting deeper than 128"), "{why}");
}
