//! Authenticode signed from a digest (the server's `POST /v1/sign/digest` builder,
//! `sign::digest::build`), the whole-file API (`sign::pe::sign_file`), and the `sign pe
//! --server` client against a loopback stub that answers `/v1/keys` and `/v1/sign/digest` with
//! the library's builder and the test PKI. Independent checks: osslsigncode verify (required
//! under `BINGATE_REQUIRE_INTEROP=1`), the image digest recomputed from the written file, the
//! input's SHA-256 computed here with `sha2`.

mod common;
mod tsa;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bingate::hash::DigestAlg;
use bingate::sign::digest::{BuildError, KeyMaterial};
use bingate::sign::pe::{PeFileOptions, check_server_signature, sign_file};
use bingate::sign::remote::{
    DigestRequest, DigestResponse, ErrorBody, Format, KeyInfo, KeysResponse, b64, hex,
};
use common::interop;
use common::paths::{self, pki};
use common::run::bingate;
use der::Encode;
use serde_json::Value;
use sha2::Digest;
use x509_cert::Certificate;

/// A test key of corpus/pki (`leaf-{name}.key`, `leaf-{name}.pem`) with the intermediate CA as
/// its chain.
struct TestKey {
    signer: bingate::sign::key::LocalSigner,
    cert: Certificate,
    chain: Vec<Certificate>,
}

fn test_key(name: &str) -> TestKey {
    let key = std::fs::read(pki(format!("leaf-{name}.key"))).unwrap();
    let signer = bingate::sign::key::load_private_key(&key, None, name).unwrap();
    let cert = bingate::sign::key::load_certificates(
        &std::fs::read(pki(format!("leaf-{name}.pem"))).unwrap(),
        name,
    )
    .unwrap()
    .remove(0);
    let chain = bingate::sign::key::load_certificates(
        &std::fs::read(pki("intermediate.pem")).unwrap(),
        "intermediate",
    )
    .unwrap();
    TestKey {
        signer,
        cert,
        chain,
    }
}

impl TestKey {
    fn material(&self) -> KeyMaterial<'_> {
        KeyMaterial {
            signer: &self.signer,
            cert: &self.cert,
            chain: &self.chain,
            timestamper: None,
        }
    }
}

fn rust_hello() -> PathBuf {
    paths::corpus("sign").join("rust-hello.exe")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sha256_hex(data: &[u8]) -> String {
    hex(&sha2::Sha256::digest(data))
}

/// The image digest of a file as the verifier computes it.
fn image_digest(data: &[u8], alg: DigestAlg) -> Vec<u8> {
    let layout = bingate::pe::signing_layout(data).unwrap();
    bingate::authenticode::image::image_digest(data, &layout, alg).unwrap()
}

/// `bingate verify --require all --trust root.pem`: the file's signature status.
fn verified_status(file: &Path) -> String {
    let o = bingate(&[
        "verify",
        "--format",
        "json",
        "--require",
        "all",
        "--trust",
        pki("root.pem").to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["files"][0]["signature"]["status"]
        .as_str()
        .unwrap_or("?")
        .to_owned()
}

/// osslsigncode verify with the test root: `Some(true)` when it accepts, `None` when it is not
/// installed (and not required).
fn osslsigncode_accepts(file: &Path) -> Option<bool> {
    if !interop::require("osslsigncode") {
        return None;
    }
    let o = Command::new("osslsigncode")
        .args(["verify", "-CAfile"])
        .arg(pki("root.pem"))
        .arg("-TSA-CAfile")
        .arg(pki("root.pem"))
        .arg("-in")
        .arg(file)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    Some(o.status.success() && out.contains("Succeeded"))
}

#[track_caller]
fn assert_verifies(file: &Path) {
    assert_eq!(verified_status(file), "valid", "{}", file.display());
    if let Some(ok) = osslsigncode_accepts(file) {
        assert!(ok, "osslsigncode verify {}", file.display());
    }
}

fn request(alg: &str, digest: &[u8], file_sha256: &str) -> DigestRequest {
    DigestRequest {
        key: "test".into(),
        format: Format::Pe,
        file_name: "rust-hello.exe".into(),
        file_sha256: file_sha256.into(),
        digest_alg: alg.into(),
        digest: hex(digest),
        manifest: None,
        description: Some("bingate remote test".into()),
        url: Some("https://example.com/bingate".into()),
        evidence: None,
    }
}

/// `sign_file` writes a file that verifies (bingate with the test root, osslsigncode), and
/// reports the image digest the verifier computes from the written file.
#[test]
fn sign_file_writes_a_verifying_file() {
    let dir = paths::tempdir();
    for (key, alg) in [("rsa", DigestAlg::Sha256), ("ecdsa", DigestAlg::Sha384)] {
        let k = test_key(key);
        let out = dir.path().join(format!("hello-{key}.exe"));
        let signed = sign_file(
            &rust_hello(),
            &out,
            &k.material(),
            &PeFileOptions {
                digest: alg,
                description: Some("hello".into()),
                url: None,
                at: now(),
            },
        )
        .unwrap();
        assert_eq!(signed.digest_alg, alg);
        assert_eq!(
            signed.status.as_str(),
            "untrusted",
            "no anchors judged the chain"
        );
        assert_eq!(signed.timestamp_time, None);
        let written = std::fs::read(&out).unwrap();
        assert_eq!(signed.image_digest, image_digest(&written, alg));
        // The signature reported is the one in the table.
        assert!(
            written
                .windows(signed.signature.len())
                .any(|w| w == signed.signature.as_slice())
        );
        assert_verifies(&out);
    }
}

/// A signature built from a digest request is byte for byte the one `sign_file` writes (RSA,
/// same options: Authenticode carries no signing time), and attached to the unsigned file it
/// verifies; for every digest algorithm, and with ECDSA (not deterministic: verified only).
#[test]
fn digest_request_signs_what_sign_file_signs() {
    let dir = paths::tempdir();
    let input = rust_hello();
    let data = std::fs::read(&input).unwrap();
    // Already 8-aligned and unsigned: the output's image digest is the input's.
    assert_eq!(data.len() % 8, 0);
    for (key, alg) in [
        ("rsa", DigestAlg::Sha1),
        ("rsa", DigestAlg::Sha256),
        ("rsa", DigestAlg::Sha384),
        ("rsa", DigestAlg::Sha512),
        ("ecdsa", DigestAlg::Sha256),
    ] {
        let what = format!("{key} {}", alg.name());
        let k = test_key(key);
        let digest = image_digest(&data, alg);
        let req = request(alg.name(), &digest, &sha256_hex(&data));
        let built = bingate::sign::digest::build(&req, &k.material(), now()).unwrap();
        assert_eq!(built.timestamp_time, None);
        check_server_signature(
            &built.signature,
            alg,
            &digest,
            Some(&k.cert.to_der().unwrap()),
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        if key == "rsa" {
            let whole = dir.path().join(format!("whole-{}.exe", alg.name()));
            let signed = sign_file(
                &input,
                &whole,
                &k.material(),
                &PeFileOptions {
                    digest: alg,
                    description: req.description.clone(),
                    url: req.url.clone(),
                    at: now(),
                },
            )
            .unwrap();
            assert_eq!(signed.image_digest, digest, "{what}");
            assert_eq!(signed.signature, built.signature, "{what}");
        }
        let p7 = dir.path().join(format!("{key}-{}.p7", alg.name()));
        std::fs::write(&p7, &built.signature).unwrap();
        let out = dir
            .path()
            .join(format!("attached-{key}-{}.exe", alg.name()));
        let o = bingate(&[
            "signature",
            "attach",
            "--signature",
            p7.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_verifies(&out);
    }
}

/// With a time-stamping authority, the builder timestamps and reports the token's time.
#[test]
fn a_timestamped_digest_request_reports_the_token_time() {
    let t = tsa::TestTsa::start(tsa::Mode::Good);
    let url = t.url();
    let k = test_key("rsa");
    let stamp = move |sig: &[u8]| -> Result<Vec<u8>, String> {
        let imprint = bingate::hash::digest(DigestAlg::Sha256, sig).unwrap();
        bingate::sign::tsp::request(&bingate::sign::tsp::TsaRequest {
            url: &url,
            digest: DigestAlg::Sha256,
            imprint: &imprint,
            timeout: Duration::from_secs(10),
        })
        .map(|t| t.der)
        .map_err(|e| e.to_string())
    };
    let key = KeyMaterial {
        timestamper: Some(&stamp),
        ..k.material()
    };
    let data = std::fs::read(rust_hello()).unwrap();
    let digest = image_digest(&data, DigestAlg::Sha256);
    let before = now();
    let built = bingate::sign::digest::build(
        &request("sha256", &digest, &sha256_hex(&data)),
        &key,
        before,
    )
    .unwrap();
    let time = built.timestamp_time.expect("a timestamp time");
    assert!(
        time + 120 >= before && time <= now() + 120,
        "{time} vs {before}"
    );
    assert_eq!(t.exchanges().len(), 1);
    // A TSA that fails is a timestamp error (HTTP 502), not a signing error.
    let failing = |_: &[u8]| -> Result<Vec<u8>, String> { Err("connection refused".into()) };
    let key = KeyMaterial {
        timestamper: Some(&failing),
        ..k.material()
    };
    let e = bingate::sign::digest::build(
        &request("sha256", &digest, &sha256_hex(&data)),
        &key,
        before,
    )
    .unwrap_err();
    assert!(matches!(e, BuildError::Timestamp(_)), "{e:?}");
}

/// Malformed requests are BadRequest (HTTP 400), each with a message naming the field.
#[test]
fn bad_requests_are_refused() {
    let k = test_key("rsa");
    let good = request("sha256", &[0x11; 32], &"ab".repeat(32));
    assert!(bingate::sign::digest::build(&good, &k.material(), now()).is_ok());
    let cases: Vec<(&str, DigestRequest, &str)> = vec![
        (
            "a short digest",
            DigestRequest {
                digest: hex(&[0x11; 31]),
                ..good.clone()
            },
            "hex characters",
        ),
        (
            "a SHA-1-length digest for sha256",
            DigestRequest {
                digest: hex(&[0x11; 20]),
                ..good.clone()
            },
            "hex characters",
        ),
        (
            "non-hex digest",
            DigestRequest {
                digest: "zz".repeat(32),
                ..good.clone()
            },
            "not hex",
        ),
        (
            "a manifest",
            DigestRequest {
                manifest: Some("bingate-manifest".into()),
                ..good.clone()
            },
            "manifest",
        ),
        (
            "an unknown algorithm",
            DigestRequest {
                digest_alg: "sha3-256".into(),
                ..good.clone()
            },
            "digest_alg",
        ),
        (
            "md5",
            DigestRequest {
                digest_alg: "md5".into(),
                digest: hex(&[0x11; 16]),
                ..good.clone()
            },
            "digest_alg",
        ),
        (
            "a short file_sha256",
            DigestRequest {
                file_sha256: "ab".repeat(31),
                ..good.clone()
            },
            "file_sha256",
        ),
        (
            "a non-hex file_sha256",
            DigestRequest {
                file_sha256: "g".repeat(64),
                ..good.clone()
            },
            "file_sha256",
        ),
        (
            "a description over 1 KiB",
            DigestRequest {
                description: Some("d".repeat(1025)),
                ..good.clone()
            },
            "description",
        ),
        (
            "a URL over 1 KiB",
            DigestRequest {
                url: Some(format!("https://{}", "u".repeat(1020))),
                ..good.clone()
            },
            "url",
        ),
        (
            "a non-ASCII URL",
            DigestRequest {
                url: Some("https://exämple.com".into()),
                ..good.clone()
            },
            "ASCII",
        ),
    ];
    for (what, req, says) in cases {
        match bingate::sign::digest::build(&req, &k.material(), now()) {
            Err(BuildError::BadRequest(m)) => assert!(m.contains(says), "{what}: {m}"),
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// The client's check of the server's answer: a signature over another image digest, another
/// algorithm, another certificate, or something that is not Authenticode is refused.
#[test]
fn the_client_refuses_a_signature_over_another_digest() {
    let k = test_key("rsa");
    let data = std::fs::read(rust_hello()).unwrap();
    let digest = image_digest(&data, DigestAlg::Sha256);
    let mut other = digest.clone();
    other[0] ^= 1;
    let built = bingate::sign::digest::build(
        &request("sha256", &other, &sha256_hex(&data)),
        &k.material(),
        now(),
    )
    .unwrap();
    let cert = k.cert.to_der().unwrap();
    let e = check_server_signature(&built.signature, DigestAlg::Sha256, &digest, Some(&cert))
        .unwrap_err();
    assert!(e.contains("the server signed something else"), "{e}");
    check_server_signature(&built.signature, DigestAlg::Sha256, &other, Some(&cert)).unwrap();
    let e = check_server_signature(&built.signature, DigestAlg::Sha384, &other, Some(&cert))
        .unwrap_err();
    assert!(e.contains("something else"), "{e}");
    let ecdsa = test_key("ecdsa").cert.to_der().unwrap();
    let e = check_server_signature(&built.signature, DigestAlg::Sha256, &other, Some(&ecdsa))
        .unwrap_err();
    assert!(e.contains("certificate"), "{e}");
    assert!(
        check_server_signature(b"\x30\x03\x02\x01\x00", DigestAlg::Sha256, &other, None).is_err()
    );
}

// --- the CLI client against a loopback stub server ---------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum StubMode {
    /// Signs what it is asked to.
    Honest,
    /// Signs the requested digest with its first byte flipped.
    OtherDigest,
    /// Lists the key with a policy and refuses every request with `policy_refused`.
    Refuse,
}

/// What the stub saw of one digest request.
struct Seen {
    authorization: Option<String>,
    request: DigestRequest,
}

struct Stub {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

const TOKEN: &str = "test-token-1";
const AUDIT_SEQ: u64 = 41;

fn respond(stream: &mut std::net::TcpStream, status: u16, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

/// One HTTP/1.1 request: method, path, Authorization, body.
fn read_request(stream: &std::net::TcpStream) -> Option<(String, String, Option<String>, Vec<u8>)> {
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let (mut len, mut auth) = (0usize, None);
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => len = value.trim().parse().ok()?,
            "authorization" => auth = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some((method, path, auth, body))
}

/// A loopback server answering `GET /v1/keys` (one key, `test-rsa`, PE) and `POST
/// /v1/sign/digest` with `bingate::sign::digest::build`, requiring the bearer [`TOKEN`]. It
/// runs until the test binary exits.
fn start_stub(mode: StubMode) -> Stub {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        let k = test_key("rsa");
        let info = KeyInfo {
            name: "test-rsa".into(),
            formats: vec![Format::Pe],
            algorithm: "RSA 2048".into(),
            certificate: b64(&k.cert.to_der().unwrap()),
            certificate_sha256: sha256_hex(&k.cert.to_der().unwrap()),
            subject: k.cert.tbs_certificate.subject.to_string(),
            chain: k.chain.iter().map(|c| b64(&c.to_der().unwrap())).collect(),
            timestamped: false,
            policy: (mode == StubMode::Refuse).then(|| "strict".to_owned()),
            risk_at_most: None,
        };
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some((method, path, auth, body)) = read_request(&stream) else {
                continue;
            };
            if auth.as_deref() != Some(&format!("Bearer {TOKEN}")) {
                respond(
                    &mut stream,
                    401,
                    br#"{"error":{"code":"unauthorized","message":"no token","request_id":"r0"}}"#,
                );
                continue;
            }
            match (method.as_str(), path.as_str()) {
                ("GET", "/v1/keys") => {
                    let body = serde_json::to_vec(&KeysResponse {
                        keys: vec![info.clone()],
                    })
                    .unwrap();
                    respond(&mut stream, 200, &body);
                }
                ("POST", "/v1/sign/digest") => {
                    let req: DigestRequest = serde_json::from_slice(&body).unwrap();
                    log.lock().unwrap().push(Seen {
                        authorization: auth,
                        request: req.clone(),
                    });
                    if mode == StubMode::Refuse {
                        let e = ErrorBody {
                            error: bingate::sign::remote::ApiError {
                                code: "policy_refused".into(),
                                message: "policy strict: 1 deny rule failed".into(),
                                request_id: "r1".into(),
                                findings: vec!["pe-cfg: CFG is off".into()],
                                report: None,
                            },
                        };
                        respond(&mut stream, 403, &serde_json::to_vec(&e).unwrap());
                        continue;
                    }
                    let mut signed = req.clone();
                    if mode == StubMode::OtherDigest {
                        let mut d = bingate::sign::remote::unhex(&req.digest).unwrap();
                        d[0] ^= 1;
                        signed.digest = hex(&d);
                    }
                    match bingate::sign::digest::build(&signed, &k.material(), now()) {
                        Ok(built) => {
                            let resp = DigestResponse {
                                request_id: "r2".into(),
                                key: req.key.clone(),
                                format: Format::Pe,
                                signature: b64(&built.signature),
                                signature_sha256: sha256_hex(&built.signature),
                                timestamp_time: None,
                                audit_seq: AUDIT_SEQ,
                            };
                            respond(&mut stream, 200, &serde_json::to_vec(&resp).unwrap());
                        }
                        Err(e) => {
                            let body = format!(
                                r#"{{"error":{{"code":"bad_request","message":{},"request_id":"r3"}}}}"#,
                                serde_json::to_string(&e.to_string()).unwrap()
                            );
                            respond(&mut stream, 400, body.as_bytes());
                        }
                    }
                }
                _ => respond(&mut stream, 404, b"{}"),
            }
        }
    });
    Stub { url, seen }
}

fn token_file(dir: &Path) -> PathBuf {
    let p = dir.join("token");
    std::fs::write(&p, format!("{TOKEN}\n")).unwrap();
    p
}

fn sign_remote(
    stub: &Stub,
    dir: &Path,
    input: &Path,
    output: &Path,
    extra: &[&str],
) -> std::process::Output {
    let token = token_file(dir);
    let mut args: Vec<String> = vec![
        "sign".into(),
        "pe".into(),
        "--server".into(),
        stub.url.clone(),
        "--key".into(),
        "test-rsa".into(),
        "--token-file".into(),
        token.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend([
        "--output".into(),
        output.display().to_string(),
        input.display().to_string(),
    ]);
    bingate(&args)
}

/// `sign pe --server` end to end: one digest request carrying the image digest of the written
/// file, the input's SHA-256 and name and the bearer token; the output verifies; the summary
/// names the server, the key and the audit record. Re-signing the signed output replaces its
/// signature, and the file SHA-256 sent is the signed input's (its table included).
#[test]
fn the_cli_signs_through_a_server() {
    let stub = start_stub(StubMode::Honest);
    let dir = paths::tempdir();
    let input = rust_hello();
    let out = dir.path().join("signed.exe");
    let o = sign_remote(&stub, dir.path(), &input, &out, &["--description", "hello"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.contains(&format!(
            "(server {}, key test-rsa, audit record {AUDIT_SEQ})",
            stub.url
        )),
        "{stdout}"
    );
    assert!(stdout.contains("Authenticode, sha256"), "{stdout}");
    assert_verifies(&out);
    let written = std::fs::read(&out).unwrap();
    {
        let seen = stub.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let s = &seen[0];
        assert_eq!(
            s.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(s.request.key, "test-rsa");
        assert_eq!(s.request.format, Format::Pe);
        assert_eq!(s.request.file_name, "rust-hello.exe");
        assert_eq!(
            s.request.file_sha256,
            sha256_hex(&std::fs::read(&input).unwrap())
        );
        assert_eq!(s.request.digest_alg, "sha256");
        assert_eq!(
            s.request.digest,
            hex(&image_digest(&written, DigestAlg::Sha256))
        );
        assert_eq!(s.request.description.as_deref(), Some("hello"));
        assert_eq!(
            s.request.evidence, None,
            "no policy listed: no evidence sent"
        );
    }
    // Re-sign the signed file with SHA-512: the table is replaced.
    let again = dir.path().join("again.exe");
    let o = sign_remote(&stub, dir.path(), &out, &again, &["--digest", "sha512"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("replaced the existing signature"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_verifies(&again);
    let seen = stub.seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].request.file_sha256, sha256_hex(&written));
    assert_eq!(seen[1].request.file_name, "signed.exe");
    assert_eq!(
        seen[1].request.digest,
        hex(&image_digest(
            &std::fs::read(&again).unwrap(),
            DigestAlg::Sha512
        ))
    );
}

/// A server that signs another digest: exit 2, "the server signed something else", nothing
/// written.
#[test]
fn the_cli_refuses_a_server_that_signed_something_else() {
    let stub = start_stub(StubMode::OtherDigest);
    let dir = paths::tempdir();
    let out = dir.path().join("never.exe");
    let o = sign_remote(&stub, dir.path(), &rust_hello(), &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("the server signed something else"),
        "{stderr}"
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the token file"
    );
}

/// The server's policy refusal is a refusal (exit 1, the findings shown, nothing written); the
/// request carried the client's check report as evidence, as the key lists a policy.
#[test]
fn a_server_policy_refusal_exits_1_and_evidence_is_sent() {
    let stub = start_stub(StubMode::Refuse);
    let dir = paths::tempdir();
    let out = dir.path().join("never.exe");
    let o = sign_remote(&stub, dir.path(), &rust_hello(), &out, &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("policy_refused") && stderr.contains("pe-cfg"),
        "{stderr}"
    );
    assert!(!out.exists());
    let seen = stub.seen.lock().unwrap();
    let evidence = seen[0].request.evidence.as_ref().expect("evidence sent");
    assert_eq!(
        evidence["sha256"],
        sha256_hex(&std::fs::read(rust_hello()).unwrap())
    );
    assert_eq!(evidence["format"], "pe");
}

/// Flags that need the key here are refused with --server, each saying why; a wrong token is
/// the server's 401; a key the server does not list is an error.
#[test]
fn the_cli_refuses_local_key_flags_with_a_server() {
    let stub = start_stub(StubMode::Honest);
    let dir = paths::tempdir();
    let out = dir.path().join("never.exe");
    let cert = pki("leaf-rsa.pem");
    for (extra, says) in [
        (
            vec!["--cert", cert.to_str().unwrap()],
            "--cert with --server",
        ),
        (
            vec!["--chain", cert.to_str().unwrap()],
            "--chain with --server",
        ),
        (vec!["--pass", "env:X"], "--pass with --server"),
        (
            vec!["--timestamp-url", "http://127.0.0.1:1/"],
            "--timestamp-url with --server",
        ),
        (vec!["--nest"], "--nest with --server"),
        (vec!["--page-hashes"], "--page-hashes with --server"),
    ] {
        let o = sign_remote(&stub, dir.path(), &rust_hello(), &out, &extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains(says), "{extra:?}: {stderr}");
        assert!(!out.exists());
    }
    assert!(
        stub.seen.lock().unwrap().is_empty(),
        "nothing was sent to sign"
    );
    // A wrong token.
    let bad = dir.path().join("bad-token");
    std::fs::write(&bad, "nope\n").unwrap();
    let o = bingate(&[
        "sign",
        "pe",
        "--server",
        &stub.url,
        "--key",
        "test-rsa",
        "--token-file",
        bad.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        rust_hello().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unauthorized"));
    // A key the server does not list.
    let token = token_file(dir.path());
    let o = bingate(&[
        "sign",
        "pe",
        "--server",
        &stub.url,
        "--key",
        "other",
        "--token-file",
        token.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        rust_hello().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no key \"other\""));
    // Server flags without --server are a usage error.
    let o = bingate(&[
        "sign",
        "pe",
        "--key",
        pki("leaf-rsa.key").to_str().unwrap(),
        "--cert",
        cert.to_str().unwrap(),
        "--token-file",
        token.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        rust_hello().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}

/// `--in-place` with `--server`: the file is replaced by its signed copy, which verifies.
#[test]
fn the_cli_signs_in_place_through_a_server() {
    let stub = start_stub(StubMode::Honest);
    let dir = paths::tempdir();
    let file = dir.path().join("x64-default.exe");
    std::fs::copy(paths::corpus("pe").join("x64-default.exe"), &file).unwrap();
    let before = std::fs::read(&file).unwrap();
    let token = token_file(dir.path());
    let o = bingate(&[
        "sign",
        "pe",
        "--server",
        &stub.url,
        "--key",
        "test-rsa",
        "--token-file",
        token.to_str().unwrap(),
        "--in-place",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_verifies(&file);
    assert_eq!(
        stub.seen.lock().unwrap()[0].request.file_sha256,
        sha256_hex(&before)
    );
}
