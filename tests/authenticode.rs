//! Authenticode layers so far: the certificate table, the image hash and the signed digest,
//! checked against osslsigncode's own computation on real signed files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::interop;
use common::paths::{corpus, read};

fn public_signed() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(corpus("public/msvc-runtime")) {
        v.extend(rd.map(|e| e.unwrap().path()));
    }
    let st = corpus("public/electron-winstaller/signtool.exe");
    if st.exists() {
        v.push(st);
    }
    v.sort();
    v
}

/// osslsigncode's "Current"/"Calculated message digest" of the primary signature.
fn osslsigncode_digests(path: &Path) -> Option<(String, String)> {
    let out = Command::new("osslsigncode")
        .args(["verify", "-ignore-crl", "-in"])
        .arg(path)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let grab = |label: &str| {
        text.lines()
            .find(|l| l.starts_with(label))
            .and_then(|l| l.split(':').nth(1))
            .map(|v| v.trim().to_ascii_lowercase())
    };
    Some((
        grab("Current message digest")?,
        grab("Calculated message digest")?,
    ))
}

#[test]
fn signed_digest_matches_the_image_hash_of_real_signed_files() {
    let files = public_signed();
    if !interop::available(
        !files.is_empty(),
        "the public corpus is absent (run corpus/fetch-public.sh)",
    ) {
        return;
    }
    for path in files {
        let data = std::fs::read(&path).unwrap();
        let i = bingate::authenticode::inspect(&data)
            .unwrap()
            .expect("signed file has a table");
        assert_eq!(i.entries, 1, "{}", path.display());
        assert!(
            i.anomalies.is_empty(),
            "{}: {:?}",
            path.display(),
            i.anomalies
        );
        let s = i.signatures[0].as_ref().unwrap();
        assert!(s.digest.matches, "{}: {:?}", path.display(), s.digest);
        let signer = s.signer.as_ref().expect("signer certificate in the bag");
        assert!(
            signer.subject.contains("O=Microsoft Corporation"),
            "{}",
            signer.subject
        );
    }
}

#[test]
fn image_hash_agrees_with_osslsigncode() {
    if !interop::require("osslsigncode") {
        return;
    }
    let files = public_signed();
    // Without the public corpus (and without BINGATE_REQUIRE_INTEROP=1) there is nothing to
    // compare; the test passes.
    interop::available(!files.is_empty(), "the public corpus is absent");
    for path in files {
        let data = std::fs::read(&path).unwrap();
        let i = bingate::authenticode::inspect(&data).unwrap().unwrap();
        let s = i.signatures[0].as_ref().unwrap();
        let (current, calculated) = osslsigncode_digests(&path).expect("osslsigncode output");
        assert_eq!(
            s.digest.signed,
            current,
            "{}: signed digest",
            path.display()
        );
        assert_eq!(
            s.digest.computed.as_deref(),
            Some(calculated.as_str()),
            "{}: computed",
            path.display()
        );
    }
}

#[test]
fn a_flipped_byte_breaks_the_digest_and_padding_is_an_anomaly() {
    let Some(path) = public_signed().into_iter().next() else {
        interop::skip("the public corpus is absent");
        return;
    };
    let orig = std::fs::read(&path).unwrap();
    let layout = bingate::pe::signing_layout(&orig).unwrap();
    // Flip a byte in the first section's raw data.
    let (ptr, _) = layout.sections[0];
    let mut d = orig.clone();
    d[ptr as usize + 100] ^= 0xff;
    let i = bingate::authenticode::inspect(&d).unwrap().unwrap();
    assert!(!i.signatures[0].as_ref().unwrap().digest.matches);

    // CVE-2013-3900: 16 non-zero bytes smuggled inside the WIN_CERTIFICATE entry, directory and
    // dwLength grown to cover them. The digest still matches; the padding is reported.
    let (off, size) = layout.certificate_table.unwrap();
    let mut d = orig.clone();
    d.extend_from_slice(&[0x41; 16]);
    let dw = u32::from_le_bytes(d[off as usize..off as usize + 4].try_into().unwrap()) + 16;
    d[off as usize..off as usize + 4].copy_from_slice(&dw.to_le_bytes());
    let dir = layout.security_dir_offset as usize;
    d[dir + 4..dir + 8].copy_from_slice(&((size + 16) as u32).to_le_bytes());
    let i = bingate::authenticode::inspect(&d).unwrap().unwrap();
    assert!(
        i.signatures[0].as_ref().unwrap().digest.matches,
        "padding is not covered by the hash"
    );
    assert!(
        i.anomalies
            .iter()
            .any(|a| a.id() == bingate::cms::codes::AnomalyId::Padding),
        "{:?}",
        i.anomalies
    );

    // Data appended after the table: reported, and the image hash no longer matches.
    let mut d = orig.clone();
    d.extend_from_slice(&[0u8; 100]);
    let i = bingate::authenticode::inspect(&d).unwrap().unwrap();
    assert!(
        i.anomalies
            .iter()
            .any(|a| a.id() == bingate::cms::codes::AnomalyId::TrailingData),
        "{:?}",
        i.anomalies
    );

    // A directory pointing past the end of the file is an error with the offset.
    let mut d = orig.clone();
    d[dir + 4..dir + 8].copy_from_slice(&((size + 4096) as u32).to_le_bytes());
    let e = bingate::authenticode::inspect(&d).unwrap_err().to_string();
    assert!(
        e.contains("certificate table") && e.contains("offset"),
        "{e}"
    );
}

#[test]
fn unsigned_images_have_no_table() {
    let data = read(corpus("pe/x64-default.exe"));
    assert!(bingate::authenticode::inspect(&data).unwrap().is_none());
}

/// Truncated and corrupted signatures never panic (DER/CMS robustness, a first pass).
#[test]
fn corrupted_certificate_tables_never_panic() {
    let Some(path) = public_signed().into_iter().next() else {
        interop::skip("the public corpus is absent");
        return;
    };
    let orig = std::fs::read(&path).unwrap();
    let (off, size) = bingate::pe::signing_layout(&orig)
        .unwrap()
        .certificate_table
        .unwrap();
    let (off, size) = (off as usize, size as usize);
    let mut seed: u64 = 0x0dd_ba11;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..600 {
        let mut d = orig.clone();
        match round % 3 {
            0 => {
                for _ in 0..4 {
                    let i = off + (next() as usize) % size;
                    d[i] ^= 1 << (next() % 8);
                }
            }
            1 => d.truncate(off + (next() as usize) % size),
            _ => {
                // Corrupt a DER length byte near the start of the signature.
                let i = off + 8 + (next() as usize) % 64;
                d[i] = [0x00, 0x7f, 0x80, 0x84, 0xff][(next() % 5) as usize];
            }
        }
        let r = std::panic::catch_unwind(|| bingate::authenticode::inspect(&d));
        assert!(r.is_ok(), "round {round}: panic");
    }
}

/// The CMS layer: the signer's RSA or ECDSA signature over the signed attributes verifies on
/// the test-PKI fixtures, and breaks when the signature value or a signed attribute changes.
#[test]
fn signer_signatures_verify_and_break_when_tampered() {
    for name in ["valid-rsa.exe", "valid-ecdsa.exe", "sha1-only.exe"] {
        let path = corpus("signed").join(name);
        let data = std::fs::read(&path).unwrap();
        let i = bingate::authenticode::inspect(&data).unwrap().unwrap();
        let s = i.signatures[0].as_ref().unwrap();
        assert!(
            s.digest.matches && s.cms.message_digest_match && s.cms.signature_valid,
            "{name}: {:?}",
            s.cms
        );
        assert!(s.cms.algorithms_consistent);

        // Flip a byte of the program name, a signed attribute (SpcSpOpusInfo).
        let at =
            memchr::memmem::find(&data, b"bingate test").expect("program name in the signature");
        let mut d = data.clone();
        d[at] ^= 0x20;
        let i = bingate::authenticode::inspect(&d).unwrap().unwrap();
        let s = i.signatures[0].as_ref().unwrap();
        assert!(s.digest.matches, "{name}: the image is untouched");
        assert!(
            !s.cms.signature_valid,
            "{name}: a changed signed attribute must break the signature"
        );
    }
    let key = |name: &str| {
        let data = read(corpus("signed").join(name));
        let i = bingate::authenticode::inspect(&data).unwrap().unwrap();
        i.signatures[0]
            .as_ref()
            .unwrap()
            .signer_key
            .clone()
            .unwrap()
    };
    assert_eq!(
        (
            key("valid-ecdsa.exe").algorithm.as_str(),
            key("valid-ecdsa.exe").bits
        ),
        ("ecdsa-p256", Some(256))
    );
    assert_eq!(key("weak-rsa1024.exe").bits, Some(1024));
}
