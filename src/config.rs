//! The resolved run configuration: what the command line asked for, checked and made concrete
//! before any work starts (after ripgrep's low-level vs high-level args).

use std::path::PathBuf;

use globset::GlobSet;

use crate::policy::{Date, Level, Policy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Human,
    Json,
    Sarif,
    /// `bingate verify`'s human output.
    Verify,
}

/// Revocation lookup: `Some(revoked_at)` when a CRL lists the certificate (with its issuer).
pub type Revoked =
    Box<dyn Fn(&x509_cert::Certificate, &x509_cert::Certificate) -> Option<u64> + Send + Sync>;

/// Authenticode verification settings (`verify`, and `check` on PE files).
pub struct SigningConfig {
    pub code_signing: crate::pki::chain::Anchors,
    pub time_stamping: crate::pki::chain::Anchors,
    /// Verification time (Unix seconds) when no valid timestamp decides it.
    pub at: u64,
    pub strict: bool,
    pub require_all: bool,
    /// Revocation lookup built from `--crl` files.
    pub revoked: Revoked,
}

impl std::fmt::Debug for SigningConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningConfig")
            .field("code_signing_anchors", &self.code_signing.anchors.len())
            .field("time_stamping_anchors", &self.time_stamping.anchors.len())
            .field("at", &self.at)
            .field("strict", &self.strict)
            .field("require_all", &self.require_all)
            .finish()
    }
}

#[derive(Debug)]
pub struct CheckConfig {
    pub paths: Vec<PathBuf>,
    pub format: OutputFormat,
    pub output: Option<PathBuf>,
    pub jobs: usize,
    pub excludes: GlobSet,
    pub follow_symlinks: bool,
    pub max_file_size: u64,
    pub color: bool,
    pub progress: bool,
    /// The policy to judge files with (`None`: facts only).
    pub policy: Option<Policy>,
    /// Findings at this level or above make the run fail (exit 1).
    pub fail_on: Level,
    /// The day waiver expiry is judged on.
    pub today: Date,
    /// The root SARIF result URIs are relative to.
    pub root: PathBuf,
    /// Verify Authenticode signatures of PE files (and report them under `signature`).
    pub signing: Option<SigningConfig>,
    /// `verify` mode: the exit code says whether every file's signature is valid.
    pub verify_mode: bool,
}
