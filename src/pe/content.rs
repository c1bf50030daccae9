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

/// Shannon entropy of `data` in bits per byte (the tests' reference for [`Frequencies`]).
#[cfg(test)]
fn entropy(data: &[u8]) -> f64 {
    let mut counts = [0u64; 256];
    count(&mut counts, data);
    entropy_of_counts(&counts)
}

/// Adds the byte frequencies of `data` to `counts`.
#[cfg(test)]
fn count(counts: &mut [u64; 256], data: &[u8]) {
    let mut c = Counter::new();
    c.add(data);
    for (total, n) in counts.iter_mut().zip(c.snapshot()) {
        *total = total.saturating_add(n);
    }
}

/// Byte frequencies, counted in four tables side by side and summed on demand: consecutive equal
/// bytes then increment different counters, which keeps the loop from waiting on its own store
/// (a run of one value is the common case in padding).
struct Counter {
    tables: [[u32; 256]; 4],
    flushed: [u64; 256],
    /// Bytes counted in `tables` since the last flush; flushed before any u32 counter can wrap.
    pending: u64,
}

impl Counter {
    /// Bytes counted between flushes: each table entry counts at most this many.
    const FLUSH_EVERY: u64 = 1 << 30;

    fn new() -> Counter {
        Counter {
            tables: [[0; 256]; 4],
            flushed: [0; 256],
            pending: 0,
        }
    }

    /// Counts one 64-byte block: the fixed size lets the loop unroll with no bounds checks, so
    /// it interleaves with the SHA-256 rounds of the same block (see `Frequencies::new`).
    #[inline(always)]
    fn add_block(&mut self, block: &[u8; 64]) {
        if self.pending >= Self::FLUSH_EVERY {
            self.flush();
        }
        let [t0, t1, t2, t3] = &mut self.tables;
        for q in block.chunks_exact(4) {
            if let [a, b, c, d] = *q {
                bump(t0, a);
                bump(t1, b);
                bump(t2, c);
                bump(t3, d);
            }
        }
        self.pending = self.pending.saturating_add(64);
    }

    #[inline]
    fn add(&mut self, data: &[u8]) {
        for block in data.chunks(1 << 20) {
            if self.pending >= Self::FLUSH_EVERY {
                self.flush();
            }
            let [t0, t1, t2, t3] = &mut self.tables;
            let mut quads = block.chunks_exact(4);
            for q in &mut quads {
                if let [a, b, c, d] = *q {
                    bump(t0, a);
                    bump(t1, b);
                    bump(t2, c);
                    bump(t3, d);
                }
            }
            for &b in quads.remainder() {
                bump(t0, b);
            }
            self.pending = self.pending.saturating_add(block.len() as u64);
        }
    }

    fn flush(&mut self) {
        for table in &mut self.tables {
            for (c, n) in self.flushed.iter_mut().zip(table.iter_mut()) {
                *c = c.saturating_add(u64::from(*n));
                *n = 0;
            }
        }
        self.pending = 0;
    }

    /// The frequencies of everything added so far.
    fn snapshot(&mut self) -> [u64; 256] {
        self.flush();
        self.flushed
    }
}

#[inline(always)]
fn bump(t: &mut [u32; 256], b: u8) {
    if let Some(c) = t.get_mut(usize::from(b)) {
        *c = c.wrapping_add(1);
    }
}

/// Shannon entropy of byte frequencies, in bits per byte.
fn entropy_of_counts(counts: &[u64; 256]) -> f64 {
    let total = counts.iter().fold(0u64, |a, &c| a.saturating_add(c));
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

/// The counting of [`Frequencies::new`]: bytes in file order, with a snapshot at every cut.
struct Cutter {
    cuts: Vec<u64>,
    /// The first cut not yet reached.
    next: usize,
    before: Vec<[u64; 256]>,
    counter: Counter,
}

impl Cutter {
    /// Counts `block` (at file offset `at`). Small enough to be inlined into the hashing loop:
    /// a whole block with no cut inside, the common case, is counted here; the rest goes to
    /// [`Cutter::cut`].
    #[inline(always)]
    fn visit(&mut self, at: u64, block: &[u8]) {
        let end = at.saturating_add(block.len() as u64);
        if self.cuts.get(self.next).is_none_or(|&cut| cut > end) {
            if let Ok(whole) = <&[u8; 64]>::try_from(block) {
                self.counter.add_block(whole);
                return;
            }
        }
        self.cut(at, block);
    }

    /// Counts `block`, taking a snapshot at every cut inside it (or at its end).
    #[inline(never)]
    fn cut(&mut self, mut at: u64, mut block: &[u8]) {
        while let Some(&cut) = self.cuts.get(self.next) {
            let end = at.saturating_add(block.len() as u64);
            if cut > end {
                break;
            }
            let k = usize::try_from(cut.saturating_sub(at)).unwrap_or(usize::MAX);
            let (head, tail) = block.split_at(k.min(block.len()));
            self.counter.add(head);
            self.before.push(self.counter.snapshot());
            self.next = self.next.saturating_add(1);
            block = tail;
            at = cut;
        }
        self.counter.add(block);
    }
}

/// Byte frequencies of any range between two boundaries of a file, from one pass over it.
///
/// Sections may overlap (a hostile file can declare 4,096 sections over the same megabytes), so
/// counting each section's bytes separately costs sections × size. Instead the file is cut at
/// every section start and end; each piece is counted once, and a running total is kept at every
/// cut, so the frequencies of `[a, b)` for any two cuts are one subtraction of 256 counters. Time
/// is one pass over the file plus 256 per cut; memory 2 KiB per cut (at most 2 per section, and
/// sections are capped by `budget::MAX_PE_SECTIONS`).
struct Frequencies {
    cuts: Vec<u64>,
    /// `before[k]`: frequencies of `[0, cuts[k])`.
    before: Vec<[u64; 256]>,
}

impl Frequencies {
    /// Counts `data` once, cut at `cuts`; in the same loop, the file's SHA-256 with `sha256`
    /// and its PE checksum with `checksum` (the CheckSum field's offset; see
    /// [`crate::hash::sha256_visiting`]: the counting and the sum then cost little).
    fn new(
        data: &[u8],
        mut cuts: Vec<u64>,
        sha256: bool,
        checksum: Option<u64>,
    ) -> (Frequencies, Pass) {
        let len = data.len() as u64;
        cuts.push(0);
        cuts.push(len);
        cuts.retain(|&c| c <= len);
        cuts.sort_unstable();
        cuts.dedup();
        let mut cutter = Cutter {
            before: Vec::with_capacity(cuts.len()),
            cuts,
            next: 0,
            counter: Counter::new(),
        };
        let mut sum = checksum.map(super::checksum::Sum::new);
        let digest = crate::hash::sha256_visiting(
            data,
            sha256,
            |at, block| cutter.visit(at, block),
            |step| {
                if let Some(s) = sum.as_mut() {
                    s.add(step);
                }
            },
        );
        // An empty file has no block: its cuts (0) are taken here.
        cutter.cut(len, &[]);
        let checksum = sum.map(|s| s.finish(data));
        let Cutter { cuts, before, .. } = cutter;
        (Frequencies { cuts, before }, Pass { digest, checksum })
    }

    /// Frequencies of `[a, b)`; both must be cuts given to [`Frequencies::new`] (or 0 / the
    /// file's length).
    fn between(&self, a: u64, b: u64) -> [u64; 256] {
        let at = |x: u64| {
            self.cuts
                .binary_search(&x)
                .ok()
                .and_then(|k| self.before.get(k))
        };
        let mut out = [0u64; 256];
        if let (Some(lo), Some(hi)) = (at(a), at(b)) {
            for ((o, h), l) in out.iter_mut().zip(hi).zip(lo) {
                *o = h.saturating_sub(*l);
            }
        }
        out
    }
}

/// What the content pass computed besides the content facts, when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pass {
    /// The file's SHA-256.
    pub digest: Option<[u8; 32]>,
    /// The PE checksum of the file (`pe::compute_checksum`).
    pub checksum: Option<u32>,
}

/// What else to compute in the content pass (each rides in the same read of every block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Also {
    pub sha256: bool,
    pub checksum: bool,
}

/// Reads the content facts of a PE image.
pub fn read(data: &[u8]) -> Result<Content> {
    let h = PeHeaders::parse(data)?;
    Ok(derive(data, &h, Also::default()).0)
}

/// [`read`] with the headers already parsed; with `also`, the file's SHA-256 and PE checksum
/// from the same pass over the bytes.
pub(super) fn derive(data: &[u8], h: &PeHeaders, also: Also) -> (Content, Pass) {
    let len = data.len() as u64;
    // Each section's file data, [start, end) inside the file (None when it has none there).
    let ranges: Vec<Option<(u64, u64)>> = h
        .sections
        .iter()
        .map(|s| {
            let start = u64::from(s.raw_offset);
            let end = start.saturating_add(u64::from(s.raw_size)).min(len);
            (start < end).then_some((start, end))
        })
        .collect();
    // The certificate table (a file offset) is the one thing allowed after the last section.
    let cert = h.dir(DIR_SECURITY);
    let cert_range = cert.present().then(|| {
        let start = u64::from(cert.address);
        (start, start.saturating_add(u64::from(cert.size)))
    });
    let cert_in_file = cert_range.filter(|&(a, b)| a <= b && b <= len);
    let mut cuts: Vec<u64> = ranges.iter().flatten().flat_map(|&(a, b)| [a, b]).collect();
    cuts.extend(cert_in_file.iter().flat_map(|&(a, b)| [a, b]));
    let checksum = also.checksum.then_some(h.checksum_offset);
    let (freq, pass) = Frequencies::new(data, cuts, also.sha256, checksum);

    let mut packer_markers = Vec::new();
    let mut sections = Vec::with_capacity(h.sections.len());
    let mut last_end = u64::from(h.size_of_headers).min(len);
    for (s, range) in h.sections.iter().zip(&ranges) {
        if let Some((_, end)) = range {
            last_end = last_end.max(*end);
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
            entropy: range.map(|(a, b)| entropy_of_counts(&freq.between(a, b))),
        });
    }
    let head = data
        .get(..MAGIC_SEARCH_LEN.min(data.len()))
        .unwrap_or_default();
    if let Some(at) = memchr::memmem::find(head, UPX_MAGIC) {
        packer_markers.push(format!("UPX! magic at {at:#x}"));
    }
    let overlay = overlay(len, last_end, cert_range);
    let mut whole = freq.between(0, len);
    if let Some((a, b)) = cert_in_file {
        for (w, c) in whole.iter_mut().zip(freq.between(a, b)) {
            *w = w.saturating_sub(c);
        }
    }
    let file_entropy = entropy_of_counts(&whole);
    let content = Content {
        sections,
        file_entropy,
        packer_markers,
        overlay,
    };
    (content, pass)
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

    /// The counts between any two cuts equal a direct count of those bytes, with and without the
    /// hash riding along, for cuts inside, at and across 64-byte blocks; the hash is the file's.
    #[test]
    fn frequencies_between_cuts_match_direct_counts_and_the_hash_is_the_files() {
        use sha2::Digest as _;
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let cuts = vec![0, 1, 63, 64, 65, 127, 128, 1000, 1000, 4999, 5000, 7000];
        let (plain, none) = Frequencies::new(&data, cuts.clone(), false, None);
        let (hashed, pass) = Frequencies::new(&data, cuts, true, Some(0x58));
        assert_eq!(none, Pass::default());
        assert_eq!(
            pass.digest,
            Some(<[u8; 32]>::from(sha2::Sha256::digest(&data)))
        );
        assert_eq!(
            pass.checksum,
            Some(crate::pe::reference_checksum(&data, 0x58))
        );
        for (a, b) in [
            (0, 5000),
            (1, 63),
            (63, 65),
            (64, 128),
            (65, 1000),
            (1000, 4999),
            (0, 0),
        ] {
            let mut direct = [0u64; 256];
            count(&mut direct, &data[a as usize..b as usize]);
            assert_eq!(plain.between(a, b), direct, "[{a}, {b})");
            assert_eq!(hashed.between(a, b), direct, "[{a}, {b}) hashed");
        }
        // An empty file: one cut, no bytes, the empty string's hash.
        let (empty, pass) = Frequencies::new(&[], vec![], true, Some(0x58));
        assert_eq!(empty.between(0, 0), [0; 256]);
        assert_eq!(
            pass.digest,
            Some(<[u8; 32]>::from(sha2::Sha256::digest(b"")))
        );
        assert_eq!(pass.checksum, Some(0));
    }
}
