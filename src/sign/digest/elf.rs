//! ELF signatures from a manifest or a module digest: what the server builds for `elf-section`
//! and `elf-module` requests.
//!
//! - `elf-module`: the digest of the module's bytes, signed as `sign-file` signs it
//!   ([`crate::cms::build::module_signature`]: detached, no attributes, no certificates). The
//!   kernel format has no place for a timestamp, so none is asked for, whatever the key's
//!   configuration.
//! - `elf-section`: the manifest text itself (the server signs what it can read, not a digest it
//!   must trust): parsed, its digest checked against the request's, and signed as attached
//!   content with signed attributes, the key's chain and (when configured) a timestamp
//!   ([`crate::cms::build::attached_signature`]), as `sign elf` builds it locally.

use super::{BuildError, Built, KeyMaterial};
use crate::cms::build::CmsError;
use crate::cms::signing::SignDigestError;
use crate::elfsig::manifest::Manifest;
use crate::hash::DigestAlg;
use crate::sign::remote::{DigestRequest, unhex};

/// The longest manifest an `elf-section` request may carry: 1 MiB, about 5,000 sections at
/// ~200 bytes a line (a large shared library has fewer than 100; the verifier's own limit,
/// `budget::MAX_MANIFEST_LEN`, covers the format's 65,535 sections, more than a request needs).
pub const MAX_REQUEST_MANIFEST_LEN: usize = 1 << 20;

/// The request's digest algorithm: SHA-256, SHA-384 or SHA-512 (an ELF signature is never made
/// with SHA-1 or MD5).
fn digest_alg(req: &DigestRequest) -> Result<DigestAlg, BuildError> {
    match DigestAlg::from_oid_name(&req.digest_alg) {
        Some(a @ (DigestAlg::Sha256 | DigestAlg::Sha384 | DigestAlg::Sha512)) => Ok(a),
        _ => Err(BuildError::BadRequest(format!(
            "{}: digest_alg {:?}: expected sha256, sha384 or sha512",
            req.format.as_str(),
            req.digest_alg
        ))),
    }
}

/// The request's digest, checked to be hex of `alg`'s length.
fn digest_bytes(req: &DigestRequest, alg: DigestAlg) -> Result<Vec<u8>, BuildError> {
    let want = crate::hash::digest(alg, b"").map_or(0, |d| d.len());
    let d = unhex(&req.digest).ok_or_else(|| {
        BuildError::BadRequest(format!(
            "{}: digest is not hex ({} characters)",
            req.format.as_str(),
            req.digest.len()
        ))
    })?;
    if d.len() != want {
        return Err(BuildError::BadRequest(format!(
            "{}: a {} digest is {want} bytes, the request's is {}",
            req.format.as_str(),
            alg.name(),
            d.len()
        )));
    }
    Ok(d)
}

/// Sorts a CMS building error into the HTTP error it is: a saturated token is busy (matched on
/// the backend's message for now), the TSA's failure a timestamp error, anything else of the key
/// a signing error.
fn build_error(format: &str, e: CmsError) -> BuildError {
    match e {
        CmsError::Sign(SignDigestError::Backend(m)) if m.to_lowercase().contains("busy") => {
            BuildError::Busy(format!("{format}: the key is busy: {m}"))
        }
        CmsError::Timestamp(m) => BuildError::Timestamp(format!("{format}: timestamp failed: {m}")),
        CmsError::Digest(d) => {
            BuildError::BadRequest(format!("{format}: {d} cannot be used for signing"))
        }
        e => BuildError::Sign(format!("{format}: {e}")),
    }
}

pub(super) fn build_section(
    req: &DigestRequest,
    key: &KeyMaterial<'_>,
    signed_at: u64,
) -> Result<Built, BuildError> {
    const F: &str = "elf-section";
    let alg = digest_alg(req)?;
    let digest = digest_bytes(req, alg)?;
    let manifest = req
        .manifest
        .as_deref()
        .ok_or_else(|| BuildError::BadRequest(format!("{F}: the request carries no manifest")))?;
    if manifest.len() > MAX_REQUEST_MANIFEST_LEN {
        return Err(BuildError::BadRequest(format!(
            "{F}: the manifest is {} bytes, more than {MAX_REQUEST_MANIFEST_LEN}",
            manifest.len()
        )));
    }
    let parsed = Manifest::parse(manifest.as_bytes())
        .map_err(|e| BuildError::BadRequest(format!("{F}: the manifest does not parse: {e}")))?;
    if parsed.digest != alg {
        return Err(BuildError::BadRequest(format!(
            "{F}: the manifest's digest is {}, the request's digest_alg {}",
            parsed.digest.name(),
            alg.name()
        )));
    }
    if crate::hash::digest(alg, manifest.as_bytes()).as_deref() != Some(digest.as_slice()) {
        return Err(BuildError::BadRequest(format!(
            "{F}: digest {} is not the {} of the manifest sent",
            req.digest,
            alg.name()
        )));
    }
    let der = crate::cms::build::attached_signature(
        key.signer,
        key.cert,
        key.chain,
        alg,
        manifest.as_bytes(),
        signed_at,
        key.timestamper,
    )
    .map_err(|e| build_error(F, e))?;
    let timestamp_time = match key.timestamper {
        None => None,
        Some(_) => crate::cms::build::token_time(&der)
            .and_then(|t| t.ok_or_else(|| "no timestamp token in the signature".to_owned()))
            .map(Some)
            .map_err(|e| {
                BuildError::Timestamp(format!("{F}: the timestamp token cannot be read back: {e}"))
            })?,
    };
    Ok(Built {
        signature: der,
        timestamp_time,
    })
}

pub(super) fn build_module(
    req: &DigestRequest,
    key: &KeyMaterial<'_>,
    _signed_at: u64,
) -> Result<Built, BuildError> {
    const F: &str = "elf-module";
    let alg = digest_alg(req)?;
    let digest = digest_bytes(req, alg)?;
    if req.manifest.is_some() {
        return Err(BuildError::BadRequest(format!(
            "{F}: a module signature signs the module's digest; the request must carry no manifest"
        )));
    }
    // No timestamp: the kernel's format has no place for one (key.timestamper is not used).
    let der = crate::cms::build::module_signature(key.signer, key.cert, alg, &digest)
        .map_err(|e| build_error(F, e))?;
    Ok(Built {
        signature: der,
        timestamp_time: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cms::build::CmsError;

    #[test]
    fn busy_backend_errors_are_busy_and_others_sign_errors() {
        let busy = build_error(
            "elf-module",
            CmsError::Sign(SignDigestError::Backend(
                "CKR_SESSION_COUNT: all sessions busy".into(),
            )),
        );
        assert!(matches!(busy, BuildError::Busy(_)), "{busy:?}");
        let other = build_error(
            "elf-module",
            CmsError::Sign(SignDigestError::Backend("CKR_DEVICE_ERROR".into())),
        );
        assert!(matches!(other, BuildError::Sign(_)), "{other:?}");
        let tsa = build_error("elf-section", CmsError::Timestamp("503".into()));
        assert!(matches!(tsa, BuildError::Timestamp(_)), "{tsa:?}");
    }
}
