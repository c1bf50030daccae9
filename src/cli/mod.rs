//! The command line: clap definitions (what the user typed) and dispatch to the subcommands'
//! code: `check.rs` resolves `check`, `verify` and `risk` arguments into a [`CheckConfig`] (what
//! we run) and `run.rs` runs it with its exit code; `trust.rs` resolves the trust arguments,
//! `sign.rs` signs, and `policy.rs` lists, shows, validates and explains policies. Only this
//! layer prints.

mod audit;
mod check;
mod policy;
mod run;
mod sign;
mod trust;

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::budget::DEFAULT_MAX_FILE_SIZE;
#[cfg(doc)]
use crate::config::CheckConfig;

pub use run::run_check;

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
    /// Remove, extract or attach a PE file's Authenticode signature (two-step signing).
    /// Exit 0 on success, 2 on any error (nothing is written then).
    #[command(subcommand)]
    Signature(crate::sign::pe::SignatureCommand),
    /// Verify or list the signing server's audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Run the signing server: check, sign, and record every signature in a tamper-evident
    /// audit log (API: docs/openapi.yaml). Stops on SIGTERM/SIGINT after draining requests.
    Serve(ServeArgs),
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["config", "new_token"])))]
pub struct ServeArgs {
    /// The server's configuration (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print a new client token and the [clients.NAME] entry that admits it, then exit.
    #[arg(long, value_name = "NAME")]
    pub new_token: Option<String>,
}

// Parsed once per run: how large the largest variant is costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum SignCommand {
    /// Sign an ELF file: an embedded `.bingate.sig` CMS section (default) or a Linux kernel
    /// module signature. Exit 0 when signed, 2 on any error (nothing is written then).
    Elf(crate::sign::command::SignElfArgs),
    /// Sign a PE file (EXE, DLL, SYS, EFI) with Authenticode: the image hash, signed
    /// attributes as signtool writes them, an optional RFC 3161 timestamp; the output is
    /// verified before it is written. Exit 0 when signed, 2 on any error (nothing is written
    /// then).
    Pe(crate::sign::pe::SignPeArgs),
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
    /// List only the files without a valid signature: unsigned, invalid, untrusted or
    /// malformed, and files that could not be read (sigcheck's -u, whose "unsigned" is any file
    /// that does not verify). A zip, tar, deb or rpm has no signature of its own and is left out;
    /// its binaries are listed for themselves. The status lines still count every file.
    #[arg(long)]
    pub unsigned_only: bool,
    /// Files (or directories) to verify.
    #[arg(required = true, value_name = "FILE")]
    pub paths: Vec<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyFormatArg {
    Human,
    Json,
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
    Html,
    Csv,
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
    /// Output format (sarif: SARIF 2.1.0 for code scanning, needs a policy; html: one
    /// self-contained page, best with --output; csv: one row per file).
    #[arg(long, value_enum, default_value = "human")]
    pub format: FormatArg,
    /// Show only files with a failing finding at --min-level or above (human and CSV).
    #[arg(long)]
    pub only_failures: bool,
    /// Show findings at this level or above only (human, CSV and SARIF); the summary still counts
    /// every finding.
    #[arg(long, value_enum, default_value = "info")]
    pub min_level: FailOnArg,
    /// Show everything about each file: each finding's fix and controls, version information
    /// (human).
    #[arg(long)]
    pub details: bool,
    /// Make SARIF artifact URIs relative to DIR (default: the current directory; in CI, the
    /// repository's root).
    #[arg(long, value_name = "DIR")]
    pub sarif_root: Option<PathBuf>,
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

/// An error message for stderr: every character a terminal would act on (ESC, CR, bidi
/// overrides…) escaped, as in human reports, in each line. Line breaks stay: multi-line messages
/// are policy diagnostics, whose own parts are escaped already (src/policy/diag.rs).
fn for_terminal(message: &str) -> String {
    message
        .split('\n')
        .map(|line| crate::escape::text(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Says on stderr why the run stops (`context` names the subcommand when it says more) and
/// gives exit 2.
// The CLI layer is where bingate prints.
#[allow(clippy::print_stderr, clippy::disallowed_macros)]
fn error(context: &str, message: &str) -> ExitCode {
    eprintln!("bingate: {context}{}", for_terminal(message));
    ExitCode::from(EXIT_ERROR)
}

/// Says on stderr why the gate refused and gives exit 1 (`sign pe --policy/--risk-at-most`).
// The CLI layer is where bingate prints.
#[allow(clippy::print_stderr, clippy::disallowed_macros)]
fn refused(context: &str, message: &str) -> ExitCode {
    eprintln!("bingate: {context}refused: {}", for_terminal(message));
    ExitCode::from(1)
}

/// Parses the command line, runs, and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => match args.resolve() {
            Ok(config) => run_check(&config),
            Err(e) => return error("", &e),
        },
        Command::Policy(cmd) => {
            policy::run(cmd, &mut io::stdout().lock(), &mut io::stderr().lock())
        }
        Command::Risk(args) => match args.resolve() {
            Ok(config) => run_check(&config),
            Err(e) => return error("", &e),
        },
        Command::Verify(args) => match args.resolve() {
            Ok(config) => run_check(&config),
            Err(e) => return error("", &e),
        },
        Command::Sign(SignCommand::Elf(args)) => match sign::elf(args, &mut io::stdout().lock()) {
            Ok(()) => Ok(EXIT_OK),
            Err(e) => return error("sign: ", &e),
        },
        Command::Sign(SignCommand::Pe(args)) => {
            crate::cleanup::install();
            match crate::sign::pe::sign(args, &mut io::stdout().lock()) {
                Ok(()) => Ok(EXIT_OK),
                Err(crate::sign::pe::Failure::Refused(e)) => return refused("sign: ", &e),
                Err(crate::sign::pe::Failure::Error(e)) => return error("sign: ", &e),
            }
        }
        Command::Signature(cmd) => {
            crate::cleanup::install();
            match crate::sign::pe::signature(cmd, &mut io::stdout().lock()) {
                Ok(()) => Ok(EXIT_OK),
                Err(e) => return error("signature: ", &e),
            }
        }
        Command::Audit(cmd) => match audit::run(cmd, &mut io::stdout().lock()) {
            Ok(code) => Ok(code),
            Err(e) => return error("audit: ", &e),
        },
        Command::Serve(args) => {
            let r = match (&args.new_token, &args.config) {
                (Some(name), _) => crate::serve::new_token(name, &mut io::stdout().lock()),
                (None, Some(config)) => crate::serve::run(config, &mut io::stderr().lock()),
                (None, None) => Err("--config FILE is required".into()),
            };
            match r {
                Ok(()) => Ok(EXIT_OK),
                Err(e) => return error("serve: ", &e),
            }
        }
        Command::Trust(TrustCommand::List { trust }) => {
            match crate::pki::trust::load(&trust.options()) {
                Ok(store) => {
                    crate::pki::trust::list(&store, &mut io::stdout().lock()).map(|()| EXIT_OK)
                }
                Err(e) => return error("", &e.to_string()),
            }
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`bingate check /usr/bin | head`): stop quietly.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_OK),
        Err(e) => error("", &e.to_string()),
    }
}
