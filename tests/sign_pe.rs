//! Authenticode signing end to end: `bingate sign pe` on every PE fixture (PE32 and PE32+, EXE,
//! DLL, SYS, EFI) with RSA and ECDSA keys and every digest, page hashes, nesting in both
//! directions with osslsigncode, timestamps from the test TSA (with fail-over), two-step
//! signing (`bingate signature remove|extract|attach`), overlays, and refusals that leave
//! nothing behind. Independent checks: osslsigncode verify, sbverify for EFI images, the PE
//! checksum recomputed word by word here. Outside tools are used when present and required
//! when `BINGATE_REQUIRE_INTEROP=1`.

mod common;
mod tsa;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::interop;
use common::paths::{self, pki};
use common::run::bingate;
use serde_json::Value;

fn pe(name: &str) -> PathBuf {
    paths::corpus("pe").join(name)
}

fn all_pe() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(paths::corpus("pe"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.extension().is_some_and(|e| e == "json" || e == "md"))
        .collect();
    v.sort();
    v
}

/// `bingate sign pe` with `leaf-{key}.key` and `leaf-{key}.pem` from corpus/pki and the
/// intermediate CA as the chain.
fn sign(input: &Path, output: &Path, key: &str, extra: &[&str]) -> Output {
    let cert = pki(format!("leaf-{key}.pem"));
    let keyf = pki(format!("leaf-{key}.key"));
    let mut args: Vec<String> = vec![
        "sign".into(),
        "pe".into(),
        "--key".into(),
        keyf.display().to_string(),
        "--cert".into(),
        cert.display().to_string(),
        "--chain".into(),
        pki("intermediate.pem").display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend([
        "--output".into(),
        output.display().to_string(),
        input.display().to_string(),
    ]);
    bingate(&args)
}

#[track_caller]
fn sign_ok(input: &Path, output: &Path, key: &str, extra: &[&str]) {
    let o = sign(input, output, key, extra);
    assert!(
        o.status.success(),
        "sign {} {extra:?} failed: {}",
        input.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `bingate verify --format json --require all` with the test root trusted: the file's
/// `signature` object.
fn verify_json(file: &Path, extra: &[&str]) -> Value {
    let root = pki("root.pem");
    let mut args = vec![
        "verify".to_string(),
        "--format".into(),
        "json".into(),
        "--require".into(),
        "all".into(),
        "--trust".into(),
        root.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(file.display().to_string());
    let o = bingate(&args);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["files"][0]["signature"].clone()
}

fn status(file: &Path) -> String {
    verify_json(file, &[])["status"]
        .as_str()
        .unwrap_or("?")
        .to_owned()
}

/// osslsigncode verify with the test root: `Some(true)` when it accepts, `None` when it is not
/// installed (and not required).
fn osslsigncode_accepts(file: &Path) -> Option<bool> {
    if !interop::installed("osslsigncode") {
        interop::skip("osslsigncode is not installed");
        return None;
    }
    let o = Command::new("osslsigncode")
        .args(["verify", "-CAfile"])
        .arg(pki("root.pem"))
        .arg("-TSA-CAfile")
        .arg(pki("root.pem"))
        .arg("-in")
        .arg(file)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    Some(o.status.success() && out.contains("Succeeded"))
}

/// The PE checksum, word by word as imagehlp documents it, written here independently of
/// bingate's: 16-bit little-endian words with the CheckSum field as zero, carries folded at
/// every step, plus the file length.
fn independent_checksum(data: &[u8]) -> u32 {
    let e_lfanew = u32::from_le_bytes(data[0x3c..0x40].try_into().unwrap()) as usize;
    let field = e_lfanew + 24 + 64;
    let mut sum: u32 = 0;
    for (i, w) in data.chunks(2).enumerate() {
        let at = i * 2;
        let word = if (field..field + 4).contains(&at) {
            0
        } else {
            u32::from(w[0]) | (u32::from(*w.get(1).unwrap_or(&0)) << 8)
        };
        sum += word;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum + data.len() as u32
}

fn stored_checksum(data: &[u8]) -> u32 {
    let e_lfanew = u32::from_le_bytes(data[0x3c..0x40].try_into().unwrap()) as usize;
    let field = e_lfanew + 24 + 64;
    u32::from_le_bytes(data[field..field + 4].try_into().unwrap())
}

#[test]
fn every_fixture_signs_verifies_and_is_deterministic() {
    let dir = paths::tempdir();
    for f in all_pe() {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let a = dir.path().join(format!("{name}.a"));
        let b = dir.path().join(format!("{name}.b"));
        sign_ok(&f, &a, "rsa", &[]);
        sign_ok(&f, &b, "rsa", &[]);
        let bytes = std::fs::read(&a).unwrap();
        assert_eq!(
            bytes,
            std::fs::read(&b).unwrap(),
            "{name}: not deterministic"
        );
        assert_eq!(status(&a), "valid", "{name}");
        assert_eq!(
            stored_checksum(&bytes),
            independent_checksum(&bytes),
            "{name}: checksum"
        );
        // The table is last and 8-aligned; the original bytes come first, unchanged but for
        // the two header fields.
        let orig = std::fs::read(&f).unwrap();
        assert!(bytes.len() >= orig.len() + 8);
        assert_eq!(bytes.len() % 8, 0, "{name}: table not padded to 8 bytes");
        if let Some(ok) = osslsigncode_accepts(&a) {
            assert!(ok, "{name}: osslsigncode verify failed");
        }
        if name.ends_with(".efi") && interop::require("sbverify") {
            let o = Command::new("sbverify")
                .arg("--cert")
                .arg(pki("root.pem"))
                .arg(&a)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{name}: sbverify: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

#[test]
fn keys_digests_and_page_hashes_interoperate() {
    let dir = paths::tempdir();
    for fixture in ["x64-default.exe", "x86-default.exe"] {
        for key in ["rsa", "ecdsa", "ecdsa384"] {
            for digest in ["sha256", "sha384", "sha512"] {
                for pages in [false, true] {
                    let out = dir.path().join(format!("{fixture}-{key}-{digest}-{pages}"));
                    let mut extra = vec!["--digest", digest];
                    if pages {
                        extra.push("--page-hashes");
                    }
                    sign_ok(&pe(fixture), &out, key, &extra);
                    let v = verify_json(&out, &[]);
                    let what = format!("{fixture} {key} {digest} pages={pages}");
                    assert_eq!(v["status"], "valid", "{what}: {v}");
                    assert_eq!(v["signatures"][0]["digest_algorithm"], digest, "{what}");
                    if pages {
                        assert_eq!(
                            v["signatures"][0]["page_hashes"]["verified"], true,
                            "{what}: {v}"
                        );
                    }
                    if let Some(ok) = osslsigncode_accepts(&out) {
                        assert!(ok, "{what}: osslsigncode verify failed");
                    }
                }
            }
        }
    }
}

#[test]
fn nesting_works_both_ways_with_osslsigncode() {
    if !interop::require("osslsigncode") {
        return;
    }
    let dir = paths::tempdir();
    let d = dir.path();
    // osslsigncode signs (SHA-1), bingate nests a SHA-256 ECDSA signature.
    let first = d.join("ossl.exe");
    let o = Command::new("osslsigncode")
        .args(["sign", "-h", "sha1", "-key"])
        .arg(pki("leaf-rsa.key"))
        .arg("-certs")
        .arg(pki("leaf-rsa-chain.pem"))
        .arg("-in")
        .arg(pe("x64-default.exe"))
        .arg("-out")
        .arg(&first)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let nested = d.join("nested.exe");
    sign_ok(&first, &nested, "ecdsa", &["--nest"]);
    let v = verify_json(&nested, &[]);
    assert_eq!(v["status"], "valid", "{v}");
    let sigs = v["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "{v}");
    assert_eq!(sigs[0]["digest_algorithm"], "sha1");
    assert_eq!(sigs[1]["digest_algorithm"], "sha256");
    assert_eq!(osslsigncode_accepts(&nested), Some(true));
    // bingate signs, osslsigncode nests onto it.
    let ours = d.join("ours.exe");
    sign_ok(&pe("x64-default.exe"), &ours, "rsa", &[]);
    let theirs = d.join("theirs.exe");
    let o = Command::new("osslsigncode")
        .args(["sign", "-nest", "-h", "sha384", "-key"])
        .arg(pki("leaf-ecdsa.key"))
        .arg("-certs")
        .arg(pki("leaf-ecdsa-chain.pem"))
        .arg("-in")
        .arg(&ours)
        .arg("-out")
        .arg(&theirs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = verify_json(&theirs, &[]);
    assert_eq!(v["status"], "valid", "{v}");
    assert_eq!(v["signatures"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(osslsigncode_accepts(&theirs), Some(true));
    // Re-signing without --nest replaces every signature, and says so.
    let replaced = d.join("replaced.exe");
    let o = sign(&theirs, &replaced, "rsa", &[]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("replaced the existing signature"));
    assert_eq!(
        verify_json(&replaced, &[])["signatures"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn two_step_signing_matches_osslsigncode() {
    let dir = paths::tempdir();
    let d = dir.path();
    let signed = d.join("signed.dll");
    sign_ok(&pe("x64.dll"), &signed, "rsa", &[]);
    let p7 = d.join("sig.p7");
    let o = bingate(&[
        "signature",
        "extract",
        "--output",
        p7.to_str().unwrap(),
        signed.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let removed = d.join("removed.dll");
    let o = bingate(&[
        "signature",
        "remove",
        "--output",
        removed.to_str().unwrap(),
        signed.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(status(&removed), "unsigned");
    let r = std::fs::read(&removed).unwrap();
    assert_eq!(stored_checksum(&r), independent_checksum(&r));
    // Attaching the extracted signature gives back the signed file, byte for byte.
    let attached = d.join("attached.dll");
    let o = bingate(&[
        "signature",
        "attach",
        "--signature",
        p7.to_str().unwrap(),
        "--output",
        attached.to_str().unwrap(),
        removed.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(&attached).unwrap(),
        std::fs::read(&signed).unwrap()
    );
    // A signature of another file is refused, and nothing is written.
    let wrong = d.join("wrong.dll");
    let o = bingate(&[
        "signature",
        "attach",
        "--signature",
        p7.to_str().unwrap(),
        "--output",
        wrong.to_str().unwrap(),
        pe("x86.dll").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("it signs the image hash"));
    assert!(!wrong.exists());
    if interop::require("osslsigncode") {
        let theirs = d.join("theirs.p7");
        let st = Command::new("osslsigncode")
            .args(["extract-signature", "-in"])
            .arg(&signed)
            .arg("-out")
            .arg(&theirs)
            .output()
            .unwrap();
        assert!(st.status.success());
        assert_eq!(std::fs::read(&theirs).unwrap(), std::fs::read(&p7).unwrap());
        let unsigned = d.join("theirs-removed.dll");
        let st = Command::new("osslsigncode")
            .args(["remove-signature", "-in"])
            .arg(&signed)
            .arg("-out")
            .arg(&unsigned)
            .output()
            .unwrap();
        assert!(st.status.success());
        assert_eq!(std::fs::read(&unsigned).unwrap(), r);
    }
}

#[test]
fn timestamps_with_fail_over() {
    let t = tsa::TestTsa::start(tsa::Mode::Good);
    let dir = paths::tempdir();
    let out = dir.path().join("ts.exe");
    let closed = tsa::closed_port_url();
    sign_ok(
        &pe("x64-default.exe"),
        &out,
        "rsa",
        &[
            "--timestamp-url",
            &closed,
            "--timestamp-url",
            &t.url(),
            "--timestamp-timeout",
            "5",
            "--timestamp-retries",
            "1",
        ],
    );
    let v = verify_json(&out, &[]);
    assert_eq!(v["status"], "valid", "{v}");
    assert_eq!(v["signatures"][0]["timestamp"]["valid"], true, "{v}");
    assert_eq!(v["signatures"][0]["timestamp"]["kind"], "rfc3161", "{v}");
    // After the signer's certificate expired, the stamped time decides.
    let later = verify_json(&out, &["--time", "2038-01-01T00:00:00Z"]);
    assert_eq!(later["status"], "valid", "{later}");
    if let Some(ok) = osslsigncode_accepts(&out) {
        assert!(ok, "osslsigncode verify of the timestamped file");
    }
    // Every TSA failing: an error, and no output.
    let none = dir.path().join("none.exe");
    let o = sign(
        &pe("x64-default.exe"),
        &none,
        "rsa",
        &["--timestamp-url", &closed, "--timestamp-retries", "1"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!none.exists());
}

/// An installer-like file: the PE image, then data after it (an overlay). The overlay stays
/// before the table and is covered by the signature: changing it invalidates the file.
#[test]
fn an_overlay_is_kept_and_covered() {
    let dir = paths::tempdir();
    let input = dir.path().join("installer.exe");
    let mut bytes = std::fs::read(pe("x64-default.exe")).unwrap();
    let image_len = bytes.len();
    bytes.extend_from_slice(b"PAYLOAD: an installer's archive would be here.");
    std::fs::write(&input, &bytes).unwrap();
    let out = dir.path().join("signed.exe");
    sign_ok(&input, &out, "rsa", &[]);
    assert_eq!(status(&out), "valid");
    let mut signed = std::fs::read(&out).unwrap();
    assert_eq!(&signed[image_len..bytes.len()], &bytes[image_len..]);
    if let Some(ok) = osslsigncode_accepts(&out) {
        assert!(ok);
    }
    signed[image_len + 3] ^= 1;
    let tampered = dir.path().join("tampered.exe");
    std::fs::write(&tampered, &signed).unwrap();
    assert_eq!(status(&tampered), "invalid");
}

#[test]
fn refusals_write_nothing() {
    let dir = paths::tempdir();
    let d = dir.path();
    let out = d.join("out.exe");
    let no_temp = || {
        let left: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".bingate-sign-"))
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
    };
    // Not a PE file.
    let o = sign(&paths::corpus("elf").join("static"), &out, "rsa", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a PE file"));
    // --nest on an unsigned file.
    let o = sign(&pe("x64.dll"), &out, "rsa", &["--nest"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not signed"));
    // A signed file with data after its certificate table.
    let signed = d.join("signed.dll");
    sign_ok(&pe("x64.dll"), &signed, "rsa", &[]);
    let mut b = std::fs::read(&signed).unwrap();
    b.extend_from_slice(b"appended after the table");
    let appended = d.join("appended.dll");
    std::fs::write(&appended, &b).unwrap();
    let o = sign(&appended, &out, "rsa", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not at the end of the file"));
    // A key that does not match the certificate.
    let o = bingate(&[
        "sign",
        "pe",
        "--key",
        pki("leaf-ecdsa.key").to_str().unwrap(),
        "--cert",
        pki("leaf-rsa.pem").to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        pe("x64.dll").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
    no_temp();
}

#[cfg(unix)]
#[test]
fn in_place_signing_clears_setuid() {
    use std::os::unix::fs::PermissionsExt;
    let dir = paths::tempdir();
    let f = dir.path().join("tool.exe");
    std::fs::copy(pe("x64-default.exe"), &f).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o6755)).unwrap();
    let o = bingate(&[
        "sign",
        "pe",
        "--key",
        pki("leaf-rsa.key").to_str().unwrap(),
        "--cert",
        pki("leaf-rsa-chain.pem").to_str().unwrap(),
        "--in-place",
        f.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o755);
    assert_eq!(status(&f), "valid");
}

/// The gate: a deny rule of the policy refuses before anything is signed (exit 1, findings on
/// stdout); a risk estimate above the ceiling refuses after (the output is judged, then not
/// written); `--trust` makes the self-check require a valid chain.
#[test]
fn the_gate_refuses_with_exit_1_and_writes_nothing() {
    let dir = paths::tempdir();
    let out = dir.path().join("out.exe");
    let o = sign(
        &pe("x64-no-nxcompat.exe"),
        &out,
        "rsa",
        &["--policy", "default"],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("deny   pe-nx-compat"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 deny rule of policy default failed"));
    assert!(!out.exists());
    // Warnings do not refuse.
    sign_ok(
        &pe("x64-default.exe"),
        &out,
        "rsa",
        &["--policy", "default"],
    );
    std::fs::remove_file(&out).unwrap();
    // Under the embedded Microsoft roots the test PKI is untrusted: high risk.
    let o = sign(
        &pe("x64-default.exe"),
        &out,
        "rsa",
        &["--risk-at-most", "medium"],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("untrusted-root"), "{err}");
    assert!(!out.exists());
    // Trusting the test root: the estimate drops below high, and the self-check says valid.
    let root = pki("root.pem");
    let o = sign(
        &pe("x64-default.exe"),
        &out,
        "rsa",
        &["--trust", root.to_str().unwrap(), "--risk-at-most", "high"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("verifies: valid"));
    // An anchor the chain does not reach: the self-check fails (exit 2), nothing written.
    let other = dir.path().join("other.exe");
    let o = sign(
        &pe("x64-default.exe"),
        &other,
        "rsa",
        &["--trust", pki("selfsigned.pem").to_str().unwrap()],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!other.exists());
}

/// Files users actually sign, from the public corpus (corpus/fetch-public.sh): a Go executable
/// (esbuild), ARM64 images (7-Zip), an MSVC DLL, a Microsoft-signed tool (its signature is
/// replaced), GRUB's signed EFI image (a nested signature is added to its Canonical one), and
/// node.exe (100 MB, signed by the OpenJS Foundation with an expired certificate: nested too).
/// Our signature verifies with bingate (through the test root) whatever the publisher's says,
/// and osslsigncode accepts the files where ours is the only one.
#[test]
fn public_inputs_users_sign() {
    let dir = paths::tempdir();
    let cases: [(&str, &[&str], usize); 7] = [
        ("corpus/public/esbuild.exe", &[], 1),
        ("corpus/public/electron-winstaller/7z-arm64.exe", &[], 1),
        (
            "corpus/public/electron-winstaller/7z-arm64.dll",
            &["--page-hashes"],
            1,
        ),
        ("corpus/public/pyqt5-qt5/msvcp140.dll", &[], 1),
        ("corpus/public/electron-winstaller/signtool.exe", &[], 1),
        ("corpus/public/grub/grubx64.efi.signed", &["--nest"], 2),
        ("corpus/public/node/node.exe", &["--nest"], 2),
    ];
    for (rel, extra, signatures) in cases {
        if !interop::public(rel) {
            continue;
        }
        let name = Path::new(rel).file_name().unwrap().to_string_lossy();
        let out = dir.path().join(format!("{name}.signed"));
        sign_ok(&paths::repo(rel), &out, "rsa", extra);
        let v = verify_json(&out, &[]);
        let sigs = v["signatures"].as_array().unwrap();
        assert_eq!(sigs.len(), signatures, "{rel}: {v}");
        // Ours is the last one; it verifies whatever the publisher's chain says.
        assert_eq!(sigs[signatures - 1]["status"], "valid", "{rel}: {v}");
        if signatures == 1 {
            assert_eq!(v["status"], "valid", "{rel}: {v}");
        }
        if let Some(ok) = osslsigncode_accepts(&out) {
            // osslsigncode knows only the test root: it accepts the file when our signature
            // is the only one.
            if signatures == 1 {
                assert!(ok, "{rel}: osslsigncode verify failed");
            }
        }
        std::fs::remove_file(&out).unwrap();
    }
}

/// Dual signing for very old Windows: a SHA-1 signature, a SHA-256 one nested on it, both by
/// bingate, with SHA-1 page hashes on the first; a .pfx signs the same bytes as its PEM key.
#[test]
fn dual_sha1_sha256_signature_and_a_pfx() {
    let dir = paths::tempdir();
    let sha1 = dir.path().join("sha1.exe");
    sign_ok(
        &pe("x64-default.exe"),
        &sha1,
        "rsa",
        &["--digest", "sha1", "--page-hashes"],
    );
    let dual = dir.path().join("dual.exe");
    sign_ok(&sha1, &dual, "rsa", &["--nest"]);
    let v = verify_json(&dual, &[]);
    assert_eq!(v["status"], "valid", "{v}");
    let algs: Vec<&str> = v["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["digest_algorithm"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["sha1", "sha256"]);
    if let Some(ok) = osslsigncode_accepts(&dual) {
        assert!(ok);
    }
    // The .pfx (PBES2, its chain inside) gives the bytes the PEM key and chain give.
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "test\n").unwrap();
    let from_pfx = dir.path().join("pfx.exe");
    let o = bingate(&[
        "sign",
        "pe",
        "--key",
        pki("p12/rsa-chain.p12").to_str().unwrap(),
        "--pass",
        &format!("file:{}", pw.display()),
        "--output",
        from_pfx.to_str().unwrap(),
        pe("x64-default.exe").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let from_pem = dir.path().join("pem.exe");
    sign_ok(&pe("x64-default.exe"), &from_pem, "rsa", &[]);
    assert_eq!(
        std::fs::read(&from_pfx).unwrap(),
        std::fs::read(&from_pem).unwrap()
    );
    // A passphrase on the command line is refused.
    let o = bingate(&[
        "sign",
        "pe",
        "--key",
        pki("p12/rsa-chain.p12").to_str().unwrap(),
        "--pass",
        "pass:test",
        "--output",
        from_pfx.to_str().unwrap(),
        pe("x64-default.exe").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("pass:test"));
}

/// A Rust program built for Windows (corpus/sign, with its recipe): signed, it verifies, and
/// `check` still reads it as Rust-built and signed.
#[test]
fn a_rust_built_executable() {
    let dir = paths::tempdir();
    let out = dir.path().join("rust-hello.exe");
    sign_ok(
        &paths::corpus("sign").join("rust-hello.exe"),
        &out,
        "ecdsa",
        &[],
    );
    assert_eq!(status(&out), "valid");
    if let Some(ok) = osslsigncode_accepts(&out) {
        assert!(ok);
    }
    let root = pki("root.pem");
    let o = bingate(&[
        "check",
        "--no-policy",
        "--format",
        "json",
        "--trust",
        root.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["toolchain"]["name"], "rust", "{v}");
    assert_eq!(v["files"][0]["signature"]["status"], "valid", "{v}");
}

/// Hostile inputs: seeded byte flips and truncations of an unsigned and a signed fixture,
/// through `sign pe` (fresh and `--nest`, whose DER editing reads the existing signature) and
/// `signature extract|remove`. Every run ends with exit 0 (signed: it then verifies) or 2 (a
/// clear error), never a panic, and an error leaves no output.
#[test]
fn mutated_inputs_never_panic() {
    let dir = paths::tempdir();
    let d = dir.path();
    let signed = d.join("signed.dll");
    sign_ok(&pe("x64.dll"), &signed, "rsa", &["--page-hashes"]);
    let mut seed: u64 = 0x5eed_0016_b1a9_a7e0;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut runs = 0;
    for (base, nest) in [
        (std::fs::read(pe("x64.dll")).unwrap(), false),
        (std::fs::read(&signed).unwrap(), true),
    ] {
        for i in 0..60 {
            let mut m = base.clone();
            match i % 3 {
                // A flip in the headers and section table, where the plan reads.
                0 => {
                    let at = (next() % 0x400) as usize;
                    m[at] ^= 1 << (next() % 8);
                }
                // A flip anywhere, the certificate table included.
                1 => {
                    let at = (next() % m.len() as u64) as usize;
                    m[at] = next() as u8;
                }
                // A truncation.
                _ => m.truncate((next() % m.len() as u64) as usize),
            }
            let input = d.join(format!("m{i}-{nest}.dll"));
            std::fs::write(&input, &m).unwrap();
            let out = d.join(format!("m{i}-{nest}.out"));
            let mut extra = vec![];
            if nest {
                extra.push("--nest");
            }
            let o = sign(&input, &out, "ecdsa", &extra);
            let code = o.status.code();
            assert!(
                matches!(code, Some(0) | Some(2)),
                "sign pe on mutation {i} (nest={nest}): {code:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            if code == Some(0) {
                let v = verify_json(&out, &[]);
                let sigs = v["signatures"].as_array().unwrap();
                assert_eq!(
                    sigs.last().unwrap()["status"],
                    "valid",
                    "mutation {i} (nest={nest}) signed but ours does not verify: {v}"
                );
            } else {
                assert!(!out.exists(), "mutation {i}: output left after an error");
            }
            for cmd in [["signature", "extract"], ["signature", "remove"]] {
                let o = bingate(&[
                    cmd[0],
                    cmd[1],
                    "--output",
                    d.join("x.out").to_str().unwrap(),
                    input.to_str().unwrap(),
                ]);
                assert!(
                    matches!(o.status.code(), Some(0) | Some(2)),
                    "{cmd:?} on mutation {i}: {:?}: {}",
                    o.status.code(),
                    String::from_utf8_lossy(&o.stderr)
                );
            }
            runs += 1;
        }
    }
    assert_eq!(runs, 120);
}
