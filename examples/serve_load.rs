//! A load generator for `bingate serve`, used by `scripts/serve-bench.sh` (throughput) and by
//! `tests/serve_load.rs` (correctness under load, kill -9, replicas).
//!
//! `cargo run --release --example serve_load -- URL[,URL…] TOKEN_FILE KEY COUNT CLIENTS
//! (digest|pe) [INPUT]`: COUNT successful signatures from CLIENTS threads, spread over the URLs
//! round-robin; prints one JSON line with the counts, the time and the rate.
//!
//! Talks to loopback only (plain HTTP), stops by itself: each thread stops when COUNT successes
//! are in, or at the deadline (`LoadOptions::deadline`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `POST /v1/sign/digest` with a fixed digest request (the server's signing path only).
    Digest,
    /// `POST /v1/sign/pe` with the input file; the signed outputs are kept.
    Pe,
}

#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub urls: Vec<String>,
    pub token: String,
    pub key: String,
    pub count: usize,
    pub clients: usize,
    pub mode: Mode,
    pub input: Option<PathBuf>,
    /// Where `Pe` outputs go (`<request id>.exe`); `None`: not kept.
    pub out_dir: Option<PathBuf>,
    /// Every thread stops here, done or not.
    pub deadline: Duration,
}

/// One acknowledged signature.
#[derive(Clone, Debug)]
pub struct Done {
    pub request_id: String,
    pub output: Option<PathBuf>,
}

#[derive(Debug, Default)]
pub struct LoadResult {
    pub done: Vec<Done>,
    /// Failed attempts by kind (`status 503`, `connection`…).
    pub failures: BTreeMap<String, usize>,
    pub elapsed: Duration,
}

/// SHA-256 of `data`, hex, without pulling a hash crate into the example: the library's.
fn sha256_hex(data: &[u8]) -> String {
    bingate::sign::remote::hex(&bingate::hash::sha256(data))
}

/// Runs the load; `progress` counts successes as they come (a test may act on it mid-run).
pub fn run(opts: &LoadOptions, progress: Arc<AtomicUsize>) -> LoadResult {
    let input = opts
        .input
        .as_ref()
        .map(|p| std::fs::read(p).expect("read the input"))
        .unwrap_or_default();
    let body = Arc::new(input);
    let digest_body = Arc::new(
        serde_json::to_vec(&serde_json::json!({
            "key": opts.key,
            "format": "pe",
            "file_name": "load.exe",
            "file_sha256": sha256_hex(&body),
            "digest_alg": "sha256",
            "digest": sha256_hex(b"bingate serve load"),
        }))
        .expect("json"),
    );
    let result = Arc::new(Mutex::new(LoadResult::default()));
    let started = Instant::now();
    let tickets = Arc::new(AtomicUsize::new(0));
    std::thread::scope(|s| {
        for t in 0..opts.clients {
            let (body, digest_body, result, progress, tickets) = (
                body.clone(),
                digest_body.clone(),
                result.clone(),
                progress.clone(),
                tickets.clone(),
            );
            s.spawn(move || {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(60)))
                    .build()
                    .new_agent();
                let mut n = t;
                loop {
                    if progress.load(Ordering::SeqCst) >= opts.count
                        || started.elapsed() > opts.deadline
                    {
                        return;
                    }
                    // Reservations = successes + requests out: never more than COUNT, so the
                    // run ends with exactly COUNT successes.
                    if tickets.fetch_add(1, Ordering::SeqCst) >= opts.count {
                        tickets.fetch_sub(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    let url = &opts.urls[n % opts.urls.len()];
                    n += 1;
                    let auth = format!("Bearer {}", opts.token);
                    let resp = match opts.mode {
                        Mode::Digest => agent
                            .post(format!("{url}/v1/sign/digest"))
                            .header("Authorization", &auth)
                            .header("Content-Type", "application/json")
                            .send(&digest_body[..]),
                        Mode::Pe => agent
                            .post(format!("{url}/v1/sign/pe?key={}&name=load.exe", opts.key))
                            .header("Authorization", &auth)
                            .send(&body[..]),
                    };
                    let outcome = match resp {
                        Err(e) => Err(format!(
                            "connection: {}",
                            e.to_string().split(':').next().unwrap_or("")
                        )),
                        Ok(mut r) => {
                            let status = r.status().as_u16();
                            let id = r
                                .headers()
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned();
                            match r.body_mut().with_config().limit(1 << 30).read_to_vec() {
                                Err(e) => Err(format!("reading the answer: {e}")),
                                Ok(_) if status != 200 => Err(format!("status {status}")),
                                Ok(bytes) => {
                                    let output = match (&opts.out_dir, opts.mode) {
                                        (Some(dir), Mode::Pe) => {
                                            let p = dir.join(format!("{id}.exe"));
                                            std::fs::write(&p, &bytes).expect("write output");
                                            Some(p)
                                        }
                                        _ => None,
                                    };
                                    Ok(Done {
                                        request_id: id,
                                        output,
                                    })
                                }
                            }
                        }
                    };
                    if outcome.is_err() {
                        tickets.fetch_sub(1, Ordering::SeqCst);
                    }
                    let mut r = result.lock().expect("lock");
                    match outcome {
                        Ok(d) => {
                            r.done.push(d);
                            progress.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(kind) => {
                            *r.failures.entry(kind).or_insert(0) += 1;
                            drop(r);
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
            });
        }
    });
    let mut r = std::mem::take(&mut *result.lock().expect("lock"));
    r.elapsed = started.elapsed();
    r
}

// A command-line tool's own output: it prints.
#[allow(dead_code, clippy::disallowed_macros)]
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 6 {
        eprintln!("usage: serve_load URL[,URL…] TOKEN_FILE KEY COUNT CLIENTS digest|pe [INPUT]");
        std::process::exit(2);
    }
    let token = std::fs::read_to_string(&a[1]).expect("token file");
    let opts = LoadOptions {
        urls: a[0].split(',').map(str::to_owned).collect(),
        token: token.lines().next().unwrap_or_default().trim().to_owned(),
        key: a[2].clone(),
        count: a[3].parse().expect("COUNT"),
        clients: a[4].parse().expect("CLIENTS"),
        mode: if a[5] == "pe" { Mode::Pe } else { Mode::Digest },
        input: a.get(6).map(PathBuf::from),
        out_dir: None,
        deadline: Duration::from_secs(600),
    };
    let r = run(&opts, Arc::new(AtomicUsize::new(0)));
    let secs = r.elapsed.as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "ok": r.done.len(),
            "failures": r.failures,
            "seconds": secs,
            "per_second": r.done.len() as f64 / secs,
            "clients": opts.clients,
        })
    );
}
