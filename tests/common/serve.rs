//! `bingate serve` in tests: a configuration in a temporary directory (the test PKI's RSA leaf as
//! key `release`, tokens for two clients), the server started on 127.0.0.1:0, its address read
//! from its first stderr line; stopped (SIGKILL) when dropped unless stopped before. Loopback
//! only; every wait is bounded.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::paths::pki;
use super::run::command;

/// The token of client `ci` (roles `release`) and of client `ops` (roles `ops`).
pub const CI_TOKEN: &str = "ci-token-0123456789abcdef0123456789abcdef";
pub const OPS_TOKEN: &str = "ops-token-0123456789abcdef0123456789abcdef";

pub fn sha256_hex(data: &[u8]) -> String {
    bingate::sign::remote::hex(&bingate::hash::sha256(data))
}

/// A configuration: `listen` on 127.0.0.1:0, keys `release` (RSA leaf; all formats), `ops-key`
/// (role `ops`), `gated` (role `release`, with `policy`), the two clients, the audit `store` and
/// a log key. `extra` is appended as is.
pub fn config(dir: &Path, store: &str, policy: &str, extra: &str) -> PathBuf {
    let p = |n: &str| pki(n).display().to_string();
    let text = format!(
        r#"listen = "127.0.0.1:0"
replica = "{replica}"
[audit]
store = "{store}"
log_key = "{logkey}"
checkpoint_every = 50
[keys.release]
key = "{rsa_key}"
cert = "{rsa_cert}"
chain = "{chain}"
roles = ["release"]
[keys.ops-key]
key = "{ec_key}"
cert = "{ec_cert}"
roles = ["ops"]
[keys.gated]
key = "{rsa_key}"
cert = "{rsa_cert}"
chain = "{chain}"
roles = ["release"]
policy = "{policy}"
[clients.ci]
token_sha256 = "{ci}"
roles = ["release"]
[clients.ops]
token_sha256 = "{ops}"
roles = ["ops"]
{extra}
"#,
        replica = dir.file_name().and_then(|n| n.to_str()).unwrap_or("test"),
        logkey = p("leaf-ecdsa.key"),
        rsa_key = p("leaf-rsa.key"),
        rsa_cert = p("leaf-rsa.pem"),
        chain = p("intermediate.pem"),
        ec_key = p("leaf-ecdsa.key"),
        ec_cert = p("leaf-ecdsa.pem"),
        ci = sha256_hex(CI_TOKEN.as_bytes()),
        ops = sha256_hex(OPS_TOKEN.as_bytes()),
    );
    let path = dir.join("serve.toml");
    std::fs::write(&path, text).expect("write config");
    std::fs::write(dir.join("ci.token"), format!("{CI_TOKEN}\n")).expect("token");
    path
}

pub struct Server {
    child: Option<Child>,
    pub url: String,
    /// Everything the server wrote to stderr after its first line (collected by a thread).
    rest: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `bingate serve --config CONFIG` and waits (at most 60 s) for its address.
    pub fn start(config: &Path) -> Server {
        Server::start_with_env(config, &[])
    }

    /// [`Server::start`] with environment variables (e.g. `SOFTHSM2_CONF`).
    pub fn start_with_env(config: &Path, env: &[(&str, &Path)]) -> Server {
        let mut cmd = command();
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .args(["serve", "--config"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start bingate serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let (rest_tx, rest) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            let _ = tx.send(first);
            let mut all = String::new();
            let _ = r.read_to_string(&mut all);
            let _ = rest_tx.send(all);
        });
        let first = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                panic!("bingate serve did not start within 60 s");
            }
        };
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("bingate serve: unexpected first line {first:?}")
            })
            .to_owned();
        Server {
            child: Some(child),
            url,
            rest,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }

    /// SIGKILL, as a crash.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits (at most 60 s): the exit status and what it wrote to stderr.
    pub fn terminate(&mut self) -> (std::process::ExitStatus, String) {
        let mut c = self.child.take().expect("running");
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        for _ in 0..600 {
            if let Ok(Some(status)) = c.try_wait() {
                let rest = self
                    .rest
                    .recv_timeout(Duration::from_secs(5))
                    .unwrap_or_default();
                return (status, rest);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = c.kill();
        panic!("bingate serve did not stop within 60 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A plain-HTTP agent that reports every status as a response.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

/// An answer: status, `X-Request-Id`, body.
pub struct Answer {
    pub status: u16,
    pub request_id: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{e}: not JSON: {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }
}

fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut r = r.expect("request");
    let status = r.status().as_u16();
    let request_id = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = r
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .expect("body");
    Answer {
        status,
        request_id,
        body,
    }
}

pub fn get(url: &str, token: Option<&str>) -> Answer {
    let mut req = agent().get(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    answer(req.call())
}

pub fn post(url: &str, token: Option<&str>, body: &[u8], content_type: &str) -> Answer {
    let mut req = agent().post(url).header("Content-Type", content_type);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    answer(req.send(body))
}
