//! The resource tree (`.rsrc`, data directory 2): the walk with its budgets, icon counts, and the
//! leaves handed to the payload readers, version information (`version.rs`) and the application
//! manifest (`manifest.rs`).
//!
//! The tree is read the way the Windows loader reads it: three directory levels (type, name,
//! language) whose last-level entries point at IMAGE_RESOURCE_DATA_ENTRY leaves. Offsets inside
//! the tree are relative to the start of the resource directory; a data entry's OffsetToData is
//! an RVA. Every malformation is recorded in [`Resources::malformed`] with its file offset and
//! the walk goes on past it wherever it can; the budgets in [`crate::budget`] bound the work a
//! hostile tree can cause (entries visited, depth, cycles, version and manifest sizes).

use std::collections::HashSet;

use serde::Serialize;

use super::headers::{DIR_RESOURCE, PeHeaders};
use crate::budget::{
    MAX_RESOURCE_DEPTH, MAX_RESOURCE_ENTRIES, MAX_RESOURCE_MALFORMATIONS, MAX_VERSION_INFO_SIZE,
};
use crate::error::Result;
use crate::read::Bytes;

mod manifest;
#[cfg(test)]
mod synthetic;
mod version;

pub use manifest::Manifest;
pub use version::VersionInfo;

use manifest::read_manifest;
use version::VersionReader;

/// Resource type ids (winuser.h `RT_*`).
const RT_ICON: u32 = 3;
const RT_GROUP_ICON: u32 = 14;
const RT_VERSION: u32 = 16;
const RT_MANIFEST: u32 = 24;

/// The high bit of an entry's name field (a named entry) or offset field (a subdirectory).
const HIGH_BIT: u32 = 0x8000_0000;
/// IMAGE_RESOURCE_DIRECTORY: 16 bytes, NumberOfNamedEntries at +12, NumberOfIdEntries at +14.
const DIRECTORY_LEN: u64 = 16;
/// IMAGE_RESOURCE_DIRECTORY_ENTRY: name or id, then offset.
const ENTRY_LEN: u64 = 8;

/// What the resource tree says about the image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Resources {
    /// The first RT_VERSION (type 16) resource, parsed.
    pub version: Option<VersionInfo>,
    /// The first RT_MANIFEST (type 24) resource, parsed.
    pub manifest: Option<Manifest>,
    /// RT_GROUP_ICON (type 14) leaf resources (one per icon group/language).
    pub icon_groups: u32,
    /// RT_ICON (type 3) leaf resources.
    pub icons: u32,
    /// Everything wrong with the tree, each naming what and the file offset in hex, e.g.
    /// "resource directory at file offset 0x4a10 is visited twice (a cycle)". Parsing goes on past
    /// a malformation wherever it can. At most [`MAX_RESOURCE_MALFORMATIONS`] are listed, then
    /// one message counting the rest.
    pub malformed: Vec<String>,
}

/// Reads the resource tree of a PE image.
///
/// `Ok(None)`: no resource directory. `Err`: the PE headers themselves are unreadable. Anything
/// wrong inside the tree is listed in [`Resources::malformed`].
pub fn read(data: &[u8]) -> Result<Option<Resources>> {
    Ok(from_headers(data, &PeHeaders::parse(data)?))
}

/// [`read`] with the headers already parsed.
pub(super) fn from_headers(data: &[u8], headers: &PeHeaders) -> Option<Resources> {
    walk_tree(data, headers, None)
}

/// The version information alone, from headers already parsed: the walk descends only into the
/// RT_VERSION type directory (the other types' subtrees, the icons and the manifest are not
/// read), under the same budgets as [`read`]. What is wrong with the tree is not reported here;
/// [`read`] reports it. `None`: no resource directory, or no readable RT_VERSION resource.
///
/// On a well-formed tree this is the version [`read`] finds. On a hostile one it can differ:
/// a version subtree that [`read`] would reach only after the entry budget ran out, or that it
/// read first under another type (a shared subdirectory), is read here.
pub fn version_of(data: &[u8], headers: &PeHeaders) -> Option<VersionInfo> {
    walk_tree(data, headers, Some(RT_VERSION)).and_then(|r| r.version)
}

/// The walk over the tree; with `only`, the root's entries of other types are counted against
/// the entry budget but not followed.
fn walk_tree(data: &[u8], headers: &PeHeaders, only: Option<u32>) -> Option<Resources> {
    let dir = headers.dir(DIR_RESOURCE);
    if !dir.present() {
        return None;
    }
    let file = Bytes::new(data, true);
    let mut findings = Findings::default();
    let Some(base) = headers.rva_to_offset(dir.address) else {
        findings.push(format!(
            "resource directory RVA {:#x} (size {:#x}) is not backed by file data",
            dir.address, dir.size
        ));
        return Some(Resources {
            malformed: findings.finish(),
            ..Resources::default()
        });
    };
    // The tree is bounded by the file data of the section holding it (the whole file when it sits
    // in the headers). Offsets in the view are file offsets, so read errors name them.
    let section_end = headers
        .section_of(dir.address)
        .map(|s| u64::from(s.raw_offset).saturating_add(u64::from(s.raw_size)))
        .unwrap_or(u64::MAX);
    let tree = Bytes::new(
        data.get(..usize::try_from(section_end.min(file.len())).unwrap_or(usize::MAX))
            .unwrap_or(data),
        true,
    );

    let mut walk = Walk {
        headers,
        file,
        tree,
        base,
        only,
        entries: 0,
        visited: HashSet::new(),
        path: Vec::new(),
        stopped: false,
        version: None,
        manifest: None,
        icons: 0,
        icon_groups: 0,
        findings,
    };
    walk.directory(0, 1, None, None);

    let mut findings = walk.findings;
    let version = walk.version.map(|leaf| {
        let (bytes, at) = leaf_bytes(
            file,
            leaf,
            (MAX_VERSION_INFO_SIZE, "MAX_VERSION_INFO_SIZE"),
            &mut findings,
        );
        VersionReader {
            v: Bytes::new(bytes, true),
            base: at,
            findings: &mut findings,
        }
        .parse()
    });
    let manifest = walk
        .manifest
        .map(|leaf| read_manifest(file, leaf, &mut findings));
    Some(Resources {
        version,
        manifest,
        icon_groups: walk.icon_groups,
        icons: walk.icons,
        malformed: findings.finish(),
    })
}

/// The malformation list with its budget: the first [`MAX_RESOURCE_MALFORMATIONS`] are kept,
/// the rest counted.
#[derive(Default)]
struct Findings {
    list: Vec<String>,
    dropped: u64,
}

impl Findings {
    fn push(&mut self, message: String) {
        if self.list.len() < MAX_RESOURCE_MALFORMATIONS {
            self.list.push(message);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list.push(format!(
                "{} further resource malformations not listed (budget MAX_RESOURCE_MALFORMATIONS = {MAX_RESOURCE_MALFORMATIONS})",
                self.dropped
            ));
        }
        self.list
    }
}

/// A data entry whose data is wanted (version or manifest).
#[derive(Debug, Clone, Copy)]
struct Leaf {
    /// File offset of the IMAGE_RESOURCE_DATA_ENTRY.
    entry_at: u64,
    /// File offset of the data (its RVA mapped).
    data_at: u64,
    size: u32,
}

/// The state of one walk over the directory tree.
struct Walk<'a> {
    headers: &'a PeHeaders,
    file: Bytes<'a>,
    /// The file up to the end of the resource section's data.
    tree: Bytes<'a>,
    /// File offset of the root directory; tree offsets are relative to it.
    base: u64,
    /// Follow only this type's subtree (the version-only read).
    only: Option<u32>,
    /// Entries visited so far (budget [`MAX_RESOURCE_ENTRIES`]).
    entries: u64,
    /// Directories already read, by tree offset: a second visit is a cycle or a shared subtree.
    visited: HashSet<u64>,
    /// Tree offsets of the directories from the root to the current one.
    path: Vec<u64>,
    /// Set when a budget ends the walk.
    stopped: bool,
    version: Option<Leaf>,
    manifest: Option<Leaf>,
    icons: u32,
    icon_groups: u32,
    findings: Findings,
}

impl Walk<'_> {
    /// File offset of tree offset `rel`.
    fn at(&self, rel: u64) -> u64 {
        self.base.saturating_add(rel)
    }

    /// Reads the directory at tree offset `rel`, at `depth` (1 = the root, the type level), under
    /// resource type `type_id` (None at the root, or under a named type). `from` is the file
    /// offset of the entry that points here.
    fn directory(&mut self, rel: u64, depth: u32, type_id: Option<u32>, from: Option<u64>) {
        let at = self.at(rel);
        let via = from
            .map(|f| format!(" (from the entry at file offset {f:#x})"))
            .unwrap_or_default();
        if self.path.contains(&rel) {
            self.findings.push(format!(
                "resource directory at file offset {at:#x} is visited twice (a cycle){via}; not followed"
            ));
            return;
        }
        if !self.visited.insert(rel) {
            self.findings.push(format!(
                "resource directory at file offset {at:#x} is visited twice (shared by two entries){via}; read once"
            ));
            return;
        }
        let counts = self
            .tree
            .u16("resource directory", at.saturating_add(12))
            .and_then(|named| {
                let ids = self.tree.u16("resource directory", at.saturating_add(14))?;
                Ok((named, ids))
            });
        let (named, ids) = match counts {
            Ok(c) => c,
            Err(e) => {
                self.findings.push(format!(
                    "resource directory at file offset {at:#x}{via} is past the end of the resource section: {e}"
                ));
                return;
            }
        };
        let declared = u64::from(named).saturating_add(u64::from(ids));
        let first = at.saturating_add(DIRECTORY_LEN);
        let room = self
            .tree
            .len()
            .saturating_sub(first)
            .checked_div(ENTRY_LEN)
            .unwrap_or(0);
        if declared > room {
            self.findings.push(format!(
                "resource directory at file offset {at:#x} declares {declared} entries ({named} named, {ids} by id) but only {room} fit before the end of the resource section at {:#x}",
                self.tree.len()
            ));
        }
        let count = declared.min(room);

        self.path.push(rel);
        for i in 0..count {
            if self.entries >= MAX_RESOURCE_ENTRIES {
                self.findings.push(format!(
                    "resource tree has more than {MAX_RESOURCE_ENTRIES} directory entries (budget MAX_RESOURCE_ENTRIES), stopped at the directory at file offset {at:#x}"
                ));
                self.stopped = true;
                break;
            }
            self.entries = self.entries.saturating_add(1);
            let entry_at = i
                .checked_mul(ENTRY_LEN)
                .and_then(|o| first.checked_add(o))
                .unwrap_or(u64::MAX);
            self.entry(entry_at, depth, type_id);
            if self.stopped {
                break;
            }
        }
        self.path.pop();
    }

    /// Reads the directory entry at file offset `entry_at` of a directory at `depth`.
    fn entry(&mut self, entry_at: u64, depth: u32, type_id: Option<u32>) {
        let fields = self
            .tree
            .u32("resource directory entry", entry_at)
            .and_then(|name| {
                let offset = self
                    .tree
                    .u32("resource directory entry", entry_at.saturating_add(4))?;
                Ok((name, offset))
            });
        let (name, offset) = match fields {
            Ok(f) => f,
            Err(e) => {
                self.findings.push(e.to_string());
                return;
            }
        };
        // The type is the root entry's id; a named type (high bit) is none we look for.
        let type_id = if depth == 1 {
            (name & HIGH_BIT == 0).then_some(name)
        } else {
            type_id
        };
        if self.only.is_some_and(|only| type_id != Some(only)) {
            return;
        }
        let rel = u64::from(offset & !HIGH_BIT);
        if offset & HIGH_BIT != 0 {
            if depth >= MAX_RESOURCE_DEPTH {
                self.findings.push(format!(
                    "resource directory entry at file offset {entry_at:#x} points to a subdirectory at level {} (file offset {:#x}); Windows reads {MAX_RESOURCE_DEPTH} levels (type, name, language; budget MAX_RESOURCE_DEPTH), not followed",
                    depth.saturating_add(1),
                    self.at(rel)
                ));
                return;
            }
            self.directory(rel, depth.saturating_add(1), type_id, Some(entry_at));
        } else if depth < MAX_RESOURCE_DEPTH {
            self.findings.push(format!(
                "resource directory entry at file offset {entry_at:#x} points to a data entry at level {depth}; Windows expects data at level {MAX_RESOURCE_DEPTH} (language), not read"
            ));
        } else {
            self.leaf(entry_at, rel, type_id);
        }
    }

    /// A language-level entry pointing at the data entry at tree offset `rel`.
    fn leaf(&mut self, from: u64, rel: u64, type_id: Option<u32>) {
        match type_id {
            Some(RT_ICON) => self.icons = self.icons.saturating_add(1),
            Some(RT_GROUP_ICON) => self.icon_groups = self.icon_groups.saturating_add(1),
            _ => {}
        }
        let at = self.at(rel);
        let fields = self.tree.u32("resource data entry", at).and_then(|rva| {
            let size = self.tree.u32("resource data entry", at.saturating_add(4))?;
            Ok((rva, size))
        });
        let (rva, size) = match fields {
            Ok(f) => f,
            Err(e) => {
                self.findings.push(format!(
                    "resource data entry at file offset {at:#x} (from the entry at file offset {from:#x}) is past the end of the resource section: {e}"
                ));
                return;
            }
        };
        let Some(data_at) = self.headers.rva_to_offset(rva) else {
            self.findings.push(format!(
                "resource data entry at file offset {at:#x}: data RVA {rva:#x} ({size} bytes) is not backed by file data"
            ));
            return;
        };
        if self
            .file
            .get("resource data", data_at, u64::from(size))
            .is_err()
        {
            self.findings.push(format!(
                "resource data entry at file offset {at:#x}: data at file offset {data_at:#x} ({size} bytes) runs past the end of the file ({} bytes)",
                self.file.len()
            ));
        }
        let leaf = Leaf {
            entry_at: at,
            data_at,
            size,
        };
        match type_id {
            Some(RT_VERSION) if self.version.is_none() => self.version = Some(leaf),
            Some(RT_MANIFEST) if self.manifest.is_none() => self.manifest = Some(leaf),
            _ => {}
        }
    }
}

/// The bytes of `leaf`'s data that are in the file, at most `max` (a budget named in the message
/// when it cuts), and their file offset.
fn leaf_bytes<'a>(
    file: Bytes<'a>,
    leaf: Leaf,
    (max, budget): (u64, &str),
    findings: &mut Findings,
) -> (&'a [u8], u64) {
    let size = u64::from(leaf.size);
    if size > max {
        findings.push(format!(
            "resource data at file offset {:#x} (entry at {:#x}) is {size} bytes, more than the {max} read (budget {budget})",
            leaf.data_at, leaf.entry_at
        ));
    }
    let len = size.min(max).min(file.len().saturating_sub(leaf.data_at));
    (
        file.get("resource data", leaf.data_at, len)
            .unwrap_or_default(),
        leaf.data_at,
    )
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::synthetic::*;
    use super::*;

    #[test]
    fn good_tree_reads_version_manifest_and_icons() {
        let r = read_ok(&good_image());
        let expected = Resources {
            version: Some(VersionInfo {
                file_version: Some("1.2.3.4".into()),
                product_version: Some("1.2.0.0".into()),
                strings: STRINGS
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                string_table: Some("040904b0".into()),
            }),
            manifest: Some(Manifest {
                size: MANIFEST.len() as u32,
                requested_execution_level: Some("requireAdministrator".into()),
                ui_access: Some("false".into()),
                error: None,
            }),
            icon_groups: 2,
            icons: 3,
            malformed: vec![],
        };
        assert_eq!(r, expected);
        let v = r.version.unwrap();
        assert_eq!(v.get("CompanyName"), Some("Example Corp."));
        assert_eq!(v.get("companyname"), None);
    }

    #[test]
    fn version_only_read_matches_the_full_read() {
        let image = good_image();
        let headers = PeHeaders::parse(&image).unwrap();
        let full = read_ok(&image).version;
        assert!(full.is_some());
        assert_eq!(version_of(&image, &headers), full);
        // No resource directory, and a tree without RT_VERSION: none.
        let image = pe(&[0xc3; 16], b".text\0\0\0", false);
        assert_eq!(version_of(&image, &PeHeaders::parse(&image).unwrap()), None);
        let image = rsrc_image(&tree(&[(RT_ICON, 1, 1033, vec![1; 8])]));
        assert_eq!(version_of(&image, &PeHeaders::parse(&image).unwrap()), None);
    }

    #[test]
    fn version_only_read_does_not_follow_other_types() {
        // An icon directory that loops back to the root comes first: the full read reports the
        // cycle, the version-only read never enters it and still finds the version.
        let mut t = tree(&[
            (RT_ICON, 1, 1033, vec![1; 8]),
            (RT_VERSION, 1, 1033, good_version()),
        ]);
        // The icon type directory's one entry points back at the root instead of a name directory.
        let icon_type_dir = u32::from_le_bytes(t[20..24].try_into().unwrap()) & !HIGH_BIT;
        put32(&mut t, icon_type_dir as usize + 20, HIGH_BIT);
        let image = rsrc_image(&t);
        let full = read_ok(&image);
        assert_malformed(&full, "(a cycle)");
        let headers = PeHeaders::parse(&image).unwrap();
        let v = version_of(&image, &headers).unwrap();
        assert_eq!(v.get("ProductName"), Some("Example"));
        assert_eq!(Some(v), full.version);
    }

    #[test]
    fn image_without_resource_directory_is_none() {
        let image = pe(&[0xc3; 16], b".text\0\0\0", false);
        assert_eq!(read(&image).unwrap(), None);
    }

    #[test]
    fn unreadable_headers_are_an_error() {
        assert!(read(b"MZ not a PE file at all").is_err());
        let mut image = good_image();
        put32(&mut image, 0x3c, 0xFFFF_FF00);
        assert!(read(&image).is_err());
    }

    #[test]
    fn resource_rva_outside_every_section_is_malformed() {
        let mut image = good_image();
        put32(&mut image, 0x58 + 112 + 8 * DIR_RESOURCE, 0x0080_0000);
        let r = read_ok(&image);
        assert_malformed(&r, "RVA 0x800000");
        assert_eq!(r.version, None);
    }

    #[test]
    fn subdirectory_pointing_at_the_root_is_a_cycle() {
        // Root: one type entry (RT_VERSION) whose subdirectory is the root itself.
        let mut t = vec![0u8; 24];
        put16(&mut t, 14, 1);
        put32(&mut t, 16, RT_VERSION);
        put32(&mut t, 20, HIGH_BIT);
        let r = read_ok(&rsrc_image(&t));
        assert_malformed(&r, "file offset 0x200 is visited twice (a cycle)");

        // Two levels: root -> name directory at 0x18 -> back to the root.
        let mut t = vec![0u8; 48];
        put16(&mut t, 14, 1);
        put32(&mut t, 16, RT_ICON);
        put32(&mut t, 20, HIGH_BIT | 0x18);
        put16(&mut t, 0x18 + 14, 1);
        put32(&mut t, 0x18 + 16, 1);
        put32(&mut t, 0x18 + 20, HIGH_BIT);
        let r = read_ok(&rsrc_image(&t));
        assert_malformed(&r, "(a cycle) (from the entry at file offset 0x228)");
        assert_eq!(r.icons, 0);
    }

    #[test]
    fn shared_subdirectory_is_read_once() {
        // Two type entries (RT_ICON 3 and 4) share one name directory with one icon leaf.
        let mut t = tree(&[
            (RT_ICON, 1, 1033, vec![1; 8]),
            (RT_GROUP_ICON, 1, 1033, vec![2; 8]),
        ]);
        let first = u32::from_le_bytes(t[20..24].try_into().unwrap());
        put32(&mut t, 28, first);
        let r = read_ok(&rsrc_image(&t));
        assert_malformed(&r, "(shared by two entries)");
        assert_eq!((r.icons, r.icon_groups), (1, 0));
    }

    /// A directory at `at` of `t` with 0xFFFF id entries, each pointing at `target` (a
    /// subdirectory when `sub`).
    fn full_directory(t: &mut [u8], at: usize, target: u32, sub: bool) {
        put16(t, at + 14, 0xFFFF);
        for i in 0..0xFFFF {
            put32(t, at + 16 + 8 * i, i as u32);
            put32(
                t,
                at + 20 + 8 * i,
                if sub { HIGH_BIT | target } else { target },
            );
        }
    }

    #[test]
    fn id_entries_0xffff_at_every_level_stop_at_the_entry_budget() {
        let dir = 16 + 8 * 0xFFFF;
        let mut t = vec![0u8; 3 * dir + 16];
        full_directory(&mut t, 0, dir as u32, true);
        full_directory(&mut t, dir, 2 * dir as u32, true);
        full_directory(&mut t, 2 * dir, 3 * dir as u32, false);
        let start = std::time::Instant::now();
        let r = read_ok(&rsrc_image(&t));
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        assert_malformed(
            &r,
            "more than 65536 directory entries (budget MAX_RESOURCE_ENTRIES)",
        );
        // Depth first, the first language directory already crosses the budget: one message,
        // then the walk stops.
        assert_eq!(r.malformed.len(), 1, "{:#?}", r.malformed);
    }

    #[test]
    fn version_only_read_is_not_starved_by_other_types() {
        // The icon type's directory has 0xFFFF entries: the full read spends the entry budget
        // there and never reaches RT_VERSION; the version-only read skips it.
        let mut t = tree(&[
            (RT_ICON, 1, 1033, vec![1; 8]),
            (RT_VERSION, 1, 1033, good_version()),
        ]);
        let big = t.len();
        let empty = big + 16 + 8 * 0xFFFF;
        t.resize(empty + 16, 0);
        full_directory(&mut t, big, empty as u32, true);
        put32(&mut t, 20, HIGH_BIT | big as u32);
        let image = rsrc_image(&t);
        // (The budget's own message is past the malformation budget here, counted in the last.)
        let full = read_ok(&image);
        assert_eq!(full.version, None);
        let v = version_of(&image, &PeHeaders::parse(&image).unwrap()).unwrap();
        assert_eq!(v.get("ProductName"), Some("Example"));
    }

    #[test]
    fn malformations_beyond_their_budget_are_counted_in_one_message() {
        // 1,000 type entries all pointing at one empty directory: 999 "shared" messages.
        let mut t = vec![0u8; 16 + 8 * 1000 + 16];
        put16(&mut t, 14, 1000);
        for i in 0..1000 {
            put32(&mut t, 16 + 8 * i, i as u32);
            put32(&mut t, 20 + 8 * i, HIGH_BIT | (16 + 8 * 1000));
        }
        let r = read_ok(&rsrc_image(&t));
        assert_eq!(r.malformed.len(), MAX_RESOURCE_MALFORMATIONS + 1);
        assert_eq!(
            r.malformed.last().unwrap(),
            &format!(
                "{} further resource malformations not listed (budget MAX_RESOURCE_MALFORMATIONS = {MAX_RESOURCE_MALFORMATIONS})",
                999 - MAX_RESOURCE_MALFORMATIONS
            )
        );
    }

    #[test]
    fn directory_declaring_more_entries_than_fit_reads_those_that_do() {
        let mut t = tree(&[(RT_ICON, 1, 1033, vec![1; 8])]);
        put16(&mut t, 12, 0xFFFF);
        let r = read_ok(&rsrc_image(&t));
        assert_malformed(&r, "declares 65536 entries (65535 named, 1 by id)");
    }

    #[test]
    fn fourth_directory_level_is_not_followed() {
        let mut t = tree(&[(RT_ICON, 1, 1033, vec![1; 8])]);
        // The language entry (root 24, type dir 24, name dir 16 + entry) points at the root.
        let lang_entry = 24 + 24 + 16;
        put32(&mut t, lang_entry + 4, HIGH_BIT);
        let r = read_ok(&rsrc_image(&t));
        assert_malformed(&r, "subdirectory at level 4");
        assert_malformed(&r, "budget MAX_RESOURCE_DEPTH");
        assert_eq!(r.icons, 0);
    }

    #[test]
    fn data_entry_at_the_type_level_is_malformed() {
        let mut t = tree(&[(RT_ICON, 1, 1033, vec![1; 8])]);
        put32(&mut t, 20, 24 + 24 + 24);
        let r = read_ok(&rsrc_image(&t));
        assert_malformed(&r, "points to a data entry at level 1");
        assert_eq!(r.icons, 0);
    }

    #[test]
    fn data_rva_outside_the_file_is_malformed() {
        let mut t = tree(&[(RT_VERSION, 1, 1033, good_version())]);
        let data_entry = 24 * 3;
        put32(&mut t, data_entry, 0x7000_0000);
        let r = read_ok(&rsrc_image(&t));
        assert_malformed(&r, "data RVA 0x70000000");
        assert_eq!(r.version, None);

        // Mapped, but the size runs past the end of the file: what is there is still read.
        let mut t = tree(&[(RT_VERSION, 1, 1033, good_version())]);
        put32(&mut t, data_entry + 4, 0x00FF_0000);
        let r = read_ok(&rsrc_image(&t));
        assert_malformed(&r, "runs past the end of the file");
        assert_malformed(&r, "budget MAX_VERSION_INFO_SIZE");
        assert_eq!(r.version.unwrap().get("ProductName"), Some("Example"));
    }

    /// xorshift64: deterministic, no dependency.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn flipped_bytes_in_the_resource_section_never_panic() {
        let good = good_image();
        let section_len = tree(&items(good_version(), MANIFEST.as_bytes().to_vec())).len();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            let mut image = good.clone();
            let flips = 1 + xorshift(&mut state) % 4;
            for _ in 0..flips {
                let at = SECTION_RAW + (xorshift(&mut state) as usize) % section_len;
                image[at] ^= (xorshift(&mut state) as u8) | 1;
            }
            let r = read(&image).unwrap().unwrap();
            assert!(r.malformed.len() <= MAX_RESOURCE_MALFORMATIONS + 1);
            // The version-only read walks the same bytes; it must not panic either.
            let _ = version_of(&image, &PeHeaders::parse(&image).unwrap());
        }
    }
}
