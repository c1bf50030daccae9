//! Examining one file: open, size budget, sniff, map, hash, parse.

use crate::read::hex;
use std::fs::File;

use super::walk::Candidate;
use crate::config::SigningConfig;
use crate::detect::{SNIFF_LEN, Sniffed, sniff};
use crate::error::{Error, ErrorKind, FileError};
use crate::facts::Format;
use crate::report::{FileReport, Severity, SkipReason, Skipped};
use crate::{elf, pe};

/// What examining a candidate produced.
pub enum Outcome {
    File(Box<FileReport>),
    /// A container (or a PE carrying an installer payload) and the entries found inside it,
    /// in the order the report shows them: the container first.
    Many(Vec<FileReport>),
    Skipped(Skipped),
}

impl Outcome {
    fn file(r: FileReport) -> Outcome {
        Outcome::File(Box::new(r))
    }
}

/// What the SmartScreen-risk estimate needs beyond the file itself.
pub struct RiskContext<'a> {
    pub weights: &'a crate::risk::Weights,
    pub companions: &'a super::companions::Companions<'a>,
}

/// What a run computes for each file: only what its output and its policy use.
#[derive(Clone, Copy)]
pub struct Work<'a> {
    /// Verify signatures with these settings.
    pub signing: Option<&'a SigningConfig>,
    /// Read the hardening facts (`verify` reports identity and signatures only).
    pub facts: bool,
    /// Compute the file's SHA-256 (when the report shows it or a waiver matches by hash).
    pub sha256: bool,
    /// Compute a PE file's checksum (when the report shows it, the policy judges it, or the
    /// risk estimate weighs it).
    pub pe_checksum: bool,
    /// Estimate the SmartScreen risk (PE files, with `signing`).
    pub risk: Option<&'a RiskContext<'a>>,
    /// `--exclude` globs: entries inside containers are matched against them
    /// (`archive.zip!/dir/file.dll`, relative to the root the container was found under).
    pub excludes: &'a crate::glob::RootGlobs,
}

/// Where the bytes being examined come from.
#[derive(Clone, Copy)]
pub(super) enum Place<'a> {
    /// A file the walk found.
    File(&'a Candidate),
    /// An entry of a container: its name (the last component of its path inside the
    /// container), and the Mark of the Web of the top-level file it came in (what Windows gives
    /// the files it extracts).
    Inside {
        name: &'a str,
        mark_of_the_web: Option<&'a crate::risk::motw::MarkOfTheWeb>,
    },
}

pub fn check(c: &Candidate, max_file_size: u64, work: Work<'_>) -> Outcome {
    let display = c.path.display().to_string();
    let io_error = |e: &std::io::Error| {
        Outcome::file(FileReport::error(
            display.clone(),
            None,
            None,
            None,
            FileError::from(e),
            Severity::ToolError,
        ))
    };
    // Never blocks on a FIFO swapped in since the walk: O_NONBLOCK, then fstat (src/input.rs).
    let mut file = match crate::input::open_regular(&c.path) {
        Ok(f) => f,
        Err(e) => return io_error(&e),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return io_error(&e),
    };
    if !meta.is_file() {
        // Named explicitly (walked special files never reach here): never read a FIFO or device.
        return Outcome::file(FileReport::error(
            display,
            None,
            None,
            None,
            FileError::not_regular(),
            Severity::ToolError,
        ));
    }
    let size = meta.len();
    let mut head = [0u8; crate::container::SNIFF_LEN];
    let head_len = match read_head(&mut file, &mut head) {
        Ok(n) => n,
        Err(e) => return io_error(&e),
    };
    let head = head.get(..head_len).unwrap_or_default();

    // Sniffing needs 4 bytes at e_lfanew; read them with a positioned read, not a whole map.
    let sniffed = sniff(head.get(..SNIFF_LEN).unwrap_or(head), |off| {
        read_at(&file, off)
    });
    let format = match sniffed {
        Sniffed::Binary(f) => f,
        Sniffed::Other { magic, len } => {
            if let Some(kind) = crate::container::sniff(head) {
                if let Some(outcome) = check_container(c, &file, &meta, kind, max_file_size, work) {
                    return outcome;
                }
            }
            if !c.explicit {
                return Outcome::Skipped(Skipped {
                    path: display,
                    reason: SkipReason::NotBinary,
                });
            }
            let e = Error::new(ErrorKind::NotABinary { magic, len }, None);
            return Outcome::file(FileReport::error(
                display,
                None,
                Some(size),
                None,
                e.into(),
                Severity::ToolError,
            ));
        }
    };
    if size > max_file_size {
        let e = Error::budget("bytes in file", size, max_file_size, None);
        return Outcome::file(FileReport::error(
            display,
            None,
            Some(size),
            Some(format),
            e.into(),
            Severity::Examined,
        ));
    }
    let contents = match load(&file, &meta) {
        Ok(c) => c,
        Err(e) => return io_error(&e),
    };
    let report = examine_bytes(
        display.clone(),
        Place::File(c),
        contents.bytes(),
        format,
        work,
    );
    let outcome =
        match super::inside::installer_payload(&report, contents.bytes(), c, max_file_size, work) {
            Some(reports) => Outcome::Many(reports),
            None => Outcome::file(report),
        };
    if let Err(e) = still_the_same(&file, &meta, &contents) {
        return io_error(&e);
    }
    outcome
}

/// A file that shrank or was rewritten while mapped: the report was made from bytes that are
/// not the file's, so it is replaced by an error for this file (src/mapped.rs).
fn still_the_same(
    file: &File,
    meta: &std::fs::Metadata,
    contents: &Contents,
) -> std::io::Result<()> {
    if let Contents::Mapped(m) = contents {
        if m.faulted() {
            return Err(std::io::Error::other(
                "file shrank while being read (a page past its new end was read)",
            ));
        }
        file.metadata()
            .and_then(|after| crate::input::unchanged(meta, &after))?;
    }
    Ok(())
}

/// A file whose first bytes say it is a container: walked like a directory. `None` when it
/// turns out not to be one (a compound file that is not an installer database), so the caller
/// treats it as any other non-binary file.
fn check_container(
    c: &Candidate,
    file: &File,
    meta: &std::fs::Metadata,
    kind: crate::container::Kind,
    max_file_size: u64,
    work: Work<'_>,
) -> Option<Outcome> {
    let display = c.path.display().to_string();
    let size = meta.len();
    if size > max_file_size {
        let e = Error::budget("bytes in file", size, max_file_size, None);
        let mut r = FileReport::error(
            display,
            None,
            Some(size),
            None,
            e.into(),
            Severity::Examined,
        );
        r.container = Some(crate::container::Summary::new(kind));
        return Some(Outcome::file(r));
    }
    let contents = match load(file, meta) {
        Ok(c) => c,
        Err(e) => {
            return Some(Outcome::file(FileReport::error(
                display,
                None,
                Some(size),
                None,
                FileError::from(&e),
                Severity::ToolError,
            )));
        }
    };
    let reports = super::inside::top_level(c, contents.bytes(), kind, max_file_size, work)?;
    if let Err(e) = still_the_same(file, meta, &contents) {
        return Some(Outcome::file(FileReport::error(
            display,
            None,
            Some(size),
            None,
            FileError::from(&e),
            Severity::ToolError,
        )));
    }
    Some(match reports {
        super::inside::Found::Reports(v) => Outcome::Many(v),
        super::inside::Found::Nothing => Outcome::Skipped(Skipped {
            path: display,
            reason: SkipReason::NotBinary,
        }),
    })
}

/// Files at most this size, and sparse files, are read into memory (the holes of a sparse file
/// are never touched: src/input.rs); other files are mapped under the SIGBUS guard of
/// src/mapped.rs, which says why and what it costs.
const READ_THRESHOLD: u64 = 64 * 1024;

pub(super) enum Contents {
    Read(Vec<u8>),
    Mapped(crate::mapped::Mapped),
}

impl Contents {
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Contents::Read(v) => v,
            Contents::Mapped(m) => m.bytes(),
        }
    }
}

pub(super) fn load(file: &File, meta: &std::fs::Metadata) -> std::io::Result<Contents> {
    let size = meta.len();
    if size > READ_THRESHOLD && !crate::input::is_sparse(file, size)? {
        if let Some(mapped) = crate::mapped::Mapped::new(file) {
            return mapped.map(Contents::Mapped);
        }
    }
    crate::input::read_snapshot(file, meta).map(Contents::Read)
}

/// Everything `check` does once a file's bytes are in memory: hash, facts, signature and risk,
/// side by side. Public through [`examine`] for the mutation harness and fuzzers.
pub(super) fn examine_bytes(
    display: String,
    place: Place<'_>,
    data: &[u8],
    format: Format,
    work: Work<'_>,
) -> FileReport {
    let Work {
        signing,
        facts,
        sha256: want_sha256,
        pe_checksum,
        risk,
        excludes: _,
    } = work;
    let size = data.len() as u64;
    let want_risk = risk.filter(|_| facts && signing.is_some() && format == Format::Pe);
    // A PE file's headers are parsed once, for the facts, the signature and the risk estimate.
    let pe_headers = (format == Format::Pe).then(|| pe::PeHeaders::parse(data));
    let headers = pe_headers.as_ref().map(|r| r.as_ref());
    // The file hash, the facts, the signature and (for the risk estimate) the content each read
    // the whole file: run them side by side so a large file costs about one pass of wall time.
    // With the risk estimate, the content pass also computes the file hash and the PE checksum
    // when they are wanted (one read of every block for all three); the facts then skip theirs.
    let checksum_in_content = want_risk.is_some() && matches!(headers, Some(Ok(_)));
    let ((sha256, content, content_checksum), (facts, signature)) = rayon::join(
        || match (want_sha256, want_risk, headers) {
            (_, Some(_), Some(Ok(h))) => {
                let also = pe::content::Also {
                    sha256: want_sha256,
                    checksum: true,
                };
                let (content, pass) = pe::content_resources_of(data, h, also);
                let digest =
                    want_sha256.then(|| pass.digest.unwrap_or_else(|| crate::hash::sha256(data)));
                (digest.map(|d| hex(&d)), Some(Ok(content)), pass.checksum)
            }
            // No content pass (or the headers cannot be read, which the estimate reports).
            _ => {
                let content = want_risk.map(|_| match headers {
                    Some(Err(e)) => Err(e.to_string()),
                    _ => Err("not a PE file".to_owned()),
                });
                let sha256 = want_sha256.then(|| hex(&crate::hash::sha256(data)));
                (sha256, content, None)
            }
        },
        || {
            rayon::join(
                || {
                    facts.then(|| match (format, headers) {
                        (Format::Pe, Some(Ok(h))) => pe::analyze_headers(
                            data,
                            h,
                            pe::Needs {
                                checksum: pe_checksum && !checksum_in_content,
                            },
                        ),
                        (Format::Pe, _) => pe::analyze(data),
                        (Format::Elf, _) => elf::analyze(data),
                    })
                },
                || signing.map(|s| verify_signature(data, format, headers, s)),
            )
        },
    );
    // The checksum the content pass computed goes where the facts keep it.
    let facts = facts.map(|f| {
        f.map(|mut f| {
            if let (crate::facts::Hardening::Pe(p), Some(c)) = (&mut f.hardening, content_checksum)
            {
                p.checksum.computed = Some(c);
            }
            f
        })
    });
    // An installer payload after the image (NSIS, Inno Setup, a zip self-extractor, Burn).
    let installer = match headers {
        Some(Ok(h)) => super::installer::recognise(data, h),
        _ => None,
    };
    // The version resource: from the resources the content pass read, or read alone (only the
    // RT_VERSION subtree; a few directory entries and one small leaf).
    let version = match (&content, headers) {
        (Some(Ok((_, resources))), _) => resources
            .as_ref()
            .and_then(|r| r.version.as_ref())
            .and_then(version_summary),
        (_, Some(Ok(h))) => pe::resources::version_of(data, h)
            .as_ref()
            .and_then(version_summary),
        _ => None,
    };
    let Some(facts) = facts else {
        let mut r = FileReport::identity(display, sha256, size, format);
        r.signature = signature;
        r.installer = installer;
        r.version = version;
        return r;
    };
    match facts {
        Ok(f) => {
            let estimate = match (want_risk, content, &signature, signing) {
                (Some(ctx), Some(content), Some(sig), Some(s)) => {
                    estimate_risk(place, &f, sig, &content, ctx, s.at)
                }
                _ => None,
            };
            let mut r = FileReport::from_facts(display, sha256, size, f);
            r.signature = signature;
            r.risk = estimate;
            r.installer = installer;
            r.version = version;
            r
        }
        Err(e) => FileReport::error(
            display,
            sha256,
            Some(size),
            Some(format),
            e.into(),
            Severity::Examined,
        ),
    }
}

/// What the report shows of a version resource: the first StringTable's CompanyName,
/// ProductName, FileDescription, FileVersion and ProductVersion (each falling back to the fixed
/// block's a.b.c.d) and OriginalFilename. Empty strings (or only white space) count as absent
/// (trailing NULs are already gone); `None` when nothing is left.
fn version_summary(v: &pe::resources::VersionInfo) -> Option<crate::report::VersionSummary> {
    let string = |key: &str| {
        v.get(key)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    let summary = crate::report::VersionSummary {
        company: string("CompanyName"),
        product: string("ProductName"),
        description: string("FileDescription"),
        file_version: string("FileVersion").or_else(|| v.file_version.clone()),
        product_version: string("ProductVersion").or_else(|| v.product_version.clone()),
        original_filename: string("OriginalFilename"),
    };
    (summary != crate::report::VersionSummary::default()).then_some(summary)
}

fn estimate_risk(
    place: Place<'_>,
    facts: &crate::facts::BinaryFacts,
    signature: &crate::cms::verdict::SignatureVerdict,
    content: &Result<(pe::content::Content, Option<pe::resources::Resources>), String>,
    ctx: &RiskContext<'_>,
    at: u64,
) -> Option<crate::risk::RiskEstimate> {
    use crate::cms::verdict::Status;
    let crate::facts::Hardening::Pe(hardening) = &facts.hardening else {
        return None;
    };
    let (companion_count, companions) = match place {
        Place::File(candidate)
            if facts.kind == crate::facts::Kind::Executable
                && signature.status != Status::Unsigned =>
        {
            ctx.companions
                .unsigned_beside(candidate, crate::risk::COMPANIONS_SHOWN)
        }
        _ => (0, Vec::new()),
    };
    let (file_name, mark_of_the_web) = match place {
        Place::File(candidate) => {
            let path = candidate.path.as_path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, crate::risk::motw::read(path))
        }
        Place::Inside {
            name,
            mark_of_the_web,
        } => (name.to_owned(), mark_of_the_web.cloned()),
    };
    let input = crate::risk::Input {
        file_name: &file_name,
        kind: facts.kind,
        bits: facts.bits,
        toolchain: Some(facts.toolchain.name),
        hardening,
        signature,
        content: content
            .as_ref()
            .map(|(c, r)| (c, r.as_ref()))
            .map_err(Clone::clone),
        mark_of_the_web,
        unsigned_companions: &companions,
        unsigned_companion_count: companion_count,
        at,
    };
    Some(crate::risk::estimate(&input, ctx.weights))
}

/// What signature verification needs from the run's settings.
pub(super) fn verify_env(s: &SigningConfig) -> crate::cms::verdict::VerifyEnv<'_> {
    crate::cms::verdict::VerifyEnv {
        anchors: &s.trust,
        at: s.at,
        strict: s.strict,
        require_all: s.require_all,
        revoked: s.revoked.as_ref(),
    }
}

fn verify_signature(
    data: &[u8],
    format: Format,
    headers: Option<Result<&pe::PeHeaders, &crate::error::Error>>,
    s: &SigningConfig,
) -> crate::cms::verdict::SignatureVerdict {
    let env = verify_env(s);
    match (format, headers) {
        (Format::Pe, Some(Ok(h))) => {
            crate::authenticode::verify::verify_layout(data, &pe::signing_layout_of(h), &env)
        }
        (Format::Pe, Some(Err(e))) => crate::authenticode::verify::malformed(e.to_string()),
        (Format::Pe, None) => crate::authenticode::verify::verify(data, &env),
        (Format::Elf, _) => crate::elfsig::verify(data, &env, &s.module_certs),
    }
}

fn read_head(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    super::inside::read_full(file, buf)
}

fn read_at(file: &File, off: u64) -> Option<[u8; 4]> {
    let mut sig = [0u8; 4];
    crate::input::read_exact_at(file, &mut sig, off)
        .ok()
        .map(|()| sig)
}
