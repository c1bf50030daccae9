//! Turning the paths on the command line into a sorted list of files to examine.

use std::fs;
use std::path::{Path, PathBuf};

use globset::GlobSet;
use walkdir::WalkDir;

use crate::report::{SkipReason, Skipped};

/// A path to examine, and whether the user named it (a named non-binary is an error).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub path: PathBuf,
    pub explicit: bool,
}

/// The walk's result: candidates sorted by path, entries skipped without opening, and errors.
#[derive(Debug, Default)]
pub struct Walked {
    pub candidates: Vec<Candidate>,
    pub skipped: Vec<Skipped>,
    /// Paths that could not be walked (missing, unreadable directory), with the reason.
    pub errors: Vec<(String, String)>,
}

fn excluded(excludes: &GlobSet, path: &Path) -> bool {
    !excludes.is_empty()
        && (excludes.is_match(path) || path.file_name().is_some_and(|n| excludes.is_match(n)))
}

pub fn walk(paths: &[PathBuf], excludes: &GlobSet, follow_symlinks: bool) -> Walked {
    let mut out = Walked::default();
    for root in paths {
        // A path the user named is followed even when it is a symlink (as ripgrep does).
        let meta = match fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                out.errors.push((root.display().to_string(), e.to_string()));
                continue;
            }
        };
        if !meta.is_dir() && !meta.is_file() {
            // A FIFO, socket or device named on the command line (directly or through a
            // symlink) is never opened: reading a FIFO blocks, a device never ends.
            out.errors.push((
                root.display().to_string(),
                crate::input::open_regular(root)
                    .err()
                    .map_or_else(|| "not a regular file".to_owned(), |e| e.to_string()),
            ));
            continue;
        }
        if !meta.is_dir() {
            out.candidates.push(Candidate {
                path: root.clone(),
                explicit: true,
            });
            continue;
        }
        let walker = WalkDir::new(root)
            .follow_links(follow_symlinks)
            .follow_root_links(true)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !excluded(excludes, e.path()));
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                // A symlink loop is a property of the tree, not a failure: skip it, say where.
                Err(e) if e.loop_ancestor().is_some() => {
                    if let Some(p) = e.path() {
                        out.skipped.push(Skipped {
                            path: p.display().to_string(),
                            reason: SkipReason::SymlinkLoop,
                        });
                    }
                    continue;
                }
                Err(e) => {
                    let at = e
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| root.display().to_string());
                    out.errors.push((at, e.to_string()));
                    continue;
                }
            };
            let ft = entry.file_type();
            if ft.is_dir() {
                continue;
            }
            let path = entry.into_path();
            let display = path.display().to_string();
            if ft.is_symlink() {
                out.skipped.push(Skipped {
                    path: display,
                    reason: SkipReason::Symlink,
                });
            } else if ft.is_file() {
                out.candidates.push(Candidate {
                    path,
                    explicit: false,
                });
            } else {
                out.skipped.push(Skipped {
                    path: display,
                    reason: SkipReason::NotRegular,
                });
            }
        }
    }
    out.candidates.sort();
    out.candidates.dedup_by(|a, b| a.path == b.path);
    out.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    out.skipped.dedup();
    out
}
