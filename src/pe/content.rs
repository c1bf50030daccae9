//! What the bytes of a PE image look like, as antivirus heuristics see them: Shannon entropy per
//! section and for the whole file, packer markers, and an overlay after the last section.
//!
//! Entropy is H = −Σ p·log2 p over byte frequencies, in bits per byte (0 for a run of one value,
//! 8 for uniformly random bytes). Compressed or encrypted code, which packers produce, sits above
//! 7.2; compiled code is usually 5.5–6.8.

use serde::Serialize;

use super::headers::{DIR_SECURITY, IMAGE_SCN_MEM_EXECUTE, PeHeaders};
use crate::error::Result;

/// Section names packers and protectors leave behind (compared case-insensitively, as a prefix
/// for the numbered ones). Sources: UPX (`UPX0`/`UPX1`/`UPX2`), MPRESS (`.MPRESS1`/`.MPRESS2`),
/// ASPack (`.aspack`, `.adata`), Themida/WinLicense (`.themida`, `.winlice`), VMProtect
/// (`.vmp0`…), PECompact (`PEC2`…), Petite (`.petite`), NsPack (`.nsp0`…), Enigma (`.enigma1`…).
const PACKER_SECTION_PREFIXES: &[&str] = &[
    "upx", ".mpress", ".aspack", ".adata", ".themida", ".winlice", ".vmp", "pec2", ".petite",
    ".nsp", ".enigma",
];

/// UPX writes its `UPX!` header after the section table, inside the headers.
const UPX_MAGIC: &[u8] = b"UPX!";

/// An executable section with no file data that claims at least this much memory is filled at
/// run time: the shape of UPX0 and of most unpacking stubs (a `.bss` is not executable).
pub const EMPTY_EXECUTABLE_MIN_VIRTUAL: u32 = 64 * 1024;

/// How far into the file `UPX!` is looked for (UPX puts it right after the section table).
const MAGIC_SEARCH_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionEntropy {
    pub name: String,
    pub executable: bool,
    pub raw_size: u32,
    pub virtual_size: u32,
    /// Bits per byte over the section's file data (None when it has none in the file).
    pub entropy: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    pub sections: Vec<SectionEntropy>,
    /// Bits per byte over the whole file except the certificate table (DER certificates are
    /// dense enough to push a small signed DLL over the limit on their own).
    pub file_entropy: f64,
    /// Each marker found, described: `section UPX0`, `UPX! magic at 0x3e0`,
    /// `section .text: executable, no file data, 0x20000 bytes of memory`.
    pub packer_markers: Vec<String>,
    /// Bytes after the last section's file data that are not the certificate table:
    /// (file offset, length).
    pub overlay: Option<(u64, u64)>,
}

/// Shannon entropy of `data` in bits per byte.
pub fn entropy(data: &[u8]) -> f64 {
    entropy_of(&[data])
}

/// Shannon entropy of the concatenation of `parts`, in bits per byte.
fn entropy_of(parts: &[&[u8]]) -> f64 {
    let mut counts = [0u64; 256];
    let mut total = 0u64;
    for part in parts {
        for &b in *part {
            if let Some(c) = counts.get_mut(usize::from(b)) {
                *c = c.saturating_add(1);
            }
        }
        total = total.saturating_add(part.len() as u64);
    }
    if total == 0 {
        return 0.0;
    }
    let n = total as f64;
    counts
        .iter()
        .filter(|&&c| c != 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Reads the content facts of a PE image.
pub fn read(data: &[u8]) -> Result<Content> {
    let h = PeHeaders::parse(data)?;
    Ok(derive(data, &h))
}

/// [`read`] with the headers already parsed.
pub(super) fn derive(data: &[u8], h: &PeHeaders) -> Content {
    let len = data.len() as u64;
    let mut packer_markers = Vec::new();
    let mut sections = Vec::with_capacity(h.sections.len());
    let mut last_end = u64::from(h.size_of_headers).min(len);
    for s in &h.sections {
        let start = u64::from(s.raw_offset);
        let end = start.saturating_add(u64::from(s.raw_size)).min(len);
        let bytes = usize::try_from(start)
            .ok()
            .zip(usize::try_from(end).ok())
            .and_then(|(a, b)| data.get(a..b))
            .filter(|b| !b.is_empty());
        if bytes.is_some() {
            last_end = last_end.max(end);
        }
        let executable = s.has(IMAGE_SCN_MEM_EXECUTE);
        let lower = s.name.to_ascii_lowercase();
        if PACKER_SECTION_PREFIXES.iter().any(|p| lower.starts_with(p)) {
            packer_markers.push(format!("section {}", s.name));
        } else if executable && s.raw_size == 0 && s.virtual_size >= EMPTY_EXECUTABLE_MIN_VIRTUAL {
            packer_markers.push(format!(
                "section {}: executable, no file data, {:#x} bytes of memory",
                s.name, s.virtual_size
            ));
        }
        sections.push(SectionEntropy {
            name: s.name.clone(),
            executable,
            raw_size: s.raw_size,
            virtual_size: s.virtual_size,
            entropy: bytes.map(entropy),
        });
    }
    let head = data
        .get(..MAGIC_SEARCH_LEN.min(data.len()))
        .unwrap_or_default();
    if let Some(at) = memchr::memmem::find(head, UPX_MAGIC) {
        packer_markers.push(format!("UPX! magic at {at:#x}"));
    }
    // The certificate table (a file offset) is the one thing allowed after the last section.
    let cert = h.dir(DIR_SECURITY);
    let cert_range = cert.present().then(|| {
        let start = u64::from(cert.address);
        (start, start.saturating_add(u64::from(cert.size)))
    });
    let overlay = overlay(len, last_end, cert_range);
    let file_entropy = match cert_range
        .and_then(|(a, b)| Some((usize::try_from(a).ok()?, usize::try_from(b).ok()?)))
        .and_then(|(a, b)| Some((data.get(..a)?, data.get(b..)?)))
    {
        Some((before, after)) => entropy_of(&[before, after]),
        None => entropy(data),
    };
    Content {
        sections,
        file_entropy,
        packer_markers,
        overlay,
    }
}

/// Bytes in `[last_end, len)` outside `cert`: the first such run and the total outside.
fn overlay(len: u64, last_end: u64, cert: Option<(u64, u64)>) -> Option<(u64, u64)> {
    if last_end >= len {
        return None;
    }
    let (offset, total) = match cert {
        Some((cs, ce)) if cs < len && ce > last_end => {
            let before = cs.saturating_sub(last_end);
            let after = len.saturating_sub(ce.max(last_end));
            let offset = if before > 0 { last_end } else { ce };
            (offset, before.saturating_add(after))
        }
        _ => (last_end, len.saturating_sub(last_end)),
    };
    (total > 0).then_some((offset, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_bounds() {
        assert_eq!(entropy(&[]), 0.0);
        assert_eq!(entropy(&[7; 100]), 0.0);
        let all: Vec<u8> = (0..=255u8).collect();
        assert!((entropy(&all) - 8.0).abs() < 1e-9);
        assert!((entropy(&[0, 1, 0, 1]) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn overlay_excludes_the_certificate_table() {
        // Nothing after the sections.
        assert_eq!(overlay(100, 100, None), None);
        // Plain overlay.
        assert_eq!(overlay(150, 100, None), Some((100, 50)));
        // Certificate table exactly at the end: no overlay.
        assert_eq!(overlay(150, 100, Some((100, 150))), None);
        // Data between the sections and the table, and after it.
        assert_eq!(overlay(170, 100, Some((110, 150))), Some((100, 30)));
        // Only after the table.
        assert_eq!(overlay(170, 100, Some((100, 150))), Some((150, 20)));
        // A table outside the file does not hide anything.
        assert_eq!(overlay(150, 100, Some((400, 500))), Some((100, 50)));
    }

    #[test]
    fn fixtures_without_packers_have_no_markers() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/pe/");
        for name in [
            "x64-default.exe",
            "x86-default.exe",
            "x64.dll",
            "clang-cfg.exe",
        ] {
            let data = std::fs::read(format!("{root}{name}")).expect("fixture");
            let c = read(&data).expect("parses");
            assert!(
                c.packer_markers.is_empty(),
                "{name}: {:?}",
                c.packer_markers
            );
            assert!(c.file_entropy > 0.0 && c.file_entropy < 7.0, "{name}");
            let text = c.sections.iter().find(|s| s.executable).expect("code");
            let e = text.entropy.expect("has data");
            assert!(e < 7.2, "{name}: .text entropy {e}");
        }
    }
}
