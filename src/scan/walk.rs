//! Turning the paths on the command line into a stream of files to examine, in path order.
//!
//! The walk is streamed: each directory's entries are read and sorted when it is entered
//! (walkdir's `sort_by_file_name`), and files come out one at a time, so memory grows with the
//! depth and width of the tree being walked, not with the number of files in it. A depth-first
//! walk that visits each directory's entries sorted by name yields paths in `Path`'s order
//! (component by component), so several roots are merged into one sorted stream and a file
//! reached from two roots is examined once.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

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
    /// The directory on the command line it was found under (`None`: named itself).
    pub root: Option<Arc<Path>>,
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

/// What the walk yields, in path order.
#[derive(Debug)]
pub enum Entry {
    File(Candidate),
    Error(WalkError),
    /// Not examined (a symlink, a FIFO, a symlink loop): listed in the summary.
    Skipped(Skipped),
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

/// One command-line path's entries, in path order, each with the path it sorts by.
type Source<'a> = Box<dyn Iterator<Item = (PathBuf, Entry)> + 'a>;

/// Walks `paths`: the entries of all of them merged into one stream in path order (a file
/// reached twice is yielded once, as found by walking rather than as named). `excludes` is
/// matched against each entry's path relative to the root it was found under
/// (`glob::RootGlobs`); the paths named in `paths` are never excluded.
pub fn walk<'a>(
    paths: &'a [PathBuf],
    excludes: &'a RootGlobs,
    follow_symlinks: bool,
) -> impl Iterator<Item = Entry> + 'a {
    let sources: Vec<Source<'a>> = paths
        .iter()
        .map(|root| source(root, excludes, follow_symlinks))
        .collect();
    Merge {
        heads: sources.into_iter().map(|s| (None, s)).collect(),
        last: None,
    }
}

/// The entries of one command-line path.
fn source<'a>(root: &'a Path, excludes: &'a RootGlobs, follow_symlinks: bool) -> Source<'a> {
    let one = |e: Entry| -> Source<'a> { Box::new(std::iter::once((root.to_path_buf(), e))) };
    // A path the user named is followed even when it is a symlink (as ripgrep does).
    let meta = match fs::metadata(root) {
        Ok(m) => m,
        Err(e) => {
            return one(Entry::Error(WalkError {
                path: root.display().to_string(),
                rel: relative(root, root),
                error: FileError::from(&e),
            }));
        }
    };
    if !meta.is_dir() && !meta.is_file() {
        // A FIFO, socket or device named on the command line (directly or through a symlink)
        // is never opened: reading a FIFO blocks, a device never ends.
        return one(Entry::Error(WalkError {
            path: root.display().to_string(),
            rel: relative(root, root),
            error: crate::input::open_regular(root)
                .err()
                .map_or_else(FileError::not_regular, |e| FileError::from(&e)),
        }));
    }
    if !meta.is_dir() {
        return one(Entry::File(Candidate {
            path: root.to_path_buf(),
            explicit: true,
            rel: relative(root, root),
            root: None,
        }));
    }
    let shared: Arc<Path> = Arc::from(root);
    let walker = WalkDir::new(root)
        .follow_links(follow_symlinks)
        .follow_root_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| e.depth() == 0 || !excluded(excludes, root, e));
    Box::new(walker.filter_map(move |entry| {
        let entry = match entry {
            Ok(e) => e,
            // A symlink loop is a property of the tree, not a failure: skip it, say where.
            Err(e) if e.loop_ancestor().is_some() => {
                let p = e.path()?.to_path_buf();
                let display = p.display().to_string();
                return Some((
                    p,
                    Entry::Skipped(Skipped {
                        path: display,
                        reason: SkipReason::SymlinkLoop,
                    }),
                ));
            }
            Err(e) => {
                let at = e.path().unwrap_or(root).to_path_buf();
                let error = WalkError {
                    path: at.display().to_string(),
                    rel: relative(root, &at),
                    error: FileError::io(e.to_string()),
                };
                return Some((at, Entry::Error(error)));
            }
        };
        let ft = entry.file_type();
        if ft.is_dir() {
            return None;
        }
        let path = entry.into_path();
        let display = path.display().to_string();
        let out = if ft.is_symlink() {
            Entry::Skipped(Skipped {
                path: display,
                reason: SkipReason::Symlink,
            })
        } else if ft.is_file() {
            Entry::File(Candidate {
                rel: relative(root, &path),
                path: path.clone(),
                explicit: false,
                root: Some(Arc::clone(&shared)),
            })
        } else {
            Entry::Skipped(Skipped {
                path: display,
                reason: SkipReason::NotRegular,
            })
        };
        Some((path, out))
    }))
}

/// A k-way merge of sorted sources (k = the paths on the command line).
struct Merge<'a> {
    /// Each source with its next entry, once pulled.
    heads: Vec<(Option<(PathBuf, Entry)>, Source<'a>)>,
    /// The last file yielded, to drop the same file reached again from another root.
    last: Option<PathBuf>,
}

impl Iterator for Merge<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            for (head, src) in &mut self.heads {
                if head.is_none() {
                    *head = src.next();
                }
            }
            // The smallest path; between equal paths, a walked file before a named one.
            let key = |e: &Entry| match e {
                Entry::File(c) => u8::from(c.explicit),
                Entry::Error(_) | Entry::Skipped(_) => 2,
            };
            let pick = self
                .heads
                .iter()
                .enumerate()
                .filter_map(|(i, (h, _))| h.as_ref().map(|(p, e)| (p, key(e), i)))
                .min()
                .map(|(_, _, i)| i)?;
            let (path, entry) = self.heads.get_mut(pick)?.0.take()?;
            if let Entry::File(_) = entry {
                if self.last.as_ref() == Some(&path) {
                    continue;
                }
                self.last = Some(path);
            }
            return Some(entry);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
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

    fn files(entries: impl Iterator<Item = Entry>) -> Vec<(String, bool)> {
        entries
            .filter_map(|e| match e {
                Entry::File(c) => Some((c.path.display().to_string(), c.explicit)),
                Entry::Error(e) => Some((format!("error {}", e.path), false)),
                Entry::Skipped(_) => None,
            })
            .collect()
    }

    /// Several roots, overlapping and named in any order, give one stream in `Path` order
    /// (component by component: `a/z` before `a.txt`), each file once, as walked when it is
    /// both walked and named; a missing root is an error at its place in that order.
    #[test]
    fn roots_merge_into_one_sorted_stream_without_repeats() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["a/z", "a.txt", "b/c/d", "b/c.x", "b0", "e"] {
            let p = d.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, b"x").unwrap();
        }
        let roots = vec![
            d.join("b"),
            d.join("e"),
            d.to_path_buf(),
            d.join("b/c.x"),
            d.join("c-missing"),
        ];
        let got = files(walk(&roots, &RootGlobs::default(), false));
        let at = |f: &str| d.join(f).display().to_string();
        let want = vec![
            (at("a/z"), false),
            (at("a.txt"), false),
            (at("b/c/d"), false),
            (at("b/c.x"), false),
            (at("b0"), false),
            (format!("error {}", at("c-missing")), false),
            (at("e"), false),
        ];
        assert_eq!(got, want);
        // Named alone, a file is explicit.
        let got = files(walk(&[d.join("e")], &RootGlobs::default(), false));
        assert_eq!(got, vec![(at("e"), true)]);
    }

    /// The stream is lazy: the first file comes out before the rest of a large tree is read.
    #[test]
    fn the_walk_yields_before_it_has_read_everything() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("a"), b"x").unwrap();
        fs::create_dir(d.join("z")).unwrap();
        let roots = vec![d.to_path_buf()];
        let no = RootGlobs::default();
        let mut it = walk(&roots, &no, false);
        assert!(matches!(it.next(), Some(Entry::File(c)) if c.path == d.join("a")));
        // Created after the first file was yielded, inside a directory not yet entered: found.
        fs::write(d.join("z/late"), b"x").unwrap();
        assert!(matches!(it.next(), Some(Entry::File(c)) if c.path == d.join("z/late")));
        assert!(it.next().is_none());
    }
}
