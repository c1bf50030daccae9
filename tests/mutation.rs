//! The mutation harness, CI size: a few thousand deterministic, structure-aware mutants of every
//! fixture, each through the whole `check` + `verify` pipeline, with no panic, a per-input time
//! bound and a per-input memory bound (see `tests/mutation/harness.rs` and
//! docs/robustness.md, "Mutation harness"). `cargo run --release --example mutate -- --long`
//! runs far more; `--replay FIXTURE:INDEX` rebuilds one mutant.
//!
//! Environment: `BINGATE_MUTATION_SEED` (decimal or 0x hex), `BINGATE_MUTATION_PER_FIXTURE`,
//! `BINGATE_MUTATION_JOBS` override the CI defaults below.

// Tests and examples report to the person running them.
#![allow(clippy::disallowed_macros)]

mod common;
// Shared with examples/mutate.rs, so it keeps its own corpus path (checked against
// `common::paths` below).
#[path = "mutation/harness.rs"]
mod harness;

use std::io::Write as _;
use std::time::Duration;

use harness::{Bounds, Fixture, Model, Observed, Plan};

#[global_allocator]
static ALLOC: harness::CountingAlloc = harness::CountingAlloc;

/// Mutants per fixture in CI: 143 fixtures × 60 = 8,580 mutants, about 13-50 s of CPU in a debug
/// build, under a minute on two cores (measured in docs/robustness.md, "Mutation harness").
const CI_PER_FIXTURE: u64 = 60;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        harness::parse_u64(&v).unwrap_or_else(|| panic!("{name}={v:?}: expected a number"))
    })
}

fn plan() -> Plan {
    let jobs = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(2);
    Plan {
        seed: env_u64("BINGATE_MUTATION_SEED").unwrap_or(harness::DEFAULT_SEED),
        per_fixture: env_u64("BINGATE_MUTATION_PER_FIXTURE").unwrap_or(CI_PER_FIXTURE),
        jobs: env_u64("BINGATE_MUTATION_JOBS").map_or(jobs, |j| j as usize),
        bounds: Bounds::for_this_build(),
        progress: false,
    }
}

#[test]
fn mutants_of_every_fixture_pass_check_and_verify_within_bounds() {
    let fixtures = harness::fixtures(false);
    let plan = plan();
    let pipeline = harness::Pipeline::new();
    let stats = harness::run(&fixtures, &plan, &pipeline);
    // Always shown (libtest captures eprintln! of passing tests).
    let _ = writeln!(std::io::stderr(), "{}", stats.summary(&plan));
    assert!(
        stats.failures.is_empty(),
        "{} of {} mutants failed; replay one with \
         `cargo run --release --example mutate -- --seed {:#x} --replay FIXTURE:INDEX`:\n{}",
        stats.failures.len(),
        stats.mutants,
        plan.seed,
        stats.failures.join("\n")
    );
    assert_eq!(stats.mutants, fixtures.len() as u64 * plan.per_fixture);
    // The mutants must get past the format checks often enough to reach the structures behind
    // them, and reach the signature verifiers.
    let facts = stats.mutants - stats.errors;
    assert!(
        facts * 4 >= stats.mutants,
        "only {facts} of {} mutants parsed: the mutators break the files too early",
        stats.mutants
    );
    if plan.per_fixture >= CI_PER_FIXTURE {
        for status in ["Valid", "Invalid", "Malformed", "Unsigned"] {
            assert!(
                stats.statuses.contains_key(status),
                "no {status}: {:?}",
                stats.statuses
            );
        }
        for kind in [
            "truncate",
            "field",
            "past-end",
            "self-pointer",
            "count-x1000",
            "bit-flip",
            "byte-run",
            "stacked",
            "der-length",
            "der-reencode",
            "der-tag",
            "cert-duplicate",
            "cert-append",
            "der-drop",
            "der-other-choice",
            "der-set-flood",
        ] {
            assert!(
                stats.by_kind.contains_key(kind),
                "no {kind} mutant ran: {:?}",
                stats.by_kind
            );
        }
    }
}

fn fixture(name: &str) -> Fixture {
    harness::fixtures(false)
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

#[test]
fn fixtures_cover_every_corpus_directory_and_the_signed_elf_files() {
    assert_eq!(harness::corpus(), common::paths::corpus_dir());
    let fixtures = harness::fixtures(false);
    for prefix in ["pe/", "elf/", "signed/", "risk/", "signed-elf/"] {
        assert!(
            fixtures.iter().any(|f| f.name.starts_with(prefix)),
            "no fixture under {prefix}"
        );
    }
    assert!(fixtures.iter().all(|f| !f.name.ends_with(".json")));
    assert!(fixtures.len() >= 90, "{}", fixtures.len());
}

/// The harness's own readers find the structures the mutators aim at.
#[test]
fn models_find_the_structures_to_mutate() {
    let nested = Model::build(&fixture("signed/nested.exe").bytes);
    assert_eq!(nested.certs.len(), 1);
    let signed_data = nested.der.iter().filter(|n| n.rel_depth == 0).count();
    assert!(
        signed_data >= 2,
        "nested signature not found: {signed_data}"
    );
    assert!(nested.fields.iter().any(|f| f.name == "dir[security].Size"));
    assert!(nested.fields.iter().any(|f| f.name == "cert[0].dwLength"));

    let two = Model::build(&fixture("signed/two-entries.exe").bytes);
    assert_eq!(two.certs.len(), 2);

    let rsrc = Model::build(&fixture("risk/app.exe").bytes);
    assert!(rsrc.fields.iter().any(|f| f.name.starts_with("version@")));
    let cfg = Model::build(&fixture("pe/clang-cfg.exe").bytes);
    assert!(cfg.fields.iter().any(|f| f.name == "loadcfg.GuardFlags"));

    let elf = Model::build(&fixture("elf/pie-default").bytes);
    for name in ["ehdr.e_shstrndx", "dyn[0].d_tag", "note0[0].n_descsz"] {
        assert!(elf.fields.iter().any(|f| f.name == name), "{name}");
    }
    assert!(
        elf.fields
            .iter()
            .any(|f| f.name.ends_with("(.dynamic).sh_entsize"))
    );

    let section = Model::build(&fixture("signed-elf/pie-default.leaf-rsa.section").bytes);
    assert!(section.sig_section.is_some());
    assert!(section.der.len() > 50, "{}", section.der.len());
    assert!(!section.digits.is_empty());
    let be = Model::build(&fixture("signed-elf/ppc32-be.leaf-rsa.section").bytes);
    assert!(be.sig_section.is_some() && !be.der.is_empty());
    let module = Model::build(&fixture("signed-elf/hello.o.leaf-rsa.module").bytes);
    assert!(module.module.is_some() && !module.der.is_empty());
}

#[test]
fn mutants_are_a_function_of_seed_fixture_and_index() {
    let fx = fixture("signed/nested.exe");
    let planned = |seed| {
        let mut m = Model::build(&fx.bytes);
        m.plan(seed, &fx.name);
        m
    };
    let (a, b, c) = (planned(7), planned(7), planned(8));
    let (mut differs, mut unchanged) = (0, 0);
    for i in 0..64 {
        let x = harness::mutant(&fx, &a, 7, i);
        let y = harness::mutant(&fx, &b, 7, i);
        assert!(
            x.bytes == y.bytes && x.label == y.label,
            "mutant {i} differs between runs"
        );
        // A zero run over zero bytes changes nothing; little else should.
        unchanged += usize::from(x.bytes == fx.bytes);
        differs += usize::from(harness::mutant(&fx, &c, 8, i).bytes != x.bytes);
    }
    assert!(unchanged <= 4, "{unchanged}/64 mutants changed nothing");
    assert!(
        differs > 48,
        "another seed gave the same mutants: {differs}/64"
    );
}

#[test]
fn der_reencoding_with_fixups_keeps_the_signature_parseable() {
    // A non-minimal length with every enclosing length fixed: the blob still walks as DER of
    // the same shape (the independent reader sees every node again), one byte longer.
    let fx = fixture("signed/valid-rsa.exe");
    let m = Model::build(&fx.bytes);
    let node = m
        .der
        .iter()
        .position(|n| n.depth == 4 && n.len_bytes == 3)
        .expect("a node");
    let mut d = fx.bytes.clone();
    let mut rng = harness::Rng::for_mutant(1, "x", 0);
    let how = harness::DerHow::Reencode {
        width: 3,
        fix: true,
    };
    let label = harness::apply(&mut d, &m, harness::Op::Der { node, how }, &mut rng);
    assert_eq!(d.len(), fx.bytes.len() + 1, "{label}");
    let again = Model::build(&d);
    assert_eq!(again.der.len(), m.der.len());
    assert_eq!(again.certs.len(), 1);
}

#[test]
fn unmutated_signed_fixtures_verify_as_valid_through_the_pipeline() {
    // Otherwise the mutants would stop at the trust anchor and never reach the deeper checks.
    let pipeline = harness::Pipeline::new();
    for name in [
        "signed/valid-rsa.exe",
        "signed/nested.exe",
        "signed/valid-ecdsa.exe",
        "signed-elf/pie-default.leaf-rsa.section",
        "signed-elf/m32-pie.leaf-ecdsa.section",
        "signed-elf/ppc32-be.leaf-rsa.section",
        "signed-elf/hello.o.leaf-rsa.module",
    ] {
        let o = pipeline.run(&fixture(name).bytes);
        assert_eq!(o.status.as_deref(), Some("Valid"), "{name}");
    }
}

#[test]
fn covered_byte_oracle_matches_what_the_signatures_cover() {
    // The harness fails a mutant whose signature still verifies after it changed a byte the
    // signature covers; check the oracle's coverage against bingate's verdicts on hand-made
    // cases, both ways.
    let pipeline = harness::Pipeline::new();
    let status = |b: &[u8]| pipeline.run(b).status.unwrap_or_default();
    for name in [
        "signed/valid-rsa.exe",
        "signed-elf/pie-default.leaf-rsa.section",
        "signed-elf/hello.o.leaf-rsa.module",
    ] {
        let fx = fixture(name);
        let m = Model::build(&fx.bytes);
        assert!(!m.covered.is_empty(), "{name}");
        // The last covered byte of the first range after the headers' first bytes, and the
        // first byte after it (uncovered: CheckSum, the signature section, the CMS).
        let (s, e) = m.covered[if m.covered.len() > 1 { 1 } else { 0 }];
        let mut inside = fx.bytes.clone();
        inside[s + (e - s) / 2] ^= 0x01;
        assert_eq!(
            harness::covered_change(&fx.bytes, &m, &inside),
            Some(s + (e - s) / 2)
        );
        assert_ne!(status(&inside), "Valid", "{name}: covered byte changed");
    }
    let fx = fixture("signed/valid-rsa.exe");
    let m = Model::build(&fx.bytes);
    let checksum = m
        .fields
        .iter()
        .find(|f| f.name == "opt.CheckSum")
        .unwrap()
        .off;
    let mut outside = fx.bytes.clone();
    outside[checksum] ^= 0x01;
    assert_eq!(harness::covered_change(&fx.bytes, &m, &outside), None);
    assert_eq!(status(&outside), "Valid");
}

// The detectors: each must report what it is there to catch.

fn quick() -> Bounds {
    Bounds {
        time: Duration::from_millis(50),
        ..Bounds::for_this_build()
    }
}

fn fine(_: &[u8]) -> Observed {
    Observed {
        error: false,
        status: None,
        render_errors: Vec::new(),
    }
}

#[test]
fn detector_reports_a_panic() {
    let r = harness::measure(b"x", &quick(), "test:0", &|_| panic!("boom"));
    assert!(
        r.problems.iter().any(|p| p.contains("panic: boom")),
        "{:?}",
        r.problems
    );
    assert!(
        harness::measure(b"x", &quick(), "test:1", &fine)
            .problems
            .is_empty()
    );
}

#[test]
fn detector_sees_panics_that_bingate_contains() {
    // bingate::guard turns a parser panic into an error for the file; the recorder still sees
    // it, and one outside goblin (here: in this test) is a failure.
    let r = harness::measure(b"x", &quick(), "test:0", &|b| {
        let contained = bingate::guard::contain("test", None, || panic!("inner"));
        assert!(contained.is_err());
        fine(b)
    });
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("contained panic outside goblin/authenticode: inner")),
        "{:?}",
        r.problems
    );
}

#[test]
fn detector_reports_an_input_over_the_memory_bound() {
    let bounds = quick();
    let r = harness::measure(b"x", &bounds, "test:0", &|_| {
        let v = vec![1u8; 100 << 20];
        std::hint::black_box(&v);
        fine(&v)
    });
    assert!(r.peak >= 100 << 20, "{}", r.peak);
    assert!(
        r.problems.iter().any(|p| p.contains("peak memory")),
        "{:?}",
        r.problems
    );
    let r = harness::measure(b"x", &bounds, "test:1", &|_| {
        let v = vec![1u8; 1 << 20];
        std::hint::black_box(&v);
        fine(&v)
    });
    assert!(r.problems.is_empty(), "{:?}", r.problems);
}

#[test]
fn detector_refuses_an_allocation_past_the_hard_cap() {
    let r = harness::measure(b"x", &quick(), "test:0", &|_| {
        let mut v: Vec<u8> = Vec::new();
        // 64 MiB × 16 is the hard cap; try_reserve sees the refusal instead of aborting.
        assert!(v.try_reserve(2 << 30).is_err());
        fine(&v)
    });
    assert!(
        r.problems.iter().any(|p| p.contains("hard cap")),
        "{:?}",
        r.problems
    );
}

#[test]
fn detector_reports_a_slow_input() {
    let r = harness::measure(b"x", &quick(), "test:0", &|b| {
        std::thread::sleep(Duration::from_millis(120));
        fine(b)
    });
    assert!(
        r.problems.iter().any(|p| p.contains("took")),
        "{:?}",
        r.problems
    );
}

/// Regression (found by this harness, fixed in `tst_info`, now `cms::timestamp`): a length
/// inside an RFC 3161 TSTInfo that lies within `der`'s limit (0x0FFF_FFFF) made `der`'s owned
/// decoders allocate 256 MiB from a 21 KB file before noticing the input was shorter.
#[test]
fn der_lengths_that_lie_inside_a_timestamp_allocate_nothing() {
    let fx = fixture("signed/valid-ecdsa.exe");
    let m = Model::build(&fx.bytes);
    let pipeline = harness::Pipeline::new();
    let bounds = Bounds::for_this_build();
    let mut probed = 0;
    // The timestamp token's TSTInfo and its fields (depth 14 and below in this fixture).
    for node in (0..m.der.len()).filter(|&i| m.der[i].depth >= 14) {
        let mut d = fx.bytes.clone();
        let mut rng = harness::Rng::for_mutant(0, "x", 0);
        let how = harness::DerHow::Decodable { fix: true };
        let label = harness::apply(&mut d, &m, harness::Op::Der { node, how }, &mut rng);
        let r = harness::measure(&d, &bounds, &label, &|b| pipeline.run(b));
        assert!(r.problems.is_empty(), "{label}: {:?}", r.problems);
        assert!(r.peak < 8 << 20, "{label}: peak {} bytes", r.peak);
        probed += 1;
    }
    assert!(probed >= 10, "{probed}");
}
