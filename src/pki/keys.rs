//! Verifying a signature over a pre-computed digest with a certificate's public key.

use der::Encode;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use spki::SubjectPublicKeyInfoOwned;

use crate::hash::DigestAlg;

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";

/// A public key's algorithm and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// `rsa`, `rsa-pss`, `ecdsa-p256`, `ecdsa-p384`, or the OID of anything else.
    pub algorithm: String,
    pub bits: Option<u32>,
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", content = "detail", rename_all = "kebab-case")]
pub enum SignatureError {
    UnsupportedKey(String),
    UnsupportedDigest(String),
    BadKey(String),
    BadSignature,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureError::UnsupportedKey(k) => write!(f, "unsupported key algorithm {k}"),
            SignatureError::UnsupportedDigest(d) => write!(f, "unsupported digest {d}"),
            SignatureError::BadKey(e) => write!(f, "unreadable public key: {e}"),
            SignatureError::BadSignature => {
                write!(f, "the signature does not verify with the signer's key")
            }
        }
    }
}

fn curve(spki: &SubjectPublicKeyInfoOwned) -> Option<String> {
    let params = spki.algorithm.parameters.as_ref()?;
    params
        .decode_as::<der::asn1::ObjectIdentifier>()
        .ok()
        .map(|o| o.to_string())
}

pub fn key_info(spki: &SubjectPublicKeyInfoOwned) -> KeyInfo {
    let oid = spki.algorithm.oid.to_string();
    match oid.as_str() {
        RSA_ENCRYPTION | RSASSA_PSS => {
            let bits = rsa_public_key(spki)
                .ok()
                .and_then(|k| u32::try_from(k.n().bits()).ok());
            KeyInfo {
                algorithm: if oid == RSA_ENCRYPTION {
                    "rsa".into()
                } else {
                    "rsa-pss".into()
                },
                bits,
            }
        }
        EC_PUBLIC_KEY => match curve(spki).as_deref() {
            Some(P256) => KeyInfo {
                algorithm: "ecdsa-p256".into(),
                bits: Some(256),
            },
            Some(P384) => KeyInfo {
                algorithm: "ecdsa-p384".into(),
                bits: Some(384),
            },
            Some(c) => KeyInfo {
                algorithm: format!("ecdsa-{c}"),
                bits: None,
            },
            None => KeyInfo {
                algorithm: "ecdsa".into(),
                bits: None,
            },
        },
        _ => KeyInfo {
            algorithm: oid,
            bits: None,
        },
    }
}

/// The RSA key of an `rsaEncryption` or `id-RSASSA-PSS` SubjectPublicKeyInfo, up to
/// [`MAX_RSA_KEY_BITS`](crate::budget::MAX_RSA_KEY_BITS) bits. The `rsa` crate's own SPKI decoder
/// stops at 4096 bits (`RsaPublicKey::MAX_SIZE`) and accepts only the rsaEncryption OID; real
/// signers use 8192- and 16384-bit keys, which Windows and OpenSSL accept. The public exponent
/// stays bounded by the crate's check (at most 2^33 - 1), so a verification costs a few dozen
/// modular multiplications at most.
fn rsa_public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<rsa::RsaPublicKey, SignatureError> {
    use der::Decode as _;
    let bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| SignatureError::BadKey("the key's BIT STRING has unused bits".into()))?;
    let k = rsa::pkcs1::RsaPublicKey::from_der(bytes)
        .map_err(|e| SignatureError::BadKey(format!("RSAPublicKey: {e}")))?;
    let n = rsa::BigUint::from_bytes_be(k.modulus.as_bytes());
    let e = rsa::BigUint::from_bytes_be(k.public_exponent.as_bytes());
    let max = crate::budget::MAX_RSA_KEY_BITS;
    rsa::RsaPublicKey::new_with_max_size(n, e, max).map_err(|err| {
        SignatureError::BadKey(format!(
            "{err} (RSA keys up to {max} bits are read: MAX_RSA_KEY_BITS)"
        ))
    })
}

/// PKCS#1 v1.5 with SHA-1: the DigestInfo prefix from RFC 8017 §9.2 note 1 (sha1 0.10 has no
/// `AssociatedOid` for `Pkcs1v15Sign::new`).
fn sha1_pkcs1v15() -> rsa::Pkcs1v15Sign {
    const PREFIX: [u8; 15] = [
        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
    ];
    rsa::Pkcs1v15Sign {
        hash_len: Some(20),
        prefix: PREFIX.to_vec().into_boxed_slice(),
    }
}

/// RSASSA-PSS with the salt length of the two settings signers use: the digest length (RFC 4055's
/// recommendation, signtool's) and the maximum (OpenSSL's default when signing). The
/// RSASSA-PSS-params of the signature algorithm are not read.
fn pss_verify(
    key: &rsa::RsaPublicKey,
    alg: DigestAlg,
    digest: &[u8],
    signature: &[u8],
) -> rsa::Result<()> {
    let h_len = digest.len();
    let em_len = key.n().bits().saturating_sub(1).div_ceil(8);
    let max_salt = em_len.saturating_sub(h_len).saturating_sub(2);
    let mut last = Err(rsa::Error::Verification);
    for salt in [h_len, max_salt] {
        last = match alg {
            DigestAlg::Sha1 => key.verify(
                rsa::Pss::new_with_salt::<sha1::Sha1>(salt),
                digest,
                signature,
            ),
            DigestAlg::Sha256 => key.verify(
                rsa::Pss::new_with_salt::<sha2::Sha256>(salt),
                digest,
                signature,
            ),
            DigestAlg::Sha384 => key.verify(
                rsa::Pss::new_with_salt::<sha2::Sha384>(salt),
                digest,
                signature,
            ),
            DigestAlg::Sha512 => key.verify(
                rsa::Pss::new_with_salt::<sha2::Sha512>(salt),
                digest,
                signature,
            ),
            DigestAlg::Md5 => return Err(rsa::Error::Verification),
        };
        if last.is_ok() {
            return last;
        }
    }
    last
}

/// Verifies `signature` over `digest` (already computed with `alg`) with the key in `spki`.
/// `pss` selects RSASSA-PSS for RSA keys (the signature algorithm says which).
pub fn verify_prehashed(
    spki: &SubjectPublicKeyInfoOwned,
    alg: DigestAlg,
    digest: &[u8],
    signature: &[u8],
    pss: bool,
) -> Result<(), SignatureError> {
    let der = spki
        .to_der()
        .map_err(|e| SignatureError::BadKey(e.to_string()))?;
    let info = key_info(spki);
    match info.algorithm.as_str() {
        "rsa" | "rsa-pss" => {
            let key = rsa_public_key(spki)?;
            let ok = match (alg, pss) {
                (DigestAlg::Sha1, false) => key.verify(sha1_pkcs1v15(), digest, signature),
                (DigestAlg::Sha256, false) => {
                    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), digest, signature)
                }
                (DigestAlg::Sha384, false) => {
                    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha384>(), digest, signature)
                }
                (DigestAlg::Sha512, false) => {
                    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha512>(), digest, signature)
                }
                (a, true) => pss_verify(&key, a, digest, signature),
                (DigestAlg::Md5, _) => return Err(SignatureError::UnsupportedDigest("md5".into())),
            };
            ok.map_err(|_| SignatureError::BadSignature)
        }
        "ecdsa-p256" => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(&der)
                .map_err(|e| SignatureError::BadKey(e.to_string()))?;
            let sig = p256::ecdsa::DerSignature::from_bytes(signature)
                .map_err(|_| SignatureError::BadSignature)?;
            key.verify_prehash(digest, &sig)
                .map_err(|_| SignatureError::BadSignature)
        }
        "ecdsa-p384" => {
            use p384::ecdsa::signature::hazmat::PrehashVerifier;
            let key = p384::ecdsa::VerifyingKey::from_public_key_der(&der)
                .map_err(|e| SignatureError::BadKey(e.to_string()))?;
            let sig = p384::ecdsa::DerSignature::from_bytes(signature)
                .map_err(|_| SignatureError::BadSignature)?;
            key.verify_prehash(digest, &sig)
                .map_err(|_| SignatureError::BadSignature)
        }
        other => Err(SignatureError::UnsupportedKey(other.to_owned())),
    }
}

/// The digest and padding (`true`: RSASSA-PSS) an X.509/CMS signature algorithm names.
pub fn signature_algorithm(oid: &str) -> Option<(DigestAlg, bool)> {
    Some(match oid {
        "1.2.840.113549.1.1.5" => (DigestAlg::Sha1, false),
        // OIW sha1WithRSASignature, used by 1990s-2000s Microsoft PCAs.
        "1.3.14.3.2.29" => (DigestAlg::Sha1, false),
        "1.2.840.113549.1.1.11" => (DigestAlg::Sha256, false),
        "1.2.840.113549.1.1.12" => (DigestAlg::Sha384, false),
        "1.2.840.113549.1.1.13" => (DigestAlg::Sha512, false),
        // RSASSA-PSS: SHA-256 is what code-signing CAs use; other parameters are not read yet.
        "1.2.840.113549.1.1.10" => (DigestAlg::Sha256, true),
        "1.2.840.10045.4.1" => (DigestAlg::Sha1, false),
        "1.2.840.10045.4.3.2" => (DigestAlg::Sha256, false),
        "1.2.840.10045.4.3.3" => (DigestAlg::Sha384, false),
        "1.2.840.10045.4.3.4" => (DigestAlg::Sha512, false),
        _ => return None,
    })
}
