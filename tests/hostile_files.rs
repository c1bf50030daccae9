//! Files that must never be opened or that must not grant anything (issue 13): FIFOs, devices and
//! symlinks to them named on the command line, as a `:Zone.Identifier` sidecar, as `--policy`,
//! `--waivers` or `extends`; signing a setuid file. Every bingate run here has a time limit: a
//! run that blocks on a FIFO is killed and fails the test instead of hanging the suite.

// Tests and examples report to the person running them.
#![allow(clippy::disallowed_macros)]
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::interop;
use common::paths::{self, corpus};
use common::run::{self, bingate_within, text};

/// Far more than any of these runs needs (they take milliseconds); a blocked open never returns.
const LIMIT: Duration = Duration::from_secs(20);
/// For the runs over generated inputs of megabytes (see [`bingate_within`]).
const HEAVY: Duration = Duration::from_secs(120);

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success(), "mkfifo {}", path.display());
}

/// `bingate sign elf --key KEY --cert CERT --output OUT INPUT` (KEY and CERT default to the test
/// PKI's RSA leaf).
fn sign_elf(key: Option<&Path>, input: &Path, out: &Path) -> Output {
    let pki = corpus("pki");
    let default_key = pki.join("leaf-rsa.key");
    let cert = pki.join("leaf-rsa.pem");
    bingate_within(
        LIMIT,
        &[
            &"sign",
            &"elf",
            &"--key",
            &key.unwrap_or(&default_key),
            &"--cert",
            &cert,
            &"--output",
            &out,
            &input,
        ],
    )
}

#[test]
fn a_named_fifo_or_a_symlink_to_one_is_an_error_not_a_hang() {
    let dir = paths::tempdir();
    let fifo = dir.path().join("named.fifo");
    mkfifo(&fifo);
    let link = dir.path().join("link.exe");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    for cmd in ["check", "verify", "risk"] {
        for p in [&fifo, &link] {
            let o = bingate_within(LIMIT, &[&cmd, p]);
            assert_eq!(
                o.status.code(),
                Some(2),
                "{cmd} {}: {}",
                p.display(),
                text(&o)
            );
            assert!(text(&o).contains("a FIFO"), "{cmd}: {}", text(&o));
        }
    }
    // A FIFO met while walking a directory is skipped, as before, and the rest is examined.
    std::fs::copy(corpus("pe/x64-default.exe"), dir.path().join("a.exe")).unwrap();
    let o = bingate_within(LIMIT, &[&"check", &"--no-policy", &dir.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_fifo_as_zone_identifier_sidecar_is_not_opened() {
    let dir = paths::tempdir();
    let exe = dir.path().join("app.exe");
    std::fs::copy(corpus("risk/app.exe"), &exe).unwrap();
    mkfifo(&dir.path().join("app.exe:Zone.Identifier"));
    let o = bingate_within(LIMIT, &[&"risk", &"--format", &"json", &exe]);
    let t = text(&o);
    assert!(t.contains("a FIFO"), "{t}");
    // check reads the sidecar too (directory scans and named files alike).
    let o = bingate_within(
        LIMIT,
        &[&"check", &"--no-policy", &"--format", &"json", &dir.path()],
    );
    assert!(o.status.code().is_some(), "{}", text(&o));
}

#[test]
fn policy_waiver_and_extends_files_must_be_regular_and_bounded() {
    let dir = paths::tempdir();
    let fifo = dir.path().join("p.toml");
    mkfifo(&fifo);
    let exe = corpus("pe/x64-default.exe");
    for args in [
        vec!["check", "--policy"],
        vec!["check", "--waivers"],
        vec!["policy", "validate"],
    ] {
        let mut a: Vec<&dyn AsRef<std::ffi::OsStr>> = args.iter().map(|s| s as _).collect();
        a.push(&fifo);
        if args[0] == "check" {
            a.push(&exe);
        }
        let o = bingate_within(LIMIT, &a);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("a FIFO"), "{args:?}: {}", text(&o));
    }
    // /dev/zero as a policy fails at once (a device, never read).
    let o = bingate_within(LIMIT, &[&"check", &"--policy", &"/dev/zero", &exe]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("a device"), "{}", text(&o));
    // extends naming a FIFO.
    let child = dir.path().join("child.toml");
    std::fs::write(&child, "extends = \"./p.toml\"\n").unwrap();
    let o = bingate_within(LIMIT, &[&"policy", &"validate", &child]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("a FIFO"), "{}", text(&o));
}

#[test]
fn signing_clears_setuid_and_setgid_and_keeps_the_other_bits() {
    let dir = paths::tempdir();
    let input = dir.path().join("tool");
    std::fs::copy(corpus("elf/pie-default"), &input).unwrap();
    std::fs::set_permissions(&input, std::fs::Permissions::from_mode(0o6751)).unwrap();
    let out = dir.path().join("tool.signed");
    let o = sign_elf(None, &input, &out);
    assert!(o.status.success(), "{}", text(&o));
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o751, "{mode:o}");
    // No temporary file is left beside the output.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".bingate-sign-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn signing_refuses_a_fifo_input_and_a_fifo_output() {
    let dir = paths::tempdir();
    let fifo = dir.path().join("in");
    mkfifo(&fifo);
    let out = dir.path().join("out");
    let o = sign_elf(None, &fifo, &out);
    assert!(!o.status.success());
    assert!(text(&o).contains("a FIFO"), "{}", text(&o));
    // --output pointing (through a symlink) at a FIFO: refused, the FIFO is still there.
    let link = dir.path().join("out-link");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    let o = sign_elf(None, &corpus("elf/pie-default"), &link);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // A FIFO given as the key.
    let o = sign_elf(Some(&fifo), &corpus("elf/pie-default"), &out);
    assert!(!o.status.success());
    assert!(text(&o).contains("a FIFO"), "{}", text(&o));
}

/// A waiver glob globset parses but cannot compile (1,000 nested alternates): `policy validate`
/// reports it at its position and `check` refuses the policy, neither panics.
#[test]
fn a_policy_glob_that_cannot_compile_is_an_error_with_a_position() {
    let dir = paths::tempdir();
    let policy = dir.path().join("p.toml");
    let glob = format!("{}b{}", "{a,".repeat(1000), "}".repeat(1000));
    std::fs::write(
        &policy,
        format!(
            "name = \"t\"\ndescription = \"t\"\nextends = \"default\"\n[[waiver]]\n\
             rule = \"pe-nx-compat\"\npath = \"{glob}\"\nreason = \"x\"\n"
        ),
    )
    .unwrap();
    let o = bingate_within(LIMIT, &[&"policy", &"validate", &policy]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("p.toml:6:9: error: `path`: invalid glob"),
        "{}",
        text(&o)
    );
    let o = bingate_within(
        LIMIT,
        &[&"check", &"--policy", &policy, &corpus("pe/x64.dll")],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = bingate_within(
        LIMIT,
        &[&"check", &"--exclude", &glob, &corpus("pe/x64.dll")],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--exclude: invalid glob"), "{}", text(&o));
}

/// The default policy denies a signature that does not verify: a PE whose gap bytes changed after
/// signing, and one whose certificate table was cut off. Unsigned stays a warn.
#[test]
fn the_default_gate_denies_a_tampered_signed_file() {
    for rel in [
        "integrity/gap-after-headers-tampered.exe",
        "signed/tampered-section.exe",
        "signed/truncated-table.exe",
    ] {
        let o = bingate_within(LIMIT, &[&"check", &corpus(rel)]);
        assert_eq!(o.status.code(), Some(1), "{rel}: {}", text(&o));
        assert!(
            text(&o).contains("deny   pe-signature-valid"),
            "{rel}: {}",
            text(&o)
        );
    }
    let o = bingate_within(LIMIT, &[&"check", &corpus("signed/unsigned.exe")]);
    assert!(text(&o).contains("warn   pe-signed"), "{}", text(&o));
    assert!(
        !text(&o).contains("deny   pe-signature-valid"),
        "{}",
        text(&o)
    );
}

/// A gate that judged nothing fails (exit 1) and says why on stderr; `risk` on a file it cannot
/// parse fails too.
#[test]
fn a_run_that_judged_nothing_fails_and_says_so() {
    let dir = paths::tempdir();
    std::fs::write(dir.path().join("notes.txt"), b"no binaries here").unwrap();
    let o = bingate_within(LIMIT, &[&"check", &dir.path()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no PE or ELF file was found"),
        "{}",
        text(&o)
    );
    // A Windows-only policy on ELF files: no rule applies.
    let o = bingate_within(
        LIMIT,
        &[
            &"check",
            &"--policy",
            &"cis-windows-11",
            &corpus("elf/pie-default"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no rule of policy `cis-windows-11` applied"),
        "{}",
        text(&o)
    );
    // risk on a truncated PE: no estimate, exit 1.
    let bad = dir.path().join("bad.exe");
    let data = std::fs::read(corpus("pe/x64-default.exe")).unwrap();
    std::fs::write(&bad, &data[..0x90]).unwrap();
    let o = bingate_within(LIMIT, &[&"risk", &bad]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

/// A file name with an ESC sequence, a carriage return and a right-to-left override is shown
/// escaped by every human renderer, and exactly in JSON.
#[test]
fn names_from_files_are_escaped_in_human_output() {
    let dir = paths::tempdir();
    let name = "evil\u{1b}[2J\r\u{202e}exe.txt.exe";
    let path = dir.path().join(name);
    std::fs::copy(corpus("pe/x64-default.exe"), &path).unwrap();
    for cmd in [&["check", "--no-policy"][..], &["verify"], &["risk"]] {
        let mut a: Vec<&dyn AsRef<std::ffi::OsStr>> = cmd.iter().map(|s| s as _).collect();
        a.push(&path);
        let o = bingate_within(LIMIT, &a);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            !out.contains('\u{1b}') && !out.contains('\r') && !out.contains('\u{202e}'),
            "{cmd:?}: {out:?}"
        );
        assert!(
            out.contains("evil\\u{1b}[2J\\r\\u{202e}exe.txt.exe"),
            "{cmd:?}: {out}"
        );
    }
    let o = bingate_within(
        LIMIT,
        &[&"check", &"--no-policy", &"--format", &"json", &path],
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        doc["files"][0]["path"].as_str().unwrap().ends_with(name),
        "{}",
        doc["files"][0]["path"]
    );
}

/// `--follow-symlinks` on a tree with a loop (Debian's `/usr/bin/X11 -> .`) skips the loop with a
/// note and examines the rest.
#[test]
fn a_symlink_loop_is_skipped_not_an_error() {
    let dir = paths::tempdir();
    std::fs::copy(corpus("pe/x64-default.exe"), dir.path().join("a.exe")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("X11")).unwrap();
    let o = bingate_within(
        LIMIT,
        &[
            &"check",
            &"--no-policy",
            &"--follow-symlinks",
            &"--format",
            &"json",
            &dir.path(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["summary"]["files"], 1, "{doc}");
    let skipped = doc["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["reason"] == "symlink-loop" && s["path"].as_str().unwrap().ends_with("X11")),
        "{skipped:?}"
    );
}

/// `--output`: `-` is stdout; a missing directory is an error naming the output path (nothing is
/// created); the report gets the umask's mode, not the temporary file's 0600.
#[test]
fn output_dash_missing_directories_and_mode() {
    let dir = paths::tempdir();
    let dll = corpus("pe/x64.dll");
    let o = bingate_within(LIMIT, &[&"check", &"--no-policy", &"-o", &"-", &dll]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 file examined"));
    let nested = dir.path().join("no/such/dir/report.json");
    let o = bingate_within(LIMIT, &[&"check", &"--no-policy", &"-o", &nested, &dll]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("report.json: the directory"),
        "{}",
        text(&o)
    );
    assert!(!dir.path().join("no").exists());
    let report = dir.path().join("report.json");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 022 && exec {} check --no-policy --format json -o {} {}",
            run::EXE,
            report.display(),
            dll.display()
        ))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let mode = std::fs::metadata(&report).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "{mode:o}");
}

/// With stdout and stderr on the same terminal (`script` gives both one pty), the progress bar is
/// not drawn: its carriage returns would interleave with the report. With the report in a file,
/// it is.
#[test]
fn the_progress_bar_never_shares_the_terminal_with_the_report() {
    // script (util-linux)
    if !interop::require("script") {
        return;
    }
    let dir = paths::tempdir();
    let tree = dir.path().join("many");
    std::fs::create_dir(&tree).unwrap();
    for i in 0..320 {
        std::fs::hard_link(corpus("pe/x64.dll"), tree.join(format!("f{i}.dll"))).unwrap();
    }
    let run = |extra: &str| {
        let cmd = format!("{} check --no-policy {extra} {}", run::EXE, tree.display());
        let o = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let shared = run("");
    assert!(shared.contains("320 files examined"), "{shared}");
    assert!(
        !shared.contains("files checked so far"),
        "progress drawn over the report"
    );
    let report = dir.path().join("report.txt");
    let separate = run(&format!("-o {}", report.display()));
    assert!(separate.contains("320 files checked so far"), "{separate}");
}

/// SIGTERM (or SIGINT) during signing leaves no temporary file: the signer is held waiting for a
/// loopback "TSA" that accepts and never answers, then terminated.
#[test]
fn a_signal_during_signing_leaves_no_temporary_file() {
    use std::io::Read as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept the two runs' connections and hold each, reading, until its client goes away
    // (bounded). The listener lives until both were accepted or 30 s passed: a refused
    // connection would make the signer fail at once, and its temporary file could come and go
    // between two looks. A run killed before it reached the "TSA" never connects, so the accept
    // loop polls with a deadline instead of blocking (the test always ends).
    listener.set_nonblocking(true).unwrap();
    let server = std::thread::spawn(move || {
        let mut held = Vec::new();
        let start = Instant::now();
        while held.len() < 2 && start.elapsed() < Duration::from_secs(30) {
            match listener.accept() {
                Ok((mut s, _)) => {
                    let _ = s.set_nonblocking(false);
                    held.push(std::thread::spawn(move || {
                        let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
                        let mut buf = [0u8; 4096];
                        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
                    }));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        held
    });
    let dir = paths::tempdir();
    let pki = corpus("pki");
    for signal in ["-TERM", "-INT"] {
        let out = dir.path().join("signed");
        let mut child = run::command()
            .arg("sign")
            .arg("elf")
            .arg("--key")
            .arg(pki.join("leaf-rsa.key"))
            .arg("--cert")
            .arg(pki.join("leaf-rsa.pem"))
            .arg("--timestamp-url")
            .arg(format!("http://{addr}/"))
            .arg("--output")
            .arg(&out)
            .arg(corpus("elf/pie-default"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let temp = || {
            std::fs::read_dir(dir.path())
                .unwrap()
                .filter_map(|e| e.ok())
                .any(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with(".bingate-sign-")
                })
        };
        let start = Instant::now();
        while !temp() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(temp(), "the temporary output never appeared");
        // The shell's builtin `kill`: no dependency on procps.
        let ok = Command::new("sh")
            .arg("-c")
            .arg(format!("kill {signal} {}", child.id()))
            .status()
            .unwrap();
        assert!(ok.success());
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(start.elapsed() < LIMIT, "bingate ignored {signal}");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(130), "{signal}: {status:?}");
        assert!(!temp(), "{signal}: a temporary file was left behind");
        assert!(!out.exists());
    }
    for h in server.join().unwrap() {
        let _ = h.join();
    }
}

/// Errors name the thing: no `bingate:0:0` on an unreadable policy, `sign elf` on a PE says it is
/// a PE, `verify` on a missing path is an I/O error (not MALFORMED), truncated PE headers name
/// the structure instead of goblin's "type is too big".
#[test]
fn errors_name_the_thing() {
    let o = bingate_within(
        LIMIT,
        &[
            &"check",
            &"--policy",
            &"/nonexistent/p.toml",
            &corpus("pe/x64.dll"),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!text(&o).contains(":0:0"), "{}", text(&o));
    assert!(
        text(&o).contains("cannot read policy /nonexistent/p.toml"),
        "{}",
        text(&o)
    );
    let dir = paths::tempdir();
    let o = sign_elf(None, &corpus("pe/x64.dll"), &dir.path().join("out"));
    assert!(text(&o).contains("is a PE file"), "{}", text(&o));
    let o = bingate_within(LIMIT, &[&"verify", &dir.path().join("missing.exe")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!text(&o).contains("MALFORMED"), "{}", text(&o));
    let data = std::fs::read(corpus("pe/x64-default.exe")).unwrap();
    let cut = dir.path().join("cut.exe");
    std::fs::write(&cut, &data[..0x100]).unwrap();
    let o = bingate_within(LIMIT, &[&"check", &"--no-policy", &cut]);
    assert!(
        text(&o).contains("truncated PE optional header"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("too big"), "{}", text(&o));
}

/// Unsigned companions in a big directory: the evidence counts all of them and names five; the
/// per-file work no longer copies the directory's whole list (quadratic before: 40,000 files in
/// one directory took 204 s).
#[test]
fn unsigned_companions_are_counted_not_copied() {
    let dir = paths::tempdir();
    for i in 0..2000 {
        std::fs::hard_link(
            corpus("pe/x64.dll"),
            dir.path().join(format!("u{i:04}.dll")),
        )
        .unwrap();
    }
    for i in 0..50 {
        std::fs::hard_link(
            corpus("signed/valid-rsa.exe"),
            dir.path().join(format!("s{i:02}.exe")),
        )
        .unwrap();
    }
    let o = bingate_within(LIMIT, &[&"risk", &"--format", &"json", &dir.path()]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 2050);
    let signed = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("s00.exe"))
        .unwrap();
    let ev = signed["risk"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "unsigned-companions")
        .unwrap();
    let detail = ev["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("2000 unsigned PE files beside it: u0000.dll, u0001.dll"),
        "{detail}"
    );
    assert!(detail.ends_with("and 1995 more"), "{detail}");
}

#[test]
fn a_file_truncated_while_scanned_is_an_error_for_that_file_never_sigbus() {
    use std::os::unix::fs::FileExt;
    use std::os::unix::process::ExitStatusExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = paths::tempdir();
    let path = dir.path().join("shrinking");
    // An ELF of 32 MiB: long enough to be read while another process cuts it to one page and
    // writes it back, over and over (with a mapped reader, most runs died of SIGBUS).
    let mut data = std::fs::read(corpus("elf/canary")).unwrap();
    data.extend((0..32u32 << 20).map(|i| (i.wrapping_mul(7) | 1) as u8));
    std::fs::write(&path, &data).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let (stop, path) = (Arc::clone(&stop), path.clone());
        std::thread::spawn(move || {
            let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            while !stop.load(Ordering::Relaxed) {
                f.set_len(4096).unwrap();
                std::thread::sleep(Duration::from_millis(2));
                f.write_all_at(&data, 0).unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let (mut changed, mut runs) = (0, 0);
    let start = Instant::now();
    while runs < 25 && start.elapsed() < Duration::from_secs(30) {
        let o = bingate_within(LIMIT, &[&"check", &"--format", &"json", &path]);
        assert_eq!(o.status.signal(), None, "killed by a signal: {}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("no JSON report ({e}): {}", text(&o)));
        let files = v["files"].as_array().unwrap();
        assert_eq!(files.len(), 1, "{}", text(&o));
        let f = &files[0];
        // Either a consistent copy was read (facts or a parse error of what was there), or the
        // change was seen and named.
        let err = f["error"].as_str().unwrap_or_default();
        if err.contains("while being read") {
            changed += 1;
        } else {
            assert!(f["sha256"].is_string(), "{f}");
        }
        runs += 1;
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
    eprintln!("{runs} runs, {changed} saw the file change");
}

/// Pseudo-random bytes (xorshift), the same on every run.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
fn get16(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}
fn get32(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}
fn get64(b: &[u8], at: usize) -> usize {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) as usize
}

/// corpus/pe/x64-default.exe's headers with `n` executable sections that all cover the same
/// `data_len` bytes of noise.
fn pe_with_overlapping_sections(n: usize, data_len: usize) -> Vec<u8> {
    let src = std::fs::read(corpus("pe/x64-default.exe")).unwrap();
    let pe = get32(&src, 0x3c);
    let table = pe + 24 + get16(&src, pe + 20);
    let headers = (table + 40 * n).next_multiple_of(0x200);
    let mut out = src[..table].to_vec();
    put16(&mut out, pe + 6, n as u16);
    put32(&mut out, pe + 24 + 60, headers as u32); // SizeOfHeaders
    for i in 0..n {
        let mut sh = [0u8; 40];
        sh[..8].copy_from_slice(format!(".s{i:05}\0\0").as_bytes().get(..8).unwrap());
        put32(&mut sh, 8, data_len as u32); // VirtualSize
        put32(&mut sh, 12, 0x1000); // VirtualAddress
        put32(&mut sh, 16, data_len as u32); // SizeOfRawData
        put32(&mut sh, 20, headers as u32); // PointerToRawData
        put32(&mut sh, 36, 0x6000_0020); // code, execute, read
        out.extend_from_slice(&sh);
    }
    out.resize(headers, 0);
    out.extend(noise(data_len, 7));
    out
}

#[test]
fn thousands_of_pe_sections_over_the_same_bytes_cost_one_pass() {
    let dir = paths::tempdir();
    let path = dir.path().join("overlap.exe");
    // 4,000 sections over the same 4 MiB: 16 GB of entropy counting before (6 s in release).
    std::fs::write(&path, pe_with_overlapping_sections(4000, 4 << 20)).unwrap();
    let o = bingate_within(HEAVY, &[&"risk", &"--format", &"json", &path]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = v.to_string();
    // Every section's entropy is that of the same noise, and the evidence stays readable.
    assert!(
        text.contains("whole file at 7.9") || text.contains("whole file at 8.00"),
        "{text:.2000}"
    );
    assert!(
        text.contains("executable section .s00000 at 8.00 bits/byte"),
        "{text:.2000}"
    );
    assert!(text.contains("and 3993 more"), "{text:.2000}");
}

/// corpus/elf/canary with `n` extra PROGBITS sections over `data_len` bytes of noise: at the
/// same offset and size when `distinct` is false, each one byte further and shorter when true.
fn elf_with_overlapping_sections(n: usize, data_len: usize, distinct: bool) -> Vec<u8> {
    let src = std::fs::read(corpus("elf/canary")).unwrap();
    let (shoff, shentsize, shnum, shstrndx) = (
        get64(&src, 0x28),
        get16(&src, 0x3a),
        get16(&src, 0x3c),
        get16(&src, 0x3e),
    );
    let mut out = src.clone();
    out.resize(out.len().next_multiple_of(16), 0);
    let base = out.len();
    out.extend(noise(data_len, 11));
    // A new section-name table: the old names, then one per new section.
    let names_hdr = shoff + shstrndx * shentsize;
    let (names_off, names_len) = (get64(&src, names_hdr + 24), get64(&src, names_hdr + 32));
    let mut names = src[names_off..names_off + names_len].to_vec();
    let mut name_at = Vec::new();
    for i in 0..n {
        name_at.push(names.len());
        names.extend_from_slice(format!(".o{i:05}\0").as_bytes());
    }
    let new_names = out.len();
    out.extend_from_slice(&names);
    out.resize(out.len().next_multiple_of(8), 0);
    let new_shoff = out.len();
    let mut table = src[shoff..shoff + shentsize * shnum].to_vec();
    put64(&mut table, shstrndx * shentsize + 24, new_names as u64);
    put64(&mut table, shstrndx * shentsize + 32, names.len() as u64);
    for (i, &name) in name_at.iter().enumerate() {
        let shift = if distinct { i } else { 0 };
        let mut sh = [0u8; 64];
        put32(&mut sh, 0, name as u32);
        put32(&mut sh, 4, 1); // SHT_PROGBITS
        put64(&mut sh, 24, (base + shift) as u64);
        put64(&mut sh, 32, (data_len - shift) as u64);
        put64(&mut sh, 48, 1);
        table.extend_from_slice(&sh);
    }
    out.extend_from_slice(&table);
    put64(&mut out, 0x28, new_shoff as u64);
    put16(&mut out, 0x3c, (shnum + n) as u16);
    out
}

#[test]
fn thousands_of_elf_sections_over_the_same_bytes_are_hashed_once_or_refused() {
    let dir = paths::tempdir();
    let pki = corpus("pki");
    // 20,000 sections over the same 1 MiB: each range is hashed once (20 GB of hashing before).
    let same = dir.path().join("same.elf");
    std::fs::write(&same, elf_with_overlapping_sections(20_000, 1 << 20, false)).unwrap();
    let signed = dir.path().join("signed.elf");
    let o = sign_elf(None, &same, &signed);
    assert!(o.status.success(), "{}", text(&o));
    // The digests match (untrusted only because the test chain is not passed along).
    let o = bingate_within(
        LIMIT,
        &[&"verify", &"--trust", &pki.join("root.pem"), &signed],
    );
    assert!(text(&o).starts_with("UNTRUSTED"), "{}", text(&o));
    // 20,000 distinct overlapping ranges: refused, naming the budget, before any hashing.
    let distinct = dir.path().join("distinct.elf");
    std::fs::write(
        &distinct,
        elf_with_overlapping_sections(20_000, 1 << 20, true),
    )
    .unwrap();
    let o = sign_elf(None, &distinct, &dir.path().join("never.elf"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("the sections overlap"), "{}", text(&o));
    assert!(!dir.path().join("never.elf").exists());
    // The signed file's section table rewritten to distinct ranges: the verdict (whole-file
    // digest) is invalid, and the change report stops comparing sections at the budget.
    let mut bytes = std::fs::read(&signed).unwrap();
    let (shoff, shnum) = (get64(&bytes, 0x28), get16(&bytes, 0x3c));
    let mut k = 0;
    for i in 0..shnum {
        let at = shoff + i * 64;
        if get64(&bytes, at + 32) == 1 << 20 {
            let off = get64(&bytes, at + 24);
            put64(&mut bytes, at + 24, (off + k) as u64);
            put64(&mut bytes, at + 32, ((1 << 20) - k) as u64);
            k += 1;
        }
    }
    assert_eq!(k, 20_000);
    let hostile = dir.path().join("hostile.elf");
    std::fs::write(&hostile, &bytes).unwrap();
    let o = bingate_within(
        HEAVY,
        &[&"verify", &"--trust", &pki.join("root.pem"), &hostile],
    );
    let t = text(&o);
    assert!(t.contains("INVALID"), "{t:.2000}");
    assert!(t.contains("sections not compared"), "{t:.2000}");
}

#[test]
fn fifty_thousand_policy_rules_load_in_linear_time() {
    let dir = paths::tempdir();
    let mut good = String::from("name = \"big\"\ndescription = \"50,000 rules\"\n");
    for i in 0..50_000 {
        good.push_str(&format!(
            "[[rule]]\nid = \"r{i}\"\ndescription = \"d\"\nlevel = \"warn\"\napplies = {{ format = \"pe\" }}\ncheck = {{ named = \"pe-aslr\" }}\nrationale = \"r\"\n[rule.remediation]\ndefault = \"d\"\n"
        ));
    }
    let path = dir.path().join("big.toml");
    std::fs::write(&path, &good).unwrap();
    let o = bingate_within(HEAVY, &[&"policy", &"validate", &path]);
    assert!(o.status.success(), "{:.2000}", text(&o));
    assert!(text(&o).contains("50000 rules"), "{:.2000}", text(&o));
    let o = bingate_within(
        HEAVY,
        &[&"check", &"--policy", &path, &corpus("pe/x64-default.exe")],
    );
    assert_eq!(o.status.code(), Some(0), "{:.2000}", text(&o));
    // 50,000 mistakes (an unknown format, and overrides of unknown rules): every one reported
    // with its position (7 MB of text; each position used to be counted from the start).
    let mut bad = good.replace("format = \"pe\"", "format = \"pf\"");
    for i in 0..50_000 {
        bad.push_str(&format!(
            "[[override]]\nrule = \"x{i}\"\nlevel = \"info\"\n"
        ));
    }
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, &bad).unwrap();
    let o = bingate_within(HEAVY, &[&"policy", &"validate", &path]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let lines = bad.lines().count();
    assert!(
        err.contains(&format!(
            "bad.toml:{}:9: error: [[override]] names unknown rule `x49999`",
            lines - 1
        )),
        "{:.3000}",
        &err[err.len().saturating_sub(3000)..]
    );
}

fn json_of(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("no JSON ({e}): {}", text(o)))
}

/// The one file report of `bingate check --format json PATH`.
fn checked(path: &Path) -> serde_json::Value {
    let o = bingate_within(LIMIT, &[&"check", &"--format", &"json", &path]);
    json_of(&o)["files"][0].clone()
}

#[test]
fn damaged_optional_pe_structures_are_warnings_and_the_facts_stay() {
    let dir = paths::tempdir();
    let src = std::fs::read(corpus("pe/x64-default.exe")).unwrap();
    let pe = get32(&src, 0x3c);
    let opt = pe + 24;
    let table = opt + get16(&src, pe + 20);
    let pristine = checked(&corpus("pe/x64-default.exe"));
    assert_eq!(pristine["warnings"], serde_json::json!([]));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "nrva17.exe",
            {
                let mut d = src.clone();
                put32(&mut d, opt + 108, 17);
                d
            },
            "NumberOfRvaAndSizes is 17",
        ),
        (
            "nrva-huge.exe",
            {
                let mut d = src.clone();
                put32(&mut d, opt + 108, 0xffff_ffff);
                d
            },
            "NumberOfRvaAndSizes is 4294967295",
        ),
        (
            "slash-name.exe",
            {
                let mut d = src.clone();
                d[table..table + 8].copy_from_slice(b"/abc\0\0\0\0");
                d
            },
            "section names unreadable",
        ),
        (
            "stray-rich.exe",
            {
                // "Rich" and a key in the DOS stub, with no DanS before it.
                let mut d = src.clone();
                d[0x70..0x78].copy_from_slice(b"Rich\x12\x34\x56\x78");
                d
            },
            "Rich header unreadable",
        ),
    ];
    for (name, bytes, warning) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let f = checked(&path);
        assert_eq!(f["error"], serde_json::Value::Null, "{name}: {f}");
        assert!(f["warnings"].to_string().contains(warning), "{name}: {f}");
        // Every hardening fact is still there, and the same as the pristine file's (but the
        // computed checksum: the bytes changed).
        let without_checksum = |v: &serde_json::Value| {
            let mut v = v.clone();
            v["checksum"]["computed"] = serde_json::Value::Null;
            v
        };
        assert_eq!(
            without_checksum(&f["hardening"]),
            without_checksum(&pristine["hardening"]),
            "{name}"
        );
        assert_eq!(f["kind"], pristine["kind"], "{name}");
    }
}

/// A 64-bit ELF file whose section header table is gone, three ways: `zeroed` (e_shoff,
/// e_shnum and e_shstrndx 0), `past-end` (e_shoff past the end of the file), `cut` (the table's
/// bytes cut out of the file, whatever follows it moving up: the file ends where the table was,
/// unless something followed it, as a `.bingate.sig` signature does).
fn elf_without_section_table(src: &[u8], how: &str) -> Vec<u8> {
    let shoff = get64(src, 0x28);
    let mut d = src.to_vec();
    match how {
        "zeroed" => {
            put64(&mut d, 0x28, 0);
            put16(&mut d, 0x3c, 0);
            put16(&mut d, 0x3e, 0);
        }
        "past-end" => put64(&mut d, 0x28, (src.len() + 4096) as u64),
        _ => {
            let table = get16(src, 0x3a) * get16(src, 0x3c);
            d.drain(shoff..(shoff + table).min(src.len()));
        }
    }
    d
}

#[test]
fn an_elf_without_a_readable_section_table_keeps_its_facts() {
    let dir = paths::tempdir();
    for fixture in ["canary", "fortify", "full-relro"] {
        let src = std::fs::read(corpus(format!("elf/{fixture}"))).unwrap();
        let pristine = checked(&corpus(format!("elf/{fixture}")));
        for how in ["zeroed", "past-end", "cut"] {
            let path = dir.path().join(format!("{fixture}-{how}"));
            std::fs::write(&path, elf_without_section_table(&src, how)).unwrap();
            let f = checked(&path);
            assert_eq!(f["error"], serde_json::Value::Null, "{fixture} {how}: {f}");
            let (h, p) = (&f["hardening"], &pristine["hardening"]);
            // Canary and FORTIFY come from DT_SYMTAB/DT_STRTAB when the sections are gone.
            for key in [
                "pie",
                "nx",
                "relro",
                "bind_now",
                "canary",
                "fortify",
                "interpreter",
            ] {
                assert_eq!(h[key], p[key], "{fixture} {how}: {key}");
            }
            if how != "zeroed" {
                assert!(
                    f["warnings"]
                        .to_string()
                        .contains("section headers ignored"),
                    "{fixture} {how}: {f}"
                );
            }
        }
    }
}

/// corpus/elf/canary as `objcopy --only-keep-debug` would leave it: every allocated section
/// other than notes becomes SHT_NOBITS.
fn as_debug_file(src: &[u8]) -> Vec<u8> {
    let (shoff, shnum) = (get64(src, 0x28), get16(src, 0x3c));
    let mut d = src.to_vec();
    for i in 0..shnum {
        let at = shoff + i * 64;
        let (sh_type, flags) = (get32(&d, at + 4), get64(&d, at + 8));
        if flags & 2 != 0 && sh_type != 7 {
            put32(&mut d, at + 4, 8);
        }
    }
    d
}

#[test]
fn separate_debug_files_are_recognised_and_not_judged() {
    let dir = paths::tempdir();
    let path = dir.path().join("canary.debug");
    std::fs::write(
        &path,
        as_debug_file(&std::fs::read(corpus("elf/canary")).unwrap()),
    )
    .unwrap();
    let f = checked(&path);
    assert_eq!(f["kind"], "debug-info", "{f}");
    let findings = f["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for x in findings {
        assert_eq!(x["status"], "not-applicable", "{x}");
        assert!(
            x["message"].as_str().unwrap().contains("debug-info file"),
            "{x}"
        );
    }
    let o = bingate_within(LIMIT, &[&"check", &path]);
    let t = text(&o);
    assert!(t.contains("DEBUG "), "{t}");
    assert!(t.contains("nothing was judged"), "{t}");
    // The real thing, where the machine has it.
    let system = Path::new("/usr/lib/debug/.build-id");
    if system.is_dir() {
        let o = bingate_within(HEAVY, &[&"check", &"--format", &"json", &system]);
        for f in json_of(&o)["files"].as_array().unwrap() {
            assert_eq!(f["kind"], "debug-info", "{}", f["path"]);
        }
    }
}

#[test]
fn a_signed_elf_whose_section_table_cannot_be_read_is_malformed_not_unsigned() {
    let dir = paths::tempdir();
    let signed = dir.path().join("signed");
    let o = sign_elf(None, &corpus("elf/canary"), &signed);
    assert!(o.status.success(), "{}", text(&o));
    let bytes = std::fs::read(&signed).unwrap();
    for how in ["zeroed", "past-end", "cut"] {
        let path = dir.path().join(how);
        std::fs::write(&path, elf_without_section_table(&bytes, how)).unwrap();
        let o = bingate_within(LIMIT, &[&"verify", &path]);
        let t = text(&o);
        assert!(t.starts_with("MALFORMED"), "{how}: {t}");
        assert!(
            t.contains(".bingate.sig signature manifest is at offset"),
            "{how}: {t}"
        );
        // And the default gate denies it.
        let f = checked(&path);
        let deny = f["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["rule"] == "elf-signature-valid")
            .unwrap()
            .clone();
        assert_eq!(deny["status"], "fail", "{how}: {deny}");
        assert_eq!(deny["level"], "deny", "{how}: {deny}");
    }
    // An unsigned file without a section table stays unsigned.
    let path = dir.path().join("unsigned-zeroed");
    let src = std::fs::read(corpus("elf/canary")).unwrap();
    std::fs::write(&path, elf_without_section_table(&src, "zeroed")).unwrap();
    let o = bingate_within(LIMIT, &[&"verify", &path]);
    assert!(text(&o).starts_with("UNSIGNED"), "{}", text(&o));
}

#[test]
fn output_errors_name_the_output_not_the_temporary_file() {
    let dir = paths::tempdir();
    // No file can be created in /proc (root included): the temporary file fails.
    let o = bingate_within(
        LIMIT,
        &[
            &"check",
            &"--output",
            &"/proc/bingate-report.json",
            &corpus("pe/x64.dll"),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/proc/bingate-report.json: cannot create a file in /proc: "),
        "{err}"
    );
    assert!(!err.contains(".bingate-"), "{err}");
    let o = sign_elf(
        None,
        &corpus("elf/canary"),
        Path::new("/proc/bingate-signed"),
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains("/proc/bingate-signed: cannot create a file in /proc: "),
        "{err}"
    );
    assert!(!err.contains(".bingate-"), "{err}");
    // A full device: the write error names it.
    let o = bingate_within(
        LIMIT,
        &[&"check", &"--output", &"/dev/full", &corpus("pe/x64.dll")],
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(err.contains("/dev/full: No space left on device"), "{err}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn names_in_error_messages_on_stderr_are_escaped() {
    let evil = "/tmp/\u{1b}[31mevil\rname\u{202e}.toml";
    let o = bingate_within(
        LIMIT,
        &[&"check", &"--policy", &evil, &corpus("pe/x64.dll")],
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains("\\u{1b}[31mevil\\rname\\u{202e}.toml"),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}') && !err.contains('\r') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    let o = sign_elf(None, Path::new(evil), Path::new("/tmp/never-written.elf"));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!err.contains('\u{1b}') && !err.contains('\r'), "{err:?}");
    // A policy file whose name and text carry an escape: the diagnostics escape both.
    let dir = paths::tempdir();
    let p = dir.path().join("p\u{1b}]0;title\u{7}.toml");
    std::fs::write(&p, "name = \"x\u{1b}[2J\"\nbogus = 1\n").unwrap();
    let o = bingate_within(LIMIT, &[&"policy", &"validate", &p]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
}
