//! A `check` run: walk, examine in parallel, report in path order with bounded memory.
//!
//! Candidates are sorted first; they are then examined a chunk at a time on the thread pool
//! and each chunk is rendered, in order, before the next starts. Memory therefore grows with
//! the chunk size, not with the number of files, and the report order never depends on the
//! parallelism.

mod check;
mod companions;
mod walk;

pub use walk::walk;

use std::io::{self, Write};


use crate::config::{CheckConfig, Mode};
use crate::policy::{Evaluator, PolicySummary};
use crate::report::{FileReport, Renderer, Severity, Summary};
use check::{Outcome, RiskContext, Work, check};
use companions::Companions;

/// Files examined ahead of the report, per worker thread: results that finish before an earlier
/// file wait in memory (a report each) until it is done.
const WINDOW_PER_JOB: usize = 64;

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

/// Runs `check` and streams the report into `renderer`. `progress` gets (done, total) updates.
pub fn run(
    config: &CheckConfig,
    renderer: &mut dyn Renderer,
    mut progress: Option<&mut dyn Write>,
) -> io::Result<RunOutcome> {
    let walked = walk(&config.paths, &config.excludes, config.follow_symlinks);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.jobs)
        .build()
        .map_err(io::Error::other)?;
    let mut outcome = RunOutcome::default();
    let mut skipped = walked.skipped;
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
    for e in &walked.errors {
        let mut f = FileReport::error(
            e.path.clone(),
            None,
            None,
            None,
            e.error.clone(),
            Severity::ToolError,
        );
        f.root_relative = Some(e.rel.clone());
        emit(f, &mut outcome, renderer)?;
    }
    let total = walked.candidates.len();
    if total < PROGRESS_MIN_FILES {
        progress = None;
    }
    let weights = config.wants_risk();
    let companions = weights.map(|_| Companions::new(&walked.candidates));
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
    // one core busy while the other waits, and rendering overlaps the work.
    let window = config.jobs.max(1).saturating_mul(WINDOW_PER_JOB);
    let max_file_size = config.max_file_size;
    let candidates = &walked.candidates;
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Option<Outcome>)>();
    pool.in_place_scope(|scope| -> io::Result<()> {
        let mut spawned = 0usize;
        let mut done = 0usize;
        let mut waiting: std::collections::BTreeMap<usize, Outcome> = Default::default();
        while done < total {
            while spawned < total && spawned < done.saturating_add(window) {
                let (i, tx) = (spawned, tx.clone());
                if let Some(c) = candidates.get(i) {
                    scope.spawn(move |_| {
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            check(c, max_file_size, work)
                        }));
                        match r {
                            Ok(o) => {
                                let _ = tx.send((i, Some(o)));
                            }
                            // A panic is a bug: the report stops here, and the scope raises
                            // the panic again once the files in flight are done.
                            Err(p) => {
                                let _ = tx.send((i, None));
                                std::panic::resume_unwind(p)
                            }
                        }
                    });
                }
                spawned = spawned.saturating_add(1);
            }
            let Ok((i, Some(r))) = rx.recv() else { break };
            waiting.insert(i, r);
            while let Some(r) = waiting.remove(&done) {
                let c = candidates.get(done);
                match r {
                    Outcome::File(mut f) => {
                        f.root_relative = c.map(|c| c.rel.clone());
                        emit(*f, &mut outcome, renderer)?;
                    }
                    Outcome::Skipped(s) => skipped.push(s),
                }
                done = done.saturating_add(1);
                if let Some(p) = progress.as_deref_mut() {
                    if done % PROGRESS_EVERY == 0 || done == total {
                        draw_progress(p, done, total)?;
                    }
                }
            }
        }
        Ok(())
    })?;
    if let Some(p) = progress {
        write!(p, "\r\x1b[2K")?;
        p.flush()?;
    }
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    for s in &skipped {
        outcome.summary.add_skipped(s);
    }
    outcome.summary.policy = evaluator.map(Evaluator::finish);
    renderer.finish(&skipped, &outcome.summary)?;
    Ok(outcome)
}

fn draw_progress(out: &mut dyn Write, done: usize, total: usize) -> io::Result<()> {
    const WIDTH: usize = 30;
    let filled = done
        .saturating_mul(WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    write!(
        out,
        "\r[{}{}] {done}/{total} files",
        "#".repeat(filled),
        " ".repeat(WIDTH.saturating_sub(filled))
    )?;
    out.flush()
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
    let companions = Companions::new(&[]);
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
    check::examine_bytes(display, path, data, format, work)
}
