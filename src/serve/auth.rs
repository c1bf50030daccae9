//! Who is calling: a bearer token (the configuration holds only its SHA-256) or, with mutual
//! TLS, the client certificate's SHA-256 fingerprint; then which keys the caller's roles allow,
//! and its rate limit (a token bucket per client).

use std::sync::Mutex;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::config::{ClientConfig, KeyConfig};

/// A configured client with its rate-limit state.
pub struct Client {
    pub cfg: ClientConfig,
    bucket: Mutex<Bucket>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Why a caller is not let in.
#[derive(Debug, PartialEq, Eq)]
pub enum Denied {
    /// No credential, or one that matches no client (401).
    Unauthenticated(&'static str),
}

/// Equal without an early exit, so the time taken does not say how much of a hash matched.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

impl Client {
    pub fn new(cfg: ClientConfig) -> Client {
        let burst = cfg.burst.or(cfg.rate).unwrap_or(0.0);
        Client {
            cfg,
            bucket: Mutex::new(Bucket {
                tokens: burst,
                at: Instant::now(),
            }),
        }
    }

    /// How the audit log names the client.
    pub fn identity(&self, by_cert: bool) -> String {
        if by_cert {
            format!("cert:{}", self.cfg.name)
        } else {
            format!("token:{}", self.cfg.name)
        }
    }

    /// Takes one request from the bucket; `Err(seconds)` to wait when it is empty.
    pub fn admit(&self) -> Result<(), f64> {
        let Some(rate) = self.cfg.rate else {
            return Ok(());
        };
        let burst = self.cfg.burst.unwrap_or(rate).max(1.0);
        let Ok(mut b) = self.bucket.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * rate;
        b.tokens = (b.tokens + refill).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - b.tokens) / rate)
        }
    }

    /// Whether this client may use `key`: their roles intersect.
    pub fn may_use(&self, key: &KeyConfig) -> bool {
        key.roles.iter().any(|r| self.cfg.roles.contains(r))
    }
}

/// Finds the caller: the bearer token when one is sent (a wrong token is refused even with a
/// good certificate), else the client certificate's fingerprint. Every client's hash is compared,
/// without stopping at the first match.
pub fn identify<'c>(
    clients: &'c [Client],
    authorization: Option<&[u8]>,
    peer_cert_sha256: Option<&[u8; 32]>,
) -> Result<(&'c Client, bool), Denied> {
    if let Some(header) = authorization {
        let token = header
            .strip_prefix(b"Bearer ")
            .ok_or(Denied::Unauthenticated(
                "the Authorization header is not `Bearer <token>`",
            ))?;
        let token = token.trim_ascii();
        let h: [u8; 32] = Sha256::digest(token).into();
        let mut found = None;
        for c in clients {
            if let Some(t) = &c.cfg.token_sha256 {
                if same(t, &h) {
                    found = Some(c);
                }
            }
        }
        return found
            .map(|c| (c, false))
            .ok_or(Denied::Unauthenticated("unknown token"));
    }
    if let Some(fp) = peer_cert_sha256 {
        let mut found = None;
        for c in clients {
            if let Some(t) = &c.cfg.cert_sha256 {
                if same(t, fp) {
                    found = Some(c);
                }
            }
        }
        return found.map(|c| (c, true)).ok_or(Denied::Unauthenticated(
            "the client certificate is not a configured client",
        ));
    }
    Err(Denied::Unauthenticated(
        "no credential: send `Authorization: Bearer <token>` or a client certificate",
    ))
}

/// A new random token (32 bytes, hex) and its SHA-256 as the configuration wants it.
pub fn new_token() -> Result<(String, String), String> {
    let mut raw = [0u8; 32];
    getrandom::getrandom(&mut raw).map_err(|e| format!("no randomness: {e}"))?;
    let token = crate::sign::remote::hex(&raw);
    let hash = crate::sign::remote::hex(&Sha256::digest(token.as_bytes()));
    Ok((token, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(name: &str, token: &str, roles: &[&str], rate: Option<f64>) -> Client {
        Client::new(ClientConfig {
            name: name.into(),
            token_sha256: Some(Sha256::digest(token.as_bytes()).into()),
            cert_sha256: None,
            roles: roles.iter().map(|s| s.to_string()).collect(),
            rate,
            burst: None,
        })
    }

    #[test]
    fn token_identifies_its_client_and_wrong_tokens_are_refused() {
        let cs = vec![
            client("a", "ta", &["r"], None),
            client("b", "tb", &["r"], None),
        ];
        assert_eq!(
            identify(&cs, Some(b"Bearer tb"), None).unwrap().0.cfg.name,
            "b"
        );
        assert!(identify(&cs, Some(b"Bearer tc"), None).is_err());
        assert!(identify(&cs, Some(b"Basic tb"), None).is_err());
        assert!(identify(&cs, None, None).is_err());
    }

    #[test]
    fn rate_limit_admits_the_burst_then_refuses() {
        let c = client("a", "t", &["r"], Some(2.0));
        assert!(c.admit().is_ok());
        assert!(c.admit().is_ok());
        let wait = c.admit().unwrap_err();
        assert!(wait > 0.0 && wait <= 0.5, "{wait}");
    }

    #[test]
    fn new_tokens_hash_as_configured() {
        let (t, h) = new_token().unwrap();
        assert_eq!(t.len(), 64);
        assert_eq!(h, crate::sign::remote::hex(&Sha256::digest(t.as_bytes())));
    }
}
