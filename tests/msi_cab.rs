//! MSI and CAB: reading their embedded files (`container::msi`, `container::cab`) and verifying
//! their Authenticode signatures (`authenticode::msi`, `authenticode::cab`), on the fixtures of
//! corpus/recipes/build-msi.sh. Every verdict is compared with osslsigncode's when it is
//! installed (required under `BINGATE_REQUIRE_INTEROP=1`); the entry lists with `msiinfo
//! streams` and `gcab -l` (msitools and gcab), and the bytes read with the PEs the fixtures were
//! built from.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Command;

use bingate::authenticode::cab::verify_cab;
use bingate::authenticode::msi::verify_msi;
use bingate::cms::verdict::{FixedAnchors, SignatureVerdict, Status, VerifyEnv};
use bingate::container::{Budget, EntryMeta, Limits, cab, msi};
use bingate::pki::chain::Anchors;
use common::{interop, paths};

/// 2026-11-22T00:00:00Z: inside the test leaf's validity (2025..2035).
const AT: u64 = 1_795_305_600;

fn verdict(data: &[u8], f: fn(&[u8], &VerifyEnv<'_>) -> SignatureVerdict) -> SignatureVerdict {
    let anchors = Anchors::from_pem(&paths::read(paths::pki("root.pem"))).unwrap();
    let env = VerifyEnv {
        anchors: &FixedAnchors {
            code_signing: &anchors,
            time_stamping: &anchors,
        },
        at: AT,
        strict: false,
        require_all: false,
        revoked: &|_, _| None,
    };
    f(data, &env)
}

fn msi_status(data: &[u8]) -> SignatureVerdict {
    verdict(data, verify_msi)
}

fn cab_status(data: &[u8]) -> SignatureVerdict {
    verdict(data, verify_cab)
}

/// osslsigncode's verdict on `path` (`Some(true)` when it verifies), `None` when it is not
/// installed (a failure under `BINGATE_REQUIRE_INTEROP=1`).
fn osslsigncode_ok(path: &Path) -> Option<bool> {
    if !interop::require("osslsigncode") {
        return None;
    }
    let out = Command::new("osslsigncode")
        .args(["verify", "-CAfile"])
        .arg(paths::pki("root.pem"))
        .args(["-time", &AT.to_string(), "-in"])
        .arg(path)
        .output()
        .unwrap();
    Some(out.status.success())
}

/// bingate's verdict and osslsigncode's agree: `valid` and "verifies", anything else and
/// "fails".
fn agree(path: &Path, v: &SignatureVerdict) {
    if let Some(ok) = osslsigncode_ok(path) {
        assert_eq!(
            ok,
            v.status == Status::Valid,
            "{}: osslsigncode says {ok}, bingate {:?} ({:?})",
            path.display(),
            v.status,
            v.signatures.first().map(|s| &s.reasons)
        );
    }
}

fn fixture(name: &str) -> (std::path::PathBuf, Vec<u8>) {
    let p = paths::corpus(format!("msi/{name}"));
    let d = paths::read(&p);
    (p, d)
}

#[test]
fn signed_msi_verifies_with_and_without_msi_digital_signature_ex() {
    for name in ["signed.msi", "signed-dse.msi"] {
        let (p, d) = fixture(name);
        let v = msi_status(&d);
        assert_eq!(v.status, Status::Valid, "{name}: {v:?}");
        assert_eq!(v.signatures.len(), 1);
        assert!(v.signatures[0].digest.matches);
        agree(&p, &v);
    }
}

#[test]
fn unsigned_msi_and_cab_are_unsigned() {
    let (p, d) = fixture("unsigned.msi");
    let v = msi_status(&d);
    assert_eq!(v.status, Status::Unsigned, "{v:?}");
    agree(&p, &v);
    let (p, d) = fixture("unsigned.cab");
    let v = cab_status(&d);
    assert_eq!(v.status, Status::Unsigned, "{v:?}");
    agree(&p, &v);
}

#[test]
fn signed_cab_verifies() {
    let (p, d) = fixture("signed.cab");
    let v = cab_status(&d);
    assert_eq!(v.status, Status::Valid, "{v:?}");
    agree(&p, &v);
}

/// Where stream `name` (as `msi::decode_name` shows it) starts in the file, read through the
/// compound file's own chains.
fn stream_offset(data: &[u8], name: &str) -> usize {
    let cfb = msi::Cfb::open(data).unwrap();
    let k = cfb
        .children(0)
        .iter()
        .copied()
        .find(|&k| msi::decode_name(&cfb.entries[k].name) == name)
        .unwrap();
    let chunk = cfb.stream(k).next_chunk().unwrap();
    assert!(chunk.len() > 16);
    chunk.as_ptr() as usize - data.as_ptr() as usize + chunk.len() / 2
}

#[test]
fn tampered_msi_stream_is_invalid_in_both_tools() {
    for name in ["signed.msi", "signed-dse.msi"] {
        let (_, mut d) = fixture(name);
        // A byte inside the custom-action DLL's stream: content, not metadata.
        let at = stream_offset(&d, "Binary.CustomActionDll");
        d[at] ^= 0x55;
        let dir = paths::tempdir();
        let p = dir.path().join(name);
        std::fs::write(&p, &d).unwrap();
        let v = msi_status(&d);
        assert_eq!(v.status, Status::Invalid, "{name}: {v:?}");
        assert!(!v.signatures[0].digest.matches);
        agree(&p, &v);
    }
}

/// The streams of `data` rebuilt by the `cfb` crate into a new compound file, created in the
/// reverse of their directory order (so their directory entries, tree and sectors all differ),
/// the signature streams copied as they are.
fn reordered(data: &[u8]) -> Vec<u8> {
    let mut src = cfb::CompoundFile::open(std::io::Cursor::new(data)).unwrap();
    let root_clsid = *src.root_entry().clsid();
    let names: Vec<std::path::PathBuf> = src
        .walk()
        .filter(|e| e.is_stream())
        .map(|e| e.path().to_path_buf())
        .collect();
    let mut out = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    out.set_storage_clsid("/", root_clsid).unwrap();
    for n in names.iter().rev() {
        let mut bytes = Vec::new();
        src.open_stream(n).unwrap().read_to_end(&mut bytes).unwrap();
        let mut s = out.create_stream(n).unwrap();
        std::io::Write::write_all(&mut s, &bytes).unwrap();
    }
    out.flush().unwrap();
    out.into_inner().into_inner()
}

#[test]
fn reordered_storage_still_verifies_as_osslsigncode_says() {
    // Without MsiDigitalSignatureEx only the sorted stream contents and the class id are
    // signed: a new directory order keeps the signature valid.
    let (_, d) = fixture("signed.msi");
    let r = reordered(&d);
    assert_ne!(r, d);
    let dir = paths::tempdir();
    let p = dir.path().join("reordered.msi");
    std::fs::write(&p, &r).unwrap();
    let v = msi_status(&r);
    assert_eq!(v.status, Status::Valid, "{v:?}");
    agree(&p, &v);
    // The order of the directory differs from the original's.
    let order = |data: &[u8]| {
        let c = msi::Cfb::open(data).unwrap();
        c.entries.iter().map(|e| e.name.clone()).collect::<Vec<_>>()
    };
    assert_ne!(order(&r), order(&d));

    // With it, the pre-hash also covers names, sizes, state bits and times, which the rebuild
    // keeps (streams carry no times): still valid, as osslsigncode says too.
    let (_, d) = fixture("signed-dse.msi");
    let r = reordered(&d);
    let p = dir.path().join("reordered-dse.msi");
    std::fs::write(&p, &r).unwrap();
    let v = msi_status(&r);
    assert_eq!(v.status, Status::Valid, "{v:?}");
    agree(&p, &v);
}

#[test]
fn msi_digital_signature_ex_covers_the_metadata() {
    // A stream's modification time changed (its directory entry found by its stored name):
    // the contents still hash the same, the pre-hash does not.
    for (name, want) in [
        ("signed.msi", Status::Valid),
        ("signed-dse.msi", Status::Invalid),
    ] {
        let (_, mut d) = fixture(name);
        let cfb = msi::Cfb::open(&d).unwrap();
        let raw = cfb
            .entries
            .iter()
            .find(|e| msi::decode_name(&e.name) == "Binary.CustomActionDll")
            .unwrap()
            .name
            .clone();
        drop(cfb);
        let entry = d.windows(raw.len()).position(|w| w == raw).unwrap();
        d[entry + 108] ^= 0x01;
        let dir = paths::tempdir();
        let p = dir.path().join(name);
        std::fs::write(&p, &d).unwrap();
        let v = msi_status(&d);
        assert_eq!(v.status, want, "{name}: {v:?}");
        agree(&p, &v);
    }
}

#[test]
fn tampered_cab_byte_is_invalid_in_both_tools() {
    let (_, mut d) = fixture("signed.cab");
    let c = cab::read(&d).unwrap();
    // A byte of the first data block's compressed bytes (past the block header and reserve).
    let at = c.folders[0].data_offset as usize + 8 + usize::from(c.data_reserve) + 20;
    d[at] ^= 0x01;
    let dir = paths::tempdir();
    let p = dir.path().join("tampered.cab");
    std::fs::write(&p, &d).unwrap();
    let v = cab_status(&d);
    assert_eq!(v.status, Status::Invalid, "{v:?}");
    agree(&p, &v);
}

/// The entries a walk gives: name and the whole bytes.
fn walk(kind: bingate::container::Kind, data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let budget = Budget::new(Limits::default());
    let visit = |m: &EntryMeta, r: &mut dyn Read| {
        let mut b = Vec::new();
        r.read_to_end(&mut b).unwrap();
        assert_eq!(Some(b.len() as u64), m.size, "{}", m.name);
        (m.name.clone(), b)
    };
    let w = bingate::container::walk(kind, data, 0, &budget, &visit);
    assert!(w.error.is_none(), "{:?}", w.error);
    assert_eq!(w.summary.entries as usize, w.items.len());
    w.items
}

fn tool_lines(cmd: &str, args: &[&str], path: &Path) -> Option<Vec<String>> {
    if !interop::require(cmd) {
        return None;
    }
    let out = Command::new(cmd).args(args).arg(path).output().unwrap();
    assert!(out.status.success(), "{cmd} failed");
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

#[test]
fn msi_walk_lists_what_msiinfo_lists_and_reads_the_pes() {
    let (p, d) = fixture("signed-dse.msi");
    assert!(msi::is_installer(&d));
    assert_eq!(
        bingate::container::sniff(&d[..512]),
        Some(bingate::container::Kind::Msi)
    );
    let items = walk(bingate::container::Kind::Msi, &d);
    // msiinfo lists the streams that are not tables, a leading control character as it is.
    let mut ours: Vec<String> = items
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| !n.starts_with('!'))
        .map(|n| {
            n.strip_prefix("[5]")
                .map_or(n.clone(), |r| format!("\u{5}{r}"))
        })
        .collect();
    ours.sort();
    let mut want = vec![
        "Binary.CustomActionDll",
        "\u{5}DigitalSignature",
        "\u{5}MsiDigitalSignatureEx",
        "\u{5}SummaryInformation",
        "cab1.cab",
    ];
    want.sort_unstable();
    assert_eq!(ours, want);
    if let Some(mut lines) = tool_lines("msiinfo", &["streams"], &p) {
        lines.sort();
        assert_eq!(ours, lines);
    }
    // Table streams are there too (as `!Name`).
    assert!(
        items.iter().any(|(n, _)| n == "!_StringData"),
        "{:?}",
        items.iter().map(|i| &i.0).collect::<Vec<_>>()
    );
    // The custom-action DLL is the PE it was built from.
    let dll = &items
        .iter()
        .find(|(n, _)| n == "Binary.CustomActionDll")
        .unwrap()
        .1;
    assert_eq!(dll, &paths::read(paths::corpus("pe/x64.dll")));
    // The embedded cabinet holds the installed files.
    let cab = &items.iter().find(|(n, _)| n == "cab1.cab").unwrap().1;
    let inner = walk(bingate::container::Kind::Cab, cab);
    let names: Vec<&str> = inner.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["AppExe", "Readme"]);
    assert_eq!(inner[0].1, paths::read(paths::corpus("pe/x64-default.exe")));
    assert_eq!(inner[1].1, b"bingate test readme\n");
}

#[test]
fn cab_walk_lists_what_gcab_lists() {
    for name in ["unsigned.cab", "signed.cab"] {
        let (p, d) = fixture(name);
        let items = walk(bingate::container::Kind::Cab, &d);
        let names: Vec<&str> = items.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["app.exe", "readme.txt"]);
        assert_eq!(items[0].1, paths::read(paths::corpus("pe/x64-default.exe")));
        // `gcab -l`: one file a line, its name first (then size, time and attributes).
        if let Some(lines) = tool_lines("gcab", &["-l"], &p) {
            let listed: Vec<&str> = lines
                .iter()
                .filter_map(|l| l.split_whitespace().next())
                .collect();
            assert_eq!(names, listed, "{name}");
        }
    }
}

#[test]
fn word_documents_are_not_installers() {
    // The MSI's root class id changed to Word's ({00020906-0000-0000-C000-000000000046}).
    let (_, mut d) = fixture("unsigned.msi");
    let cfb = msi::Cfb::open(&d).unwrap();
    let root_clsid = cfb.root_clsid();
    drop(cfb);
    let at = d
        .windows(16)
        .position(|w| w == root_clsid)
        .expect("root class id in the directory");
    d[at..at + 16].copy_from_slice(&[
        0x06, 0x09, 0x02, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46,
    ]);
    assert!(!msi::is_installer(&d));
}

/// Every byte of the headers and tables flipped, one at a time: an error or a result, never a
/// panic, a hang or an allocation the file did not pay for.
#[test]
fn mutated_headers_never_panic() {
    let budget = Budget::new(Limits::default());
    let visit = |_: &EntryMeta, r: &mut dyn Read| {
        let mut b = Vec::new();
        let _ = r.read_to_end(&mut b);
        b.len()
    };
    for name in ["signed.cab", "signed.msi"] {
        let (_, d) = fixture(name);
        let kind = if name.ends_with(".cab") {
            bingate::container::Kind::Cab
        } else {
            bingate::container::Kind::Msi
        };
        // The CAB header and tables; the CFB header, its FAT and its first directory sector.
        let ranges: Vec<std::ops::Range<usize>> = if name.ends_with(".cab") {
            vec![0..100, 100..200]
        } else {
            vec![0..0x200, 0x200..0x400, 0x400..0x600]
        };
        for r in ranges {
            for i in r.step_by(3) {
                for x in [0x01u8, 0x80, 0xff] {
                    let mut m = d.clone();
                    m[i] ^= x;
                    let _ = bingate::container::walk(kind, &m, 0, &budget, &visit);
                    if name.ends_with(".cab") {
                        let _ = cab_status(&m);
                    } else {
                        let _ = msi_status(&m);
                    }
                }
            }
        }
    }
}

#[test]
fn quantum_folders_and_spanning_cabinets_are_noted_not_read() {
    let (_, d) = fixture("unsigned.cab");
    let c = cab::read(&d).unwrap();
    let budget = Budget::new(Limits::default());
    let visit = |m: &EntryMeta, _: &mut dyn Read| m.name.clone();
    // typeCompress of folder 0 (after the 36-byte header, no reserve) set to Quantum (2).
    assert_eq!(c.folders.len(), 1);
    let mut q = d.clone();
    q[36 + 6] = 2;
    let w = bingate::container::walk(bingate::container::Kind::Cab, &q, 0, &budget, &visit);
    assert!(w.error.is_none(), "{:?}", w.error);
    assert!(w.items.is_empty());
    assert_eq!(w.summary.entries, 2);
    let skipped: Vec<_> = w
        .summary
        .notes
        .iter()
        .filter(|n| n.id == "skipped-entry")
        .filter_map(|n| n.entry.clone())
        .collect();
    assert_eq!(skipped, ["app.exe", "readme.txt"]);
    // The "next cabinet" flag with its two names: read as far as this cabinet goes, noted.
    let mut s = d[..36].to_vec();
    s[30] |= 0x02;
    s.extend_from_slice(b"next.cab\0disk2\0");
    s.extend_from_slice(&d[36..]);
    // Every offset after the header moves by the 15 bytes inserted.
    let bump = |s: &mut Vec<u8>, at: usize| {
        let v = u32::from_le_bytes(s[at..at + 4].try_into().unwrap()) + 15;
        s[at..at + 4].copy_from_slice(&v.to_le_bytes());
    };
    bump(&mut s, 16); // coffFiles
    bump(&mut s, 36 + 15); // the folder's coffCabStart
    let w = bingate::container::walk(bingate::container::Kind::Cab, &s, 0, &budget, &visit);
    assert!(w.error.is_none(), "{:?}", w.error);
    assert_eq!(w.items, ["app.exe", "readme.txt"]);
    assert!(w.summary.notes.iter().any(|n| n.id == "spanning-cabinet"));
}

#[test]
fn hostile_cab_counts_are_refused_before_allocating() {
    let (_, d) = fixture("unsigned.cab");
    // 65,535 files or folders declared in a 6 KB cabinet: their tables would run past the end.
    for (at, what) in [(28usize, "CFFILE table"), (26, "CFFOLDER table")] {
        let mut m = d.clone();
        m[at..at + 2].copy_from_slice(&0xffffu16.to_le_bytes());
        let e = cab::read(&m).unwrap_err().to_string();
        assert!(e.contains(what), "{e}");
    }
    // An LZX window past [MS-CAB]'s 2 MiB: the folder is not decompressed (noted instead).
    let mut m = d.clone();
    m[36 + 6..36 + 8].copy_from_slice(&(3u16 | (25 << 8)).to_le_bytes());
    let budget = Budget::new(Limits::default());
    let visit = |m: &EntryMeta, _: &mut dyn Read| m.name.clone();
    let w = bingate::container::walk(bingate::container::Kind::Cab, &m, 0, &budget, &visit);
    assert!(w.items.is_empty());
    assert_eq!(
        w.summary
            .notes
            .iter()
            .filter(|n| n.id == "skipped-entry")
            .count(),
        2
    );
}

/// A folder table that repeats a folder, with a file in each copy: every copy would decompress
/// the same blocks (each within the expansion ratio), so the cabinet is refused before any is.
#[test]
fn folders_sharing_their_data_are_refused() {
    let (_, d) = fixture("unsigned.cab");
    let c = cab::read(&d).unwrap();
    assert_eq!((c.folders.len(), c.files.len()), (1, 2));
    // A second CFFOLDER, a copy of the first, inserted after it (no reserve: at 36 + 8).
    let mut m = d[..44].to_vec();
    m.extend_from_slice(&d[36..44]);
    m.extend_from_slice(&d[44..]);
    m[26..28].copy_from_slice(&2u16.to_le_bytes()); // cFolders
    let bump = |s: &mut Vec<u8>, at: usize| {
        let v = u32::from_le_bytes(s[at..at + 4].try_into().unwrap()) + 8;
        s[at..at + 4].copy_from_slice(&v.to_le_bytes());
    };
    bump(&mut m, 8); // cbCabinet
    bump(&mut m, 16); // coffFiles
    bump(&mut m, 36); // both folders' coffCabStart
    bump(&mut m, 44);
    // The second file (the first CFFILE's name ends with its NUL) names folder 1.
    let files = u32::from_le_bytes(m[16..20].try_into().unwrap()) as usize;
    let first_name_end = m[files + 16..].iter().position(|&b| b == 0).unwrap();
    let second = files + 16 + first_name_end + 1;
    m[second + 8..second + 10].copy_from_slice(&1u16.to_le_bytes());
    let parsed = cab::read(&m).unwrap();
    assert_eq!(parsed.folders[0].data_offset, parsed.folders[1].data_offset);
    assert_eq!(parsed.files[1].folder, 1);
    let budget = Budget::new(Limits::default());
    let visit = |m: &EntryMeta, _: &mut dyn Read| m.name.clone();
    let w = bingate::container::walk(bingate::container::Kind::Cab, &m, 0, &budget, &visit);
    let e = w.error.expect("an error for the cabinet");
    assert!(e.to_string().contains("same data block"), "{e}");
    assert!(w.items.is_empty());
    assert_eq!(budget.expanded(), 0, "nothing was decompressed");
}

#[test]
fn msi_stream_chain_loop_is_an_error() {
    // The FAT entry of the custom-action DLL's first sector pointed at itself.
    let (_, mut d) = fixture("unsigned.msi");
    let at = stream_offset(&d, "Binary.CustomActionDll");
    let sector = (at / 512 - 1) as u32;
    // The first FAT sector (header DIFAT entry 0) holds entries for sectors 0..128.
    let fat0 = u32::from_le_bytes(d[0x4c..0x50].try_into().unwrap()) as usize;
    assert!(sector < 128);
    let entry = (fat0 + 1) * 512 + sector as usize * 4;
    d[entry..entry + 4].copy_from_slice(&sector.to_le_bytes());
    let e = msi::Cfb::open(&d)
        .err()
        .expect("a loop is refused")
        .to_string();
    assert!(e.contains("a second time"), "{e}");
    let budget = Budget::new(Limits::default());
    let visit = |_: &EntryMeta, _: &mut dyn Read| ();
    let w = bingate::container::walk(bingate::container::Kind::Msi, &d, 0, &budget, &visit);
    assert!(w.error.is_some());
    assert_eq!(msi_status(&d).status, Status::Malformed);
}
