//! The trust arguments resolved into signature verification settings.

use super::{RequireArg, TrustArgs};

impl TrustArgs {
    /// Loads trust anchors and CRLs: the verification settings for `verify` and `check`.
    pub fn resolve(&self) -> Result<crate::config::SigningConfig, String> {
        // Loaded now, once: a bad file is a usage error before any work. The embedded roots cost
        // nothing here (each is decoded when a chain first needs it).
        let trust = crate::pki::trust::load(&self.options()).map_err(|e| e.to_string())?;
        let at = match &self.time {
            Some(t) => crate::time::parse_rfc3339(t).ok_or_else(|| {
                format!("--time {t:?}: expected RFC 3339, e.g. 2026-11-22T00:00:00Z")
            })?,
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        let mut revocations = crate::pki::crl::Revocations::default();
        for f in &self.crl {
            let bytes = crate::input::read_limited(f, crate::budget::MAX_SMALL_INPUT_SIZE)
                .map_err(|e| format!("--crl {}: {e}", f.display()))?;
            revocations.extend(
                crate::pki::crl::load(&bytes, &f.display().to_string())
                    .map_err(|e| e.to_string())?,
            );
        }
        let mut module_certs = Vec::new();
        for f in &self.cert {
            let bytes = crate::input::read_limited(f, crate::budget::MAX_SMALL_INPUT_SIZE)
                .map_err(|e| format!("--cert {}: {e}", f.display()))?;
            module_certs.extend(
                crate::sign::key::load_certificates(&bytes, &f.display().to_string())
                    .map_err(|e| format!("--cert: {e}"))?,
            );
        }
        Ok(crate::config::SigningConfig {
            module_certs,
            trust,
            at,
            strict: self.strict,
            require_all: self.require == RequireArg::All,
            revoked: Box::new(
                move |cert, issuer| match revocations.check(cert, issuer, at) {
                    crate::pki::crl::RevocationStatus::Revoked { at, .. } => Some(at),
                    _ => None,
                },
            ),
        })
    }

    pub fn options(&self) -> crate::pki::trust::TrustOptions {
        crate::pki::trust::TrustOptions {
            default_store: !self.no_default_trust,
            ctl: self.ctl.clone(),
            system: self.system_trust,
            extra: self.trust.clone(),
        }
    }
}
