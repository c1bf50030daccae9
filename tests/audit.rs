//! The audit log (`src/audit/`) and `bingate audit verify|list`, on both stores: SQLite in a
//! temporary directory, and PostgreSQL when `BINGATE_TEST_POSTGRES` names an admin URL (each
//! test in its own throwaway database, dropped at the end; absent => skipped, unless
//! `BINGATE_REQUIRE_INTEROP=1`). Tampering is done with plain SQL, as an attacker with the
//! database would, and `verify` must name each problem with its seq or checkpoint.

// Tests report skipped interop to the person running them.
#![allow(clippy::disallowed_macros)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bingate::audit::{
    Anchoring, Appended, AuditError, Filter, Log, LogOptions, PolicyNote, Problem, Record,
    VerifyReport, chain_hash, open_store, verify,
};
use bingate::cms::Signer;
use bingate::sign::key::{load_certificates, load_private_key};
use common::interop;
use common::paths::{pki, read, tempdir};
use common::run::bingate;
use spki::SubjectPublicKeyInfoOwned;

// ---------------------------------------------------------------------------------------------
// Stores
// ---------------------------------------------------------------------------------------------

/// A throwaway PostgreSQL database, dropped with the value.
struct PgDb {
    admin: String,
    name: String,
    url: String,
}

static DB_COUNTER: AtomicU32 = AtomicU32::new(0);

impl PgDb {
    fn create(admin: &str, test: &str) -> PgDb {
        let n = DB_COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("bingate_audit_{test}_{}_{n}", std::process::id());
        let mut client = postgres::Client::connect(admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("BINGATE_TEST_POSTGRES: {e}"));
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .expect("drop database");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        // The admin URL with its database replaced.
        let (base, query) = match admin.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin, String::new()),
        };
        let after_scheme = base.find("://").map_or(0, |i| i + 3);
        let base = match base[after_scheme..].find('/') {
            Some(slash) => &base[..after_scheme + slash],
            None => base,
        };
        let url = format!("{base}/{name}{query}");
        PgDb {
            admin: admin.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

enum Backend {
    Sqlite {
        _dir: tempfile::TempDir,
        path: String,
    },
    Pg(PgDb),
}

impl Backend {
    fn url(&self) -> String {
        match self {
            Backend::Sqlite { path, .. } => format!("sqlite:{path}"),
            Backend::Pg(db) => db.url.clone(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Pg(_) => "postgres",
        }
    }

    /// Runs `sql` directly on the database (the attacker's view).
    fn exec(&self, sql: &str) {
        match self {
            Backend::Sqlite { path, .. } => rusqlite::Connection::open(path)
                .and_then(|c| c.execute_batch(sql))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Backend::Pg(db) => postgres::Client::connect(&db.url, postgres::NoTls)
                .and_then(|mut c| c.batch_execute(sql))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    /// Sets record `seq`'s body, prev_hash and hash.
    fn set_record(&self, seq: u64, body: &str, prev: &[u8; 32], hash: &[u8; 32]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let body = body.replace('\'', "''");
        let (p, h) = match self {
            Backend::Sqlite { .. } => (format!("x'{}'", hex(prev)), format!("x'{}'", hex(hash))),
            Backend::Pg(_) => (
                format!("'\\x{}'::bytea", hex(prev)),
                format!("'\\x{}'::bytea", hex(hash)),
            ),
        };
        self.exec(&format!(
            "UPDATE audit_records SET body = '{body}', prev_hash = {p}, hash = {h} WHERE seq = {seq}"
        ));
    }

    fn set_head(&self, seq: u64, hash: &[u8; 32]) {
        let hex = hash.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let h = match self {
            Backend::Sqlite { .. } => format!("x'{hex}'"),
            Backend::Pg(_) => format!("'\\x{hex}'::bytea"),
        };
        self.exec(&format!(
            "UPDATE audit_head SET seq = {seq}, hash = {h} WHERE id = 1"
        ));
    }
}

/// SQLite, and PostgreSQL when configured.
fn backends(test: &str) -> Vec<Backend> {
    let dir = tempdir();
    let path = dir.path().join("audit.db").display().to_string();
    let mut v = vec![Backend::Sqlite { _dir: dir, path }];
    if let Some(pg) = postgres_db(test) {
        v.push(Backend::Pg(pg));
    }
    v
}

fn postgres_db(test: &str) -> Option<PgDb> {
    match std::env::var("BINGATE_TEST_POSTGRES") {
        Ok(admin) if !admin.is_empty() => Some(PgDb::create(&admin, test)),
        _ => {
            interop::skip("BINGATE_TEST_POSTGRES is not set (PostgreSQL audit store)");
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Records, keys, logs
// ---------------------------------------------------------------------------------------------

fn rec(i: u32) -> Record {
    let refused = i % 5 == 4;
    Record {
        time: format!("2026-12-06T02:{:02}:{:02}Z", (i / 60) % 60, i % 60),
        request_id: format!("req-{i}"),
        client: if i % 2 == 0 {
            "token:alice"
        } else {
            "token:bob"
        }
        .to_owned(),
        client_ip: Some("192.0.2.7".to_owned()),
        replica: Some("r1".to_owned()),
        key: if i % 3 == 0 { "release" } else { "nightly" }.to_owned(),
        cert_sha256: "ab".repeat(32),
        format: "pe".to_owned(),
        mode: "file".to_owned(),
        file_name: Some(format!("app-{i}.exe")),
        file_sha256: Some(format!("{i:064x}")),
        digest_alg: Some("sha256".to_owned()),
        digest: Some(format!("{:064x}", u64::from(i) + 1_000_000)),
        signature_sha256: (!refused).then(|| format!("{:064x}", u64::from(i) + 2_000_000)),
        timestamp_time: None,
        outcome: if refused { "refused" } else { "signed" }.to_owned(),
        policy: refused.then(|| PolicyNote {
            policy: "default".to_owned(),
            verdict: "fail".to_owned(),
            facts: "server-checked".to_owned(),
            failed: vec!["pe-nx-compat: NX compatibility is off".to_owned()],
        }),
    }
}

fn signer(key: &str) -> Box<dyn Signer> {
    let path = pki(key);
    Box::new(
        load_private_key(&read(&path), None, &path.display().to_string())
            .unwrap_or_else(|e| panic!("{e}")),
    )
}

fn public_key(cert: &str) -> SubjectPublicKeyInfoOwned {
    let path = pki(cert);
    let certs = load_certificates(&read(&path), &path.display().to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    certs[0].tbs_certificate.subject_public_key_info.clone()
}

fn options(every: u64) -> LogOptions {
    LogOptions {
        origin: "bingate audit log test".to_owned(),
        checkpoint_every: every,
        checkpoint_interval: Duration::ZERO,
    }
}

fn log(b: &Backend, key: Option<&str>, every: u64) -> Log {
    let store = open_store(&b.url()).unwrap_or_else(|e| panic!("{e}"));
    Log::new(store, key.map(signer), options(every)).unwrap_or_else(|e| panic!("{e}"))
}

/// A log of `n` records (P-256 checkpoints every 10, and one on close).
fn filled(b: &Backend, n: u32) -> Vec<Appended> {
    let log = log(b, Some("leaf-ecdsa.key"), 10);
    let out = (1..=n)
        .map(|i| log.record(&rec(i)).expect("record"))
        .collect();
    log.close().expect("close");
    out
}

fn verified(b: &Backend, key: Option<&SubjectPublicKeyInfoOwned>) -> VerifyReport {
    let store = open_store(&b.url()).expect("open");
    verify(store.as_ref(), key).unwrap_or_else(|e| panic!("{e}"))
}

fn rendered(r: &VerifyReport) -> String {
    let mut out = Vec::new();
    r.render(&mut out).expect("render");
    String::from_utf8(out).expect("utf-8")
}

/// `bingate audit verify` on `b`: exit code and stdout.
fn cli_verify(b: &Backend, log_key: Option<&str>) -> (i32, String, String) {
    let url = b.url();
    let mut args = vec![
        "audit".to_owned(),
        "verify".to_owned(),
        "--store".to_owned(),
        url,
    ];
    if let Some(k) = log_key {
        args.push("--log-key".to_owned());
        args.push(pki(k).display().to_string());
    }
    let o = bingate(&args);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `verify` finds exactly `expected` (in some order), and the CLI exits 1 naming `needle`.
fn assert_problems(b: &Backend, expected: &[Problem], needle: &str) {
    let key = public_key("leaf-ecdsa.pem");
    let report = verified(b, Some(&key));
    let text = rendered(&report);
    for p in expected {
        assert!(
            report.problems.contains(p),
            "{}: expected {p:?} in\n{text}",
            b.name()
        );
    }
    assert!(!report.is_ok(), "{}: {text}", b.name());
    let (code, out, err) = cli_verify(b, Some("leaf-ecdsa.pem"));
    assert_eq!(code, 1, "{}: {out}{err}", b.name());
    assert!(
        out.contains(needle),
        "{}: {needle:?} not in\n{out}",
        b.name()
    );
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn append_and_verify_ok_on_both_stores() {
    for b in backends("append") {
        let appended = filled(&b, 25);
        assert_eq!(
            appended.iter().map(|a| a.seq).collect::<Vec<_>>(),
            (1..=25).collect::<Vec<_>>()
        );
        // The chain is the documented hash over the exact serde_json bytes.
        let mut prev = [0u8; 32];
        for (i, a) in (1..=25).zip(&appended) {
            let body = serde_json::to_string(&rec(i)).expect("json");
            let h = chain_hash(u64::from(i), &prev, body.as_bytes());
            assert_eq!(a.hash, h, "{}: seq {i}", b.name());
            prev = h;
        }
        let key = public_key("leaf-ecdsa.pem");
        let report = verified(&b, Some(&key));
        assert!(report.is_ok(), "{}: {}", b.name(), rendered(&report));
        assert_eq!(report.records, 25);
        // Every 10 records, and the one on close.
        assert_eq!((report.checkpoints, report.checkpoints_valid), (3, 3));
        assert_eq!(report.anchored_size, 25);
        assert_eq!(report.anchoring, Anchoring::LogKey);
        let (code, out, err) = cli_verify(&b, Some("leaf-ecdsa.pem"));
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("result: intact"), "{out}");
    }
}

#[test]
fn concurrent_appends_form_one_linear_chain() {
    const THREADS: u32 = 16;
    const EACH: u32 = 30;
    for b in backends("concurrent") {
        let log = Arc::new(log(&b, Some("leaf-ecdsa.key"), 50));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    (0..EACH)
                        .map(|i| log.record(&rec(t * 1000 + i)).expect("record").seq)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut seqs: Vec<u64> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect();
        log.close().expect("close");
        seqs.sort_unstable();
        let total = u64::from(THREADS * EACH);
        assert_eq!(seqs, (1..=total).collect::<Vec<_>>(), "{}", b.name());
        let report = verified(&b, Some(&public_key("leaf-ecdsa.pem")));
        assert!(report.is_ok(), "{}: {}", b.name(), rendered(&report));
        assert_eq!(
            (report.records, report.last_seq, report.head_size),
            (total, total, total)
        );
        assert!(
            report.checkpoints_valid >= total / 50,
            "{}",
            rendered(&report)
        );
    }
}

#[test]
fn two_logs_on_one_database_interleave_into_one_chain() {
    // Two stores (connections), as two server replicas: PostgreSQL's head row lock and
    // SQLite's single writer make one chain of them.
    for b in backends("replicas") {
        let a = Arc::new(log(&b, Some("leaf-ecdsa.key"), 7));
        let c = Arc::new(log(&b, Some("leaf-ecdsa.key"), 7));
        let handles: Vec<_> = (0..8u32)
            .map(|t| {
                let l = Arc::clone(if t % 2 == 0 { &a } else { &c });
                std::thread::spawn(move || {
                    for i in 0..20 {
                        let mut r = rec(t * 100 + i);
                        r.replica = Some(format!("r{}", t % 2));
                        l.record(&r).expect("record");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        a.close().expect("close a");
        c.close().expect("close c");
        let report = verified(&b, Some(&public_key("leaf-ecdsa.pem")));
        assert!(report.is_ok(), "{}: {}", b.name(), rendered(&report));
        assert_eq!(report.records, 160, "{}", b.name());
        // Both replicas' records are in it.
        let store = open_store(&b.url()).expect("open");
        let mut replicas = std::collections::BTreeSet::new();
        store
            .records(&Filter::default(), &mut |r| {
                let body: Record = serde_json::from_str(&r.body).expect("body");
                replicas.insert(body.replica);
                Ok(true)
            })
            .expect("records");
        assert_eq!(replicas.len(), 2, "{}", b.name());
        assert!(report.checkpoints_valid >= 160 / 7, "{}", rendered(&report));
    }
}

#[test]
fn edited_body_is_reported_at_its_seq() {
    for b in backends("edit_body") {
        filled(&b, 30);
        b.exec(
            "UPDATE audit_records SET body = replace(body, 'app-5.exe', 'evil.exe') WHERE seq = 5",
        );
        assert_problems(&b, &[], "seq 5: record edited");
        let report = verified(&b, None);
        assert!(
            matches!(
                report.problems.as_slice(),
                [Problem::HashMismatch { seq: 5, .. }]
            ),
            "{}: {}",
            b.name(),
            rendered(&report)
        );
    }
}

#[test]
fn edited_column_is_reported_at_its_seq() {
    for b in backends("edit_column") {
        filled(&b, 30);
        b.exec("UPDATE audit_records SET outcome = 'refused' WHERE seq = 7");
        assert_problems(
            &b,
            &[Problem::ColumnMismatch {
                seq: 7,
                columns: vec!["outcome"],
            }],
            "seq 7: column(s) outcome do not match",
        );
        assert_eq!(verified(&b, None).problems.len(), 1);
    }
}

#[test]
fn deleted_middle_record_is_a_gap() {
    for b in backends("delete_middle") {
        filled(&b, 30);
        b.exec("DELETE FROM audit_records WHERE seq = 12");
        // seq 10's checkpoint still matches; 20's and 30's too (the rows are there).
        assert_problems(
            &b,
            &[Problem::Gap { from: 12, to: 12 }],
            "seq 12: missing record",
        );
        assert_eq!(verified(&b, None).problems.len(), 1, "{}", b.name());
    }
}

#[test]
fn deleted_last_records_after_a_checkpoint_are_reported() {
    for b in backends("delete_tail") {
        let appended = filled(&b, 30);
        // The attacker removes the last five records and moves the head row back to hide it.
        b.exec("DELETE FROM audit_records WHERE seq > 25");
        b.set_head(25, &appended[24].hash);
        let report = verified(&b, Some(&public_key("leaf-ecdsa.pem")));
        assert!(
            report.problems.iter().any(|p| matches!(
                p,
                Problem::CheckpointBeyondLog {
                    size: 30,
                    last_seq: 25,
                    ..
                }
            )),
            "{}: {}",
            b.name(),
            rendered(&report)
        );
        assert_problems(&b, &[], "records 26..30 were deleted from the end");
    }
}

#[test]
fn rechained_edit_is_caught_by_the_checkpoints() {
    for b in backends("rechain") {
        filled(&b, 30);
        // Edit seq 5 and recompute every hash after it, the head row too: the chain itself is
        // consistent again, only the signed checkpoints can tell.
        let store = open_store(&b.url()).expect("open");
        let mut rows = Vec::new();
        store
            .records(&Filter::default(), &mut |r| {
                rows.push(r);
                Ok(true)
            })
            .expect("records");
        let mut prev = [0u8; 32];
        for r in &rows {
            let mut body = r.body.clone();
            if r.seq == 5 {
                body = body.replace("app-5.exe", "evil.exe");
            }
            let h = chain_hash(r.seq, &prev, body.as_bytes());
            if r.seq >= 5 {
                b.set_record(r.seq, &body, &prev, &h);
            }
            prev = h;
        }
        b.set_head(30, &prev);
        let report = verified(&b, Some(&public_key("leaf-ecdsa.pem")));
        let mismatched: Vec<u64> = report
            .problems
            .iter()
            .filter_map(|p| match p {
                Problem::CheckpointHeadMismatch { size, .. } => Some(*size),
                _ => None,
            })
            .collect();
        assert_eq!(
            mismatched,
            [10, 20, 30],
            "{}: {}",
            b.name(),
            rendered(&report)
        );
        // ...and with every checkpoint refuted, nothing anchors the chain any more.
        assert!(
            report
                .problems
                .contains(&Problem::NoTrustedCheckpoint { records: 30 })
        );
        assert_eq!(report.problems.len(), 4, "{}", rendered(&report));
        assert_problems(&b, &[], "the chain was rewritten");
    }
}

#[test]
fn checkpoints_verify_with_their_log_key_and_fail_with_another() {
    for (key, cert) in [
        ("leaf-ecdsa.key", "leaf-ecdsa.pem"),
        ("leaf-rsa.key", "leaf-rsa.pem"),
    ] {
        for b in backends("keys") {
            let log = log(&b, Some(key), 4);
            for i in 1..=9 {
                log.record(&rec(i)).expect("record");
            }
            log.close().expect("close");
            let good = verified(&b, Some(&public_key(cert)));
            assert!(good.is_ok(), "{key} {}: {}", b.name(), rendered(&good));
            assert_eq!(good.checkpoints_valid, 3, "{}", rendered(&good));
            assert_eq!(cli_verify(&b, Some(cert)).0, 0);

            // Another key: every checkpoint is named, and nothing anchors the chain.
            let other = if cert == "leaf-rsa.pem" {
                "leaf-ecdsa.pem"
            } else {
                "selfsigned.pem"
            };
            let bad = verified(&b, Some(&public_key(other)));
            let wrong = bad
                .problems
                .iter()
                .filter(|p| matches!(p, Problem::CheckpointWrongKey { .. }))
                .count();
            assert_eq!(wrong, 3, "{}", rendered(&bad));
            assert!(
                bad.problems
                    .contains(&Problem::NoTrustedCheckpoint { records: 9 })
            );
            let (code, out, _) = cli_verify(&b, Some(other));
            assert_eq!(code, 1, "{out}");
            assert!(
                out.contains("signed by a key other than --log-key"),
                "{out}"
            );

            // Without --log-key: checked against the stored key only, and said so.
            let stored = verified(&b, None);
            assert!(stored.is_ok());
            assert_eq!(stored.anchoring, Anchoring::StoredKeys);
            assert!(rendered(&stored).contains("not anchored"));
        }
    }
}

#[test]
fn forged_checkpoint_signature_is_reported() {
    for b in backends("forged") {
        filled(&b, 12);
        // A different note under the old signature: the signature no longer verifies.
        b.exec(
            "UPDATE audit_checkpoints SET note = replace(note, 'time ', 'time  ') WHERE size = 10",
        );
        let report = verified(&b, Some(&public_key("leaf-ecdsa.pem")));
        assert!(
            report
                .problems
                .iter()
                .any(|p| matches!(p, Problem::CheckpointBadSignature { size: 10, .. })),
            "{}",
            rendered(&report)
        );
    }
}

#[test]
fn checkpoint_signature_verifies_with_openssl() {
    if !interop::require("openssl") {
        return;
    }
    let dir = tempdir();
    let b = Backend::Sqlite {
        path: dir.path().join("a.db").display().to_string(),
        _dir: tempdir(),
    };
    filled(&b, 3);
    let store = open_store(&b.url()).expect("open");
    let mut cps = Vec::new();
    store
        .checkpoints(&mut |c| {
            cps.push(c);
            Ok(true)
        })
        .expect("checkpoints");
    let cp = cps.last().expect("a checkpoint");
    std::fs::write(dir.path().join("note"), &cp.note).expect("note");
    std::fs::write(dir.path().join("sig"), &cp.signature).expect("sig");
    std::fs::write(dir.path().join("pub.der"), &cp.spki).expect("spki");
    let o = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-keyform", "DER", "-verify"])
        .arg(dir.path().join("pub.der"))
        .arg("-signature")
        .arg(dir.path().join("sig"))
        .arg(dir.path().join("note"))
        .output()
        .expect("openssl");
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        cp.note.starts_with("bingate audit log test\n3\n"),
        "{}",
        cp.note
    );

    // --log-key also takes a PEM public key (as `openssl x509 -pubkey` writes it).
    let o = std::process::Command::new("openssl")
        .args(["x509", "-pubkey", "-noout", "-in"])
        .arg(pki("leaf-ecdsa.pem"))
        .output()
        .expect("openssl");
    assert!(o.status.success());
    let pem = dir.path().join("log-key.pub.pem");
    std::fs::write(&pem, &o.stdout).expect("pem");
    let url = b.url();
    let pem_arg = pem.display().to_string();
    let o = bingate(&["audit", "verify", "--store", &url, "--log-key", &pem_arg]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("checkpoints signed by --log-key"));
}

#[test]
fn failed_commit_fails_the_caller_and_stores_nothing() {
    for b in backends("fail_closed") {
        let log = log(&b, None, 0);
        log.record(&rec(1)).expect("record");
        assert!(log.ready().is_ok());
        b.exec("ALTER TABLE audit_records RENAME TO audit_records_gone");
        let e = log.record(&rec(2)).expect_err("nowhere to write");
        assert!(matches!(e, AuditError::Append { records: 1, .. }), "{e}");
        assert!(e.to_string().contains("nothing was recorded"), "{e}");
        b.exec("ALTER TABLE audit_records_gone RENAME TO audit_records");
        // The head did not move: the next record is seq 2.
        assert_eq!(log.record(&rec(3)).expect("record").seq, 2);
        log.close().expect("close");
        assert!(matches!(
            log.record(&rec(4)),
            Err(AuditError::Closed { .. })
        ));
    }
}

#[test]
fn postgres_password_is_not_in_descriptions_or_errors() {
    let Some(db) = postgres_db("password") else {
        return;
    };
    let store = open_store(&db.url).expect("open");
    let d = store.describe();
    assert!(d.contains(":***@"), "{d}");
    assert!(!d.contains(":bingate@"), "{d}");
    let bad = db
        .url
        .replacen("://bingate:bingate@", "://bingate:wrongpass@", 1);
    if bad != db.url {
        let e = open_store(&bad).err().expect("wrong password").to_string();
        assert!(!e.contains("wrongpass"), "{e}");
    }
}

#[test]
fn list_filters_and_formats() {
    for b in backends("list") {
        filled(&b, 20);
        let url = b.url();
        let list = |extra: &[&str]| {
            let mut args = vec!["audit", "list", "--store", url.as_str()];
            args.extend_from_slice(extra);
            let o = bingate(&args);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
            String::from_utf8(o.stdout).expect("utf-8")
        };
        let all = list(&[]);
        assert_eq!(all.lines().count(), 20, "{all}");
        let refused = list(&["--outcome", "refused"]);
        // i % 5 == 4: 4, 9, 14, 19.
        assert_eq!(refused.lines().count(), 4, "{refused}");
        assert!(refused.lines().all(|l| l.contains("refused")), "{refused}");
        let release = list(&["--key", "release", "--client", "token:alice"]);
        // i % 3 == 0 and even: 6, 12, 18.
        assert_eq!(release.lines().count(), 3, "{release}");
        let by_file = list(&["--digest", &format!("{:064X}", 7)]);
        assert_eq!(by_file.lines().count(), 1, "{by_file}");
        assert!(by_file.contains("app-7.exe"), "{by_file}");
        let by_digest = list(&["--digest", &format!("{:064x}", 1_000_008)]);
        assert!(by_digest.contains("app-8.exe"), "{by_digest}");
        let window = list(&[
            "--since",
            "2026-12-06T02:00:05Z",
            "--until",
            "2026-12-06T03:00:07+01:00",
        ]);
        assert_eq!(window.lines().count(), 3, "{window}");
        let json = list(&["--json", "--limit", "2"]);
        let lines: Vec<serde_json::Value> = json
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(lines.len(), 2, "{json}");
        assert_eq!(lines[1]["seq"], 2);
        assert_eq!(lines[1]["record"]["request_id"], "req-2");
        let o = bingate(&[
            "audit",
            "list",
            "--store",
            url.as_str(),
            "--since",
            "yesterday",
        ]);
        assert_eq!(o.status.code(), Some(2));
    }
}

#[test]
fn verify_errors_exit_2() {
    let o = bingate(&["audit", "verify", "--store", "mysql://u:secret@h/d"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("secret"), "{err}");
    // A mistyped path is an error, not a new empty log called intact.
    let dir = tempdir();
    let missing = dir.path().join("missing.db");
    let o = bingate(&["audit", "verify", "--store", &missing.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!missing.exists());
}

#[test]
fn interval_checkpoints_follow_the_head() {
    for b in backends("interval") {
        let store = open_store(&b.url()).expect("open");
        let opts = LogOptions {
            checkpoint_interval: Duration::from_millis(300),
            ..options(0)
        };
        let log = Log::new(store, Some(signer("leaf-ecdsa.key")), opts).expect("log");
        log.record(&rec(1)).expect("record");
        log.record(&rec(2)).expect("record");
        let count = || {
            let mut n = Vec::new();
            open_store(&b.url())
                .expect("open")
                .checkpoints(&mut |c| {
                    n.push(c.size);
                    Ok(true)
                })
                .expect("checkpoints");
            n
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while count().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(count(), [2], "{}", b.name());
        // The head did not move: no new checkpoint on the next ticks, nor on close.
        std::thread::sleep(Duration::from_millis(700));
        log.close().expect("close");
        assert_eq!(count(), [2], "{}", b.name());
    }
}
