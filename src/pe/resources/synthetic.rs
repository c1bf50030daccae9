//! Synthetic PE images with resource trees (and the version blocks and manifest they carry), built
//! for the unit tests of the walk and of each payload reader.
#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects
)]

use super::version::FIXED_FILE_INFO_SIGNATURE;
use super::{
    DIR_RESOURCE, HIGH_BIT, RT_GROUP_ICON, RT_ICON, RT_MANIFEST, RT_VERSION, Resources, read,
};

/// Where the synthetic images put their one section.
pub(super) const SECTION_RVA: u32 = 0x1000;
pub(super) const SECTION_RAW: usize = 0x200;

pub(super) fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

pub(super) fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub(super) fn align(x: usize, to: usize) -> usize {
    x.div_ceil(to) * to
}

/// A PE32+ image whose one section (`name`, RVA 0x1000, file offset 0x200) holds `section`;
/// the resource data directory points at the section's start when `resource_dir` is set.
pub(super) fn pe(section: &[u8], name: &[u8; 8], resource_dir: bool) -> Vec<u8> {
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

pub(super) fn rsrc_image(section: &[u8]) -> Vec<u8> {
    pe(section, b".rsrc\0\0\0", true)
}

/// A well-formed three-level resource tree of `items` (type, name, language, data), sorted
/// by type then name, laid out as rc.exe does: directories, data entries, then the data.
pub(super) fn tree(items: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
    tree_with_entries(items).0
}

/// [`tree`], and the offset of each item's data entry.
pub(super) fn tree_with_entries(items: &[(u32, u32, u32, Vec<u8>)]) -> (Vec<u8>, Vec<usize>) {
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

pub(super) fn utf16_nul(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

pub(super) fn pad4(b: &mut Vec<u8>) {
    b.resize(align(b.len(), 4), 0);
}

/// A VS_VERSION_INFO block: header, key, padding, value, then each child DWORD-aligned.
pub(super) fn vblock(
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
pub(super) fn vstring(key: &str, value: &str) -> Vec<u8> {
    let v = utf16_nul(value);
    vblock(key, 1, (v.len() / 2) as u16, &v, &[])
}

pub(super) fn fixed_file_info(file: [u16; 4], product: [u16; 4]) -> Vec<u8> {
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

pub(super) const STRINGS: [(&str, &str); 6] = [
    ("CompanyName", "Example Corp."),
    ("FileDescription", "Example tool"),
    ("FileVersion", "1.2.3.4"),
    ("LegalCopyright", "\u{a9} 2025 Example Corp."),
    ("OriginalFilename", "example.exe"),
    ("ProductName", "Example"),
];

pub(super) fn version_with(root_key: &str, strings: &[Vec<u8>]) -> Vec<u8> {
    let table = vblock("040904b0", 1, 0, &[], strings);
    let sfi = vblock("StringFileInfo", 1, 0, &[], &[table]);
    let var = vblock("Translation", 0, 4, &[0x09, 0x04, 0xb0, 0x04], &[]);
    let vfi = vblock("VarFileInfo", 1, 0, &[], &[var]);
    let fixed = fixed_file_info([1, 2, 3, 4], [1, 2, 0, 0]);
    vblock(root_key, 0, 52, &fixed, &[sfi, vfi])
}

pub(super) fn good_version() -> Vec<u8> {
    let strings: Vec<_> = STRINGS.iter().map(|(k, v)| vstring(k, v)).collect();
    version_with("VS_VERSION_INFO", &strings)
}

pub(super) const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
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

pub(super) fn items(version: Vec<u8>, manifest: Vec<u8>) -> Vec<(u32, u32, u32, Vec<u8>)> {
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

pub(super) fn image_with(version: Vec<u8>, manifest: Vec<u8>) -> Vec<u8> {
    rsrc_image(&tree(&items(version, manifest)))
}

pub(super) fn good_image() -> Vec<u8> {
    image_with(good_version(), MANIFEST.as_bytes().to_vec())
}

pub(super) fn read_ok(image: &[u8]) -> Resources {
    read(image).unwrap().expect("a resource directory")
}

pub(super) fn assert_malformed(r: &Resources, needle: &str) {
    assert!(
        r.malformed.iter().any(|m| m.contains(needle)),
        "no malformation mentions {needle:?}: {:#?}",
        r.malformed
    );
}
