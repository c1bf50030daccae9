//! Authenticode page hashes: the signed table against the file, checked against osslsigncode's
//! own computation on `corpus/signed/pagehash.exe` (`osslsigncode sign -ph`, SHA-256).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use authenticode::AuthenticodeSignature;
use bingate::authenticode::pagehash::{
    self, MAX_PAGE_HASHES, PAGE_HASH_CLASS_ID, PAGE_SIZE, PageHashes,
};
use bingate::hash::DigestAlg;
use bingate::pe::{SigningLayout, signing_layout};
use common::{interop, paths};

/// `corpus/signed/<name>`.
fn corpus(name: &str) -> PathBuf {
    paths::corpus("signed").join(name)
}

fn read(name: &str) -> Vec<u8> {
    paths::read(corpus(name))
}

/// The SpcIndirectDataContent of the first signature in the file's certificate table.
fn indirect_content(data: &[u8]) -> Vec<u8> {
    let layout = signing_layout(data).unwrap();
    let table = bingate::authenticode::table::read(data, &layout)
        .unwrap()
        .expect("signed file has a table");
    let entry = table.entries.first().expect("one entry");
    let sig = AuthenticodeSignature::from_bytes(entry.der).unwrap();
    sig.encapsulated_content().unwrap().to_vec()
}

/// Page hashes of `data` as signed by `content`, with the layout read from `data` itself.
fn check(data: &[u8], content: &[u8]) -> Option<PageHashes> {
    let layout = signing_layout(data).unwrap();
    pagehash::verify(data, &layout, content)
}

/// The largest section with raw data: (PointerToRawData, SizeOfRawData).
fn largest_section(layout: &SigningLayout) -> (u64, u64) {
    *layout.sections.iter().max_by_key(|s| s.1).unwrap()
}

#[test]
fn pagehash_exe_verifies() {
    let data = read("pagehash.exe");
    let ph = check(&data, &indirect_content(&data)).expect("signed with -ph");
    assert_eq!(
        ph,
        PageHashes {
            algorithm: "sha256".into(),
            // The header page, 10 section pages (see the osslsigncode test for the offsets).
            pages: 11,
            verified: true,
            first_mismatch: None,
            error: None,
        }
    );
}

#[test]
fn flipped_section_byte_reports_its_page() {
    let mut data = read("pagehash.exe");
    let content = indirect_content(&data);
    let layout = signing_layout(&data).unwrap();
    let (ptr, size) = largest_section(&layout);
    assert!(size > PAGE_SIZE, "the fixture has a multi-page section");
    // A byte on the section's second page: the first page must still match.
    let at = ptr + PAGE_SIZE + 17;
    data[at as usize] ^= 0x5a;
    let ph = check(&data, &content).unwrap();
    assert!(!ph.verified);
    assert_eq!(ph.first_mismatch, Some(ptr + PAGE_SIZE));
    assert_eq!(ph.error, None);
}

#[test]
fn flipped_last_section_byte_reports_the_padded_page() {
    let mut data = read("pagehash.exe");
    let content = indirect_content(&data);
    let layout = signing_layout(&data).unwrap();
    let &(ptr, size) = layout.sections.iter().rfind(|s| s.1 != 0).unwrap();
    let last = ptr + size - 1;
    data[last as usize] ^= 1;
    let ph = check(&data, &content).unwrap();
    assert!(!ph.verified);
    assert_eq!(
        ph.first_mismatch,
        Some(ptr + (size - 1) / PAGE_SIZE * PAGE_SIZE)
    );
}

#[test]
fn header_byte_mismatches_page_zero() {
    let mut data = read("pagehash.exe");
    let content = indirect_content(&data);
    // Inside the DOS stub message: covered by the header page.
    data[0x50] ^= 0x20;
    let ph = check(&data, &content).unwrap();
    assert!(!ph.verified);
    assert_eq!(ph.first_mismatch, Some(0));
}

#[test]
fn checksum_and_security_directory_are_not_hashed() {
    let mut data = read("pagehash.exe");
    let content = indirect_content(&data);
    let layout = signing_layout(&data).unwrap();
    let cs = layout.checksum_offset as usize;
    let sd = layout.security_dir_offset as usize;
    data[cs..cs + 4].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    data[sd..sd + 8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    let ph = check(&data, &content).unwrap();
    assert!(ph.verified, "{ph:?}");
    // The bytes right after each excluded field are hashed (Subsystem; the base relocation
    // directory entry). Before them lie SizeOfHeaders and the exception directory.
    for at in [cs + 4, sd + 8, sd - 1] {
        let mut d = data.clone();
        d[at] ^= 1;
        let ph = check(&d, &content).unwrap();
        assert_eq!(ph.first_mismatch, Some(0), "byte {at:#x}: {ph:?}");
    }
}

#[test]
fn signature_without_page_hashes_gives_none() {
    for name in ["valid-rsa.exe", "nested.exe", "sha1-only.exe"] {
        let data = read(name);
        assert_eq!(check(&data, &indirect_content(&data)), None, "{name}");
    }
}

#[test]
fn wrong_class_id_is_reported_not_ignored() {
    let data = read("pagehash.exe");
    let mut content = indirect_content(&data);
    let at = content
        .windows(PAGE_HASH_CLASS_ID.len())
        .position(|w| w == PAGE_HASH_CLASS_ID)
        .expect("class id in the content");
    content[at] ^= 0xff;
    let ph = check(&data, &content).unwrap();
    assert!(!ph.verified);
    assert!(ph.error.unwrap().contains("class id"));
}

#[test]
fn signed_table_byte_flip_is_a_mismatch() {
    let data = read("pagehash.exe");
    let mut content = indirect_content(&data);
    // The second entry's offset (0x400, SizeOfHeaders) follows the 32-byte header page digest.
    let layout = signing_layout(&data).unwrap();
    let table = pagehash::computed_table(&data, &layout, DigestAlg::Sha256).unwrap();
    let header_digest = &table[0].1;
    let at = content
        .windows(header_digest.len())
        .position(|w| w == header_digest.as_slice())
        .expect("header page digest in the content");
    content[at + 5] ^= 1;
    let ph = check(&data, &content).unwrap();
    assert!(!ph.verified);
    assert_eq!(ph.first_mismatch, Some(0));
}

#[test]
fn section_outside_the_file_is_an_error_not_a_panic() {
    let data = read("pagehash.exe");
    let content = indirect_content(&data);
    let mut layout = signing_layout(&data).unwrap();
    layout
        .sections
        .push((u64::from(u32::MAX), u64::from(u32::MAX)));
    let ph = pagehash::verify(&data, &layout, &content).unwrap();
    assert!(!ph.verified);
    assert_eq!(ph.first_mismatch, None);
    assert!(ph.error.unwrap().contains("outside the file"));
    // A truncated file, with the layout of the whole one.
    let layout = signing_layout(&data).unwrap();
    let (ptr, _) = largest_section(&layout);
    let ph = pagehash::verify(&data[..ptr as usize + 10], &layout, &content).unwrap();
    assert!(ph.error.unwrap().contains("outside the file"));
}

#[test]
fn overlapping_sections_hit_the_page_budget() {
    let data = read("pagehash.exe");
    let content = indirect_content(&data);
    let mut layout = signing_layout(&data).unwrap();
    // Every section the whole file: each would hash the file again.
    layout.sections = vec![(0, data.len() as u64); 64];
    let ph = pagehash::verify(&data, &layout, &content).unwrap();
    assert!(!ph.verified);
    assert!(ph.error.unwrap().contains("budget"));
    assert!(pagehash::page_budget(u64::MAX, usize::MAX) <= MAX_PAGE_HASHES);
}

#[test]
fn headers_larger_than_a_page_are_an_error() {
    let data = read("pagehash.exe");
    let content = indirect_content(&data);
    let mut layout = signing_layout(&data).unwrap();
    layout.size_of_headers = PAGE_SIZE + 512;
    let ph = pagehash::verify(&data, &layout, &content).unwrap();
    assert!(ph.error.unwrap().contains("headers cannot be paged"));
    layout.size_of_headers = 0x400;
    layout.checksum_offset = u64::MAX - 1;
    let ph = pagehash::verify(&data, &layout, &content).unwrap();
    assert!(ph.error.is_some());
}

#[test]
fn truncated_or_garbage_content_does_not_panic() {
    let data = read("pagehash.exe");
    let layout = signing_layout(&data).unwrap();
    let content = indirect_content(&data);
    for len in 0..content.len() {
        let _ = pagehash::verify(&data, &layout, &content[..len]);
    }
    for i in 0..content.len() {
        let mut c = content.clone();
        c[i] ^= 0x80;
        let _ = pagehash::verify(&data, &layout, &c);
    }
    assert_eq!(pagehash::verify(&data, &layout, &[0x30, 0x80, 0, 0]), None);
}

/// osslsigncode's page hash lines: (algorithm, signed table, calculated table, mismatch).
fn osslsigncode_page_hashes(path: &Path) -> Option<(String, String, String, bool)> {
    let out = Command::new("osslsigncode")
        .args(["verify", "-ignore-crl", "-verbose", "-in"])
        .arg(path)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let grab = |label: &str| {
        text.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim() == label)
            .map(|(_, v)| v.trim().to_string())
    };
    let calculated = grab("Calculated page hash")?;
    let mismatch = calculated.contains("MISMATCH");
    let hex = |s: String| {
        s.split_whitespace()
            .next()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_ascii_lowercase()
    };
    Some((
        grab("Page hash algorithm")?.to_ascii_lowercase(),
        hex(grab("Page hash")?),
        hex(calculated),
        mismatch,
    ))
}

fn serialize(table: &[(u64, Vec<u8>)]) -> String {
    let mut s = String::new();
    for (offset, digest) in table {
        for b in (*offset as u32).to_le_bytes().iter().chain(digest) {
            s.push_str(&format!("{b:02x}"));
        }
    }
    s
}

#[test]
fn page_hashes_agree_with_osslsigncode() {
    let path = corpus("pagehash.exe");
    let Some((algorithm, signed, calculated, mismatch)) = osslsigncode_page_hashes(&path) else {
        interop::skip("osslsigncode is not installed or printed no page hashes");
        return;
    };
    let data = std::fs::read(&path).unwrap();
    let layout = signing_layout(&data).unwrap();
    let ph = check(&data, &indirect_content(&data)).unwrap();
    assert_eq!(ph.algorithm, algorithm);
    assert_eq!(ph.verified, !mismatch);
    // 4-byte offset + 32-byte SHA-256 digest per entry, hex-encoded; the final entry is not a page.
    assert_eq!(ph.pages, (signed.len() / 72 - 1) as u64);
    // Our table, entry for entry, is the one osslsigncode calculates.
    let ours = pagehash::computed_table(&data, &layout, DigestAlg::Sha256).unwrap();
    assert_eq!(serialize(&ours), calculated);
    assert_eq!(serialize(&ours), signed);
}

/// Signs every image in `corpus/pe` with `osslsigncode sign -ph` (SHA-1 and SHA-256 page hashes;
/// PE32 and PE32+, executables, DLLs, a driver and EFI images) into a temporary directory, then
/// checks that bingate verifies each and computes the very table osslsigncode calculates.
#[test]
fn osslsigncode_signed_images_verify_with_both_algorithms() {
    if !interop::require("osslsigncode") {
        return;
    }
    let dir = paths::tempdir();
    let pki = paths::corpus("pki");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(paths::corpus("pe"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    for input in &inputs {
        for (h, alg, hex_len) in [
            ("sha1", DigestAlg::Sha1, 48),
            ("sha256", DigestAlg::Sha256, 72),
        ] {
            let out = dir.path().join(format!(
                "{}.{h}",
                input.file_name().unwrap().to_string_lossy()
            ));
            let status = Command::new("osslsigncode")
                .args(["sign", "-certs"])
                .arg(pki.join("leaf-rsa-chain.pem"))
                .arg("-key")
                .arg(pki.join("leaf-rsa.key"))
                .args(["-h", h, "-ph", "-in"])
                .arg(input)
                .arg("-out")
                .arg(&out)
                .output()
                .unwrap();
            assert!(status.status.success(), "signing {}", input.display());
            let (algorithm, signed, calculated, mismatch) =
                osslsigncode_page_hashes(&out).expect("osslsigncode prints page hashes");
            let data = std::fs::read(&out).unwrap();
            let layout = signing_layout(&data).unwrap();
            let ph = check(&data, &indirect_content(&data)).unwrap();
            let what = format!("{} {h}: {ph:?}", input.display());
            assert_eq!(ph.algorithm, algorithm, "{what}");
            assert!(!mismatch, "{what}");
            assert!(ph.verified, "{what}");
            assert_eq!(ph.pages, (signed.len() / hex_len - 1) as u64, "{what}");
            let ours = pagehash::computed_table(&data, &layout, alg).unwrap();
            assert_eq!(serialize(&ours), calculated, "{what}");
        }
    }
}
