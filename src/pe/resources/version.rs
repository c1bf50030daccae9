//! Version information: the VS_VERSION_INFO block tree of an RT_VERSION resource (VS_FIXEDFILEINFO
//! and the first StringTable's strings), read with the malformations and budgets of the walk.

use serde::Serialize;

use super::Findings;
use crate::budget::{MAX_STRING_LEN, MAX_VERSION_CHILDREN};
use crate::read::Bytes;

/// VS_VERSION_INFO block header: wLength, wValueLength, wType.
const BLOCK_HEADER_LEN: u64 = 6;
/// VS_FIXEDFILEINFO: 13 DWORDs.
const FIXED_FILE_INFO_LEN: u64 = 52;
pub(super) const FIXED_FILE_INFO_SIGNATURE: u32 = 0xFEEF_04BD;

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
pub(super) struct VersionReader<'a, 'f> {
    pub(super) v: Bytes<'a>,
    /// File offset of the version data.
    pub(super) base: u64,
    pub(super) findings: &'f mut Findings,
}

impl VersionReader<'_, '_> {
    fn at(&self, rel: u64) -> u64 {
        self.base.saturating_add(rel)
    }

    pub(super) fn parse(mut self) -> VersionInfo {
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

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::super::synthetic::*;
    use super::super::{Resources, read};
    use super::*;

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
