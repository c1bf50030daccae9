//! `bingate serve` under load, on loopback, bounded in count and time: 1,000 whole-file PE
//! signatures from 16 concurrent clients against SQLite and against two replicas sharing one
//! PostgreSQL database. Every output verifies with osslsigncode; `bingate audit verify` passes
//! with exactly one `signed` record per 200 answer. Then `kill -9` in the middle of more load
//! (the server; one replica), a restart, and nothing acknowledged is missing from a log whose
//! chain still verifies.

mod common;

#[allow(dead_code, clippy::all)]
#[path = "../examples/serve_load.rs"]
mod load;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::interop;
use common::paths::{self, corpus, pki};
use common::run::bingate;
use common::serve::{CI_TOKEN, Server, config};

/// Signatures per phase and concurrent clients (the numbers).
const COUNT: usize = 1000;
const CLIENTS: usize = 16;
/// Signatures in the phase with a kill -9 in the middle.
const KILL_COUNT: usize = 300;
/// No phase runs longer than this.
const DEADLINE: Duration = Duration::from_secs(600);

/// A port free now on 127.0.0.1 (for a server that must come back on the same address).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn options(urls: Vec<String>, count: usize, out: &Path) -> load::LoadOptions {
    load::LoadOptions {
        urls,
        token: CI_TOKEN.to_owned(),
        key: "release".to_owned(),
        count,
        clients: CLIENTS,
        mode: load::Mode::Pe,
        input: Some(corpus("sign").join("rust-hello.exe")),
        out_dir: Some(out.to_path_buf()),
        deadline: DEADLINE,
    }
}

/// Every output verifies with osslsigncode (two at a time).
fn all_verify(done: &[load::Done]) {
    if !interop::require("osslsigncode") {
        return;
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(d) = done.get(i) else { return };
                    let out = d.output.as_ref().unwrap();
                    let o = std::process::Command::new("osslsigncode")
                        .args(["verify", "-CAfile"])
                        .arg(pki("root.pem"))
                        .arg("-in")
                        .arg(out)
                        .output()
                        .unwrap();
                    assert!(
                        o.status.success(),
                        "osslsigncode rejects {}: {}",
                        out.display(),
                        String::from_utf8_lossy(&o.stdout)
                    );
                }
            });
        }
    });
}

/// The log's records (request id, outcome) after `audit verify` passed.
fn verified_records(store: &str) -> Vec<(String, String)> {
    let o = bingate(&[
        "audit",
        "verify",
        "--store",
        store,
        "--log-key",
        &pki("leaf-ecdsa.pem").display().to_string(),
    ]);
    assert!(
        o.status.success(),
        "audit verify: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let o = bingate(&["audit", "list", "--store", store, "--json"]);
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["record"]["request_id"].as_str().unwrap().to_owned(),
                v["record"]["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Phase 1: COUNT signatures, no faults: exactly one `signed` record per 200, nothing else.
/// Phase 2: KILL_COUNT more with `kill` run when a third are in: every acknowledged one is
/// recorded once; unacknowledged records (signed, recorded, answer lost) are at most the
/// requests in flight.
fn run_phases(urls: Vec<String>, store: &str, dir: &Path, kill: &mut dyn FnMut()) {
    let out1 = dir.join("out1");
    std::fs::create_dir(&out1).unwrap();
    let r = load::run(
        &options(urls.clone(), COUNT, &out1),
        Arc::new(AtomicUsize::new(0)),
    );
    assert_eq!(r.done.len(), COUNT, "failures: {:?}", r.failures);
    all_verify(&r.done);
    let records = verified_records(store);
    assert_eq!(records.len(), COUNT, "one record per 200");
    let ids: HashSet<&str> = r.done.iter().map(|d| d.request_id.as_str()).collect();
    assert_eq!(ids.len(), COUNT);
    assert!(
        records
            .iter()
            .all(|(id, outcome)| ids.contains(id.as_str()) && outcome == "signed")
    );

    let out2 = dir.join("out2");
    std::fs::create_dir(&out2).unwrap();
    let progress = Arc::new(AtomicUsize::new(0));
    let r2 = std::thread::scope(|s| {
        let p = progress.clone();
        let urls = urls.clone();
        let h = s.spawn(move || load::run(&options(urls, KILL_COUNT, &out2), p));
        let mut waited = 0;
        while progress.load(Ordering::SeqCst) < KILL_COUNT / 3 && waited < 6000 {
            std::thread::sleep(Duration::from_millis(10));
            waited += 1;
        }
        kill();
        h.join().unwrap()
    });
    assert_eq!(r2.done.len(), KILL_COUNT, "failures: {:?}", r2.failures);
    // The kill happened under load: requests failed while the server was down.
    assert!(
        r2.failures
            .keys()
            .any(|k| k.starts_with("connection") || k.starts_with("reading")),
        "no request failed: was the server killed under load? {:?}",
        r2.failures
    );
    all_verify(&r2.done);
    let records = verified_records(store);
    let mut seen = HashSet::new();
    for (id, _) in &records {
        assert!(seen.insert(id.clone()), "request {id} recorded twice");
    }
    for d in r.done.iter().chain(r2.done.iter()) {
        assert!(
            seen.contains(&d.request_id),
            "acknowledged request {} is not in the log",
            d.request_id
        );
    }
    let unacknowledged = records.len() - COUNT - KILL_COUNT;
    assert!(
        unacknowledged <= CLIENTS,
        "{unacknowledged} records without an answer"
    );
}

#[test]
fn sqlite_1000_signatures_16_clients_and_a_kill_9() {
    let dir = paths::tempdir();
    let store = format!("sqlite:{}", dir.path().join("audit.db").display());
    let port = free_port();
    let cfg = config(dir.path(), &store, "default", "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    std::fs::write(&cfg, text).unwrap();
    let mut server = Some(Server::start(&cfg));
    let url = server.as_ref().unwrap().url.clone();
    run_phases(vec![url], &store, dir.path(), &mut || {
        server.as_mut().unwrap().kill9();
        server = Some(Server::start(&cfg));
    });
}

/// A throwaway PostgreSQL database for this test, dropped at the end.
struct Database {
    admin: String,
    name: String,
    pub url: String,
}

impl Database {
    fn create(admin: &str) -> Database {
        let name = format!("bingate_serve_{}_{}", std::process::id(), free_port());
        let mut c = postgres::Client::connect(admin, postgres::NoTls)
            .expect("connect to BINGATE_TEST_POSTGRES");
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let (base, _) = admin.rsplit_once('/').unwrap();
        Database {
            admin: admin.to_owned(),
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

#[test]
fn postgres_two_replicas_1000_signatures_and_a_replica_killed() {
    let Ok(admin) = std::env::var("BINGATE_TEST_POSTGRES") else {
        interop::skip("BINGATE_TEST_POSTGRES is not set (a PostgreSQL admin URL)");
        return;
    };
    let db = Database::create(&admin);
    let dir = paths::tempdir();
    let mut cfgs = Vec::new();
    for r in ["replica-a", "replica-b"] {
        let d = dir.path().join(r);
        std::fs::create_dir(&d).unwrap();
        let cfg = config(&d, &db.url, "default", "");
        let port = free_port();
        let text = std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
        std::fs::write(&cfg, text).unwrap();
        cfgs.push(cfg);
    }
    let a = Server::start(&cfgs[0]);
    let mut b = Some(Server::start(&cfgs[1]));
    let urls = vec![a.url.clone(), b.as_ref().unwrap().url.clone()];
    run_phases(urls, &db.url, dir.path(), &mut || {
        b.as_mut().unwrap().kill9();
        b = Some(Server::start(&cfgs[1]));
    });
    drop(a);
}

/// A record deleted or edited in PostgreSQL is reported by `audit verify`.
#[test]
fn postgres_tampering_is_reported() {
    let Ok(admin) = std::env::var("BINGATE_TEST_POSTGRES") else {
        interop::skip("BINGATE_TEST_POSTGRES is not set (a PostgreSQL admin URL)");
        return;
    };
    let db = Database::create(&admin);
    let dir = paths::tempdir();
    let cfg = config(dir.path(), &db.url, "default", "");
    let mut server = Server::start(&cfg);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let r = load::run(
        &options(vec![server.url.clone()], 20, &out),
        Arc::new(AtomicUsize::new(0)),
    );
    assert_eq!(r.done.len(), 20);
    // SIGTERM: the final checkpoint anchors the 20 records.
    assert!(server.terminate().0.success());
    assert_eq!(verified_records(&db.url).len(), 20);
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let verify = || {
        bingate(&[
            "audit",
            "verify",
            "--store",
            &db.url,
            "--log-key",
            &pki("leaf-ecdsa.pem").display().to_string(),
        ])
    };
    c.execute(
        "UPDATE audit_records SET body = replace(body, 'load.exe', 'other.exe') WHERE seq = 7",
        &[],
    )
    .unwrap();
    let o = verify();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains('7'),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    c.execute("DELETE FROM audit_records WHERE seq = 12", &[])
        .unwrap();
    let o = verify();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("12"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// SIGTERM under load: the server stops accepting, finishes what it started, exits 0; every
/// record in the log was answered (nothing signed and dropped), and the chain verifies.
#[test]
fn sigterm_drains_requests_in_flight() {
    let dir = paths::tempdir();
    let store = format!("sqlite:{}", dir.path().join("audit.db").display());
    let cfg = config(dir.path(), &store, "default", "");
    let mut server = Server::start(&cfg);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let mut opts = options(vec![server.url.clone()], 400, &out);
    opts.deadline = Duration::from_secs(10);
    let progress = Arc::new(AtomicUsize::new(0));
    let (r, status) = std::thread::scope(|s| {
        let p = progress.clone();
        let h = s.spawn(move || load::run(&opts, p));
        let mut waited = 0;
        while progress.load(Ordering::SeqCst) < 50 && waited < 6000 {
            std::thread::sleep(Duration::from_millis(10));
            waited += 1;
        }
        let (status, stderr) = server.terminate();
        assert!(stderr.contains("draining"), "{stderr}");
        (h.join().unwrap(), status)
    });
    assert!(status.success());
    assert!(
        r.done.len() >= 50 && r.done.len() < 400,
        "{} done",
        r.done.len()
    );
    all_verify(&r.done);
    let records = verified_records(&store);
    let answered: HashSet<&str> = r.done.iter().map(|d| d.request_id.as_str()).collect();
    assert_eq!(
        records.len(),
        r.done.len(),
        "records without an answer after a graceful stop"
    );
    assert!(records.iter().all(|(id, _)| answered.contains(id.as_str())));
}

/// Saturation: one signing slot and no queue: the excess gets 503 `busy` at once (nothing
/// queues without bound), the rest is signed, and the metric counts the refusals.
#[test]
fn saturated_server_answers_503_busy() {
    let dir = paths::tempdir();
    let store = format!("sqlite:{}", dir.path().join("audit.db").display());
    let cfg = config(
        dir.path(),
        &store,
        "default",
        "[limits]\nworkers = 1\nqueue = 0\n",
    );
    let server = Server::start(&cfg);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let mut opts = options(vec![server.url.clone()], 100, &out);
    opts.mode = load::Mode::Digest;
    opts.deadline = Duration::from_secs(120);
    let r = load::run(&opts, Arc::new(AtomicUsize::new(0)));
    assert_eq!(r.done.len(), 100, "{:?}", r.failures);
    assert!(
        r.failures.get("status 503").copied().unwrap_or(0) > 0,
        "{:?}",
        r.failures
    );
    let m = String::from_utf8(common::serve::get(&format!("{}/metrics", server.url), None).body)
        .unwrap();
    let busy: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("bingate_busy_total "))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert_eq!(busy as usize, r.failures["status 503"]);
}
