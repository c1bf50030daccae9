//! ELF signing end to end: `bingate sign elf` on gcc-built fixtures (PIE, shared object, static,
//! 32-bit, big-endian, relocatable object) with RSA and ECDSA keys, `bingate verify` on the
//! results, tampering, and independent checks: the OpenSSL recipe of docs/elf-signature.md, the
//! kernel's sign-file byte for byte, modinfo, readelf. Outside tools are used when present and
//! required when `BINGATE_REQUIRE_INTEROP=1`.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::der::der_len;
use common::interop;
use common::paths::{self, pki};
use common::run::{bingate, bingate_mixed};
use serde_json::Value;

const SIGN_FILE: &str = "/usr/lib/linux-kbuild-6.1/scripts/sign-file";

fn elf(name: &str) -> PathBuf {
    paths::corpus("elf").join(name)
}

fn sign(input: &Path, output: &Path, key: &str, cert: &str, extra: &[&str]) -> Output {
    let mut args: Vec<&dyn AsRef<OsStr>> = vec![&"sign", &"elf"];
    let key = pki(key);
    let cert = pki(cert);
    args.extend([&"--key" as &dyn AsRef<OsStr>, &key, &"--cert", &cert]);
    for e in extra {
        args.push(e);
    }
    args.extend([&"--output" as &dyn AsRef<OsStr>, &output, &input]);
    bingate(&args)
}

fn sign_ok(input: &Path, output: &Path, key: &str, cert: &str, extra: &[&str]) {
    let o = sign(input, output, key, cert, extra);
    assert!(
        o.status.success(),
        "sign {} failed: {}",
        input.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `bingate verify --format json` with the test root trusted: the file's `signature` object.
fn verify_json(file: &Path, extra: &[&str]) -> Value {
    let rootpem = pki("root.pem");
    let mut args: Vec<&dyn AsRef<OsStr>> =
        vec![&"verify", &"--format", &"json", &"--trust", &rootpem];
    for e in extra {
        args.push(e);
    }
    args.push(&file);
    let o = bingate(&args);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "verify output is not JSON ({e}): {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    v["files"][0]["signature"].clone()
}

fn status(v: &Value) -> &str {
    v["status"].as_str().unwrap_or("?")
}

fn changes(v: &Value) -> Vec<String> {
    v["signatures"][0]["changes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// (section name, offset, size, flags) from our own layout reader.
fn section(file: &Path, name: &str) -> bingate::elfsig::layout::Shdr {
    let data = std::fs::read(file).unwrap();
    let l = bingate::elfsig::layout::Layout::parse(&data).unwrap();
    l.sections.into_iter().find(|s| s.name == name).unwrap()
}

#[test]
fn round_trips_on_every_kind_of_elf() {
    let dir = paths::tempdir();
    // (fixture, key, cert): PIE, shared object, static, static-pie, 32-bit x86, 32-bit ARM,
    // big-endian PowerPC, a relocatable object, RISC-V.
    let cases = [
        ("pie-default", "leaf-rsa.key", "leaf-rsa.pem"),
        ("libshared.so", "leaf-ecdsa.key", "leaf-ecdsa.pem"),
        ("static", "leaf-ecdsa384.key", "leaf-ecdsa384.pem"),
        ("static-pie", "leaf-rsa.key", "leaf-rsa.pem"),
        ("m32-pie", "leaf-rsa.key", "leaf-rsa.pem"),
        ("i386-asm", "leaf-ecdsa.key", "leaf-ecdsa.pem"),
        ("arm32", "leaf-rsa.key", "leaf-rsa.pem"),
        ("ppc32-be", "leaf-rsa.key", "leaf-rsa.pem"),
        ("ppc32-be", "leaf-ecdsa384.key", "leaf-ecdsa384.pem"),
        ("hello.o", "leaf-rsa.key", "leaf-rsa.pem"),
        ("riscv64", "leaf-ecdsa.key", "leaf-ecdsa.pem"),
        ("pie-stripped", "leaf-rsa.key", "leaf-rsa.pem"),
    ];
    let readelf = interop::require("readelf");
    for (i, (name, key, cert)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("{i}-{name}.signed"));
        sign_ok(
            &elf(name),
            &out,
            key,
            cert,
            &["--chain", pki("intermediate.pem").to_str().unwrap()],
        );
        let v = verify_json(&out, &[]);
        assert_eq!(status(&v), "valid", "{name} with {key}: {v}");
        assert_eq!(v["format"], "elf-section");
        // The loaded image is unchanged: every allocated section and every segment keeps its
        // bytes and place.
        let before = std::fs::read(elf(name)).unwrap();
        let after = std::fs::read(&out).unwrap();
        let lb = bingate::elfsig::layout::Layout::parse(&before).unwrap();
        let la = bingate::elfsig::layout::Layout::parse(&after).unwrap();
        assert_eq!(lb.segments, la.segments, "{name}: program headers changed");
        // (The ELF header's e_shoff and e_shnum change; the loader does not read them. The
        // rest of every segment is byte for byte the same.)
        let eh = if lb.is_64 { 64 } else { 52 };
        for (_, off, len) in &lb.segments {
            let (o, l) = (
                (*off as usize).max(eh),
                (*len as usize).saturating_sub(eh.saturating_sub(*off as usize)),
            );
            assert_eq!(
                before.get(o..o + l),
                after.get(o..o + l),
                "{name}: segment bytes changed"
            );
        }
        let shoff_field = if lb.is_64 { 0x28..0x30 } else { 0x20..0x24 };
        let shnum_field = if lb.is_64 { 0x3c..0x3e } else { 0x30..0x32 };
        for i in 0..eh {
            if !shoff_field.contains(&i) && !shnum_field.contains(&i) {
                assert_eq!(
                    before[i], after[i],
                    "{name}: ELF header byte {i:#x} changed"
                );
            }
        }
        let sig = la
            .sections
            .iter()
            .find(|s| s.name == ".bingate.sig")
            .unwrap();
        assert_eq!(
            sig.flags & 0x2,
            0,
            "{name}: .bingate.sig must not be SHF_ALLOC"
        );
        for (_, off, len) in &la.segments {
            assert!(
                sig.offset >= off + len || sig.offset + sig.size <= *off,
                "{name}: .bingate.sig lies inside a segment"
            );
        }
        if readelf {
            let o = Command::new("readelf")
                .arg("-SW")
                .arg(&out)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(
                o.status.success() && text.contains(".bingate.sig"),
                "{name}: readelf -S: {text}"
            );
            let e = String::from_utf8_lossy(&o.stderr);
            assert!(!e.contains("Error"), "{name}: readelf complains: {e}");
        }
    }
}

#[test]
fn signed_pie_still_runs_and_objdump_lists_the_section() {
    let dir = paths::tempdir();
    let out = dir.path().join("pie");
    sign_ok(
        &elf("pie-default"),
        &out,
        "leaf-ecdsa.key",
        "leaf-ecdsa.pem",
        &[],
    );
    let original = Command::new(elf("pie-default")).output().unwrap();
    let signed = Command::new(&out)
        .output()
        .expect("the signed PIE runs (it keeps its mode)");
    assert!(signed.status.success());
    assert_eq!(signed.stdout, original.stdout);
    if interop::require("objdump") {
        let o = Command::new("objdump")
            .arg("-h")
            .arg(&out)
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&o.stdout).contains(".bingate.sig"));
    }
}

#[test]
fn tampering_is_named() {
    let dir = paths::tempdir();
    let signed = dir.path().join("signed");
    sign_ok(
        &elf("pie-default"),
        &signed,
        "leaf-rsa.key",
        "leaf-rsa.pem",
        &["--chain", pki("intermediate.pem").to_str().unwrap()],
    );
    let data = std::fs::read(&signed).unwrap();
    let layout = bingate::elfsig::layout::Layout::parse(&data).unwrap();

    // A flipped byte in .text.
    let text = section(&signed, ".text");
    let mut t = data.clone();
    t[text.offset as usize + 5] ^= 0xff;
    let f = dir.path().join("text");
    std::fs::write(&f, &t).unwrap();
    let v = verify_json(&f, &[]);
    assert_eq!(status(&v), "invalid");
    assert_eq!(changes(&v), vec![".text".to_owned()], "{v}");
    assert!(
        v["signatures"][0]["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("modified after signing")
    );

    // A changed section header (.comment's sh_flags): headers, not a section.
    let idx = layout
        .sections
        .iter()
        .position(|s| s.name == ".comment")
        .unwrap();
    let mut h = data.clone();
    let flags_at = layout.shoff as usize + idx * 64 + 8;
    h[flags_at] ^= 0x1;
    let f = dir.path().join("header");
    std::fs::write(&f, &h).unwrap();
    let v = verify_json(&f, &[]);
    assert_eq!(status(&v), "invalid");
    assert!(changes(&v).iter().any(|c| c.starts_with("headers")), "{v}");

    // Appended bytes.
    let mut a = data.clone();
    a.extend_from_slice(b"appended");
    let f = dir.path().join("appended");
    std::fs::write(&f, &a).unwrap();
    let v = verify_json(&f, &[]);
    assert_eq!(status(&v), "invalid");
    assert!(
        changes(&v).iter().any(|c| c.contains("8 bytes appended")),
        "{v}"
    );

    // A truncated signature section (its header says 100 bytes: the CMS no longer fits).
    let sig_idx = layout
        .sections
        .iter()
        .position(|s| s.name == ".bingate.sig")
        .unwrap();
    let mut tr = data.clone();
    let size_at = layout.shoff as usize + sig_idx * 64 + 32;
    tr[size_at..size_at + 8].copy_from_slice(&100u64.to_le_bytes());
    let f = dir.path().join("truncated");
    std::fs::write(&f, &tr).unwrap();
    assert_eq!(status(&verify_json(&f, &[])), "malformed");

    // An RSA signature is sized exactly: the section holds the CMS and nothing else, and is the
    // last thing in the file. (Padding is tested with a timestamped signature, whose section
    // keeps room for the token.)
    let sig = section(&signed, ".bingate.sig");
    let contents = &data[sig.offset as usize..(sig.offset + sig.size) as usize];
    assert_eq!(
        der_len(contents),
        contents.len(),
        "no padding after the CMS"
    );
    assert_eq!(
        sig.offset + sig.size,
        data.len() as u64,
        "the signature comes last"
    );

    // strip after signing.
    if interop::require("strip") {
        let f = dir.path().join("stripped");
        let o = Command::new("strip")
            .arg("-o")
            .arg(&f)
            .arg(&signed)
            .output()
            .unwrap();
        assert!(o.status.success());
        let v = verify_json(&f, &[]);
        assert_eq!(status(&v), "invalid");
        let msg = v["signatures"][0]["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(msg.contains("the file was modified after signing"), "{msg}");
        assert!(msg.contains(".symtab removed"), "{msg}");
    }
}

#[test]
fn trust_and_time_decide_like_authenticode() {
    let dir = paths::tempdir();
    let signed = dir.path().join("signed");
    sign_ok(
        &elf("static"),
        &signed,
        "leaf-rsa.key",
        "leaf-rsa.pem",
        &["--chain", pki("intermediate.pem").to_str().unwrap()],
    );
    // No anchor for the test root: untrusted, not invalid.
    let o = bingate_mixed(&[&"verify", &"--format", &"json", &signed]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["signature"]["status"], "untrusted");
    assert_eq!(o.status.code(), Some(1));
    // After the signer expired, without a timestamp: invalid (expired).
    let v = verify_json(&signed, &["--time", "2040-01-01T00:00:00Z"]);
    assert_eq!(status(&v), "invalid");
    assert!(v.to_string().contains("\"expired\""), "{v}");
    // Without the intermediate in the signature, the chain cannot be built.
    let bare = dir.path().join("bare");
    sign_ok(&elf("static"), &bare, "leaf-rsa.key", "leaf-rsa.pem", &[]);
    assert_eq!(status(&verify_json(&bare, &[])), "untrusted");
    // A certificate without the code-signing EKU (the TSA's) cannot sign code.
    let tsa = dir.path().join("tsa-signed");
    sign_ok(&elf("static"), &tsa, "tsa.key", "tsa.pem", &[]);
    let v = verify_json(&tsa, &[]);
    assert_eq!(status(&v), "invalid", "{v}");
}

#[test]
fn check_reports_elf_signatures_and_policies_can_require_them() {
    let dir = paths::tempdir();
    let signed = dir.path().join("signed");
    sign_ok(
        &elf("pie-default"),
        &signed,
        "leaf-rsa.key",
        "leaf-rsa.pem",
        &["--chain", pki("intermediate.pem").to_str().unwrap()],
    );
    let policy = dir.path().join("require-signed.toml");
    std::fs::write(
        &policy,
        r#"name = "require-signed"
description = "ELF files must carry a valid signature."

[[rule]]
id = "elf-signed"
description = "signed"
level = "deny"
applies = { format = "elf" }
check = { named = "elf-signed" }
rationale = "Release artifacts must be signed."
remediation = { default = "bingate sign elf --key KEY --cert CERT --in-place FILE" }

[[rule]]
id = "elf-signature-valid"
description = "valid"
level = "deny"
applies = { format = "elf" }
check = { named = "elf-signature-valid" }
rationale = "A signature that does not verify protects nothing."
remediation = { default = "Re-sign the final file." }
"#,
    )
    .unwrap();
    let rootpem = pki("root.pem");
    let run = |f: &Path| {
        bingate_mixed(&[
            &"check",
            &"--format",
            &"json",
            &"--policy",
            &policy,
            &"--trust",
            &rootpem,
            &f,
        ])
    };
    let o = run(&signed);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["signature"]["status"], "valid", "{v}");
    assert_eq!(v["files"][0]["signature"]["format"], "elf-section");
    assert!(
        v["files"][0]["hardening"].is_object(),
        "check keeps the facts"
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = run(&elf("pie-default"));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["signature"]["status"], "unsigned");
    assert_eq!(
        o.status.code(),
        Some(1),
        "an unsigned file fails elf-signed"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("elf-signed"));
}

#[test]
fn refuses_bad_input_and_writes_nothing() {
    let dir = paths::tempdir();
    let out = dir.path().join("out");
    let expect_error = |o: Output, needle: &str| {
        assert_eq!(
            o.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(needle), "expected {needle:?} in: {e}");
        assert!(!out.exists(), "no output after a failure");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".bingate-sign-"))
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
    };
    // Not an ELF file.
    let text = dir.path().join("text");
    std::fs::write(&text, b"#!/bin/sh\necho hi\n").unwrap();
    expect_error(
        sign(&text, &out, "leaf-rsa.key", "leaf-rsa.pem", &[]),
        "not a PE or ELF file",
    );
    // A PE file is not an ELF file either.
    let pe = paths::repo("corpus/pe").join(
        std::fs::read_dir(paths::repo("corpus/pe"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .file_name(),
    );
    expect_error(
        sign(&pe, &out, "leaf-rsa.key", "leaf-rsa.pem", &[]),
        "is a PE file: `sign elf` signs ELF files",
    );
    // No section header table (e_shoff = 0).
    let mut d = std::fs::read(elf("static")).unwrap();
    d[0x28..0x30].copy_from_slice(&0u64.to_le_bytes());
    let noshdr = dir.path().join("noshdr");
    std::fs::write(&noshdr, &d).unwrap();
    expect_error(
        sign(&noshdr, &out, "leaf-rsa.key", "leaf-rsa.pem", &[]),
        "no section header table",
    );
    // A section header table that lies (past the end of the file).
    let mut d = std::fs::read(elf("static")).unwrap();
    let len = d.len() as u64;
    d[0x28..0x30].copy_from_slice(&(len - 64).to_le_bytes());
    let lying = dir.path().join("lying");
    std::fs::write(&lying, &d).unwrap();
    expect_error(
        sign(&lying, &out, "leaf-rsa.key", "leaf-rsa.pem", &[]),
        "section header table",
    );
    // A section whose contents lie past the end of the file.
    let mut d = std::fs::read(elf("static")).unwrap();
    let l = bingate::elfsig::layout::Layout::parse(&d).unwrap();
    let i = l.sections.iter().position(|s| s.name == ".text").unwrap();
    let at = l.shoff as usize + i * 64 + 24;
    d[at..at + 8].copy_from_slice(&(len * 2).to_le_bytes());
    let sect = dir.path().join("section-past-end");
    std::fs::write(&sect, &d).unwrap();
    expect_error(
        sign(&sect, &out, "leaf-rsa.key", "leaf-rsa.pem", &[]),
        "truncated ELF section contents",
    );
    // Key and certificate that do not belong together.
    expect_error(
        sign(&elf("static"), &out, "leaf-rsa.key", "leaf-ecdsa.pem", &[]),
        "does not match",
    );
    expect_error(
        sign(&elf("static"), &out, "leaf-rsa.key", "root.pem", &[]),
        "does not match",
    );
    // An unreadable key: garbage, and a file that does not exist.
    let garbage = dir.path().join("garbage.key");
    std::fs::write(
        &garbage,
        b"-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let o = bingate_mixed(&[
        &"sign",
        &"elf",
        &"--key",
        &garbage,
        &"--cert",
        &pki("leaf-rsa.pem"),
        &"--output",
        &out,
        &elf("static"),
    ]);
    expect_error(o, "garbage.key");
    let missing = dir.path().join("missing.key");
    let o = bingate_mixed(&[
        &"sign",
        &"elf",
        &"--key",
        &missing,
        &"--cert",
        &pki("leaf-rsa.pem"),
        &"--output",
        &out,
        &elf("static"),
    ]);
    expect_error(o, "missing.key");
    // An output that is not a regular file.
    let o = bingate_mixed(&[
        &"sign",
        &"elf",
        &"--key",
        &pki("leaf-rsa.key"),
        &"--cert",
        &pki("leaf-rsa.pem"),
        &"--output",
        &dir.path(),
        &elf("static"),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn already_signed_needs_replace_and_in_place_keeps_the_mode() {
    let dir = paths::tempdir();
    let f = dir.path().join("prog");
    std::fs::copy(elf("pie-default"), &f).unwrap();
    let inplace = |extra: &[&str]| {
        let mut args: Vec<&dyn AsRef<OsStr>> = vec![&"sign", &"elf", &"--key"];
        let (k, c) = (pki("leaf-rsa.key"), pki("leaf-rsa.pem"));
        args.extend([&k as &dyn AsRef<OsStr>, &"--cert", &c, &"--in-place"]);
        for e in extra {
            args.push(e);
        }
        args.push(&f);
        bingate(&args)
    };
    assert!(
        inplace(&["--chain", pki("intermediate.pem").to_str().unwrap()])
            .status
            .success()
    );
    let first = std::fs::read(&f).unwrap();
    assert_eq!(status(&verify_json(&f, &[])), "valid");
    let o = inplace(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--replace"));
    assert_eq!(
        std::fs::read(&f).unwrap(),
        first,
        "a refused run leaves the file alone"
    );
    assert!(
        inplace(&[
            "--replace",
            "--chain",
            pki("intermediate.pem").to_str().unwrap()
        ])
        .status
        .success()
    );
    let second = std::fs::read(&f).unwrap();
    assert_eq!(status(&verify_json(&f, &[])), "valid");
    // Re-signing reuses the name and the place: the file does not grow by a second section.
    let l = bingate::elfsig::layout::Layout::parse(&second).unwrap();
    assert_eq!(l.section_index(".bingate.sig").len(), 1);
    assert_eq!(second.len(), first.len());
    assert!(
        inplace(&["--replace", "--digest", "sha512"])
            .status
            .success()
    );
    assert_eq!(
        verify_json(&f, &[])["signatures"][0]["digest_algorithm"],
        "sha512"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        let orig = std::fs::metadata(elf("pie-default"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, orig);
        assert!(Command::new(&f).output().unwrap().status.success());
    }
}

/// The recipe in docs/elf-signature.md, run as written.
#[test]
fn elf_signature_recipe_in_docs() {
    if !(interop::require("objcopy")
        && interop::require("openssl")
        && interop::require("sha256sum")
        && interop::require("sh"))
    {
        return;
    }
    let doc = std::fs::read_to_string(paths::repo("docs/elf-signature.md")).unwrap();
    let after = doc
        .split("## Verifying with binutils, OpenSSL and coreutils")
        .nth(1)
        .expect("the recipe section");
    let block = after
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    let dir = paths::tempdir();
    for (key, cert) in [
        ("leaf-rsa.key", "leaf-rsa.pem"),
        ("leaf-ecdsa384.key", "leaf-ecdsa384.pem"),
    ] {
        let signed = dir.path().join("signed");
        let _ = std::fs::remove_file(&signed);
        sign_ok(
            &elf("libshared.so"),
            &signed,
            key,
            cert,
            &["--chain", pki("intermediate.pem").to_str().unwrap()],
        );
        std::fs::copy(pki("root.pem"), dir.path().join("root.pem")).unwrap();
        // POSIX sh (dash on Debian), as the doc says: no bash-only syntax in the recipe.
        let o = Command::new("sh")
            .args(["-eu", "-c", block])
            .current_dir(dir.path())
            .env("signed", &signed)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && out.contains("file digest OK"),
            "recipe failed: {out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        // And the recipe fails on a tampered copy.
        let mut d = std::fs::read(&signed).unwrap();
        let text = section(&signed, ".text");
        d[text.offset as usize] ^= 1;
        std::fs::write(&signed, &d).unwrap();
        // POSIX sh (dash on Debian), as the doc says: no bash-only syntax in the recipe.
        let o = Command::new("sh")
            .args(["-eu", "-c", block])
            .current_dir(dir.path())
            .env("signed", &signed)
            .output()
            .unwrap();
        assert!(
            !o.status.success(),
            "the recipe must fail on a tampered file"
        );
    }
}

/// An ELF file of a few MiB, larger than the signing pass's chunk (1 MiB): `corpus/elf/static`
/// with two added sections of patterned bytes whose sizes are not multiples of anything, so that
/// sections begin and end inside chunks and span chunk boundaries. `None` without objcopy.
fn large_elf(dir: &Path) -> Option<PathBuf> {
    if !interop::require("objcopy") {
        return None;
    }
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut bytes = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    };
    let (a, b) = (dir.join("a.bin"), dir.join("b.bin"));
    std::fs::write(&a, bytes(1_500_007)).unwrap();
    std::fs::write(&b, bytes(2_222_223)).unwrap();
    let out = dir.join("large.elf");
    let o = Command::new("objcopy")
        .arg("--add-section")
        .arg(format!(".big.a={}", a.display()))
        .arg("--add-section")
        .arg(format!(".big.b={}", b.display()))
        .arg(elf("static"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(out)
}

#[test]
fn inputs_larger_than_a_chunk_are_streamed_and_verify() {
    let dir = paths::tempdir();
    let Some(big) = large_elf(dir.path()) else {
        return;
    };
    assert!(std::fs::metadata(&big).unwrap().len() > 3 << 20);
    for (key, cert) in [
        ("leaf-rsa.key", "leaf-rsa.pem"),
        ("leaf-ecdsa384.key", "leaf-ecdsa384.pem"),
    ] {
        let out = dir.path().join(format!("{key}.signed"));
        sign_ok(
            &big,
            &out,
            key,
            cert,
            &["--chain", pki("intermediate.pem").to_str().unwrap()],
        );
        let v = verify_json(&out, &[]);
        assert_eq!(status(&v), "valid", "{v}");
        // The input's bytes are in the output unchanged, at their place.
        let (before, after) = (std::fs::read(&big).unwrap(), std::fs::read(&out).unwrap());
        for name in [".big.a", ".big.b"] {
            let s = section(&big, name);
            let t = section(&out, name);
            assert_eq!((s.offset, s.size), (t.offset, t.size));
            let r = s.offset as usize..(s.offset + s.size) as usize;
            assert!(before[r.clone()] == after[r], "{name} copied as it was");
        }
        // A flipped byte in the second MiB is named.
        let mut d = after.clone();
        let a = section(&out, ".big.a");
        d[(a.offset + a.size - 3) as usize] ^= 1;
        let f = dir.path().join("flipped");
        std::fs::write(&f, &d).unwrap();
        let v = verify_json(&f, &[]);
        assert_eq!(changes(&v), vec![".big.a".to_owned()], "{v}");
    }
    // The module format over several chunks: byte for byte what sign-file writes.
    if interop::require(SIGN_FILE) {
        let theirs = dir.path().join("theirs");
        let o = Command::new(SIGN_FILE)
            .arg("sha256")
            .arg(pki("leaf-rsa.key"))
            .arg(pki("leaf-rsa.pem"))
            .arg(&big)
            .arg(&theirs)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let ours = dir.path().join("ours");
        sign_ok(
            &big,
            &ours,
            "leaf-rsa.key",
            "leaf-rsa.pem",
            &["--format", "module"],
        );
        assert!(
            std::fs::read(&theirs).unwrap() == std::fs::read(&ours).unwrap(),
            "a multi-chunk module signature differs from sign-file's"
        );
    }
}

/// No file named `name` and no `.bingate-sign-*` temporary file in `dir`.
fn nothing_left(dir: &Path, name: &str) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".bingate-sign-") || n == name)
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_destination_that_fails_mid_stream_leaves_nothing_behind() {
    let dir = paths::tempdir();
    // A destination whose directory does not exist: refused before anything is read.
    let missing = dir.path().join("no-such-dir").join("out");
    let o = sign(
        &elf("static"),
        &missing,
        "leaf-rsa.key",
        "leaf-rsa.pem",
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("no-such-dir/out: cannot create a file in"),
        "{e}"
    );
    assert!(!dir.path().join("no-such-dir").exists());
    // A write that fails after the first MiB (the file-size limit, with SIGXFSZ ignored so
    // that write(2) returns EFBIG instead of killing the process): an error naming the
    // destination, and neither the output nor the temporary file remains.
    let Some(big) = large_elf(dir.path()) else {
        return;
    };
    if !interop::require("sh") {
        return;
    }
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("signed");
    for format in ["section", "module"] {
        let o = Command::new("sh")
            .env_remove("BINGATE_KEY_PASSPHRASE")
            .arg("-c")
            .arg(r#"trap '' XFSZ; ulimit -f 2048; exec "$@""#)
            .arg("sh")
            .arg(common::run::EXE)
            .args(["sign", "elf", "--format", format, "--key"])
            .arg(pki("leaf-rsa.key"))
            .arg("--cert")
            .arg(pki("leaf-rsa.pem"))
            .arg("--output")
            .arg(&out)
            .arg(&big)
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{format}: {e}");
        assert!(
            e.contains(&format!("{}: File too large", out.display())),
            "{format}: {e}"
        );
        nothing_left(&out_dir, "signed");
    }
}

fn module_fixture(dir: &Path) -> PathBuf {
    // A relocatable object with a .modinfo section, as modinfo expects of a .ko.
    let ko = dir.join("fixture.ko");
    let mut d = std::fs::read(elf("hello.o")).unwrap();
    // The module format does not care what the ELF holds; modinfo wants .modinfo, which
    // objcopy adds when present.
    if interop::require("objcopy") {
        let mi = dir.join("modinfo.bin");
        std::fs::write(&mi, b"license=GPL\0description=bingate test module\0").unwrap();
        let o = Command::new("objcopy")
            .arg("--add-section")
            .arg(format!(".modinfo={}", mi.display()))
            .args(["--set-section-flags", ".modinfo=alloc,readonly"])
            .arg(elf("hello.o"))
            .arg(&ko)
            .output()
            .unwrap();
        assert!(o.status.success());
        d = std::fs::read(&ko).unwrap();
    }
    std::fs::write(&ko, d).unwrap();
    ko
}

#[test]
fn module_signatures_are_byte_identical_to_sign_file() {
    if !interop::require(SIGN_FILE) {
        return;
    }
    let dir = paths::tempdir();
    let ko = module_fixture(dir.path());
    for digest in ["sha256", "sha384", "sha512"] {
        let theirs = dir.path().join(format!("theirs-{digest}.ko"));
        let ours = dir.path().join(format!("ours-{digest}.ko"));
        let o = Command::new(SIGN_FILE)
            .arg(digest)
            .arg(pki("leaf-rsa.key"))
            .arg(pki("leaf-rsa.pem"))
            .arg(&ko)
            .arg(&theirs)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "sign-file: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        sign_ok(
            &ko,
            &ours,
            "leaf-rsa.key",
            "leaf-rsa.pem",
            &["--format", "module", "--digest", digest],
        );
        assert!(
            std::fs::read(&theirs).unwrap() == std::fs::read(&ours).unwrap(),
            "{digest}: bingate's module signature differs from sign-file's"
        );
        // Both verify against the certificate.
        let cert = pki("leaf-rsa.pem");
        for f in [&theirs, &ours] {
            let v = verify_json(f, &["--cert", cert.to_str().unwrap()]);
            assert_eq!(status(&v), "valid", "{v}");
            assert_eq!(v["format"], "kernel-module");
        }
    }
    // sign-file's ECDSA output verifies with bingate too.
    let theirs = dir.path().join("theirs-ec.ko");
    let o = Command::new(SIGN_FILE)
        .args(["sha384"])
        .arg(pki("leaf-ecdsa384.key"))
        .arg(pki("leaf-ecdsa384.pem"))
        .arg(&ko)
        .arg(&theirs)
        .output()
        .unwrap();
    assert!(o.status.success());
    let v = verify_json(
        &theirs,
        &["--cert", pki("leaf-ecdsa384.pem").to_str().unwrap()],
    );
    assert_eq!(status(&v), "valid", "{v}");
}

#[test]
fn module_signatures_read_by_modinfo_and_checked_by_bingate() {
    let dir = paths::tempdir();
    let ko = module_fixture(dir.path());
    for (key, cert, serial) in [
        ("leaf-ecdsa.key", "leaf-ecdsa.pem", "20:01"),
        ("leaf-ecdsa384.key", "leaf-ecdsa384.pem", ""),
        ("leaf-rsa.key", "leaf-rsa.pem", "20:00"),
    ] {
        let signed = dir.path().join(format!("{key}.ko"));
        sign_ok(
            &ko,
            &signed,
            key,
            cert,
            &["--format", "module", "--digest", "sha384"],
        );
        let v = verify_json(&signed, &["--cert", pki(cert).to_str().unwrap()]);
        assert_eq!(status(&v), "valid", "{v}");
        // Without the certificate: untrusted, the signer named by issuer and serial.
        let v = verify_json(&signed, &[]);
        assert_eq!(status(&v), "untrusted", "{v}");
        let id = &v["signatures"][0]["signer_id"];
        assert_eq!(
            id["issuer"],
            "O=Bingate Test PKI (NOT TRUSTED),CN=Bingate Test code signing CA"
        );
        // The code-signing anchors are candidate signers too (looked up by issuer and serial).
        let v = verify_json(&signed, &["--trust", pki(cert).to_str().unwrap()]);
        assert_eq!(status(&v), "valid", "{v}");
        // With the wrong certificate (same issuer, other serial): still untrusted.
        let v = verify_json(
            &signed,
            &["--cert", pki("leaf-revoked.pem").to_str().unwrap()],
        );
        assert_eq!(status(&v), "untrusted");
        // A flipped byte in the module: invalid.
        let mut d = std::fs::read(&signed).unwrap();
        d[100] ^= 1;
        let bad = dir.path().join("bad.ko");
        std::fs::write(&bad, &d).unwrap();
        assert_eq!(
            status(&verify_json(&bad, &["--cert", pki(cert).to_str().unwrap()])),
            "invalid"
        );
        if interop::require("modinfo") {
            let o = Command::new("modinfo").arg(&signed).output().unwrap();
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(
                text.contains("signer:") && text.contains("Bingate Test code signing CA"),
                "{text}"
            );
            assert!(text.contains("sig_hashalgo:   sha384"), "{text}");
            if !serial.is_empty() {
                assert!(
                    text.contains(&format!("sig_key:        {serial}")),
                    "{text}"
                );
            }
        }
    }
    // Signing twice needs --replace; --replace re-signs the module, not the old signature.
    let once = dir.path().join("once.ko");
    sign_ok(
        &ko,
        &once,
        "leaf-rsa.key",
        "leaf-rsa.pem",
        &["--format", "module"],
    );
    let twice = dir.path().join("twice.ko");
    let o = sign(
        &once,
        &twice,
        "leaf-rsa.key",
        "leaf-rsa.pem",
        &["--format", "module"],
    );
    assert_eq!(o.status.code(), Some(2));
    sign_ok(
        &once,
        &twice,
        "leaf-rsa.key",
        "leaf-rsa.pem",
        &["--format", "module", "--replace"],
    );
    assert_eq!(
        std::fs::read(&once).unwrap(),
        std::fs::read(&twice).unwrap()
    );
    // A timestamp has no place in a module signature.
    let o = sign(
        &ko,
        &twice,
        "leaf-rsa.key",
        "leaf-rsa.pem",
        &[
            "--format",
            "module",
            "--timestamp-url",
            "http://127.0.0.1:1/",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn section_then_module_signature_and_not_the_other_way() {
    let dir = paths::tempdir();
    let ko = module_fixture(dir.path());
    let s = dir.path().join("s.ko");
    sign_ok(&ko, &s, "leaf-rsa.key", "leaf-rsa.pem", &[]);
    let sm = dir.path().join("sm.ko");
    sign_ok(
        &s,
        &sm,
        "leaf-rsa.key",
        "leaf-rsa.pem",
        &["--format", "module"],
    );
    let v = verify_json(&sm, &["--cert", pki("leaf-rsa.pem").to_str().unwrap()]);
    assert_eq!(status(&v), "valid");
    assert_eq!(v["format"], "kernel-module");
    let o = sign(
        &sm,
        &dir.path().join("x.ko"),
        "leaf-rsa.key",
        "leaf-rsa.pem",
        &["--replace"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("module signature"));
}

#[test]
fn debian_signed_module_is_reported_untrusted_with_its_signer() {
    let ko = "corpus/public/kmod/crc7.ko";
    if !interop::public(ko) {
        return;
    }
    let v = verify_json(&paths::repo(ko), &[]);
    assert_eq!(status(&v), "untrusted", "{v}");
    assert_eq!(
        v["signatures"][0]["signer_id"]["issuer"],
        "CN=Build time autogenerated kernel key"
    );
    assert_eq!(
        v["signatures"][0]["signer_id"]["serial"],
        "1b:a0:db:9d:b0:17:06:9f:06:2a:9e:8a:eb:3e:70:8e:9b:e8:94:c4"
    );
    assert_eq!(v["signatures"][0]["digest_algorithm"], "sha256");
}

mod tsa;

#[test]
fn timestamped_signatures_outlive_the_certificate() {
    let t = tsa::TestTsa::start(tsa::Mode::Good);
    let dir = paths::tempdir();
    for (fixture, key, cert) in [
        ("pie-default", "leaf-rsa.key", "leaf-rsa.pem"),
        ("m32-pie", "leaf-ecdsa.key", "leaf-ecdsa.pem"),
        ("ppc32-be", "leaf-ecdsa384.key", "leaf-ecdsa384.pem"),
    ] {
        let signed = dir.path().join(format!("{fixture}.ts"));
        sign_ok(
            &elf(fixture),
            &signed,
            key,
            cert,
            &[
                "--chain",
                pki("intermediate.pem").to_str().unwrap(),
                "--timestamp-url",
                &t.url(),
            ],
        );
        let v = verify_json(&signed, &[]);
        assert_eq!(status(&v), "valid", "{v}");
        let ts = &v["signatures"][0]["timestamp"];
        assert_eq!(ts["valid"], true, "{v}");
        assert_eq!(ts["kind"], "rfc3161");
        // After the signer expired (2035-12-31), the stamped time decides: still valid.
        let later = verify_json(&signed, &["--time", "2038-01-01T00:00:00Z"]);
        assert_eq!(status(&later), "valid", "{later}");
        // The section keeps room for the token: zeros after the CMS. A non-zero byte there is
        // not covered by the signature: invalid.
        let sig = section(&signed, ".bingate.sig");
        let mut p = std::fs::read(&signed).unwrap();
        let contents = &p[sig.offset as usize..(sig.offset + sig.size) as usize];
        let cms_len = der_len(contents);
        assert!(
            cms_len < contents.len(),
            "{fixture}: room left for the token"
        );
        assert!(contents[cms_len..].iter().all(|b| *b == 0));
        let last = (sig.offset + sig.size - 1) as usize;
        p[last] = 0x41;
        let f = dir.path().join("padding");
        std::fs::write(&f, &p).unwrap();
        let v = verify_json(&f, &[]);
        assert_eq!(status(&v), "invalid", "{fixture}");
        assert!(v.to_string().contains("signature-padding"), "{v}");
        // OpenSSL accepts the CMS with the timestamp token as an unsigned attribute.
        if interop::require("openssl") {
            let o = Command::new("openssl")
                .args([
                    "cms", "-verify", "-inform", "DER", "-purpose", "any", "-noout", "-CAfile",
                ])
                .arg(pki("root.pem"))
                .arg("-in")
                .arg({
                    let der = dir.path().join("sig.der");
                    let s = section(&signed, ".bingate.sig");
                    let d = std::fs::read(&signed).unwrap();
                    std::fs::write(&der, &d[s.offset as usize..(s.offset + s.size) as usize])
                        .unwrap();
                    der
                })
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "openssl cms -verify on a timestamped signature: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    // A TSA that is down: a clear error, nothing written.
    let out = dir.path().join("down");
    let o = sign(
        &elf("static"),
        &out,
        "leaf-rsa.key",
        "leaf-rsa.pem",
        &["--timestamp-url", &tsa::closed_port_url()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("timestamp"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());
    // A TSA that answers garbage: the same.
    let g = tsa::TestTsa::start(tsa::Mode::Garbage);
    let o = sign(
        &elf("static"),
        &out,
        "leaf-rsa.key",
        "leaf-rsa.pem",
        &["--timestamp-url", &g.url()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}
