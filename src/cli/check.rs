//! `check`, `verify` and `risk` arguments resolved into the [`CheckConfig`] that is run: each
//! subcommand's [`Mode`], the walk, the output and its colour.

use std::io::{self, IsTerminal};
use std::path::PathBuf;

use super::{
    CheckArgs, ColorArg, FailOnArg, FormatArg, RiskArgs, RiskLevelArg, VerifyArgs, VerifyFormatArg,
};
use crate::budget::DEFAULT_MAX_FILE_SIZE;
use crate::config::{CheckConfig, Mode, OutputFormat, View};
use crate::policy::{self, Date, Level};

impl VerifyArgs {
    /// A `check` run with verification on, no policy, and verify's own output and exit code.
    pub fn resolve(self) -> Result<CheckConfig, String> {
        let signing = self.trust.resolve()?;
        let mut run = signature_run(
            self.paths,
            self.format,
            self.color,
            Mode::Verify { signing },
        );
        run.view.unsigned_only = self.unsigned_only;
        Ok(run)
    }
}

/// A run that verifies signatures with no policy and default walking (`verify`, `risk`): `mode`
/// says what differs.
fn signature_run(
    paths: Vec<PathBuf>,
    format: VerifyFormatArg,
    color: ColorArg,
    mode: Mode,
) -> CheckConfig {
    let format = match format {
        VerifyFormatArg::Human => OutputFormat::Human,
        VerifyFormatArg::Json => OutputFormat::Json,
    };
    let to_terminal = io::stdout().is_terminal();
    let color = match color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    CheckConfig {
        paths,
        format,
        output: None,
        jobs: std::thread::available_parallelism().map_or(1, usize::from),
        excludes: crate::glob::RootGlobs::default(),
        follow_symlinks: false,
        max_file_size: DEFAULT_MAX_FILE_SIZE,
        color,
        progress: progress_wanted(to_terminal),
        sarif_root: PathBuf::from("."),
        view: View::default(),
        mode,
    }
}

impl RiskArgs {
    pub fn resolve(self) -> Result<CheckConfig, String> {
        let weights = match &self.policy {
            Some(spec) => policy::load(spec, &[]).map_err(|e| e.to_string())?.risk,
            None => crate::risk::Weights::default(),
        };
        let fail_at = match self.fail_on {
            RiskLevelArg::Low => crate::risk::RiskLevel::Low,
            RiskLevelArg::Medium => crate::risk::RiskLevel::Medium,
            RiskLevelArg::High => crate::risk::RiskLevel::High,
        };
        let signing = self.trust.resolve()?;
        Ok(signature_run(
            self.paths,
            self.format,
            self.color,
            Mode::Risk {
                signing,
                weights,
                fail_at,
            },
        ))
    }
}

impl CheckArgs {
    /// Resolves the arguments; an error here is a usage or policy-file error (exit 2).
    pub fn resolve(self) -> Result<CheckConfig, String> {
        let excludes = crate::glob::RootGlobs::new(self.exclude.iter().map(String::as_str))
            .map_err(|e| format!("--exclude: {e}"))?;
        let jobs = match self.jobs {
            Some(0) => return Err("--jobs must be at least 1".into()),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, usize::from),
        };
        let policy = if self.no_policy {
            None
        } else {
            Some(policy::load(&self.policy, &self.waivers).map_err(|e| e.to_string())?)
        };
        let today = match &self.today {
            Some(s) => {
                Date::parse(s).ok_or_else(|| format!("--today {s:?}: expected YYYY-MM-DD"))?
            }
            None => Date::from_unix(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            ),
        };
        let weights = policy
            .as_ref()
            .map_or_else(crate::risk::Weights::default, |p| p.risk.clone());
        let level = |l: FailOnArg| match l {
            FailOnArg::Deny => Level::Deny,
            FailOnArg::Warn => Level::Warn,
            FailOnArg::Info => Level::Info,
        };
        let sarif_root = self.sarif_root.unwrap_or_else(|| PathBuf::from("."));
        if !sarif_root.is_dir() {
            return Err(format!(
                "--sarif-root {}: not a directory",
                sarif_root.display()
            ));
        }
        let view = View {
            only_failures: self.only_failures,
            min_level: level(self.min_level),
            details: self.details,
            unsigned_only: false,
        };
        let to_stdout = self.output.as_deref().is_none_or(|p| p.as_os_str() == "-");
        let to_terminal = to_stdout && io::stdout().is_terminal();
        let color = match self.color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
        };
        Ok(CheckConfig {
            paths: self.paths,
            format: match self.format {
                FormatArg::Human => OutputFormat::Human,
                FormatArg::Json => OutputFormat::Json,
                FormatArg::Sarif => OutputFormat::Sarif,
                FormatArg::Html => OutputFormat::Html,
                FormatArg::Csv => OutputFormat::Csv,
            },
            output: self.output,
            jobs,
            excludes,
            follow_symlinks: self.follow_symlinks,
            max_file_size: self.max_file_size,
            color,
            progress: progress_wanted(to_terminal),
            sarif_root,
            view,
            mode: Mode::Check {
                policy,
                fail_on: level(self.fail_on),
                today,
                // The estimate needs the signature verdict: no estimate with --no-verify.
                signing: if self.no_verify {
                    None
                } else {
                    Some(self.signing.resolve()?)
                },
                weights,
            },
        })
    }
}

/// The progress bar is drawn on stderr when it is a terminal, and only when the report does not
/// go to a terminal too (`to_terminal`: stdout is one and there is no `--output`): the bar's
/// carriage returns would otherwise interleave with report lines on the same screen.
fn progress_wanted(to_terminal: bool) -> bool {
    io::stderr().is_terminal() && !to_terminal
}
