//! The `.bingate.sig` section: signing (add a non-allocated section at the end of the file
//! holding a CMS SignedData over a manifest of the whole file) and verifying it.
//!
//! Layout after signing: the input up to the end of the last structure that stays (headers,
//! segments, sections, and any trailing data), then — when `.shstrtab` does not already hold the
//! name — a copy of the section name table with `.bingate.sig` added, a new section header table,
//! and last the signature contents (8-aligned). An old section header table, name table or
//! signature at the very end of the input is dropped; anywhere else it stays as covered, unused
//! bytes. Nothing allocated moves, so the loaded image is unchanged.
//!
//! Signing is planned before anything is hashed ([`prepare`]): the layout, and the signature
//! section's exact size, computed from lengths alone (`crate::cms::build::attached_signature_len`).
//! The signature comes last so that everything before it — the ELF header with `e_shoff`, the
//! input's bytes, the name table — is the same whatever its size: if a timestamp token outgrows
//! the room reserved for it, only the section header table and the signature's place are laid
//! out and hashed again ([`Plan::finish`]), never the input's bytes.

use std::collections::{HashMap, HashSet};

use super::layout::{Layout, SHF_ALLOC, SHT_STRTAB, Shdr};
use super::manifest::{self, Entry, Manifest};
use super::{Finished, Hashed, Piece, SECTION_NAME, SignError, SignOptions, hasher};
use crate::cms::open::OpenError;
use crate::cms::signer::{signer_from_cert, verify_signer_info};
use crate::cms::verdict::{Judgement, ReasonCode, judge_identity, reason};
use crate::cms::verdict::{PageHashReport, SignatureReport, SignatureVerdict, Status, VerifyEnv};
use crate::hash::DigestAlg;

use crate::budget::MAX_ELF_SIGNATURE_LEN as MAX_SIGNATURE_SECTION;
use crate::budget::MAX_SECTION_DIGEST_FACTOR;

/// Room left for the RFC 3161 token when sizing the section before the TSA has answered, on top
/// of the exact size of the signature without it. Tokens with a TSA chain are 2–7 KiB; the
/// unused room stays as zero padding after the CMS.
const TIMESTAMP_RESERVE: u64 = 8192;

/// Room added when a token outgrew its reserve and the tail is laid out again: one TSA's tokens
/// differ by a few bytes from one request to the next (serial number, time, nonce).
const REPLAN_MARGIN: u64 = 512;

/// Layouts of the tail tried with a timestamp (the first, then re-plans) before giving up.
const MAX_ATTEMPTS: u32 = 3;

/// Rounds of the size computation. Each round can only add the digits that the size itself adds
/// to the manifest, so it settles in two or three; more means a bug.
const MAX_SIZING_ROUNDS: u32 = 8;

const ID_DATA: &str = "1.2.840.113549.1.7.1";

fn align(v: u64, a: u64) -> Option<u64> {
    let r = v.checked_rem(a)?;
    if r == 0 {
        Some(v)
    } else {
        v.checked_add(a.checked_sub(r)?)
    }
}

fn end(off: u64, len: u64) -> u64 {
    off.saturating_add(len)
}

/// A file as contiguous parts, for hashing ranges of it with some bytes replaced (verification
/// reads the signature section's contents as zeros).
struct Parts<'a>(Vec<(u64, &'a [u8])>);

impl Parts<'_> {
    /// Feeds `[off, off+len)` into `h`; false when the range is not entirely covered.
    fn feed(&self, off: u64, len: u64, h: &mut dyn digest::DynDigest) -> bool {
        let stop = match off.checked_add(len) {
            Some(e) => e,
            None => return false,
        };
        let mut at = off;
        for (start, bytes) in &self.0 {
            let part_end = end(*start, bytes.len() as u64);
            if at >= stop {
                break;
            }
            if part_end <= at || *start > at {
                continue;
            }
            let from = at.saturating_sub(*start);
            let to = stop.min(part_end).saturating_sub(*start);
            let (Ok(f), Ok(t)) = (usize::try_from(from), usize::try_from(to)) else {
                return false;
            };
            let Some(slice) = bytes.get(f..t) else {
                return false;
            };
            h.update(slice);
            at = end(*start, to);
        }
        at >= stop
    }
}

fn digest_range(parts: &Parts<'_>, alg: DigestAlg, off: u64, len: u64) -> Option<Vec<u8>> {
    let mut h = hasher(alg)?;
    parts
        .feed(off, len, h.as_mut())
        .then(|| h.finalize().to_vec())
}

/// Per-section digests for one file, when verifying says which sections changed: each distinct
/// (offset, size) hashed once, and the bytes hashed for distinct ranges capped at
/// [`MAX_SECTION_DIGEST_FACTOR`] times the file's size.
struct SectionDigests<'p, 'd> {
    parts: &'p Parts<'d>,
    alg: DigestAlg,
    seen: HashMap<(u64, u64), Option<Vec<u8>>>,
    spent: u64,
    limit: u64,
}

/// The per-section digests would read more than the budget allows.
struct OverBudget;

impl<'p, 'd> SectionDigests<'p, 'd> {
    fn new(parts: &'p Parts<'d>, alg: DigestAlg, file_len: u64) -> Self {
        SectionDigests {
            parts,
            alg,
            seen: HashMap::new(),
            spent: 0,
            limit: file_len.saturating_mul(MAX_SECTION_DIGEST_FACTOR),
        }
    }

    fn digest(&mut self, off: u64, len: u64) -> Result<Option<Vec<u8>>, OverBudget> {
        if let Some(d) = self.seen.get(&(off, len)) {
            return Ok(d.clone());
        }
        let spent = self.spent.saturating_add(len);
        if spent > self.limit {
            return Err(OverBudget);
        }
        self.spent = spent;
        let d = digest_range(self.parts, self.alg, off, len);
        self.seen.insert((off, len), d.clone());
        Ok(d)
    }
}

/// Every section with file contents, in header order, as the manifest lists them.
fn content_sections(sections: &[Shdr]) -> impl Iterator<Item = &Shdr> {
    sections.iter().filter(|s| s.file_range().is_some())
}

/// How to sign one file with a `.bingate.sig` section, decided from its headers before any byte
/// is hashed.
#[derive(Debug)]
pub struct Plan {
    /// The input's layout (class and byte order, to encode section headers).
    layout: Layout,
    /// Input bytes the signed file keeps.
    keep: u64,
    /// The streamed part: the patched ELF header, the kept input, the name table copy.
    pieces: Vec<Piece>,
    /// Its length.
    streamed: u64,
    /// The signed file's section headers; the signature's (`sig_index`) gets its size when the
    /// tail is made.
    sections: Vec<Shdr>,
    sig_index: usize,
    /// Where the new section header table starts (after padding the streamed part).
    sht_off: u64,
    /// Where the signature contents start (after the section header table, 8-aligned).
    sig_off: u64,
    /// The signature section's size: the signature's exact length (for ECDSA its longest), plus
    /// [`TIMESTAMP_RESERVE`] with a timestamp.
    size: u64,
    /// Every distinct (offset, size) of a section whose digest the manifest lists, but the
    /// signature's (the digest of zeros).
    ranges: Vec<(u64, u64)>,
    /// Whether the signature carries a timestamp token (room reserved, re-plans allowed).
    timestamped: bool,
}

/// Plans signing `data` (an ELF file: only its headers, tables and trailer are read) with a
/// `.bingate.sig` section: the layout, and the section's size before anything is hashed.
///
/// `timestamped`: the signature will carry an RFC 3161 token (`opts.timestamper`, or a signing
/// server that timestamps): room is reserved for it, and a token that outgrows it lays the tail
/// out again ([`Plan::finish`]).
pub fn prepare(data: &[u8], opts: &SignOptions<'_>, timestamped: bool) -> Result<Plan, SignError> {
    if data.ends_with(super::module::MAGIC) {
        return Err(SignError::Unsupported(
            "the file carries an appended kernel module signature; a section added after it would break it (sign with --format section first, then --format module)".into(),
        ));
    }
    let layout = Layout::parse(data)?;
    if layout.shoff == 0 || layout.sections.is_empty() {
        return Err(SignError::NoSectionTable);
    }
    let mut plan = lay_out(data, layout, opts.replace)?;
    let exact = plan.exact_size(opts)?;
    plan.timestamped = timestamped;
    plan.size = if timestamped {
        exact.saturating_add(TIMESTAMP_RESERVE)
    } else {
        exact
    };
    plan.check_budget()?;
    // The section header table and the signature's place must be encodable at this size.
    plan.tail(plan.size)?;
    Ok(plan)
}

/// Lays out the signed file: what is kept of the input, the name table copy, where the section
/// header table and the signature go (the signature's size left open: it comes last).
fn lay_out(data: &[u8], layout: Layout, replace: bool) -> Result<Plan, SignError> {
    let existing = layout.section_index(SECTION_NAME);
    if existing.len() > 1 {
        return Err(SignError::Unsupported(format!(
            "the file has {} {SECTION_NAME} sections",
            existing.len()
        )));
    }
    if let (Some(i), false) = (existing.first(), replace) {
        let off = layout.sections.get(*i).map(|s| s.offset).unwrap_or(0);
        return Err(SignError::AlreadySigned {
            what: format!("{SECTION_NAME} section at offset {off:#x}"),
        });
    }
    let strndx = usize::from(layout.shstrndx);
    let strtab = layout
        .sections
        .get(strndx)
        .cloned()
        .ok_or(SignError::NoSectionTable)?;
    if strtab.sh_type != SHT_STRTAB {
        return Err(SignError::Unsupported(format!(
            "section {strndx} (e_shstrndx) is not a string table"
        )));
    }
    let b = crate::read::Bytes::new(data, layout.le);
    let names = b.get("ELF section name table", strtab.offset, strtab.size)?;
    // Reuse the name if the table already holds it (a re-signed file), else append it to a
    // copy of the table (streamed from the input, like the rest).
    let wanted: Vec<u8> = [SECTION_NAME.as_bytes(), &[0]].concat();
    let reuse = memchr::memmem::find(names, &wanted);
    let copy_names = reuse.is_none();
    let name_off = u32::try_from(reuse.unwrap_or(names.len()))
        .map_err(|_| SignError::Unsupported("section name table too large".into()))?;

    let existing_sig = existing.first().copied();
    // Regions that may be dropped when they sit at the end of the file.
    let mut droppable: Vec<(u64, u64)> = vec![(layout.shoff, layout.sht_len())];
    if copy_names {
        droppable.push((strtab.offset, strtab.size));
    }
    if let Some(s) = existing_sig.and_then(|i| layout.sections.get(i)) {
        if let Some(r) = s.file_range() {
            droppable.push(r);
        }
    }
    let mut kept_end = layout.ehsize;
    kept_end = kept_end.max(end(
        layout.phoff,
        layout.phentsize.saturating_mul(layout.phnum),
    ));
    for (_, off, len) in &layout.segments {
        kept_end = kept_end.max(end(*off, *len));
    }
    for (i, s) in layout.sections.iter().enumerate() {
        let dropped_strtab = i == strndx && copy_names;
        if Some(i) == existing_sig || dropped_strtab {
            continue;
        }
        if let Some((off, len)) = s.file_range() {
            kept_end = kept_end.max(end(off, len));
        }
    }
    // A droppable region that starts before the kept end stays (it is surrounded by data).
    loop {
        let grown = droppable
            .iter()
            .filter(|(off, len)| *off < kept_end && end(*off, *len) > kept_end)
            .map(|(off, len)| end(*off, *len))
            .max();
        match grown {
            Some(e) => kept_end = e,
            None => break,
        }
    }
    let known_end = droppable
        .iter()
        .map(|(o, l)| end(*o, *l))
        .fold(kept_end, u64::max);
    // Bytes no structure describes after everything (an appended archive): keep them all.
    let keep = if layout.file_len > known_end {
        layout.file_len
    } else {
        kept_end.min(layout.file_len)
    };

    let overflow =
        || SignError::Unsupported("the signed file would exceed the format's offsets".into());
    let mut sections = layout.sections.clone();
    let mut streamed = keep;
    if copy_names {
        let len = strtab
            .size
            .checked_add(wanted.len() as u64)
            .ok_or_else(overflow)?;
        if let Some(s) = sections.get_mut(strndx) {
            s.offset = streamed;
            s.size = len;
        }
        streamed = streamed.checked_add(len).ok_or_else(overflow)?;
    }
    let sht_off = align(streamed, if layout.is_64 { 8 } else { 4 }).ok_or_else(overflow)?;
    let sig_hdr = Shdr {
        name_off,
        name: SECTION_NAME.to_owned(),
        // SHT_PROGBITS, no flags (not SHF_ALLOC: in no segment, not loaded).
        sh_type: 1,
        flags: 0,
        addr: 0,
        // Set below, once the table's length is known; the size is set per attempt.
        offset: 0,
        size: 0,
        link: 0,
        info: 0,
        addralign: 1,
        entsize: 0,
    };
    let sig_index = match existing_sig {
        Some(i) => {
            let s = sections.get_mut(i).ok_or(SignError::NoSectionTable)?;
            *s = sig_hdr;
            i
        }
        None => {
            sections.push(sig_hdr);
            sections.len().saturating_sub(1)
        }
    };
    let shnum = u16::try_from(sections.len())
        .ok()
        .filter(|n| *n < 0xff00)
        .ok_or_else(|| SignError::Unsupported("too many sections to add one".into()))?;
    let sht_len = (sections.len() as u64)
        .checked_mul(layout.shentsize)
        .ok_or_else(overflow)?;
    let sig_off = sht_off
        .checked_add(sht_len)
        .and_then(|e| align(e, 8))
        .ok_or_else(overflow)?;
    if let Some(s) = sections.get_mut(sig_index) {
        s.offset = sig_off;
    }
    for s in content_sections(&sections) {
        if !manifest::name_is_writable(&s.name) {
            return Err(SignError::Unsupported(format!(
                "section at offset {:#x} has a name the manifest cannot carry ({:?})",
                s.offset, s.name
            )));
        }
    }
    let header = layout.patched_header(data, sht_off, shnum, layout.shstrndx)?;
    // The streamed part: the patched header, the kept input after it, the name table copy.
    let mut pieces = vec![
        Piece::Bytes(header),
        Piece::Input {
            offset: layout.ehsize,
            len: keep.saturating_sub(layout.ehsize),
        },
    ];
    if copy_names {
        pieces.push(Piece::Input {
            offset: strtab.offset,
            len: strtab.size,
        });
        pieces.push(Piece::Bytes(wanted));
    }
    pieces.retain(|p| !p.is_empty());
    let mut seen = HashSet::new();
    let ranges = sections
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != sig_index)
        .filter_map(|(_, s)| s.file_range())
        .filter(|r| seen.insert(*r))
        .collect();
    Ok(Plan {
        layout,
        keep,
        pieces,
        streamed,
        sections,
        sig_index,
        sht_off,
        sig_off,
        size: 0,
        ranges,
        timestamped: false,
    })
}

impl Plan {
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    pub fn kept(&self) -> u64 {
        self.keep
    }

    /// The signed file's section headers with a signature section of `size` bytes.
    fn sections_with(&self, size: u64) -> Vec<Shdr> {
        let mut sections = self.sections.clone();
        if let Some(s) = sections.get_mut(self.sig_index) {
            s.size = size;
        }
        sections
    }

    /// The exact size of the signature section without a timestamp: the length of the CMS over
    /// a manifest that lists the section at that size. The size's own digits are in the
    /// manifest, so this is a fixed point, reached from below: the CMS length only grows with
    /// the manifest's, which only grows with the size's digits.
    fn exact_size(&self, opts: &SignOptions<'_>) -> Result<u64, SignError> {
        let mut size = 1u64;
        for _ in 0..MAX_SIZING_ROUNDS {
            let sections = self.sections_with(size);
            let manifest_len = manifest::rendered_len(
                opts.digest,
                content_sections(&sections).map(|s| (s.name.as_str(), s.offset, s.size)),
            )
            .ok_or_else(|| {
                SignError::Unsupported(format!("{} cannot be used", opts.digest.name()))
            })?;
            let need = crate::cms::build::attached_signature_len(
                opts.signer,
                opts.cert,
                opts.chain,
                opts.digest,
                manifest_len,
                opts.signed_at,
            )? as u64;
            if need <= size {
                return Ok(size);
            }
            size = need;
        }
        Err(SignError::Unsupported(format!(
            "the signature's size did not settle in {MAX_SIZING_ROUNDS} rounds"
        )))
    }

    /// The per-section digests may read at most [`MAX_SECTION_DIGEST_FACTOR`] times the signed
    /// file (each distinct range once).
    fn check_budget(&self) -> Result<(), SignError> {
        let total = end(self.sig_off, self.size);
        let limit = total.saturating_mul(MAX_SECTION_DIGEST_FACTOR);
        let spent = self
            .ranges
            .iter()
            .fold(self.size, |acc, (_, len)| acc.saturating_add(*len));
        if spent > limit {
            return Err(SignError::Unsupported(format!(
                "the sections overlap: their digests would read more than {limit} bytes, {MAX_SECTION_DIGEST_FACTOR} times the file (budget::MAX_SECTION_DIGEST_FACTOR)"
            )));
        }
        Ok(())
    }

    /// The signed file after the streamed part for a signature section of `size` bytes:
    /// padding, the section header table, padding, and the signature's place (zeros).
    fn tail(&self, size: u64) -> Result<(Vec<Shdr>, Vec<u8>), SignError> {
        let overflow =
            || SignError::Unsupported("the signed file would exceed the format's offsets".into());
        if size > MAX_SIGNATURE_SECTION {
            return Err(SignError::Unsupported(format!(
                "the signature would be {size} bytes (budget {MAX_SIGNATURE_SECTION})"
            )));
        }
        let sections = self.sections_with(size);
        let mut sht = Vec::new();
        for s in &sections {
            self.layout.encode_shdr(s, &mut sht)?;
        }
        let total = self.sig_off.checked_add(size).ok_or_else(overflow)?;
        if !self.layout.is_64 && u32::try_from(total).is_err() {
            return Err(overflow());
        }
        let len = usize::try_from(total.saturating_sub(self.streamed)).map_err(|_| overflow())?;
        let mut tail = vec![0u8; len];
        let from =
            usize::try_from(self.sht_off.saturating_sub(self.streamed)).map_err(|_| overflow())?;
        from.checked_add(sht.len())
            .and_then(|to| tail.get_mut(from..to))
            .ok_or_else(overflow)?
            .copy_from_slice(&sht);
        Ok((sections, tail))
    }

    /// Signs: builds the tail (section header table and signature), from the digests of the
    /// streamed part. Without a timestamp this succeeds at the first attempt, the section being
    /// exactly as large as the signature (an ECDSA signature shorter than its longest leaves
    /// zero padding). With one, a token larger than its reserve makes the tail be laid out again
    /// with room for it: the section header table and the zeros are hashed again from a copy of
    /// the streamed part's digest state, the signature is made again and stamped again.
    pub fn finish(&self, hashed: Hashed, opts: &SignOptions<'_>) -> Result<Finished, SignError> {
        self.finish_by(hashed, opts, &|manifest: &[u8]| {
            crate::cms::build::attached_signature(
                opts.signer,
                opts.cert,
                opts.chain,
                opts.digest,
                manifest,
                opts.signed_at,
                opts.timestamper,
            )
            .map_err(SignError::from)
        })
    }

    /// As [`Plan::finish`], the CMS over the manifest text made by `make` (each attempt calls
    /// it again: with a timestamp, a token that outgrows its room makes a new signature).
    pub fn finish_by(
        &self,
        hashed: Hashed,
        opts: &SignOptions<'_>,
        make: super::MakeCmsBy<'_>,
    ) -> Result<Finished, SignError> {
        let mut size = self.size;
        let sig_at = usize::try_from(self.sig_off.saturating_sub(self.streamed))
            .map_err(|_| SignError::Unsupported("signature offset out of range".into()))?;
        for attempt in 0..MAX_ATTEMPTS {
            let (sections, mut tail) = self.tail(size)?;
            let mut file = hashed.state.box_clone();
            file.update(&tail);
            let zeros = crate::hash::digest(opts.digest, tail.get(sig_at..).unwrap_or_default())
                .ok_or_else(|| {
                    SignError::Unsupported(format!("{} cannot be used", opts.digest.name()))
                })?;
            let mut entries = Vec::new();
            for (i, s) in sections.iter().enumerate() {
                let Some((offset, len)) = s.file_range() else {
                    continue;
                };
                let digest = if i == self.sig_index {
                    zeros.clone()
                } else {
                    hashed.ranges.get(&(offset, len)).cloned().ok_or_else(|| {
                        SignError::Unsupported(format!(
                            "section {} ({offset:#x}+{len:#x}) was not hashed",
                            s.name
                        ))
                    })?
                };
                entries.push(Entry {
                    name: s.name.clone(),
                    offset,
                    size: len,
                    digest,
                });
            }
            let m = Manifest {
                digest: opts.digest,
                file: file.finalize().to_vec(),
                sections: entries,
            };
            let cms = make(m.render().as_bytes())?;
            if (cms.len() as u64) <= size {
                sig_at
                    .checked_add(cms.len())
                    .and_then(|to| tail.get_mut(sig_at..to))
                    .ok_or_else(|| {
                        SignError::Unsupported("signature does not fit its section".into())
                    })?
                    .copy_from_slice(&cms);
                return Ok(Finished {
                    tail,
                    replans: attempt,
                });
            }
            if !self.timestamped {
                return Err(SignError::Unsupported(format!(
                    "the signature is {} bytes, more than the {size} bytes computed for it (a signer whose signatures are longer than its key allows)",
                    cms.len()
                )));
            }
            // The token outgrew its reserve: lay the tail out again with room for it.
            size = (cms.len() as u64).saturating_add(REPLAN_MARGIN);
        }
        Err(SignError::Unsupported(
            "the signature kept outgrowing its section (the TSA's tokens vary in size)".into(),
        ))
    }
}

/// A `malformed` verdict for a `.bingate.sig` signature, with why.
pub(super) fn malformed(e: impl Into<String>) -> SignatureVerdict {
    SignatureVerdict {
        decided_by: None,
        status: Status::Malformed,
        format: Some(crate::cms::verdict::SignatureFormat::ElfSection),
        signatures: Vec::new(),
        anomalies: Vec::new(),
        error: Some(e.into()),
    }
}

/// Section indices under one key, in header order, and how many at the front are known used.
type Queues<K> = HashMap<K, (Vec<usize>, usize)>;

/// The first section under `key` not yet `used` (amortised: used ones are skipped once).
fn first_unused<K: Eq + std::hash::Hash>(
    q: &mut Queues<K>,
    key: &K,
    used: &[bool],
) -> Option<usize> {
    let (list, next) = q.get_mut(key)?;
    while let Some(&i) = list.get(*next) {
        if !used.get(i).copied().unwrap_or(true) {
            return Some(i);
        }
        *next = next.saturating_add(1);
    }
    None
}

/// What differs between the signed manifest and the file as it is now.
fn changes(
    data: &[u8],
    layout: &Layout,
    m: &Manifest,
    sig: &Shdr,
    parts: &Parts<'_>,
) -> Vec<String> {
    let mut out = Vec::new();
    let now: Vec<&Shdr> = content_sections(&layout.sections).collect();
    let mut used = vec![false; now.len()];
    // Sections by name and by (name, offset), in header order, so matching is linear in the
    // sections, not their square.
    let mut by_name: Queues<&str> = HashMap::new();
    let mut by_place: Queues<(&str, u64)> = HashMap::new();
    for (i, s) in now.iter().enumerate() {
        by_name.entry(s.name.as_str()).or_default().0.push(i);
        by_place
            .entry((s.name.as_str(), s.offset))
            .or_default()
            .0
            .push(i);
    }
    let mut digests = SectionDigests::new(parts, m.digest, data.len() as u64);
    let mut not_compared = 0u64;
    let mut moved = false;
    for e in &m.sections {
        // The same name, preferring the same offset, then the first unused one.
        let found = first_unused(&mut by_place, &(e.name.as_str(), e.offset), &used)
            .or_else(|| first_unused(&mut by_name, &e.name.as_str(), &used))
            .and_then(|i| Some((i, *now.get(i)?)));
        match found {
            None => out.push(format!("{} removed", e.name)),
            Some((i, s)) => {
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
                if s.offset != e.offset || s.size != e.size {
                    moved = true;
                }
                let Ok(d) = digests.digest(s.offset, s.size) else {
                    not_compared = not_compared.saturating_add(1);
                    continue;
                };
                if d.as_deref() != Some(e.digest.as_slice()) {
                    if s.size != e.size {
                        out.push(format!(
                            "{} resized ({} → {} bytes)",
                            e.name, e.size, s.size
                        ));
                    } else {
                        out.push(e.name.clone());
                    }
                } else if s.offset != e.offset {
                    out.push(format!("{} moved", e.name));
                }
            }
        }
    }
    for (i, s) in now.iter().enumerate() {
        if !used.get(i).copied().unwrap_or(true) {
            out.push(format!("{} added", s.name));
        }
    }
    if not_compared > 0 {
        out.push(format!(
            "{not_compared} sections not compared (overlapping sections: their digests would read more than {MAX_SECTION_DIGEST_FACTOR} times the file)"
        ));
    }
    // Bytes after every structure the file describes were appended after signing (bingate
    // ends a signed file with its section header table).
    let mut described = end(layout.shoff, layout.sht_len()).max(end(sig.offset, sig.size));
    for s in &layout.sections {
        if let Some((o, l)) = s.file_range() {
            described = described.max(end(o, l));
        }
    }
    for (_, o, l) in &layout.segments {
        described = described.max(end(*o, *l));
    }
    if (data.len() as u64) > described {
        out.push(format!(
            "{} bytes appended after the end of the signed file",
            (data.len() as u64).saturating_sub(described)
        ));
    }
    if out.is_empty() || moved {
        out.push(
            "headers (ELF header, program or section header table, or bytes between sections)"
                .into(),
        );
    }
    out
}

/// Verifies a `.bingate.sig` section.
pub fn verify(data: &[u8], env: &VerifyEnv<'_>) -> SignatureVerdict {
    let layout = match Layout::parse(data) {
        Ok(l) => l,
        Err(e) => return malformed(format!("ELF: {e}")),
    };
    let idx = layout.section_index(SECTION_NAME);
    let sig = match idx.as_slice() {
        [] => {
            return SignatureVerdict::unsigned(format!("no {SECTION_NAME} section"));
        }
        [i] => match layout.sections.get(*i) {
            Some(s) => s.clone(),
            None => return malformed("section index out of range"),
        },
        more => return malformed(format!("{} {SECTION_NAME} sections", more.len())),
    };
    let Some((sig_off, sig_len)) = sig.file_range() else {
        return malformed(format!("{SECTION_NAME} has no contents in the file"));
    };
    if sig_len > MAX_SIGNATURE_SECTION {
        return malformed(format!(
            "{SECTION_NAME} is {sig_len} bytes (budget {MAX_SIGNATURE_SECTION})"
        ));
    }
    let bytes = crate::read::Bytes::new(data, layout.le);
    let contents = match bytes.get("signature section", sig_off, sig_len) {
        Ok(c) => c,
        Err(e) => return malformed(e.to_string()),
    };
    let cms_len = crate::read::der_element_len(contents)
        .and_then(|l| usize::try_from(l).ok())
        .filter(|l| *l <= contents.len());
    let Some(cms_len) = cms_len else {
        return malformed(format!(
            "{SECTION_NAME} at offset {sig_off:#x} does not start with a complete DER structure"
        ));
    };
    let (cms_der, padding) = contents.split_at(cms_len);
    let opened = match crate::cms::open::open(cms_der, "SignedData") {
        Ok(o) => o,
        Err(OpenError::ContentInfo(e)) => {
            return malformed(format!("{SECTION_NAME}: CMS ContentInfo: {e}"));
        }
        Err(OpenError::TooManyCertificates(n)) => {
            return malformed(format!("{n} certificates in the signature"));
        }
        Err(e) => return malformed(format!("{SECTION_NAME}: {e}")),
    };
    let sd = &opened.signed_data;
    if sd.encap.econtent_type.to_string() != ID_DATA {
        return malformed("the signed content is not id-data");
    }
    let Some(manifest_bytes) = sd
        .encap
        .econtent
        .as_ref()
        .and_then(|c| c.decode_as::<der::asn1::OctetString>().ok())
    else {
        return malformed("the SignedData carries no manifest");
    };
    let manifest_bytes = manifest_bytes.as_bytes();
    let Some(si) = opened.only_signer() else {
        return malformed("the SignedData must have exactly one SignerInfo");
    };
    let bag = opened.certificates();
    let signer_cert = opened.signer_cert(&si.sid).cloned();
    let m = match Manifest::parse(manifest_bytes) {
        Ok(m) => m,
        Err(e) => return malformed(format!("{SECTION_NAME}: {e}")),
    };
    let cms_check = verify_signer_info(si, manifest_bytes, signer_cert.as_ref());

    // The file digest, with the signature section's contents read as zeros.
    let zeros = vec![0u8; contents.len()];
    let sig_start = usize::try_from(sig_off).unwrap_or(usize::MAX);
    let sig_end = sig_start.saturating_add(contents.len());
    let parts = Parts(vec![
        (0, data.get(..sig_start).unwrap_or_default()),
        (sig_off, zeros.as_slice()),
        (
            end(sig_off, sig_len),
            data.get(sig_end..).unwrap_or_default(),
        ),
    ]);
    let computed = digest_range(&parts, m.digest, 0, data.len() as u64);
    let matches = computed.as_deref() == Some(m.file.as_slice());

    let mut j = Judgement::default();
    let mut changed = Vec::new();
    if !matches {
        changed = changes(data, &layout, &m, &sig, &parts);
        j.worsen(
            Status::Invalid,
            reason(
                ReasonCode::ModifiedAfterSigning,
                format!(
                    "the file was modified after signing: {}",
                    changed.join(", ")
                ),
            ),
        );
    }
    if padding.iter().any(|b| *b != 0) {
        j.worsen(
            Status::Invalid,
            reason(
                ReasonCode::SignaturePadding,
                format!(
                    "{SECTION_NAME} holds non-zero bytes after the CMS structure (offset {:#x}); they are not covered by the signature",
                    end(sig_off, cms_len as u64)
                ),
            ),
        );
    }
    if sig.flags & SHF_ALLOC != 0 {
        j.worsen(
            Status::Invalid,
            reason(
                ReasonCode::SignatureSectionAllocated,
                format!("{SECTION_NAME} is SHF_ALLOC: it would be loaded"),
            ),
        );
    }
    if !cms_check.message_digest_match || !cms_check.signature_valid {
        let msg = cms_check
            .error
            .clone()
            .unwrap_or_else(|| "the signer's signature does not verify".into());
        j.worsen(Status::Invalid, reason(ReasonCode::BadSignature, msg));
    }
    let timestamps: Vec<_> = crate::cms::timestamp::read_standard(si, bag)
        .into_iter()
        .filter_map(|t| match t {
            Ok(t) => Some(t),
            Err(e) => {
                j.reasons.push(reason(ReasonCode::TimestampUnreadable, e));
                None
            }
        })
        .collect();
    let (chain, timestamp) = judge_identity(env, signer_cert.as_ref(), bag, &timestamps, &mut j);
    let key_bits = signer_cert
        .as_ref()
        .and_then(|c| crate::pki::keys::key_info(&c.tbs_certificate.subject_public_key_info).bits);
    let report = SignatureReport {
        entry: 0,
        nested: 0,
        digest_algorithm: crate::hash::Algorithm::Known(m.digest),
        digest: crate::cms::signer::DigestCheck {
            error: None,
            algorithm: crate::hash::Algorithm::Known(m.digest),
            signed: crate::read::hex(&m.file),
            computed: computed.as_deref().map(crate::read::hex),
            matches,
        },
        signer: signer_cert.as_ref().and_then(signer_from_cert),
        key_bits,
        chain,
        program_name: None,
        more_info_url: None,
        timestamp,
        page_hashes: PageHashReport {
            present: false,
            verified: false,
        },
        status: j.status,
        reasons: j.reasons,
        signer_id: None,
        changes: changed,
    };
    SignatureVerdict {
        decided_by: None,
        status: report.status,
        format: Some(crate::cms::verdict::SignatureFormat::ElfSection),
        signatures: vec![report],
        anomalies: Vec::new(),
        error: None,
    }
}
