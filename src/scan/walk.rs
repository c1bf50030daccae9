//! Turning the paths on the command line into a sorted list of files to examine.

use std::fs;
use std::path::{Component, Path, PathBuf};

use walkdir::WalkDir;

use crate::error::FileError;
use crate::glob::RootGlobs;
use crate::report::{SkipReason, Skipped};

/// A path to examine, and whether the user named it (a named non-binary is an error).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    /// The path as walked (`./dist/a.dll` when the root was `./dist`): what the report shows.
    pub path: PathBuf,
    pub explicit: bool,
    /// The path relative to the root it was found under ([`relative`]): what globs match.
    pub rel: String,
}

/// A path that could not be walked (missing, unreadable directory), with the reason.
#[derive(Debug, Clone)]
pub struct WalkError {
    /// As the report shows it.
    pub path: String,
    /// Relative to the root it was met under ([`relative`]), for waivers.
    pub rel: String,
    pub error: crate::error::FileError,
}

/// The walk's result: candidates sorted by path, entries skipped without opening, and errors.
#[derive(Debug, Default)]
pub struct Walked {
    pub candidates: Vec<Candidate>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<WalkError>,
}

/// `path`, found under the command-line PATH `root`, relative to `root`: its `Normal`
/// components joined with `/` on every platform (no `./`, no leading or trailing `/`), so that
/// `dist`, `./dist`, `dist/` and `/abs/dist` give the same relative paths. The root itself
/// (a file named directly on the command line) is its own file name. A name that is not UTF-8
/// is converted lossily (U+FFFD), which `*` still matches.
pub fn relative(root: &Path, path: &Path) -> String {
    let rest = match path.strip_prefix(root) {
        Ok(rest) if !rest.as_os_str().is_empty() => rest,
        _ => path.file_name().map_or(path, Path::new),
    };
    let mut out = String::new();
    for c in rest.components() {
        if let Component::Normal(name) = c {
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(&name.to_string_lossy());
        }
    }
    out
}

/// Whether a walked entry (never a root) is excluded; a directory that is, is not entered.
fn excluded(excludes: &RootGlobs, root: &Path, entry: &walkdir::DirEntry) -> bool {
    if excludes.is_empty() {
        return false;
    }
    let rel = relative(root, entry.path());
    if entry.file_type().is_dir() {
        excludes.excludes_dir(&rel)
    } else {
        excludes.is_match(&rel)
    }
}

/// Walks `paths` in order. `excludes` is matched against each entry's path relative to the
/// root it was found under (`glob::RootGlobs`); the paths named in `paths` are never excluded.
pub fn walk(paths: &[PathBuf], excludes: &RootGlobs, follow_symlinks: bool) -> Walked {
    let mut out = Walked::default();
    for root in paths {
        // A path the user named is followed even when it is a symlink (as ripgrep does).
        let meta = match fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                out.errors.push(WalkError {
                    path: root.display().to_string(),
                    rel: relative(root, root),
                    error: FileError::from(&e),
                });
                continue;
            }
        };
        if !meta.is_dir() && !meta.is_file() {
            // A FIFO, socket or device named on the command line (directly or through a
            // symlink) is never opened: reading a FIFO blocks, a device never ends.
            out.errors.push(WalkError {
                path: root.display().to_string(),
                rel: relative(root, root),
                error: crate::input::open_regular(root)
                    .err()
                    .map_or_else(FileError::not_regular, |e| FileError::from(&e)),
            });
            continue;
        }
        if !meta.is_dir() {
            out.candidates.push(Candidate {
                path: root.clone(),
                explicit: true,
                rel: relative(root, root),
            });
            continue;
        }
        let walker = WalkDir::new(root)
            .follow_links(follow_symlinks)
            .follow_root_links(true)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !excluded(excludes, root, e));
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
                    let at = e.path().unwrap_or(root);
                    out.errors.push(WalkError {
                        path: at.display().to_string(),
                        rel: relative(root, at),
                        error: FileError::io(e.to_string()),
                    });
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
                let rel = relative(root, &path);
                out.candidates.push(Candidate {
                    path,
                    explicit: false,
                    rel,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_do_not_depend_on_how_the_root_was_spelled() {
        for (root, path) in [
            ("dist", "dist/a/b.dll"),
            ("./dist", "./dist/a/b.dll"),
            ("dist/", "dist/a/b.dll"),
            ("/abs/dist", "/abs/dist/a/b.dll"),
            ("/abs/dist/", "/abs/dist/a/b.dll"),
            (".", "./a/b.dll"),
            ("../x/dist", "../x/dist/a/b.dll"),
        ] {
            assert_eq!(
                relative(Path::new(root), Path::new(path)),
                "a/b.dll",
                "{root}"
            );
        }
    }

    #[test]
    fn a_named_file_is_its_own_file_name() {
        for root in ["x.exe", "./x.exe", "dist/sub/x.exe", "/abs/dist/x.exe"] {
            assert_eq!(
                relative(Path::new(root), Path::new(root)),
                "x.exe",
                "{root}"
            );
        }
    }
}
