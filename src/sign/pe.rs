//! Authenticode signing of PE files (`bingate sign pe`) and the pieces of two-step signing
//! (`bingate signature remove|extract|attach`).
//!
//! Where the signature goes: the certificate table is written last, at the end of the file
//! rounded up to 8 bytes, and the zero bytes of that rounding are hashed as part of the image, as
//! signtool, osslsigncode, jsign and relic do and as every verifier expects (the image hash
//! covers every byte but the CheckSum field, the security directory entry and the table). Data
//! after the image (an installer's payload, an overlay) stays where it is, before the table, and
//! is covered by the image hash: Windows hashes it too, so a changed payload invalidates the
//! signature. A file whose existing table is not last (data after it) is refused: moving that
//! data would change what an earlier signer signed.
//!
//! How the output is written: the input is mapped for the plan (headers, an existing table) and
//! read a chunk at a time for the one pass: each chunk is hashed on one core while the other
//! writes it to a temporary file beside the destination, sums its checksum words and reads the
//! next. Then the signature is made, the table appended, the CheckSum and the security directory
//! written into the header, and the result verified as `bingate verify` would (the ranges hashed
//! must be the ones the written headers give; then the signature, page hashes and timestamp)
//! before it is renamed into place. Memory does not grow with the input (except with page
//! hashes, which read the mapped input); a failure at any point leaves the destination as it was.
//!
//! Who signs: a key resolved here ([`crate::sign::digest::KeyMaterial`]: `sign pe --key`, and
//! the signing server's whole-file endpoint through [`sign_file`]), or, with `--server`, a
//! signing server that is sent only the image digest (and the input's SHA-256, computed in the
//! same pass) and returns the PKCS#7, which is checked to sign that digest before it goes in the
//! table.

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::command::{View, now, open_input, read};
use crate::authenticode::build::{Opus, Signing, indirect_data, nest as nest_into, signed_data};
use crate::authenticode::table::{self, WIN_CERT_TYPE_PKCS_SIGNED_DATA};
use crate::cms::Signer;
use crate::cms::verdict::Status;
use crate::hash::DigestAlg;
use crate::pe::{PeHeaders, SigningLayout};

/// WIN_CERTIFICATE wRevision: WIN_CERT_REVISION_2_0.
const WIN_CERT_REVISION_2_0: u16 = 0x0200;

/// Bytes copied per write.
const CHUNK: usize = 1 << 20;

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("destination").required(true).args(["output", "in_place"])))]
pub struct SignPeArgs {
    /// Key and certificates (self-signed roots are not embedded).
    #[command(flatten)]
    pub keys: super::command::KeyArgs,
    /// Digest algorithm of the image hash and the signature (sha1 only for a signature that
    /// Windows Vista and 7 without SHA-2 updates can read, with a SHA-256 one nested on it).
    #[arg(long, value_enum, default_value = "sha256")]
    pub digest: PeDigestArg,
    /// RFC 3161 time-stamping authority (http://…); repeat for fail-over, tried in order.
    #[arg(long, value_name = "URL")]
    pub timestamp_url: Vec<String>,
    /// Seconds to wait for each time-stamping authority.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timestamp_timeout: u64,
    /// Attempts per time-stamping authority before the next one is tried.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub timestamp_retries: u32,
    /// Program name shown by Windows (SpcSpOpusInfo; signtool /d).
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// URL with more information (SpcSpOpusInfo; signtool /du).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Add the signature as a nested signature of the existing one (signtool /as,
    /// osslsigncode -nest) instead of replacing it.
    #[arg(long)]
    pub nest: bool,
    /// Include page hashes (SHA-1 pages with --digest sha1, SHA-256 pages otherwise).
    #[arg(long)]
    pub page_hashes: bool,
    /// Check the input against this policy first (a built-in name or a file) and refuse to
    /// sign, exit 1, when a deny rule fails. Signature rules are not judged: the input is
    /// about to be signed.
    #[arg(long, value_name = "NAME|FILE")]
    pub policy: Option<String>,
    /// Refuse to write the signed file, exit 1, when its SmartScreen-risk estimate is above
    /// this level (judged on the output, with the embedded Microsoft roots and --trust).
    #[arg(long, value_name = "LEVEL", value_parser = ["low", "medium", "high"])]
    pub risk_at_most: Option<String>,
    /// Trust anchors (PEM/DER file or directory) for the output's own verification: with
    /// them the output must verify as valid, chain included.
    #[arg(long, value_name = "FILE|DIR")]
    pub trust: Vec<PathBuf>,
    /// Time at which the output's own verification judges certificates (RFC 3339; for tests
    /// with certificates that have expired).
    #[arg(long, value_name = "RFC3339", hide = true)]
    pub time: Option<String>,
    #[command(flatten)]
    pub remote: super::remote::client::ServerArgs,
    /// Write the signed file here (atomically).
    #[arg(long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Replace FILE with the signed file (atomically).
    #[arg(long)]
    pub in_place: bool,
    /// The PE file to sign.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `--digest` of `sign pe`: SHA-2, or SHA-1 for the old-Windows half of a dual signature.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeDigestArg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl PeDigestArg {
    pub fn alg(self) -> DigestAlg {
        match self {
            PeDigestArg::Sha1 => DigestAlg::Sha1,
            PeDigestArg::Sha256 => DigestAlg::Sha256,
            PeDigestArg::Sha384 => DigestAlg::Sha384,
            PeDigestArg::Sha512 => DigestAlg::Sha512,
        }
    }
}

/// Where a signed file's bytes come from: the input up to `base_len`, `pad` zero bytes, then
/// the certificate table.
struct Plan {
    layout: SigningLayout,
    /// The input's bytes kept: everything before an existing certificate table.
    base_len: usize,
    /// Zero bytes before the table, so that it starts 8-aligned.
    pad: usize,
    /// The existing table's first PKCS#7 signature (`--nest` adds to it) and the raw bytes of
    /// its other entries (kept after it).
    existing: Option<(Vec<u8>, Vec<u8>)>,
}

fn align8(v: usize) -> Option<usize> {
    v.checked_add(7).map(|x| x & !7)
}

impl Plan {
    fn new(data: &[u8], keep_existing: bool) -> Result<Plan, String> {
        let h = PeHeaders::parse(data).map_err(|e| e.to_string())?;
        let layout = crate::pe::signing_layout_of(&h);
        let table = table::read(data, &layout).map_err(|e| e.to_string())?;
        let (base_len, existing) = match table {
            None => (data.len(), None),
            Some(t) => {
                let end = t.offset.saturating_add(t.size);
                if end != data.len() as u64 {
                    return Err(format!(
                        "the certificate table ({} bytes at {:#x}) is not at the end of the file \
                         ({} bytes follow it); bingate does not move data an earlier signature \
                         covers",
                        t.size,
                        t.offset,
                        (data.len() as u64).saturating_sub(end)
                    ));
                }
                let base = usize::try_from(t.offset).map_err(|e| e.to_string())?;
                let existing = if keep_existing {
                    let mut pkcs = t
                        .entries
                        .iter()
                        .filter(|e| e.cert_type == WIN_CERT_TYPE_PKCS_SIGNED_DATA);
                    let first = pkcs.next().ok_or(
                        "--nest: the certificate table holds no PKCS#7 signature to nest into",
                    )?;
                    let mut others = Vec::new();
                    for e in t.entries.iter().filter(|e| e.index != first.index) {
                        others.extend(win_certificate(e.der, e.revision, e.cert_type)?);
                    }
                    Some((first.der.to_vec(), others))
                } else {
                    None
                };
                (base, existing)
            }
        };
        if keep_existing && existing.is_none() {
            return Err(
                "--nest: the file is not signed; there is no signature to nest into".into(),
            );
        }
        let pad = align8(base_len)
            .and_then(|a| a.checked_sub(base_len))
            .ok_or("file too large")?;
        if existing.is_some() && pad != 0 {
            return Err(format!(
                "--nest: the existing certificate table starts at {base_len:#x}, not on an 8-byte boundary"
            ));
        }
        if layout.checksum_offset % 4 != 0 {
            return Err(format!(
                "the CheckSum field at {:#x} is not 4-byte aligned (e_lfanew is not a multiple of 4); \
                 bingate does not sign such images",
                layout.checksum_offset
            ));
        }
        let mut layout = layout;
        layout.certificate_table = None;
        Ok(Plan {
            layout,
            base_len,
            pad,
            existing,
        })
    }

    /// How much of the header is rewritten after the copy: up to the end of the CheckSum field
    /// and the security directory entry, rounded up to a word (so what follows keeps the word
    /// alignment the checksum's sum needs), at most `limit` bytes.
    fn head_len(&self, limit: usize) -> Result<usize, String> {
        let field_end = |off: u64, len: u64| usize::try_from(off.saturating_add(len)).ok();
        field_end(self.layout.security_dir_offset, 8)
            .zip(field_end(self.layout.checksum_offset, 4))
            .map(|(a, b)| a.max(b))
            .and_then(|e| e.checked_add(3))
            .map(|e| (e & !3).min(limit))
            .ok_or_else(|| "header fields out of range".to_owned())
    }

    /// The page hash table (offset as a little-endian u32, then the digest, per page) and its
    /// algorithm.
    fn page_hashes(&self, data: &[u8], alg: DigestAlg) -> Result<(DigestAlg, Vec<u8>), String> {
        let page_alg = if alg == DigestAlg::Sha1 {
            DigestAlg::Sha1
        } else {
            DigestAlg::Sha256
        };
        let kept = data.get(..self.base_len).unwrap_or_default();
        let entries = crate::authenticode::pagehash::computed_table(kept, &self.layout, page_alg)
            .map_err(|e| e.to_string())?;
        let mut table = Vec::new();
        for (offset, digest) in entries {
            let offset = u32::try_from(offset).map_err(|_| "page offset beyond 4 GiB")?;
            table.extend_from_slice(&offset.to_le_bytes());
            table.extend_from_slice(&digest);
        }
        Ok((page_alg, table))
    }
}

/// One WIN_CERTIFICATE: dwLength (header and padding included), wRevision, wCertificateType,
/// the DER, zero bytes to an 8-byte boundary.
fn win_certificate(der: &[u8], revision: u16, cert_type: u16) -> Result<Vec<u8>, String> {
    let len = der.len().checked_add(8).ok_or("signature too large")?;
    let padded = align8(len).ok_or("signature too large")?;
    let length = u32::try_from(padded).map_err(|_| "signature larger than 4 GiB")?;
    let mut out = Vec::with_capacity(padded);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&revision.to_le_bytes());
    out.extend_from_slice(&cert_type.to_le_bytes());
    out.extend_from_slice(der);
    out.resize(padded, 0);
    Ok(out)
}

/// Whether the input is still what was read: not shrunk under the map, same size and times.
fn input_unchanged(view: &View, file: &fs::File, meta: &fs::Metadata) -> Result<(), String> {
    if view.faulted() {
        return Err("the file shrank while being read; nothing was written".into());
    }
    file.metadata()
        .and_then(|after| crate::input::unchanged(meta, &after))
        .map_err(|e| format!("{e}; nothing was written"))
}

/// Why nothing was written: an error (exit 2), or a refusal by the gate (exit 1).
#[derive(Debug)]
pub enum Failure {
    Error(String),
    Refused(String),
}

impl From<String> for Failure {
    fn from(e: String) -> Failure {
        Failure::Error(e)
    }
}

impl From<&str> for Failure {
    fn from(e: &str) -> Failure {
        Failure::Error(e.to_owned())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Error(e) | Failure::Refused(e) => f.write_str(e),
        }
    }
}

/// What the output must pass before it is renamed into place.
pub struct OutputCheck {
    /// Verification time.
    pub at: u64,
    /// The new signature is nested (the last one) rather than the primary one.
    pub nested: bool,
    /// Anchors: with `Some`, the output must verify as valid (chain included).
    pub trust: Option<crate::pki::trust::TrustStore>,
    /// The SmartScreen-risk ceiling, with the weights and the anchors it is judged with.
    pub risk: Option<(
        crate::risk::RiskLevel,
        crate::risk::Weights,
        crate::pki::trust::TrustStore,
    )>,
}

/// What was written.
pub struct Written {
    pub table_len: usize,
    pub status: Status,
}

/// What the one pass over the input computed, for `make_table`.
struct Hashed<'a> {
    /// The image digest of the output (the bytes written, the padding included).
    image: &'a [u8],
    /// SHA-256 of the whole input as read (every byte, an existing table included), when asked.
    file_sha256: Option<Vec<u8>>,
}

/// Writes the input's kept bytes, the padding and the table `make_table` returns to `dest`
/// atomically, with the security directory pointing at the table and the CheckSum recomputed;
/// checks the result (`check`) before renaming it into place.
///
/// One pass over the input, read from `input` a chunk at a time (not mapped, so memory does not
/// grow with the file): each chunk is written to the temporary file and, side by side, its
/// covered bytes are hashed with `alg`; the PE checksum's words are summed on the way, and with
/// `file_sha256` the SHA-256 of every byte read (then of the existing table the output drops,
/// read after the kept bytes). The image digest of the bytes written goes to `make_table`,
/// which signs it (or, for `attach`, checks it; for `--server`, sends it). `data` is the input
/// mapped for the plan; only page hashes read all of it.
#[allow(clippy::too_many_arguments)]
fn write_signed(
    input: &fs::File,
    data: &[u8],
    plan: &Plan,
    dest: &Path,
    permissions: fs::Permissions,
    alg: DigestAlg,
    check: &OutputCheck,
    file_sha256: bool,
    make_table: impl FnOnce(&Hashed<'_>) -> Result<Vec<u8>, Failure>,
    unchanged: &dyn Fn() -> Result<(), String>,
) -> Result<Written, Failure> {
    let dest_err = |e: &dyn std::fmt::Display| format!("{}: {e}", dest.display());
    let layout = &plan.layout;
    let base = plan.base_len;
    let base4 = base & !3;
    let head_len = plan.head_len(base4)?;
    // The ranges the image hash covers, in the output: the kept bytes without the two header
    // fields, then the padding.
    let kept = data.get(..base).ok_or("the file shrank")?;
    let ranges =
        crate::authenticode::image::covered_ranges(kept, layout).map_err(|e| e.to_string())?;
    let mut hasher = crate::elfsig::hasher(alg).ok_or("MD5 is not accepted")?;
    let mut whole = if file_sha256 {
        Some(crate::elfsig::hasher(DigestAlg::Sha256).ok_or("SHA-256 is not available")?)
    } else {
        None
    };
    let mut pending = super::output::begin(dest).map_err(|e| dest_err(&e))?;
    let mut body = crate::pe::checksum::Sum::starting_at(layout.checksum_offset, head_len as u64);
    // Two buffers: while one chunk is hashed on one core, the other core writes it and reads
    // the next chunk into the other buffer.
    let size = CHUNK.min(base.max(1));
    let (mut cur, mut next) = (vec![0u8; size], vec![0u8; size]);
    let read_at = |buf: &mut [u8], at: usize| -> Result<(), String> {
        crate::input::read_exact_at(input, buf, at as u64)
            .map_err(|e| format!("reading at {at:#x}: {e}"))
    };
    let mut at = 0usize;
    let first = CHUNK.min(base);
    read_at(cur.get_mut(..first).ok_or("buffer")?, 0)?;
    while at < base {
        let n = CHUNK.min(base.saturating_sub(at));
        let end = at.saturating_add(n);
        let n_next = CHUNK.min(base.saturating_sub(end));
        let chunk = cur.get(..n).ok_or("buffer")?;
        let ahead = next.get_mut(..n_next).ok_or("buffer")?;
        let f = pending.file();
        let whole = &mut whole;
        let (io, ()) = rayon::join(
            || -> Result<(), String> {
                f.write_all(chunk).map_err(|e| dest_err(&e))?;
                if let Some(h) = whole.as_mut() {
                    crate::hash::feed(chunk, |step| h.update(step));
                }
                // The body's words: after the header, before the last partial word.
                let (lo, hi) = (at.max(head_len), end.min(base4));
                if lo < hi {
                    body.add(
                        chunk
                            .get(lo.saturating_sub(at)..hi.saturating_sub(at))
                            .unwrap_or_default(),
                    );
                }
                if n_next > 0 {
                    read_at(ahead, end)?;
                }
                Ok(())
            },
            || {
                for r in &ranges {
                    let (lo, hi) = (r.start.max(at), r.end.min(end));
                    if lo < hi {
                        let part = chunk
                            .get(lo.saturating_sub(at)..hi.saturating_sub(at))
                            .unwrap_or_default();
                        crate::hash::feed(part, |step| hasher.update(step));
                    }
                }
            },
        );
        io?;
        std::mem::swap(&mut cur, &mut next);
        at = end;
    }
    hasher.update(&vec![0u8; plan.pad]);
    let image_digest = hasher.finalize().to_vec();
    let file_sha256 = match whole {
        None => None,
        Some(mut h) => {
            // The existing table the output replaces: read too, so the digest is the input's.
            let mut at = base;
            while at < data.len() {
                let n = cur.len().min(data.len().saturating_sub(at));
                let buf = cur.get_mut(..n).ok_or("buffer")?;
                read_at(buf, at)?;
                crate::hash::feed(buf, |step| h.update(step));
                at = at.saturating_add(n);
            }
            Some(h.finalize().to_vec())
        }
    };
    let table = make_table(&Hashed {
        image: &image_digest,
        file_sha256,
    })?;
    let table_at = base.checked_add(plan.pad).ok_or("file too large")?;
    let dir_address = u32::try_from(table_at).map_err(|_| "the file is larger than 4 GiB")?;
    let dir_size = u32::try_from(table.len()).map_err(|_| "certificate table larger than 4 GiB")?;
    let total_len = table_at.checked_add(table.len()).ok_or("file too large")? as u64;
    // The header as written: the security directory set, the CheckSum taken as zero.
    let mut head = kept.get(..head_len).unwrap_or_default().to_vec();
    let put = |buf: &mut Vec<u8>, off: u64, bytes: &[u8]| -> Result<(), String> {
        let at = usize::try_from(off).map_err(|e| e.to_string())?;
        buf.get_mut(at..at.saturating_add(bytes.len()))
            .ok_or("header field outside the header")?
            .copy_from_slice(bytes);
        Ok(())
    };
    let mut dir = [0u8; 8];
    dir[..4].copy_from_slice(&dir_address.to_le_bytes());
    dir[4..].copy_from_slice(&dir_size.to_le_bytes());
    put(&mut head, layout.security_dir_offset, &dir)?;
    put(&mut head, layout.checksum_offset, &[0; 4])?;
    // The tail: the last partial word of the kept bytes (as read: from the map, which the
    // unchanged check below vouches for), the padding, the table.
    let mut tail = kept.get(base4..base).unwrap_or_default().to_vec();
    tail.resize(tail.len().saturating_add(plan.pad), 0);
    tail.extend_from_slice(&table);
    let mut head_sum = crate::pe::checksum::Sum::new(layout.checksum_offset);
    head_sum.add(&head);
    let mut tail_sum = crate::pe::checksum::Sum::starting_at(layout.checksum_offset, base4 as u64);
    tail_sum.add(&tail);
    let checksum = crate::pe::checksum::Sum::value_of(&[&head_sum, &body, &tail_sum], total_len)
        .ok_or("CheckSum field not word-aligned")?;
    put(&mut head, layout.checksum_offset, &checksum.to_le_bytes())?;
    let f = pending.file();
    let io = (|| -> std::io::Result<()> {
        f.write_all(tail.get(base.saturating_sub(base4)..).unwrap_or_default())?;
        f.seek(SeekFrom::Start(0))?;
        f.write_all(&head)?;
        f.seek(SeekFrom::End(0))?;
        f.flush()
    })();
    io.map_err(|e| dest_err(&e))?;
    // The input must not have changed while it was read (the plan came from its old bytes).
    unchanged()?;
    let expected: Vec<std::ops::Range<usize>> = merge(&ranges, base..table_at);
    let known = crate::authenticode::verify::Known {
        digests: crate::authenticode::signature::DigestCache::seeded(alg, image_digest),
        checksum: Some(checksum),
    };
    let status = verify_written(pending.file(), dest, check, &expected, known)?;
    pending
        .finish(&[], Some(super::output::without_privileges(permissions)))
        .map_err(|e| dest_err(&e))?;
    Ok(Written {
        table_len: table.len(),
        status,
    })
}

/// `ranges` (sorted, disjoint) with `extra` added, touching ranges merged.
fn merge(
    ranges: &[std::ops::Range<usize>],
    extra: std::ops::Range<usize>,
) -> Vec<std::ops::Range<usize>> {
    let mut all: Vec<std::ops::Range<usize>> = ranges.to_vec();
    if extra.start < extra.end {
        all.push(extra);
    }
    all.sort_by_key(|r| r.start);
    let mut out: Vec<std::ops::Range<usize>> = Vec::with_capacity(all.len());
    for r in all {
        match out.last_mut() {
            Some(last) if last.end >= r.start => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// Verifies the written file as `bingate verify --require all` would: the image digest, every
/// signature and timestamp must verify. Without anchors the chain is not judged (a valid
/// signature reads "untrusted"); with them it must be valid. Then the SmartScreen-risk estimate
/// of the output, when a ceiling is set. An error or a refusal: the file is not kept.
fn verify_written(
    file: &fs::File,
    dest: &Path,
    check: &OutputCheck,
    hashed: &[std::ops::Range<usize>],
    known: crate::authenticode::verify::Known,
) -> Result<Status, Failure> {
    let meta = file.metadata().map_err(|e| e.to_string())?;
    let view = View::new(file, &meta).map_err(|e| e.to_string())?;
    // The digest was computed from the bytes written, over `hashed`: it is the file's image
    // digest when those are exactly the ranges the verifier's own reading of the written
    // headers gives. Then the file need not be read again (nor for the checksum, summed from
    // the same bytes).
    let layout = crate::pe::signing_layout(view.bytes()).map_err(|e| e.to_string())?;
    let covered = crate::authenticode::image::covered_ranges(view.bytes(), &layout)
        .map_err(|e| e.to_string())?;
    if merge(&covered, 0..0) != hashed {
        return Err(Failure::Error(format!(
            "internal error: the ranges hashed ({hashed:?}) are not the ranges the written file's \
             image hash covers ({covered:?}); nothing was written"
        )));
    }
    let none = crate::pki::trust::TrustStore::default();
    let env = crate::cms::verdict::VerifyEnv {
        anchors: check.trust.as_ref().unwrap_or(&none),
        at: check.at,
        strict: false,
        require_all: true,
        revoked: &|_, _| None,
    };
    let v = crate::authenticode::verify::verify_layout_with(view.bytes(), &layout, &env, known);
    // The signature bingate made: the primary one, or, nested, the last one (signatures
    // already in the file are what they are: an expired publisher's is not ours to judge).
    let ours = if check.nested {
        v.signatures.last()
    } else {
        v.signatures.first()
    };
    let status = ours.map_or(v.status, |s| s.status);
    let accepted = match status {
        Status::Valid => true,
        Status::Untrusted => check.trust.is_none(),
        _ => false,
    };
    if !accepted {
        return Err(Failure::Error(format!(
            "the signed output does not verify ({}: {}); nothing was written",
            status.as_str(),
            v.why(ours)
        )));
    }
    if let Some((ceiling, weights, anchors)) = &check.risk {
        let signing = crate::config::SigningConfig {
            trust: anchors.clone(),
            at: check.at,
            strict: false,
            require_all: false,
            revoked: Box::new(|_, _| None),
            module_certs: Vec::new(),
        };
        let report = crate::scan::examine(view.bytes(), dest, Some(&signing), Some(weights));
        let Some(estimate) = report.risk else {
            return Err(Failure::Error(
                "--risk-at-most: no SmartScreen-risk estimate for the output".into(),
            ));
        };
        if estimate.level > *ceiling {
            let evidence: Vec<String> = estimate
                .evidence
                .iter()
                .map(|e| format!("{} (+{}): {}", e.id, e.weight, e.detail))
                .collect();
            return Err(Failure::Refused(format!(
                "the signed output's SmartScreen-risk estimate is {} (score {}), above --risk-at-most {}: {}; nothing was written",
                estimate.level.as_str(),
                estimate.score,
                ceiling.as_str(),
                evidence.join("; ")
            )));
        }
    }
    Ok(status)
}

/// A timestamper over `urls` in order, each tried `retries` times with `timeout`.
fn timestamper(
    urls: Vec<String>,
    digest: DigestAlg,
    timeout: Duration,
    retries: u32,
) -> impl Fn(&[u8]) -> Result<Vec<u8>, String> + Sync {
    move |signature: &[u8]| {
        let imprint = crate::hash::digest(digest, signature).ok_or("unsupported digest")?;
        let mut errors = Vec::new();
        for url in &urls {
            for _ in 0..retries.max(1) {
                match super::tsp::request(&super::tsp::TsaRequest {
                    url,
                    digest,
                    imprint: &imprint,
                    timeout,
                }) {
                    Ok(t) => return Ok(t.der),
                    Err(e) => errors.push(e.to_string()),
                }
            }
        }
        Err(errors.join("; "))
    }
}

fn parse_time(t: Option<&str>) -> Result<u64, String> {
    match t {
        None => Ok(now()),
        Some(s) => crate::time::parse_rfc3339(s)
            .ok_or_else(|| format!("--time {s}: not an RFC 3339 time (e.g. 2026-01-31T12:00:00Z)")),
    }
}

/// What [`sign_file`] signs with besides the key (the server's whole-file endpoint).
#[derive(Debug, Clone)]
pub struct PeFileOptions {
    /// The image hash's and the signature's digest algorithm (not MD5).
    pub digest: DigestAlg,
    /// SpcSpOpusInfo program name and URL.
    pub description: Option<String>,
    pub url: Option<String>,
    /// Time (Unix seconds) at which the output's own verification judges certificates.
    pub at: u64,
}

/// A signed PE file: what was signed and the signature put in its certificate table.
#[derive(Debug, Clone)]
pub struct PeSigned {
    pub digest_alg: DigestAlg,
    /// The output's image digest, as signed.
    pub image_digest: Vec<u8>,
    /// The PKCS#7 DER put in the table.
    pub signature: Vec<u8>,
    /// The timestamp's time (Unix seconds), when the key timestamps.
    pub timestamp_time: Option<u64>,
    /// The output's own verification (`untrusted` when no anchors judged the chain).
    pub status: Status,
}

/// Signs `input` with `key` and writes the signed file to `dest` atomically: one pass over the
/// input, the signature replacing an existing one, the output verified before it is renamed
/// into place (its chain not judged). No policy gate and no SmartScreen-risk ceiling: the
/// caller (the server) gates before.
pub fn sign_file(
    input: &Path,
    dest: &Path,
    key: &crate::sign::digest::KeyMaterial<'_>,
    opts: &PeFileOptions,
) -> Result<PeSigned, Failure> {
    if opts.digest == DigestAlg::Md5 {
        return Err("MD5 is not accepted for signing".into());
    }
    let check = OutputCheck {
        at: opts.at,
        nested: false,
        trust: None,
        risk: None,
    };
    let opus = Opus {
        description: opts.description.clone(),
        url: opts.url.clone(),
    };
    let job = Job {
        digest: opts.digest,
        opus: &opus,
        page_hashes: false,
        nest: false,
    };
    let done = sign_with_key(input, dest, key, &job, &check, None, &mut std::io::sink())?;
    Ok(done.signed)
}

/// How a local key signs: the options of `sign pe` that shape the signature.
struct Job<'a> {
    digest: DigestAlg,
    opus: &'a Opus,
    page_hashes: bool,
    nest: bool,
}

/// A signing run's outcome: the signed file, and what the summary line says.
struct Done {
    signed: PeSigned,
    table_len: usize,
    /// An existing signature was replaced.
    replaced: bool,
}

/// Signs with resolved key material (a key file, a PKCS#12 file, a token; the server's keys).
fn sign_with_key(
    input: &Path,
    dest: &Path,
    key: &crate::sign::digest::KeyMaterial<'_>,
    job: &Job<'_>,
    check: &OutputCheck,
    policy: Option<&crate::policy::Policy>,
    out: &mut dyn Write,
) -> Result<Done, Failure> {
    let signing = Signing {
        signer: key.signer,
        cert: key.cert,
        chain: key.chain,
        digest: job.digest,
        opus: job.opus,
        timestamp: key.timestamper,
    };
    sign_input(
        input,
        dest,
        job.digest,
        job.nest,
        check,
        policy.map(|p| (p, out)),
        false,
        |plan, data, hashed| {
            let pages = if job.page_hashes {
                Some(plan.page_hashes(data, job.digest)?)
            } else {
                None
            };
            let indirect = indirect_data(
                job.digest,
                hashed.image,
                pages.as_ref().map(|(a, t)| (*a, t.as_slice())),
            )
            .map_err(|e| e.to_string())?;
            Ok(signed_data(&signing, &indirect).map_err(|e| e.to_string())?)
        },
    )
}

/// The steps every `sign pe` run shares, whoever makes the signature: open the input (a PE),
/// the policy gate, the plan, the one pass (`write_signed`, with the whole input's SHA-256 when
/// `file_sha256`), and the table around the signature `make_signature` returns for the image
/// digest (nested into the existing one with `nest`).
#[allow(clippy::too_many_arguments)]
fn sign_input(
    input: &Path,
    dest: &Path,
    digest: DigestAlg,
    nest: bool,
    check: &OutputCheck,
    gate_with: Option<(&crate::policy::Policy, &mut dyn Write)>,
    file_sha256: bool,
    make_signature: impl FnOnce(&Plan, &[u8], &Hashed<'_>) -> Result<Vec<u8>, Failure>,
) -> Result<Done, Failure> {
    let input_name = input.display().to_string();
    let in_err = |e: &dyn std::fmt::Display| format!("{input_name}: {e}");
    let (file, meta) = open_input(input).map_err(|e| in_err(&e))?;
    let view = View::new(&file, &meta).map_err(|e| in_err(&e))?;
    let data = view.bytes();
    if !matches!(
        crate::detect::sniff_bytes(data),
        crate::detect::Sniffed::Binary(crate::facts::Format::Pe)
    ) {
        return Err(in_err(&"not a PE file (`sign elf` signs ELF files)").into());
    }
    if let Some((p, out)) = gate_with {
        gate(p, data, input, check.at, out)?;
    }
    let plan = Plan::new(data, nest).map_err(|e| in_err(&e))?;
    let replaced = !nest && plan.base_len < data.len();
    // (image digest, the new signature, the DER put in the table)
    let mut made: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = None;
    let make_table = |hashed: &Hashed<'_>| -> Result<Vec<u8>, Failure> {
        let new = make_signature(&plan, data, hashed)?;
        let (der, others) = match &plan.existing {
            None => (new.clone(), &[][..]),
            Some((primary, others)) => (
                nest_into(primary, &new).map_err(|e| e.to_string())?,
                others.as_slice(),
            ),
        };
        let mut t = win_certificate(&der, WIN_CERT_REVISION_2_0, WIN_CERT_TYPE_PKCS_SIGNED_DATA)?;
        t.extend_from_slice(others);
        made = Some((hashed.image.to_vec(), new, der));
        Ok(t)
    };
    let unchanged = || input_unchanged(&view, &file, &meta);
    let written = write_signed(
        &file,
        data,
        &plan,
        dest,
        meta.permissions(),
        digest,
        check,
        file_sha256,
        make_table,
        &unchanged,
    )
    .map_err(|e| match e {
        Failure::Error(e) => Failure::Error(in_err(&e)),
        Failure::Refused(e) => Failure::Refused(in_err(&e)),
    })?;
    let (image_digest, new, signature) =
        made.ok_or_else(|| in_err(&"internal error: no signature was made"))?;
    Ok(Done {
        signed: PeSigned {
            digest_alg: digest,
            image_digest,
            timestamp_time: timestamp_time(&new).ok(),
            signature,
            status: written.status,
        },
        table_len: written.table_len,
        replaced,
    })
}

/// The time (Unix seconds) of the timestamp on the signature `der` (a ContentInfo SignedData
/// with one SignerInfo): an error when it has none or it cannot be read.
pub(crate) fn timestamp_time(der: &[u8]) -> Result<u64, String> {
    let opened = crate::cms::open::open(der, "the signature").map_err(|e| e.to_string())?;
    let si = opened
        .only_signer()
        .ok_or("the signature does not have exactly one SignerInfo")?;
    let first = crate::cms::timestamp::read(si, opened.certificates())
        .into_iter()
        .next()
        .ok_or("the signature carries no timestamp")?;
    first.map(|t| t.time)
}

/// The run settings `sign pe` resolves the same way for a local key and a server: the policy,
/// the output's check, the destination.
fn resolve_run(
    args: &SignPeArgs,
) -> Result<(Option<crate::policy::Policy>, OutputCheck, PathBuf), Failure> {
    let at = parse_time(args.time.as_deref())?;
    let policy = match &args.policy {
        Some(spec) => Some(crate::policy::load(spec, &[]).map_err(|e| e.to_string())?),
        None => None,
    };
    let anchors = |default_store: bool| {
        crate::pki::trust::load(&crate::pki::trust::TrustOptions {
            default_store,
            ctl: None,
            system: false,
            extra: args.trust.clone(),
        })
        .map_err(|e| e.to_string())
    };
    let check = OutputCheck {
        at,
        nested: args.nest,
        trust: if args.trust.is_empty() {
            None
        } else {
            Some(anchors(false)?)
        },
        risk: match &args.risk_at_most {
            None => None,
            Some(level) => Some((
                crate::risk::RiskLevel::parse(level)
                    .ok_or("--risk-at-most: low, medium or high")?,
                policy
                    .as_ref()
                    .map_or_else(crate::risk::Weights::default, |p| p.risk.clone()),
                anchors(true)?,
            )),
        },
    };
    let dest = match (&args.output, args.in_place) {
        (Some(o), _) => o.clone(),
        (None, true) => args.file.clone(),
        (None, false) => return Err("one of --output or --in-place is required".into()),
    };
    Ok((policy, check, dest))
}

/// `bingate sign pe`: signs the input and writes the destination; a one-line summary goes to
/// `out`. With `--server`, the server signs the image digest (`sign_remote`).
pub fn sign(args: SignPeArgs, out: &mut dyn Write) -> Result<(), Failure> {
    if args.remote.server.is_some() {
        return sign_remote(args, out);
    }
    let (signer, cert, chain) = args.keys.resolve()?;
    for u in &args.timestamp_url {
        super::command::check_timestamp_url(u)?;
    }
    let (policy, check, dest) = resolve_run(&args)?;
    let digest = args.digest.alg();
    let opus = Opus {
        description: args.description.clone(),
        url: args.url.clone(),
    };
    let stamp = timestamper(
        args.timestamp_url.clone(),
        digest,
        Duration::from_secs(args.timestamp_timeout),
        args.timestamp_retries,
    );
    let key = crate::sign::digest::KeyMaterial {
        signer: signer.as_ref() as &dyn Signer,
        cert: &cert,
        chain: &chain,
        timestamper: (!args.timestamp_url.is_empty()).then_some(&stamp as _),
    };
    let job = Job {
        digest,
        opus: &opus,
        page_hashes: args.page_hashes,
        nest: args.nest,
    };
    let done = sign_with_key(
        &args.file,
        &dest,
        &key,
        &job,
        &check,
        policy.as_ref(),
        &mut *out,
    )?;
    let mut notes = Vec::new();
    if !args.timestamp_url.is_empty() {
        notes.push("timestamped".to_owned());
    }
    if args.page_hashes {
        notes.push("page hashes".to_owned());
    }
    if args.nest {
        notes.push("nested into the existing signature".to_owned());
    }
    if done.replaced {
        notes.push("replaced the existing signature".to_owned());
    }
    writeln!(
        out,
        "signed {} -> {} (Authenticode, {}, {} bytes of certificate table, signer {}{}{}; verifies: {})",
        args.file.display(),
        dest.display(),
        digest.name(),
        done.table_len,
        cert.tbs_certificate.subject,
        if notes.is_empty() { "" } else { ", " },
        notes.join(", "),
        done.signed.status.as_str(),
    )
    .map_err(|e| Failure::Error(e.to_string()))
}

/// A failed call to the signing server: the server's policy refusal is a refusal (exit 1),
/// anything else an error.
fn server_failure(e: &super::remote::client::ClientError) -> Failure {
    use super::remote::client::ClientError;
    match e {
        ClientError::Api { body, .. } if body.error.code == "policy_refused" => {
            Failure::Refused(e.to_string())
        }
        _ => Failure::Error(e.to_string()),
    }
}

/// Checks the signature a signing server returned for a digest request: a ContentInfo
/// SignedData whose SpcIndirectDataContent names `image` with `alg` (the image digest computed
/// here), and, when `cert` is given (the key's certificate as the server lists it), signed by
/// that certificate. The signature itself is verified with the written file.
pub fn check_server_signature(
    der: &[u8],
    alg: DigestAlg,
    image: &[u8],
    cert: Option<&[u8]>,
) -> Result<(), String> {
    let (signed_alg, signed) = crate::authenticode::build::signed_image_digest(der)
        .map_err(|e| format!("the server's answer is not an Authenticode signature: {e}"))?;
    if signed_alg != alg || signed != image {
        return Err(format!(
            "the server signed something else: its signature names the image digest {} ({}), \
             but this file's is {} ({}); nothing was written",
            crate::read::hex(&signed),
            signed_alg.name(),
            crate::read::hex(image),
            alg.name()
        ));
    }
    if let Some(expected) = cert {
        let opened = crate::cms::open::open(der, "the server's signature")
            .map_err(|e| format!("the server's signature: {e}"))?;
        let signer = opened
            .only_signer()
            .and_then(|si| opened.signer_cert(&si.sid))
            .ok_or("the server's signature does not carry its signer's certificate")?;
        let der_cert = der::Encode::to_der(signer).map_err(|e| e.to_string())?;
        if der_cert != expected {
            return Err(format!(
                "the server signed with the certificate of {}, not the one it lists for the key; nothing was written",
                signer.tbs_certificate.subject
            ));
        }
    }
    Ok(())
}

/// `bingate sign pe --server`: the plan made here, one pass over the input that writes the
/// output's body and computes the image digest and the input's SHA-256, one digest request to
/// the server (which builds, signs and timestamps the signature), the answer checked to sign
/// this image digest with the key's certificate, put in the table, the output verified and
/// renamed into place. The file never leaves this machine: a few KB cross the wire.
///
/// The client's check report of the file goes with the request as evidence when the server
/// lists a policy for the key (the server judges a digest-only request on it); otherwise none
/// is sent, as examining the file costs a second read of it.
fn sign_remote(args: SignPeArgs, out: &mut dyn Write) -> Result<(), Failure> {
    use super::remote::{DigestRequest, Format, hex, unb64};
    let refused = [
        (args.keys.cert.is_some(), "--cert"),
        (args.keys.chain.is_some(), "--chain"),
        (args.keys.pass.is_some(), "--pass"),
        (args.keys.passphrase_file.is_some(), "--passphrase-file"),
    ];
    if let Some((_, flag)) = refused.iter().find(|(given, _)| *given) {
        return Err(format!(
            "{flag} with --server: the server holds the key and its certificates (--key names the server's key)"
        )
        .into());
    }
    if !args.timestamp_url.is_empty() {
        return Err(
            "--timestamp-url with --server: the server timestamps with the key's own time-stamping authorities"
                .into(),
        );
    }
    if args.nest {
        return Err("--nest with --server: the server builds a primary signature only (nesting needs the existing signature, which stays on this machine)".into());
    }
    if args.page_hashes {
        return Err("--page-hashes with --server: page hashes are not offered by the server's digest-only signing".into());
    }
    let (policy, check, dest) = resolve_run(&args)?;
    let (client, url) = args
        .remote
        .client()?
        .ok_or("--server is required for a server key")?;
    let name = args.keys.key.clone();
    let info = client.key(&name).map_err(|e| server_failure(&e))?;
    if !info.formats.contains(&Format::Pe) {
        return Err(format!(
            "--key {name}: the server's key signs {}, not pe",
            info.formats
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
        .into());
    }
    let key_cert = unb64(&info.certificate).ok_or_else(|| {
        format!("--key {name}: the server lists a certificate that is not base64")
    })?;
    let digest = args.digest.alg();
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut response = None;
    let done = sign_input(
        &args.file,
        &dest,
        digest,
        false,
        &check,
        match policy.as_ref() {
            Some(p) => Some((p, &mut *out)),
            None => None,
        },
        true,
        |_plan, data, hashed| {
            let evidence = match &info.policy {
                None => None,
                Some(_) => Some(
                    serde_json::to_value(crate::scan::examine(data, &args.file, None, None))
                        .map_err(|e| format!("the check report of the file: {e}"))?,
                ),
            };
            let request = DigestRequest {
                key: name.clone(),
                format: Format::Pe,
                file_name,
                file_sha256: hex(hashed.file_sha256.as_deref().unwrap_or_default()),
                digest_alg: digest.name().to_owned(),
                digest: hex(hashed.image),
                manifest: None,
                description: args.description.clone(),
                url: args.url.clone(),
                evidence,
            };
            let answer = client
                .sign_digest(&request)
                .map_err(|e| server_failure(&e))?;
            let der = unb64(&answer.signature)
                .ok_or("the server's signature is not base64; nothing was written")?;
            check_server_signature(&der, digest, hashed.image, Some(&key_cert))?;
            response = Some(answer);
            Ok(der)
        },
    )?;
    let mut notes = Vec::new();
    if done.signed.timestamp_time.is_some() {
        notes.push("timestamped".to_owned());
    }
    if done.replaced {
        notes.push("replaced the existing signature".to_owned());
    }
    let audit = response.map_or_else(|| "?".to_owned(), |r| r.audit_seq.to_string());
    writeln!(
        out,
        "signed {} -> {} (Authenticode, {}, {} bytes of certificate table, signer {}{}{}; verifies: {}) (server {}, key {}, audit record {audit})",
        args.file.display(),
        dest.display(),
        digest.name(),
        done.table_len,
        crate::escape::text(&info.subject),
        if notes.is_empty() { "" } else { ", " },
        notes.join(", "),
        done.signed.status.as_str(),
        url,
        crate::escape::text(&name),
    )
    .map_err(|e| Failure::Error(e.to_string()))
}

/// The policy gate before signing: the input's facts judged by `policy` (signature rules are
/// not judged: nothing is verified); a failing deny rule refuses, with every failing finding
/// written to `out`.
fn gate(
    policy: &crate::policy::Policy,
    data: &[u8],
    path: &Path,
    at: u64,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    use crate::policy::{Level, Status as Verdict};
    let report = crate::scan::examine(data, path, None, None);
    let mut ev = crate::policy::Evaluator::new(policy, crate::policy::Date::from_unix(at));
    let findings = ev.evaluate(&report.subject());
    let failing: Vec<_> = findings
        .iter()
        .filter(|f| f.status == Verdict::Fail)
        .collect();
    let denied = failing.iter().filter(|f| f.level == Level::Deny).count();
    if denied == 0 {
        return Ok(());
    }
    let io = |e: std::io::Error| Failure::Error(e.to_string());
    for f in &failing {
        writeln!(out, "{:<6} {}: {}", f.level.as_str(), f.rule, f.message).map_err(io)?;
        if let Some(fix) = &f.remediation {
            writeln!(out, "       fix: {fix}").map_err(io)?;
        }
    }
    Err(Failure::Refused(format!(
        "{}: {denied} deny rule{} of policy {} failed; not signed",
        path.display(),
        if denied == 1 { "" } else { "s" },
        policy.name
    )))
}

/// `bingate signature` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum SignatureCommand {
    /// Remove the Authenticode signature: the output's image hash is the one the signature
    /// signed (osslsigncode remove-signature).
    Remove(RemoveArgs),
    /// Write a PE file's PKCS#7 signature (DER) to a file (osslsigncode extract-signature).
    Extract(ExtractArgs),
    /// Embed a detached PKCS#7 signature after checking that it signs this file's image hash
    /// (osslsigncode attach-signature).
    Attach(AttachArgs),
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("destination").required(true).args(["output", "in_place"])))]
pub struct RemoveArgs {
    #[arg(long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    #[arg(long)]
    pub in_place: bool,
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct ExtractArgs {
    /// Where to write the DER.
    #[arg(long, value_name = "OUT")]
    pub output: PathBuf,
    /// Which certificate table entry (0: the first).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub index: usize,
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("destination").required(true).args(["output", "in_place"])))]
pub struct AttachArgs {
    /// The detached PKCS#7 signature (DER).
    #[arg(long, value_name = "P7")]
    pub signature: PathBuf,
    /// Time at which the output's own verification judges certificates (RFC 3339).
    #[arg(long, value_name = "RFC3339", hide = true)]
    pub time: Option<String>,
    #[arg(long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    #[arg(long)]
    pub in_place: bool,
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

fn destination(output: &Option<PathBuf>, in_place: bool, file: &Path) -> PathBuf {
    output.clone().unwrap_or_else(|| {
        debug_assert!(in_place);
        file.to_path_buf()
    })
}

/// Runs a `bingate signature` subcommand.
pub fn signature(cmd: SignatureCommand, out: &mut dyn Write) -> Result<(), String> {
    match cmd {
        SignatureCommand::Extract(a) => {
            let name = a.file.display().to_string();
            let (file, meta) = open_input(&a.file).map_err(|e| format!("{name}: {e}"))?;
            let view = View::new(&file, &meta).map_err(|e| format!("{name}: {e}"))?;
            let data = view.bytes();
            let layout = crate::pe::signing_layout(data).map_err(|e| format!("{name}: {e}"))?;
            let t = table::read(data, &layout)
                .map_err(|e| format!("{name}: {e}"))?
                .ok_or_else(|| format!("{name}: not signed (no certificate table)"))?;
            let e = t.entries.get(a.index).ok_or_else(|| {
                format!(
                    "{name}: the certificate table has {} entries; there is no entry {}",
                    t.entries.len(),
                    a.index
                )
            })?;
            let pending = super::output::begin(&a.output)
                .map_err(|e| format!("{}: {e}", a.output.display()))?;
            pending
                .finish(e.der, None)
                .map_err(|e| format!("{}: {e}", a.output.display()))?;
            writeln!(
                out,
                "extracted entry {} of {name} -> {} ({} bytes of DER)",
                a.index,
                a.output.display(),
                e.der.len()
            )
            .map_err(|e| e.to_string())
        }
        SignatureCommand::Remove(a) => {
            let name = a.file.display().to_string();
            let dest = destination(&a.output, a.in_place, &a.file);
            let (file, meta) = open_input(&a.file).map_err(|e| format!("{name}: {e}"))?;
            let view = View::new(&file, &meta).map_err(|e| format!("{name}: {e}"))?;
            let data = view.bytes();
            let plan = Plan::new(data, false).map_err(|e| format!("{name}: {e}"))?;
            if plan.base_len == data.len() {
                return Err(format!("{name}: not signed (no certificate table)"));
            }
            let removed = data.len().saturating_sub(plan.base_len);
            let unchanged = || input_unchanged(&view, &file, &meta);
            write_unsigned(data, &plan, &dest, meta.permissions(), &unchanged)
                .map_err(|e| format!("{name}: {e}"))?;
            writeln!(
                out,
                "removed the signature of {name} -> {} ({removed} bytes of certificate table)",
                dest.display()
            )
            .map_err(|e| e.to_string())
        }
        SignatureCommand::Attach(a) => {
            let name = a.file.display().to_string();
            let dest = destination(&a.output, a.in_place, &a.file);
            let at = parse_time(a.time.as_deref())?;
            let der = read(&a.signature, "--signature")?;
            let (alg, signed) = crate::authenticode::build::signed_image_digest(&der)
                .map_err(|e| format!("--signature {}: {e}", a.signature.display()))?;
            let (file, meta) = open_input(&a.file).map_err(|e| format!("{name}: {e}"))?;
            let view = View::new(&file, &meta).map_err(|e| format!("{name}: {e}"))?;
            let data = view.bytes();
            let plan = Plan::new(data, false).map_err(|e| format!("{name}: {e}"))?;
            if plan.base_len != data.len() {
                return Err(format!(
                    "{name}: already signed; remove the signature first (`bingate signature remove`)"
                ));
            }
            // The digest of what is written must be the one the signature signs.
            let sig_name = a.signature.display().to_string();
            let make_table = |hashed: &Hashed<'_>| -> Result<Vec<u8>, Failure> {
                let image = hashed.image;
                if image != signed.as_slice() {
                    return Err(Failure::Error(format!(
                        "--signature {sig_name}: it signs the image hash {}, but this file's is {} ({}); nothing was written",
                        crate::read::hex(&signed),
                        crate::read::hex(image),
                        alg.name()
                    )));
                }
                Ok(win_certificate(
                    &der,
                    WIN_CERT_REVISION_2_0,
                    WIN_CERT_TYPE_PKCS_SIGNED_DATA,
                )?)
            };
            let unchanged = || input_unchanged(&view, &file, &meta);
            let check = OutputCheck {
                at,
                nested: false,
                trust: None,
                risk: None,
            };
            let written = write_signed(
                &file,
                data,
                &plan,
                &dest,
                meta.permissions(),
                alg,
                &check,
                false,
                make_table,
                &unchanged,
            )
            .map_err(|e| format!("{name}: {e}"))?;
            writeln!(
                out,
                "attached {} to {name} -> {} ({} bytes of certificate table; verifies: {})",
                a.signature.display(),
                dest.display(),
                written.table_len,
                written.status.as_str()
            )
            .map_err(|e| e.to_string())
        }
    }
}

/// Writes `data` without its certificate table: the kept bytes, the security directory
/// cleared and the CheckSum recomputed (when the input had one).
fn write_unsigned(
    data: &[u8],
    plan: &Plan,
    dest: &Path,
    permissions: fs::Permissions,
    unchanged: &dyn Fn() -> Result<(), String>,
) -> Result<(), String> {
    let dest_err = |e: &dyn std::fmt::Display| format!("{}: {e}", dest.display());
    let kept = data.get(..plan.base_len).unwrap_or_default();
    let layout = &plan.layout;
    let head_end = plan.head_len(kept.len())?;
    let mut head = kept
        .get(..head_end)
        .ok_or("header fields outside the file")?
        .to_vec();
    let sd = usize::try_from(layout.security_dir_offset).map_err(|e| e.to_string())?;
    let ck = usize::try_from(layout.checksum_offset).map_err(|e| e.to_string())?;
    head.get_mut(sd..sd.saturating_add(8))
        .ok_or("security directory outside the file")?
        .fill(0);
    let stored = head
        .get(ck..ck.saturating_add(4))
        .map(|b| b.iter().any(|x| *x != 0))
        .unwrap_or(false);
    head.get_mut(ck..ck.saturating_add(4))
        .ok_or("CheckSum outside the file")?
        .fill(0);
    let rest = kept.get(head_end..).unwrap_or_default();
    if stored {
        // `head_end` is a multiple of 4 (or the end): the two pieces keep word alignment.
        let mut sum = crate::pe::checksum::Sum::new(layout.checksum_offset);
        sum.add(&head);
        sum.add(rest);
        let c = sum.value().ok_or("CheckSum field not word-aligned")?;
        head.get_mut(ck..ck.saturating_add(4))
            .ok_or("CheckSum outside the file")?
            .copy_from_slice(&c.to_le_bytes());
    }
    let mut pending = super::output::begin(dest).map_err(|e| dest_err(&e))?;
    let f = pending.file();
    (|| -> std::io::Result<()> {
        f.write_all(&head)?;
        for chunk in rest.chunks(CHUNK) {
            f.write_all(chunk)?;
        }
        f.flush()
    })()
    .map_err(|e| dest_err(&e))?;
    unchanged()?;
    pending
        .finish(&[], Some(super::output::without_privileges(permissions)))
        .map_err(|e| dest_err(&e))
}
