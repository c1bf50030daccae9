//! Unsigned companions: the PE files found, while walking a directory, in the same directory as a
//! signed executable that carry no certificate table. A directory is listed on first demand,
//! with the walk's own rules (regular files, symlinks only when followed, `--exclude`), and
//! each sibling read just far enough to find its security directory.
//!
//! The walk is streamed (`walk`), so the siblings are not known from a list of every file:
//! the directory is read again here, once, when one of its files is a signed executable. The
//! listings of the directories met most recently are kept ([`KEPT_DIRS`]); the walk is
//! depth-first, so a directory's files are examined close together.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::walk::{Candidate, relative};
use crate::glob::RootGlobs;

/// Bytes read from each sibling: the DOS header, the PE headers and the data directories of any
/// image whose `e_lfanew` is below 60 KiB (every linker writes it within the first KiB).
const HEAD_LEN: u64 = 64 * 1024;

/// Directory listings kept at once (a listing is dropped, oldest first, beyond this; listing a
/// directory again gives the same answer).
const KEPT_DIRS: usize = 64;

type Listing = Arc<OnceLock<Vec<(PathBuf, String)>>>;

/// The unsigned PE files of each directory that holds a signed executable, computed once.
pub struct Companions<'a> {
    excludes: &'a RootGlobs,
    follow_symlinks: bool,
    unsigned: Mutex<(HashMap<PathBuf, Listing>, VecDeque<PathBuf>)>,
}

impl<'a> Companions<'a> {
    pub fn new(excludes: &'a RootGlobs, follow_symlinks: bool) -> Self {
        Companions {
            excludes,
            follow_symlinks,
            unsigned: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    /// The unsigned PE files the walk finds in `c`'s directory, other than `c`: how many, and
    /// the names of the first `shown` (in path order). Only files met while walking a directory
    /// have companions: files named one by one are not a release folder, and comparing them
    /// with each other would invent companions. A directory of n files costs one listing and
    /// n header reads, once; each call is then O(log n + shown).
    pub fn unsigned_beside(&self, c: &Candidate, shown: usize) -> (usize, Vec<String>) {
        let (Some(root), false) = (c.root.as_deref(), c.explicit) else {
            return (0, Vec::new());
        };
        let path = c.path.as_path();
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let cell = match self.unsigned.lock() {
            Ok(mut guard) => {
                let (map, order) = &mut *guard;
                if !map.contains_key(&dir) {
                    if order.len() >= KEPT_DIRS {
                        if let Some(old) = order.pop_front() {
                            map.remove(&old);
                        }
                    }
                    order.push_back(dir.clone());
                }
                Arc::clone(map.entry(dir.clone()).or_default())
            }
            Err(_) => return (0, Vec::new()),
        };
        let listing = cell.get_or_init(|| {
            self.files_in(root, &dir)
                .into_iter()
                .filter(|p| unsigned_pe(p))
                .map(|p| {
                    let name = p.file_name().map_or_else(
                        || p.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    (p, name)
                })
                .collect()
        });
        // Sorted by path, so membership is a binary search.
        let is_listed = listing
            .binary_search_by(|(p, _)| p.as_path().cmp(path))
            .is_ok();
        let count = listing.len().saturating_sub(usize::from(is_listed));
        let names = listing
            .iter()
            .filter(|(p, _)| p != path)
            .take(shown)
            .map(|(_, n)| n.clone())
            .collect();
        (count, names)
    }

    /// The files the walk of `root` finds directly in `dir`, sorted: regular files, and
    /// symlinks to regular files when symlinks are followed, not excluded.
    fn files_in(&self, root: &Path, dir: &Path) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| match e.file_type() {
                Ok(t) if t.is_file() => true,
                Ok(t) if t.is_symlink() && self.follow_symlinks => {
                    std::fs::metadata(e.path()).is_ok_and(|m| m.is_file())
                }
                _ => false,
            })
            .map(|e| dir.join(e.file_name()))
            .filter(|p| self.excludes.is_empty() || !self.excludes.is_match(&relative(root, p)))
            .collect();
        out.sort();
        out
    }
}

/// Is the file a PE image whose security directory is empty?
fn unsigned_pe(path: &Path) -> bool {
    let Ok(f) = crate::input::open_regular(path) else {
        return false;
    };
    let mut head = Vec::new();
    if f.take(HEAD_LEN).read_to_end(&mut head).is_err() {
        return false;
    }
    crate::pe::declares_certificate_table(&head) == Some(false)
}
