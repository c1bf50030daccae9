//! The API's routes (`docs/openapi.yaml`). Every answer carries `X-Request-Id`; every error is
//! JSON (`{"error": {"code", "message", "request_id"}}`). A signature or a refusal is recorded
//! in the audit log before the answer is sent; if the record cannot be written, nothing is
//! returned signed (503 `audit_unavailable`).

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Frame, Incoming};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};
use sha2::{Digest, Sha256};

use super::http::Peer;
use super::{Key, State, auth};
use crate::audit::{PolicyNote, Record};
use crate::budget::{LINGER_BYTES, LINGER_TIME};
use crate::hash::DigestAlg;
use crate::sign::digest::{BuildError, KeyMaterial};
use crate::sign::remote::{
    ApiError, DigestRequest, DigestResponse, ErrorBody, Format, KeysResponse, b64, hex,
};

type Body = BoxBody<Bytes, std::io::Error>;

/// The largest JSON body of a digest request: its manifest (1 MiB at most, checked by the
/// builder) and the client's check report.
const MAX_JSON_BODY: u64 = 4 << 20;
/// Seconds to wait for a time-stamping authority.
const TSA_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes per frame of a signed file sent back.
const SEND_CHUNK: usize = 256 << 10;

/// An answer that is not a success.
struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
    findings: Vec<String>,
    report: Option<serde_json::Value>,
    retry_after: Option<u64>,
}

/// Every error code the API answers with (`docs/openapi.yaml` lists the same; a test checks).
pub const ERROR_CODES: [&str; 14] = [
    "unauthorized",
    "forbidden",
    "bad_request",
    "not_found",
    "method_not_allowed",
    "too_large",
    "policy_refused",
    "busy",
    "rate_limited",
    "audit_unavailable",
    "sign_failed",
    "timestamp_failed",
    "timeout",
    "internal",
];

/// Every route (`docs/openapi.yaml` documents each).
pub const ROUTES: [&str; 7] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/v1/keys",
    "/v1/sign/digest",
    "/v1/sign/pe",
    "/v1/sign/elf",
];

fn fail(status: StatusCode, code: &'static str, message: impl Into<String>) -> Failure {
    debug_assert!(
        ERROR_CODES.contains(&code),
        "undocumented error code {code}"
    );
    Failure {
        status,
        code,
        message: message.into(),
        findings: Vec::new(),
        report: None,
        retry_after: None,
    }
}

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(
        Full::new(body.into())
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn json(status: StatusCode, v: &impl serde::Serialize) -> Response<Body> {
    full(
        status,
        "application/json",
        serde_json::to_vec(v).unwrap_or_default(),
    )
}

fn error_response(f: Failure, request_id: &str) -> Response<Body> {
    let mut r = json(
        f.status,
        &ErrorBody {
            error: ApiError {
                code: f.code.to_owned(),
                message: f.message,
                request_id: request_id.to_owned(),
                findings: f.findings,
                report: f.report,
            },
        },
    );
    if let Some(s) = f.retry_after {
        if let Ok(v) = s.to_string().parse() {
            r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
        }
    }
    if f.status == StatusCode::UNAUTHORIZED {
        if let Ok(v) = "Bearer".parse() {
            r.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, v);
        }
    }
    r
}

fn request_id() -> String {
    let mut b = [0u8; 12];
    if getrandom::getrandom(&mut b).is_err() {
        // Unique enough within the process: time and a counter.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        return format!("{:x}-{n}", crate::sign::command::now());
    }
    hex(&b)
}

/// The route as metrics name it (no query, unknown paths folded).
fn route_name(method: &Method, path: &str) -> String {
    if ROUTES.contains(&path) {
        format!("{method} {path}")
    } else {
        "other".to_owned()
    }
}

pub async fn handle(
    state: Arc<State>,
    peer: Peer,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let id = request_id();
    let route = route_name(req.method(), req.uri().path());
    let timeout = state.cfg.limits.request_timeout;
    let answer = match tokio::time::timeout(timeout, dispatch(&state, &peer, &id, req)).await {
        Ok(Ok(r)) => r,
        Ok(Err(f)) => error_response(f, &id),
        Err(_) => error_response(
            fail(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!("the request took longer than {} s", timeout.as_secs()),
            ),
            &id,
        ),
    };
    let mut answer = answer;
    if let Ok(v) = id.parse() {
        answer.headers_mut().insert("x-request-id", v);
    }
    state
        .metrics
        .request(&route, answer.status().as_u16(), started.elapsed());
    Ok(answer)
}

async fn dispatch(
    state: &Arc<State>,
    peer: &Peer,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, Failure> {
    let (parts, mut body) = req.into_parts();
    let answer = route(state, peer, id, &parts, &mut body).await;
    linger(body);
    answer
}

/// Reads and throws away what a client is still sending after its answer is decided (a refused
/// upload, an error before the body was read), for at most [`LINGER_BYTES`] and
/// [`LINGER_TIME`], in the background. Without this the connection is closed with the upload
/// unread: the kernel then resets it, and a client still writing gets "broken pipe" instead
/// of the 413 or 401 written for it. This is the lingering close of nginx and Apache httpd.
fn linger(body: Incoming) {
    if body.is_end_stream() {
        return;
    }
    tokio::spawn(async move {
        let mut body = body;
        let mut seen = 0u64;
        let _ = tokio::time::timeout(LINGER_TIME, async {
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    seen = seen.saturating_add(data.len() as u64);
                    if seen > LINGER_BYTES {
                        break;
                    }
                }
            }
        })
        .await;
    });
}

async fn route(
    state: &Arc<State>,
    peer: &Peer,
    id: &str,
    req: &Parts,
    body: &mut Incoming,
) -> Result<Response<Body>, Failure> {
    let path = req.uri.path().to_owned();
    let method = req.method.clone();
    match (method, path.as_str()) {
        (Method::GET, "/healthz") => Ok(full(StatusCode::OK, "text/plain", "ok\n")),
        (Method::GET, "/readyz") => Ok(readyz(state).await),
        (Method::GET, "/metrics") => {
            let mut s = String::new();
            let _ = state.metrics.render(&mut s);
            Ok(full(StatusCode::OK, "text/plain; version=0.0.4", s))
        }
        (Method::GET, "/v1/keys") => {
            let (client, _) = caller(state, peer, req)?;
            Ok(json(
                StatusCode::OK,
                &KeysResponse {
                    keys: state
                        .keys
                        .iter()
                        .filter(|k| client.may_use(&k.cfg))
                        .map(Key::info)
                        .collect(),
                },
            ))
        }
        (Method::POST, "/v1/sign/digest") => sign_digest(state, peer, id, req, body).await,
        (Method::POST, "/v1/sign/pe") => sign_file(state, peer, id, req, body, false).await,
        (Method::POST, "/v1/sign/elf") => sign_file(state, peer, id, req, body, true).await,
        (_, p) if ROUTES.contains(&p) => Err(fail(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "wrong method for this route",
        )),
        _ => Err(fail(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route {path}"),
        )),
    }
}

async fn readyz(state: &Arc<State>) -> Response<Body> {
    let mut problems = Vec::new();
    if state.draining.load(Ordering::SeqCst) {
        problems.push("shutting down".to_owned());
    }
    let st = state.clone();
    match tokio::task::spawn_blocking(move || st.log.ready()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => problems.push(format!("audit store: {e}")),
        Err(e) => problems.push(format!("audit store check: {e}")),
    }
    for k in &state.keys {
        if let Ok(last) = k.last_error.lock() {
            if let Some(e) = last.as_ref() {
                problems.push(format!("key {}: last signature failed: {e}", k.cfg.name));
            }
        }
    }
    let body = serde_json::json!({ "ready": problems.is_empty(), "problems": problems });
    json(
        if problems.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        &body,
    )
}

/// The caller, admitted by its rate limit.
fn caller<'s>(
    state: &'s State,
    peer: &Peer,
    req: &Parts,
) -> Result<(&'s auth::Client, bool), Failure> {
    let authz = req
        .headers
        .get(hyper::header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    let (client, by_cert) = auth::identify(&state.clients, authz, peer.cert_sha256.as_ref())
        .map_err(|auth::Denied::Unauthenticated(why)| {
            fail(StatusCode::UNAUTHORIZED, "unauthorized", why)
        })?;
    if let Err(wait) = client.admit() {
        let mut f = fail(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("client {} is over its rate limit", client.cfg.name),
        );
        f.retry_after = Some(wait.ceil().max(1.0) as u64);
        return Err(f);
    }
    Ok((client, by_cert))
}

/// The key `name`, if `client` may use it for `format`.
fn usable_key<'s>(
    state: &'s State,
    client: &auth::Client,
    name: &str,
    format: Format,
) -> Result<&'s Key, Failure> {
    let key = state.key(name).ok_or_else(|| {
        fail(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no key {name:?}"),
        )
    })?;
    if !client.may_use(&key.cfg) {
        return Err(fail(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "client {} has none of the roles key {name:?} allows ({})",
                client.cfg.name,
                key.cfg.roles.join(", ")
            ),
        ));
    }
    if !key.signs(format) {
        return Err(fail(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("key {name:?} does not sign {} files", format.as_str()),
        ));
    }
    Ok(key)
}

fn query(req: &Parts) -> Vec<(String, String)> {
    let q = req.uri.query().unwrap_or_default();
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0usize;
    while let Some(&c) = b.get(i) {
        match c {
            b'%' => {
                let hexpair = b
                    .get(i.saturating_add(1)..i.saturating_add(3))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hexpair {
                    Some(v) => {
                        out.push(v);
                        i = i.saturating_add(3);
                    }
                    None => {
                        out.push(c);
                        i = i.saturating_add(1);
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i = i.saturating_add(1);
            }
            _ => {
                out.push(c);
                i = i.saturating_add(1);
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a body of at most `limit` bytes into memory.
async fn read_small(body: &mut Incoming, limit: u64) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| fail(StatusCode::BAD_REQUEST, "bad_request", e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if (out.len() as u64).saturating_add(data.len() as u64) > limit {
                return Err(fail(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!("the request body is larger than {limit} bytes"),
                ));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// Streams a body of at most `limit` bytes into a new temporary file in `dir`, hashing it.
async fn receive_file(
    body: &mut Incoming,
    limit: u64,
    dir: &Path,
) -> Result<(tempfile::TempPath, [u8; 32], u64), Failure> {
    use tokio::io::AsyncWriteExt;
    let internal = |e: std::io::Error| {
        fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("work directory {}: {e}", dir.display()),
        )
    };
    let tmp = tempfile::Builder::new()
        .prefix(".bingate-upload-")
        .tempfile_in(dir)
        .map_err(internal)?;
    let (std_file, path) = tmp.into_parts();
    let mut file = tokio::fs::File::from_std(std_file);
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| fail(StatusCode::BAD_REQUEST, "bad_request", e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            len = len.saturating_add(data.len() as u64);
            if len > limit {
                return Err(fail(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!(
                        "the file is larger than the server's {limit}-byte limit (max_file_bytes)"
                    ),
                ));
            }
            hasher.update(&data);
            file.write_all(&data).await.map_err(internal)?;
        }
    }
    file.flush().await.map_err(internal)?;
    Ok((path, hasher.finalize().into(), len))
}

/// The policy's verdict on a report: the failing deny rules, as `rule: message`.
fn judge(
    policy: &crate::policy::Policy,
    report: &crate::report::FileReport,
    at: u64,
) -> PolicyNote {
    use crate::policy::{Level, Status};
    let mut ev = crate::policy::Evaluator::new(policy, crate::policy::Date::from_unix(at));
    let failed: Vec<String> = ev
        .evaluate(&report.subject())
        .iter()
        .filter(|f| f.status == Status::Fail && f.level == Level::Deny)
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect();
    PolicyNote {
        policy: policy.name.clone(),
        verdict: if failed.is_empty() { "pass" } else { "fail" }.to_owned(),
        facts: String::new(),
        failed,
    }
}

/// What every audit record of a request shares.
struct Context<'a> {
    id: &'a str,
    client: String,
    peer: &'a Peer,
    key: &'a Key,
    format: Format,
    mode: &'static str,
    file_name: Option<String>,
    file_sha256: Option<String>,
}

fn record(
    state: &State,
    c: &Context<'_>,
    digest: Option<(DigestAlg, &[u8])>,
    signature: Option<&[u8]>,
    timestamp_time: Option<u64>,
    policy: Option<PolicyNote>,
) -> Record {
    Record {
        time: crate::time::show(crate::sign::command::now()),
        request_id: c.id.to_owned(),
        client: c.client.clone(),
        client_ip: Some(c.peer.addr.ip().to_string()),
        replica: state.cfg.replica.clone(),
        key: c.key.cfg.name.clone(),
        cert_sha256: c.key.cert_sha256.clone(),
        format: c.format.as_str().to_owned(),
        mode: c.mode.to_owned(),
        file_name: c.file_name.clone(),
        file_sha256: c.file_sha256.clone(),
        digest_alg: digest.map(|(a, _)| a.name().to_owned()),
        digest: digest.map(|(_, d)| hex(d)),
        signature_sha256: signature.map(|s| hex(&Sha256::digest(s))),
        timestamp_time: timestamp_time.map(crate::time::show),
        outcome: if signature.is_some() {
            "signed"
        } else {
            "refused"
        }
        .to_owned(),
        policy,
    }
}

/// Writes `r`; on failure nothing may be answered as signed.
fn commit(state: &State, r: &Record) -> Result<u64, Failure> {
    match state.log.record(r) {
        Ok(a) => {
            state.metrics.signature(
                &r.key,
                if r.outcome == "signed" {
                    "signed"
                } else {
                    "refused"
                },
            );
            Ok(a.seq)
        }
        Err(e) => {
            state.metrics.audit_failures.fetch_add(1, Ordering::Relaxed);
            Err(fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_unavailable",
                format!("the audit record could not be written ({e}); nothing was signed"),
            ))
        }
    }
}

fn refused(note: &PolicyNote, seq: u64, report: Option<serde_json::Value>) -> Failure {
    Failure {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "policy_refused",
        message: format!(
            "{} deny rule{} of policy {} failed; not signed (audit record {seq})",
            note.failed.len(),
            if note.failed.len() == 1 { "" } else { "s" },
            note.policy
        ),
        findings: note.failed.clone(),
        report,
        retry_after: None,
    }
}

/// A timestamper over the key's TSAs in order.
fn timestamper(
    urls: Vec<String>,
    alg: DigestAlg,
) -> impl Fn(&[u8]) -> Result<Vec<u8>, String> + Sync {
    move |signature: &[u8]| {
        let imprint = crate::hash::digest(alg, signature).ok_or("unsupported digest")?;
        let mut errors = Vec::new();
        for url in &urls {
            match crate::sign::tsp::request(&crate::sign::tsp::TsaRequest {
                url,
                digest: alg,
                imprint: &imprint,
                timeout: TSA_TIMEOUT,
            }) {
                Ok(t) => return Ok(t.der),
                Err(e) => errors.push(format!("{url}: {e}")),
            }
        }
        Err(errors.join("; "))
    }
}

fn sign_error(state: &State, key: &Key, e: BuildError) -> Failure {
    let msg = e.to_string();
    let f = match e {
        BuildError::BadRequest(m) => return fail(StatusCode::BAD_REQUEST, "bad_request", m),
        BuildError::Busy(m) => {
            state.metrics.busy.fetch_add(1, Ordering::Relaxed);
            let mut f = fail(StatusCode::SERVICE_UNAVAILABLE, "busy", m);
            f.retry_after = Some(1);
            return f;
        }
        BuildError::Timestamp(m) => fail(StatusCode::BAD_GATEWAY, "timestamp_failed", m),
        _ => {
            state.metrics.key_error(&key.cfg.name);
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "sign_failed",
                msg.clone(),
            )
        }
    };
    if let Ok(mut last) = key.last_error.lock() {
        *last = Some(msg);
    }
    f
}

fn signed_ok(key: &Key) {
    if let Ok(mut last) = key.last_error.lock() {
        *last = None;
    }
}

fn digest_alg(name: &str) -> Option<DigestAlg> {
    match name {
        "sha1" => Some(DigestAlg::Sha1),
        "sha256" => Some(DigestAlg::Sha256),
        "sha384" => Some(DigestAlg::Sha384),
        "sha512" => Some(DigestAlg::Sha512),
        _ => None,
    }
}

/// Waits for a signing slot, or 503.
async fn slot(state: &State) -> Result<tokio::sync::OwnedSemaphorePermit, Failure> {
    match state.gate.enter(&state.metrics).await {
        Some(p) => Ok(p),
        None => {
            state.metrics.busy.fetch_add(1, Ordering::Relaxed);
            let mut f = fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "every signing slot is taken and the queue is full; try again",
            );
            f.retry_after = Some(1);
            Err(f)
        }
    }
}

/// A signing slot held by a blocking task: released once the CPU-bound part is done, so the
/// audit commit (I/O, batched with other requests' records) does not keep a core idle.
struct Slot(Option<tokio::sync::OwnedSemaphorePermit>);

impl Slot {
    fn release(&mut self) {
        self.0.take();
    }
}

/// Runs `f` on the blocking pool once a signing slot is free (503 when none comes in time).
async fn blocking<T: Send + 'static>(
    state: &State,
    f: impl FnOnce(Slot) -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let permit = slot(state).await?;
    state.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let r = tokio::task::spawn_blocking(move || f(Slot(Some(permit)))).await;
    state.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    r.unwrap_or_else(|e| {
        Err(fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the signing task failed: {e}"),
        ))
    })
}

async fn sign_digest(
    state: &Arc<State>,
    peer: &Peer,
    id: &str,
    req: &Parts,
    body: &mut Incoming,
) -> Result<Response<Body>, Failure> {
    let (client, by_cert) = caller(state, peer, req)?;
    let client_id = client.identity(by_cert);
    let body = read_small(body, MAX_JSON_BODY).await?;
    let dr: DigestRequest = serde_json::from_slice(&body).map_err(|e| {
        fail(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the request body: {e}"),
        )
    })?;
    // Re-check the caller's right to the key named in the body.
    usable_key(state, client, &dr.key, dr.format)?;
    let state2 = state.clone();
    let peer = peer.clone();
    let id = id.to_owned();
    let resp = blocking(state, move |mut slot| {
        let state = &*state2;
        let key = state.key(&dr.key).ok_or_else(|| fail(StatusCode::NOT_FOUND, "not_found", "key"))?;
        let at = crate::sign::command::now();
        let ctx = Context {
            id: &id,
            client: client_id,
            peer: &peer,
            key,
            format: dr.format,
            mode: "digest",
            file_name: Some(dr.file_name.clone()),
            file_sha256: Some(dr.file_sha256.clone()),
        };
        let alg = digest_alg(&dr.digest_alg).ok_or_else(|| {
            fail(StatusCode::BAD_REQUEST, "bad_request", format!("digest_alg {:?}: sha1, sha256, sha384 or sha512", dr.digest_alg))
        })?;
        let digest = crate::sign::remote::unhex(&dr.digest)
            .ok_or_else(|| fail(StatusCode::BAD_REQUEST, "bad_request", "digest: not hex"))?;
        // The policy is judged on the facts the client sent, and the record says so.
        let note = match &key.policy {
            None => None,
            Some(policy) => {
                let Some(evidence) = &dr.evidence else {
                    return Err(fail(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "policy_refused",
                        format!("key {:?} signs only files its policy {} passes: send the file's check report as `evidence` (bingate sign --server does)", key.cfg.name, policy.name),
                    ));
                };
                let report = super::evidence::report(evidence, &dr.file_name, &dr.file_sha256)
                    .map_err(|e| fail(StatusCode::BAD_REQUEST, "bad_request", format!("evidence: {e}")))?;
                let mut note = judge(policy, &report, at);
                note.facts = "client-supplied".to_owned();
                if !note.failed.is_empty() {
                    slot.release();
                    let seq = commit(state, &record(state, &ctx, Some((alg, &digest)), None, None, Some(note.clone())))?;
                    return Err(refused(&note, seq, None));
                }
                Some(note)
            }
        };
        let stamp = timestamper(key.cfg.timestamp_urls.clone(), alg);
        let km = KeyMaterial {
            signer: key.signer.as_ref(),
            cert: &key.cert,
            chain: &key.chain,
            timestamper: (!key.cfg.timestamp_urls.is_empty()).then_some(&stamp as _),
        };
        let built = crate::sign::digest::build(&dr, &km, at).map_err(|e| sign_error(state, key, e))?;
        slot.release();
        signed_ok(key);
        let seq = commit(
            state,
            &record(state, &ctx, Some((alg, &digest)), Some(&built.signature), built.timestamp_time, note),
        )?;
        Ok(DigestResponse {
            request_id: id.clone(),
            key: key.cfg.name.clone(),
            format: dr.format,
            signature_sha256: hex(&Sha256::digest(&built.signature)),
            signature: b64(&built.signature),
            timestamp_time: built.timestamp_time.map(crate::time::show),
            audit_seq: seq,
        })
    })
    .await?;
    Ok(json(StatusCode::OK, &resp))
}

/// What a whole-file signing produced, for the record.
struct FileSigned {
    alg: DigestAlg,
    digest: Vec<u8>,
    signature: Vec<u8>,
    timestamp_time: Option<u64>,
}

async fn sign_file(
    state: &Arc<State>,
    peer: &Peer,
    id: &str,
    req: &Parts,
    body: &mut Incoming,
    elf: bool,
) -> Result<Response<Body>, Failure> {
    let (client, by_cert) = caller(state, peer, req)?;
    let client_id = client.identity(by_cert);
    let q = query(req);
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let key_name =
        get("key").ok_or_else(|| fail(StatusCode::BAD_REQUEST, "bad_request", "missing ?key="))?;
    let format = if elf {
        match get("format").as_deref() {
            None | Some("section") => Format::ElfSection,
            Some("module") => Format::ElfModule,
            Some(other) => {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("format={other}: section or module"),
                ));
            }
        }
    } else {
        Format::Pe
    };
    let alg = match get("digest") {
        None => DigestAlg::Sha256,
        Some(d) => digest_alg(&d).ok_or_else(|| {
            fail(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("digest={d}: sha256, sha384 or sha512"),
            )
        })?,
    };
    if alg == DigestAlg::Sha1 && elf {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "ELF signatures use sha256, sha384 or sha512",
        ));
    }
    let replace = get("replace").is_some_and(|v| v == "true" || v == "1");
    let file_name =
        get("name").unwrap_or_else(|| if elf { "file.elf" } else { "file.exe" }.to_owned());
    usable_key(state, client, &key_name, format)?;
    if let Some(len) = req
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > state.cfg.limits.max_file_bytes {
            return Err(fail(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!(
                    "{len} bytes is over the server's {}-byte limit (max_file_bytes)",
                    state.cfg.limits.max_file_bytes
                ),
            ));
        }
    }
    let (input, file_sha, _len) =
        receive_file(body, state.cfg.limits.max_file_bytes, &state.work_dir).await?;
    let state2 = state.clone();
    let peer = peer.clone();
    let id = id.to_owned();
    let (output, seq) = blocking(state, move |mut slot| -> Result<(tempfile::TempPath, u64), Failure> {
        let state = &*state2;
        let key = state.key(&key_name).ok_or_else(|| fail(StatusCode::NOT_FOUND, "not_found", "key"))?;
        let at = crate::sign::command::now();
        let ctx = Context {
            id: &id,
            client: client_id,
            peer: &peer,
            key,
            format,
            mode: "file",
            file_name: Some(file_name.clone()),
            file_sha256: Some(hex(&file_sha)),
        };
        let bad = |e: String| fail(StatusCode::BAD_REQUEST, "bad_request", e);
        let view = mapped(&input)?;
        let data = view.bytes();
        let wanted = if elf { crate::facts::Format::Elf } else { crate::facts::Format::Pe };
        if !matches!(crate::detect::sniff_bytes(data), crate::detect::Sniffed::Binary(f) if f == wanted) {
            return Err(bad(format!("{file_name}: not a{} file", if elf { "n ELF" } else { " PE" })));
        }
        let note = match &key.policy {
            None => None,
            Some(policy) => {
                let report = crate::scan::examine(data, Path::new(&file_name), None, None);
                let mut note = judge(policy, &report, at);
                note.facts = "server-checked".to_owned();
                if !note.failed.is_empty() {
                    slot.release();
                    let seq = commit(state, &record(state, &ctx, None, None, None, Some(note.clone())))?;
                    return Err(refused(&note, seq, serde_json::to_value(&report).ok()));
                }
                Some(note)
            }
        };
        drop(view);
        let out = tempfile::Builder::new()
            .prefix(".bingate-signed-")
            .tempfile_in(&state.work_dir)
            .map_err(|e| fail(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
            .into_temp_path();
        let stamp = timestamper(key.cfg.timestamp_urls.clone(), alg);
        let km = KeyMaterial {
            signer: key.signer.as_ref(),
            cert: &key.cert,
            chain: &key.chain,
            timestamper: (!key.cfg.timestamp_urls.is_empty()).then_some(&stamp as _),
        };
        let signed = sign_whole(&input, &out, &km, format, alg, replace, at)
            .map_err(|e| sign_error(state, key, e))?;
        if let (Some(ceiling), Format::Pe) = (key.cfg.risk_at_most, format) {
            if let Err(f) = risk_gate(state, key, &out, ceiling, at) {
                slot.release();
                if f.status == StatusCode::UNPROCESSABLE_ENTITY {
                    // A refusal like a policy's: recorded, with the estimate as the reason.
                    let mut n = note.clone().unwrap_or_else(|| PolicyNote {
                        policy: String::new(),
                        verdict: String::new(),
                        facts: "server-checked".to_owned(),
                        failed: Vec::new(),
                    });
                    n.policy = match &key.policy {
                        Some(p) => format!("{} + risk_at_most {}", p.name, ceiling.as_str()),
                        None => format!("risk_at_most {}", ceiling.as_str()),
                    };
                    n.verdict = "fail".to_owned();
                    n.failed.push(format!("risk_at_most: {}", f.message));
                    let seq = commit(state, &record(state, &ctx, None, None, None, Some(n)))?;
                    let mut f = f;
                    f.message = format!("{}; not signed (audit record {seq})", f.message);
                    return Err(f);
                }
                return Err(f);
            }
        }
        slot.release();
        signed_ok(key);
        let seq = commit(
            state,
            &record(state, &ctx, Some((signed.alg, &signed.digest)), Some(&signed.signature), signed.timestamp_time, note),
        )?;
        Ok((out, seq))
    })
    .await?;
    let mut r = stream_file(
        output,
        if elf {
            "application/x-elf"
        } else {
            "application/vnd.microsoft.portable-executable"
        },
    )?;
    if let Ok(v) = seq.to_string().parse() {
        r.headers_mut().insert("x-audit-seq", v);
    }
    Ok(r)
}

/// The SmartScreen-risk ceiling on a signed PE file.
fn risk_gate(
    state: &State,
    key: &Key,
    out: &Path,
    ceiling: crate::risk::RiskLevel,
    at: u64,
) -> Result<(), Failure> {
    let view = mapped(out)?;
    let signing = crate::config::SigningConfig {
        trust: state.anchors.clone(),
        at,
        strict: false,
        require_all: false,
        revoked: Box::new(|_, _| None),
        module_certs: Vec::new(),
    };
    let weights = key
        .policy
        .as_ref()
        .map_or_else(crate::risk::Weights::default, |p| p.risk.clone());
    let report = crate::scan::examine(view.bytes(), out, Some(&signing), Some(&weights));
    match report.risk {
        Some(r) if r.level <= ceiling => Ok(()),
        Some(r) => Err(fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "policy_refused",
            format!(
                "the signed file's SmartScreen-risk estimate is {} (score {}), above the key's risk_at_most {}",
                r.level.as_str(),
                r.score,
                ceiling.as_str()
            ),
        )),
        None => Err(fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "no SmartScreen-risk estimate for the signed file",
        )),
    }
}

/// A file of the work directory, mapped (only the pages read cost memory).
fn mapped(path: &Path) -> Result<crate::sign::command::View, Failure> {
    let internal = |e: std::io::Error| {
        fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("{}: {e}", path.display()),
        )
    };
    let file = std::fs::File::open(path).map_err(internal)?;
    let meta = file.metadata().map_err(internal)?;
    crate::sign::command::View::new(&file, &meta).map_err(internal)
}

/// Signs a whole file with the format's own signing code.
fn sign_whole(
    input: &Path,
    out: &Path,
    km: &KeyMaterial<'_>,
    format: Format,
    alg: DigestAlg,
    replace: bool,
    at: u64,
) -> Result<FileSigned, BuildError> {
    match format {
        Format::Pe => {
            let s = crate::sign::pe::sign_file(
                input,
                out,
                km,
                &crate::sign::pe::PeFileOptions {
                    digest: alg,
                    description: None,
                    url: None,
                    at,
                },
            )
            .map_err(|e| classify(e.to_string()))?;
            Ok(FileSigned {
                alg: s.digest_alg,
                digest: s.image_digest,
                signature: s.signature,
                timestamp_time: s.timestamp_time,
            })
        }
        Format::ElfSection | Format::ElfModule => {
            let s = crate::sign::command::sign_file(
                input,
                out,
                km,
                format == Format::ElfModule,
                alg,
                replace,
                at,
            )
            .map_err(classify)?;
            Ok(FileSigned {
                alg: s.digest_alg,
                digest: s.digest,
                signature: s.signature,
                timestamp_time: s.timestamp_time,
            })
        }
    }
}

/// A whole-file signing error: the file's fault (400), the token's saturation (503), the TSA's
/// (502) or the key's (500).
fn classify(e: String) -> BuildError {
    let lower = e.to_ascii_lowercase();
    if lower.contains("busy") {
        BuildError::Busy(e)
    } else if lower.contains("timestamp") || lower.contains("tsa") {
        BuildError::Timestamp(e)
    } else if lower.contains("pkcs#11") || lower.contains("ckr_") || lower.contains("token") {
        BuildError::Sign(e)
    } else {
        BuildError::BadRequest(e)
    }
}

/// Sends a file as the body, a chunk at a time from a blocking reader; the file is removed when
/// sent (or when the client goes away).
fn stream_file(path: tempfile::TempPath, content_type: &str) -> Result<Response<Body>, Failure> {
    let len = std::fs::metadata(&path)
        .map_err(|e| fail(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .len();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let path: PathBuf = path.to_path_buf();
        let guard = path.clone();
        let r = (|| -> std::io::Result<()> {
            let mut f = std::fs::File::open(&path)?;
            let mut buf = vec![0u8; SEND_CHUNK];
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    return Ok(());
                }
                if tx
                    .blocking_send(Ok(Bytes::copy_from_slice(buf.get(..n).unwrap_or_default())))
                    .is_err()
                {
                    return Ok(());
                }
            }
        })();
        if let Err(e) = r {
            let _ = tx.blocking_send(Err(e));
        }
        let _ = std::fs::remove_file(guard);
    });
    let mut r = Response::new(ChannelBody(rx).boxed());
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    if let Ok(v) = len.to_string().parse() {
        r.headers_mut().insert(hyper::header::CONTENT_LENGTH, v);
    }
    Ok(r)
}

struct ChannelBody(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OpenAPI document names every route and every error code the server uses.
    #[test]
    fn openapi_documents_every_route_and_error_code() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.yaml"))
                .unwrap();
        for r in ROUTES {
            assert!(
                doc.contains(&format!("\n  {r}:\n")),
                "route {r} is not in docs/openapi.yaml"
            );
        }
        let line = doc
            .lines()
            .find(|l| l.trim_start().starts_with("enum: [unauthorized"))
            .unwrap();
        let inside = line.split_once('[').unwrap().1.split_once(']').unwrap().0;
        let mut documented: Vec<&str> = inside.split(',').map(str::trim).collect();
        let mut ours = ERROR_CODES.to_vec();
        documented.sort_unstable();
        ours.sort_unstable();
        assert_eq!(
            documented, ours,
            "docs/openapi.yaml's error codes differ from the server's"
        );
    }

    #[test]
    fn percent_decoding_of_query_values() {
        assert_eq!(percent_decode("my%20app.exe"), "my app.exe");
        assert_eq!(percent_decode("a+b"), "a b");
        assert_eq!(percent_decode("bad%zz"), "bad%zz");
        assert_eq!(percent_decode("end%2"), "end%2");
    }
}
