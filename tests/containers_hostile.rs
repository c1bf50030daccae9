//! The archive readers (zip, tar with its codecs, deb, rpm) against hostile inputs built here:
//! a 42.zip-style nest, an overlapping-entry zip, a zip declaring 2^62 bytes, a tar with a
//! 1 TiB sparse entry, a tar.gz of zeros past the ratio, unsafe names, too many entries and
//! truncations; and against the real tools (`zip`/`unzip`, `tar` with `gzip`/`xz`/`zstd`/
//! `bzip2`, `dpkg-deb`, `rpmbuild`): what they list is what the walk gives, byte for byte.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bingate::ErrorKind;
use bingate::container::{self, Budget, Codec, EntryMeta, Kind, Limits, Walked};
use common::interop;

/// What the test visitor keeps of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    name: String,
    size: Option<u64>,
    bytes: Vec<u8>,
}

/// Reads every entry whole (up to `max` bytes).
fn walk_all(kind: Kind, data: &[u8], limits: Limits, max: u64) -> Walked<Seen> {
    let budget = Budget::new(limits);
    let visit = move |m: &EntryMeta, r: &mut dyn Read| {
        let mut bytes = Vec::new();
        let _ = r.take(max).read_to_end(&mut bytes);
        Seen {
            name: m.name.clone(),
            size: m.size,
            bytes,
        }
    };
    container::walk(kind, data, 0, &budget, &visit)
}

fn walk(kind: Kind, data: &[u8]) -> Walked<Seen> {
    walk_all(kind, data, Limits::default(), 1 << 30)
}

fn is_budget(w: &Walked<Seen>) -> bool {
    matches!(
        w.error.as_ref().map(|e| &e.kind),
        Some(ErrorKind::Budget { .. })
    )
}

fn kind_of(data: &[u8]) -> Kind {
    container::sniff(&data[..data.len().min(container::SNIFF_LEN)]).expect("a container")
}

// ---- builders -------------------------------------------------------------------------------

fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// One entry of a hand-built zip.
struct ZipEntry<'a> {
    name: &'a [u8],
    data: &'a [u8],
    deflated: bool,
}

/// A zip written by hand (stored or deflated entries, no data descriptors); `central` may
/// repeat or re-point entries: each item is (entry index, local header offset override).
fn zip_by_hand(entries: &[ZipEntry<'_>], central: Option<&[(usize, u32)]>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut locals = Vec::new();
    for e in entries {
        let body = if e.deflated {
            deflate(e.data)
        } else {
            e.data.to_vec()
        };
        let offset = out.len() as u32;
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(if e.deflated { 8u16 } else { 0 }).to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&crc32(e.data).to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(e.name);
        out.extend_from_slice(&body);
        locals.push((offset, body.len() as u32));
    }
    let default: Vec<(usize, u32)> = locals.iter().enumerate().map(|(i, l)| (i, l.0)).collect();
    let central = central.unwrap_or(&default);
    let cd_start = out.len() as u32;
    for &(i, offset) in central {
        let e = &entries[i];
        out.extend_from_slice(b"PK\x01\x02");
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(if e.deflated { 8u16 } else { 0 }).to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&crc32(e.data).to_le_bytes());
        out.extend_from_slice(&locals[i].1.to_le_bytes());
        out.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0; 12]);
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(e.name);
    }
    let cd_size = out.len() as u32 - cd_start;
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(central.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u16).to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let entries: Vec<ZipEntry<'_>> = files
        .iter()
        .map(|(n, d)| ZipEntry {
            name: n.as_bytes(),
            data: d,
            deflated: true,
        })
        .collect();
    zip_by_hand(&entries, None)
}

/// A tar built with the `tar` crate's writer; names are written raw into the header.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// A cpio "newc" archive of regular files.
fn newc(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |name: &str, mode: u32, data: &[u8]| {
        let name_z = format!("{name}\0");
        let fields = [
            1,
            mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            0,
            0,
            name_z.len() as u32,
            0,
        ];
        out.extend_from_slice(b"070701");
        for f in fields {
            out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        out.extend_from_slice(name_z.as_bytes());
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    };
    for (n, d) in files {
        push(n, 0o100644, d);
    }
    push("TRAILER!!!", 0, b"");
    out
}

/// An RPM header structure with the given (tag, type, value) entries.
fn rpm_header(tags: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut store = Vec::new();
    for (tag, ty, value) in tags {
        index.extend_from_slice(&tag.to_be_bytes());
        index.extend_from_slice(&ty.to_be_bytes());
        index.extend_from_slice(&(store.len() as u32).to_be_bytes());
        index.extend_from_slice(&1u32.to_be_bytes());
        store.extend_from_slice(value);
    }
    let mut out = b"\x8e\xad\xe8\x01\0\0\0\0".to_vec();
    out.extend_from_slice(&(tags.len() as u32).to_be_bytes());
    out.extend_from_slice(&(store.len() as u32).to_be_bytes());
    out.extend_from_slice(&index);
    out.extend_from_slice(&store);
    out
}

/// An RPM by hand: lead, a signature header with an RSA tag, the main header naming a gzip
/// cpio payload, the payload.
fn rpm_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = vec![0u8; 96];
    out[..4].copy_from_slice(b"\xed\xab\xee\xdb");
    out.extend_from_slice(&rpm_header(&[(268, 7, b"not a real signature")]));
    while out.len() % 8 != 0 {
        out.push(0);
    }
    out.extend_from_slice(&rpm_header(&[(1124, 6, b"cpio\0"), (1125, 6, b"gzip\0")]));
    out.extend_from_slice(&gzip(&newc(files)));
    out
}

fn ar_member(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    out.extend_from_slice(
        format!(
            "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            name,
            0,
            0,
            0,
            100644,
            data.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(b'\n');
    }
}

/// A deb by hand: control.tar.gz and data.tar.gz.
fn deb_of(control: &[(&str, &[u8])], data: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    ar_member(&mut out, "debian-binary", b"2.0\n");
    ar_member(&mut out, "control.tar.gz", &gzip(&tar_of(control)));
    ar_member(&mut out, "data.tar.gz", &gzip(&tar_of(data)));
    out
}

// ---- formats read by hand-built samples ------------------------------------------------------

#[test]
fn every_format_gives_its_files_in_order() {
    let files: [(&str, &[u8]); 2] = [("bin/a.dll", b"MZ first"), ("lib/b.so", b"\x7fELF second")];
    let expect = |prefix: &str| -> Vec<(String, Vec<u8>)> {
        files
            .iter()
            .map(|(n, d)| (format!("{prefix}{n}"), d.to_vec()))
            .collect()
    };
    let tar = tar_of(&[("./bin/a.dll", files[0].1), ("./lib/b.so", files[1].1)]);
    let samples: Vec<(Vec<u8>, Kind, &str)> = vec![
        (zip_of(&files), Kind::Zip, ""),
        (tar_of(&files), Kind::Tar(None), ""),
        (gzip(&tar_of(&files)), Kind::Tar(Some(Codec::Gzip)), ""),
        (
            deb_of(
                &[("./control", b"Package: x\n")],
                &[("./bin/a.dll", files[0].1), ("./lib/b.so", files[1].1)],
            ),
            Kind::Deb,
            "",
        ),
        (
            rpm_of(&[("./bin/a.dll", files[0].1), ("./lib/b.so", files[1].1)]),
            Kind::Rpm,
            "",
        ),
        (tar, Kind::Tar(None), "./"),
    ];
    for (data, kind, prefix) in samples {
        let w = walk(kind_of(&data), &data);
        assert!(w.error.is_none(), "{kind:?}: {:?}", w.error);
        assert_eq!(w.summary.kind, kind);
        let got: Vec<(String, Vec<u8>)> = w
            .items
            .iter()
            .filter(|s| !s.name.starts_with("DEBIAN/"))
            .map(|s| (s.name.clone(), s.bytes.clone()))
            .collect();
        assert_eq!(got, expect(prefix), "{kind:?}");
        if kind == Kind::Deb {
            assert_eq!(w.items[0].name, "DEBIAN/control");
        }
        if kind == Kind::Rpm {
            assert_eq!(w.summary.package_signatures, ["rpm signature header"]);
        }
    }
}

#[test]
fn single_gzip_file_is_one_entry_named_by_its_header() {
    let mut e = flate2::GzBuilder::new()
        .filename("setup.exe")
        .write(Vec::new(), flate2::Compression::fast());
    e.write_all(b"MZ not a tar").unwrap();
    let data = e.finish().unwrap();
    let w = walk(kind_of(&data), &data);
    assert!(w.error.is_none(), "{:?}", w.error);
    assert_eq!(w.summary.kind, Kind::Compressed(Codec::Gzip));
    assert_eq!(w.items.len(), 1);
    assert_eq!(w.items[0].name, "setup.exe");
    assert_eq!(w.items[0].bytes, b"MZ not a tar");
}

#[test]
fn concatenated_gzip_members_are_read_whole() {
    let mut data = gzip(b"first ");
    data.extend_from_slice(&gzip(b"second"));
    let w = walk(Kind::Compressed(Codec::Gzip), &data);
    assert!(w.error.is_none(), "{:?}", w.error);
    assert_eq!(w.items[0].bytes, b"first second");
}

#[test]
fn self_extractor_zip_with_offsets_from_the_file_start() {
    let zip = zip_of(&[("payload.dll", b"MZ payload")]);
    // The zip as a self-extractor stores it: after a 4 KiB stub, offsets counted from the
    // start of the whole file.
    let stub = vec![0x90u8; 4096];
    let mut whole = stub.clone();
    whole.extend_from_slice(&zip);
    let eocd = whole.len() - 22;
    let cd_offset = u32::from_le_bytes(whole[eocd + 16..eocd + 20].try_into().unwrap());
    whole[eocd + 16..eocd + 20].copy_from_slice(&(cd_offset + 4096).to_le_bytes());
    let cd = (cd_offset + 4096) as usize;
    let local = u32::from_le_bytes(whole[cd + 42..cd + 46].try_into().unwrap());
    whole[cd + 42..cd + 46].copy_from_slice(&(local + 4096).to_le_bytes());
    for data in [&whole[..], &whole[4096..]] {
        let w = walk(Kind::Zip, data);
        assert!(w.error.is_none(), "{:?}", w.error);
        assert_eq!(w.items.len(), 1);
        assert_eq!(w.items[0].bytes, b"MZ payload");
    }
}

#[test]
fn zip_package_signatures_listed() {
    let data = zip_of(&[
        ("META-INF/CERT.RSA", b"x"),
        ("pkg-1.0.dist-info/RECORD.jws", b"y"),
        ("a.dll", b"MZ"),
    ]);
    let w = walk(Kind::Zip, &data);
    assert_eq!(
        w.summary.package_signatures,
        ["META-INF/CERT.RSA", "pkg-1.0.dist-info/RECORD.jws"]
    );
}

// ---- hostile ---------------------------------------------------------------------------------

/// Walks `data` (of `kind`) and every container inside it, the way the scan does: an entry
/// that sniffs as a container is read whole and walked one level deeper. The first error found
/// at any depth, if any.
fn nest(kind: Kind, data: &[u8], depth: u32, budget: &Budget) -> Option<bingate::Error> {
    let visit = |_: &EntryMeta, r: &mut dyn Read| -> Option<bingate::Error> {
        let mut bytes = Vec::new();
        if let Err(e) = r.take(budget.limits.max_entry_size).read_to_end(&mut bytes) {
            return container::budget_error(&e);
        }
        let kind = container::sniff(&bytes[..bytes.len().min(512)])?;
        nest(kind, &bytes, depth + 1, budget)
    };
    let w = container::walk(kind, data, depth, budget, &visit);
    w.error.or_else(|| w.items.into_iter().flatten().next())
}

#[test]
fn nested_zip_bomb_stops_on_a_budget_quickly() {
    // 42.zip's shape, smaller: 16 MiB of zeros, then four levels of 16 copies each.
    let zeros = vec![0u8; 16 << 20];
    let mut level = zip_of(&[("0.dll", &zeros)]);
    for _ in 0..4 {
        let names: Vec<String> = (0..16).map(|i| format!("{i:x}.zip")).collect();
        let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &level[..])).collect();
        level = zip_of(&files);
    }
    assert!(level.len() < 1 << 20, "the bomb is small: {}", level.len());
    let start = Instant::now();
    // The default budget of expanded bytes would stop it after 16 GiB of work; a smaller one
    // keeps the test fast (the ratio stops each innermost file after a few MiB).
    let budget = Budget::new(Limits {
        max_expanded: 64 << 20,
        ..Limits::default()
    });
    let e = nest(Kind::Zip, &level, 0, &budget).expect("stopped by a budget");
    assert!(matches!(e.kind, ErrorKind::Budget { .. }), "{e:?}");
    assert!(budget.expanded() < 128 << 20, "{}", budget.expanded());
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );

    // The depth budget stops it too when ratios are not checked.
    let limits = Limits {
        max_ratio: u64::MAX,
        max_depth: 2,
        max_expanded: 1 << 40,
        ..Limits::default()
    };
    let small = {
        let mut level = zip_of(&[("0.dll", b"MZ")]);
        for _ in 0..4 {
            level = zip_of(&[("n.zip", &level)]);
        }
        level
    };
    let e = nest(Kind::Zip, &small, 0, &Budget::new(limits)).expect("stopped by depth");
    assert!(e.to_string().contains("nested"), "{e}");
}

#[test]
fn overlapping_entries_are_refused() {
    let entry = |name| ZipEntry {
        name,
        data: &[0u8; 1000],
        deflated: true,
    };
    let entries = [entry(&b"a.dll"[..]), entry(b"b.dll"), entry(b"c.dll")];
    // Fifield's construction: central entries of different names pointing at one local header.
    let data = zip_by_hand(&entries, Some(&[(0, 0), (1, 0), (2, 0)]));
    let budget = Budget::new(Limits::default());
    let w = container::walk(
        Kind::Zip,
        &data,
        0,
        &budget,
        &|_: &EntryMeta, _: &mut dyn Read| (),
    );
    let e = w.error.expect("an overlap error");
    assert!(e.to_string().contains("overlap"), "{e}");
    assert!(w.items.is_empty());
    assert_eq!(budget.expanded(), 0, "nothing was decompressed");
}

#[test]
fn entry_declaring_2_pow_62_bytes_is_not_allocated() {
    // A zip64 entry: sizes 0xFFFFFFFF in the headers, the real ones in the zip64 extra field.
    let body = deflate(b"MZ tiny");
    let huge: u64 = 1 << 62;
    let extra = |with_offset: bool| {
        let mut x = Vec::new();
        x.extend_from_slice(&1u16.to_le_bytes());
        x.extend_from_slice(&(if with_offset { 24u16 } else { 16 }).to_le_bytes());
        x.extend_from_slice(&huge.to_le_bytes());
        x.extend_from_slice(&(body.len() as u64).to_le_bytes());
        if with_offset {
            x.extend_from_slice(&0u64.to_le_bytes());
        }
        x
    };
    let name = b"big.dll";
    let mut out = Vec::new();
    let local_extra = extra(false);
    out.extend_from_slice(b"PK\x03\x04");
    out.extend_from_slice(&45u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&crc32(b"MZ tiny").to_le_bytes());
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&(local_extra.len() as u16).to_le_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(&local_extra);
    out.extend_from_slice(&body);
    let cd_start = out.len() as u32;
    let central_extra = extra(true);
    out.extend_from_slice(b"PK\x01\x02");
    out.extend_from_slice(&45u16.to_le_bytes());
    out.extend_from_slice(&45u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&crc32(b"MZ tiny").to_le_bytes());
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central_extra.len() as u16).to_le_bytes());
    // Comment length, disk, internal and external attributes; the offset is in the extra field.
    out.extend_from_slice(&[0; 10]);
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(&central_extra);
    let cd_size = out.len() as u32 - cd_start;
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());

    let start = Instant::now();
    let w = walk(Kind::Zip, &out);
    assert!(w.error.is_none(), "{:?}", w.error);
    assert_eq!(w.items.len(), 1);
    assert_eq!(
        w.items[0].size,
        Some(huge),
        "the declared size is passed on"
    );
    assert_eq!(w.items[0].bytes, b"MZ tiny", "only the real bytes are read");
    assert!(start.elapsed() < Duration::from_secs(1));
}

/// A GNU tar with one sparse entry declaring `real` bytes, of which the last 512 are stored.
fn sparse_tar(real: u64) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.set_path("sparse.bin").unwrap();
    h.set_mode(0o644);
    h.set_size(512);
    h.set_entry_type(tar::EntryType::GNUSparse);
    {
        let g = h.as_gnu_mut().unwrap();
        g.sparse[0].set_offset(real - 512);
        g.sparse[0].set_length(512);
        g.set_real_size(real);
        g.set_is_extended(false);
    }
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(&[b'X'; 512]);
    out.extend_from_slice(&[0; 1024]);
    out
}

#[test]
fn sparse_entry_declaring_a_terabyte_stops_on_the_ratio() {
    let tib: u64 = 1 << 40;
    let plain = sparse_tar(tib);
    for (data, kind) in [
        (plain.clone(), Kind::Tar(None)),
        (gzip(&plain), Kind::Tar(Some(Codec::Gzip))),
    ] {
        let start = Instant::now();
        let w = walk_all(kind, &data, Limits::default(), u64::MAX);
        assert_eq!(w.items.len(), 1, "{kind:?}");
        assert_eq!(w.items[0].size, Some(tib));
        assert!(is_budget(&w), "{kind:?}: {:?}", w.error);
        assert!(w.items[0].bytes.len() < 64 << 20);
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
        // A visitor that reads nothing: the entry is skipped without reading its holes.
        let budget = Budget::new(Limits::default());
        let w = container::walk(
            kind,
            &data,
            0,
            &budget,
            &|_: &EntryMeta, _: &mut dyn Read| (),
        );
        assert!(w.error.is_none(), "{:?}", w.error);
        assert!(budget.expanded() < 1 << 20);
    }
}

/// The ratio is measured against the compressed size, so that size must be in the file: a
/// central directory declaring a gigabyte for a 64 KiB deflate stream of 64 MiB (a patched
/// header, or a zip64 extra field read in the other order) is refused before anything is
/// inflated, where it used to inflate all 64 MiB (or 4 GiB) unchecked.
#[test]
fn zip_entry_whose_compressed_size_runs_past_the_file_is_refused() {
    let mut body = b"MZ".to_vec();
    body.resize(64 << 20, 0);
    let entries = [ZipEntry {
        name: b"big.dll",
        data: &body,
        deflated: true,
    }];
    let mut data = zip_by_hand(&entries, None);
    let cd = data
        .windows(4)
        .rposition(|w| w == b"PK\x01\x02")
        .expect("a central header");
    data[cd + 20..cd + 24].copy_from_slice(&(1u32 << 30).to_le_bytes());
    let budget = Budget::new(Limits::default());
    let w = container::walk(
        Kind::Zip,
        &data,
        0,
        &budget,
        &|_: &EntryMeta, r: &mut dyn Read| {
            let _ = std::io::copy(r, &mut std::io::sink());
        },
    );
    let e = w.error.expect("an error for the container");
    assert!(e.to_string().contains("past the end of the file"), "{e}");
    assert_eq!(e.offset, Some(0), "{e}");
    assert_eq!(budget.expanded(), 0, "nothing was inflated");
}

/// A sparse entry whose header declares 8 MiB of data blocks (after a 248 MiB hole) in a tar
/// holding 512 bytes of data: the ratio is measured against the bytes the archive has left,
/// so the hole is stopped after a few hundred KiB instead of being expanded whole.
#[test]
fn sparse_entry_declaring_data_the_archive_lacks_stops_on_the_ratio() {
    let real: u64 = 256 << 20;
    let stored: u64 = 8 << 20;
    let mut h = tar::Header::new_gnu();
    h.set_path("sparse.dll").unwrap();
    h.set_mode(0o644);
    h.set_size(stored);
    h.set_entry_type(tar::EntryType::GNUSparse);
    {
        let g = h.as_gnu_mut().unwrap();
        g.sparse[0].set_offset(real - stored);
        g.sparse[0].set_length(stored);
        g.set_real_size(real);
        g.set_is_extended(false);
    }
    h.set_cksum();
    let mut data = h.as_bytes().to_vec();
    data.extend_from_slice(&[b'X'; 512]);
    let w = walk_all(Kind::Tar(None), &data, Limits::default(), u64::MAX);
    assert!(is_budget(&w), "{:?}", w.error);
    assert!(
        w.error
            .as_ref()
            .unwrap()
            .to_string()
            .contains("expansion ratio"),
        "{:?}",
        w.error
    );
    assert!(
        w.items.iter().all(|i| i.bytes.len() < 4 << 20),
        "{:?}",
        w.items.iter().map(|i| i.bytes.len()).collect::<Vec<_>>()
    );
}

#[test]
fn tar_gz_of_zeros_past_the_ratio_is_stopped() {
    let zeros = vec![0u8; 8 << 20];
    let data = gzip(&tar_of(&[("zeros.bin", &zeros)]));
    let w = walk(Kind::Tar(Some(Codec::Gzip)), &data);
    assert!(is_budget(&w), "{:?}", w.error);
    assert!(w.error.unwrap().to_string().contains("expansion ratio"));
    // A visitor that does not read: skipping decompresses too, and is stopped the same way.
    let budget = Budget::new(Limits::default());
    let w = container::walk(
        Kind::Tar(Some(Codec::Gzip)),
        &data,
        0,
        &budget,
        &|_: &EntryMeta, _: &mut dyn Read| (),
    );
    assert!(matches!(
        w.error.map(|e| e.kind),
        Some(ErrorKind::Budget { .. })
    ));
}

#[test]
fn total_expanded_bytes_budget_names_the_limit() {
    let data = zip_of(&[("a.bin", &[7u8; 3000]), ("b.bin", &[8u8; 3000])]);
    let limits = Limits {
        max_expanded: 4000,
        ..Limits::default()
    };
    let w = walk_all(Kind::Zip, &data, limits, u64::MAX);
    let e = w.error.expect("budget");
    assert!(
        e.to_string().contains("bytes decompressed from one file"),
        "{e}"
    );
}

#[test]
fn unsafe_names_are_noted_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let old = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let names = [
        "../../evil.dll",
        "/etc/evil.so",
        "C:\\Windows\\evil.dll",
        "a\0b.dll",
    ];
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (*n, &b"MZ"[..])).collect();
    let zip = zip_of(&files);
    let tar = tar_of(&files[..3]);
    let results = [walk(Kind::Zip, &zip), walk(Kind::Tar(None), &tar)];
    std::env::set_current_dir(old).unwrap();
    for (w, count) in results.iter().zip([4, 3]) {
        assert!(w.error.is_none(), "{:?}", w.error);
        assert_eq!(
            w.items.len(),
            count,
            "unsafe-named entries are still examined"
        );
        let noted: Vec<&str> = w
            .summary
            .notes
            .iter()
            .filter(|n| n.id == "unsafe-name")
            .map(|n| n.entry.as_deref().unwrap())
            .collect();
        assert_eq!(noted, names[..count]);
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn entries_past_the_limit_stop_the_walk() {
    let names: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let limits = Limits {
        max_entries: 5,
        ..Limits::default()
    };
    for data in [
        zip_of(&files),
        tar_of(&files),
        gzip(&tar_of(&files)),
        deb_of(&[], &files),
        rpm_of(&files),
    ] {
        let w = walk_all(kind_of(&data), &data, limits, 1 << 20);
        assert!(is_budget(&w), "{:?}: {:?}", kind_of(&data), w.error);
        assert!(w.items.len() <= 5);
        assert!(
            w.error
                .unwrap()
                .to_string()
                .contains("entries in one container")
        );
    }
}

#[test]
fn truncated_archives_are_errors_at_every_sixteenth() {
    let files: [(&str, &[u8]); 3] = [
        ("a.dll", &[1u8; 5000]),
        ("b/c.so", &[2u8; 7000]),
        ("d.txt", b"text"),
    ];
    let samples = [
        zip_of(&files),
        gzip(&tar_of(&files)),
        deb_of(&[("control", b"Package: x\n")], &files),
        rpm_of(&files),
    ];
    for data in &samples {
        let kind = kind_of(data);
        for k in 1..16 {
            let cut = &data[..data.len() * k / 16];
            let w = walk(kind, cut);
            assert!(
                w.error.is_some(),
                "{kind:?} cut at {k}/16 read without an error"
            );
        }
    }
    // A plain tar cut at a block boundary looks like a shorter archive: no panic is all.
    let tar = tar_of(&files);
    for k in 1..16 {
        let _ = walk(Kind::Tar(None), &tar[..tar.len() * k / 16]);
    }
}

// ---- interop with the real tools ------------------------------------------------------------

/// A tree of files for the tools to pack: names, and bytes that differ per file.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let files = [
        ("usr/bin/tool", 3000usize),
        ("usr/lib/libx.so.1", 70_000),
        ("usr/share/doc/x/README", 12),
    ];
    files
        .iter()
        .enumerate()
        .map(|(i, (name, len))| {
            let bytes: Vec<u8> = (0..*len).map(|j| ((j * 7 + i * 13) % 251) as u8).collect();
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            (name.to_string(), bytes)
        })
        .collect()
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The walk's regular files, as (name, bytes), sorted.
fn files_of(w: &Walked<Seen>) -> Vec<(String, Vec<u8>)> {
    assert!(w.error.is_none(), "{:?}", w.error);
    let mut v: Vec<(String, Vec<u8>)> = w
        .items
        .iter()
        .map(|s| {
            assert_eq!(s.size, Some(s.bytes.len() as u64), "{}", s.name);
            (s.name.clone(), s.bytes.clone())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn zip_made_by_zip_matches_unzip() {
    if !interop::require("zip") || !interop::require("unzip") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let mut expect = tree(&root);
    run(Command::new("zip")
        .current_dir(&root)
        .args(["-q", "-r", "../t.zip", "."]));
    let data = std::fs::read(dir.path().join("t.zip")).unwrap();
    let w = walk(Kind::Zip, &data);
    // unzip's listing of the regular files (names ending in / are directories).
    let listed = String::from_utf8(run(Command::new("unzip")
        .arg("-Z1")
        .arg(dir.path().join("t.zip"))))
    .unwrap();
    let mut unzip_files: Vec<&str> = listed.lines().filter(|l| !l.ends_with('/')).collect();
    unzip_files.sort();
    let got = files_of(&w);
    let got_names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(got_names, unzip_files);
    assert_eq!(w.summary.entries as usize, listed.lines().count());
    for (name, bytes) in &got {
        let p = run(Command::new("unzip")
            .arg("-p")
            .arg(dir.path().join("t.zip"))
            .arg(name));
        assert_eq!(&p, bytes, "{name}");
    }
    expect.sort();
    assert_eq!(got, expect);
}

#[test]
fn tar_made_by_tar_with_each_codec_matches_tar() {
    let codecs: [(&str, Option<Codec>, &str); 5] = [
        ("", None, ""),
        ("gzip", Some(Codec::Gzip), "-z"),
        ("xz", Some(Codec::Xz), "-J"),
        ("zstd", Some(Codec::Zstd), "--zstd"),
        ("bzip2", Some(Codec::Bzip2), "-j"),
    ];
    if !interop::require("tar") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let mut expect = tree(&root);
    expect.sort();
    for (tool, codec, flag) in codecs {
        if !tool.is_empty() && !interop::require(tool) {
            continue;
        }
        let out = dir.path().join(format!("t-{tool}.tar"));
        let mut cmd = Command::new("tar");
        cmd.arg("-C").arg(&root).arg("-c");
        if !flag.is_empty() {
            cmd.arg(flag);
        }
        run(cmd.arg("-f").arg(&out).arg("usr"));
        let data = std::fs::read(&out).unwrap();
        let kind = kind_of(&data);
        let w = walk(kind, &data);
        assert_eq!(w.summary.kind, Kind::Tar(codec), "{tool}");
        assert_eq!(files_of(&w), expect, "{tool}");
        let listed = String::from_utf8(run(Command::new("tar").arg("-tf").arg(&out))).unwrap();
        assert_eq!(w.summary.entries as usize, listed.lines().count(), "{tool}");
    }
}

#[test]
fn deb_made_by_dpkg_deb_matches_its_listing() {
    if !interop::require("dpkg-deb") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("pkg");
    let mut expect = tree(&root);
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    let control = b"Package: bingate-test\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: test\n";
    std::fs::write(root.join("DEBIAN/control"), control).unwrap();
    expect.push(("DEBIAN/control".to_owned(), control.to_vec()));
    expect.sort();
    for z in ["gzip", "xz", "zstd", "none"] {
        let out = dir.path().join(format!("t-{z}.deb"));
        let status = Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Z", z, "--build"])
            .arg(&root)
            .arg(&out)
            .output()
            .unwrap();
        if !status.status.success() {
            // An older dpkg-deb without zstd.
            assert_ne!(z, "gzip", "{}", String::from_utf8_lossy(&status.stderr));
            continue;
        }
        let data = std::fs::read(&out).unwrap();
        let w = walk(kind_of(&data), &data);
        assert_eq!(w.summary.kind, Kind::Deb);
        assert_eq!(files_of(&w), expect, "{z}");
        // dpkg-deb -c lists data.tar's entries (directories too) as `./name`.
        let listed = String::from_utf8(run(Command::new("dpkg-deb").arg("-c").arg(&out))).unwrap();
        let mut regular: Vec<String> = listed
            .lines()
            .filter(|l| l.starts_with('-'))
            .map(|l| {
                l.rsplit(' ')
                    .next()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_owned()
            })
            .collect();
        regular.sort();
        let ours: Vec<String> = expect
            .iter()
            .map(|(n, _)| n.clone())
            .filter(|n| !n.starts_with("DEBIAN/"))
            .collect();
        assert_eq!(regular, ours, "{z}");
    }
}

#[test]
fn rpm_made_by_rpmbuild_matches_rpm2cpio() {
    if !interop::require("rpmbuild") || !interop::require("rpm2cpio") || !interop::require("cpio") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path();
    let src = top.join("src");
    let mut expect = tree(&src);
    expect.sort();
    let spec = top.join("t.spec");
    std::fs::write(
        &spec,
        format!(
            "Name: bingate-test\nVersion: 1.0\nRelease: 1\nSummary: t\nLicense: MIT\nBuildArch: noarch\n\
             %description\nt\n%install\nmkdir -p %{{buildroot}}\ncp -a {}/usr %{{buildroot}}/\n\
             %files\n/usr/bin/tool\n/usr/lib/libx.so.1\n/usr/share/doc/x/README\n",
            src.display()
        ),
    )
    .unwrap();
    for comp in ["w9.gzdio", "w6.xzdio", "w19.zstdio", "w9.bzdio"] {
        let out = top.join(format!("out-{comp}"));
        let status = Command::new("rpmbuild")
            .arg("-bb")
            .arg("--define")
            .arg(format!("_topdir {}", top.join("rpmbuild").display()))
            .arg("--define")
            .arg(format!("_rpmdir {}", out.display()))
            .arg("--define")
            .arg(format!("_binary_payload {comp}"))
            .arg("--define")
            .arg("__os_install_post %{nil}")
            .arg(&spec)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "rpmbuild {comp}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let rpm = out.join("noarch/bingate-test-1.0-1.noarch.rpm");
        let data = std::fs::read(&rpm).unwrap();
        let w = walk(kind_of(&data), &data);
        assert_eq!(w.summary.kind, Kind::Rpm);
        assert_eq!(files_of(&w), expect, "{comp}");
        let cpio = run(Command::new("rpm2cpio").arg(&rpm));
        let mut child = Command::new("cpio")
            .args(["-t", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&cpio).unwrap();
        let listed = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
        assert_eq!(w.summary.entries as usize, listed.lines().count(), "{comp}");
    }
}
