//! `bingate serve` end to end on loopback: authentication (401), roles (403), the policy gate
//! (422, recorded), whole-file and digest-only signing of PE and ELF files (outputs verified by
//! bingate and, when installed, osslsigncode), metrics, readiness, graceful shutdown with a
//! final checkpoint, and `bingate audit verify` on the log they leave (intact, then tampered).

mod common;
mod tsa;

use std::path::Path;

use common::interop;
use common::paths::{self, corpus, pki};
use common::run::bingate;
use common::serve::{CI_TOKEN, OPS_TOKEN, Server, config, get, post};

fn pe(name: &str) -> std::path::PathBuf {
    corpus("pe").join(name)
}

/// `bingate verify --require all` with the test root trusted: the file's signature status.
fn verify_status(file: &Path) -> String {
    let o = bingate(&[
        "verify",
        "--format",
        "json",
        "--trust",
        &pki("root.pem").display().to_string(),
        &file.display().to_string(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    v["files"][0]["signature"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn osslsigncode_verifies(file: &Path) -> bool {
    let o = std::process::Command::new("osslsigncode")
        .args(["verify", "-CAfile"])
        .arg(pki("root.pem"))
        .arg("-in")
        .arg(file)
        .output()
        .expect("osslsigncode");
    o.status.success()
}

/// `bingate sign FORMAT --server URL --key KEY --token-file TOKEN --output OUT INPUT`.
fn sign_via(
    url: &str,
    format: &str,
    key: &str,
    token: &Path,
    input: &Path,
    out: &Path,
) -> std::process::Output {
    bingate(&[
        "sign",
        format,
        "--server",
        url,
        "--key",
        key,
        "--token-file",
        &token.display().to_string(),
        "--output",
        &out.display().to_string(),
        &input.display().to_string(),
    ])
}

fn audit(args: &[&str]) -> std::process::Output {
    let mut a = vec!["audit"];
    a.extend_from_slice(args);
    bingate(&a)
}

#[test]
fn statuses_signing_and_the_audit_log() {
    let dir = paths::tempdir();
    let store = format!("sqlite:{}", dir.path().join("audit.db").display());
    let cfg = config(dir.path(), &store, "default", "");
    let mut server = Server::start(&cfg);
    let u = server.url.clone();

    // Health and readiness need no credential.
    assert_eq!(get(&format!("{u}/healthz"), None).status, 200);
    let ready = get(&format!("{u}/readyz"), None);
    assert_eq!(
        ready.status,
        200,
        "{}",
        String::from_utf8_lossy(&ready.body)
    );

    // 401: no token, a wrong token, a malformed header.
    for token in [None, Some("not-a-token")] {
        let a = get(&format!("{u}/v1/keys"), token);
        assert_eq!(a.status, 401);
        assert_eq!(a.json()["error"]["code"], "unauthorized");
        assert_eq!(a.json()["error"]["request_id"], a.request_id.as_str());
    }
    // The key list holds what the caller's roles allow.
    let keys = get(&format!("{u}/v1/keys"), Some(CI_TOKEN)).json();
    let names: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["release", "gated"]);
    assert_eq!(keys["keys"][1]["policy"], "default");

    let input = paths::read(pe("x64-default.exe"));
    // 403: the ops key with the ci token; 404: no such key.
    let a = post(
        &format!("{u}/v1/sign/pe?key=ops-key"),
        Some(CI_TOKEN),
        &input,
        "application/octet-stream",
    );
    assert_eq!(a.status, 403, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["error"]["code"], "forbidden");
    let a = post(
        &format!("{u}/v1/sign/pe?key=nope"),
        Some(CI_TOKEN),
        &input,
        "application/octet-stream",
    );
    assert_eq!(a.status, 404);
    // Not a PE file: 400, nothing signed.
    let a = post(
        &format!("{u}/v1/sign/pe?key=release"),
        Some(CI_TOKEN),
        b"MZ but not really",
        "application/octet-stream",
    );
    assert_eq!(a.status, 400, "{}", String::from_utf8_lossy(&a.body));

    // 422: the gated key's policy denies a file without NX compatibility; the refusal carries
    // the findings and the server's report, and is recorded.
    let bad = paths::read(pe("x64-no-nxcompat.exe"));
    let a = post(
        &format!("{u}/v1/sign/pe?key=gated&name=no-nx.exe"),
        Some(CI_TOKEN),
        &bad,
        "application/octet-stream",
    );
    assert_eq!(a.status, 422, "{}", String::from_utf8_lossy(&a.body));
    let e = a.json();
    assert_eq!(e["error"]["code"], "policy_refused");
    assert!(
        e["error"]["findings"][0]
            .as_str()
            .unwrap()
            .starts_with("pe-nx-compat:"),
        "{e}"
    );
    assert!(e["error"]["report"]["hardening"].is_object(), "{e}");
    let refused_id = a.request_id.clone();

    // 200: whole file through the gated key (passes) and the plain key.
    let mut signed_ids = Vec::new();
    for key in ["gated", "release"] {
        let a = post(
            &format!("{u}/v1/sign/pe?key={key}&name=app.exe"),
            Some(CI_TOKEN),
            &input,
            "application/octet-stream",
        );
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        let out = dir.path().join(format!("{key}.exe"));
        std::fs::write(&out, &a.body).unwrap();
        assert_eq!(verify_status(&out), "valid", "{key}");
        if interop::require("osslsigncode") {
            assert!(
                osslsigncode_verifies(&out),
                "osslsigncode rejects {key}.exe"
            );
        }
        signed_ids.push(a.request_id);
    }

    // Digest-only through the client: one local pass, the PKCS#7 from the server.
    let token_file = dir.path().join("ci.token");
    let out = dir.path().join("client.exe");
    let o = sign_via(
        &u,
        "pe",
        "release",
        &token_file,
        &pe("x64-default.exe"),
        &out,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(verify_status(&out), "valid");
    if interop::require("osslsigncode") {
        assert!(osslsigncode_verifies(&out));
    }
    // The digest-only path through the gated key needs the client's evidence, which the client
    // sends: it passes for this file and is refused for the one without NX.
    let o = sign_via(
        &u,
        "pe",
        "gated",
        &token_file,
        &pe("x64-no-nxcompat.exe"),
        &dir.path().join("c2.exe"),
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("pe-nx-compat"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!dir.path().join("c2.exe").exists());

    // ELF: whole file (section and module format).
    let elf = paths::read(corpus("elf").join("pie-default"));
    for format in ["section", "module"] {
        let a = post(
            &format!("{u}/v1/sign/elf?key=release&format={format}&name=tool"),
            Some(CI_TOKEN),
            &elf,
            "application/octet-stream",
        );
        assert_eq!(
            a.status,
            200,
            "{format}: {}",
            String::from_utf8_lossy(&a.body)
        );
        let out = dir.path().join(format!("tool-{format}"));
        std::fs::write(&out, &a.body).unwrap();
        let o = bingate(&[
            "verify",
            "--format",
            "json",
            "--trust",
            &pki("root.pem").display().to_string(),
            "--cert",
            &pki("leaf-rsa.pem").display().to_string(),
            &out.display().to_string(),
        ]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let status = v["files"][0]["signature"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            status == "valid" || (format == "module" && status == "untrusted"),
            "{format}: {v}"
        );
    }

    // ELF digest-only through the client (the manifest goes to the server, the CMS comes back).
    let out = dir.path().join("tool-client");
    let o = sign_via(
        &u,
        "elf",
        "release",
        &token_file,
        &corpus("elf").join("pie-default"),
        &out,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bingate(&[
        "verify",
        "--format",
        "json",
        "--trust",
        &pki("root.pem").display().to_string(),
        &out.display().to_string(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["signature"]["status"], "valid", "{v}");

    // The ops client may not use the release key either way.
    let a = post(
        &format!("{u}/v1/sign/elf?key=release"),
        Some(OPS_TOKEN),
        &elf,
        "application/octet-stream",
    );
    assert_eq!(a.status, 403);

    // Metrics count what happened.
    let m = String::from_utf8(get(&format!("{u}/metrics"), None).body).unwrap();
    assert!(
        m.contains("bingate_signatures_total{key=\"release\",outcome=\"signed\"} 5"),
        "{m}"
    );
    assert!(
        m.contains("bingate_signatures_total{key=\"gated\",outcome=\"refused\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("route=\"GET /v1/keys\",status=\"401\"} 2"),
        "{m}"
    );

    // SIGTERM: drains, writes a final checkpoint, exits 0.
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");

    // The log: every signature and refusal, chained, the checkpoint signed by the log key.
    let o = audit(&[
        "verify",
        "--store",
        &store,
        "--log-key",
        &pki("leaf-ecdsa.pem").display().to_string(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = audit(&["list", "--store", &store, "--json"]);
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 2 whole-file PE + 1 client PE + 2 whole-file ELF + 1 client ELF signed; 2 refused (whole
    // file, digest).
    assert_eq!(records.len(), 8, "{records:?}");
    let body = |r: &serde_json::Value| r.get("record").cloned().unwrap_or_else(|| r.clone());
    let refused: Vec<_> = records
        .iter()
        .map(body)
        .filter(|r| r["outcome"] == "refused")
        .collect();
    assert_eq!(refused.len(), 2);
    assert!(
        refused
            .iter()
            .any(|r| r["request_id"] == refused_id.as_str()
                && r["policy"]["facts"] == "server-checked"
                && r["file_sha256"] == common::serve::sha256_hex(&bad).as_str())
    );
    assert!(
        refused
            .iter()
            .any(|r| r["policy"]["facts"] == "client-supplied" && r["mode"] == "digest")
    );
    for id in &signed_ids {
        assert!(records.iter().map(body).any(|r| &r["request_id"] == id
            && r["outcome"] == "signed"
            && r["signature_sha256"].is_string()
            && r["digest"].is_string()));
    }

    // Tampering: an edited record is reported with its place, exit 1.
    let db = dir.path().join("audit.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n = conn
        .execute(
            "UPDATE audit_records SET body = replace(body, 'app.exe', 'evil.exe') WHERE seq = 3",
            [],
        )
        .unwrap_or_else(|e| panic!("edit the record: {e}"));
    assert_eq!(n, 1);
    drop(conn);
    let o = audit(&[
        "verify",
        "--store",
        &store,
        "--log-key",
        &pki("leaf-ecdsa.pem").display().to_string(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("3"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// An audit store that refuses the record: nothing is signed (503 `audit_unavailable`), and the
/// metric counts it.
#[test]
fn fails_closed_when_the_audit_log_cannot_be_written() {
    let dir = paths::tempdir();
    let db = dir.path().join("audit.db");
    let store = format!("sqlite:{}", db.display());
    let cfg = config(dir.path(), &store, "default", "");
    let server = Server::start(&cfg);
    let u = server.url.clone();
    // Make the database read-only underneath the server: a trigger that aborts every insert.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TRIGGER no_more BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'read-only for the test'); END;")
        .unwrap();
    drop(conn);
    let input = paths::read(pe("x64-default.exe"));
    let a = post(
        &format!("{u}/v1/sign/pe?key=release"),
        Some(CI_TOKEN),
        &input,
        "application/octet-stream",
    );
    assert_eq!(a.status, 503, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["error"]["code"], "audit_unavailable");
    let m = String::from_utf8(get(&format!("{u}/metrics"), None).body).unwrap();
    assert!(m.contains("bingate_audit_failures_total 1"), "{m}");
}

/// The configuration is validated with positions; plain HTTP off loopback is refused.
#[test]
fn bad_configurations_are_reported_with_positions() {
    let dir = paths::tempdir();
    let cfg = dir.path().join("serve.toml");
    std::fs::write(
        &cfg,
        "listen = \"0.0.0.0:8443\"\n[keys.a]\nkey = \"a.pem\"\nrole = [\"x\"]\n",
    )
    .unwrap();
    let o = bingate(&["serve", "--config", &cfg.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("serve.toml:1:"), "{e}");
    assert!(e.contains("not a loopback address"), "{e}");
    assert!(e.contains("unknown key `role`"), "{e}");
    assert!(e.contains("did you mean `roles`"), "{e}");
}

/// `--new-token` prints a token whose SHA-256 is the configuration line it prints.
#[test]
fn new_token_prints_a_token_and_its_hash() {
    let o = bingate(&["serve", "--new-token", "ci"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    let token = text.lines().nth(1).unwrap();
    assert_eq!(token.len(), 64);
    assert!(
        text.contains(&format!(
            "token_sha256 = \"{}\"",
            common::serve::sha256_hex(token.as_bytes())
        )),
        "{text}"
    );
}

/// Runs `openssl ARGS` in `dir`; panics with its stderr when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let o = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl.
fn tls_pki(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut a = vec!["req", "-x509"];
    a.extend(ec);
    a.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=bingate test TLS CA",
    ]);
    openssl(dir, &a);
    for (name, ext) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        ),
        ("client", "extendedKeyUsage=clientAuth\n"),
    ] {
        let mut a = vec!["req"];
        a.extend(ec);
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let subj = format!("/CN=bingate test {name}");
        a.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
        openssl(dir, &a);
        std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
        let pem = format!("{name}.pem");
        let extfile = format!("{name}.ext");
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &extfile,
            ],
        );
    }
}

/// HTTPS with a token, and mutual TLS with a client certificate instead of a token; a
/// certificate the configuration does not list is refused (401), one from another CA cannot
/// connect.
#[test]
fn tls_and_mutual_tls() {
    if !interop::require("openssl") {
        return;
    }
    let dir = paths::tempdir();
    let d = dir.path();
    tls_pki(d);
    let client_der = std::fs::read(d.join("client.pem")).unwrap();
    let client_fp = {
        let pem = String::from_utf8(client_der).unwrap();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        common::serve::sha256_hex(&der)
    };
    let extra = format!(
        "[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\nclient_ca = \"ca.pem\"\n[clients.robot]\ncert_sha256 = \"{client_fp}\"\nroles = [\"release\"]\n"
    );
    let store = format!("sqlite:{}", d.join("audit.db").display());
    let cfg = config(d, &store, "default", &extra);
    let server = Server::start(&cfg);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let input = pe("x64-default.exe").display().to_string();
    let sign = |out: &str, auth: &[&str]| {
        let mut a = vec![
            "sign",
            "pe",
            "--server",
            &server.url,
            "--key",
            "release",
            "--server-ca",
        ];
        let ca = d.join("ca.pem").display().to_string();
        let out = d.join(out).display().to_string();
        a.push(&ca);
        a.extend_from_slice(auth);
        a.extend(["--output", &out, &input]);
        let o = bingate(&a);
        (o, out)
    };
    // A token over HTTPS.
    let token = d.join("ci.token").display().to_string();
    let (o, out) = sign("token.exe", &["--token-file", &token]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(verify_status(Path::new(&out)), "valid");
    // The client certificate alone.
    let (cert, key) = (
        d.join("client.pem").display().to_string(),
        d.join("client.key").display().to_string(),
    );
    let (o, out) = sign("mtls.exe", &["--client-cert", &cert, "--client-key", &key]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(verify_status(Path::new(&out)), "valid");
    // The server certificate must chain to --server-ca: the system bundle does not know it.
    let o = bingate(&[
        "sign",
        "pe",
        "--server",
        &server.url,
        "--key",
        "release",
        "--token-file",
        &token,
        "--output",
        &d.join("x.exe").display().to_string(),
        &input,
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A certificate from another CA does not get through the handshake.
    let other = d.join("other");
    std::fs::create_dir(&other).unwrap();
    tls_pki(&other);
    let (cert, key) = (
        other.join("client.pem").display().to_string(),
        other.join("client.key").display().to_string(),
    );
    let (o, _) = sign("other.exe", &["--client-cert", &cert, "--client-key", &key]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!d.join("other.exe").exists());
    // Who signed is in the log: the token client and the certificate client.
    drop(server);
    let o = audit(&["list", "--store", &store, "--json"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("\"client\":\"token:ci\""), "{text}");
    assert!(text.contains("\"client\":\"cert:robot\""), "{text}");
}

/// A client over its rate limit gets 429; others are not affected.
#[test]
fn rate_limits_are_per_client() {
    let dir = paths::tempdir();
    let store = format!("sqlite:{}", dir.path().join("audit.db").display());
    let slow = "slow-token-0123456789";
    let extra = format!(
        "[clients.slow]\ntoken_sha256 = \"{}\"\nroles = [\"release\"]\nrate_per_second = 0.5\nburst = 2\n",
        common::serve::sha256_hex(slow.as_bytes())
    );
    let cfg = config(dir.path(), &store, "default", &extra);
    let server = Server::start(&cfg);
    let u = &server.url;
    assert_eq!(get(&format!("{u}/v1/keys"), Some(slow)).status, 200);
    assert_eq!(get(&format!("{u}/v1/keys"), Some(slow)).status, 200);
    let a = get(&format!("{u}/v1/keys"), Some(slow));
    assert_eq!(a.status, 429);
    assert_eq!(a.json()["error"]["code"], "rate_limited");
    assert_eq!(get(&format!("{u}/v1/keys"), Some(CI_TOKEN)).status, 200);
}

/// A file over `max_file_bytes` is refused with 413 before it is read; nothing is recorded; the
/// client reads the refusal even while it is still sending.
#[test]
fn oversized_files_are_413() {
    let dir = paths::tempdir();
    let store = format!("sqlite:{}", dir.path().join("audit.db").display());
    let cfg = config(
        dir.path(),
        &store,
        "default",
        "[limits]\nmax_file_bytes = 10000\n",
    );
    let server = Server::start(&cfg);
    let input = paths::read(corpus("sign").join("rust-hello.exe"));
    assert!(input.len() > 10_000);
    let a = post(
        &format!("{}/v1/sign/pe?key=release", server.url),
        Some(CI_TOKEN),
        &input,
        "application/octet-stream",
    );
    assert_eq!(a.status, 413, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["error"]["code"], "too_large");
    // An upload far larger than the sockets' buffers, refused from its head (413) or before its
    // body is read (401): the client, still writing, reads the answer instead of a reset.
    let big = vec![0u8; 24 << 20];
    for token in [Some(CI_TOKEN), None] {
        let a = post(
            &format!("{}/v1/sign/pe?key=release", server.url),
            token,
            &big,
            "application/octet-stream",
        );
        let want = if token.is_some() { 413 } else { 401 };
        assert_eq!(a.status, want, "{}", String::from_utf8_lossy(&a.body));
    }
    drop(server);
    let o = audit(&["list", "--store", &store, "--json"]);
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// A key with TSAs (the first one down: fail-over) timestamps whole-file and digest-only
/// signatures, and the records hold the timestamp's time; a key with a SmartScreen-risk ceiling
/// refuses a whole PE file whose signed result would be above it (the test PKI is untrusted:
/// high).
#[test]
fn timestamps_and_the_risk_ceiling() {
    let t = tsa::TestTsa::start(tsa::Mode::Good);
    let p = |n: &str| pki(n).display().to_string();
    let extra = format!(
        "[keys.stamped]\nkey = \"{}\"\ncert = \"{}\"\nchain = \"{}\"\nroles = [\"release\"]\ntimestamp_urls = [\"{}\", \"{}\"]\n[keys.careful]\nkey = \"{}\"\ncert = \"{}\"\nroles = [\"release\"]\nformats = [\"pe\"]\nrisk_at_most = \"low\"\n",
        p("leaf-rsa.key"),
        p("leaf-rsa.pem"),
        p("intermediate.pem"),
        tsa::closed_port_url(),
        t.url(),
        p("leaf-rsa.key"),
        p("leaf-rsa.pem"),
    );
    let dir = paths::tempdir();
    let store = format!("sqlite:{}", dir.path().join("audit.db").display());
    let cfg = config(dir.path(), &store, "default", &extra);
    let server = Server::start(&cfg);
    let u = &server.url;
    let input = paths::read(pe("x64-default.exe"));
    let a = post(
        &format!("{u}/v1/sign/pe?key=stamped"),
        Some(CI_TOKEN),
        &input,
        "application/octet-stream",
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let out = dir.path().join("stamped.exe");
    std::fs::write(&out, &a.body).unwrap();
    let o = bingate(&[
        "verify",
        "--format",
        "json",
        "--trust",
        &p("root.pem"),
        &out.display().to_string(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["files"][0]["signature"]["signatures"][0]["timestamp"]["valid"], true,
        "{v}"
    );
    let token_file = dir.path().join("ci.token");
    let out2 = dir.path().join("stamped-client.exe");
    let o = sign_via(
        u,
        "pe",
        "stamped",
        &token_file,
        &pe("x64-default.exe"),
        &out2,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = post(
        &format!("{u}/v1/sign/pe?key=careful"),
        Some(CI_TOKEN),
        &input,
        "application/octet-stream",
    );
    assert_eq!(a.status, 422, "{}", String::from_utf8_lossy(&a.body));
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SmartScreen-risk estimate is high"),
        "{}",
        a.json()
    );
    drop(server);
    let o = audit(&["list", "--store", &store, "--json", "--key", "stamped"]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines
            .iter()
            .all(|l| l["record"]["timestamp_time"].is_string()),
        "{lines:?}"
    );
}
