//! A small RFC 3161 time-stamping authority for the test suite: `mod common; mod tsa;` in a test
//! file (it reads the test PKI through `common::paths`), then
//!
//! ```ignore
//! let t = tsa::TestTsa::start(tsa::Mode::Good);
//! let url = t.url(); // http://127.0.0.1:PORT/tsa
//! ```
//!
//! It serves any number of requests on loopback from a background thread until dropped, and
//! signs with the test TSA of `corpus/pki` (`tsa.key`, `tsa.pem`: EKU timeStamping, issued by
//! `root.pem`). The token is built here from the `cms`, `x509-tsp` and `der` types, not with
//! bingate's code, so that it is independent of what it tests: SignedData v3 over a DER TSTInfo,
//! the TSA certificate when the request sets certReq, one SignerInfo (v1, issuerAndSerialNumber)
//! with contentType, signingTime, messageDigest and ESS signingCertificateV2 (which
//! `openssl ts -verify` requires), RSA PKCS#1 v1.5 with SHA-256.

// Each test binary that includes this module uses only some of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::paths::pki;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, GeneralizedTime, Int, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Decode, DecodePem, Encode, Tag};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_tsp::{Accuracy, MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// The test TSA's policy (a private-enterprise arc reserved for documentation-like use).
pub const POLICY: &str = "1.3.6.1.4.1.99999.1";
/// The statusString of [`Mode::Rejection`].
pub const REJECTION_TEXT: &str = "the bingate test TSA rejects this request";

/// How the TSA answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A granted, correct token with genTime = now.
    Good,
    /// A granted, correct token with this genTime (Unix seconds).
    GoodAt(u64),
    /// As `Good`, the HTTP body sent with chunked transfer encoding in small chunks.
    GoodChunked,
    /// Status rejection, statusString [`REJECTION_TEXT`], failInfo badRequest; no token.
    Rejection,
    /// HTTP 200, `Content-Type: text/html`, a body that is not DER.
    Garbage,
    /// A signed token whose nonce is not the request's.
    WrongNonce,
    /// A signed token over another imprint than the request's.
    WrongImprint,
    /// A signed token without a nonce although the request had one.
    NoNonce,
    /// HTTP 500.
    Http500,
    /// Accepts the connection and never answers.
    Hang,
}

/// One request and the body answered to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The HTTP request body (a DER TimeStampReq from a correct client).
    pub request: Vec<u8>,
    /// The HTTP response body (a DER TimeStampResp, except for `Garbage` and `Http500`).
    pub response: Vec<u8>,
}

/// A running test TSA; dropping it stops it.
pub struct TestTsa {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    thread: Option<JoinHandle<()>>,
}

struct TsaKey {
    key: rsa::pkcs1v15::SigningKey<Sha256>,
    cert: Certificate,
    cert_der: Vec<u8>,
    serial: AtomicU64,
}

impl TsaKey {
    fn load() -> TsaKey {
        let key_pem = std::fs::read_to_string(pki("tsa.key")).expect("corpus/pki/tsa.key");
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&key_pem).expect("tsa.key is PKCS#8 RSA");
        let cert_pem = std::fs::read(pki("tsa.pem")).expect("corpus/pki/tsa.pem");
        let cert = Certificate::from_pem(&cert_pem).expect("tsa.pem is a certificate");
        let cert_der = cert.to_der().expect("re-encode tsa.pem");
        TsaKey {
            key: rsa::pkcs1v15::SigningKey::<Sha256>::new(key),
            cert,
            cert_der,
            serial: AtomicU64::new(1),
        }
    }
}

/// A URL on which nothing listens (a loopback port just released).
pub fn closed_port_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = l.local_addr().expect("local addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}/tsa")
}

impl TestTsa {
    pub fn start(mode: Mode) -> TestTsa {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let stop = Arc::new(AtomicBool::new(false));
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let signer = Arc::new(TsaKey::load());
        let thread = {
            let stop = Arc::clone(&stop);
            let exchanges = Arc::clone(&exchanges);
            std::thread::spawn(move || {
                let mut handlers = Vec::new();
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (stop, exchanges, signer) = (
                        Arc::clone(&stop),
                        Arc::clone(&exchanges),
                        Arc::clone(&signer),
                    );
                    handlers.push(std::thread::spawn(move || {
                        serve(conn, mode, &signer, &exchanges, &stop);
                    }));
                }
                for h in handlers {
                    let _ = h.join();
                }
            })
        };
        TestTsa {
            addr,
            stop,
            exchanges,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/tsa", self.addr)
    }

    /// Every request answered so far, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().expect("exchange log").clone()
    }

    /// The last request answered.
    pub fn last(&self) -> Option<Exchange> {
        self.exchanges().pop()
    }
}

impl Drop for TestTsa {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one HTTP request and returns its body (`None` when the peer went away or sent junk).
fn read_request(conn: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())?;
    if len > 1024 * 1024 {
        return None;
    }
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    Some(body)
}

fn serve(
    mut conn: TcpStream,
    mode: Mode,
    signer: &TsaKey,
    exchanges: &Mutex<Vec<Exchange>>,
    stop: &AtomicBool,
) {
    if stop.load(Ordering::SeqCst) {
        return;
    }
    if mode == Mode::Hang {
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
        }
        return;
    }
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = conn.set_write_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&mut conn) else {
        return;
    };
    let (head, body): (String, Vec<u8>) = match mode {
        Mode::Http500 => (
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain".into(),
            b"the test TSA fails on purpose".to_vec(),
        ),
        Mode::Garbage => (
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8".into(),
            b"<html><body>this is not a time-stamp reply</body></html>".to_vec(),
        ),
        _ => match TimeStampReq::from_der(&request) {
            Ok(req) => (
                "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply".into(),
                reply(&req, mode, signer),
            ),
            Err(_) => (
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain".into(),
                b"not a TimeStampReq".to_vec(),
            ),
        },
    };
    exchanges.lock().expect("exchange log").push(Exchange {
        request,
        response: body.clone(),
    });
    let mut out = head.into_bytes();
    if mode == Mode::GoodChunked {
        out.extend_from_slice(b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        for piece in body.chunks(100) {
            out.extend_from_slice(format!("{:X};piece=1\r\n", piece.len()).as_bytes());
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\nX-Test-Trailer: done\r\n\r\n");
    } else {
        out.extend_from_slice(
            format!(
                "\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&body);
    }
    let _ = conn.write_all(&out);
    let _ = conn.flush();
}

fn any_seq(parts: &[&[u8]]) -> Vec<u8> {
    Any::new(Tag::Sequence, parts.concat())
        .expect("SEQUENCE")
        .to_der()
        .expect("SEQUENCE DER")
}

/// The DER TimeStampResp for `req` in `mode`.
fn reply(req: &TimeStampReq, mode: Mode, signer: &TsaKey) -> Vec<u8> {
    if mode == Mode::Rejection {
        let text = Any::new(Tag::Utf8String, REJECTION_TEXT.as_bytes())
            .expect("UTF8String")
            .to_der()
            .expect("UTF8String DER");
        // PKIStatusInfo { rejection(2), statusString, failInfo badRequest (bit 2) }.
        let status = any_seq(&[
            &[0x02, 0x01, 0x02],
            &any_seq(&[&text]),
            &[0x03, 0x02, 0x05, 0x20],
        ]);
        return any_seq(&[&status]);
    }
    let granted = [0x30, 0x03, 0x02, 0x01, 0x00];
    let resp = TimeStampResp {
        status: Decode::from_der(&granted).expect("PKIStatusInfo granted"),
        time_stamp_token: Some(token(req, mode, signer)),
    };
    resp.to_der().expect("TimeStampResp DER")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Attribute {
    Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).expect("one value"),
    }
}

/// The TimeStampToken: ContentInfo(SignedData) over a DER TSTInfo.
fn token(req: &TimeStampReq, mode: Mode, signer: &TsaKey) -> ContentInfo {
    let gen_time = match mode {
        Mode::GoodAt(t) => t,
        _ => now(),
    };
    let mut imprint: MessageImprint = req.message_imprint.clone();
    if mode == Mode::WrongImprint {
        let mut h = imprint.hashed_message.as_bytes().to_vec();
        if let Some(b) = h.first_mut() {
            *b ^= 0xff;
        }
        imprint.hashed_message = OctetString::new(h).expect("imprint");
    }
    let nonce = match mode {
        Mode::NoNonce => None,
        Mode::WrongNonce => {
            let mut n = req
                .nonce
                .as_ref()
                .map(|n| n.as_bytes().to_vec())
                .unwrap_or_else(|| vec![0x2a]);
            if let Some(b) = n.last_mut() {
                *b ^= 0x01;
            }
            Some(Int::new(&n).expect("nonce"))
        }
        _ => req.nonce.clone(),
    };
    let serial = signer.serial.fetch_add(1, Ordering::SeqCst);
    let tst = TstInfo {
        version: TspVersion::V1,
        policy: ObjectIdentifier::new(POLICY).expect("policy OID"),
        message_imprint: imprint,
        serial_number: Int::from_der(&serial.to_der().expect("serial")).expect("serial"),
        gen_time: GeneralizedTime::from_unix_duration(Duration::from_secs(gen_time))
            .expect("genTime in range"),
        accuracy: Some(Accuracy {
            seconds: Some(1),
            millis: None,
            micros: None,
        }),
        ordering: false,
        nonce,
        tsa: None,
        extensions: None,
    };
    let tst_der = tst.to_der().expect("TSTInfo DER");

    // ESS SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { certHash } } (hashAlgorithm is
    // its DEFAULT sha256, so absent; RFC 5035 §3).
    let cert_hash = OctetString::new(Sha256::digest(&signer.cert_der).to_vec())
        .expect("cert hash")
        .to_der()
        .expect("cert hash DER");
    let ess = any_seq(&[&any_seq(&[&any_seq(&[&cert_hash])])]);
    let signing_time = UtcTime::from_unix_duration(Duration::from_secs(gen_time))
        .map(|t| Any::encode_from(&t).expect("UTCTime"))
        .unwrap_or_else(|_| {
            Any::encode_from(
                &GeneralizedTime::from_unix_duration(Duration::from_secs(gen_time))
                    .expect("signingTime"),
            )
            .expect("GeneralizedTime")
        });
    let message_digest = OctetString::new(Sha256::digest(&tst_der).to_vec()).expect("digest");
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(
            ID_CONTENT_TYPE,
            Any::encode_from(&ID_CT_TST_INFO).expect("contentType"),
        ),
        attribute(ID_SIGNING_TIME, signing_time),
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&message_digest).expect("messageDigest"),
        ),
        attribute(
            ID_AA_SIGNING_CERTIFICATE_V2,
            Any::from_der(&ess).expect("ESS"),
        ),
    ])
    .expect("signed attributes");
    // The signature covers the DER SET OF the signed attributes (RFC 5652 §5.4).
    let to_sign = signed_attrs.to_der().expect("signed attributes DER");
    let signature = signer.key.sign(&to_sign).to_vec();

    let tbs = &signer.cert.tbs_certificate;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer.clone(),
            serial_number: tbs.serial_number.clone(),
        }),
        digest_alg: AlgorithmIdentifierOwned {
            oid: ID_SHA256,
            parameters: None,
        },
        signed_attrs: Some(signed_attrs),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        signature: OctetString::new(signature).expect("signature"),
        unsigned_attrs: None,
    };
    let certificates = req.cert_req.then(|| {
        CertificateSet(
            SetOfVec::try_from(vec![CertificateChoices::Certificate(signer.cert.clone())])
                .expect("certificate set"),
        )
    });
    let signed_data = SignedData {
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![AlgorithmIdentifierOwned {
            oid: ID_SHA256,
            parameters: None,
        }])
        .expect("digest algorithms"),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_CT_TST_INFO,
            econtent: Some(Any::new(Tag::OctetString, tst_der).expect("eContent")),
        },
        certificates,
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).expect("signer infos")),
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).expect("SignedData"),
    }
}
