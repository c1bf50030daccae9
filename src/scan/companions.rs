//! Unsigned companions: the PE files found, while walking a directory, in the same directory as a
//! signed executable that carry no certificate table. Each directory is looked at once, on first demand, by reading just
//! enough of every sibling to find its security directory.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::walk::Candidate;

/// Bytes read from each sibling: the DOS header, the PE headers and the data directories of any
/// image whose `e_lfanew` is below 60 KiB (every linker writes it within the first KiB).
const HEAD_LEN: u64 = 64 * 1024;

type Listing = Arc<OnceLock<Vec<(PathBuf, String)>>>;

/// The candidates of a run grouped by directory, with the unsigned PE files of each directory
/// computed once.
pub struct Companions {
    by_dir: HashMap<PathBuf, Vec<PathBuf>>,
    unsigned: Mutex<HashMap<PathBuf, Listing>>,
}

impl Companions {
    pub fn new(candidates: &[Candidate]) -> Self {
        let mut by_dir: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
        // Only files met while walking a directory: files named one by one are not a release
        // folder, and comparing them with each other would invent companions.
        for c in candidates.iter().filter(|c| !c.explicit) {
            let dir = c.path.parent().map(Path::to_path_buf).unwrap_or_default();
            by_dir.entry(dir).or_default().push(c.path.clone());
        }
        Companions {
            by_dir,
            unsigned: Mutex::new(HashMap::new()),
        }
    }

    /// The unsigned PE files examined in `path`'s directory, other than `path`: how many, and
    /// the names of the first `shown` (in path order). The work per call is O(log n + shown)
    /// once the directory's listing exists (built once per directory, in path order), so a
    /// directory of n signed and unsigned files costs O(n log n), not O(n²) (40,000 files took
    /// 204 s when every call copied the whole list).
    pub fn unsigned_beside(&self, path: &Path, shown: usize) -> (usize, Vec<String>) {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let Some(siblings) = self.by_dir.get(&dir) else {
            return (0, Vec::new());
        };
        if siblings.len() < 2 {
            return (0, Vec::new());
        }
        let cell = match self.unsigned.lock() {
            Ok(mut m) => Arc::clone(m.entry(dir).or_default()),
            Err(_) => return (0, Vec::new()),
        };
        let listing = cell.get_or_init(|| {
            siblings
                .iter()
                .filter(|p| unsigned_pe(p))
                .map(|p| {
                    let name = p.file_name().map_or_else(
                        || p.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    (p.clone(), name)
                })
                .collect()
        });
        // Sorted by path (candidates are), so membership is a binary search.
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
