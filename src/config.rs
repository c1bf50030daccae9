//! The resolved run configuration: what the command line asked for, checked and made concrete
//! before any work starts (after ripgrep's low-level vs high-level args).

use std::path::PathBuf;

use globset::GlobSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Human,
    Json,
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
}
