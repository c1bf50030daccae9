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
}

#[derive(Debug, Clone)]
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
}
