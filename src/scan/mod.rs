//! A `check` run: walk, examine in parallel, report in path order with bounded memory.
//!
//! The walk streams its entries in path order (`walk`); each file is examined on the thread
//! pool as soon as it is met, at most a window of files ahead of the report, and the report is
//! written in walk order as results come in. Memory therefore grows with the window and the
//! tree's depth and width, not with the number of files, and the report order never depends on
//! the parallelism.

mod check;
mod companions;
// Called by `check` for every PE file once the installer scan is wired in.
#[allow(dead_code)]
mod installer;
mod walk;

pub use walk::walk;

use std::io::{self, Write};

use crate::config::{CheckConfig, Mode};
use crate::policy::{Evaluator, PolicySummary};
use crate::report::{FileReport, Renderer, Severity, Skipped, Summary};
use check::{Outcome, RiskContext, Work, check};
use companions::Companions;

/// Files examined ahead of the report, per worker thread: results that finish before an earlier
/// file wait in memory (a report each) until it is done.
const WINDOW_PER_JOB: usize = 256;

/// Files examined by one task on the pool: one wake-up of the report's thread per batch, not
/// per file (per file, 50,000 small files took 0.5 s of system time, mostly context switches,
/// against 0.4 s in batches of 16).
const BATCH: usize = 16;

/// Files between two updates of the progress bar.
const PROGRESS_EVERY: usize = 64;

/// Candidates in a run from which a progress bar is drawn (when one is asked for).
const PROGRESS_MIN_FILES: usize = 300;

/// The outcome of a run, for the exit code.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    pub summary: Summary,
    /// Usage or I/O errors (missing paths, unreadable files, named non-binaries).
    pub tool_errors: u64,
}

impl RunOutcome {
    pub fn policy(&self) -> Option<&PolicySummary> {
        self.summary.policy.as_ref()
    }
}

/// Runs `check` and streams the report into `renderer`. `progress` gets a count of the files
/// done, from 300 files on (`PROGRESS_MIN_FILES`; the walk is streamed: there is no total).
pub fn run(
    config: &CheckConfig,
    renderer: &mut dyn Renderer,
    mut progress: Option<&mut dyn Write>,
) -> io::Result<RunOutcome> {
    let mut entries = walk(&config.paths, &config.excludes, config.follow_symlinks);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.jobs)
        .build()
        .map_err(io::Error::other)?;
    let mut outcome = RunOutcome::default();
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut evaluator = match &config.mode {
        Mode::Check {
            policy: Some(p),
            today,
            ..
        } => Some(Evaluator::new(p, *today)),
        Mode::Check { policy: None, .. } | Mode::Verify { .. } | Mode::Risk { .. } => None,
    };
    // Findings are judged here, in report order, so waiver bookkeeping needs no locking.
    let mut emit = |mut f: FileReport, outcome: &mut RunOutcome, renderer: &mut dyn Renderer| {
        if f.severity == Severity::ToolError {
            outcome.tool_errors = outcome.tool_errors.saturating_add(1);
        }
        if let Some(ev) = evaluator.as_mut() {
            f.findings = Some(ev.evaluate(&f.subject()));
        }
        outcome.summary.add_file(&f);
        renderer.file(&f)
    };
    renderer.begin()?;
    let weights = config.wants_risk();
    let companions = weights.map(|_| Companions::new(&config.excludes, config.follow_symlinks));
    let risk = weights
        .zip(companions.as_ref())
        .map(|(weights, companions)| RiskContext {
            weights,
            companions,
        });
    // Decided once per run (whether a waiver matches by hash scans every waiver).
    let work = Work {
        signing: config.mode.signing(),
        facts: config.mode.reads_facts(),
        sha256: config.wants_file_hash(),
        pe_checksum: config.wants_pe_checksum() || risk.is_some(),
        risk: risk.as_ref(),
    };
    // Files are examined on the pool in walk order, up to `window` ahead of the report, and
    // emitted here in walk order as their results come in: no barrier where a large file keeps
    // one core busy while the other waits, and rendering overlaps the work. Walk errors take
    // their place in the same order.
    let window = config.jobs.max(1).saturating_mul(WINDOW_PER_JOB);
    let max_file_size = config.max_file_size;
    let (tx, rx) = std::sync::mpsc::channel::<Option<Vec<(usize, Ready)>>>();
    let mut drawn = false;
    pool.in_place_scope(|scope| -> io::Result<()> {
        // Entries taken from the walk, and entries emitted (every index below is done).
        let (mut taken, mut done) = (0usize, 0usize);
        let mut walk_ended = false;
        let mut waiting: std::collections::BTreeMap<usize, Ready> = Default::default();
        loop {
            // Take entries from the walk up to the window; files go to the pool in batches.
            let mut batch: Vec<(usize, walk::Candidate)> = Vec::new();
            while !walk_ended && taken < done.saturating_add(window) {
                let Some(entry) = entries.next() else {
                    walk_ended = true;
                    break;
                };
                match entry {
                    walk::Entry::File(c) => batch.push((taken, c)),
                    walk::Entry::Error(e) => {
                        waiting.insert(taken, Ready::WalkError(e));
                    }
                    walk::Entry::Skipped(s) => {
                        waiting.insert(taken, Ready::Skipped(s));
                    }
                }
                taken = taken.saturating_add(1);
                if batch.len() >= BATCH {
                    spawn_batch(scope, std::mem::take(&mut batch), &tx, max_file_size, work);
                }
            }
            if !batch.is_empty() {
                spawn_batch(scope, batch, &tx, max_file_size, work);
            }
            // Emit what is ready in order; wait for the pool when the next one is not.
            while let Some(r) = waiting.remove(&done) {
                match r {
                    Ready::Checked(rel, Outcome::File(mut f)) => {
                        f.root_relative = Some(rel);
                        emit(*f, &mut outcome, renderer)?;
                    }
                    Ready::Checked(_, Outcome::Skipped(s)) | Ready::Skipped(s) => skipped.push(s),
                    Ready::WalkError(e) => {
                        let mut f = FileReport::error(
                            e.path,
                            None,
                            None,
                            None,
                            e.error,
                            Severity::ToolError,
                        );
                        f.root_relative = Some(e.rel);
                        emit(f, &mut outcome, renderer)?;
                    }
                }
                done = done.saturating_add(1);
                if let Some(p) = progress.as_deref_mut() {
                    if done >= PROGRESS_MIN_FILES && done % PROGRESS_EVERY == 0 {
                        draw_progress(p, done)?;
                        drawn = true;
                    }
                }
            }
            if done >= taken {
                if walk_ended {
                    break;
                }
                continue;
            }
            let Ok(Some(results)) = rx.recv() else { break };
            waiting.extend(results);
        }
        Ok(())
    })?;
    if let (Some(p), true) = (progress, drawn) {
        write!(p, "\r\x1b[2K")?;
        p.flush()?;
    }
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    skipped.dedup();
    for s in &skipped {
        outcome.summary.add_skipped(s);
    }
    outcome.summary.policy = evaluator.map(Evaluator::finish);
    renderer.finish(&skipped, &outcome.summary)?;
    Ok(outcome)
}

fn draw_progress(out: &mut dyn Write, done: usize) -> io::Result<()> {
    write!(out, "\r{done} files checked so far")?;
    out.flush()
}

/// Examines a batch of files on the pool and sends their outcomes, or `None` (and the panic
/// goes on) when examining one panicked.
fn spawn_batch<'s>(
    scope: &rayon::Scope<'s>,
    batch: Vec<(usize, walk::Candidate)>,
    tx: &std::sync::mpsc::Sender<Option<Vec<(usize, Ready)>>>,
    max_file_size: u64,
    work: Work<'s>,
) {
    let tx = tx.clone();
    scope.spawn(move |_| {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            batch
                .into_iter()
                .map(|(i, c)| {
                    let o = check(&c, max_file_size, work);
                    (i, Ready::Checked(c.rel, o))
                })
                .collect::<Vec<_>>()
        }));
        match r {
            Ok(results) => {
                let _ = tx.send(Some(results));
            }
            // A panic is a bug: the report stops here, and the scope raises the panic again
            // once the files in flight are done.
            Err(p) => {
                let _ = tx.send(None);
                std::panic::resume_unwind(p)
            }
        }
    });
}

/// An entry of the walk, ready to be reported.
enum Ready {
    /// A file examined (its path relative to its root, for waivers, and the outcome).
    Checked(String, Outcome),
    WalkError(walk::WalkError),
    Skipped(Skipped),
}

/// Examines bytes already in memory exactly as `check` examines a file: SHA-256, facts,
/// signature verdict (when `signing` is given) and, for PE files, the risk estimate (when
/// `weights` is also given; no companions, and the Mark of the Web is looked for beside `path`).
/// Bytes that are not PE or ELF give an error entry. For the mutation harness and the fuzzers.
pub fn examine(
    data: &[u8],
    path: &std::path::Path,
    signing: Option<&crate::config::SigningConfig>,
    weights: Option<&crate::risk::Weights>,
) -> FileReport {
    use crate::detect::{Sniffed, sniff_bytes};
    let display = path.display().to_string();
    let format = match sniff_bytes(data) {
        Sniffed::Binary(f) => f,
        Sniffed::Other { magic, len } => {
            let e =
                crate::error::Error::new(crate::error::ErrorKind::NotABinary { magic, len }, None);
            return FileReport::error(display, None, None, None, e.into(), Severity::ToolError);
        }
    };
    let no_excludes = crate::glob::RootGlobs::default();
    let companions = Companions::new(&no_excludes, false);
    let risk = weights.map(|weights| RiskContext {
        weights,
        companions: &companions,
    });
    let work = Work {
        signing,
        facts: true,
        sha256: true,
        pe_checksum: true,
        risk: risk.as_ref(),
    };
    let candidate = walk::Candidate {
        path: path.to_path_buf(),
        explicit: true,
        rel: walk::relative(path, path),
        root: None,
    };
    check::examine_bytes(display, &candidate, data, format, work)
}
