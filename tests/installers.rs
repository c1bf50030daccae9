//! Installer payloads recognised in PE overlays (`container::installer`), on the fixtures of
//! `corpus/recipes/build-installers.sh`: a real NSIS installer (makensis) and zip
//! self-extractors (Info-ZIP), signed before and after the payload was appended, and hand-made
//! Inno Setup and WiX Burn samples (neither builder runs offline on Linux). Where 7-Zip is
//! installed, the payload's offset and size are checked against what it reports.

mod common;

use bingate::container::installer::{Overlay, recognise};
use bingate::container::{Installer, InstallerKind};
use common::{interop, paths};

/// The overlay the scan hands to recognition, from the headers (as `scan::installer` does).
fn overlay_of(data: &[u8]) -> Overlay<'_> {
    let headers = bingate::pe::PeHeaders::parse(data).expect("a PE file");
    let layout = bingate::pe::signing_layout_of(&headers);
    let image_end = layout
        .sections
        .iter()
        .filter(|(_, size)| *size > 0)
        .map(|(off, size)| off + size)
        .fold(layout.size_of_headers, u64::max);
    let wixburn = headers
        .sections
        .iter()
        .find(|s| s.name == ".wixburn")
        .map(|s| &data[s.raw_offset as usize..(s.raw_offset + s.raw_size) as usize]);
    Overlay {
        image_end,
        certificate_table: layout.certificate_table,
        wixburn,
    }
}

fn installer(name: &str) -> (Vec<u8>, Option<Installer>) {
    let data = paths::read(paths::corpus(format!("installers/{name}")));
    let found = recognise(&data, &overlay_of(&data));
    (data, found)
}

fn certificate_table(data: &[u8]) -> Option<(u64, u64)> {
    bingate::pe::signing_layout(data)
        .expect("layout")
        .certificate_table
}

/// The stub every zip self-extractor fixture starts from, and the zip appended to it.
const STUB_LEN: u64 = 14_848;

#[test]
fn signed_nsis_installer_payload_is_located_and_covered() {
    let (data, found) = installer("nsis-signed.exe");
    let i = found.expect("NSIS recognised");
    assert_eq!(i.kind, InstallerKind::Nsis);
    assert_eq!(i.offset % 512, 0);
    assert_eq!(
        &data[i.offset as usize + 4..i.offset as usize + 20],
        b"\xEF\xBE\xAD\xDENullsoftInst"
    );
    // The payload ends where makensis stopped writing; osslsigncode pads to 8 before the table.
    let (table, _) = certificate_table(&data).expect("signed");
    assert!(table - (i.offset + i.size) < 8, "{i:?}, table at {table}");
    assert_eq!(i.covered_by_signature, Some(true));
    assert!(!i.examined);
}

#[test]
fn zip_appended_before_signing_is_a_covered_self_extractor() {
    let (data, found) = installer("zipsfx-signed.exe");
    let i = found.expect("zip SFX recognised");
    let (table, _) = certificate_table(&data).expect("signed");
    assert_eq!(i.kind, InstallerKind::ZipSfx);
    // Concatenated: the zip's own offsets count from its start, which is the stub's end.
    assert_eq!(i.offset, STUB_LEN);
    assert!(table - (i.offset + i.size) < 8);
    assert_eq!(i.covered_by_signature, Some(true));
    assert_eq!(
        &data[i.offset as usize..i.offset as usize + 4],
        b"PK\x03\x04"
    );
}

#[test]
fn zip_appended_after_signing_is_not_covered() {
    let (data, found) = installer("zipsfx-appended.exe");
    let (unsigned, _) = installer("zipsfx-unsigned.exe");
    let i = found.expect("zip SFX recognised");
    let (table, size) = certificate_table(&data).expect("signed");
    assert_eq!(i.kind, InstallerKind::ZipSfx);
    // `zip -A` made the offsets count from the file's start; the archive follows the table.
    assert_eq!(i.offset, table + size);
    assert_eq!(i.offset + i.size, data.len() as u64);
    assert_eq!(i.size, unsigned.len() as u64 - STUB_LEN);
    assert_eq!(i.covered_by_signature, Some(false));
}

#[test]
fn unsigned_self_extractor_has_no_coverage() {
    let (data, found) = installer("zipsfx-unsigned.exe");
    let i = found.expect("zip SFX recognised");
    assert_eq!((i.kind, i.offset), (InstallerKind::ZipSfx, STUB_LEN));
    assert_eq!(i.offset + i.size, data.len() as u64);
    assert_eq!(i.covered_by_signature, None);
}

#[test]
fn inno_setup_offset_table_and_setup_data_signature() {
    // The table (found in the image's last bytes, CRC checked) gives the compressed setup
    // program's offset and the total size.
    let (data, found) = installer("inno-handmade.exe");
    let i = found.expect("Inno Setup recognised from its offset table");
    assert_eq!(i.kind, InstallerKind::InnoSetup);
    assert_eq!((i.offset, i.offset + i.size), (STUB_LEN, data.len() as u64));
    // Without the table, the setup data's signature near the overlay's head.
    let (data, found) = installer("inno-signature-only.exe");
    let i = found.expect("Inno Setup recognised from its setup data");
    assert_eq!(
        (i.kind, i.offset, i.offset + i.size),
        (InstallerKind::InnoSetup, STUB_LEN, data.len() as u64)
    );
    // A table whose CRC does not match is not believed; the signature still is.
    let mut data = paths::read(paths::corpus("installers/inno-handmade.exe"));
    let at = data.windows(6).position(|w| w == b"rDlPtS").expect("table");
    data[at + 16] ^= 0xFF; // TotalSize
    let i = recognise(&data, &overlay_of(&data)).expect("still Inno Setup");
    assert_eq!((i.offset, i.offset + i.size), (STUB_LEN, data.len() as u64));
}

#[test]
fn wix_burn_attached_container_from_the_wixburn_section() {
    let (data, found) = installer("burn-handmade.exe");
    let i = found.expect("Burn recognised");
    assert_eq!(i.kind, InstallerKind::WixBurn);
    assert_eq!(&data[i.offset as usize..i.offset as usize + 4], b"MSCF");
    let (table, _) = certificate_table(&data).expect("signed");
    assert!(i.offset + i.size <= table);
    assert_eq!(i.covered_by_signature, Some(true));
}

/// No false positives: plain and signed PE files (one with 100 bytes after its certificate
/// table) carry no installer.
#[test]
fn ordinary_pe_files_carry_no_installer() {
    for dir in ["pe", "signed", "risk"] {
        for entry in std::fs::read_dir(paths::corpus(dir)).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            if bingate::pe::PeHeaders::parse(&data).is_err() {
                continue;
            }
            assert_eq!(
                recognise(&data, &overlay_of(&data)),
                None,
                "{}",
                path.display()
            );
        }
    }
}

/// Truncations and corrupted length fields give no payload (or a smaller one), never a payload
/// that leaves the file, a panic or a hang.
#[test]
fn hostile_overlays_stay_inside_the_file() {
    for name in [
        "nsis-signed.exe",
        "zipsfx-signed.exe",
        "zipsfx-appended.exe",
        "inno-handmade.exe",
        "burn-handmade.exe",
    ] {
        let original = paths::read(paths::corpus(format!("installers/{name}")));
        let image_end = overlay_of(&original).image_end as usize;
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for cut in [
            image_end + 1,
            image_end + 30,
            original.len() - 23,
            original.len() - 1,
        ] {
            cases.push(original[..cut].to_vec());
        }
        // Every byte of the overlay's first and last 64 bytes set to 0xFF in turn.
        for at in (image_end..image_end + 64).chain(original.len() - 64..original.len()) {
            let mut d = original.clone();
            d[at] = 0xFF;
            cases.push(d);
        }
        for data in cases {
            let overlay = overlay_of(&original);
            let overlay = Overlay {
                certificate_table: overlay.certificate_table,
                ..overlay_of_or(&data, overlay)
            };
            if let Some(i) = recognise(&data, &overlay) {
                assert!(i.offset + i.size <= data.len() as u64, "{name}: {i:?}");
            }
        }
    }
}

/// Seeded random mutations of each fixture's overlay (bytes, little-endian words set to small,
/// huge and boundary values, truncations), with the original headers' facts: recognition never
/// reports a payload that leaves the file. 3,000 cases per fixture, the same every run.
#[test]
fn mutated_overlays_never_give_a_payload_outside_the_file() {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for name in [
        "nsis-signed.exe",
        "zipsfx-signed.exe",
        "zipsfx-appended.exe",
        "zipsfx-unsigned.exe",
        "inno-handmade.exe",
        "inno-signature-only.exe",
        "burn-handmade.exe",
    ] {
        let original = paths::read(paths::corpus(format!("installers/{name}")));
        let facts = overlay_of(&original);
        let image_end = facts.image_end as usize;
        let wixburn_at = facts
            .wixburn
            .map(|w| w.as_ptr() as usize - original.as_ptr() as usize);
        let overlay_len = original.len() - image_end;
        for _ in 0..3000 {
            let mut d = original.clone();
            for _ in 0..1 + next() % 4 {
                let at = image_end + (next() as usize) % overlay_len;
                let value: u32 = match next() % 6 {
                    0 => 0,
                    1 => u32::MAX,
                    2 => 0x7FFF_FFFF,
                    3 => d.len() as u32,
                    4 => (next() % 70_000) as u32,
                    _ => next() as u32,
                };
                let end = (at + 4).min(d.len());
                d[at..end].copy_from_slice(&value.to_le_bytes()[..end - at]);
            }
            if next() % 8 == 0 {
                d.truncate(image_end + (next() as usize) % overlay_len);
            }
            // The .wixburn section's header too, for the Burn sample.
            let burn_copy;
            let wixburn = match wixburn_at {
                Some(at) => {
                    let mut w = original[at..at + 512].to_vec();
                    let i = 24 + (next() as usize) % 28;
                    w[i] = next() as u8;
                    burn_copy = w;
                    Some(&burn_copy[..])
                }
                None => None,
            };
            let overlay = Overlay {
                image_end: facts.image_end,
                certificate_table: facts.certificate_table,
                wixburn,
            };
            if let Some(i) = recognise(&d, &overlay) {
                assert!(i.offset + i.size <= d.len() as u64, "{name}: {i:?}");
                assert!(i.offset >= facts.image_end, "{name}: {i:?}");
            }
        }
    }
}

/// The headers of a mutated file may no longer parse: fall back to the original's overlay.
fn overlay_of_or<'a>(data: &'a [u8], original: Overlay<'_>) -> Overlay<'a> {
    match bingate::pe::PeHeaders::parse(data) {
        Ok(_) if data.len() as u64 > original.image_end => overlay_of(data),
        _ => Overlay {
            image_end: original.image_end,
            certificate_table: original.certificate_table,
            wixburn: None,
        },
    }
}

/// 7-Zip reads NSIS installers, zip self-extractors and cabinets after a PE stub, and reports
/// where each starts (`Offset`) and how long it is (`Physical Size`): the same as bingate's.
#[test]
fn payloads_match_seven_zip() {
    if !interop::require("7z") {
        return;
    }
    for name in [
        "nsis-signed.exe",
        "zipsfx-signed.exe",
        "zipsfx-unsigned.exe",
        "burn-handmade.exe",
    ] {
        let path = paths::corpus(format!("installers/{name}"));
        let out = std::process::Command::new("7z")
            .args(["l", "-slt"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        let value = |key: &str, from: usize| -> Option<(usize, u64)> {
            lines.iter().enumerate().skip(from).find_map(|(n, l)| {
                l.strip_prefix(key)
                    .map(|v| (n, v.trim().parse().expect("a number")))
            })
        };
        let (at, offset) = value("Offset = ", 0).unwrap_or_else(|| panic!("{name}: {text}"));
        let (_, size) = value("Physical Size = ", at).unwrap_or_else(|| panic!("{name}: {text}"));
        let (_, found) = installer(name);
        let i = found.unwrap();
        assert_eq!((i.offset, i.size), (offset, size), "{name}");
    }
}

/// A Burn bundle's attached containers are cabinets: they are walked like an archive's entries
/// (`bundle.exe!/container-0.cab!/helper.dll`), their files examined, and the bundle's
/// installer line says they were. The cabinet's files are the ones `gcab -l` lists in the
/// payload's bytes.
#[test]
fn wix_burn_attached_cabinets_are_walked() {
    let rel = "corpus/installers/burn-handmade.exe";
    let doc = common::run::test_pki_json("check", "2026-11-22T00:00:00Z", &[rel]);
    let files = doc["files"].as_array().unwrap();
    let bundle = &files[0];
    assert_eq!(bundle["path"], rel);
    assert_eq!(bundle["installer"]["kind"], "wix-burn");
    assert_eq!(bundle["installer"]["examined"], true, "{bundle}");
    assert_eq!(bundle["container"]["kind"]["type"], "burn");
    assert_eq!(bundle["container"]["entries"], 1);
    assert_eq!(bundle["container"]["containers"], 1);
    let cab_path = format!("{rel}!/container-0.cab");
    let cab = &files[1];
    assert_eq!(cab["path"], cab_path.as_str());
    assert_eq!(cab["container"]["kind"]["type"], "cab");
    // Covered by the bundle's signature, as an MSI's cabinets are by the MSI's.
    assert!(cab["signature"].is_null(), "{cab}");
    let inner: Vec<&str> = files[2..]
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(inner, [format!("{cab_path}!/helper.dll")]);
    assert_eq!(files[2]["format"], "pe");
    assert_eq!(files[2]["signature"]["status"], "unsigned");
    assert_eq!(bundle["container"]["unsigned_pe"], 1);
    // The default policy's rule for a signed installer with unsigned executables inside.
    let finding = |rule: &str| {
        bundle["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule} was not judged"))
            .clone()
    };
    let inside = finding("pe-no-unsigned-inside");
    assert_eq!(inside["status"], "fail", "{inside}");
    assert!(
        inside["message"].as_str().unwrap().contains("helper.dll"),
        "{inside}"
    );
    let examined = finding("pe-installer-payload-examined");
    assert_eq!(examined["status"], "pass", "{examined}");

    if !interop::require("gcab") {
        return;
    }
    let (data, found) = installer("burn-handmade.exe");
    let i = found.unwrap();
    let dir = paths::tempdir();
    let cab_file = dir.path().join("payload.cab");
    std::fs::write(
        &cab_file,
        &data[i.offset as usize..(i.offset + i.size) as usize],
    )
    .unwrap();
    let listed = std::process::Command::new("gcab")
        .arg("-l")
        .arg(&cab_file)
        .output()
        .unwrap();
    let mut names: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(names, ["hello.txt", "helper.dll"], "gcab -l");
    assert_eq!(cab["container"]["entries"], 2, "{cab}");
}

/// A Burn payload whose cabinet declares a length past the payload is an error for the bundle's
/// payload, not a crash, and nothing past the file is read.
#[test]
fn burn_payload_with_a_lying_cabinet_length_is_an_error() {
    use bingate::container::{self, Budget, EntryMeta, Kind, Limits};
    let (data, found) = installer("burn-handmade.exe");
    let i = found.unwrap();
    let payload = &data[i.offset as usize..(i.offset + i.size) as usize];
    let budget = Budget::new(Limits::default());
    let visit = |m: &EntryMeta, _: &mut dyn std::io::Read| m.name.clone();
    let w = container::walk(Kind::Burn, payload, 0, &budget, &visit);
    assert!(w.error.is_none(), "{:?}", w.error);
    assert_eq!(w.items, ["container-0.cab"]);
    let mut lying = payload.to_vec();
    lying[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    let w = container::walk(Kind::Burn, &lying, 0, &budget, &visit);
    assert!(w.items.is_empty());
    let e = w.error.expect("an error").to_string();
    assert!(e.contains("cbCabinet"), "{e}");
    // Bytes after the cabinet that do not start another one.
    let mut trailing = payload.to_vec();
    trailing.extend_from_slice(b"not a cabinet");
    let w = container::walk(Kind::Burn, &trailing, 0, &budget, &visit);
    assert_eq!(w.items, ["container-0.cab"]);
    assert!(w.error.expect("an error").to_string().contains("MSCF"));
}
