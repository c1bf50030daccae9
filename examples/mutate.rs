//! The mutation harness outside CI: the long run, and replaying one mutant.
//!
//! ```sh
//! cargo run --release --example mutate -- --long              # 5,000 per fixture, + corpus/public
//! cargo run --release --example mutate -- --long --seed 7 --per-fixture 20000 --jobs 1
//! cargo run --release --example mutate -- --seed 0x6269... --replay signed/nested.exe:1234 \
//!     [--write mutant.bin] [--trap-alloc BYTES]
//! cargo run --release --example mutate -- --list              # fixtures and their structures
//! cargo run --release --example mutate -- --show-valid        # mutants whose signature held
//! ```
//!
//! Without `--long` it runs what `cargo test --test mutation` runs (in a release build here).
//! `--trap-alloc` aborts on the first allocation of BYTES or more while the replayed mutant is
//! examined: run it under `gdb --args` for the backtrace of an allocation over the bound.
//! Exit status: 0 when every mutant stayed within its bounds, 1 when one did not, 2 for a usage
//! error; a hang exits with 3 (named on stderr by the watchdog).

// An example is a small program: it prints.
#![allow(clippy::disallowed_macros)]

#[path = "../tests/mutation/harness.rs"]
mod harness;

use std::io::Write as _;
use std::process::ExitCode;

#[global_allocator]
static ALLOC: harness::CountingAlloc = harness::CountingAlloc;

/// Mutants per fixture in the CI test (tests/mutation.rs) and without `--long`.
const CI_PER_FIXTURE: u64 = 60;
/// Mutants per fixture with `--long`.
const LONG_PER_FIXTURE: u64 = 5000;

const USAGE: &str = "usage: mutate [--long] [--seed N] [--per-fixture N] [--jobs N] [--public] \
                     [--replay FIXTURE:INDEX [--write FILE] [--trap-alloc BYTES]] [--list] [--show-valid]";

struct Args {
    long: bool,
    seed: u64,
    per_fixture: Option<u64>,
    jobs: Option<usize>,
    public: bool,
    replay: Option<String>,
    write: Option<String>,
    list: bool,
    show_valid: bool,
    trap_alloc: Option<u64>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        long: false,
        seed: harness::DEFAULT_SEED,
        per_fixture: None,
        jobs: None,
        public: false,
        replay: None,
        write: None,
        list: false,
        show_valid: false,
        trap_alloc: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let number = |name: &str, v: String| {
            harness::parse_u64(&v).ok_or(format!("{name} {v:?}: expected a number"))
        };
        match arg.as_str() {
            "--long" => a.long = true,
            "--public" => a.public = true,
            "--list" => a.list = true,
            "--show-valid" => a.show_valid = true,
            "--seed" => a.seed = number("--seed", value("--seed")?)?,
            "--per-fixture" => {
                a.per_fixture = Some(number("--per-fixture", value("--per-fixture")?)?)
            }
            "--jobs" => a.jobs = Some(number("--jobs", value("--jobs")?)? as usize),
            "--replay" => a.replay = Some(value("--replay")?),
            "--write" => a.write = Some(value("--write")?),
            "--trap-alloc" => a.trap_alloc = Some(number("--trap-alloc", value("--trap-alloc")?)?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let bounds = harness::Bounds::for_this_build();
    if let Some(id) = &args.replay {
        return replay(&args, id, &bounds);
    }
    let fixtures = harness::fixtures(args.long || args.public);
    if args.list {
        for f in &fixtures {
            let mut m = harness::Model::build(&f.bytes);
            m.plan(args.seed, &f.name);
            println!(
                "{}\t{} bytes\t{} fields\t{} boundaries\t{} DER nodes\t{} systematic",
                f.name,
                f.bytes.len(),
                m.fields.len(),
                m.boundaries.len(),
                m.der.len(),
                m.ops.len()
            );
        }
        return ExitCode::SUCCESS;
    }
    let default_jobs = std::thread::available_parallelism().map_or(1, usize::from);
    let plan = harness::Plan {
        seed: args.seed,
        per_fixture: args.per_fixture.unwrap_or(if args.long {
            LONG_PER_FIXTURE
        } else {
            CI_PER_FIXTURE
        }),
        jobs: args.jobs.unwrap_or(if args.long {
            default_jobs
        } else {
            default_jobs.min(2)
        }),
        bounds,
        progress: args.long,
    };
    eprintln!(
        "[mutate] {} fixtures x {} mutants, seed {:#x}, {} thread(s), {} build: {} s per input, \
         memory max(64 MiB, 8 x input)",
        fixtures.len(),
        plan.per_fixture,
        plan.seed,
        plan.jobs,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        bounds.time.as_secs_f64()
    );
    let pipeline = harness::Pipeline::new();
    let stats = harness::run(&fixtures, &plan, &pipeline);
    println!("{}", stats.summary(&plan));
    if !stats.third_party_panics.is_empty() {
        println!("third-party panics contained by bingate::guard (not failures):");
        for (at, n) in &stats.third_party_panics {
            println!("  {n:>6}  {at}");
        }
    }
    if args.show_valid {
        println!("mutants whose signature still verified:");
        for v in &stats.still_valid {
            println!("  {v}");
        }
    }
    if stats.failures.is_empty() {
        return ExitCode::SUCCESS;
    }
    println!(
        "{} failures (replay: cargo run --release --example mutate -- --seed {:#x} --replay FIXTURE:INDEX):",
        stats.failures.len(),
        plan.seed
    );
    for f in &stats.failures {
        println!("  {f}");
    }
    ExitCode::from(1)
}

fn replay(args: &Args, id: &str, bounds: &harness::Bounds) -> ExitCode {
    let Some((name, index)) = id
        .rsplit_once(':')
        .and_then(|(n, i)| Some((n, harness::parse_u64(i)?)))
    else {
        eprintln!("--replay {id:?}: expected FIXTURE:INDEX\n{USAGE}");
        return ExitCode::from(2);
    };
    let Some(fixture) = harness::fixtures(true).into_iter().find(|f| f.name == name) else {
        eprintln!("--replay: no fixture named {name:?} (see --list)");
        return ExitCode::from(2);
    };
    let mut model = harness::Model::build(&fixture.bytes);
    model.plan(args.seed, &fixture.name);
    let m = harness::mutant(&fixture, &model, args.seed, index);
    println!(
        "{id} [{}{}] {} ({} bytes)",
        m.kind,
        if m.systematic { ", systematic" } else { "" },
        m.label,
        m.bytes.len()
    );
    if let Some(path) = &args.write {
        if let Err(e) = std::fs::write(path, &m.bytes) {
            eprintln!("--write {path}: {e}");
            return ExitCode::from(2);
        }
        println!("written to {path}");
    }
    let pipeline = harness::Pipeline::new();
    if let Some(bytes) = args.trap_alloc {
        // Abort on the first allocation this large, for a debugger's backtrace.
        harness::trap_allocations_from(bytes);
    }
    let r = harness::measure(&m.bytes, bounds, id, &|b| pipeline.run(b));
    let o = r.observed.as_ref();
    println!(
        "examined in {:.3} s, peak {:.2} MiB; error: {}; signature: {}",
        r.elapsed.as_secs_f64(),
        harness::mib(r.peak),
        o.is_some_and(|o| o.error),
        o.and_then(|o| o.status.clone())
            .unwrap_or_else(|| "-".into())
    );
    for p in &r.third_party_panics {
        println!("contained third-party panic: {p}");
    }
    for p in &r.problems {
        println!("FAILURE: {p}");
    }
    let _ = std::io::stdout().flush();
    if r.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
