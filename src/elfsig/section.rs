//! The `.bingate.sig` section: signing (add a non-allocated section at the end of the file
//! holding a CMS SignedData over a manifest of the whole file) and verifying it.
//!
//! Layout after signing: the input up to the end of the last structure that stays (headers,
//! segments, sections, and any trailing data), then — when `.shstrtab` does not already hold the
//! name — a copy of the section name table with `.bingate.sig` added, the signature contents
//! (8-aligned), and a new section header table. An old section header table, name table or
//! signature at the very end of the input is dropped; anywhere else it stays as covered, unused
//! bytes. Nothing allocated moves, so the loaded image is unchanged.

use std::collections::HashMap;

use super::layout::{Layout, SHF_ALLOC, SHT_STRTAB, Shdr};
use super::manifest::{self, Entry, Manifest};
use super::{SECTION_NAME, SignError, SignOptions, Signed, hasher};
use crate::cms::open::OpenError;
use crate::cms::signer::{signer_from_cert, verify_signer_info};
use crate::cms::verdict::{Judgement, ReasonCode, judge_identity, reason};
use crate::cms::verdict::{PageHashReport, SignatureReport, SignatureVerdict, Status, VerifyEnv};
use crate::cms::{KeyKind, Signer};
use crate::hash::DigestAlg;

use crate::budget::MAX_ELF_SIGNATURE_LEN as MAX_SIGNATURE_SECTION;
use crate::budget::MAX_SECTION_DIGEST_FACTOR;

/// Room left for the RFC 3161 token when sizing the section before the TSA has answered.
/// Tokens with a TSA chain are 2–7 KiB; a larger one makes signing re-plan once.
const TIMESTAMP_RESERVE: usize = 8192;

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

/// A signer that produces a zero signature of the largest size the key can make: used to size
/// the section before anything is hashed.
struct Sizing<'a>(&'a dyn Signer);

impl Signer for Sizing<'_> {
    fn kind(&self) -> KeyKind {
        self.0.kind()
    }
    fn public_key(&self) -> &spki::SubjectPublicKeyInfoOwned {
        self.0.public_key()
    }
    fn sign_digest(
        &self,
        _alg: DigestAlg,
        _digest: &[u8],
    ) -> Result<Vec<u8>, crate::cms::SignDigestError> {
        let len = match self.0.kind() {
            KeyKind::Rsa { bits } => usize::try_from(bits.div_ceil(8)).unwrap_or(1024),
            // DER SEQUENCE of two INTEGERs, each with a possible leading zero.
            KeyKind::EcdsaP256 => 72,
            KeyKind::EcdsaP384 => 104,
        };
        Ok(vec![0; len])
    }
}

/// The output as contiguous parts, for hashing ranges of a file that is not written yet.
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

/// Per-section digests for one file: each distinct (offset, size) hashed once, and the bytes
/// hashed for distinct ranges capped at [`MAX_SECTION_DIGEST_FACTOR`] times the file's size.
struct SectionDigests<'p, 'd> {
    parts: &'p Parts<'d>,
    alg: DigestAlg,
    seen: HashMap<(u64, u64), Option<Vec<u8>>>,
    spent: u64,
    limit: u64,
}

/// The per-section digests would read more than the budget allows.
struct OverBudget {
    limit: u64,
}

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
            return Err(OverBudget { limit: self.limit });
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

/// The manifest of a file described by `parts` and its `sections` (file digest over all of
/// `total` bytes). The file digest and the per-section digests are computed in parallel.
fn build_manifest(
    parts: &Parts<'_>,
    total: u64,
    sections: &[Shdr],
    alg: DigestAlg,
) -> Result<Manifest, SignError> {
    let (file, entries) = rayon::join(
        || digest_range(parts, alg, 0, total),
        || {
            let mut digests = SectionDigests::new(parts, alg, total);
            let mut entries = Vec::new();
            for s in content_sections(sections) {
                let Some(digest) = digests.digest(s.offset, s.size)? else {
                    return Ok(None);
                };
                entries.push(Entry {
                    name: s.name.clone(),
                    offset: s.offset,
                    size: s.size,
                    digest,
                });
            }
            Ok(Some(entries))
        },
    );
    let unsupported = || SignError::Unsupported(format!("{} cannot be used", alg.name()));
    let entries = entries.map_err(|OverBudget { limit }| {
        SignError::Unsupported(format!(
            "the sections overlap: their digests would read more than {limit} bytes, {MAX_SECTION_DIGEST_FACTOR} times the file (budget::MAX_SECTION_DIGEST_FACTOR)"
        ))
    })?;
    Ok(Manifest {
        digest: alg,
        file: file.ok_or_else(unsupported)?,
        sections: entries.ok_or_else(unsupported)?,
    })
}

struct Plan {
    header: Vec<u8>,
    keep: u64,
    tail: Vec<u8>,
    sig_off: u64,
    sections: Vec<Shdr>,
}

/// Lays out the signed file for a signature section of `sig_size` bytes.
fn plan(data: &[u8], layout: &Layout, replace: bool, sig_size: u64) -> Result<Plan, SignError> {
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
    // Reuse the name if the table already holds it (a re-signed file), else append it.
    let wanted: Vec<u8> = [SECTION_NAME.as_bytes(), &[0]].concat();
    let reuse = memchr::memmem::find(names, &wanted);
    let new_names: Option<Vec<u8>> = match reuse {
        Some(_) => None,
        None => Some([names, &wanted].concat()),
    };
    let name_off = match (reuse, &new_names) {
        (Some(i), _) => u32::try_from(i),
        (None, _) => u32::try_from(names.len()),
    }
    .map_err(|_| SignError::Unsupported("section name table too large".into()))?;

    let sig_index = existing.first().copied();
    // Regions that may be dropped when they sit at the end of the file.
    let mut droppable: Vec<(u64, u64)> = vec![(layout.shoff, layout.sht_len())];
    if new_names.is_some() {
        droppable.push((strtab.offset, strtab.size));
    }
    if let Some(s) = sig_index.and_then(|i| layout.sections.get(i)) {
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
        let dropped_strtab = i == strndx && new_names.is_some();
        if Some(i) == sig_index || dropped_strtab {
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

    let mut sections = layout.sections.clone();
    let mut pos = keep;
    let mut tail_pieces: Vec<(u64, Vec<u8>)> = Vec::new();
    if let Some(n) = &new_names {
        if let Some(s) = sections.get_mut(strndx) {
            s.offset = pos;
            s.size = n.len() as u64;
        }
        tail_pieces.push((pos, n.clone()));
        pos = end(pos, n.len() as u64);
    }
    let overflow =
        || SignError::Unsupported("the signed file would exceed the format's offsets".into());
    let sig_off = align(pos, 8).ok_or_else(overflow)?;
    pos = sig_off.checked_add(sig_size).ok_or_else(overflow)?;
    let sig_hdr = Shdr {
        name_off,
        name: SECTION_NAME.to_owned(),
        // SHT_PROGBITS, no flags (not SHF_ALLOC: in no segment, not loaded).
        sh_type: 1,
        flags: 0,
        addr: 0,
        offset: sig_off,
        size: sig_size,
        link: 0,
        info: 0,
        addralign: 1,
        entsize: 0,
    };
    match sig_index.and_then(|i| sections.get_mut(i)) {
        Some(s) => *s = sig_hdr,
        None => sections.push(sig_hdr),
    }
    let shnum = u16::try_from(sections.len())
        .ok()
        .filter(|n| *n < 0xff00)
        .ok_or_else(|| SignError::Unsupported("too many sections to add one".into()))?;
    for s in content_sections(&sections) {
        if !manifest::name_is_writable(&s.name) {
            return Err(SignError::Unsupported(format!(
                "section at offset {:#x} has a name the manifest cannot carry ({:?})",
                s.offset, s.name
            )));
        }
    }
    let sht_off = align(pos, if layout.is_64 { 8 } else { 4 }).ok_or_else(overflow)?;
    let mut sht = Vec::new();
    for s in &sections {
        layout.encode_shdr(s, &mut sht)?;
    }
    if !layout.is_64 && u32::try_from(end(sht_off, sht.len() as u64)).is_err() {
        return Err(overflow());
    }
    tail_pieces.push((sht_off, sht));
    let total = tail_pieces
        .iter()
        .map(|(o, b)| end(*o, b.len() as u64))
        .max()
        .unwrap_or(keep);
    let tail_len = usize::try_from(total.saturating_sub(keep)).map_err(|_| overflow())?;
    let mut tail = vec![0u8; tail_len];
    for (off, bytes) in tail_pieces {
        let from = usize::try_from(off.saturating_sub(keep)).map_err(|_| overflow())?;
        let to = from.checked_add(bytes.len()).ok_or_else(overflow)?;
        tail.get_mut(from..to)
            .ok_or_else(overflow)?
            .copy_from_slice(&bytes);
    }
    let header = layout.patched_header(data, sht_off, shnum, layout.shstrndx)?;
    Ok(Plan {
        header,
        keep,
        tail,
        sig_off,
        sections,
    })
}

/// Signs `data` (an ELF file) with a `.bingate.sig` section.
pub fn sign(data: &[u8], opts: &SignOptions<'_>) -> Result<Signed, SignError> {
    if data.ends_with(super::module::MAGIC) {
        return Err(SignError::Unsupported(
            "the file carries an appended kernel module signature; a section added after it would break it (sign with --format section first, then --format module)".into(),
        ));
    }
    let layout = Layout::parse(data)?;
    if layout.shoff == 0 || layout.sections.is_empty() {
        return Err(SignError::NoSectionTable);
    }
    // Size the section: the CMS with a placeholder manifest of the right length and the
    // largest signature the key makes, plus room for a timestamp.
    let probe = plan(data, &layout, opts.replace, 0)?;
    let placeholder = Manifest {
        digest: opts.digest,
        file: crate::hash::digest(opts.digest, b"").unwrap_or_default(),
        sections: content_sections(&probe.sections)
            .map(|s| Entry {
                name: s.name.clone(),
                offset: s.offset,
                size: s.size,
                digest: crate::hash::digest(opts.digest, b"").unwrap_or_default(),
            })
            .collect(),
    };
    let placeholder_text = placeholder.render();
    let sized = crate::cms::build::attached_signature(
        &Sizing(opts.signer),
        opts.cert,
        opts.chain,
        opts.digest,
        placeholder_text.as_bytes(),
        opts.signed_at,
        None,
    )?;
    // Offsets in the manifest grow by at most a few digits once the section has a size.
    let mut size = sized
        .len()
        .saturating_add(64)
        .saturating_add(if opts.timestamper.is_some() {
            TIMESTAMP_RESERVE
        } else {
            0
        });
    for _attempt in 0..3 {
        let mut p = plan(data, &layout, opts.replace, size as u64)?;
        let keep = usize::try_from(p.keep).unwrap_or(usize::MAX);
        let ehsize = p.header.len();
        let middle = data.get(ehsize..keep).unwrap_or_default();
        let parts = Parts(vec![
            (0, p.header.as_slice()),
            (ehsize as u64, middle),
            (p.keep, p.tail.as_slice()),
        ]);
        let total = end(p.keep, p.tail.len() as u64);
        let m = build_manifest(&parts, total, &p.sections, opts.digest)?;
        let cms = crate::cms::build::attached_signature(
            opts.signer,
            opts.cert,
            opts.chain,
            opts.digest,
            m.render().as_bytes(),
            opts.signed_at,
            opts.timestamper,
        )?;
        if cms.len() > size {
            // The token (or signature) was larger than reserved: lay out again with room.
            size = cms.len().saturating_add(512);
            continue;
        }
        let from = usize::try_from(p.sig_off.saturating_sub(p.keep)).unwrap_or(usize::MAX);
        let to = from.saturating_add(cms.len());
        p.tail
            .get_mut(from..to)
            .ok_or_else(|| SignError::Unsupported("signature does not fit its section".into()))?
            .copy_from_slice(&cms);
        return Ok(Signed {
            header: p.header,
            keep: p.keep,
            tail: p.tail,
        });
    }
    Err(SignError::Unsupported(
        "the signature kept outgrowing its section (the TSA's tokens vary in size)".into(),
    ))
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
            return SignatureVerdict {
                decided_by: None,
                status: Status::Unsigned,
                format: None,
                signatures: Vec::new(),
                anomalies: Vec::new(),
                error: Some(format!("no {SECTION_NAME} section")),
            };
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
