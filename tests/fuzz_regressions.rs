//! Inputs the fuzzers (fuzz/, docs/robustness.md "Fuzzing") found, each replayed through the
//! entry point of the target that found it. The target bodies come from `fuzz/src/lib.rs`
//! itself, so a test runs exactly the code the fuzzer ran; a panic fails the test.
//!
//! Inputs live in `tests/data/fuzz/<target>-<what>`; every file there must be named after a
//! target and have a named test below.

mod common;

use std::path::{Path, PathBuf};

use common::paths;

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz;

fn dir() -> PathBuf {
    paths::repo("tests/data/fuzz")
}

fn input(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("tests/data/fuzz/{name}: {e}"))
}

/// A fuzz target's body.
type Target = fn(&[u8]);

/// The target an input file belongs to, by its name's prefix.
fn target(name: &str) -> Option<Target> {
    // Longest names first: `pe_facts-…` must not be taken for another target's prefix.
    let targets: [(&str, Target); 16] = [
        ("module_signature", fuzz::module_signature),
        ("container_zip", fuzz::container_zip),
        ("container_tar", fuzz::container_tar),
        ("container_deb", fuzz::container_deb),
        ("container_rpm", fuzz::container_rpm),
        ("container_msi", fuzz::container_msi),
        ("container_cab", fuzz::container_cab),
        ("msi_signature", fuzz::msi_signature),
        ("installer", fuzz::installer),
        ("elf_signature", fuzz::elf_signature),
        ("pe_resources", fuzz::pe_resources),
        ("authenticode", fuzz::authenticode),
        ("elf_facts", fuzz::elf_facts),
        ("pe_facts", fuzz::pe_facts),
        ("cms_x509", fuzz::cms_x509),
        ("policy", fuzz::policy),
    ];
    targets.into_iter().find_map(|(prefix, f)| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .filter(|what| !what.is_empty())
            .map(|_| f)
    })
}

/// Every committed input is named `<target>-<what>`, is replayed by a named test in this file,
/// and still runs through its target without a panic. (The named test per input is the record;
/// this one catches an input committed without one.)
#[test]
fn every_committed_input_has_a_target_and_a_test() {
    let source = include_str!("fuzz_regressions.rs");
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("tests/data/fuzz")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    // docs/robustness.md lists every run and finding.
    for name in &names {
        let f = target(name).unwrap_or_else(|| panic!("{name}: not named <target>-<what>"));
        assert!(
            source.contains(&format!("input(\"{name}\")")),
            "{name} has no named test in tests/fuzz_regressions.rs"
        );
        f(&input(name));
    }
}

/// `container_zip` timed out (10 s under ASan): an end record whose central directory offset is
/// 285 MB past where the directory really is made the reader show that many zero bytes before
/// the zip, and the zip crate scanned them all for another end record. The prefix is now
/// bounded (`budget::MAX_ZIP_PREFIX`).
#[test]
fn container_zip_shifted_prefix_scan() {
    let start = std::time::Instant::now();
    fuzz::container_zip(&input("container_zip-shifted-prefix-scan"));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

// ---- the harness itself -------------------------------------------------------------------------
// A target whose environment is broken (no anchor, wrong time, a trailer the kernel format
// rejects) still runs without crashing, but fuzzes only the first rejection. These pin that the
// fuzzers reach the deep paths.

fn corpus(rel: &str) -> Vec<u8> {
    paths::read(paths::corpus(rel))
}

/// The `authenticode` target's anchors and time make a valid fixture valid, both through
/// `verify` and through `scan::examine` with the `SigningConfig` built from `TrustArgs`.
#[test]
fn authenticode_target_environment_accepts_a_valid_fixture() {
    use bingate::authenticode::verify::verify;
    use bingate::cms::verdict::Status;
    for rel in [
        "signed/valid-rsa.exe",
        "signed/valid-ecdsa.exe",
        "signed/nested.exe",
    ] {
        let data = corpus(rel);
        for strict in [false, true] {
            let v = verify(&data, &fuzz::verify_env(strict));
            assert_eq!(v.status, Status::Valid, "{rel} (strict {strict}): {v:?}");
        }
        let path = Path::new("/nonexistent/bingate-fuzz/input.exe");
        let report =
            bingate::scan::examine(&data, path, Some(fuzz::signing()), Some(fuzz::weights()));
        let sig = report.signature.as_ref().expect("a signature verdict");
        assert_eq!(sig.status, Status::Valid, "{rel} through examine: {sig:?}");
        assert!(report.risk.is_some(), "{rel}: no risk estimate");
    }
    // And the fixture that must not pass still does not.
    let v = verify(&corpus("signed/self-signed.exe"), &fuzz::verify_env(false));
    assert_eq!(v.status, Status::Untrusted);
}

/// The `module_signature` target's framing: an even mode folds the length into the body, so the
/// trailer always holds together and the CMS is the body's tail; an odd mode keeps the length.
#[test]
fn module_signature_target_frames_a_trailer_the_kernel_format_accepts() {
    let mut data = vec![0u8];
    data.extend_from_slice(&(10u32 + 7 * 33).to_le_bytes()); // folds to 10 in 0..=32
    data.extend_from_slice(&[0xAA; 32]);
    let file = fuzz::module_input(&data).expect("framed");
    assert!(file.ends_with(bingate::elfsig::module::MAGIC));
    let split = bingate::elfsig::module::split(&file)
        .expect("a trailer")
        .expect("a trailer that holds together");
    assert_eq!((split.module.len(), split.cms.len()), (22, 10));
    assert_eq!(bingate::elfsig::find(&file), bingate::elfsig::Found::Module);

    data[0] = 1;
    data[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
    let file = fuzz::module_input(&data).expect("framed");
    let split = bingate::elfsig::module::split(&file).expect("a trailer");
    assert!(split.is_err(), "a length past the file must be refused");
    assert!(
        fuzz::module_input(&[0, 1, 2]).is_none(),
        "too short to frame"
    );
}
