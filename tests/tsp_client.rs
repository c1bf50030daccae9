//! The RFC 3161 client (`bingate::sign::tsp`) against the test TSA (`tests/tsa`): a good token
//! comes back checked, every way a TSA can fail gives its own error, and OpenSSL accepts both our
//! query and the test TSA's reply (so neither side only agrees with itself).
//!
//! OpenSSL checks run when `openssl` is on PATH; with `BINGATE_REQUIRE_INTEROP=1` its absence
//! is a failure.

mod common;
mod tsa;

use std::mem::discriminant;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bingate::hash::DigestAlg;
use bingate::sign::tsp::{self, Token, TsaRequest, TspError};
use common::{interop, paths};
use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use tsa::{Mode, TestTsa};

const DATA: &[u8] = b"bingate RFC 3161 client test: the bytes being timestamped\n";
/// 2026-01-01T00:00:00Z.
const FIXED_TIME: u64 = 1_767_225_600;

fn imprint() -> Vec<u8> {
    Sha256::digest(DATA).to_vec()
}

fn ask_with(url: &str, timeout: Duration) -> Result<Token, TspError> {
    let imprint = imprint();
    tsp::request(&TsaRequest {
        url,
        digest: DigestAlg::Sha256,
        imprint: &imprint,
        timeout,
    })
}

fn ask(url: &str) -> Result<Token, TspError> {
    ask_with(url, Duration::from_secs(10))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The nonce of a DER TimeStampReq, as the client sent it.
fn nonce_of(request: &[u8]) -> u64 {
    let req = x509_tsp::TimeStampReq::from_der(request).unwrap();
    let bytes = req.nonce.unwrap().as_bytes().to_vec();
    assert!(bytes.len() <= 9 && (bytes.len() < 9 || bytes[0] == 0));
    bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A positive INTEGER as `openssl ts -text` prints it: big-endian bytes, two digits each.
fn openssl_hex(n: u64) -> String {
    let bytes = n.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(7);
    bytes[first..].iter().map(|b| format!("{b:02X}")).collect()
}

/// `corpus/pki/<name>` as an `openssl` argument.
fn pki(name: &str) -> String {
    paths::pki(name).to_string_lossy().into_owned()
}

#[test]
fn good_tsa_gives_a_checked_token() {
    let t = TestTsa::start(Mode::Good);
    let before = now();
    let token = ask(&t.url()).unwrap();
    let after = now();
    assert!(
        (before..=after).contains(&token.gen_time),
        "genTime {} not in {before}..={after}",
        token.gen_time
    );
    let tsa = token.tsa.as_deref().unwrap();
    assert!(tsa.contains("CN=Bingate Test TSA"), "{tsa}");
    // The token is the one in the TSA's reply, byte for byte, and a ContentInfo(SignedData).
    let ex = t.last().unwrap();
    let resp = x509_tsp::TimeStampResp::from_der(&ex.response).unwrap();
    assert_eq!(token.der, resp.time_stamp_token.unwrap().to_der().unwrap());
    let ci = cms::content_info::ContentInfo::from_der(&token.der).unwrap();
    assert_eq!(ci.content_type.to_string(), "1.2.840.113549.1.7.2");
    // The client sent the imprint it was given and asked for the certificate.
    let req = x509_tsp::TimeStampReq::from_der(&ex.request).unwrap();
    assert_eq!(req.message_imprint.hashed_message.as_bytes(), imprint());
    assert!(req.cert_req);
    // The pure check gives the same token from the recorded reply.
    let again = tsp::check_response(
        &ex.response,
        DigestAlg::Sha256,
        &imprint(),
        nonce_of(&ex.request),
    )
    .unwrap();
    assert_eq!(again, token);
}

#[test]
fn good_at_states_the_fixed_gen_time() {
    let t = TestTsa::start(Mode::GoodAt(FIXED_TIME));
    assert_eq!(ask(&t.url()).unwrap().gen_time, FIXED_TIME);
}

#[test]
fn chunked_reply_is_read() {
    let t = TestTsa::start(Mode::GoodChunked);
    let token = ask(&t.url()).unwrap();
    let ex = t.last().unwrap();
    let resp = x509_tsp::TimeStampResp::from_der(&ex.response).unwrap();
    assert_eq!(token.der, resp.time_stamp_token.unwrap().to_der().unwrap());
}

#[test]
fn one_tsa_serves_many_requests_with_fresh_nonces() {
    let t = TestTsa::start(Mode::Good);
    for _ in 0..3 {
        ask(&t.url()).unwrap();
    }
    let ex = t.exchanges();
    assert_eq!(ex.len(), 3);
    let mut nonces: Vec<u64> = ex.iter().map(|e| nonce_of(&e.request)).collect();
    assert!(nonces.iter().all(|&n| n != 0));
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "nonces repeat: {nonces:?}");
}

#[test]
fn openssl_verifies_the_token_and_the_reply() {
    if !interop::require("openssl") {
        return;
    }
    let t = TestTsa::start(Mode::GoodAt(FIXED_TIME));
    let token = ask(&t.url()).unwrap();
    let ex = t.last().unwrap();
    let dir = paths::tempdir();
    let path = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    std::fs::write(path("data.bin"), DATA).unwrap();
    std::fs::write(path("other.bin"), b"other bytes").unwrap();
    std::fs::write(path("token.der"), &token.der).unwrap();
    std::fs::write(path("req.der"), &ex.request).unwrap();
    std::fs::write(path("resp.der"), &ex.response).unwrap();
    let (root, tsa) = (pki("root.pem"), pki("tsa.pem"));

    // The token the client returned, over the data it timestamps.
    let (ok, out) = openssl(&[
        "ts",
        "-verify",
        "-data",
        &path("data.bin"),
        "-in",
        &path("token.der"),
        "-token_in",
        "-CAfile",
        &root,
        "-untrusted",
        &tsa,
    ]);
    assert!(ok && out.contains("Verification: OK"), "{out}");
    // Negative control: other data must not verify against it.
    let (ok, out) = openssl(&[
        "ts",
        "-verify",
        "-data",
        &path("other.bin"),
        "-in",
        &path("token.der"),
        "-token_in",
        "-CAfile",
        &root,
        "-untrusted",
        &tsa,
    ]);
    assert!(!ok && !out.contains("Verification: OK"), "{out}");

    // The whole reply against our query (imprint and nonce).
    let (ok, out) = openssl(&[
        "ts",
        "-verify",
        "-queryfile",
        &path("req.der"),
        "-in",
        &path("resp.der"),
        "-CAfile",
        &root,
        "-untrusted",
        &tsa,
    ]);
    assert!(ok && out.contains("Verification: OK"), "{out}");

    let (ok, out) = openssl(&["ts", "-reply", "-in", &path("resp.der"), "-text"]);
    assert!(ok, "{out}");
    for want in [
        "Status: Granted.",
        "Hash Algorithm: sha256",
        "Policy OID: 1.3.6.1.4.1.99999.1",
        "Time stamp: Jan  1 00:00:00 2026 GMT",
        &format!("Nonce: 0x{}", openssl_hex(nonce_of(&ex.request))),
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
}

#[test]
fn openssl_reads_our_query() {
    if !interop::require("openssl") {
        return;
    }
    let nonce = 0x0123_4567_89ab_cdef_u64;
    let der = tsp::encode_request(DigestAlg::Sha256, &imprint(), nonce).unwrap();
    let dir = paths::tempdir();
    let ours = dir.path().join("ours.tsq").to_string_lossy().into_owned();
    let theirs = dir.path().join("theirs.tsq").to_string_lossy().into_owned();
    std::fs::write(&ours, &der).unwrap();
    let (ok, out) = openssl(&["ts", "-query", "-in", &ours, "-text"]);
    assert!(ok, "{out}");
    for want in [
        "Version: 1",
        "Hash Algorithm: sha256",
        "Nonce: 0x0123456789ABCDEF",
        "Certificate required: yes",
        "Policy OID: unspecified",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    // Same messageImprint encoding (hashAlgorithm parameters included) and certReq as OpenSSL's
    // own query for the same hash.
    let hex: String = imprint().iter().map(|b| format!("{b:02x}")).collect();
    let (ok, out) = openssl(&[
        "ts",
        "-query",
        "-digest",
        &hex,
        "-sha256",
        "-cert",
        "-no_nonce",
        "-out",
        &theirs,
    ]);
    assert!(ok, "{out}");
    let theirs = x509_tsp::TimeStampReq::from_der(&std::fs::read(&theirs).unwrap()).unwrap();
    let ours = x509_tsp::TimeStampReq::from_der(&der).unwrap();
    assert_eq!(
        ours.message_imprint.to_der().unwrap(),
        theirs.message_imprint.to_der().unwrap()
    );
    assert_eq!(
        (ours.version, ours.cert_req, ours.req_policy),
        (theirs.version, theirs.cert_req, theirs.req_policy)
    );
}

/// The error for one failure mode, with checks every error must pass.
fn failure(mode: Mode) -> TspError {
    let t = TestTsa::start(mode);
    let url = t.url();
    let e = ask_with(&url, Duration::from_secs(10)).unwrap_err();
    assert_eq!(e.url(), url, "{e:?}");
    assert!(e.to_string().contains(&url), "{e}");
    e
}

#[test]
fn rejection_reports_status_and_status_string() {
    let e = failure(Mode::Rejection);
    let TspError::NotGranted {
        status,
        status_string,
        fail_info,
        ..
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!(*status, 2);
    assert_eq!(status_string.as_deref(), Some(tsa::REJECTION_TEXT));
    assert_eq!(fail_info, &["badRequest"]);
    let msg = e.to_string();
    assert!(
        msg.contains("rejection") && msg.contains(tsa::REJECTION_TEXT),
        "{msg}"
    );
}

#[test]
fn garbage_reply_names_its_content_type() {
    let e = failure(Mode::Garbage);
    let TspError::MalformedReply { content_type, .. } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
    assert!(e.to_string().contains("text/html"), "{e}");
}

#[test]
fn wrong_nonce_is_refused() {
    let e = failure(Mode::WrongNonce);
    assert!(matches!(e, TspError::NonceMismatch { .. }), "{e:?}");
}

#[test]
fn wrong_imprint_is_refused() {
    let e = failure(Mode::WrongImprint);
    let TspError::ImprintMismatch { expected, .. } = &e else {
        panic!("{e:?}");
    };
    let hex: String = imprint().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(expected, &hex);
}

#[test]
fn missing_nonce_is_refused() {
    let e = failure(Mode::NoNonce);
    assert!(matches!(e, TspError::NonceMissing { .. }), "{e:?}");
}

#[test]
fn http_500_reports_the_status() {
    let e = failure(Mode::Http500);
    let TspError::HttpStatus { code, reason, .. } = &e else {
        panic!("{e:?}");
    };
    assert_eq!((*code, reason.as_str()), (500, "Internal Server Error"));
}

#[test]
fn hanging_tsa_times_out() {
    let t = TestTsa::start(Mode::Hang);
    let start = Instant::now();
    let e = ask_with(&t.url(), Duration::from_secs(1)).unwrap_err();
    let took = start.elapsed();
    let TspError::Timeout { after, during, .. } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(*after, Duration::from_secs(1));
    assert_eq!(*during, "waiting for the reply");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(e.to_string().contains(&t.url()), "{e}");
}

#[test]
fn closed_port_is_unreachable() {
    let url = tsa::closed_port_url();
    let e = ask(&url).unwrap_err();
    assert!(matches!(e, TspError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&url), "{e}");
}

#[test]
fn https_is_refused_with_a_reason() {
    let e = ask("https://timestamp.example.com/tsa").unwrap_err();
    assert!(matches!(e, TspError::UnsupportedScheme { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("https is not supported") && msg.contains("signed") && msg.contains("http://"),
        "{msg}"
    );
}

#[test]
fn bad_urls_are_refused_before_any_traffic() {
    for url in [
        "",
        "timestamp.example.com/tsa",
        "http://",
        "http://host:notaport/",
        "http://host:70000/",
        "http://user:pass@host/",
        "http://[::1/",
        "http://bad host/",
        "http://host/\r\nX-Injected: 1",
    ] {
        let e = ask(url).unwrap_err();
        assert!(matches!(e, TspError::InvalidUrl { .. }), "{url:?}: {e:?}");
    }
}

#[test]
fn imprint_of_the_wrong_length_is_refused() {
    let e = tsp::request(&TsaRequest {
        url: "http://127.0.0.1:9/tsa",
        digest: DigestAlg::Sha384,
        imprint: &imprint(),
        timeout: Duration::from_secs(1),
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            TspError::ImprintLength {
                expected: 48,
                found: 32,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn every_failure_mode_has_its_own_error() {
    let errors = [
        failure(Mode::Rejection),
        failure(Mode::Garbage),
        failure(Mode::WrongNonce),
        failure(Mode::WrongImprint),
        failure(Mode::NoNonce),
        failure(Mode::Http500),
        ask_with(
            &TestTsa::start(Mode::Hang).url(),
            Duration::from_millis(300),
        )
        .unwrap_err(),
        ask(&tsa::closed_port_url()).unwrap_err(),
        ask("https://timestamp.example.com/").unwrap_err(),
        ask("not a url").unwrap_err(),
    ];
    for (i, a) in errors.iter().enumerate() {
        for b in &errors[i + 1..] {
            assert_ne!(discriminant(a), discriminant(b), "{a:?} and {b:?}");
        }
    }
}

/// A recorded good reply and the nonce it answers.
fn recorded_reply() -> (Vec<u8>, u64) {
    let t = TestTsa::start(Mode::GoodAt(FIXED_TIME));
    ask(&t.url()).unwrap();
    let ex = t.last().unwrap();
    (ex.response, nonce_of(&ex.request))
}

#[test]
fn tampered_tst_info_fails_the_message_digest() {
    let (mut reply, nonce) = recorded_reply();
    let at = reply
        .windows(15)
        .position(|w| w == b"20260101000000Z")
        .expect("genTime in the reply");
    reply[at + 13] = b'1';
    let e = tsp::check_response(&reply, DigestAlg::Sha256, &imprint(), nonce).unwrap_err();
    let TspError::BadTokenSignature { detail, .. } = &e else {
        panic!("{e:?}");
    };
    assert!(detail.contains("messageDigest"), "{detail}");
}

#[test]
fn tampered_signature_fails() {
    let (mut reply, nonce) = recorded_reply();
    // The RSA signature is the last field of the last structure: the reply's last byte.
    *reply.last_mut().unwrap() ^= 0x01;
    let e = tsp::check_response(&reply, DigestAlg::Sha256, &imprint(), nonce).unwrap_err();
    assert!(matches!(e, TspError::BadTokenSignature { .. }), "{e:?}");
    assert!(e.to_string().contains("the TSA reply"), "{e}");
}

#[test]
fn reply_checks_without_network() {
    let (reply, nonce) = recorded_reply();
    let token = tsp::check_response(&reply, DigestAlg::Sha256, &imprint(), nonce).unwrap();
    assert_eq!(token.gen_time, FIXED_TIME);
    assert!(matches!(
        tsp::check_response(&reply, DigestAlg::Sha256, &imprint(), nonce ^ 1),
        Err(TspError::NonceMismatch { .. })
    ));
    assert!(matches!(
        tsp::check_response(&reply, DigestAlg::Sha384, &[0; 48], nonce),
        Err(TspError::ImprintAlgorithmMismatch { .. })
    ));
    let mut other = imprint();
    other[0] ^= 1;
    assert!(matches!(
        tsp::check_response(&reply, DigestAlg::Sha256, &other, nonce),
        Err(TspError::ImprintMismatch { .. })
    ));
    // Cut anywhere, the reply is an error, never a panic.
    for len in (0..reply.len()).step_by(7) {
        assert!(tsp::check_response(&reply[..len], DigestAlg::Sha256, &imprint(), nonce).is_err());
    }
}
