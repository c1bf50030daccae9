//! The command line: clap definitions (what the user typed) and their resolution into a
//! [`CheckConfig`] (what we run), then the run itself with its exit code.

use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use globset::{Glob, GlobSetBuilder};

use crate::budget::DEFAULT_MAX_FILE_SIZE;
use crate::config::{CheckConfig, OutputFormat};
use crate::report::{HumanRenderer, JsonRenderer, Renderer};
use crate::scan;

/// Exit codes (documented in the README).
pub const EXIT_OK: u8 = 0;
pub const EXIT_ERROR: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "bingate",
    version,
    about = "Is this Windows or Linux binary fit to ship or to run?"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Report the exploit mitigations of every PE and ELF file under PATH...
    Check(CheckArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    Human,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: FormatArg,
    /// Write the report to FILE (atomically: a temporary file renamed into place).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Files examined in parallel (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Skip paths (or file names) matching GLOB; repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Follow symbolic links met while walking directories.
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Largest file examined, in bytes; larger binaries are reported with an error.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// Colour in human output.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorArg,
    /// Files or directories to examine.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

impl CheckArgs {
    /// Resolves the arguments; an error here is a usage error.
    pub fn resolve(self) -> Result<CheckConfig, String> {
        let mut globs = GlobSetBuilder::new();
        for g in &self.exclude {
            globs.add(Glob::new(g).map_err(|e| format!("--exclude {g:?}: {e}"))?);
        }
        let excludes = globs.build().map_err(|e| format!("--exclude: {e}"))?;
        let jobs = match self.jobs {
            Some(0) => return Err("--jobs must be at least 1".into()),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, usize::from),
        };
        let to_terminal = self.output.is_none() && io::stdout().is_terminal();
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
            },
            output: self.output,
            jobs,
            excludes,
            follow_symlinks: self.follow_symlinks,
            max_file_size: self.max_file_size,
            color,
            progress: io::stderr().is_terminal(),
        })
    }
}

/// Parses the command line, runs, and returns the exit code.
#[allow(clippy::print_stderr)]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => match args.resolve() {
            Ok(config) => match run_check(&config) {
                Ok(code) => ExitCode::from(code),
                // The reader went away (`bingate check /usr/bin | head`): stop quietly.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_OK),
                Err(e) => {
                    eprintln!("bingate: {e}");
                    ExitCode::from(EXIT_ERROR)
                }
            },
            Err(e) => {
                eprintln!("bingate: {e}");
                ExitCode::from(EXIT_ERROR)
            }
        },
    }
}

/// Runs `check` with the report going to stdout or, atomically, to `--output`.
pub fn run_check(config: &CheckConfig) -> io::Result<u8> {
    match &config.output {
        None => {
            let stdout = io::stdout();
            let out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
            run_into(config, out)
        }
        // A device or FIFO (`--output /dev/null`, `/dev/stdout`) is written in place: renaming a
        // temporary file over it would replace the device node itself.
        Some(path) if fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) => {
            let out = io::BufWriter::new(fs::OpenOptions::new().write(true).open(path)?);
            run_into(config, out)
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            fs::create_dir_all(&dir)?;
            let tmp = tempfile::NamedTempFile::new_in(&dir)?;
            let out = io::BufWriter::new(tmp.reopen()?);
            let code = run_into(config, out)?;
            tmp.persist(path).map_err(|e| e.error)?;
            Ok(code)
        }
    }
}

fn run_into<W: Write>(config: &CheckConfig, out: W) -> io::Result<u8> {
    let stderr = io::stderr();
    let mut progress_sink = stderr.lock();
    let progress: Option<&mut dyn Write> = if config.progress {
        Some(&mut progress_sink)
    } else {
        None
    };
    let outcome = match config.format {
        OutputFormat::Json => {
            let mut r = JsonRenderer::new(out);
            let o = scan::run(config, &mut r as &mut dyn Renderer, progress)?;
            r.into_inner().flush()?;
            o
        }
        OutputFormat::Human => {
            let mut r = HumanRenderer::new(out, config.color);
            let o = scan::run(config, &mut r as &mut dyn Renderer, progress)?;
            r.into_inner().flush()?;
            o
        }
    };
    Ok(if outcome.tool_errors > 0 {
        EXIT_ERROR
    } else {
        EXIT_OK
    })
}
