//! Signature verification settings built the way the CLI builds them.

use super::paths;

/// The signing settings `bingate verify` builds from `--trust` files (relative to the
/// repository) and `--no-default-trust`, at a fixed time (2026-11-22).
pub fn signing(trust: &[&str], no_default_trust: bool) -> bingate::config::SigningConfig {
    bingate::cli::TrustArgs {
        trust: trust.iter().map(paths::repo).collect(),
        no_default_trust,
        system_trust: false,
        ctl: None,
        crl: Vec::new(),
        time: Some("2026-11-22T00:00:00Z".into()),
        strict: false,
        require: bingate::cli::RequireArg::Primary,
        cert: Vec::new(),
    }
    .resolve()
    .unwrap()
}
