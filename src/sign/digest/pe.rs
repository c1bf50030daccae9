//! Authenticode from an image digest: the server's half of `sign pe --server`. The client
//! computed the PE image digest; this builds the `SpcIndirectDataContent` naming it and the
//! SignedData around it with the same builder as whole-file signing
//! (`crate::authenticode::build`), so a digest-only signature is byte for byte what `sign pe`
//! with the same key and options writes. Page hashes and nesting are not offered: both need the
//! file, which the server does not see.

use super::{BuildError, Built, KeyMaterial};
use crate::authenticode::build::{Opus, Signing, indirect_data, signed_data};
use crate::cms::build::CmsError;
use crate::hash::DigestAlg;
use crate::sign::remote::DigestRequest;

/// The longest SpcSpOpusInfo program name and URL accepted, in bytes (each): 1 KiB. signtool
/// puts no limit on `/d` and `/du`, but what Windows shows in a UAC prompt is a line; a request
/// that carries more is not a program name, and every byte of it ends up in the signature and
/// the audit log.
pub const MAX_OPUS_TEXT: usize = 1024;

/// The digest algorithms an Authenticode digest request may name, by the names the protocol
/// uses, with their digest lengths in bytes. SHA-1 only for the old-Windows half of a dual
/// signature; MD5 never.
const ALGORITHMS: [(&str, DigestAlg, usize); 4] = [
    ("sha1", DigestAlg::Sha1, 20),
    ("sha256", DigestAlg::Sha256, 32),
    ("sha384", DigestAlg::Sha384, 48),
    ("sha512", DigestAlg::Sha512, 64),
];

/// The request's digest algorithm and image digest, checked; the other fields checked too.
fn validate(req: &DigestRequest) -> Result<(DigestAlg, Vec<u8>), BuildError> {
    let bad = |m: String| Err(BuildError::BadRequest(m));
    let Some((_, alg, len)) = ALGORITHMS
        .iter()
        .find(|(name, _, _)| *name == req.digest_alg)
    else {
        return bad(format!(
            "pe: digest_alg {:?} is not one of sha1, sha256, sha384, sha512",
            crate::escape::text(&req.digest_alg)
        ));
    };
    let hex_len = len.saturating_mul(2);
    if req.digest.len() != hex_len {
        return bad(format!(
            "pe: a {} image digest is {hex_len} hex characters, not {}",
            req.digest_alg,
            req.digest.len()
        ));
    }
    let Some(digest) = crate::sign::remote::unhex(&req.digest) else {
        return bad("pe: digest is not hex".to_owned());
    };
    if req.file_sha256.len() != 64 || crate::sign::remote::unhex(&req.file_sha256).is_none() {
        return bad(format!(
            "pe: file_sha256 must be 64 hex characters (SHA-256 of the whole file), got {} characters",
            req.file_sha256.len()
        ));
    }
    if req.manifest.is_some() {
        return bad(
            "pe: manifest is for elf-section requests; an Authenticode request carries none"
                .to_owned(),
        );
    }
    for (what, text) in [("description", &req.description), ("url", &req.url)] {
        if let Some(t) = text {
            if t.len() > MAX_OPUS_TEXT {
                return bad(format!(
                    "pe: {what} is {} bytes, more than the {MAX_OPUS_TEXT}-byte limit",
                    t.len()
                ));
            }
        }
    }
    // The URL is an IA5String in SpcSpOpusInfo: ASCII only.
    if req.url.as_deref().is_some_and(|u| !u.is_ascii()) {
        return bad("pe: url must be ASCII (it is an IA5String in the signature)".to_owned());
    }
    Ok((*alg, digest))
}

/// Whether a signer's error says the token is saturated. The PKCS#11 signer has no typed
/// "busy" error yet, so its text decides (`CKR_SESSION_COUNT`, "busy", all sessions in use).
fn busy(e: &str) -> bool {
    let e = e.to_ascii_lowercase();
    e.contains("busy") || e.contains("session_count")
}

fn build_error(e: CmsError) -> BuildError {
    match e {
        CmsError::Sign(e) => {
            let text = e.to_string();
            if busy(&text) {
                BuildError::Busy(text)
            } else {
                BuildError::Sign(text)
            }
        }
        CmsError::Timestamp(e) => BuildError::Timestamp(format!("timestamp failed: {e}")),
        CmsError::Digest(d) => BuildError::BadRequest(format!("{d} cannot be used for signing")),
        other => BuildError::Sign(other.to_string()),
    }
}

/// The Authenticode signature (DER ContentInfo SignedData) over the image digest `req` names.
/// Authenticode signatures carry no signingTime (as signtool writes them), so `_signed_at` is
/// not used: the timestamp, when the key has a TSA, is the signature's time.
pub(super) fn build(
    req: &DigestRequest,
    key: &KeyMaterial<'_>,
    _signed_at: u64,
) -> Result<Built, BuildError> {
    let (alg, digest) = validate(req)?;
    let opus = Opus {
        description: req.description.clone(),
        url: req.url.clone(),
    };
    let indirect = indirect_data(alg, &digest, None).map_err(build_error)?;
    let signing = Signing {
        signer: key.signer,
        cert: key.cert,
        chain: key.chain,
        digest: alg,
        opus: &opus,
        timestamp: key.timestamper,
    };
    let signature = signed_data(&signing, &indirect).map_err(build_error)?;
    let timestamp_time = match key.timestamper {
        None => None,
        Some(_) => Some(crate::sign::pe::timestamp_time(&signature).map_err(|e| {
            BuildError::Timestamp(format!("the time-stamping authority's token: {e}"))
        })?),
    };
    Ok(Built {
        signature,
        timestamp_time,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn busy_is_read_from_the_signer_error_text() {
        assert!(busy("PKCS#11: token busy: 8 sessions in use"));
        assert!(busy("C_OpenSession: CKR_SESSION_COUNT"));
        assert!(!busy("C_Sign: CKR_KEY_HANDLE_INVALID"));
    }

    #[test]
    fn algorithm_lengths_are_the_digest_lengths() {
        for (_, alg, len) in ALGORITHMS {
            assert_eq!(crate::hash::digest(alg, b"x").unwrap().len(), len);
        }
    }
}
