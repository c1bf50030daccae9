//! The server's configuration file (TOML), read with positions like policy files: unknown keys
//! and wrong types are reported together, each with file:line:column. Paths in it are relative
//! to the file's directory.
//!
//! ```toml
//! listen = "127.0.0.1:8443"
//! [tls]                      # optional on loopback; required on any other address
//! cert = "server.pem"
//! key = "server.key"
//! client_ca = "clients.pem"  # optional: mutual TLS
//! [audit]
//! store = "sqlite:audit.db"  # default: audit.db beside this file; or postgres://…
//! log_key = "log.key"        # signs checkpoints
//! [keys.release]
//! key = "release.pfx"        # key file, PKCS#12 or pkcs11: URI
//! pass = "env:RELEASE_PASS"
//! formats = ["pe"]
//! roles = ["release"]
//! policy = "strict"
//! [clients.ci]
//! token_sha256 = "…"         # SHA-256 of the bearer token, hex
//! roles = ["release"]
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml_span::value::{Table, Value};

use crate::policy::{Diagnostic, Sink, type_name, unknown_keys};
use crate::sign::remote::Format;

/// The largest file a whole-file request may send, unless configured: 512 MiB (PE images are
/// limited to 4 GiB by the format; installers of a few hundred MB are common).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 512 << 20;
/// Signing operations at once per core, unless `workers` is configured: two, so a core does not
/// idle while a slot's next request is being handed over (measured with scripts/serve-bench.sh
/// on 2 cores: 316 signatures/s with one per core, 360 with two).
pub const WORKERS_PER_CORE: usize = 2;
/// Requests that may wait for a signing slot, unless configured.
pub const DEFAULT_QUEUE: usize = 64;
/// How long a request waits for a signing slot before 503, unless configured.
pub const DEFAULT_QUEUE_WAIT: Duration = Duration::from_secs(10);
/// Connections served at once; more wait in the kernel's accept queue.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// How long a request may take in all (upload included), unless configured.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// How long SIGTERM waits for requests in flight before the server stops anyway.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The configuration file, for messages.
    pub file: PathBuf,
    pub listen: SocketAddr,
    /// This instance's name in audit records (several replicas share one log).
    pub replica: Option<String>,
    pub tls: Option<TlsConfig>,
    pub audit: AuditConfig,
    pub limits: Limits,
    pub keys: Vec<KeyConfig>,
    pub clients: Vec<ClientConfig>,
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Client certificates must chain to these (mutual TLS); clients are then also identified
    /// by their certificate's SHA-256 fingerprint.
    pub client_ca: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// `sqlite:PATH` (relative paths resolved against the config's directory) or `postgres://…`.
    pub store: String,
    /// An unencrypted key file (RSA or ECDSA) that signs checkpoints.
    pub log_key: Option<PathBuf>,
    pub checkpoint_every: u64,
    pub checkpoint_interval: Duration,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_file_bytes: u64,
    /// Signing operations at once.
    pub workers: usize,
    /// Requests waiting for a worker; beyond this, 503 at once.
    pub queue: usize,
    pub queue_wait: Duration,
    pub max_connections: usize,
    pub request_timeout: Duration,
    pub drain: Duration,
    /// Where uploads and signed outputs are kept while a request runs.
    pub work_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct KeyConfig {
    pub name: String,
    /// A key file, a PKCS#12 file or a `pkcs11:` URI.
    pub key: String,
    pub cert: Option<PathBuf>,
    pub chain: Option<PathBuf>,
    /// `env:VAR` or `file:PATH`, for an encrypted key or a PKCS#12 file.
    pub pass: Option<String>,
    pub formats: Vec<Format>,
    pub roles: Vec<String>,
    /// A built-in policy name or a policy file.
    pub policy: Option<String>,
    pub risk_at_most: Option<crate::risk::RiskLevel>,
    pub timestamp_urls: Vec<String>,
    /// PKCS#11: sessions in the pool.
    pub sessions: usize,
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub name: String,
    /// SHA-256 of the bearer token (the token itself is never stored).
    pub token_sha256: Option<[u8; 32]>,
    /// SHA-256 of the client certificate's DER (mutual TLS).
    pub cert_sha256: Option<[u8; 32]>,
    pub roles: Vec<String>,
    /// Requests per second allowed (a token bucket with `burst`); `None`: unlimited.
    pub rate: Option<f64>,
    pub burst: Option<f64>,
}

struct Walker<'s> {
    sink: Sink<'s>,
    dir: PathBuf,
}

impl Walker<'_> {
    fn table<'v, 'de>(&mut self, v: &'v Value<'de>, what: &str) -> Option<&'v Table<'de>> {
        let t = v.as_table();
        if t.is_none() {
            self.sink.error(
                v.span.start,
                format!("{what} must be a table, found {}", type_name(v)),
                None,
            );
        }
        t
    }

    fn unknown_keys(&mut self, t: &Table<'_>, allowed: &[&str], what: &str) {
        unknown_keys(&mut self.sink, t, allowed, what);
    }

    fn string(&mut self, t: &Table<'_>, key: &str, what: &str) -> Option<String> {
        let v = t.get(key)?;
        match v.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                self.sink.error(
                    v.span.start,
                    format!("`{key}` in {what} must be a string, found {}", type_name(v)),
                    Some("put the value in double quotes".into()),
                );
                None
            }
        }
    }

    fn path(&mut self, t: &Table<'_>, key: &str, what: &str) -> Option<PathBuf> {
        self.string(t, key, what).map(|s| self.dir.join(s))
    }

    fn integer(&mut self, t: &Table<'_>, key: &str, what: &str, min: i64, max: i64) -> Option<u64> {
        let v = t.get(key)?;
        match v.as_integer() {
            Some(i) if (min..=max).contains(&i) => u64::try_from(i).ok(),
            Some(i) => {
                self.sink.error(
                    v.span.start,
                    format!("`{key}` in {what} is {i}, outside {min}..={max}"),
                    None,
                );
                None
            }
            None => {
                self.sink.error(
                    v.span.start,
                    format!(
                        "`{key}` in {what} must be an integer, found {}",
                        type_name(v)
                    ),
                    None,
                );
                None
            }
        }
    }

    fn number(&mut self, t: &Table<'_>, key: &str, what: &str) -> Option<f64> {
        let v = t.get(key)?;
        let n = v.as_integer().map(|i| i as f64).or_else(|| v.as_float());
        match n {
            Some(n) if n > 0.0 && n.is_finite() => Some(n),
            _ => {
                self.sink.error(
                    v.span.start,
                    format!("`{key}` in {what} must be a positive number"),
                    None,
                );
                None
            }
        }
    }

    fn strings(&mut self, t: &Table<'_>, key: &str, what: &str) -> Option<Vec<(String, usize)>> {
        let v = t.get(key)?;
        match v.as_array() {
            Some(items) => Some(
                items
                    .iter()
                    .filter_map(|i| match i.as_str() {
                        Some(s) => Some((s.to_owned(), i.span.start)),
                        None => {
                            self.sink.error(
                                i.span.start,
                                format!("an element of `{key}` in {what} must be a string"),
                                None,
                            );
                            None
                        }
                    })
                    .collect(),
            ),
            None => {
                self.sink.error(
                    v.span.start,
                    format!(
                        "`{key}` in {what} must be an array of strings, found {}",
                        type_name(v)
                    ),
                    Some("write a list even for one value: [\"value\"]".into()),
                );
                None
            }
        }
    }

    fn sha256(&mut self, t: &Table<'_>, key: &str, what: &str) -> Option<[u8; 32]> {
        let s = self.string(t, key, what)?;
        let at = t.get(key).map_or(0, |v| v.span.start);
        let clean: String = s.chars().filter(|c| *c != ':').collect();
        match crate::sign::remote::unhex(&clean).and_then(|b| <[u8; 32]>::try_from(b).ok()) {
            Some(h) => Some(h),
            None => {
                self.sink.error(
                    at,
                    format!("`{key}` in {what} must be a SHA-256 in hex (64 digits)"),
                    Some("`bingate serve --new-token NAME` prints a token and its hash".into()),
                );
                None
            }
        }
    }

    fn top(&mut self, root: &Value<'_>, file: &Path) -> Option<ServerConfig> {
        let t = self.table(root, "the configuration")?;
        self.unknown_keys(
            t,
            &[
                "listen", "replica", "tls", "audit", "limits", "keys", "clients",
            ],
            "the configuration",
        );
        let listen = match self.string(t, "listen", "the configuration") {
            Some(s) => match s.parse::<SocketAddr>() {
                Ok(a) => Some(a),
                Err(_) => {
                    let at = t.get("listen").map_or(0, |v| v.span.start);
                    self.sink.error(
                        at,
                        format!("`listen` must be an address and port, e.g. \"127.0.0.1:8443\" or \"[::]:443\", not {s:?}"),
                        None,
                    );
                    None
                }
            },
            None => {
                if t.get("listen").is_none() {
                    self.sink.error(
                        root.span.start,
                        "missing required key `listen` (e.g. listen = \"127.0.0.1:8443\")",
                        None,
                    );
                }
                None
            }
        };
        let replica = self.string(t, "replica", "the configuration");
        let tls = match t.get("tls") {
            Some(v) => self.tls(v),
            None => None,
        };
        let audit = self.audit(t.get("audit"));
        let limits = self.limits(t.get("limits"));
        let keys = self.keys(t.get("keys"));
        let clients = self.clients(t.get("clients"));
        if let (Some(listen), None) = (listen, &tls) {
            if !listen.ip().is_loopback() {
                let at = t.get("listen").map_or(0, |v| v.span.start);
                self.sink.error(
                    at,
                    format!("`listen` {listen} is not a loopback address: plain HTTP would carry tokens and signatures in clear"),
                    Some("add a [tls] section with cert and key, or listen on 127.0.0.1 / [::1] behind a TLS proxy".into()),
                );
            }
        }
        // Roles a key names that no client has are allowed (a client may be added later); a
        // client with a certificate fingerprint needs mutual TLS.
        let mtls = tls.as_ref().is_some_and(|t| t.client_ca.is_some());
        if !mtls
            && clients
                .iter()
                .any(|c: &ClientConfig| c.cert_sha256.is_some())
        {
            let at = t.get("clients").map_or(0, |v| v.span.start);
            self.sink.error(
                at,
                "a client is identified by `cert_sha256`, but [tls] has no `client_ca` (mutual TLS is off)",
                None,
            );
        }
        Some(ServerConfig {
            file: file.to_path_buf(),
            listen: listen?,
            replica,
            tls,
            audit: audit?,
            limits: limits?,
            keys,
            clients,
        })
    }

    fn tls(&mut self, v: &Value<'_>) -> Option<TlsConfig> {
        let t = self.table(v, "[tls]")?;
        self.unknown_keys(t, &["cert", "key", "client_ca"], "[tls]");
        let cert = self.path(t, "cert", "[tls]");
        let key = self.path(t, "key", "[tls]");
        if cert.is_none() || key.is_none() {
            self.sink.error(
                v.span.start,
                "[tls] needs both `cert` and `key` (PEM files)",
                None,
            );
        }
        Some(TlsConfig {
            cert: cert?,
            key: key?,
            client_ca: self.path(t, "client_ca", "[tls]"),
        })
    }

    fn audit(&mut self, v: Option<&Value<'_>>) -> Option<AuditConfig> {
        let default_store = format!("sqlite:{}", self.dir.join("audit.db").display());
        let Some(v) = v else {
            return Some(AuditConfig {
                store: default_store,
                log_key: None,
                checkpoint_every: 100,
                checkpoint_interval: Duration::from_secs(60),
            });
        };
        let t = self.table(v, "[audit]")?;
        let what = "[audit]";
        self.unknown_keys(
            t,
            &[
                "store",
                "log_key",
                "checkpoint_every",
                "checkpoint_interval_seconds",
            ],
            what,
        );
        let store = match self.string(t, "store", what) {
            None => default_store,
            Some(s) if s.starts_with("postgres://") || s.starts_with("postgresql://") => s,
            Some(s) => {
                let path = s.strip_prefix("sqlite:").unwrap_or(&s);
                format!("sqlite:{}", self.dir.join(path).display())
            }
        };
        Some(AuditConfig {
            store,
            log_key: self.path(t, "log_key", what),
            checkpoint_every: self
                .integer(t, "checkpoint_every", what, 0, 1_000_000)
                .unwrap_or(100),
            checkpoint_interval: Duration::from_secs(
                self.integer(t, "checkpoint_interval_seconds", what, 1, 86_400)
                    .unwrap_or(60),
            ),
        })
    }

    fn limits(&mut self, v: Option<&Value<'_>>) -> Option<Limits> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut l = Limits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            workers: cores.saturating_mul(WORKERS_PER_CORE),
            queue: DEFAULT_QUEUE,
            queue_wait: DEFAULT_QUEUE_WAIT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            drain: DEFAULT_DRAIN,
            work_dir: None,
        };
        let Some(v) = v else { return Some(l) };
        let t = self.table(v, "[limits]")?;
        let what = "[limits]";
        self.unknown_keys(
            t,
            &[
                "max_file_bytes",
                "workers",
                "queue",
                "queue_wait_ms",
                "max_connections",
                "request_timeout_seconds",
                "drain_seconds",
                "work_dir",
            ],
            what,
        );
        let max = i64::try_from(crate::budget::DEFAULT_MAX_FILE_SIZE).unwrap_or(i64::MAX);
        let usize_of = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        if let Some(n) = self.integer(t, "max_file_bytes", what, 1, max) {
            l.max_file_bytes = n;
        }
        if let Some(n) = self.integer(t, "workers", what, 1, 1024) {
            l.workers = usize_of(n);
        }
        if let Some(n) = self.integer(t, "queue", what, 0, 100_000) {
            l.queue = usize_of(n);
        }
        if let Some(n) = self.integer(t, "queue_wait_ms", what, 0, 600_000) {
            l.queue_wait = Duration::from_millis(n);
        }
        if let Some(n) = self.integer(t, "max_connections", what, 1, 100_000) {
            l.max_connections = usize_of(n);
        }
        if let Some(n) = self.integer(t, "request_timeout_seconds", what, 1, 86_400) {
            l.request_timeout = Duration::from_secs(n);
        }
        if let Some(n) = self.integer(t, "drain_seconds", what, 0, 3_600) {
            l.drain = Duration::from_secs(n);
        }
        l.work_dir = self.path(t, "work_dir", what);
        Some(l)
    }

    fn keys(&mut self, v: Option<&Value<'_>>) -> Vec<KeyConfig> {
        let Some(v) = v else { return Vec::new() };
        let Some(t) = self.table(v, "[keys]") else {
            return Vec::new();
        };
        let mut names: Vec<_> = t.keys().collect();
        names.sort_by_key(|k| k.span.start);
        let mut out = Vec::new();
        for k in names {
            let Some(v) = t.get(k.name.as_ref()) else {
                continue;
            };
            let what = format!("[keys.{}]", k.name);
            let Some(kt) = self.table(v, &what) else {
                continue;
            };
            self.unknown_keys(
                kt,
                &[
                    "key",
                    "cert",
                    "chain",
                    "pass",
                    "formats",
                    "roles",
                    "policy",
                    "risk_at_most",
                    "timestamp_urls",
                    "sessions",
                ],
                &what,
            );
            let key = self.string(kt, "key", &what);
            if kt.get("key").is_none() {
                self.sink.error(
                    v.span.start,
                    format!("missing required key `key` in {what} (a key file, PKCS#12 file or pkcs11: URI)"),
                    None,
                );
            }
            let key = key.map(|s| {
                if s.starts_with("pkcs11:") {
                    s
                } else {
                    self.dir.join(s).display().to_string()
                }
            });
            let formats = match self.strings(kt, "formats", &what) {
                None => Format::ALL.to_vec(),
                Some(list) => list
                    .into_iter()
                    .filter_map(|(s, at)| {
                        let f = Format::parse(&s);
                        if f.is_none() {
                            self.sink.error(
                                at,
                                format!("unknown format `{s}` in {what}"),
                                Some("formats: pe, elf-section, elf-module".into()),
                            );
                        }
                        f
                    })
                    .collect(),
            };
            let roles: Vec<String> = self
                .strings(kt, "roles", &what)
                .unwrap_or_default()
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            if roles.is_empty() {
                self.sink.error(
                    v.span.start,
                    format!("{what} lists no `roles`: no client could use it"),
                    Some(
                        "roles = [\"release\"], and give the clients that may sign that role"
                            .into(),
                    ),
                );
            }
            let risk_at_most = self.string(kt, "risk_at_most", &what).and_then(|s| {
                let r = crate::risk::RiskLevel::parse(&s);
                if r.is_none() {
                    let at = kt.get("risk_at_most").map_or(0, |v| v.span.start);
                    self.sink.error(
                        at,
                        format!("`risk_at_most` in {what}: low, medium or high, not {s:?}"),
                        None,
                    );
                }
                r
            });
            let timestamp_urls: Vec<String> = self
                .strings(kt, "timestamp_urls", &what)
                .unwrap_or_default()
                .into_iter()
                .filter_map(
                    |(u, at)| match crate::sign::command::check_timestamp_url(&u) {
                        Ok(()) => Some(u),
                        Err(e) => {
                            self.sink.error(at, e, None);
                            None
                        }
                    },
                )
                .collect();
            let policy = self.string(kt, "policy", &what).map(|p| {
                // A built-in name stays a name; a path is relative to the config.
                if p.contains('/') || p.ends_with(".toml") {
                    self.dir.join(p).display().to_string()
                } else {
                    p
                }
            });
            out.push(KeyConfig {
                name: k.name.to_string(),
                key: key.unwrap_or_default(),
                cert: self.path(kt, "cert", &what),
                chain: self.path(kt, "chain", &what),
                pass: self.string(kt, "pass", &what),
                formats,
                roles,
                policy,
                risk_at_most,
                timestamp_urls,
                sessions: self
                    .integer(kt, "sessions", &what, 1, 64)
                    .map_or(2, |n| usize::try_from(n).unwrap_or(2)),
            });
        }
        out
    }

    fn clients(&mut self, v: Option<&Value<'_>>) -> Vec<ClientConfig> {
        let Some(v) = v else { return Vec::new() };
        let Some(t) = self.table(v, "[clients]") else {
            return Vec::new();
        };
        let mut names: Vec<_> = t.keys().collect();
        names.sort_by_key(|k| k.span.start);
        let mut out = Vec::new();
        for k in names {
            let Some(v) = t.get(k.name.as_ref()) else {
                continue;
            };
            let what = format!("[clients.{}]", k.name);
            let Some(ct) = self.table(v, &what) else {
                continue;
            };
            self.unknown_keys(
                ct,
                &[
                    "token_sha256",
                    "cert_sha256",
                    "roles",
                    "rate_per_second",
                    "burst",
                ],
                &what,
            );
            let token_sha256 = self.sha256(ct, "token_sha256", &what);
            let cert_sha256 = self.sha256(ct, "cert_sha256", &what);
            if ct.get("token_sha256").is_none() && ct.get("cert_sha256").is_none() {
                self.sink.error(
                    v.span.start,
                    format!("{what} has neither `token_sha256` nor `cert_sha256`: it could never be identified"),
                    None,
                );
            }
            out.push(ClientConfig {
                name: k.name.to_string(),
                token_sha256,
                cert_sha256,
                roles: self
                    .strings(ct, "roles", &what)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect(),
                rate: self.number(ct, "rate_per_second", &what),
                burst: self.number(ct, "burst", &what),
            });
        }
        out
    }
}

/// Every problem in a configuration file, each with its position.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Parses configuration text; `file` names it in messages and anchors relative paths.
pub fn parse(src: &str, file: &Path) -> Result<ServerConfig, ConfigErrors> {
    let name = file.display().to_string();
    let dir = file
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let mut w = Walker {
        sink: Sink::new(&name, src),
        dir,
    };
    let root = match toml_span::parse(src) {
        Ok(v) => v,
        Err(e) => {
            w.sink
                .error(e.span.start, format!("invalid TOML: {}", e.kind), None);
            return Err(ConfigErrors(w.sink.diags));
        }
    };
    let cfg = w.top(&root, file);
    match cfg {
        Some(c) if w.sink.diags.is_empty() => Ok(c),
        _ => Err(ConfigErrors(w.sink.diags)),
    }
}

/// Reads and parses the configuration file.
pub fn load(path: &Path) -> Result<ServerConfig, String> {
    let bytes = crate::input::read_limited(path, crate::budget::MAX_SMALL_INPUT_SIZE)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8", path.display()))?;
    parse(&text, path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(src: &str) -> String {
        parse(src, Path::new("/etc/bingate/serve.toml"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn minimal_loopback_config_takes_defaults() {
        let c = parse("listen = \"127.0.0.1:0\"\n", Path::new("/srv/b/serve.toml")).unwrap();
        assert_eq!(c.audit.store, "sqlite:/srv/b/audit.db");
        assert!(c.tls.is_none());
        assert!(c.keys.is_empty());
    }

    #[test]
    fn plain_http_off_loopback_is_refused_with_position() {
        let e = errs("listen = \"0.0.0.0:8080\"\n");
        assert!(e.contains("serve.toml:1:"), "{e}");
        assert!(e.contains("not a loopback address"), "{e}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let e = errs(
            "listen = \"127.0.0.1:1\"\nlisten_typo = 1\n[keys.a]\nkey = \"a.key\"\nformats = [\"exe\"]\nroles = [\"r\"]\n[clients.c]\nroles = [\"r\"]\ntoken_sha256 = \"abc\"\n",
        );
        assert!(e.contains("unknown key `listen_typo`"), "{e}");
        assert!(e.contains("unknown format `exe`"), "{e}");
        assert!(e.contains("SHA-256 in hex"), "{e}");
        assert!(e.contains(":5:"), "{e}");
    }

    #[test]
    fn relative_paths_are_anchored_at_the_config() {
        let c = parse(
            "listen = \"127.0.0.1:1\"\n[keys.r]\nkey = \"k/r.pem\"\ncert = \"r.crt\"\nroles = [\"x\"]\n[audit]\nstore = \"log.db\"\n",
            Path::new("/srv/conf/serve.toml"),
        )
        .unwrap();
        assert_eq!(c.keys[0].key, "/srv/conf/k/r.pem");
        assert_eq!(
            c.keys[0].cert.as_deref(),
            Some(Path::new("/srv/conf/r.crt"))
        );
        assert_eq!(c.audit.store, "sqlite:/srv/conf/log.db");
    }
}
