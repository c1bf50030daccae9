//! The resolved run configuration: what the command line asked for, checked and made concrete
//! before any work starts (after ripgrep's low-level vs high-level args).

use std::path::PathBuf;

use crate::glob::RootGlobs;

use crate::policy::{Date, Level, Policy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Human output: the mode's own (`check`'s report, `verify`'s or `risk`'s).
    Human,
    Json,
    Sarif,
    /// One self-contained HTML page: summary, a sortable, filterable table, a panel per file.
    Html,
    /// One row per file, for spreadsheets.
    Csv,
}

/// What the reports show of what was examined: `check`'s `--only-failures`, `--min-level` and
/// `--details`, `verify`'s `--unsigned-only`. The summary counts always cover every file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Only files with a failing finding at `min_level` or above (human and CSV).
    pub only_failures: bool,
    /// Findings below this level are not shown (human, CSV and SARIF).
    pub min_level: Level,
    /// Everything about each file: every fix and control, version information (human).
    pub details: bool,
    /// `verify`: only files without a valid signature.
    pub unsigned_only: bool,
}

impl Default for View {
    fn default() -> Self {
        View {
            only_failures: false,
            min_level: Level::Info,
            details: false,
            unsigned_only: false,
        }
    }
}

/// Revocation lookup: `Some(revoked_at)` when a CRL lists the certificate (with its issuer).
pub type Revoked =
    Box<dyn Fn(&x509_cert::Certificate, &x509_cert::Certificate) -> Option<u64> + Send + Sync>;

/// Authenticode verification settings (`verify`, and `check` on PE files).
pub struct SigningConfig {
    /// The trust anchors, loaded before any file is read. The embedded Microsoft roots cost
    /// nothing until a chain needs one (they are indexed at build time and decoded on demand).
    pub trust: crate::pki::trust::TrustStore,
    /// Verification time (Unix seconds) when no valid timestamp decides it.
    pub at: u64,
    pub strict: bool,
    pub require_all: bool,
    /// Revocation lookup built from `--crl` files.
    pub revoked: Revoked,
    /// `--cert`: candidate signers of kernel module signatures.
    pub module_certs: Vec<x509_cert::Certificate>,
}

impl std::fmt::Debug for SigningConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningConfig")
            .field("code_signing_anchors", &self.trust.code_signing.len())
            .field("at", &self.at)
            .field("strict", &self.strict)
            .field("require_all", &self.require_all)
            .finish()
    }
}

/// What a run does, with what each kind of run needs (and nothing a kind of run cannot use):
/// the subcommand decides it.
#[derive(Debug)]
pub enum Mode {
    /// `bingate check`: every file's facts, judged by the policy when there is one.
    Check {
        /// The policy to judge files with (`None`: facts only).
        policy: Option<Policy>,
        /// Findings at this level or above make the run fail (exit 1).
        fail_on: Level,
        /// The day waiver expiry is judged on.
        today: Date,
        /// Verify signatures and report them under `signature` (`None`: `--no-verify`).
        signing: Option<SigningConfig>,
        /// The SmartScreen-risk estimate's weights (the policy's `[risk]` section), used with
        /// `signing` only: the estimate needs the signature verdict.
        weights: crate::risk::Weights,
    },
    /// `bingate verify`: identity and signatures only; the exit code says whether every file's
    /// signature is valid.
    Verify { signing: SigningConfig },
    /// `bingate risk`: the SmartScreen-risk estimate of PE files; the run fails (exit 1) when a
    /// file's estimate is at `fail_at` or above, or a file cannot be estimated.
    Risk {
        signing: SigningConfig,
        weights: crate::risk::Weights,
        fail_at: crate::risk::RiskLevel,
    },
}

impl Mode {
    /// The signature verification settings, when signatures are verified.
    pub fn signing(&self) -> Option<&SigningConfig> {
        match self {
            Mode::Check { signing, .. } => signing.as_ref(),
            Mode::Verify { signing } | Mode::Risk { signing, .. } => Some(signing),
        }
    }

    /// The policy files are judged with (`check` only).
    pub fn policy(&self) -> Option<&Policy> {
        match self {
            Mode::Check { policy, .. } => policy.as_ref(),
            Mode::Verify { .. } | Mode::Risk { .. } => None,
        }
    }

    /// Whether files' hardening facts are read (`verify` reports identity and signatures only).
    pub fn reads_facts(&self) -> bool {
        match self {
            Mode::Check { .. } | Mode::Risk { .. } => true,
            Mode::Verify { .. } => false,
        }
    }

    /// The weights PE files' SmartScreen risk is estimated with, when it is.
    pub fn risk_weights(&self) -> Option<&crate::risk::Weights> {
        match self {
            Mode::Check {
                signing: Some(_),
                weights,
                ..
            }
            | Mode::Risk { weights, .. } => Some(weights),
            Mode::Check { signing: None, .. } | Mode::Verify { .. } => None,
        }
    }
}

#[derive(Debug)]
pub struct CheckConfig {
    pub paths: Vec<PathBuf>,
    pub format: OutputFormat,
    pub output: Option<PathBuf>,
    pub jobs: usize,
    /// `--exclude`, matched relative to each scanned root.
    pub excludes: RootGlobs,
    pub follow_symlinks: bool,
    pub max_file_size: u64,
    pub color: bool,
    pub progress: bool,
    /// The directory SARIF artifact URIs are relative to (`--sarif-root`; default: the current
    /// directory, which in CI is the repository's root).
    pub sarif_root: PathBuf,
    /// What the reports show.
    pub view: View,
    /// What the run does: check, verify or risk.
    pub mode: Mode,
}

impl CheckConfig {
    /// Whether each file's SHA-256 is computed: only when the report shows it (JSON, HTML, CSV) or a waiver
    /// matches files by hash. Human, SARIF, `verify` and `risk` human output show none.
    pub fn wants_file_hash(&self) -> bool {
        matches!(
            self.format,
            OutputFormat::Json | OutputFormat::Html | OutputFormat::Csv
        ) || self.mode.policy().is_some_and(Policy::waives_by_hash)
    }

    /// Whether each PE file's checksum is computed (one pass over the file): when the report
    /// shows it (JSON) or the policy judges it. The risk estimate, which weighs it, asks for it
    /// too (scan::check::Work).
    pub fn wants_pe_checksum(&self) -> bool {
        self.format == OutputFormat::Json
            || self.mode.policy().is_some_and(Policy::judges_pe_checksum)
    }

    /// The weights the SmartScreen risk is estimated with, when the run shows or judges the
    /// estimate: `risk` always; `check` (with signatures verified) only in JSON and CSV, which
    /// report it, or when the policy has a risk rule.
    pub fn wants_risk(&self) -> Option<&crate::risk::Weights> {
        let weights = self.mode.risk_weights()?;
        let shown = match &self.mode {
            Mode::Risk { .. } => true,
            Mode::Check { policy, .. } => {
                matches!(self.format, OutputFormat::Json | OutputFormat::Csv)
                    || policy.as_ref().is_some_and(Policy::judges_risk)
            }
            Mode::Verify { .. } => false,
        };
        shown.then_some(weights)
    }
}
