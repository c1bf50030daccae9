//! Examining what containers hold: every entry that is a binary is examined like a file, every
//! entry that is a container is walked in turn, all in memory (`crate::container`).
//!
//! Entries are reported after their container with paths `outer!/inner` (nested:
//! `a.zip!/b.msi!/c.dll`); `--exclude` and waiver globs match the same path relative to the
//! root the top-level file was found under. One [`Budget`] bounds the bytes decompressed for a
//! top-level file at every depth; a budget reached stops the container it was reached in, with
//! an error naming what was reached, and the entries reported before it stay.

use std::io::Read as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::check::{Place, Work, examine_bytes};
use super::walk::Candidate;
use crate::cms::verdict::Status;
use crate::container::{self, Budget, EntryMeta, Kind, Limits, Summary};
use crate::detect::{Sniffed, sniff_bytes};
use crate::error::{Error, ErrorKind, FileError};
use crate::facts::Format;
use crate::report::{FileReport, Severity};

/// What walking a top-level container found.
pub(super) enum Found {
    /// The container's report and its entries'.
    Reports(Vec<FileReport>),
    /// A container met by a walk with nothing to report: no binaries inside, no signature, no
    /// error and no note (a source tarball, a .docx): skipped like any other non-binary file.
    Nothing,
}

/// What every entry of one top-level file shares.
struct Ctx<'a> {
    work: Work<'a>,
    budget: Budget,
    mark_of_the_web: Option<crate::risk::motw::MarkOfTheWeb>,
}

impl<'a> Ctx<'a> {
    fn new(c: &Candidate, max_file_size: u64, work: Work<'a>) -> Self {
        let limits = Limits {
            max_entry_size: max_file_size,
            ..Limits::default()
        };
        Ctx {
            work,
            budget: Budget::new(limits),
            // Windows gives the files it extracts from a downloaded archive the archive's mark.
            mark_of_the_web: work
                .risk
                .and_then(|_| crate::risk::motw::read(c.path.as_path())),
        }
    }
}

/// Walks a top-level file whose first bytes say it is a container of `kind`. `None` when it
/// is not one after all (a compound file that is not an installer database).
pub(super) fn top_level(
    c: &Candidate,
    data: &[u8],
    kind: Kind,
    max_file_size: u64,
    work: Work<'_>,
) -> Option<Found> {
    if kind == Kind::Msi && !container::msi::is_installer(data) {
        return None;
    }
    let ctx = Ctx::new(c, max_file_size, work);
    let display = c.path.display().to_string();
    let sha256 = work
        .sha256
        .then(|| crate::read::hex(&crate::hash::sha256(data)));
    let mut reports = walk_container(&ctx, display, c.rel.clone(), data, kind, 0, sha256);
    mark_inside(&mut reports, c);
    let interesting = reports.first().is_some_and(worth_reporting);
    if !interesting && !c.explicit {
        return Some(Found::Nothing);
    }
    if let Some(first) = reports.first_mut() {
        first.root_relative = Some(c.rel.clone());
    }
    Some(Found::Reports(reports))
}

/// For a PE file carrying an installer payload: the file's report with the payload described
/// and, when the payload is an archive bingate reads (a zip self-extractor), the payload's
/// entries after it. `None` when the file carries no payload bingate recognises.
pub(super) fn installer_payload(
    report: &FileReport,
    data: &[u8],
    c: &Candidate,
    max_file_size: u64,
    work: Work<'_>,
) -> Option<Vec<FileReport>> {
    // Recognised while the file was examined (its headers parsed once); only a payload that
    // is an archive is walked.
    let kind = report.installer.as_ref()?.kind;
    if payload_kind(kind).is_none() || report.error.is_some() {
        return None;
    }
    let ctx = Ctx::new(c, max_file_size, work);
    let display = c.path.display().to_string();
    let mut reports = pe_payload(&ctx, report.clone(), display, c.rel.clone(), data, 0)?;
    mark_inside(&mut reports, c);
    if let Some(first) = reports.first_mut() {
        first.root_relative = Some(c.rel.clone());
    }
    Some(reports)
}

/// Marks every report after the first (the top-level file's own) as an entry inside it.
fn mark_inside(reports: &mut [FileReport], c: &Candidate) {
    let top = c.path.display().to_string().len();
    for r in reports.iter_mut().skip(1) {
        r.inside = Some(top);
    }
}

/// Whether a container's report says anything: binaries inside, a signature, an error or a
/// note.
fn worth_reporting(r: &FileReport) -> bool {
    let Some(s) = &r.container else { return true };
    s.binaries > 0
        || r.error.is_some()
        || !s.notes.is_empty()
        || !s.package_signatures.is_empty()
        || r.signature
            .as_ref()
            .is_some_and(|v| v.status != Status::Unsigned)
}

/// A PE file's installer payload (recognised by `examine_bytes`) walked when it is a zip:
/// the file's report with what the payload holds, then the payload's entries.
fn pe_payload(
    ctx: &Ctx<'_>,
    mut report: FileReport,
    display: String,
    rel: String,
    data: &[u8],
    depth: u32,
) -> Option<Vec<FileReport>> {
    let mut installer = report.installer.clone()?;
    let kind = payload_kind(installer.kind)?;
    let start = usize::try_from(installer.offset).ok();
    let end = installer
        .offset
        .checked_add(installer.size)
        .and_then(|e| usize::try_from(e).ok());
    let mut out = match start.zip(end).and_then(|(s, e)| data.get(s..e)) {
        Some(payload) => walk_container(
            ctx,
            display,
            rel,
            payload,
            kind,
            depth.saturating_add(1),
            None,
        ),
        None => Vec::new(),
    };
    if !out.is_empty() {
        let container_report = out.remove(0);
        installer.examined = container_report.error.is_none();
        report.container = container_report.container;
        // What the payload holds counts against a signed installer's estimate.
        let unsigned = report
            .container
            .as_ref()
            .and_then(|c| c.unsigned_pe.map(|n| (n, c.unsigned_pe_shown.clone())));
        if let (Some(estimate), Some(r), Some((n, shown))) =
            (report.risk.as_mut(), ctx.work.risk, unsigned)
        {
            if n > 0 {
                crate::risk::add_unsigned_inside(estimate, r.weights, n, &shown);
            }
        }
        if let (None, Some(e)) = (&report.error, container_report.error) {
            report
                .warnings
                .push(format!("installer payload: {}", e.message()));
        }
    }
    report.installer = Some(installer);
    out.insert(0, report);
    Some(out)
}

/// The container kind of an installer payload bingate reads: a zip self-extractor's zip, a
/// Burn bundle's attached cabinets. NSIS and Inno Setup payloads are described, not read (no
/// maintained crate reads their compressed streams).
fn payload_kind(kind: container::InstallerKind) -> Option<Kind> {
    match kind {
        container::InstallerKind::ZipSfx => Some(Kind::Zip),
        container::InstallerKind::WixBurn => Some(Kind::Burn),
        container::InstallerKind::Nsis | container::InstallerKind::InnoSetup => None,
    }
}

/// Walks one container: its report first (kind, counts, notes, error, signature), then the
/// reports of what it holds.
fn walk_container(
    ctx: &Ctx<'_>,
    display: String,
    rel: String,
    data: &[u8],
    kind: Kind,
    depth: u32,
    sha256: Option<String>,
) -> Vec<FileReport> {
    // The first budget error an entry's read met: the container stops there.
    let stopped: Mutex<Option<Error>> = Mutex::new(None);
    // Binaries read but not yet examined: the reader goes on with the next entries while the
    // pool examines them (a .tar.xz decompresses on one thread), up to this many bytes.
    let in_flight = AtomicU64::new(0);
    let walked = rayon::scope(|scope| {
        let visit = |meta: &EntryMeta, r: &mut dyn std::io::Read| -> Item {
            match read_entry(ctx, &display, &rel, meta, r, &stopped) {
                Read::Done(v) => Item::Done(v),
                Read::Nested(e, inner) => Item::Done(walk_nested(ctx, e, inner, kind, depth)),
                Read::Binary(e) => {
                    let len = e.data.len() as u64;
                    let before = in_flight.fetch_add(len, Ordering::Relaxed);
                    if before.saturating_add(len) > crate::budget::MAX_CONTAINER_BYTES_IN_FLIGHT {
                        in_flight.fetch_sub(len, Ordering::Relaxed);
                        return Item::Done(examine_entry(ctx, e, depth));
                    }
                    let slot = Arc::new(OnceLock::new());
                    let filled = Arc::clone(&slot);
                    let in_flight = &in_flight;
                    scope.spawn(move |_| {
                        let _ = filled.set(examine_entry(ctx, e, depth));
                        in_flight.fetch_sub(len, Ordering::Relaxed);
                    });
                    Item::Pending(slot)
                }
            }
        };
        container::walk(kind, data, depth, &ctx.budget, &visit)
    });
    let mut inner: Vec<FileReport> = walked
        .items
        .into_iter()
        .flat_map(Item::into_reports)
        .collect();
    let mut summary = walked.summary;
    count_inside(&mut summary, &inner, ctx.work.signing.is_some());
    let error = walked.error.or_else(|| stopped.into_inner().ok().flatten());
    let mut report = FileReport::container(display, sha256, data.len() as u64, summary);
    report.root_relative = Some(rel);
    if let Some(e) = error {
        report.error = Some(FileError::from(e));
    }
    if let Some(s) = ctx.work.signing {
        report.signature = container_signature(kind, data, s);
    }
    let mut out = Vec::with_capacity(inner.len().saturating_add(1));
    out.push(report);
    out.append(&mut inner);
    out
}

/// The signature of a container format that carries one (MSI, CAB); `None` for the others
/// (their package signatures are listed in the summary, not verified).
fn container_signature(
    kind: Kind,
    data: &[u8],
    s: &crate::config::SigningConfig,
) -> Option<crate::cms::verdict::SignatureVerdict> {
    let env = super::check::verify_env(s);
    match kind {
        Kind::Msi => Some(crate::authenticode::msi::verify_msi(data, &env)),
        Kind::Cab => Some(crate::authenticode::cab::verify_cab(data, &env)),
        Kind::Zip | Kind::Tar(_) | Kind::Compressed(_) | Kind::Deb | Kind::Rpm | Kind::Burn => None,
    }
}

/// Fills the counts of what was found inside (at every depth) into a container's summary.
fn count_inside(summary: &mut Summary, inner: &[FileReport], signatures_verified: bool) {
    let mut unsigned = 0u64;
    for f in inner {
        if f.format.is_some() {
            summary.binaries = summary.binaries.saturating_add(1);
        }
        if f.container.is_some() && f.format.is_none() {
            summary.containers = summary.containers.saturating_add(1);
        }
        let is_unsigned_pe = f.format == Some(Format::Pe)
            && f.signature
                .as_ref()
                .is_some_and(|v| v.status == Status::Unsigned);
        if is_unsigned_pe {
            unsigned = unsigned.saturating_add(1);
            if summary.unsigned_pe_shown.len() < crate::budget::COMPANIONS_SHOWN {
                summary.unsigned_pe_shown.push(f.path.clone());
            }
        }
    }
    summary.unsigned_pe = signatures_verified.then_some(unsigned);
}

/// Bytes of an entry read to decide what it is: tar's magic is at 257, a PE's e_lfanew at 0x3c.
const HEAD_LEN: usize = container::SNIFF_LEN;

/// An entry read, ready to be examined.
enum Read {
    /// Nothing to examine (not a binary, excluded, stopped by a budget), or an error report.
    Done(Vec<FileReport>),
    /// A binary's bytes.
    Binary(Entry),
    /// A nested container's bytes.
    Nested(Entry, Kind),
}

/// An entry's bytes with its report path.
struct Entry {
    display: String,
    rel: String,
    /// The last component of its name (the risk estimate's file name).
    name: String,
    data: Vec<u8>,
}

/// A visited entry's reports: examined on the spot, or on the pool while the container's
/// next entries are read (a slot filled when the examination is done).
enum Item {
    Done(Vec<FileReport>),
    Pending(Arc<OnceLock<Vec<FileReport>>>),
}

impl Item {
    fn into_reports(self) -> Vec<FileReport> {
        match self {
            Item::Done(v) => v,
            // The scope the examination ran in has ended: the slot is filled and ours alone.
            Item::Pending(slot) => Arc::try_unwrap(slot)
                .ok()
                .and_then(OnceLock::into_inner)
                .unwrap_or_default(),
        }
    }
}

/// Reads one entry of a container: nothing when it is neither a binary nor a container (or is
/// excluded), its bytes when it is one.
fn read_entry(
    ctx: &Ctx<'_>,
    outer_display: &str,
    outer_rel: &str,
    meta: &EntryMeta,
    r: &mut dyn std::io::Read,
    stopped: &Mutex<Option<Error>>,
) -> Read {
    // Tar archives made with `tar -C dir .` store `./bin/app`: shown as `bin/app`.
    let stored = meta.name.trim_start_matches("./");
    let name = if stored.is_empty() {
        unnamed(outer_display)
    } else {
        stored.to_owned()
    };
    let display = format!("{outer_display}!/{name}");
    let rel = format!("{outer_rel}!/{name}");
    if ctx.work.excludes.is_match(&rel) {
        return Read::Done(Vec::new());
    }
    let stop = |e: Error| {
        if let Ok(mut s) = stopped.lock() {
            s.get_or_insert(e);
        }
        Vec::new()
    };
    let mut head = [0u8; HEAD_LEN];
    let n = match read_full(r, &mut head) {
        Ok(n) => n,
        Err(e) => return Read::Done(read_failed(e, display, rel, None, stop)),
    };
    let head = head.get(..n).unwrap_or_default();
    let binary_head = head.starts_with(b"MZ") || head.starts_with(b"\x7fELF");
    let nested = container::sniff(head);
    if !binary_head && nested.is_none() {
        return Read::Done(Vec::new());
    }
    let max = ctx.budget.limits.max_entry_size;
    let too_big = |size: u64, display: String, rel: String| {
        let e = Error::budget("bytes in file", size, max, meta.offset);
        let mut f = FileReport::error(
            display,
            None,
            Some(size),
            None,
            e.into(),
            Severity::Examined,
        );
        f.root_relative = Some(rel);
        Read::Done(vec![f])
    };
    if let Some(declared) = meta.size.filter(|s| *s > max) {
        return too_big(declared, display, rel);
    }
    // Never sized by what the container declares beyond the first bytes: a hostile size costs
    // nothing until its bytes are actually there.
    let mut data = head.to_vec();
    let limit = max.saturating_add(1).saturating_sub(n as u64);
    if let Err(e) = r.take(limit).read_to_end(&mut data) {
        return Read::Done(read_failed(e, display, rel, None, stop));
    }
    let size = data.len() as u64;
    if size > max {
        return too_big(size, display, rel);
    }
    let last = name.rsplit(['/', '\\']).next().unwrap_or(&name).to_owned();
    let entry = Entry {
        display,
        rel,
        name: last,
        data,
    };
    match (binary_head, nested) {
        (_, Some(kind)) if !binary_head => Read::Nested(entry, kind),
        _ => Read::Binary(entry),
    }
}

/// Examines a binary read from a container (with its own installer payload, if it has one).
fn examine_entry(ctx: &Ctx<'_>, e: Entry, depth: u32) -> Vec<FileReport> {
    let Entry {
        display,
        rel,
        name,
        data,
    } = e;
    let Sniffed::Binary(format) = sniff_bytes(&data) else {
        // "MZ" without a PE header (a DOS program): not examined, as in a directory.
        return Vec::new();
    };
    let place = Place::Inside {
        name: &name,
        mark_of_the_web: ctx.mark_of_the_web.as_ref(),
    };
    let mut f = examine_bytes(display.clone(), place, &data, format, ctx.work);
    f.root_relative = Some(rel.clone());
    if format == Format::Pe && f.error.is_none() {
        if let Some(mut v) = pe_payload(ctx, f.clone(), display, rel.clone(), &data, depth) {
            if let Some(first) = v.first_mut() {
                first.root_relative = Some(rel);
            }
            return v;
        }
    }
    vec![f]
}

/// Walks a container found inside another (of kind `outer`).
fn walk_nested(ctx: &Ctx<'_>, e: Entry, kind: Kind, outer: Kind, depth: u32) -> Vec<FileReport> {
    if kind == Kind::Msi && !container::msi::is_installer(&e.data) {
        return Vec::new();
    }
    let sha256 = ctx
        .work
        .sha256
        .then(|| crate::read::hex(&crate::hash::sha256(&e.data)));
    let mut v = walk_container(
        ctx,
        e.display,
        e.rel,
        &e.data,
        kind,
        depth.saturating_add(1),
        sha256,
    );
    // An MSI's cabinets are streams of the database, which its own signature covers; Windows
    // never checks a signature on them (they carry none), so they get no verdict of their own.
    // The same holds for a Burn bundle's attached containers: the bundle's signature is the
    // one Burn checks (whether it covers them is in the installer line).
    if matches!(outer, Kind::Msi | Kind::Burn) && kind == Kind::Cab {
        if let Some(first) = v.first_mut() {
            first.signature = None;
        }
    }
    // A nested container with nothing to say (a .gz of text in a wheel) is not listed.
    if v.len() == 1 && !v.first().is_some_and(worth_reporting) {
        return Vec::new();
    }
    v
}

/// An entry whose bytes could not be read: a budget reached stops the container (`stop`);
/// any other error (a corrupt compressed stream) is an error for the entry.
fn read_failed(
    e: std::io::Error,
    display: String,
    rel: String,
    size: Option<u64>,
    stop: impl FnOnce(Error) -> Vec<FileReport>,
) -> Vec<FileReport> {
    if let Some(b) = container::budget_error(&e) {
        return stop(b);
    }
    let err = Error::new(
        ErrorKind::Io {
            message: format!("reading the entry: {e}"),
        },
        None,
    );
    let mut f = FileReport::error(display, None, size, None, err.into(), Severity::Examined);
    f.root_relative = Some(rel);
    vec![f]
}

/// The name of the one file a compressed stream holds when its header names none: the outer
/// name without its compression extension.
fn unnamed(outer_display: &str) -> String {
    let last = outer_display
        .rsplit(['/', '!'])
        .next()
        .unwrap_or(outer_display);
    match last.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && ["gz", "xz", "zst", "bz2", "z"].contains(&ext.to_ascii_lowercase().as_str()) =>
        {
            stem.to_owned()
        }
        _ => format!("{last}.content"),
    }
}

/// Reads until `buf` is full or the entry ends.
pub(super) fn read_full(r: &mut dyn std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let Some(rest) = buf.get_mut(n..) else { break };
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n = n.saturating_add(k),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
