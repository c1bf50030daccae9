//! Running the `bingate` binary: from the repository root, without `BINGATE_KEY_PASSPHRASE` from
//! the caller's environment (a test that wants a passphrase passes it itself), stdin empty.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::paths::ROOT;

/// The binary under test.
pub const EXE: &str = env!("CARGO_BIN_EXE_bingate");

/// A `Command` for the binary: working directory the repository root, no
/// `BINGATE_KEY_PASSPHRASE`. Add arguments, environment or a directory, then run it.
pub fn command() -> Command {
    let mut c = Command::new(EXE);
    c.current_dir(ROOT).env_remove("BINGATE_KEY_PASSPHRASE");
    c
}

/// Runs `bingate ARGS` from the repository root to completion: exit status, stdout, stderr.
pub fn bingate<S: AsRef<OsStr>>(args: &[S]) -> Output {
    command().args(args).output().expect("run bingate")
}

/// [`bingate`] over arguments of different types: `bingate_mixed(&[&"verify", &path])`.
pub fn bingate_mixed(args: &[&dyn AsRef<OsStr>]) -> Output {
    bingate(args)
}

/// `bingate COMMAND --format json --trust corpus/pki/root.pem --time TIME PATHS…`: the JSON
/// report of a `check`, `verify` or `risk` that trusts the test PKI's root at `time`.
pub fn test_pki_json(command: &str, time: &str, paths: &[&str]) -> serde_json::Value {
    let mut args = vec![
        command,
        "--format",
        "json",
        "--trust",
        "corpus/pki/root.pem",
        "--time",
        time,
    ];
    args.extend_from_slice(paths);
    let out = bingate(&args);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bingate {args:?}: not a JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// [`bingate`] run in `dir` instead of the repository root.
pub fn bingate_in<S: AsRef<OsStr>>(dir: impl AsRef<Path>, args: &[S]) -> Output {
    command()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run bingate")
}

/// [`bingate`] with these environment variables set.
pub fn bingate_env<S: AsRef<OsStr>>(args: &[S], vars: &[(&str, &str)]) -> Output {
    command()
        .args(args)
        .envs(vars.iter().copied())
        .output()
        .expect("run bingate")
}

/// [`bingate_mixed`], killed after `limit`: a run still going then fails the test, naming its
/// arguments and its stderr so far (a hang is a failure, not a stuck suite). stdout and stderr
/// are drained while it runs, so a large report never blocks it.
pub fn bingate_within(limit: Duration, args: &[&dyn AsRef<OsStr>]) -> Output {
    use std::io::Read as _;
    let mut child = command()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bingate");
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err.join().unwrap();
            panic!(
                "bingate {:?} still running after {limit:?} (blocked on a FIFO?); stderr: {}",
                args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
                String::from_utf8_lossy(&stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// stdout then stderr, as text (for assertion messages and searches over both).
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
