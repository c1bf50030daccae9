//! The SmartScreen-risk estimate on the committed fixtures (corpus/risk/, built by
//! corpus/recipes/build-risk.sh and described in corpus/risk/expected.json from independent
//! tools): the levels the issue asks for, the evidence each fixture must produce, policy
//! overrides, Mark of the Web sidecars, unsigned companions, and malformed resources.

mod common;

use std::path::PathBuf;

use common::paths;
use common::run::bingate;
use serde_json::Value;

const TIME: &str = "2026-11-22T00:00:00Z";

/// `bingate risk --format json` over `paths`; (exit code, file entries by path).
fn risk_json(extra: &[&str], paths: &[&str]) -> (i32, Vec<Value>) {
    let mut args = vec!["risk", "--format", "json", "--time", TIME];
    args.extend_from_slice(extra);
    args.extend_from_slice(paths);
    let out = bingate(&args);
    assert!(
        out.stderr.is_empty() || out.status.code() != Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    });
    (
        out.status.code().unwrap_or(-1),
        doc["files"].as_array().cloned().unwrap_or_default(),
    )
}

fn estimate_of(extra: &[&str], path: &str) -> Value {
    let (_, files) = risk_json(extra, &[path]);
    files
        .into_iter()
        .find(|f| f["path"] == path)
        .and_then(|f| f.get("risk").cloned())
        .unwrap_or_else(|| panic!("{path}: no risk object"))
}

fn ids(r: &Value) -> Vec<String> {
    r["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

fn evidence<'a>(r: &'a Value, id: &str) -> Option<&'a Value> {
    r["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
}

const TRUST_TEST_ROOT: &[&str] = &["--trust", "corpus/pki/root.pem"];

#[test]
fn unsigned_mingw_executables_are_high() {
    for path in [
        "corpus/pe/x64-default.exe",
        "corpus/pe/x86-default.exe",
        "corpus/risk/app.exe",
    ] {
        let r = estimate_of(&[], path);
        assert_eq!(r["level"], "high", "{path}: {r}");
        assert_eq!(ids(&r)[0], "unsigned", "{path}: heaviest evidence first");
        assert!(
            r["outcome"]
                .as_str()
                .unwrap()
                .starts_with("Strong block expected: the file is unsigned"),
            "{path}"
        );
    }
}

#[test]
fn test_pki_signatures_with_an_untrusted_root_are_high() {
    // The test root is not trusted by default: both the CA-issued and the self-signed leaf.
    for path in [
        "corpus/risk/app-signed.exe",
        "corpus/risk/app-selfsigned.exe",
        "corpus/signed/valid-rsa.exe",
    ] {
        let r = estimate_of(&[], path);
        assert_eq!(r["level"], "high", "{path}: {r}");
        assert!(ids(&r).contains(&"untrusted-root".to_owned()), "{path}");
        assert!(
            r["outcome"]
                .as_str()
                .unwrap()
                .contains("does not chain to a root Windows trusts"),
            "{path}"
        );
    }
    // Self-signed stays untrusted even when the test root is trusted.
    let r = estimate_of(TRUST_TEST_ROOT, "corpus/risk/app-selfsigned.exe");
    assert_eq!(r["level"], "high");
    assert!(ids(&r).contains(&"untrusted-root".to_owned()));
}

#[test]
fn valid_signed_timestamped_file_with_version_info_is_low_by_the_documented_rule() {
    let r = estimate_of(TRUST_TEST_ROOT, "corpus/risk/app-signed.exe");
    // Documented rule (docs/smartscreen.md): below 15 is low. The only evidence is the
    // RSA-2048 test key on a certificate issued in 2025 (weak-key 10).
    assert_eq!(r["level"], "low", "{r}");
    assert_eq!(r["score"], 10);
    assert_eq!(ids(&r), ["weak-key"]);
    let outcome = r["outcome"].as_str().unwrap();
    assert!(
        outcome.starts_with("Warning naming 'Bingate Test signer RSA' expected until"),
        "{outcome}"
    );
    // Honesty: an offline estimate that never promises a pass.
    assert!(r["basis"].as_str().unwrap().starts_with("offline estimate"));
    assert!(!outcome.contains("will pass") && !outcome.contains("no warning"));
}

#[test]
fn a_missing_timestamp_is_evidence() {
    let r = estimate_of(TRUST_TEST_ROOT, "corpus/risk/app-signed-no-ts.exe");
    let e = evidence(&r, "no-timestamp").expect("no-timestamp");
    assert_eq!(e["weight"], 15);
    assert_eq!(r["level"], "medium", "{r}");
}

#[test]
fn packed_looking_file_has_packer_and_entropy_evidence() {
    let r = estimate_of(&[], "corpus/risk/packed.exe");
    let packer = evidence(&r, "packer").expect("packer evidence");
    let detail = packer["detail"].as_str().unwrap();
    for marker in ["section UPX0", "section UPX1", "UPX! magic at 0x3e0"] {
        assert!(detail.contains(marker), "{detail}");
    }
    let entropy = evidence(&r, "high-entropy").expect("high-entropy evidence");
    // corpus/risk/expected.json: UPX1 entropy 7.9889 (python).
    assert!(
        entropy["detail"]
            .as_str()
            .unwrap()
            .contains("executable section UPX1 at 7.99 bits/byte"),
        "{entropy}"
    );
    assert!(r["outcome"].as_str().unwrap().contains("packer markers"));
    // Plain compiler output carries no packer evidence.
    for path in [
        "corpus/risk/app.exe",
        "corpus/pe/x64.dll",
        "corpus/public/esbuild.exe",
    ] {
        if paths::repo(path).exists() {
            let r = estimate_of(&[], path);
            assert!(evidence(&r, "packer").is_none(), "{path}");
            assert!(evidence(&r, "high-entropy").is_none(), "{path}");
        }
    }
}

#[test]
fn version_info_manifest_and_icon_are_read() {
    // app.exe carries all of them (expected.json): none of the metadata evidence appears.
    let r = estimate_of(&[], "corpus/risk/app.exe");
    for id in [
        "no-version-info",
        "no-manifest",
        "no-icon",
        "resource-malformed",
    ] {
        assert!(evidence(&r, id).is_none(), "{id}: {r}");
    }
    // A GUI program without resources gets all three.
    let r = estimate_of(&[], "corpus/pe/x64-gui.exe");
    for id in ["no-version-info", "no-manifest", "no-icon"] {
        assert!(evidence(&r, id).is_some(), "{id}: {r}");
    }
}

#[test]
fn installer_names_on_32_bit_without_manifest() {
    let r = estimate_of(&[], "corpus/risk/setup.exe");
    let e = evidence(&r, "installer-detection").expect("installer-detection");
    assert!(e["detail"].as_str().unwrap().contains("'setup.exe'"));
    // The same program under a neutral name: no installer evidence.
    let dir = paths::tempdir();
    let tool = dir.path().join("tool.exe");
    std::fs::copy(paths::repo("corpus/risk/setup.exe"), &tool).unwrap();
    let r = estimate_of(&[], tool.to_str().unwrap());
    assert!(evidence(&r, "installer-detection").is_none());
    assert!(evidence(&r, "no-manifest").is_some());
}

#[test]
fn overlay_and_checksum_evidence() {
    let r = estimate_of(&[], "corpus/risk/overlay.exe");
    let e = evidence(&r, "overlay").expect("overlay");
    // expected.json: 4096 bytes appended at offset 17408 (0x4400).
    assert_eq!(
        e["detail"],
        "4096 bytes after the last section, from file offset 0x4400"
    );
    let c = evidence(&r, "bad-checksum").expect("stale checksum after appending");
    assert!(c["detail"].as_str().unwrap().contains("0x00010922"));
    // A signed file's certificate table is not an overlay.
    let r = estimate_of(TRUST_TEST_ROOT, "corpus/risk/app-signed.exe");
    assert!(evidence(&r, "overlay").is_none());
}

#[test]
fn malformed_resources_are_evidence_never_a_crash() {
    let cases = [
        ("corpus/risk/rsrc-cycle.exe", "cycle"),
        ("corpus/risk/rsrc-huge.exe", "65535 entries"),
        ("corpus/risk/rsrc-bad-data.exe", "not backed by file data"),
        ("corpus/risk/rsrc-bad-version.exe", "version"),
        ("corpus/risk/rsrc-bad-manifest.exe", "not well-formed XML"),
    ];
    for (path, words) in cases {
        let (code, files) = risk_json(&[], &[path]);
        assert_eq!(code, 1, "{path}: unsigned, so high; not a tool error");
        let r = &files[0]["risk"];
        let e = evidence(r, "resource-malformed").unwrap_or_else(|| panic!("{path}: {r}"));
        assert!(
            e["detail"].as_str().unwrap().contains(words),
            "{path}: {}",
            e["detail"]
        );
        // The rest of the report is intact.
        assert_eq!(files[0]["error"], Value::Null, "{path}");
    }
}

#[test]
fn unsigned_companions_in_a_directory_scan() {
    let dir = paths::tempdir();
    let copy = |from: &str, to: &str| {
        std::fs::copy(paths::repo(from), dir.path().join(to)).unwrap();
    };
    copy("corpus/risk/app-signed.exe", "app.exe");
    copy("corpus/pe/x64.dll", "helper.dll");
    copy("corpus/pe/x64-default.exe", "updater.exe");
    copy("corpus/risk/app-signed-no-ts.exe", "signed.dll");
    let d = dir.path().to_str().unwrap();
    let (_, files) = risk_json(TRUST_TEST_ROOT, &[d]);
    let app = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("/app.exe"))
        .unwrap();
    let e = evidence(&app["risk"], "unsigned-companions").expect("companions");
    assert_eq!(
        e["detail"],
        "2 unsigned PE files beside it: helper.dll, updater.exe"
    );
    // Unsigned files themselves get no companion evidence (they are high already).
    let updater = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("/updater.exe"))
        .unwrap();
    assert!(evidence(&updater["risk"], "unsigned-companions").is_none());
    // Companions are the files the walk examines: an excluded file and a symlink (not followed
    // unless asked) are not among them. `check --format json` carries the estimate.
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("helper.dll"), dir.path().join("link.dll")).unwrap();
    let companions_of_app = |extra: &[&str]| {
        let mut args = vec!["check", "--no-policy", "--format", "json", "--time", TIME];
        args.extend_from_slice(TRUST_TEST_ROOT);
        args.extend_from_slice(extra);
        args.push(d);
        let out = bingate(&args);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let app = doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with("/app.exe"))
            .cloned()
            .unwrap();
        evidence(&app["risk"], "unsigned-companions").expect("companions")["detail"].clone()
    };
    assert_eq!(
        companions_of_app(&["--exclude", "updater.exe"]),
        "1 unsigned PE file beside it: helper.dll"
    );
    #[cfg(unix)]
    assert_eq!(
        companions_of_app(&["--follow-symlinks"]),
        "3 unsigned PE files beside it: helper.dll, link.dll, updater.exe"
    );
    // Naming files one by one scans no directory: no companions, even for named neighbours.
    let one = dir.path().join("app.exe");
    let two = dir.path().join("updater.exe");
    let (_, files) = risk_json(
        TRUST_TEST_ROOT,
        &[one.to_str().unwrap(), two.to_str().unwrap()],
    );
    assert!(evidence(&files[0]["risk"], "unsigned-companions").is_none());
}

#[test]
fn mark_of_the_web_sidecar_is_reported() {
    let dir = paths::tempdir();
    let exe: PathBuf = dir.path().join("app.exe");
    std::fs::copy(paths::repo("corpus/risk/app.exe"), &exe).unwrap();
    std::fs::write(
        dir.path().join("app.exe:Zone.Identifier"),
        "[ZoneTransfer]\r\nZoneId=3\r\nReferrerUrl=https://example.com/download\r\nHostUrl=https://example.com/app.exe\r\n",
    )
    .unwrap();
    let (_, files) = risk_json(&[], &[dir.path().to_str().unwrap()]);
    // The sidecar itself is not a binary: only app.exe is estimated.
    assert_eq!(files.len(), 1);
    let r = &files[0]["risk"];
    let motw = &r["mark_of_the_web"];
    assert_eq!(motw["zone_id"], 3);
    assert_eq!(motw["zone"], "internet");
    assert_eq!(motw["host_url"], "https://example.com/app.exe");
    assert_eq!(motw["referrer_url"], "https://example.com/download");
    let e = evidence(r, "mark-of-the-web").expect("reported");
    assert_eq!(e["weight"], 0);
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("ZoneId=3 (internet)")
    );
    // Without a sidecar there is no mark.
    let r = estimate_of(&[], "corpus/risk/app.exe");
    assert!(r.get("mark_of_the_web").is_none());
}

#[test]
fn policy_risk_section_overrides_weights_and_thresholds() {
    let dir = paths::tempdir();
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        "name = \"p\"\ndescription = \"d\"\n[risk]\nweights = { unsigned = 10, no-icon = 0 }\nmedium = 5\nhigh = 60\n",
    )
    .unwrap();
    let p = policy.to_str().unwrap();
    let r = estimate_of(&["--policy", p], "corpus/pe/x64-gui.exe");
    // unsigned 10 + no-version-info 10 + no-manifest 5 + no-icon 0.
    assert_eq!(r["score"], 25, "{r}");
    assert_eq!(r["level"], "medium");
    assert_eq!(evidence(&r, "no-icon").unwrap()["weight"], 0);
    // Errors name the place and suggest the id.
    std::fs::write(
        &policy,
        "name = \"p\"\ndescription = \"d\"\n[risk]\nweights = { unsigend = 10 }\nmedium = 50\nhigh = 40\n",
    )
    .unwrap();
    let out = bingate(&["risk", "--policy", p, "corpus/pe/x64-gui.exe"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("p.toml:4:13: error: unknown evidence id `unsigend`"),
        "{err}"
    );
    assert!(err.contains("did you mean `unsigned`?"), "{err}");
    assert!(err.contains("medium (50) must be below high (40)"), "{err}");
}

#[test]
fn cis_windows_policies_fail_high_risk_executables() {
    for policy in ["cis-windows-11", "cis-windows-server-2022"] {
        let out = bingate(&[
            "check",
            "--format",
            "json",
            "--time",
            TIME,
            "--policy",
            policy,
            "--trust",
            "corpus/pki/root.pem",
            "corpus/risk/app.exe",
            "corpus/risk/app-signed.exe",
        ]);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let finding = |path: &str| {
            doc["files"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["path"] == path)
                .and_then(|f| {
                    f["findings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|x| x["rule"] == "smartscreen-risk")
                        .cloned()
                })
                .unwrap()
        };
        let bad = finding("corpus/risk/app.exe");
        assert_eq!(bad["status"], "fail", "{policy}");
        assert_eq!(bad["level"], "deny");
        assert!(
            bad["message"]
                .as_str()
                .unwrap()
                .starts_with("risk high (score 40/100)")
        );
        assert_eq!(
            finding("corpus/risk/app-signed.exe")["status"],
            "pass",
            "{policy}"
        );
    }
    // No estimate without verification: not applicable, never a pass.
    let out = bingate(&[
        "check",
        "--format",
        "json",
        "--no-verify",
        "--policy",
        "cis-windows-11",
        "corpus/risk/app.exe",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &doc["files"][0];
    assert!(f.get("risk").is_none());
    let finding = f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"] == "smartscreen-risk")
        .unwrap();
    assert_eq!(finding["status"], "not-applicable");
}

#[test]
fn human_output_leads_with_the_outcome_and_gives_fixes() {
    let out = bingate(&[
        "risk",
        "--color",
        "never",
        "--time",
        TIME,
        "corpus/risk/packed.exe",
    ]);
    assert_eq!(out.status.code(), Some(1), "high fails by default");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("HIGH   corpus/risk/packed.exe  (score "),
        "{text}"
    );
    assert!(lines[1].starts_with("  Strong block expected"), "{text}");
    assert!(text.contains("fix: do not pack with UPX"), "{text}");
    assert!(
        text.contains("fix: sign with a timestamp: signtool sign /fd SHA256 /tr"),
        "{text}"
    );
    assert!(text.contains("fix: add a VERSIONINFO"), "{text}");
    assert!(text.contains("Note: offline estimate"), "{text}");
    // --fail-on decides the exit code.
    let ok = bingate(&[
        "risk",
        "--time",
        TIME,
        "--trust",
        "corpus/pki/root.pem",
        "corpus/risk/app-signed.exe",
    ]);
    assert_eq!(ok.status.code(), Some(0));
    let strict = bingate(&[
        "risk",
        "--time",
        TIME,
        "--trust",
        "corpus/pki/root.pem",
        "--fail-on",
        "low",
        "corpus/risk/app-signed.exe",
    ]);
    assert_eq!(strict.status.code(), Some(1));
    // ELF files are not estimated.
    let elf = bingate(&["risk", "--color", "never", "corpus/elf/pie-default"]);
    assert_eq!(elf.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&elf.stdout).contains("1 ELF file not estimated"));
}

/// docs/smartscreen.md's weight table is the code's table: same ids, same weights.
#[test]
fn documented_weights_match_the_code() {
    let doc = paths::read_to_string("docs/smartscreen.md");
    let mut documented = Vec::new();
    let mut in_table = false;
    for line in doc.lines() {
        if line.starts_with("| id | default weight |") {
            in_table = true;
            continue;
        }
        if in_table {
            if !line.starts_with('|') {
                break;
            }
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if cells[1].starts_with("---") {
                continue;
            }
            documented.push((cells[1].trim_matches('`').to_owned(), cells[2].to_owned()));
        }
    }
    let code: Vec<(String, String)> = bingate::risk::weights::EVIDENCE
        .iter()
        .map(|k| (k.id.as_str().to_owned(), k.weight.to_string()))
        .collect();
    let documented_ids: Vec<&str> = documented.iter().map(|(i, _)| i.as_str()).collect();
    let code_ids: Vec<&str> = code.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(documented_ids, code_ids);
    for ((id, w), (_, cw)) in documented.iter().zip(&code) {
        let leading: String = w.chars().take_while(char::is_ascii_digit).collect();
        assert_eq!(&leading, cw, "{id}: documented {w}, code {cw}");
    }
}

/// The signer key's algorithm is read as the report names it (`ec` for every ECDSA key), so an
/// ECDSA signer is weak-key evidence (15), as docs/smartscreen.md says. Until the key algorithm
/// was typed, risk compared it with "ecdsa", a name the report never uses, and this evidence
/// never appeared on a real file.
#[test]
fn ecdsa_signers_are_weak_key_evidence() {
    for path in [
        "corpus/signed/valid-ecdsa.exe",
        "corpus/signed/valid-ecdsa-p384.exe",
    ] {
        let r = estimate_of(&[], path);
        let weak = evidence(&r, "weak-key").unwrap_or_else(|| panic!("{path}: {r}"));
        assert_eq!(weak["weight"], 15, "{path}: {weak}");
        assert!(
            weak["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("ECDSA"),
            "{path}: {weak}"
        );
    }
}

/// A policy with a `risk_at_most` rule judges the estimate with human output, whose RISK column
/// shows its level.
#[test]
fn a_risk_rule_is_judged_with_human_output() {
    let out = bingate(&[
        "check",
        "--time",
        TIME,
        "--policy",
        "cis-windows-11",
        "--trust",
        "corpus/pki/root.pem",
        "corpus/risk/app.exe",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("deny   smartscreen-risk: risk high (score 40/100)"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.ends_with("corpus/risk/app.exe"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains(" high "), "{row}");
    assert_eq!(out.status.code(), Some(1));
}

/// Human output shows no checksum and the default policy does not judge it, so such a run skips
/// that pass over the file; a policy with a `pe-checksum` rule still gets the computed value,
/// whatever the output format.
#[test]
fn a_checksum_rule_is_judged_with_human_output() {
    let dir = paths::tempdir();
    let driver = dir.path().join("stale.sys");
    let mut bytes = std::fs::read("corpus/pe/x64-native.sys").unwrap();
    // One byte of the last section changed after linking: the stored checksum is stale.
    let last = bytes.len() - 1;
    bytes[last] ^= 0x5a;
    std::fs::write(&driver, &bytes).unwrap();
    let driver = driver.to_str().unwrap();
    let out = bingate(&["check", "--policy", "cis-windows-11", "--no-verify", driver]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("deny   pe-checksum: OptionalHeader.CheckSum 0x"),
        "{text}"
    );
    assert!(text.contains("differs from the computed 0x"), "{text}");
    // JSON shows the computed value; the default policy (no checksum rule) does not need it.
    let json = bingate(&["check", "--format", "json", "--no-verify", driver]);
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    let sum = &doc["files"][0]["hardening"]["checksum"];
    assert!(sum["computed"].is_u64(), "{sum}");
    assert_ne!(sum["computed"], sum["stored"]);
}
