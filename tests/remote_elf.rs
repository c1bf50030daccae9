//! Digest-only ELF signatures, as `bingate serve` builds them (`sign::digest::build` for
//! `elf-section` and `elf-module` requests), the whole-file `sign_file` the server signs whole
//! files with, and `bingate sign elf --server` end to end against a loopback stub of the API.
//! Independent checks: the kernel's sign-file (byte for byte) and modinfo for module
//! signatures, `openssl cms -verify` for section signatures; used when present, required when
//! `BINGATE_REQUIRE_INTEROP=1`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use bingate::cms::Signer;
use bingate::elfsig::{Plan, SignOptions};
use bingate::hash::DigestAlg;
use bingate::sign::command::sign_file;
use bingate::sign::digest::{BuildError, KeyMaterial, build};
use bingate::sign::key::{LocalSigner, load_certificates, load_private_key};
use bingate::sign::remote::{
    DigestRequest, DigestResponse, Format, KeyInfo, KeysResponse, b64, hex,
};
use common::der::der_len;
use common::interop;
use common::paths::{self, pki};
use common::run::bingate_mixed;
use serde_json::Value;
use x509_cert::Certificate;

const SIGN_FILE: &str = "/usr/lib/linux-kbuild-6.1/scripts/sign-file";
/// The server's signing time in these tests: 2026-12-01T00:00:00Z (the P-384 leaf's validity
/// starts in November 2026; every leaf is valid then).
const SIGNED_AT: u64 = 1_796_083_200;
const TOKEN: &str = "test-token-0123456789";

fn elf(name: &str) -> PathBuf {
    paths::corpus("elf").join(name)
}

fn signer(name: &str) -> LocalSigner {
    load_private_key(&std::fs::read(pki(name)).unwrap(), None, name).unwrap()
}

fn certs(name: &str) -> Vec<Certificate> {
    load_certificates(&std::fs::read(pki(name)).unwrap(), name).unwrap()
}

/// A key as a server holds it: signer, certificate, chain.
struct TestKey {
    signer: LocalSigner,
    cert: Certificate,
    chain: Vec<Certificate>,
}

impl TestKey {
    fn new(key: &str, cert: &str) -> TestKey {
        TestKey {
            signer: signer(key),
            cert: certs(cert).remove(0),
            chain: certs("intermediate.pem"),
        }
    }

    fn material(&self) -> KeyMaterial<'_> {
        KeyMaterial {
            signer: &self.signer,
            cert: &self.cert,
            chain: &self.chain,
            timestamper: None,
        }
    }
}

fn request(format: Format, alg: &str, digest: &[u8], manifest: Option<&str>) -> DigestRequest {
    DigestRequest {
        key: "release".into(),
        format,
        file_name: "a.out".into(),
        file_sha256: "00".repeat(32),
        digest_alg: alg.into(),
        digest: hex(digest),
        manifest: manifest.map(str::to_owned),
        description: None,
        url: None,
        evidence: None,
    }
}

fn digest(alg: DigestAlg, b: &[u8]) -> Vec<u8> {
    bingate::hash::digest(alg, b).unwrap()
}

/// The kernel's appended-signature trailer around a CMS.
fn module_trailer(cms: &[u8]) -> Vec<u8> {
    let mut t = cms.to_vec();
    t.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0, 0]);
    t.extend_from_slice(&(cms.len() as u32).to_be_bytes());
    t.extend_from_slice(b"~Module signature appended~\n");
    t
}

/// `bingate verify --format json` with the test root trusted (and `extra`): the signature object.
fn verify_json(file: &Path, extra: &[&str]) -> Value {
    let root = pki("root.pem");
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
        vec![&"verify", &"--format", &"json", &"--trust", &root];
    for e in extra {
        args.push(e);
    }
    args.push(&file);
    let o = bingate_mixed(&args);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "verify output is not JSON ({e}): {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    v["files"][0]["signature"].clone()
}

/// A relocatable object with a `.modinfo` section, as modinfo expects of a `.ko` (as
/// tests/elf_sign.rs makes it).
fn module_fixture(dir: &Path) -> PathBuf {
    let ko = dir.join("fixture.ko");
    if interop::require("objcopy") {
        let mi = dir.join("modinfo.bin");
        std::fs::write(&mi, b"license=GPL\0description=bingate test module\0").unwrap();
        let o = Command::new("objcopy")
            .arg("--add-section")
            .arg(format!(".modinfo={}", mi.display()))
            .args(["--set-section-flags", ".modinfo=alloc,readonly"])
            .arg(elf("hello.o"))
            .arg(&ko)
            .output()
            .unwrap();
        assert!(o.status.success());
    } else {
        std::fs::copy(elf("hello.o"), &ko).unwrap();
    }
    ko
}

/// Signs `data` as the client of a server does: the plan sized from the certificate alone, the
/// CMS made by the digest builder (as the server would) at [`SIGNED_AT`].
fn sign_through_builder(data: &[u8], module: bool, alg: DigestAlg, key: &TestKey) -> Vec<u8> {
    let sizing = bingate::cms::build::CertificateKey::from_certificate(&key.cert).unwrap();
    let opts = SignOptions {
        signer: &sizing,
        cert: &key.cert,
        chain: &key.chain,
        digest: alg,
        timestamper: None,
        replace: false,
        signed_at: SIGNED_AT,
    };
    let plan = Plan::new_reserving(data, module, &opts, false).unwrap();
    let mut out = Vec::new();
    let hashed = bingate::sign::stream::copy_and_hash(
        data,
        plan.pieces(),
        &mut out,
        alg,
        plan.ranges(),
        bingate::sign::stream::CHUNK,
    )
    .unwrap();
    let make = |signed: &[u8]| -> Result<Vec<u8>, String> {
        let req = if module {
            request(Format::ElfModule, alg.name(), signed, None)
        } else {
            request(
                Format::ElfSection,
                alg.name(),
                &digest(alg, signed),
                Some(std::str::from_utf8(signed).unwrap()),
            )
        };
        build(&req, &key.material(), SIGNED_AT)
            .map(|b| b.signature)
            .map_err(|e| e.to_string())
    };
    let finished = plan.finish_with(hashed, &opts, &make).unwrap();
    out.extend_from_slice(&finished.tail);
    out
}

#[test]
fn module_builder_signs_as_sign_file_does() {
    let dir = paths::tempdir();
    let ko = module_fixture(dir.path());
    let module = std::fs::read(&ko).unwrap();
    let key = TestKey::new("leaf-rsa.key", "leaf-rsa.pem");
    for alg in [DigestAlg::Sha256, DigestAlg::Sha384, DigestAlg::Sha512] {
        let req = request(Format::ElfModule, alg.name(), &digest(alg, &module), None);
        let built = build(&req, &key.material(), SIGNED_AT).unwrap();
        assert_eq!(built.timestamp_time, None);
        let signed = dir.path().join(format!("ours-{}.ko", alg.name()));
        std::fs::write(
            &signed,
            [&module[..], &module_trailer(&built.signature)].concat(),
        )
        .unwrap();
        let v = verify_json(&signed, &["--cert", pki("leaf-rsa.pem").to_str().unwrap()]);
        assert_eq!(v["status"], "valid", "{v}");
        assert_eq!(v["format"], "kernel-module");
        // The same bytes as the in-process closure path.
        assert_eq!(
            std::fs::read(&signed).unwrap(),
            sign_through_builder(&module, true, alg, &key)
        );
        if interop::require(SIGN_FILE) {
            let theirs = dir.path().join(format!("theirs-{}.ko", alg.name()));
            let o = Command::new(SIGN_FILE)
                .arg(alg.name())
                .arg(pki("leaf-rsa.key"))
                .arg(pki("leaf-rsa.pem"))
                .arg(&ko)
                .arg(&theirs)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert!(
                std::fs::read(&theirs).unwrap() == std::fs::read(&signed).unwrap(),
                "{}: the builder's module signature differs from sign-file's",
                alg.name()
            );
        }
        if interop::require("modinfo") {
            let o = Command::new("modinfo").arg(&signed).output().unwrap();
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(
                text.contains("Bingate Test code signing CA")
                    && text.contains(&format!("sig_hashalgo:   {}", alg.name())),
                "{text}"
            );
        }
    }
    // ECDSA: not deterministic against sign-file, but valid.
    let key = TestKey::new("leaf-ecdsa384.key", "leaf-ecdsa384.pem");
    let signed = dir.path().join("ec.ko");
    std::fs::write(
        &signed,
        sign_through_builder(&module, true, DigestAlg::Sha384, &key),
    )
    .unwrap();
    let v = verify_json(
        &signed,
        &["--cert", pki("leaf-ecdsa384.pem").to_str().unwrap()],
    );
    assert_eq!(v["status"], "valid", "{v}");
}

/// The CMS in a file's `.bingate.sig` section (without its zero padding).
fn section_cms(data: &[u8]) -> Vec<u8> {
    let l = bingate::elfsig::layout::Layout::parse(data).unwrap();
    let s = l
        .sections
        .iter()
        .find(|s| s.name == ".bingate.sig")
        .unwrap();
    let contents = &data[s.offset as usize..(s.offset + s.size) as usize];
    contents[..der_len(contents)].to_vec()
}

#[test]
fn section_builder_signatures_verify_with_bingate_and_openssl() {
    let dir = paths::tempdir();
    for (k, c, alg) in [
        ("leaf-rsa.key", "leaf-rsa.pem", DigestAlg::Sha256),
        ("leaf-ecdsa.key", "leaf-ecdsa.pem", DigestAlg::Sha384),
        ("leaf-ecdsa384.key", "leaf-ecdsa384.pem", DigestAlg::Sha512),
    ] {
        let key = TestKey::new(k, c);
        let input = std::fs::read(elf("libshared.so")).unwrap();
        let signed = dir.path().join(format!("{k}.so"));
        std::fs::write(&signed, sign_through_builder(&input, false, alg, &key)).unwrap();
        let v = verify_json(&signed, &[]);
        assert_eq!(v["status"], "valid", "{k}: {v}");
        assert_eq!(v["format"], "elf-section");
        if interop::require("openssl") {
            let der = dir.path().join("sig.der");
            let content = dir.path().join("content");
            std::fs::write(&der, section_cms(&std::fs::read(&signed).unwrap())).unwrap();
            let o = Command::new("openssl")
                .args(["cms", "-verify", "-inform", "DER", "-purpose", "any"])
                .arg("-CAfile")
                .arg(pki("root.pem"))
                .arg("-in")
                .arg(&der)
                .arg("-out")
                .arg(&content)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{k}: openssl cms -verify: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let text = std::fs::read_to_string(&content).unwrap();
            assert!(
                text.starts_with("bingate-elf-signature 1\ndigest ")
                    && text.contains(&format!("digest {}\n", alg.name())),
                "{text}"
            );
        }
    }
}

#[test]
fn bad_requests_are_refused_as_bad_requests() {
    let key = TestKey::new("leaf-rsa.key", "leaf-rsa.pem");
    let m = key.material();
    // A real manifest, taken from a signed file.
    let signed = sign_through_builder(
        &std::fs::read(elf("libshared.so")).unwrap(),
        false,
        DigestAlg::Sha256,
        &key,
    );
    let opened = bingate::cms::open::open(&section_cms(&signed), "test").unwrap();
    let manifest = opened
        .signed_data
        .encap
        .econtent
        .as_ref()
        .unwrap()
        .decode_as::<der::asn1::OctetString>()
        .unwrap();
    let manifest = std::str::from_utf8(manifest.as_bytes()).unwrap().to_owned();
    let md = digest(DigestAlg::Sha256, manifest.as_bytes());
    // The good request builds.
    build(
        &request(Format::ElfSection, "sha256", &md, Some(&manifest)),
        &m,
        SIGNED_AT,
    )
    .unwrap();
    let other_alg_manifest = manifest.replacen("digest sha256", "digest sha384", 1);
    let cases: Vec<(&str, DigestRequest)> = vec![
        (
            "manifest digest mismatch",
            request(Format::ElfSection, "sha256", &[7u8; 32], Some(&manifest)),
        ),
        (
            "unparsable manifest",
            request(
                Format::ElfSection,
                "sha256",
                &digest(DigestAlg::Sha256, b"not a manifest"),
                Some("not a manifest"),
            ),
        ),
        (
            "manifest of another digest algorithm",
            request(
                Format::ElfSection,
                "sha256",
                &digest(DigestAlg::Sha256, other_alg_manifest.as_bytes()),
                Some(&other_alg_manifest),
            ),
        ),
        (
            "no manifest",
            request(Format::ElfSection, "sha256", &md, None),
        ),
        ("manifest too large", {
            let big = "x".repeat((1 << 20) + 1);
            let d = digest(DigestAlg::Sha256, big.as_bytes());
            request(Format::ElfSection, "sha256", &d, Some(&big))
        }),
        (
            "section digest of the wrong length",
            request(Format::ElfSection, "sha256", &md[..20], Some(&manifest)),
        ),
        (
            "module digest of the wrong length",
            request(Format::ElfModule, "sha384", &[1u8; 32], None),
        ),
        (
            "module with a manifest",
            request(Format::ElfModule, "sha256", &[1u8; 32], Some(&manifest)),
        ),
        ("md5", request(Format::ElfModule, "md5", &[1u8; 16], None)),
        ("sha1", request(Format::ElfModule, "sha1", &[1u8; 20], None)),
        (
            "sha1 section",
            request(Format::ElfSection, "sha1", &[1u8; 20], Some(&manifest)),
        ),
        (
            "unknown alg",
            request(Format::ElfModule, "sha3", &[1u8; 32], None),
        ),
        ("non-hex digest", {
            let mut r = request(Format::ElfModule, "sha256", &[1u8; 32], None);
            r.digest = "zz".repeat(32);
            r
        }),
    ];
    for (what, req) in cases {
        match build(&req, &m, SIGNED_AT) {
            Err(BuildError::BadRequest(msg)) => assert!(!msg.is_empty(), "{what}"),
            other => panic!("{what}: expected BadRequest, got {other:?}"),
        }
    }
}

#[test]
fn sign_file_equals_the_remote_closure_path() {
    let dir = paths::tempdir();
    let key = TestKey::new("leaf-rsa.key", "leaf-rsa.pem");
    let ko = module_fixture(dir.path());
    for (input, module) in [(elf("pie-default"), false), (ko, true)] {
        for alg in [DigestAlg::Sha256, DigestAlg::Sha512] {
            let out = dir.path().join("whole");
            let facts =
                sign_file(&input, &out, &key.material(), module, alg, false, SIGNED_AT).unwrap();
            let data = std::fs::read(&input).unwrap();
            let written = std::fs::read(&out).unwrap();
            assert!(
                written == sign_through_builder(&data, module, alg, &key),
                "{} module={module} {}: sign_file differs from the remote path",
                input.display(),
                alg.name()
            );
            assert_eq!(facts.digest_alg, alg);
            assert_eq!(facts.timestamp_time, None);
            if module {
                assert_eq!(facts.format, Format::ElfModule);
                assert_eq!(facts.digest, digest(alg, &data));
                assert!(written.ends_with(&module_trailer(&facts.signature)));
            } else {
                assert_eq!(facts.format, Format::ElfSection);
                assert_eq!(facts.signature, section_cms(&written));
                let opened = bingate::cms::open::open(&facts.signature, "t").unwrap();
                let m = opened
                    .signed_data
                    .encap
                    .econtent
                    .as_ref()
                    .unwrap()
                    .decode_as::<der::asn1::OctetString>()
                    .unwrap();
                assert_eq!(facts.digest, digest(alg, m.as_bytes()));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `sign elf --server` against a loopback stub of the API
// ---------------------------------------------------------------------------------------------

/// A stub of `bingate serve`'s API on 127.0.0.1: `GET /v1/keys` lists `release` (leaf-rsa,
/// with the intermediate) and `evil` (the same key, whose signatures are over another digest);
/// `POST /v1/sign/digest` builds with `sign::digest::build` at [`SIGNED_AT`]. Every digest
/// request is recorded.
struct Stub {
    url: String,
    requests: Arc<Mutex<Vec<DigestRequest>>>,
}

fn start_stub() -> Stub {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let recorded = requests.clone();
    std::thread::spawn(move || {
        let key = TestKey::new("leaf-rsa.key", "leaf-rsa.pem");
        let mut seq = 0u64;
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            serve_one(conn, &key, &recorded, &mut seq);
        }
    });
    Stub { url, requests }
}

fn key_info(name: &str, key: &TestKey) -> KeyInfo {
    use der::Encode;
    let cert = key.cert.to_der().unwrap();
    KeyInfo {
        name: name.into(),
        formats: vec![Format::ElfSection, Format::ElfModule],
        algorithm: key.signer.kind().describe(),
        certificate: b64(&cert),
        certificate_sha256: hex(&digest(DigestAlg::Sha256, &cert)),
        subject: key.cert.tbs_certificate.subject.to_string(),
        chain: key
            .chain
            .iter()
            .map(|c| b64(&c.to_der().unwrap()))
            .collect(),
        timestamped: false,
        policy: None,
        risk_at_most: None,
    }
}

fn respond(mut conn: TcpStream, status: &str, body: &[u8]) {
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(body);
    let _ = conn.flush();
}

fn error_body(code: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "error": {"code": code, "message": message, "request_id": "stub"}
    }))
    .unwrap()
}

fn serve_one(conn: TcpStream, key: &TestKey, recorded: &Mutex<Vec<DigestRequest>>, seq: &mut u64) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut len = 0usize;
    let mut auth = String::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':').unwrap_or((&h, ""));
        match name.to_ascii_lowercase().as_str() {
            "content-length" => len = value.trim().parse().unwrap_or(0),
            "authorization" => auth = value.trim().to_owned(),
            _ => {}
        }
    }
    let mut body = vec![0u8; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    if auth != format!("Bearer {TOKEN}") {
        return respond(
            conn,
            "401 Unauthorized",
            &error_body("unauthorized", "no token"),
        );
    }
    match (method.as_str(), path.as_str()) {
        ("GET", "/v1/keys") => {
            let keys = KeysResponse {
                keys: vec![key_info("release", key), key_info("evil", key)],
            };
            respond(conn, "200 OK", &serde_json::to_vec(&keys).unwrap());
        }
        ("POST", "/v1/sign/digest") => {
            let Ok(mut req) = serde_json::from_slice::<DigestRequest>(&body) else {
                return respond(conn, "400 Bad Request", &error_body("bad_request", "json"));
            };
            recorded.lock().unwrap().push(req.clone());
            if req.key == "evil" {
                // Signs another digest than the one asked for (the manifest of a section
                // request stays: its digest is made to match another manifest).
                let mut d = bingate::sign::remote::unhex(&req.digest).unwrap();
                d[0] ^= 1;
                req.digest = hex(&d);
                if let Some(m) = &mut req.manifest {
                    // Another file digest in the manifest, the request's digest made to match.
                    let at = m.find("\nfile ").unwrap() + 6;
                    let flipped = if &m[at..at + 1] == "0" { "1" } else { "0" };
                    m.replace_range(at..at + 1, flipped);
                    let alg = DigestAlg::from_oid_name(&req.digest_alg).unwrap();
                    req.digest = hex(&digest(alg, m.as_bytes()));
                }
            }
            match build(&req, &key.material(), SIGNED_AT) {
                Ok(built) => {
                    *seq += 1;
                    let resp = DigestResponse {
                        request_id: format!("req-{seq}"),
                        key: req.key.clone(),
                        format: req.format,
                        signature: b64(&built.signature),
                        signature_sha256: hex(&digest(DigestAlg::Sha256, &built.signature)),
                        timestamp_time: None,
                        audit_seq: *seq,
                    };
                    respond(conn, "200 OK", &serde_json::to_vec(&resp).unwrap());
                }
                Err(e) => respond(
                    conn,
                    "400 Bad Request",
                    &error_body("bad_request", &e.to_string()),
                ),
            }
        }
        _ => respond(conn, "404 Not Found", &error_body("not_found", &path)),
    }
}

/// `bingate sign elf --server STUB --key KEY --token-file T EXTRA --output OUT INPUT`.
fn sign_remote(
    stub: &Stub,
    dir: &Path,
    key: &str,
    input: &Path,
    out: &Path,
    extra: &[&str],
) -> std::process::Output {
    let token = dir.join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
        &"sign",
        &"elf",
        &"--server",
        &stub.url,
        &"--key",
        &key,
        &"--token-file",
        &token,
    ];
    for e in extra {
        args.push(e);
    }
    args.extend([&"--output" as &dyn AsRef<std::ffi::OsStr>, &out, &input]);
    bingate_mixed(&args)
}

#[test]
fn cli_signs_through_a_signing_server() {
    let stub = start_stub();
    let dir = paths::tempdir();
    let key = TestKey::new("leaf-rsa.key", "leaf-rsa.pem");
    let ko = module_fixture(dir.path());
    for (input, format) in [(elf("libshared.so"), "section"), (ko, "module")] {
        let out = dir.path().join(format!("signed-{format}"));
        let o = sign_remote(
            &stub,
            dir.path(),
            "release",
            &input,
            &out,
            &["--format", format, "--digest", "sha384"],
        );
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{format}: {stdout}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let n = stub.requests.lock().unwrap().len();
        assert!(
            stdout.starts_with("signed ")
                && stdout.contains(&format!(
                    "(server {}, key release, audit record {n})",
                    stub.url
                )),
            "{stdout}"
        );
        // What the server was told: the input's name and SHA-256, the check report.
        let data = std::fs::read(&input).unwrap();
        let req = stub.requests.lock().unwrap().last().unwrap().clone();
        assert_eq!(req.file_name, input.file_name().unwrap().to_str().unwrap());
        assert_eq!(req.file_sha256, hex(&digest(DigestAlg::Sha256, &data)));
        assert_eq!(req.digest_alg, "sha384");
        let evidence = req.evidence.expect("evidence");
        assert_eq!(evidence["format"], "elf", "{evidence}");
        // Byte for byte what the server's whole-file signing makes at the same time.
        let whole = dir.path().join("whole");
        sign_file(
            &input,
            &whole,
            &key.material(),
            format == "module",
            DigestAlg::Sha384,
            false,
            SIGNED_AT,
        )
        .unwrap();
        assert!(
            std::fs::read(&out).unwrap() == std::fs::read(&whole).unwrap(),
            "{format}: the --server output differs from sign_file's"
        );
        let v = verify_json(&out, &["--cert", pki("leaf-rsa.pem").to_str().unwrap()]);
        assert_eq!(v["status"], "valid", "{format}: {v}");

        // Re-signing with --replace: the SHA-256 sent is of the whole input, old signature
        // included.
        let again = dir.path().join(format!("again-{format}"));
        let o = sign_remote(
            &stub,
            dir.path(),
            "release",
            &out,
            &again,
            &["--format", format, "--replace"],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let req = stub.requests.lock().unwrap().last().unwrap().clone();
        assert_eq!(
            req.file_sha256,
            hex(&digest(DigestAlg::Sha256, &std::fs::read(&out).unwrap()))
        );
        let v = verify_json(&again, &["--cert", pki("leaf-rsa.pem").to_str().unwrap()]);
        assert_eq!(v["status"], "valid", "{format} re-signed: {v}");
    }
}

#[test]
fn cli_refuses_what_the_server_path_cannot_use_and_bad_answers() {
    let stub = start_stub();
    let dir = paths::tempdir();
    let input = elf("pie-default");
    let out = dir.path().join("out");
    // Local key options make no sense with --server.
    for extra in [
        vec!["--cert", "corpus/pki/leaf-rsa.pem"],
        vec!["--chain", "corpus/pki/intermediate.pem"],
        vec!["--pass", "env:X"],
        vec!["--timestamp-url", "http://127.0.0.1:1/"],
    ] {
        let o = sign_remote(&stub, dir.path(), "release", &input, &out, &extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(extra[0]) && err.contains("--server"),
            "{extra:?}: {err}"
        );
        assert!(!out.exists());
    }
    // An unknown key, and a wrong token: clear errors, nothing written.
    let o = sign_remote(&stub, dir.path(), "nope", &input, &out, &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope"));
    // A server whose signature is not over what was sent: refused, nothing written.
    for format in ["section", "module"] {
        let o = sign_remote(
            &stub,
            dir.path(),
            "evil",
            &module_fixture(dir.path()),
            &out,
            &["--format", format],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("the server's"),
            "{format}: {err}"
        );
        assert!(!out.exists(), "{format}: output written");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".bingate-sign-")
            })
            .collect();
        assert!(left.is_empty(), "temporary files left behind");
    }
}
