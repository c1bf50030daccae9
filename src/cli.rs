//! The command line: clap definitions (what the user typed) and their resolution into a
//! [`CheckConfig`] (what we run), then the run itself with its exit code.

use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::budget::DEFAULT_MAX_FILE_SIZE;
use crate::config::{CheckConfig, Mode, OutputFormat};
use crate::policy::{self, Date, Level};
use crate::report::{HumanRenderer, JsonRenderer, Renderer};
use crate::scan;

/// Exit codes (documented in the README and `--help`).
pub const EXIT_OK: u8 = 0;
pub const EXIT_POLICY_FAILED: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

const EXIT_CODES: &str = "Exit codes: 0 when no finding at the --fail-on level or above failed \
(facts-only runs: 0); 1 when at least one did, or when nothing was judged (no PE or ELF file \
found, or no rule of the policy applied to any file; said on stderr); 2 for usage, policy-file or \
I/O errors.";

#[derive(Parser, Debug)]
#[command(
    name = "bingate",
    version,
    about = "Is this Windows or Linux binary fit to ship or to run?",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Report the exploit mitigations of every PE and ELF file under PATH... and judge them
    /// against a policy.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// List, show, validate and explain policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Verify signatures: Authenticode on PE files, `.bingate.sig` sections and appended kernel
    /// module signatures on ELF files: signed, by whom, trusted, timestamped, tampered with?
    #[command(after_help = VERIFY_EXIT_CODES)]
    Verify(VerifyArgs),
    /// Estimate what Windows users will see when they download and open each PE file
    /// (SmartScreen, Defender): an offline estimate with the evidence and a fix for each.
    #[command(after_help = RISK_EXIT_CODES)]
    Risk(RiskArgs),
    /// The trust anchors signatures are verified against.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Sign files.
    #[command(subcommand)]
    Sign(SignCommand),
}

#[derive(Subcommand, Debug)]
pub enum SignCommand {
    /// Sign an ELF file: an embedded `.bingate.sig` CMS section (default) or a Linux kernel
    /// module signature. Exit 0 when signed, 2 on any error (nothing is written then).
    Elf(crate::sign::command::SignElfArgs),
}

const VERIFY_EXIT_CODES: &str = "Exit codes: 0 when every file's signature is valid; 1 otherwise; \
2 for usage or I/O errors.";

#[derive(Subcommand, Debug)]
pub enum TrustCommand {
    /// The trust anchors and what each is trusted for.
    List {
        #[command(flatten)]
        trust: TrustArgs,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequireArg {
    /// The file's status is the primary signature's (first signature of the first entry).
    Primary,
    /// Every signature, nested ones included, must be valid.
    All,
}

/// Where trust comes from and how strictly signatures are judged.
#[derive(clap::Args, Debug, Clone)]
pub struct TrustArgs {
    /// Trust the certificates in FILE (PEM) or DIR (PEM/DER files) for code signing and time
    /// stamping; repeatable.
    #[arg(long = "trust", value_name = "FILE|DIR")]
    pub trust: Vec<PathBuf>,
    /// Do not use the embedded Microsoft roots.
    #[arg(long)]
    pub no_default_trust: bool,
    /// Also trust the system bundle (/etc/ssl/certs).
    #[arg(long)]
    pub system_trust: bool,
    /// Use this authroot.stl (Microsoft's certificate trust list) for the roots' purposes and dates.
    #[arg(long, value_name = "FILE")]
    pub ctl: Option<PathBuf>,
    /// Certificate revocation lists (DER or PEM); repeatable.
    #[arg(long, value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// Verification time (RFC 3339, e.g. 2026-11-22T00:00:00Z; default: now).
    #[arg(long, value_name = "RFC3339")]
    pub time: Option<String>,
    /// Emulate EnableCertPaddingCheck: any anomaly (padding, trailing data, SHA-1 only, weak
    /// key…) makes the signature invalid.
    #[arg(long)]
    pub strict: bool,
    /// Which signatures decide the file's status.
    #[arg(long, value_enum, default_value = "primary")]
    pub require: RequireArg,
    /// A candidate signer certificate for kernel module signatures (which carry none); PEM or
    /// DER; repeatable.
    #[arg(long = "cert", value_name = "CERT")]
    pub cert: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: VerifyFormatArg,
    /// Colour in human output.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorArg,
    /// Files (or directories) to verify.
    #[arg(required = true, value_name = "FILE")]
    pub paths: Vec<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyFormatArg {
    Human,
    Json,
}

impl VerifyArgs {
    /// A `check` run with verification on, no policy, and verify's own output and exit code.
    pub fn resolve(self) -> Result<CheckConfig, String> {
        let signing = self.trust.resolve()?;
        Ok(signature_run(
            self.paths,
            self.format,
            self.color,
            Mode::Verify { signing },
        ))
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
        root: PathBuf::from("."),
        mode,
    }
}

const RISK_EXIT_CODES: &str = "Exit codes: 0 when no PE file's estimate is at the --fail-on level \
or above; 1 when one is; 2 for usage, policy-file or I/O errors.";

/// `bingate risk`: the SmartScreen-risk estimate of every PE file.
#[derive(clap::Args, Debug)]
pub struct RiskArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Read evidence weights and level thresholds from this policy's `[risk]` section (a
    /// shipped name or a TOML file); its rules are not applied.
    #[arg(long, value_name = "NAME|FILE")]
    pub policy: Option<String>,
    /// Fail (exit 1) when a file's estimate is at this level or above.
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: RiskLevelArg,
    /// Output format (json: the `check` report, with a `risk` object per PE file).
    #[arg(long, value_enum, default_value = "human")]
    pub format: VerifyFormatArg,
    /// Colour in human output.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorArg,
    /// PE files or directories to estimate.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RiskLevelArg {
    Low,
    Medium,
    High,
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

impl TrustArgs {
    /// Loads trust anchors and CRLs: the verification settings for `verify` and `check`.
    pub fn resolve(&self) -> Result<crate::config::SigningConfig, String> {
        // User-named sources are read now, so a bad file is a usage error before any work; the
        // full store (with the embedded roots) loads in the background.
        let user_sources = crate::pki::trust::TrustOptions {
            default_store: false,
            ..self.options()
        };
        if user_sources.ctl.is_some() || user_sources.system || !user_sources.extra.is_empty() {
            crate::pki::trust::load(&user_sources)?;
        }
        let at = match &self.time {
            Some(t) => crate::time::parse_rfc3339(t).ok_or_else(|| {
                format!("--time {t:?}: expected RFC 3339, e.g. 2026-11-22T00:00:00Z")
            })?,
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        let mut revocations = crate::pki::crl::Revocations::default();
        for f in &self.crl {
            let bytes = crate::input::read_limited(f, crate::budget::MAX_SMALL_INPUT_SIZE)
                .map_err(|e| format!("--crl {}: {e}", f.display()))?;
            revocations.extend(crate::pki::crl::load(&bytes, &f.display().to_string())?);
        }
        let mut module_certs = Vec::new();
        for f in &self.cert {
            let bytes = crate::input::read_limited(f, crate::budget::MAX_SMALL_INPUT_SIZE)
                .map_err(|e| format!("--cert {}: {e}", f.display()))?;
            module_certs.extend(
                crate::sign::key::load_certificates(&bytes, &f.display().to_string())
                    .map_err(|e| format!("--cert: {e}"))?,
            );
        }
        Ok(crate::config::SigningConfig {
            module_certs,
            trust: crate::config::TrustHandle::spawn(self.options()),
            at,
            strict: self.strict,
            require_all: self.require == RequireArg::All,
            revoked: Box::new(
                move |cert, issuer| match revocations.check(cert, issuer, at) {
                    crate::pki::crl::RevocationStatus::Revoked { at, .. } => Some(at),
                    _ => None,
                },
            ),
        })
    }

    pub fn options(&self) -> crate::pki::trust::TrustOptions {
        crate::pki::trust::TrustOptions {
            default_store: !self.no_default_trust,
            ctl: self.ctl.clone(),
            system: self.system_trust,
            extra: self.trust.clone(),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// The shipped policies: name, description, rule count.
    List,
    /// A policy's rules with level, applicability and controls.
    Show {
        /// A shipped policy name or a policy file.
        policy: String,
    },
    /// Check a policy file; prints every problem with file:line:column (exit 0, or 2).
    Validate {
        /// The policy file.
        file: PathBuf,
    },
    /// What a rule checks, why, how to fix it per toolchain, and the controls it implements.
    Explain {
        /// The rule id, e.g. pe-nx-compat.
        rule: String,
        /// Look the rule up in this policy (default: the shipped policies).
        #[arg(long)]
        policy: Option<String>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    Human,
    Json,
    Sarif,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOnArg {
    Deny,
    Warn,
    Info,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Output format (sarif: SARIF 2.1.0 for code scanning; needs a policy).
    #[arg(long, value_enum, default_value = "human")]
    pub format: FormatArg,
    /// Write the report to FILE (atomically: a temporary file renamed into place; `-` is stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Files examined in parallel (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Skip files and directories whose path relative to the scanned PATH matches GLOB, at any
    /// depth (`vendor/**`, `*.so`); a leading `/` anchors it at the PATH; repeatable.
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
    /// Policy to judge the files with: a shipped name (`bingate policy list`) or a TOML file.
    #[arg(long, value_name = "NAME|FILE", default_value = "default")]
    pub policy: String,
    /// Report facts only; apply no policy.
    #[arg(long, conflicts_with_all = ["waivers", "today"])]
    pub no_policy: bool,
    /// Extra waivers (a file of `[[waiver]]` entries); repeatable.
    #[arg(long, value_name = "FILE")]
    pub waivers: Vec<PathBuf>,
    /// Fail (exit 1) when a finding at this level or above fails.
    #[arg(long, value_enum, default_value = "deny")]
    pub fail_on: FailOnArg,
    /// Judge waiver expiry as of this day (YYYY-MM-DD, UTC; default: today).
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
    /// Do not verify Authenticode signatures of PE files.
    #[arg(long)]
    pub no_verify: bool,
    #[command(flatten)]
    pub signing: TrustArgs,
    /// Files or directories to examine.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
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
        // SARIF URIs are relative to the scanned directory when there is exactly one.
        let root = match self.paths.as_slice() {
            [one] if one.is_dir() => one.clone(),
            _ => PathBuf::from("."),
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
            },
            output: self.output,
            jobs,
            excludes,
            follow_symlinks: self.follow_symlinks,
            max_file_size: self.max_file_size,
            color,
            progress: progress_wanted(to_terminal),
            root,
            mode: Mode::Check {
                policy,
                fail_on: match self.fail_on {
                    FailOnArg::Deny => Level::Deny,
                    FailOnArg::Warn => Level::Warn,
                    FailOnArg::Info => Level::Info,
                },
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

/// An error message for stderr: every character a terminal would act on (ESC, CR, bidi
/// overrides…) escaped, as in human reports, in each line. Line breaks stay: multi-line messages
/// are policy diagnostics, whose own parts are escaped already (src/policy/diag.rs).
fn for_terminal(message: &str) -> String {
    message
        .split('\n')
        .map(|line| crate::report::escape::text(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses the command line, runs, and returns the exit code.
#[allow(clippy::print_stderr)]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => match args.resolve() {
            Ok(config) => run_check(&config),
            Err(e) => {
                eprintln!("bingate: {}", for_terminal(&e.to_string()));
                return ExitCode::from(EXIT_ERROR);
            }
        },
        Command::Policy(cmd) => {
            let stdout = io::stdout();
            let mut out = stdout.lock();
            policy::commands::run(cmd, &mut out)
        }
        Command::Risk(args) => match args.resolve() {
            Ok(config) => run_check(&config),
            Err(e) => {
                eprintln!("bingate: {}", for_terminal(&e.to_string()));
                return ExitCode::from(EXIT_ERROR);
            }
        },
        Command::Verify(args) => match args.resolve() {
            Ok(config) => run_check(&config),
            Err(e) => {
                eprintln!("bingate: {}", for_terminal(&e.to_string()));
                return ExitCode::from(EXIT_ERROR);
            }
        },
        Command::Sign(SignCommand::Elf(args)) => {
            crate::cleanup::install();
            let resolved = match args.resolve() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("bingate: sign: {}", for_terminal(&e.to_string()));
                    return ExitCode::from(EXIT_ERROR);
                }
            };
            let stdout = io::stdout();
            let mut out = stdout.lock();
            match crate::sign::command::run(&resolved, &mut out) {
                Ok(()) => Ok(EXIT_OK),
                Err(e) => {
                    eprintln!("bingate: sign: {}", for_terminal(&e.to_string()));
                    return ExitCode::from(EXIT_ERROR);
                }
            }
        }
        Command::Trust(TrustCommand::List { trust }) => {
            match crate::pki::trust::load(&trust.options()) {
                Ok(store) => {
                    let stdout = io::stdout();
                    let mut out = stdout.lock();
                    crate::pki::trust::list(&store, &mut out).map(|()| EXIT_OK)
                }
                Err(e) => {
                    eprintln!("bingate: {}", for_terminal(&e.to_string()));
                    return ExitCode::from(EXIT_ERROR);
                }
            }
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`bingate check /usr/bin | head`): stop quietly.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("bingate: {}", for_terminal(&e.to_string()));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The progress bar is drawn on stderr when it is a terminal, and only when the report does not
/// go to a terminal too (`to_terminal`: stdout is one and there is no `--output`): the bar's
/// carriage returns would otherwise interleave with report lines on the same screen.
fn progress_wanted(to_terminal: bool) -> bool {
    io::stderr().is_terminal() && !to_terminal
}

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
    let stderr = io::stderr();
    let mut progress_sink = stderr.lock();
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
                let mut r = HumanRenderer::new(out, config.color);
                let o = scan::run(config, &mut r as &mut dyn Renderer, progress)?;
                r.into_inner().flush()?;
                o
            }
            Mode::Verify { .. } => {
                let mut r = crate::report::VerifyRenderer::new(out, config.color);
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
        OutputFormat::Sarif => {
            let Some(policy) = config.mode.policy() else {
                return Err(io::Error::other(
                    "--format sarif needs a policy (drop --no-policy)",
                ));
            };
            let root = std::path::absolute(&config.root)?;
            let mut r = crate::report::SarifRenderer::new(out, policy, &root);
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
            let all_valid = outcome
                .summary
                .signatures
                .as_ref()
                .is_some_and(|c| c.valid == outcome.summary.files);
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
                "bingate: no rule of policy `{}` applied to any of the {examined} files examined \
                 (for example a Windows policy on ELF files): nothing was judged",
                policy.name
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
