//! The resource tree (`.rsrc`, data directory 2): version information, the application manifest
//! and icon counts.
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
    MAX_MANIFEST_SIZE, MAX_MANIFEST_XML_NODES, MAX_RESOURCE_DEPTH, MAX_RESOURCE_ENTRIES,
    MAX_RESOURCE_MALFORMATIONS, MAX_STRING_LEN, MAX_VERSION_CHILDREN, MAX_VERSION_INFO_SIZE,
};
use crate::error::Result;
use crate::read::Bytes;

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

/// VS_VERSION_INFO block header: wLength, wValueLength, wType.
const BLOCK_HEADER_LEN: u64 = 6;
/// VS_FIXEDFILEINFO: 13 DWORDs.
const FIXED_FILE_INFO_LEN: u64 = 52;
const FIXED_FILE_INFO_SIGNATURE: u32 = 0xFEEF_04BD;

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

/// An RT_VERSION resource: the VS_VERSION_INFO block tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    /// VS_FIXEDFILEINFO dwFileVersionMS/LS as "a.b.c.d", when the fixed block is present and its
    /// signature is 0xFEEF04BD.
    pub file_version: Option<String>,
    /// VS_FIXEDFILEINFO dwProductVersionMS/LS as "a.b.c.d", under the same conditions.
    pub product_version: Option<String>,
    /// StringFileInfo strings of the first StringTable, in file order: (key, value). Values have
    /// trailing NULs removed.
    pub strings: Vec<(String, String)>,
    /// The first StringTable's key, e.g. "040904b0".
    pub string_table: Option<String>,
}

impl VersionInfo {
    /// The value of the first string whose key is exactly `key` (it may be "").
    pub fn get(&self, key: &str) -> Option<&str> {
        self.strings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// An RT_MANIFEST resource: the application manifest's execution level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The data entry's Size, in bytes.
    pub size: u32,
    /// The `level` attribute of requestedExecutionLevel (asInvoker, highestAvailable,
    /// requireAdministrator), as written.
    pub requested_execution_level: Option<String>,
    /// The `uiAccess` attribute, as written ("true"/"false").
    pub ui_access: Option<String>,
    /// Why the XML could not be read, when it could not (the fields above are then None).
    pub error: Option<String>,
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

/// Rounds `x` up to a multiple of 4 (VS_VERSION_INFO blocks are DWORD-aligned).
fn align4(x: u64) -> u64 {
    x.checked_add(3).map_or(u64::MAX, |v| v & !3)
}

/// UTF-16LE text up to the first NUL code unit.
struct Utf16z {
    /// The text, at most [`MAX_STRING_LEN`] UTF-16 units of it, unpaired surrogates replaced.
    text: String,
    /// Code units before the NUL (or in all, when there is none).
    units: u64,
    terminated: bool,
    truncated: bool,
}

fn utf16z(bytes: &[u8]) -> Utf16z {
    let units = bytes.chunks_exact(2).map(|c| {
        u16::from_le_bytes([
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ])
    });
    let mut count: u64 = 0;
    let mut terminated = false;
    let mut kept = Vec::new();
    for u in units {
        if u == 0 {
            terminated = true;
            break;
        }
        if count < MAX_STRING_LEN {
            kept.push(u);
        }
        count = count.saturating_add(1);
    }
    Utf16z {
        text: char::decode_utf16(kept)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
        units: count,
        terminated,
        truncated: count > MAX_STRING_LEN,
    }
}

/// One VS_VERSION_INFO block header, its key read. Offsets are into the version data.
#[derive(Debug)]
struct Block {
    at: u64,
    /// The block's end: at + wLength, cut to its parent's end.
    end: u64,
    value_len: u16,
    value_type: u16,
    /// None when the key is not NUL-terminated within the block.
    key: Option<String>,
    /// Where the value starts (after the key and its padding).
    value_at: u64,
    /// Where the next sibling starts.
    next: u64,
}

impl Block {
    /// Where the children start: after the value and its padding. wValueLength counts UTF-16
    /// units for text (wType 1) and bytes for binary values.
    fn children_at(&self) -> u64 {
        let value_bytes = if self.value_type == 1 {
            u64::from(self.value_len).saturating_mul(2)
        } else {
            u64::from(self.value_len)
        };
        align4(self.value_at.saturating_add(value_bytes))
    }
}

/// Reads a VS_VERSION_INFO tree from the bytes of an RT_VERSION resource.
struct VersionReader<'a, 'f> {
    v: Bytes<'a>,
    /// File offset of the version data.
    base: u64,
    findings: &'f mut Findings,
}

impl VersionReader<'_, '_> {
    fn at(&self, rel: u64) -> u64 {
        self.base.saturating_add(rel)
    }

    fn parse(mut self) -> VersionInfo {
        let mut info = VersionInfo::default();
        let Some(root) = self.block(0, self.v.len()) else {
            return info;
        };
        match root.key.as_deref() {
            Some("VS_VERSION_INFO") => {}
            Some(other) => self.findings.push(format!(
                "version resource at file offset {:#x} has root key {other:?}, not \"VS_VERSION_INFO\"",
                self.base
            )),
            None => return info,
        }
        self.fixed_file_info(&root, &mut info);
        for child in self.children(&root) {
            match child.key.as_deref() {
                Some("StringFileInfo") => {
                    if info.string_table.is_none() {
                        self.string_file_info(&child, &mut info);
                    }
                }
                Some("VarFileInfo") | None => {}
                Some(other) => self.findings.push(format!(
                    "version resource block at file offset {:#x} has key {other:?}, not StringFileInfo or VarFileInfo",
                    self.at(child.at)
                )),
            }
        }
        info
    }

    /// The root's value: VS_FIXEDFILEINFO, when present.
    fn fixed_file_info(&mut self, root: &Block, info: &mut VersionInfo) {
        if root.value_len == 0 {
            return;
        }
        let value_at = self.at(root.value_at);
        if u64::from(root.value_len) < FIXED_FILE_INFO_LEN
            || root.value_at.saturating_add(FIXED_FILE_INFO_LEN) > root.end
        {
            self.findings.push(format!(
                "VS_FIXEDFILEINFO at file offset {value_at:#x} is cut short: wValueLength {}, {} bytes left in the block, {FIXED_FILE_INFO_LEN} needed",
                root.value_len,
                root.end.saturating_sub(root.value_at)
            ));
            return;
        }
        let dword = |i: u64| {
            self.v
                .u32("VS_FIXEDFILEINFO", root.value_at.saturating_add(i))
        };
        let (Ok(signature), Ok(fv_ms), Ok(fv_ls), Ok(pv_ms), Ok(pv_ls)) =
            (dword(0), dword(8), dword(12), dword(16), dword(20))
        else {
            return;
        };
        if signature != FIXED_FILE_INFO_SIGNATURE {
            self.findings.push(format!(
                "VS_FIXEDFILEINFO at file offset {value_at:#x} has signature {signature:#010x}, not 0xfeef04bd"
            ));
            return;
        }
        let version =
            |ms: u32, ls: u32| format!("{}.{}.{}.{}", ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF);
        info.file_version = Some(version(fv_ms, fv_ls));
        info.product_version = Some(version(pv_ms, pv_ls));
    }

    /// StringFileInfo: its first StringTable's strings.
    fn string_file_info(&mut self, sfi: &Block, info: &mut VersionInfo) {
        let Some(table) = self.children(sfi).into_iter().find(|t| t.key.is_some()) else {
            return;
        };
        let key = table.key.clone().unwrap_or_default();
        if key.len() != 8 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            self.findings.push(format!(
                "StringTable at file offset {:#x} has key {key:?}, not 8 hex digits (language and code page)",
                self.at(table.at)
            ));
        }
        info.string_table = Some(key);
        for string in self.children(&table) {
            let Some(key) = string.key else { continue };
            // wValueLength counts characters by the documentation and bytes for some writers;
            // the value is read to the block's end and stops at its NUL either way.
            let start = string.value_at.min(string.end);
            let raw = self
                .v
                .get("version string", start, string.end.saturating_sub(start))
                .unwrap_or_default();
            let value = utf16z(raw);
            if value.truncated {
                self.findings.push(format!(
                    "version string {key:?} at file offset {:#x} is {} characters, cut to {MAX_STRING_LEN} (budget MAX_STRING_LEN)",
                    self.at(string.at),
                    value.units
                ));
            }
            info.strings.push((key, value.text));
        }
    }

    /// The child blocks of `parent`, in order, at most [`MAX_VERSION_CHILDREN`].
    fn children(&mut self, parent: &Block) -> Vec<Block> {
        let mut out = Vec::new();
        let mut at = parent.children_at();
        let mut count: u64 = 0;
        // Fewer bytes than a header at the end are padding.
        while parent.end.saturating_sub(at) >= BLOCK_HEADER_LEN {
            if count >= MAX_VERSION_CHILDREN {
                self.findings.push(format!(
                    "version resource block at file offset {:#x} has more than {MAX_VERSION_CHILDREN} children (budget MAX_VERSION_CHILDREN); the rest are not read",
                    self.at(parent.at)
                ));
                break;
            }
            count = count.saturating_add(1);
            let Some(block) = self.block(at, parent.end) else {
                break;
            };
            at = block.next;
            out.push(block);
        }
        out
    }

    /// The block header at `at`, which must end by `parent_end`. None when the block's extent
    /// cannot be known (its siblings cannot be found either).
    fn block(&mut self, at: u64, parent_end: u64) -> Option<Block> {
        let file_at = self.at(at);
        let Ok(header) = self.v.sub("version block", at, BLOCK_HEADER_LEN) else {
            self.findings.push(format!(
                "version resource block at file offset {file_at:#x} is truncated: {} bytes left of a {BLOCK_HEADER_LEN}-byte header",
                self.v.len().saturating_sub(at)
            ));
            return None;
        };
        let word = |i: u64| header.u16("version block", i).unwrap_or(0);
        let (length, value_len, value_type) = (word(0), word(2), word(4));
        if u64::from(length) < BLOCK_HEADER_LEN {
            self.findings.push(format!(
                "version resource block at file offset {file_at:#x} has wLength {length}, shorter than its {BLOCK_HEADER_LEN}-byte header"
            ));
            return None;
        }
        if length % 2 != 0 {
            self.findings.push(format!(
                "version resource block at file offset {file_at:#x} has an odd wLength {length}"
            ));
        }
        let declared_end = at.saturating_add(u64::from(length));
        let end = if declared_end > parent_end {
            self.findings.push(format!(
                "version resource block at file offset {file_at:#x} has wLength {length}, {} bytes past the end of its parent (or of the resource data) at file offset {:#x}",
                declared_end.saturating_sub(parent_end),
                self.at(parent_end)
            ));
            parent_end
        } else {
            declared_end
        };
        if value_type > 1 {
            self.findings.push(format!(
                "version resource block at file offset {file_at:#x} has wType {value_type}, neither 0 (binary) nor 1 (text)"
            ));
        }
        let key_at = at.saturating_add(BLOCK_HEADER_LEN);
        let raw = self
            .v
            .get("version block key", key_at, end.saturating_sub(key_at))
            .unwrap_or_default();
        let key = utf16z(raw);
        if !key.terminated {
            self.findings.push(format!(
                "version resource block at file offset {file_at:#x} has a key that is not NUL-terminated within its {length} bytes"
            ));
        } else if key.truncated {
            self.findings.push(format!(
                "version resource block at file offset {file_at:#x} has a key of {} characters, cut to {MAX_STRING_LEN} (budget MAX_STRING_LEN)",
                key.units
            ));
        }
        let key_end = key
            .units
            .saturating_add(1)
            .saturating_mul(2)
            .saturating_add(key_at);
        Some(Block {
            at,
            end,
            value_len,
            value_type,
            value_at: align4(key_end),
            key: key.terminated.then_some(key.text),
            next: align4(declared_end),
        })
    }
}

/// Reads the RT_MANIFEST resource `leaf`: its requestedExecutionLevel.
fn read_manifest(file: Bytes<'_>, leaf: Leaf, findings: &mut Findings) -> Manifest {
    let mut manifest = Manifest {
        size: leaf.size,
        ..Manifest::default()
    };
    let size = u64::from(leaf.size);
    if size > MAX_MANIFEST_SIZE {
        let why = format!(
            "the manifest is {size} bytes, more than the {MAX_MANIFEST_SIZE} parsed (budget MAX_MANIFEST_SIZE)"
        );
        findings.push(format!(
            "manifest at file offset {:#x}: {why}",
            leaf.data_at
        ));
        manifest.error = Some(why);
        return manifest;
    }
    let (bytes, _) = leaf_bytes(
        file,
        leaf,
        (MAX_MANIFEST_SIZE, "MAX_MANIFEST_SIZE"),
        findings,
    );
    let parsed = decode_xml(bytes).and_then(|text| {
        let options = roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_MANIFEST_XML_NODES,
            ..roxmltree::ParsingOptions::default()
        };
        let doc = roxmltree::Document::parse_with_options(&text, options).map_err(|e| match e {
            roxmltree::Error::NodesLimitReached => format!(
                "more than {MAX_MANIFEST_XML_NODES} XML nodes (budget MAX_MANIFEST_XML_NODES)"
            ),
            roxmltree::Error::DtdDetected => {
                "it has a DOCTYPE, which manifests never need and which is not read".to_owned()
            }
            other => format!("not well-formed XML: {other}"),
        })?;
        // requestedExecutionLevel in any namespace (asm.v2, asm.v3 or none): Windows reads it
        // under trustInfo/security/requestedPrivileges, and writers disagree on the prefix.
        let level = doc
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == "requestedExecutionLevel");
        let attribute = |name: &str| {
            level.and_then(|n| {
                n.attributes()
                    .find(|a| a.name() == name)
                    .map(|a| a.value().to_owned())
            })
        };
        Ok((attribute("level"), attribute("uiAccess")))
    });
    match parsed {
        Ok((level, ui_access)) => {
            manifest.requested_execution_level = level;
            manifest.ui_access = ui_access;
        }
        Err(why) => {
            findings.push(format!(
                "manifest at file offset {:#x}: {why}",
                leaf.data_at
            ));
            manifest.error = Some(why);
        }
    }
    manifest
}

/// The manifest's text: UTF-16 with a BOM (either order), UTF-8 with or without one. Trailing
/// NULs (resource compilers pad with them) are dropped.
fn decode_xml(bytes: &[u8]) -> std::result::Result<String, String> {
    let utf16 = |body: &[u8], le: bool| {
        let units = body.chunks_exact(2).map(|c| {
            let pair = [
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ];
            if le {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        });
        char::decode_utf16(units)
            .collect::<std::result::Result<String, _>>()
            .map_err(|e| format!("invalid UTF-16: {e}"))
    };
    let text = match bytes {
        [0xFF, 0xFE, body @ ..] => utf16(body, true)?,
        [0xFE, 0xFF, body @ ..] => utf16(body, false)?,
        [0xEF, 0xBB, 0xBF, body @ ..] => std::str::from_utf8(body)
            .map_err(|e| format!("invalid UTF-8: {e}"))?
            .to_owned(),
        body => std::str::from_utf8(body)
            .map_err(|e| format!("invalid UTF-8: {e}"))?
            .to_owned(),
    };
    Ok(text.trim_end_matches('\0').to_owned())
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;

    /// Where the synthetic images put their one section.
    const SECTION_RVA: u32 = 0x1000;
    const SECTION_RAW: usize = 0x200;

    fn put16(b: &mut [u8], at: usize, v: u16) {
        b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }

    fn put32(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn align(x: usize, to: usize) -> usize {
        x.div_ceil(to) * to
    }

    /// A PE32+ image whose one section (`name`, RVA 0x1000, file offset 0x200) holds `section`;
    /// the resource data directory points at the section's start when `resource_dir` is set.
    fn pe(section: &[u8], name: &[u8; 8], resource_dir: bool) -> Vec<u8> {
        let raw_size = align(section.len().max(1), 0x200);
        let mut f = vec![0u8; SECTION_RAW + raw_size];
        f[0..2].copy_from_slice(b"MZ");
        put32(&mut f, 0x3c, 0x40);
        f[0x40..0x44].copy_from_slice(b"PE\0\0");
        let coff = 0x44;
        put16(&mut f, coff, 0x8664);
        put16(&mut f, coff + 2, 1);
        put16(&mut f, coff + 16, 240);
        put16(&mut f, coff + 18, 0x22);
        let opt = coff + 20;
        put16(&mut f, opt, 0x20b);
        put32(&mut f, opt + 16, SECTION_RVA);
        f[opt + 24..opt + 32].copy_from_slice(&0x1_4000_0000u64.to_le_bytes());
        put32(&mut f, opt + 32, 0x1000);
        put32(&mut f, opt + 36, 0x200);
        put16(&mut f, opt + 48, 6);
        let image = SECTION_RVA as usize + align(section.len().max(1), 0x1000);
        put32(&mut f, opt + 56, image as u32);
        put32(&mut f, opt + 60, SECTION_RAW as u32);
        put16(&mut f, opt + 68, 2);
        put32(&mut f, opt + 108, 16);
        if resource_dir {
            put32(&mut f, opt + 112 + 8 * DIR_RESOURCE, SECTION_RVA);
            put32(&mut f, opt + 116 + 8 * DIR_RESOURCE, section.len() as u32);
        }
        let sh = opt + 240;
        f[sh..sh + 8].copy_from_slice(name);
        put32(&mut f, sh + 8, section.len() as u32);
        put32(&mut f, sh + 12, SECTION_RVA);
        put32(&mut f, sh + 16, raw_size as u32);
        put32(&mut f, sh + 20, SECTION_RAW as u32);
        put32(&mut f, sh + 36, 0x4000_0040);
        f[SECTION_RAW..SECTION_RAW + section.len()].copy_from_slice(section);
        f
    }

    fn rsrc_image(section: &[u8]) -> Vec<u8> {
        pe(section, b".rsrc\0\0\0", true)
    }

    /// A well-formed three-level resource tree of `items` (type, name, language, data), sorted
    /// by type then name, laid out as rc.exe does: directories, data entries, then the data.
    fn tree(items: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        tree_with_entries(items).0
    }

    /// [`tree`], and the offset of each item's data entry.
    fn tree_with_entries(items: &[(u32, u32, u32, Vec<u8>)]) -> (Vec<u8>, Vec<usize>) {
        type Names = Vec<(u32, Vec<(u32, usize)>)>;
        let mut types: Vec<(u32, Names)> = Vec::new();
        for (i, (t, n, l, _)) in items.iter().enumerate() {
            if types.last().map(|x| x.0) != Some(*t) {
                types.push((*t, Vec::new()));
            }
            let names = &mut types.last_mut().unwrap().1;
            if names.last().map(|x| x.0) != Some(*n) {
                names.push((*n, Vec::new()));
            }
            names.last_mut().unwrap().1.push((*l, i));
        }
        let dir_len = |n: usize| 16 + 8 * n;
        let mut off = dir_len(types.len());
        let mut type_dirs = Vec::new();
        for (_, names) in &types {
            type_dirs.push(off);
            off += dir_len(names.len());
        }
        let mut name_dirs = Vec::new();
        for (_, names) in &types {
            let mut v = Vec::new();
            for (_, langs) in names {
                v.push(off);
                off += dir_len(langs.len());
            }
            name_dirs.push(v);
        }
        let data_entries = off;
        off += 16 * items.len();
        let mut data_at = Vec::new();
        for item in items {
            off = align(off, 8);
            data_at.push(off);
            off += item.3.len();
        }
        let mut out = vec![0u8; off];
        let high = HIGH_BIT;
        put16(&mut out, 14, types.len() as u16);
        for (i, (t, names)) in types.iter().enumerate() {
            put32(&mut out, 16 + 8 * i, *t);
            put32(&mut out, 20 + 8 * i, high | type_dirs[i] as u32);
            put16(&mut out, type_dirs[i] + 14, names.len() as u16);
            for (j, (n, langs)) in names.iter().enumerate() {
                put32(&mut out, type_dirs[i] + 16 + 8 * j, *n);
                put32(
                    &mut out,
                    type_dirs[i] + 20 + 8 * j,
                    high | name_dirs[i][j] as u32,
                );
                put16(&mut out, name_dirs[i][j] + 14, langs.len() as u16);
                for (k, (l, idx)) in langs.iter().enumerate() {
                    put32(&mut out, name_dirs[i][j] + 16 + 8 * k, *l);
                    put32(
                        &mut out,
                        name_dirs[i][j] + 20 + 8 * k,
                        (data_entries + 16 * idx) as u32,
                    );
                }
            }
        }
        for (idx, item) in items.iter().enumerate() {
            let e = data_entries + 16 * idx;
            put32(&mut out, e, SECTION_RVA + data_at[idx] as u32);
            put32(&mut out, e + 4, item.3.len() as u32);
            out[data_at[idx]..data_at[idx] + item.3.len()].copy_from_slice(&item.3);
        }
        let entries = (0..items.len()).map(|i| data_entries + 16 * i).collect();
        (out, entries)
    }

    fn utf16_nul(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect()
    }

    fn pad4(b: &mut Vec<u8>) {
        b.resize(align(b.len(), 4), 0);
    }

    /// A VS_VERSION_INFO block: header, key, padding, value, then each child DWORD-aligned.
    fn vblock(
        key: &str,
        wtype: u16,
        value_len: u16,
        value: &[u8],
        children: &[Vec<u8>],
    ) -> Vec<u8> {
        let mut b = vec![0u8; 6];
        b.extend(utf16_nul(key));
        pad4(&mut b);
        b.extend_from_slice(value);
        for c in children {
            pad4(&mut b);
            b.extend_from_slice(c);
        }
        let len = b.len() as u16;
        put16(&mut b, 0, len);
        put16(&mut b, 2, value_len);
        put16(&mut b, 4, wtype);
        b
    }

    /// A String block as rc.exe writes it: wValueLength in characters, NUL included.
    fn vstring(key: &str, value: &str) -> Vec<u8> {
        let v = utf16_nul(value);
        vblock(key, 1, (v.len() / 2) as u16, &v, &[])
    }

    fn fixed_file_info(file: [u16; 4], product: [u16; 4]) -> Vec<u8> {
        let mut b = vec![0u8; 52];
        put32(&mut b, 0, FIXED_FILE_INFO_SIGNATURE);
        put32(&mut b, 4, 0x0001_0000);
        let ms = |v: [u16; 4]| (u32::from(v[0]) << 16) | u32::from(v[1]);
        let ls = |v: [u16; 4]| (u32::from(v[2]) << 16) | u32::from(v[3]);
        put32(&mut b, 8, ms(file));
        put32(&mut b, 12, ls(file));
        put32(&mut b, 16, ms(product));
        put32(&mut b, 20, ls(product));
        b
    }

    const STRINGS: [(&str, &str); 6] = [
        ("CompanyName", "Example Corp."),
        ("FileDescription", "Example tool"),
        ("FileVersion", "1.2.3.4"),
        ("LegalCopyright", "\u{a9} 2025 Example Corp."),
        ("OriginalFilename", "example.exe"),
        ("ProductName", "Example"),
    ];

    fn version_with(root_key: &str, strings: &[Vec<u8>]) -> Vec<u8> {
        let table = vblock("040904b0", 1, 0, &[], strings);
        let sfi = vblock("StringFileInfo", 1, 0, &[], &[table]);
        let var = vblock("Translation", 0, 4, &[0x09, 0x04, 0xb0, 0x04], &[]);
        let vfi = vblock("VarFileInfo", 1, 0, &[], &[var]);
        let fixed = fixed_file_info([1, 2, 3, 4], [1, 2, 0, 0]);
        vblock(root_key, 0, 52, &fixed, &[sfi, vfi])
    }

    fn good_version() -> Vec<u8> {
        let strings: Vec<_> = STRINGS.iter().map(|(k, v)| vstring(k, v)).collect();
        version_with("VS_VERSION_INFO", &strings)
    }

    const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<assembly xmlns="urn:schemas-microsoft-com:asm.v1" manifestVersion="1.0">
  <trustInfo xmlns="urn:schemas-microsoft-com:asm.v3">
    <security>
      <requestedPrivileges>
        <requestedExecutionLevel level="requireAdministrator" uiAccess="false"/>
      </requestedPrivileges>
    </security>
  </trustInfo>
</assembly>
"#;

    fn items(version: Vec<u8>, manifest: Vec<u8>) -> Vec<(u32, u32, u32, Vec<u8>)> {
        vec![
            (RT_ICON, 1, 1033, vec![0x28; 40]),
            (RT_ICON, 2, 1033, vec![0x28; 40]),
            (RT_ICON, 3, 1033, vec![0x28; 40]),
            (RT_GROUP_ICON, 1, 1033, vec![0; 20]),
            (RT_GROUP_ICON, 2, 1033, vec![0; 34]),
            (RT_VERSION, 1, 1033, version),
            (RT_MANIFEST, 1, 1033, manifest),
        ]
    }

    fn image_with(version: Vec<u8>, manifest: Vec<u8>) -> Vec<u8> {
        rsrc_image(&tree(&items(version, manifest)))
    }

    fn good_image() -> Vec<u8> {
        image_with(good_version(), MANIFEST.as_bytes().to_vec())
    }

    fn read_ok(image: &[u8]) -> Resources {
        read(image).unwrap().expect("a resource directory")
    }

    fn assert_malformed(r: &Resources, needle: &str) {
        assert!(
            r.malformed.iter().any(|m| m.contains(needle)),
            "no malformation mentions {needle:?}: {:#?}",
            r.malformed
        );
    }

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

    fn version_of(version: Vec<u8>) -> Resources {
        read_ok(&image_with(version, MANIFEST.as_bytes().to_vec()))
    }

    #[test]
    fn version_block_with_wlength_zero() {
        let mut v = good_version();
        put16(&mut v, 0, 0);
        let r = version_of(v);
        assert_malformed(&r, "has wLength 0, shorter than its 6-byte header");
        assert_eq!(r.version, Some(VersionInfo::default()));
        // The rest of the tree is still read.
        assert_eq!(r.icons, 3);

        // A zero-length String block ends its table, keeping the strings before it.
        let mut strings: Vec<_> = STRINGS.iter().map(|(k, v)| vstring(k, v)).collect();
        put16(&mut strings[2], 0, 0);
        let r = version_of(version_with("VS_VERSION_INFO", &strings));
        assert_malformed(&r, "has wLength 0");
        let v = r.version.unwrap();
        assert_eq!(v.strings.len(), 2);
        assert_eq!(v.file_version.as_deref(), Some("1.2.3.4"));
    }

    #[test]
    fn version_block_with_wlength_past_the_end() {
        let mut v = good_version();
        put16(&mut v, 0, 0xFFF0);
        let r = version_of(v);
        assert_malformed(&r, "has wLength 65520");
        assert_malformed(&r, "past the end of its parent");
        assert_eq!(r.version.unwrap().get("CompanyName"), Some("Example Corp."));

        // A string longer than its table.
        let mut strings: Vec<_> = STRINGS.iter().map(|(k, v)| vstring(k, v)).collect();
        put16(&mut strings[5], 0, 0x4000);
        let r = version_of(version_with("VS_VERSION_INFO", &strings));
        assert_malformed(&r, "past the end of its parent");
        assert_eq!(r.version.unwrap().get("ProductName"), Some("Example"));
    }

    #[test]
    fn version_with_wrong_root_key_is_malformed_and_still_read() {
        let strings: Vec<_> = STRINGS.iter().map(|(k, v)| vstring(k, v)).collect();
        let r = version_of(version_with("VS_VERSION_INFX", &strings));
        assert_malformed(&r, "root key \"VS_VERSION_INFX\", not \"VS_VERSION_INFO\"");
        assert_eq!(r.version.unwrap().strings.len(), 6);
    }

    #[test]
    fn version_block_with_unterminated_key() {
        // The root's key fills the whole block with no NUL.
        let mut v = vec![0u8; 6];
        v.extend("VS_VERSION_INFO".encode_utf16().flat_map(u16::to_le_bytes));
        let len = v.len() as u16;
        put16(&mut v, 0, len);
        let r = version_of(v);
        assert_malformed(&r, "key that is not NUL-terminated");
        assert_eq!(r.version, Some(VersionInfo::default()));

        // A String block whose key runs to its end: skipped, its siblings read.
        let mut strings: Vec<_> = STRINGS.iter().map(|(k, v)| vstring(k, v)).collect();
        let mut bad = vec![0u8; 6];
        bad.extend("NoTerminator".encode_utf16().flat_map(u16::to_le_bytes));
        let len = bad.len() as u16;
        put16(&mut bad, 0, len);
        strings.insert(1, bad);
        let r = version_of(version_with("VS_VERSION_INFO", &strings));
        assert_malformed(&r, "key that is not NUL-terminated");
        assert_eq!(r.version.unwrap().strings.len(), 6);
    }

    #[test]
    fn version_string_lengths_in_bytes_are_read_to_the_nul() {
        // Some writers put the value's byte count, not its character count, in wValueLength,
        // and some leave out the NUL: both read as the same string.
        let v = utf16_nul("Example Corp.");
        let bytes_len = vblock("CompanyName", 1, v.len() as u16, &v, &[]);
        let no_nul = vblock("ProductName", 1, 7, &v[..14], &[]);
        let r = version_of(version_with("VS_VERSION_INFO", &[bytes_len, no_nul]));
        assert_eq!(r.malformed, Vec::<String>::new());
        let info = r.version.unwrap();
        assert_eq!(info.get("CompanyName"), Some("Example Corp."));
        assert_eq!(info.get("ProductName"), Some("Example"));
    }

    #[test]
    fn fixed_file_info_with_wrong_signature_has_no_versions() {
        let mut v = good_version();
        // The root key "VS_VERSION_INFO" + NUL ends at 6 + 32 = 38, value at 40.
        put32(&mut v, 40, 0xDEAD_BEEF);
        let r = version_of(v);
        assert_malformed(&r, "signature 0xdeadbeef");
        let info = r.version.unwrap();
        assert_eq!(info.file_version, None);
        assert_eq!(info.strings.len(), 6);
    }

    #[test]
    fn too_many_version_strings_stop_at_the_children_budget() {
        let strings: Vec<_> = (0..MAX_VERSION_CHILDREN + 5)
            .map(|_| vblock("", 1, 0, &[], &[]))
            .collect();
        let r = version_of(version_with("VS_VERSION_INFO", &strings));
        assert_malformed(&r, "budget MAX_VERSION_CHILDREN");
        assert_eq!(
            r.version.unwrap().strings.len() as u64,
            MAX_VERSION_CHILDREN
        );
    }

    fn manifest_of(manifest: &[u8]) -> Resources {
        read_ok(&image_with(good_version(), manifest.to_vec()))
    }

    #[test]
    fn manifest_that_is_not_xml() {
        let r = manifest_of(b"this is not XML <<<");
        let m = r.manifest.clone().unwrap();
        assert!(m.error.as_deref().unwrap().contains("not well-formed XML"));
        assert_eq!(m.requested_execution_level, None);
        assert_malformed(&r, "not well-formed XML");

        let r = manifest_of(&[0xC3, 0x28, b'<', b'a', b'/', b'>']);
        assert!(r.manifest.unwrap().error.unwrap().contains("invalid UTF-8"));
    }

    #[test]
    fn manifest_with_an_entity_bomb_is_refused() {
        let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<assembly><trustInfo><requestedExecutionLevel level="&lol4;"/></trustInfo></assembly>"#;
        let r = manifest_of(bomb.as_bytes());
        let m = r.manifest.clone().unwrap();
        assert!(m.error.unwrap().contains("DOCTYPE"));
        assert_eq!(m.requested_execution_level, None);
        assert_malformed(&r, "DOCTYPE");
    }

    #[test]
    fn manifest_larger_than_its_budget_is_not_parsed() {
        let (mut t, entries) =
            tree_with_entries(&items(good_version(), MANIFEST.as_bytes().to_vec()));
        put32(&mut t, entries[6] + 4, 2 << 20);
        let r = read_ok(&rsrc_image(&t));
        let m = r.manifest.clone().unwrap();
        assert_eq!(m.size, 2 << 20);
        assert_eq!(m.requested_execution_level, None);
        assert!(m.error.unwrap().contains("budget MAX_MANIFEST_SIZE"));
        assert_malformed(&r, "budget MAX_MANIFEST_SIZE");
    }

    #[test]
    fn manifest_with_too_many_nodes_is_refused() {
        let mut xml = String::from("<assembly>");
        for _ in 0..MAX_MANIFEST_XML_NODES {
            xml.push_str("<a/>");
        }
        xml.push_str("</assembly>");
        let r = manifest_of(xml.as_bytes());
        assert!(
            r.manifest
                .unwrap()
                .error
                .unwrap()
                .contains("budget MAX_MANIFEST_XML_NODES")
        );
    }

    #[test]
    fn manifest_in_utf16_or_with_a_utf8_bom() {
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(
            MANIFEST
                .replace("UTF-8", "UTF-16")
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
        utf8_bom.extend_from_slice(MANIFEST.as_bytes());
        // Resource compilers pad with NULs.
        utf8_bom.extend_from_slice(&[0, 0, 0]);
        for bytes in [utf16, utf8_bom] {
            let r = manifest_of(&bytes);
            assert_eq!(r.malformed, Vec::<String>::new());
            let m = r.manifest.unwrap();
            assert_eq!(m.size, bytes.len() as u32);
            assert_eq!(
                m.requested_execution_level.as_deref(),
                Some("requireAdministrator")
            );
            assert_eq!(m.ui_access.as_deref(), Some("false"));
        }
    }

    #[test]
    fn manifest_namespace_prefix_and_missing_level() {
        let prefixed = r#"<asmv1:assembly xmlns:asmv1="urn:schemas-microsoft-com:asm.v1" xmlns:asmv2="urn:schemas-microsoft-com:asm.v2" manifestVersion="1.0">
<asmv2:trustInfo><asmv2:security><asmv2:requestedPrivileges>
<asmv2:requestedExecutionLevel level="asInvoker" uiAccess="false"/>
</asmv2:requestedPrivileges></asmv2:security></asmv2:trustInfo></asmv1:assembly>"#;
        let m = manifest_of(prefixed.as_bytes()).manifest.unwrap();
        assert_eq!(m.requested_execution_level.as_deref(), Some("asInvoker"));

        let none = r#"<assembly xmlns="urn:schemas-microsoft-com:asm.v1" manifestVersion="1.0"/>"#;
        let m = manifest_of(none.as_bytes()).manifest.unwrap();
        assert_eq!(
            m,
            Manifest {
                size: none.len() as u32,
                ..Manifest::default()
            }
        );
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
        }
    }

    /// The signed Microsoft runtime DLLs fetched by corpus/fetch-public.sh (absent: skipped).
    #[test]
    fn msvc_runtime_company_name_is_microsoft() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/public/msvc-runtime");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("dll") {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            let r = read(&data).unwrap().unwrap();
            assert_eq!(r.malformed, Vec::<String>::new(), "{}", path.display());
            let v = r.version.unwrap();
            assert_eq!(
                v.get("CompanyName"),
                Some("Microsoft Corporation"),
                "{}",
                path.display()
            );
        }
    }
}
