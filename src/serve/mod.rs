//! `bingate serve`: a signing server that checks before it signs and records every signature
//! and refusal in a tamper-evident audit log before it answers.
//!
//! - `config`: the TOML configuration, read with positions.
//! - `auth`: bearer tokens (hashed) and client-certificate fingerprints, roles, rate limits.
//! - `http`: the listener (rustls, optional mutual TLS; plain HTTP on loopback only), one
//!   hyper connection per client, graceful shutdown on SIGTERM/SIGINT.
//! - `routes`: the API (`docs/openapi.yaml`): keys, whole-file and digest-only signing, health,
//!   readiness, metrics.
//! - `metrics`: Prometheus counters.
//!
//! Signing runs on tokio's blocking pool behind a gate: `workers` operations at once, at most
//! `queue` more waiting (each at most `queue_wait`), 503 beyond that: memory does not grow with
//! the load. The audit record is written (committed) before the response: when it cannot be,
//! the signature is thrown away and the client gets 503.

pub mod auth;
pub mod config;
mod evidence;
mod http;
pub mod metrics;
mod routes;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use crate::cms::Signer;
use crate::sign::remote::{Format, KeyInfo, b64, hex};
use config::{KeyConfig, ServerConfig};

/// A configured key, loaded: the signer and its certificates, the policy it gates with.
pub struct Key {
    pub cfg: KeyConfig,
    pub signer: Box<dyn Signer>,
    pub cert: Certificate,
    pub chain: Vec<Certificate>,
    pub cert_sha256: String,
    pub policy: Option<crate::policy::Policy>,
    /// The last signing error, for `/readyz` (cleared by the next success).
    pub last_error: std::sync::Mutex<Option<String>>,
}

impl Key {
    pub fn info(&self) -> KeyInfo {
        use der::Encode;
        KeyInfo {
            name: self.cfg.name.clone(),
            formats: self.cfg.formats.clone(),
            algorithm: self.signer.kind().describe(),
            certificate: b64(&self.cert.to_der().unwrap_or_default()),
            certificate_sha256: self.cert_sha256.clone(),
            subject: self.cert.tbs_certificate.subject.to_string(),
            chain: self
                .chain
                .iter()
                .map(|c| b64(&c.to_der().unwrap_or_default()))
                .collect(),
            timestamped: !self.cfg.timestamp_urls.is_empty(),
            policy: self.policy.as_ref().map(|p| p.name.clone()),
            risk_at_most: self.cfg.risk_at_most.map(|r| r.as_str().to_owned()),
        }
    }

    pub fn signs(&self, f: Format) -> bool {
        self.cfg.formats.contains(&f)
    }
}

/// Signing slots: `workers` at once, `queue` more may wait.
pub struct Gate {
    slots: Arc<tokio::sync::Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    wait: Duration,
}

impl Gate {
    pub fn new(workers: usize, queue: usize, wait: Duration) -> Gate {
        Gate {
            slots: Arc::new(tokio::sync::Semaphore::new(workers.max(1))),
            waiting: AtomicUsize::new(0),
            queue,
            wait,
        }
    }

    /// A slot, or `None` when the queue is full or the wait ran out (503).
    pub async fn enter(&self, m: &metrics::Metrics) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if let Ok(p) = self.slots.clone().try_acquire_owned() {
            return Some(p);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        m.waiting.fetch_add(1, Ordering::Relaxed);
        let got = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await;
        m.waiting.fetch_sub(1, Ordering::Relaxed);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        got.ok().and_then(Result::ok)
    }
}

/// Everything a request handler needs.
pub struct State {
    pub cfg: ServerConfig,
    pub keys: Vec<Key>,
    pub clients: Vec<auth::Client>,
    pub log: crate::audit::Log,
    pub metrics: metrics::Metrics,
    pub gate: Gate,
    pub work_dir: PathBuf,
    pub draining: AtomicBool,
    /// Anchors for the SmartScreen-risk ceiling of whole PE files (the embedded Microsoft
    /// roots); loaded once.
    pub anchors: crate::pki::trust::TrustStore,
}

impl State {
    pub fn key(&self, name: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.cfg.name == name)
    }
}

/// Loads one configured key (key file, PKCS#12 or PKCS#11 URI) with its certificates and policy.
fn load_key(cfg: &KeyConfig, wait: Duration) -> Result<Key, String> {
    use der::Encode;
    let what = format!("[keys.{}]", cfg.name);
    let args = crate::sign::command::KeyArgs {
        key: cfg.key.clone(),
        cert: cfg.cert.clone(),
        chain: cfg.chain.clone(),
        pass: cfg.pass.clone(),
        passphrase_file: None,
    };
    let (signer, cert, chain) = if cfg.key.starts_with("pkcs11:") {
        load_token_key(cfg, wait).map_err(|e| format!("{what}: {e}"))?
    } else {
        args.resolve().map_err(|e| format!("{what}: {e}"))?
    };
    let der = cert.to_der().map_err(|e| format!("{what}: {e}"))?;
    let policy = match &cfg.policy {
        None => None,
        Some(spec) => {
            Some(crate::policy::load(spec, &[]).map_err(|e| format!("{what} policy: {e}"))?)
        }
    };
    Ok(Key {
        cfg: cfg.clone(),
        signer,
        cert,
        chain,
        cert_sha256: hex(&Sha256::digest(&der)),
        policy,
        last_error: std::sync::Mutex::new(None),
    })
}

/// A key in a PKCS#11 token: a pool of `sessions` sessions (each signature borrows one; none
/// free within `wait` is a 503), the certificate from the configuration or the token.
fn load_token_key(
    cfg: &KeyConfig,
    wait: Duration,
) -> Result<crate::sign::command::KeyAndCerts, String> {
    use crate::sign::key;
    use crate::sign::pkcs11::{Pkcs11Signer, parse_uri};
    let uri = parse_uri(&cfg.key).map_err(|e| e.to_string())?;
    let token = Pkcs11Signer::open_pool(&uri, cfg.sessions, wait).map_err(|e| e.to_string())?;
    let read = |p: &std::path::Path, what: &str| {
        crate::input::read_limited(p, crate::budget::MAX_SMALL_INPUT_SIZE)
            .map_err(|e| format!("{what} {}: {e}", p.display()))
    };
    let mut chain = Vec::new();
    let cert = match &cfg.cert {
        Some(p) => {
            let mut certs = key::load_certificates(&read(p, "cert")?, &p.display().to_string())
                .map_err(|e| e.to_string())?;
            if certs.is_empty() {
                return Err(format!("cert {}: no certificate", p.display()));
            }
            let c = certs.remove(0);
            chain.extend(certs);
            c
        }
        None => token
            .certificate()
            .map_err(|e| e.to_string())?
            .ok_or("the token holds no certificate for the key: give `cert`")?,
    };
    key::check_key_matches(&token, &cert).map_err(|e| e.to_string())?;
    if let Some(p) = &cfg.chain {
        chain.extend(
            key::load_certificates(&read(p, "chain")?, &p.display().to_string())
                .map_err(|e| e.to_string())?,
        );
    }
    chain.retain(|c| c != &cert);
    Ok((Box::new(token), cert, chain))
}

/// Prints a new client token and the configuration lines that admit it.
pub fn new_token(name: &str, out: &mut dyn std::io::Write) -> Result<(), String> {
    let (token, hash) = auth::new_token()?;
    writeln!(
        out,
        "# the token (give it to the client; it is not stored anywhere):\n{token}\n# the configuration entry:\n[clients.{name}]\ntoken_sha256 = \"{hash}\"\nroles = [\"release\"]"
    )
    .map_err(|e| e.to_string())
}

/// Runs the server until SIGTERM or SIGINT; `log` gets one line per lifecycle event.
pub fn run(config_path: &std::path::Path, log: &mut dyn std::io::Write) -> Result<(), String> {
    let cfg = config::load(config_path)?;
    let keys = cfg
        .keys
        .iter()
        .map(|k| load_key(k, cfg.limits.queue_wait))
        .collect::<Result<Vec<_>, _>>()?;
    let clients = cfg.clients.iter().cloned().map(auth::Client::new).collect();
    let store =
        crate::audit::open_store(&cfg.audit.store).map_err(|e| format!("[audit] store: {e}"))?;
    let log_signer: Option<Box<dyn Signer>> = match &cfg.audit.log_key {
        None => None,
        Some(p) => {
            let bytes = zeroize::Zeroizing::new(
                crate::input::read_limited(p, crate::budget::MAX_SMALL_INPUT_SIZE)
                    .map_err(|e| format!("[audit] log_key {}: {e}", p.display()))?,
            );
            let signer = crate::sign::key::load_private_key(&bytes, None, &p.display().to_string())
                .map_err(|e| format!("[audit] log_key: {e}"))?;
            Some(Box::new(signer))
        }
    };
    let host = cfg
        .replica
        .clone()
        .unwrap_or_else(|| cfg.listen.to_string());
    let audit_log = crate::audit::Log::new(
        store,
        log_signer,
        crate::audit::LogOptions {
            origin: format!("bingate audit log ({host})"),
            checkpoint_every: cfg.audit.checkpoint_every,
            checkpoint_interval: cfg.audit.checkpoint_interval,
        },
    )
    .map_err(|e| format!("[audit]: {e}"))?;
    let anchors = crate::pki::trust::load(&crate::pki::trust::TrustOptions {
        default_store: true,
        ctl: None,
        system: false,
        extra: Vec::new(),
    })
    .map_err(|e| e.to_string())?;
    let work_dir = cfg
        .limits
        .work_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let state = Arc::new(State {
        gate: Gate::new(cfg.limits.workers, cfg.limits.queue, cfg.limits.queue_wait),
        keys,
        clients,
        log: audit_log,
        metrics: metrics::Metrics::default(),
        work_dir,
        draining: AtomicBool::new(false),
        anchors,
        cfg,
    });
    let workers = state.cfg.limits.workers;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.clamp(1, 4))
        .max_blocking_threads(workers.saturating_add(64))
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    let result = rt.block_on(http::serve(state.clone(), log));
    let closed = state
        .log
        .close()
        .map_err(|e| format!("closing the audit log: {e}"));
    let _ = writeln!(
        log,
        "bingate serve: stopped; audit log {}",
        state.log.store_description()
    );
    result.and(closed)
}
