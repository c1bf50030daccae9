//! The listener: TCP, then rustls (with optional client certificates checked against
//! `client_ca`) unless the address is loopback and no `[tls]` is configured; one hyper HTTP/1.1
//! connection per client; at most `max_connections` at once. SIGTERM or SIGINT stops accepting,
//! lets requests in flight finish (at most `drain`), then returns.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};

use super::State;

/// What a request knows about its connection.
#[derive(Clone, Debug)]
pub struct Peer {
    pub addr: SocketAddr,
    /// SHA-256 of the client certificate's DER (mutual TLS).
    pub cert_sha256: Option<[u8; 32]>,
}

fn read_pem(path: &std::path::Path, what: &str) -> Result<Vec<u8>, String> {
    crate::input::read_limited(path, crate::budget::MAX_SMALL_INPUT_SIZE)
        .map_err(|e| format!("[tls] {what} {}: {e}", path.display()))
}

fn tls_acceptor(cfg: &super::config::TlsConfig) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&read_pem(&cfg.cert, "cert")?)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("[tls] cert {}: {e}", cfg.cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "[tls] cert {}: no PEM certificate",
            cfg.cert.display()
        ));
    }
    let key_pem = zeroize::Zeroizing::new(read_pem(&cfg.key, "key")?);
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| format!("[tls] key {}: {e}", cfg.key.display()))?;
    let provider = crate::sign::remote::tls_provider();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match &cfg.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(&read_pem(ca, "client_ca")?) {
                let c = c.map_err(|e| format!("[tls] client_ca {}: {e}", ca.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("[tls] client_ca {}: {e}", ca.display()))?;
            }
            // Clients without a certificate may still connect and present a token.
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| format!("[tls] client_ca {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut server = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("[tls] cert/key: {e}"))?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(server)))
}

/// SIGTERM or SIGINT.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub async fn serve(state: Arc<State>, log: &mut dyn Write) -> Result<(), String> {
    let cfg = &state.cfg;
    let tls = match &cfg.tls {
        Some(t) => Some(tls_acceptor(t)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| format!("listen {}: {e}", cfg.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let _ = writeln!(
        log,
        "bingate serve: listening on {}://{local} ({} keys, {} clients, audit log {}, {} signing workers)",
        if tls.is_some() { "https" } else { "http" },
        state.keys.len(),
        state.clients.len(),
        state.log.store_description(),
        cfg.limits.workers,
    );
    let _ = log.flush();
    let connections = Arc::new(tokio::sync::Semaphore::new(cfg.limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let stop = stop_signal();
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = &mut stop => break,
        };
        let (tcp, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(_) => continue,
            },
            _ = &mut stop => break,
        };
        let _ = tcp.set_nodelay(true);
        let state = state.clone();
        let tls = tls.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                None => {
                    let peer = Peer {
                        addr,
                        cert_sha256: None,
                    };
                    let svc = service_fn(move |req| {
                        super::routes::handle(state.clone(), peer.clone(), req)
                    });
                    let conn = http1::Builder::new().serve_connection(TokioIo::new(tcp), svc);
                    let _ = watcher.watch(conn).await;
                }
                Some(acceptor) => {
                    // A handshake gets the same time as a request.
                    let timeout = state.cfg.limits.request_timeout;
                    let Ok(Ok(stream)) = tokio::time::timeout(timeout, acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    let cert_sha256 = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| Sha256::digest(c.as_ref()).into());
                    let peer = Peer { addr, cert_sha256 };
                    let svc = service_fn(move |req| {
                        super::routes::handle(state.clone(), peer.clone(), req)
                    });
                    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
                    let _ = watcher.watch(conn).await;
                }
            }
        });
    }
    state.draining.store(true, Ordering::SeqCst);
    drop(listener);
    let _ = writeln!(
        log,
        "bingate serve: stopping; draining requests in flight (at most {} s)",
        cfg.limits.drain.as_secs()
    );
    let _ = log.flush();
    if tokio::time::timeout(cfg.limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        let _ = writeln!(
            log,
            "bingate serve: drain timed out; connections still open are closed"
        );
    }
    Ok(())
}
