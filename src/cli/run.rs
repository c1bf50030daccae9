//! A resolved run: the report written to stdout or `--output`, and the exit code.

use std::fs;
use std::io::{self, Write};

use super::{EXIT_ERROR, EXIT_OK, EXIT_POLICY_FAILED};
use crate::config::{CheckConfig, Mode, OutputFormat};
use crate::report::{HumanRenderer, JsonRenderer, Renderer};
use crate::scan;

/// Runs `check` with the report going to stdout or, atomically, to `--output`.
pub fn run_check(config: &CheckConfig) -> io::Result<u8> {
    match &config.output {
        None => {
            let stdout = io::stdout();
            let out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
            run_into(config, out)
        }
        Some(path) if path.as_os_str() == "-" => {
            let stdout = io::stdout();
            let out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
            run_into(config, out)
        }
        // A device or FIFO (`--output /dev/null`, `/dev/stdout`) is written in place: renaming a
        // temporary file over it would replace the device node itself.
        Some(path) if fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) => {
            let file = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| crate::outfile::named(path, &e))?;
            let out = crate::outfile::NamedWriter::new(io::BufWriter::new(file), path);
            run_into(config, out)
        }
        Some(path) => {
            let named = |e: io::Error| crate::outfile::named(path, &e);
            let dir = crate::outfile::parent_dir(path);
            // A missing directory is the user's mistake to see, not one to paper over.
            if !dir.is_dir() {
                return Err(named(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("the directory {} does not exist", dir.display()),
                )));
            }
            // The report gets the mode any new file would (0666 less the umask), not the
            // temporary file's 0600.
            let tmp = crate::outfile::temporary_beside(path, ".bingate-report-", Some(0o666))
                .map_err(named)?;
            crate::cleanup::install();
            let _registered = crate::cleanup::Registered::new(tmp.path());
            let written = crate::outfile::NamedWriter::new(
                io::BufWriter::new(tmp.reopen().map_err(named)?),
                path,
            );
            let code = run_into(config, written)?;
            tmp.persist(path).map_err(|e| named(e.error))?;
            Ok(code)
        }
    }
}

fn run_into<W: Write>(config: &CheckConfig, out: W) -> io::Result<u8> {
    // Locked per write, never for the run: a worker thread that writes to stderr (the panic
    // hook, for a panic no guard contains) would otherwise wait forever on the main thread,
    // which waits for the worker — a hang instead of a crash report.
    let mut progress_sink = io::stderr();
    let progress: Option<&mut dyn Write> = if config.progress {
        Some(&mut progress_sink)
    } else {
        None
    };
    let policy_id = config
        .mode
        .policy()
        .map(|p| (p.name.clone(), p.source.clone()));
    let outcome = match config.format {
        OutputFormat::Json => {
            let mut r = JsonRenderer::new(out, policy_id);
            let o = scan::run(config, &mut r as &mut dyn Renderer, progress)?;
            r.into_inner().flush()?;
            o
        }
        OutputFormat::Human => match &config.mode {
            Mode::Check { .. } => {
                let mut r = HumanRenderer::new(out, config.color).with_view(config.view);
                let o = scan::run(config, &mut r as &mut dyn Renderer, progress)?;
                r.into_inner().flush()?;
                o
            }
            Mode::Verify { .. } => {
                let mut r =
                    crate::report::VerifyRenderer::new(out, config.color).with_view(config.view);
                let o = scan::run(config, &mut r as &mut dyn Renderer, progress)?;
                r.into_inner().flush()?;
                o
            }
            Mode::Risk { .. } => {
                let mut r = crate::report::RiskRenderer::new(out, config.color);
                let o = scan::run(config, &mut r as &mut dyn Renderer, progress)?;
                r.into_inner().flush()?;
                o
            }
        },
        OutputFormat::Html => {
            let mut r = crate::report::HtmlRenderer::new(out, policy_id);
            let o = scan::run(config, &mut r as &mut dyn Renderer, progress)?;
            r.into_inner().flush()?;
            o
        }
        OutputFormat::Csv => {
            let mut r = crate::report::CsvRenderer::new(out, config.view);
            let o = scan::run(config, &mut r as &mut dyn Renderer, progress)?;
            r.into_inner().flush()?;
            o
        }
        OutputFormat::Sarif => {
            let Some(policy) = config.mode.policy() else {
                return Err(io::Error::other(
                    "--format sarif needs a policy (drop --no-policy)",
                ));
            };
            let root = std::path::absolute(&config.sarif_root)?;
            let mut r = crate::report::SarifRenderer::new(out, policy, &root)
                .min_level(config.view.min_level);
            let o = scan::run(config, &mut r as &mut dyn Renderer, progress)?;
            r.into_inner().flush()?;
            o
        }
    };
    // What fails the run besides judging nothing: the mode's own verdict.
    let failed = match &config.mode {
        Mode::Check { fail_on, .. } => outcome
            .policy()
            .is_some_and(|p| p.failed_at_or_above(*fail_on) > 0),
        Mode::Verify { .. } => {
            let all_valid = outcome.summary.signatures.as_ref().is_some_and(|c| {
                c.valid
                    == outcome
                        .summary
                        .files
                        .saturating_sub(outcome.summary.containers_without_signature)
            });
            !all_valid
        }
        // `bingate risk` cannot estimate a file it cannot parse: that is a failure, as the
        // parse-error rule makes it one for `check`.
        Mode::Risk { fail_at, .. } => {
            outcome
                .summary
                .risk
                .as_ref()
                .is_some_and(|c| c.at_or_above(*fail_at) > 0)
                || outcome.summary.errors > 0
        }
    };
    // A gate that judged nothing must not pass silently: no binary in the paths given, or a
    // policy none of whose rules applied to any file (exit 1, documented in the README).
    let examined = outcome.summary.pe.saturating_add(outcome.summary.elf);
    let mut judged_nothing = false;
    if outcome.tool_errors == 0 && examined == 0 {
        writeln!(
            io::stderr(),
            "bingate: no PE or ELF file was found in the paths given: nothing was judged"
        )?;
        judged_nothing = true;
    } else if let (Some(p), Some(policy)) = (outcome.policy(), config.mode.policy()) {
        if p.applied == 0 && examined > 0 {
            writeln!(
                io::stderr(),
                "bingate: no rule of policy `{}` applied to {} examined \
                 (for example a Windows policy on ELF files): nothing was judged",
                policy.name,
                if examined == 1 {
                    "the 1 file".to_owned()
                } else {
                    format!("any of the {examined} files")
                }
            )?;
            judged_nothing = true;
        }
    }
    Ok(if outcome.tool_errors > 0 {
        EXIT_ERROR
    } else if failed || judged_nothing {
        EXIT_POLICY_FAILED
    } else {
        EXIT_OK
    })
}
