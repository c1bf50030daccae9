//! The signer abstraction every signature format builds with: "sign this digest with that key,
//! say which key it is". Key backends (`crate::sign::key`: files, PKCS#11) implement [`Signer`];
//! the CMS builder (`build`) and the formats never know which backend signs.

use std::fmt;

use der::asn1::ObjectIdentifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::hash::DigestAlg;

/// Why [`Signer::sign_digest`] refused or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignDigestError {
    /// A digest algorithm bingate does not sign with (MD5).
    UnsupportedDigest { digest: &'static str, key: String },
    /// The digest's length is not the algorithm's.
    DigestLength {
        digest: &'static str,
        expected: usize,
        got: usize,
    },
    /// The key or the device failed.
    Backend(String),
    /// Every session of the key's device stayed busy for `waited`: nothing was signed, and the
    /// same request may succeed later (a signing service answers 503 Service Unavailable).
    /// `what` names the device, e.g. `PKCS#11 token release`.
    Busy {
        what: String,
        waited: std::time::Duration,
    },
}

impl fmt::Display for SignDigestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignDigestError::UnsupportedDigest { digest, key } => {
                write!(f, "bingate does not sign {digest} digests (key {key})")
            }
            SignDigestError::DigestLength {
                digest,
                expected,
                got,
            } => write!(f, "a {digest} digest is {expected} bytes, not {got}"),
            SignDigestError::Backend(e) => write!(f, "signing failed: {e}"),
            SignDigestError::Busy { what, waited } => write!(
                f,
                "signing failed: {what} is busy: no session came free within {} ms",
                waited.as_millis()
            ),
        }
    }
}

impl std::error::Error for SignDigestError {}

// ---------------------------------------------------------------------------------------------
// The signer abstraction
// ---------------------------------------------------------------------------------------------

/// The kind and size of a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa { bits: u32 },
    EcdsaP256,
    EcdsaP384,
}

impl KeyKind {
    /// `RSA-3072`, `ECDSA P-256`, `ECDSA P-384`.
    pub fn describe(&self) -> String {
        match self {
            KeyKind::Rsa { bits } => format!("RSA-{bits}"),
            KeyKind::EcdsaP256 => "ECDSA P-256".to_owned(),
            KeyKind::EcdsaP384 => "ECDSA P-384".to_owned(),
        }
    }

    /// The length of the longest signature this key makes, in bytes. An RSA PKCS#1 v1.5
    /// signature is exactly as long as the modulus (RFC 8017 §8.2.1; [`Signer::sign_digest`]
    /// promises it). An ECDSA `Ecdsa-Sig-Value` is a DER SEQUENCE of two INTEGERs, each at most
    /// the group order's length plus a leading zero byte: 2 + 2 × (2 + 33) = 72 bytes for P-256,
    /// 2 + 2 × (2 + 49) = 104 for P-384; one byte shorter for each of r and s whose top bit is
    /// clear (one chance in two each), and shorter still for leading zero bytes (one chance in
    /// 256 each).
    pub fn max_signature_len(&self) -> usize {
        match self {
            KeyKind::Rsa { bits } => usize::try_from(bits.div_ceil(8)).unwrap_or(usize::MAX),
            KeyKind::EcdsaP256 => 72,
            KeyKind::EcdsaP384 => 104,
        }
    }

    /// The X.509/CMS signature algorithm for a signature this key makes over an `alg` digest:
    /// `sha256WithRSAEncryption` (NULL parameters) or `ecdsa-with-SHA256` (no parameters) and
    /// their SHA-1/384/512 siblings. `None` for MD5. The inverse of
    /// [`crate::pki::keys::signature_algorithm`].
    pub fn signature_algorithm(&self, alg: DigestAlg) -> Option<AlgorithmIdentifierOwned> {
        const SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
        const SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
        const SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
        const SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
        const ECDSA_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
        const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
        const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
        const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
        let rsa = matches!(self, KeyKind::Rsa { .. });
        let oid = match (alg, rsa) {
            (DigestAlg::Md5, _) => return None,
            (DigestAlg::Sha1, true) => SHA1_RSA,
            (DigestAlg::Sha256, true) => SHA256_RSA,
            (DigestAlg::Sha384, true) => SHA384_RSA,
            (DigestAlg::Sha512, true) => SHA512_RSA,
            (DigestAlg::Sha1, false) => ECDSA_SHA1,
            (DigestAlg::Sha256, false) => ECDSA_SHA256,
            (DigestAlg::Sha384, false) => ECDSA_SHA384,
            (DigestAlg::Sha512, false) => ECDSA_SHA512,
        };
        Some(AlgorithmIdentifierOwned {
            oid,
            // RFC 4055 §5: the RSA PKCS#1 v1.5 identifiers carry NULL; RFC 5758 §3.2: ECDSA's
            // carry nothing.
            parameters: rsa.then(der::Any::null),
        })
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Signs pre-computed digests (and messages, [`Signer::sign_message`]). Object safe; `Send + Sync` so one signer serves a parallel run.
pub trait Signer: Send + Sync {
    fn kind(&self) -> KeyKind;

    /// The public key, to match a certificate and to build the CMS signer info.
    fn public_key(&self) -> &SubjectPublicKeyInfoOwned;

    /// Signs `digest`, which was computed with `alg`. RSA: a PKCS#1 v1.5 signature (DigestInfo
    /// naming `alg`), exactly as long as the modulus, deterministic. ECDSA: a DER
    /// `Ecdsa-Sig-Value` (RFC 6979 deterministic nonces). Refuses MD5 and a digest whose length
    /// is not `alg`'s; SHA-1, SHA-256, SHA-384 and SHA-512 are accepted for every key.
    fn sign_digest(&self, alg: DigestAlg, digest: &[u8]) -> Result<Vec<u8>, SignDigestError>;

    /// Signs `message` hashed with `alg`. The contract: the result is exactly what
    /// `sign_digest(alg, hash(alg, message))` returns (for RSA PKCS#1 v1.5, which is
    /// deterministic, byte for byte; for ECDSA, the same RFC 6979 signature), and the same
    /// refusals apply (MD5). The default does just that; a backend overrides it only when it
    /// signs faster from the message (a library that hashes inside its signing call, such as
    /// `ring`, which has no pre-hashed API). Callers that hold the signed bytes (the CMS signed
    /// attributes) call this; callers that hold only a digest call [`Signer::sign_digest`].
    fn sign_message(&self, alg: DigestAlg, message: &[u8]) -> Result<Vec<u8>, SignDigestError> {
        let digest = crate::hash::digest(alg, message).ok_or_else(|| {
            SignDigestError::UnsupportedDigest {
                digest: alg.name(),
                key: self.kind().describe(),
            }
        })?;
        self.sign_digest(alg, &digest)
    }
}

/// The length of an `alg` digest; `None` for MD5, which is never signed.
fn digest_len(alg: DigestAlg) -> Option<usize> {
    match alg {
        DigestAlg::Md5 => None,
        DigestAlg::Sha1 => Some(20),
        DigestAlg::Sha256 => Some(32),
        DigestAlg::Sha384 => Some(48),
        DigestAlg::Sha512 => Some(64),
    }
}

/// Checks `digest` against `alg` for a key described as `key`: the shared precondition of every
/// [`Signer`] implementation.
pub fn check_digest(alg: DigestAlg, digest: &[u8], key: KeyKind) -> Result<(), SignDigestError> {
    let expected = digest_len(alg).ok_or_else(|| SignDigestError::UnsupportedDigest {
        digest: alg.name(),
        key: key.describe(),
    })?;
    if digest.len() != expected {
        return Err(SignDigestError::DigestLength {
            digest: alg.name(),
            expected,
            got: digest.len(),
        });
    }
    Ok(())
}
