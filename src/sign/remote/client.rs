//! The client side of `bingate serve`'s API, for `sign pe|elf --server`: a blocking HTTPS client
//! (ureq over rustls with ring) that lists keys and sends digest-only requests. Plain `http://`
//! is accepted for loopback servers only, as the server listens without TLS only there.

use std::path::PathBuf;
use std::time::Duration;

use super::{DigestRequest, DigestResponse, ErrorBody, KeyInfo, KeysResponse};

/// The largest response body read (a signature with its chain and timestamp is a few KB; the
/// key list a few KB per key): 4 MiB.
const MAX_RESPONSE: u64 = 4 << 20;

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `https://host:port` (or `http://127.0.0.1:port` / `http://[::1]:port` / `http://localhost:port`).
    pub url: String,
    /// The bearer token (read from `--token-file`), if the server identifies clients by token.
    pub token: Option<zeroize::Zeroizing<String>>,
    /// CA certificates (PEM) that the server's certificate must chain to; default: the system
    /// bundle (`/etc/ssl/certs/ca-certificates.crt`).
    pub ca: Option<PathBuf>,
    /// Client certificate and key (PEM) for mutual TLS.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub timeout: Duration,
}

/// The `--server` flags of `sign pe` and `sign elf`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServerArgs {
    /// Have this signing server (`bingate serve`, `https://host[:port]`) sign: `--key` then
    /// names the server's key, and the file stays here (a digest and a few KB cross the wire).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// File holding the bearer token for --server (first line).
    #[arg(long, value_name = "FILE", requires = "server")]
    pub token_file: Option<PathBuf>,
    /// CA certificates (PEM) the server's certificate must chain to (default: the system
    /// bundle).
    #[arg(long, value_name = "PEM", requires = "server")]
    pub server_ca: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS with --server.
    #[arg(long, value_name = "PEM", requires_all = ["server", "client_key"])]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "PEM", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Seconds to wait for each answer of --server.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub server_timeout: u64,
}

impl ServerArgs {
    /// The client for `--server` (the token read, the certificates loaded), or `None` without
    /// `--server`.
    pub fn client(&self) -> Result<Option<(Client, String)>, String> {
        let Some(url) = &self.server else {
            return Ok(None);
        };
        let token = self.token_file.as_deref().map(read_token).transpose()?;
        let client_cert = match (&self.client_cert, &self.client_key) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            (None, None) => None,
            _ => return Err("--client-cert and --client-key go together".into()),
        };
        let client = Client::new(&ClientOptions {
            url: url.clone(),
            token,
            ca: self.server_ca.clone(),
            client_cert,
            timeout: std::time::Duration::from_secs(self.server_timeout),
        })?;
        Ok(Some((client, url.clone())))
    }
}

/// Why a request failed.
#[derive(Debug)]
pub enum ClientError {
    /// The server answered with an error status and body.
    Api { status: u16, body: Box<ErrorBody> },
    /// The server answered with an error status and no API error body.
    Status { status: u16, text: String },
    /// No answer (connection, TLS, timeout) or an unreadable one.
    Transport(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Api { status, body } => {
                write!(
                    f,
                    "the server refused ({status} {}): {} (request {})",
                    body.error.code, body.error.message, body.error.request_id
                )?;
                for finding in &body.error.findings {
                    write!(f, "\n  {finding}")?;
                }
                Ok(())
            }
            ClientError::Status { status, text } => {
                write!(f, "the server answered {status}: {text}")
            }
            ClientError::Transport(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for ClientError {}

pub struct Client {
    agent: ureq::Agent,
    base: String,
    token: Option<zeroize::Zeroizing<String>>,
}

/// Whether `url` is plain HTTP to a loopback address.
fn plain_loopback(url: &str) -> Option<bool> {
    let rest = url.strip_prefix("http://")?;
    let host = rest.split('/').next().unwrap_or_default();
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    Some(
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()),
    )
}

fn read_pem(path: &std::path::Path, what: &str) -> Result<Vec<u8>, String> {
    crate::input::read_limited(path, crate::budget::MAX_SMALL_INPUT_SIZE)
        .map_err(|e| format!("{what} {}: {e}", path.display()))
}

impl Client {
    pub fn new(opts: &ClientOptions) -> Result<Client, String> {
        let url = opts.url.trim_end_matches('/').to_owned();
        match plain_loopback(&url) {
            Some(true) => {}
            Some(false) => {
                return Err(format!(
                    "--server {url}: plain http:// only to a loopback address (the token and the file's digest would cross the network in clear); use https://"
                ));
            }
            None if url.starts_with("https://") => {}
            None => return Err(format!("--server {url}: expected https://host[:port]")),
        }
        let ca_path = opts
            .ca
            .clone()
            .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
        let mut roots = Vec::new();
        if url.starts_with("https://") {
            let pem = read_pem(&ca_path, "--server-ca")?;
            for item in ureq::tls::parse_pem(&pem) {
                if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
                    roots.push(c);
                }
            }
            if roots.is_empty() {
                return Err(format!(
                    "--server-ca {}: no PEM certificate in it",
                    ca_path.display()
                ));
            }
        }
        let client_cert = match &opts.client_cert {
            None => None,
            Some((cert, key)) => {
                let cert_pem = read_pem(cert, "--client-cert")?;
                let key_pem = zeroize::Zeroizing::new(read_pem(key, "--client-key")?);
                let certs: Vec<_> = ureq::tls::parse_pem(&cert_pem)
                    .filter_map(|i| match i {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                let key = ureq::tls::PrivateKey::from_pem(&key_pem)
                    .map_err(|e| format!("--client-key {}: {e}", key.display()))?;
                if certs.is_empty() {
                    return Err(format!("--client-cert {}: no certificate", cert.display()));
                }
                Some(ureq::tls::ClientCert::new_with_certs(&certs, key))
            }
        };
        let provider = super::tls_provider();
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(provider)
            .root_certs(ureq::tls::RootCerts::new_with_certs(&roots))
            .client_cert(client_cert)
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_global(Some(opts.timeout))
            .user_agent(concat!("bingate/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(Client {
            agent,
            base: url,
            token: opts.token.clone(),
        })
    }

    fn finish<T: serde::de::DeserializeOwned>(
        &self,
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, ClientError> {
        let mut resp = resp.map_err(|e| ClientError::Transport(format!("{}: {e}", self.base)))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| {
                ClientError::Transport(format!("{}: reading the answer: {e}", self.base))
            })?;
        if !(200..300).contains(&status) {
            return Err(match serde_json::from_slice::<ErrorBody>(&body) {
                Ok(body) => ClientError::Api {
                    status,
                    body: Box::new(body),
                },
                Err(_) => ClientError::Status {
                    status,
                    text: crate::escape::text(&String::from_utf8_lossy(
                        body.get(..200).unwrap_or(&body),
                    ))
                    .into_owned(),
                },
            });
        }
        serde_json::from_slice(&body).map_err(|e| {
            ClientError::Transport(format!(
                "{}: an answer that is not the API's JSON: {e}",
                self.base
            ))
        })
    }

    fn authorization(&self) -> Option<String> {
        self.token
            .as_ref()
            .map(|t| format!("Bearer {}", t.as_str()))
    }

    /// `GET /v1/keys`: the keys this client may use.
    pub fn keys(&self) -> Result<KeysResponse, ClientError> {
        let mut req = self
            .agent
            .get(format!("{}{}/keys", self.base, super::API_PREFIX));
        if let Some(a) = self.authorization() {
            req = req.header("Authorization", a);
        }
        self.finish(req.call())
    }

    /// The key `name`, if this client may use it.
    pub fn key(&self, name: &str) -> Result<KeyInfo, ClientError> {
        let keys = self.keys()?;
        keys.keys
            .into_iter()
            .find(|k| k.name == name)
            .ok_or_else(|| ClientError::Status {
                status: 404,
                text: format!("the server lists no key {name:?} for this client"),
            })
    }

    /// `POST /v1/sign/digest`.
    pub fn sign_digest(&self, request: &DigestRequest) -> Result<DigestResponse, ClientError> {
        let body = serde_json::to_vec(request)
            .map_err(|e| ClientError::Transport(format!("encoding the request: {e}")))?;
        let mut req = self
            .agent
            .post(format!("{}{}/sign/digest", self.base, super::API_PREFIX))
            .header("Content-Type", "application/json");
        if let Some(a) = self.authorization() {
            req = req.header("Authorization", a);
        }
        self.finish(req.send(&body[..]))
    }
}

/// The token in a token file: its first line, trimmed.
pub fn read_token(path: &std::path::Path) -> Result<zeroize::Zeroizing<String>, String> {
    let bytes = zeroize::Zeroizing::new(
        crate::input::read_limited(path, crate::budget::MAX_SMALL_INPUT_SIZE)
            .map_err(|e| format!("--token-file {}: {e}", path.display()))?,
    );
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| format!("--token-file {}: not UTF-8", path.display()))?;
    let token = text.lines().next().unwrap_or_default().trim();
    if token.is_empty() {
        return Err(format!("--token-file {}: empty", path.display()));
    }
    Ok(zeroize::Zeroizing::new(token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert_eq!(plain_loopback("http://127.0.0.1:8080"), Some(true));
        assert_eq!(plain_loopback("http://[::1]:8080/x"), Some(true));
        assert_eq!(plain_loopback("http://localhost"), Some(true));
        assert_eq!(plain_loopback("http://10.0.0.1:80"), Some(false));
        assert_eq!(plain_loopback("http://sign.example.com"), Some(false));
        assert_eq!(plain_loopback("https://sign.example.com"), None);
    }
}
