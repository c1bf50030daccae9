//! Private keys, certificates and the signer abstraction.
//!
//! Everything that signs goes through [`Signer`]: "sign this digest with that key, say which key
//! it is". [`LocalSigner`] holds a key read from a file ([`load_private_key`]); a PKCS#11 token
//! or a remote signer is another implementation of the same trait, and the signature formats
//! never know the difference. This is the one place (with `crate::pki::keys`, which verifies)
//! that knows the `rsa`, `p256` and `p384` crates.
//!
//! Key files are the user's own, but they are still read as untrusted bytes: every failure is a
//! typed [`KeyError`] naming the file, and the work a file can ask for (RSA modulus size, PBKDF2
//! iterations, scrypt memory, PEM blocks) is bounded by the budgets below.

use std::fmt;

use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Reader, SliceReader, Tag, Tagged};
use pkcs8::pkcs5;
use rsa::pkcs8::EncodePublicKey;
use rsa::rand_core::{CryptoRng, RngCore};
use rsa::traits::PublicKeyParts;
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;

pub use crate::budget::MAX_PBKDF2_ITERATIONS;
pub use crate::budget::MAX_PEM_BLOCKS;
pub use crate::budget::MAX_RSA_BITS;
pub use crate::budget::MAX_SCRYPT_MEMORY;
pub use crate::budget::MAX_SCRYPT_WORK;
use crate::cms::signing::check_digest;
use crate::cms::{KeyKind, SignDigestError, Signer};
use crate::hash::DigestAlg;

// ---------------------------------------------------------------------------------------------
// Budgets
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Object identifiers
// ---------------------------------------------------------------------------------------------

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const PBES2: &str = "1.2.840.113549.1.5.13";
const PBKDF2: &str = "1.2.840.113549.1.5.12";

/// A readable name for a key algorithm OID, with the OID.
fn algorithm_name(oid: &str) -> String {
    let name = match oid {
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.2.840.10040.4.1" => "DSA",
        "1.2.840.113549.1.3.1" | "1.2.840.10046.2.1" => "Diffie-Hellman",
        RSASSA_PSS => "RSASSA-PSS-restricted RSA",
        "1.2.840.113549.1.1.7" => "RSAES-OAEP-restricted RSA",
        "1.2.156.10197.1.301" => "SM2",
        "1.2.643.7.1.1.1.1" | "1.2.643.7.1.1.1.2" => "GOST R 34.10-2012",
        _ => return format!("OID {oid}"),
    };
    format!("{name} ({oid})")
}

/// A readable name for an elliptic curve OID, with the OID.
fn curve_name(oid: &str) -> String {
    let name = match oid {
        "1.3.132.0.35" => "P-521 (secp521r1)",
        "1.3.132.0.10" => "secp256k1",
        "1.2.840.10045.3.1.1" => "P-192 (prime192v1)",
        "1.3.132.0.33" => "P-224 (secp224r1)",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        "1.2.156.10197.1.301" => "SM2",
        _ => return format!("EC curve {oid}"),
    };
    format!("EC curve {name} ({oid})")
}

/// A readable name for an encryption-related OID (PBES schemes, KDFs, PRFs, ciphers).
fn encryption_name(oid: &str) -> String {
    let name = match oid {
        PBES2 => "PBES2",
        PBKDF2 => "PBKDF2",
        "1.3.6.1.4.1.11591.4.11" => "scrypt",
        "1.2.840.113549.2.7" => "hmacWithSHA1",
        "1.2.840.113549.2.8" => "hmacWithSHA224",
        "1.2.840.113549.2.9" => "hmacWithSHA256",
        "1.2.840.113549.2.10" => "hmacWithSHA384",
        "1.2.840.113549.2.11" => "hmacWithSHA512",
        "2.16.840.1.101.3.4.1.2" => "aes-128-cbc",
        "2.16.840.1.101.3.4.1.22" => "aes-192-cbc",
        "2.16.840.1.101.3.4.1.42" => "aes-256-cbc",
        "2.16.840.1.101.3.4.1.6" => "aes-128-gcm",
        "2.16.840.1.101.3.4.1.26" => "aes-192-gcm",
        "2.16.840.1.101.3.4.1.46" => "aes-256-gcm",
        "1.2.840.113549.3.7" => "des-ede3-cbc",
        "1.3.14.3.2.7" => "des-cbc",
        "1.2.840.113549.3.2" => "rc2-cbc",
        "1.2.840.113549.1.5.3" => "PBES1 pbeWithMD5AndDES-CBC",
        "1.2.840.113549.1.5.6" => "PBES1 pbeWithMD5AndRC2-CBC",
        "1.2.840.113549.1.5.10" => "PBES1 pbeWithSHA1AndDES-CBC",
        "1.2.840.113549.1.5.11" => "PBES1 pbeWithSHA1AndRC2-CBC",
        "1.2.840.113549.1.12.1.1" => "PKCS#12 pbeWithSHAAnd128BitRC4",
        "1.2.840.113549.1.12.1.2" => "PKCS#12 pbeWithSHAAnd40BitRC4",
        "1.2.840.113549.1.12.1.3" => "PKCS#12 pbeWithSHAAnd3-KeyTripleDES-CBC",
        "1.2.840.113549.1.12.1.4" => "PKCS#12 pbeWithSHAAnd2-KeyTripleDES-CBC",
        "1.2.840.113549.1.12.1.5" => "PKCS#12 pbeWithSHAAnd128BitRC2-CBC",
        "1.2.840.113549.1.12.1.6" => "PKCS#12 pbeWithSHAAnd40BitRC2-CBC",
        _ => return format!("OID {oid}"),
    };
    format!("{name} ({oid})")
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a key or certificate file cannot be used. `origin` is the file (as the user named it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The file holds no private key; `found` says what it holds instead.
    NotAKey { origin: String, found: String },
    /// A private key of an algorithm or curve bingate does not sign with.
    UnsupportedAlgorithm { origin: String, algorithm: String },
    /// A key container bingate does not read (OpenSSH, PuTTY…).
    UnsupportedFormat { origin: String, format: String },
    /// An encrypted key whose encryption scheme bingate cannot decrypt.
    UnsupportedEncryption { origin: String, scheme: String },
    /// An encrypted key and no passphrase.
    PassphraseRequired { origin: String },
    /// The passphrase does not decrypt the key.
    WrongPassphrase { origin: String },
    /// The file holds more than one private key.
    SeveralKeys { origin: String, count: usize },
    /// The bytes are a key of a known kind but do not decode, or the key is inconsistent.
    Malformed { origin: String, detail: String },
    /// The file asks for more work than a budget allows (see the `MAX_*` constants).
    Budget {
        origin: String,
        what: &'static str,
        value: u64,
        limit: u64,
    },
    /// A certificate file without a certificate.
    NoCertificate { origin: String },
    /// The `index`-th certificate (0-based, in file order) does not decode.
    BadCertificate {
        origin: String,
        index: usize,
        detail: String,
    },
    /// The certificate's public key is not the signer's.
    KeyMismatch {
        /// The signer's key, as [`KeyKind::describe`] says it.
        key: String,
        certificate_subject: String,
        /// The certificate's key (`RSA-2048`, `ECDSA P-256`, or the algorithm's OID).
        certificate_key: String,
    },
    /// The certificate carries the signer's RSA key but restricts it to a scheme bingate does not
    /// sign with (RSASSA-PSS; bingate signs RSA with PKCS#1 v1.5).
    CertificateRestrictsKey {
        certificate_subject: String,
        algorithm: String,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotAKey { origin, found } => {
                write!(f, "{origin}: not a private key: the file holds {found}")
            }
            KeyError::UnsupportedAlgorithm { origin, algorithm } => write!(
                f,
                "{origin}: unsupported key algorithm {algorithm}; bingate signs with RSA, \
                 ECDSA P-256 or ECDSA P-384 keys"
            ),
            KeyError::UnsupportedFormat { origin, format } => {
                write!(f, "{origin}: unsupported key format: {format}")
            }
            KeyError::UnsupportedEncryption { origin, scheme } => write!(
                f,
                "{origin}: the key is encrypted with {scheme}, which bingate cannot decrypt; \
                 re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
            ),
            KeyError::PassphraseRequired { origin } => write!(
                f,
                "{origin}: the private key is encrypted and no passphrase was given; give it \
                 with --passphrase-file or the BINGATE_KEY_PASSPHRASE environment variable"
            ),
            KeyError::WrongPassphrase { origin } => write!(
                f,
                "{origin}: the passphrase does not decrypt the private key (wrong passphrase?)"
            ),
            KeyError::SeveralKeys { origin, count } => write!(
                f,
                "{origin}: the file holds {count} private keys; give a file with exactly one"
            ),
            KeyError::Malformed { origin, detail } => write!(f, "{origin}: malformed: {detail}"),
            KeyError::Budget {
                origin,
                what,
                value,
                limit,
            } => write!(
                f,
                "{origin}: {what} is {value}, over bingate's limit of {limit}"
            ),
            KeyError::NoCertificate { origin } => write!(
                f,
                "{origin}: no certificate (expected PEM CERTIFICATE blocks or one DER \
                 certificate)"
            ),
            KeyError::BadCertificate {
                origin,
                index,
                detail,
            } => write!(
                f,
                "{origin}: certificate #{} is malformed: {detail}",
                index.saturating_add(1)
            ),
            KeyError::KeyMismatch {
                key,
                certificate_subject,
                certificate_key,
            } => write!(
                f,
                "the key ({key}) does not match the certificate {certificate_subject} (whose key \
                 is {certificate_key}): refusing to sign"
            ),
            KeyError::CertificateRestrictsKey {
                certificate_subject,
                algorithm,
            } => write!(
                f,
                "the certificate {certificate_subject} restricts the key to {algorithm}, and \
                 bingate signs RSA with PKCS#1 v1.5: refusing to sign"
            ),
        }
    }
}

impl std::error::Error for KeyError {}

// ---------------------------------------------------------------------------------------------
// A key in memory
// ---------------------------------------------------------------------------------------------

enum LocalKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

/// A private key held in memory (read from a file by [`load_private_key`]). The key material
/// held by the `rsa` and `elliptic-curve` crates is wiped when dropped (they zeroize their
/// secrets); `ring`'s copy of an RSA key (below) is freed without being wiped, as `ring` does.
///
/// An RSA key of 2048 to 4096 bits is also held as a `ring` key pair, which signs messages
/// ([`Signer::sign_message`]) with SHA-256/384/512 about twice as fast as the `rsa` crate; the
/// same PKCS#1 v1.5 signature, byte for byte. Digests ([`Signer::sign_digest`]), SHA-1, and keys
/// `ring` refuses (under 2048 or over 4096 bits, a public exponent under 65537, CRT values that
/// do not sign correctly) go through the `rsa` crate, as before.
pub struct LocalSigner {
    key: LocalKey,
    kind: KeyKind,
    spki: SubjectPublicKeyInfoOwned,
    ring: Option<RingRsa>,
}

impl fmt::Debug for LocalSigner {
    // Never prints key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSigner")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

// `LocalSigner` must stay shareable across the parallel run.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<LocalSigner>();
};

impl LocalSigner {
    fn rsa(key: rsa::RsaPrivateKey, origin: &str) -> Result<LocalSigner, KeyError> {
        let bits = u32::try_from(key.n().bits()).map_err(|_| malformed(origin, "RSA modulus"))?;
        let spki = spki_from_der(
            key.to_public_key()
                .to_public_key_der()
                .map(|d| d.into_vec()),
            origin,
        )?;
        Ok(LocalSigner {
            key: LocalKey::Rsa(Box::new(key)),
            kind: KeyKind::Rsa { bits },
            spki,
            ring: None,
        })
    }

    fn p256(key: p256::SecretKey, origin: &str) -> Result<LocalSigner, KeyError> {
        let spki = spki_from_der(
            key.public_key().to_public_key_der().map(|d| d.into_vec()),
            origin,
        )?;
        Ok(LocalSigner {
            key: LocalKey::P256(p256::ecdsa::SigningKey::from(key)),
            kind: KeyKind::EcdsaP256,
            spki,
            ring: None,
        })
    }

    fn p384(key: p384::SecretKey, origin: &str) -> Result<LocalSigner, KeyError> {
        let spki = spki_from_der(
            key.public_key().to_public_key_der().map(|d| d.into_vec()),
            origin,
        )?;
        Ok(LocalSigner {
            key: LocalKey::P384(p384::ecdsa::SigningKey::from(key)),
            kind: KeyKind::EcdsaP384,
            spki,
            ring: None,
        })
    }
}

impl LocalSigner {
    /// Whether [`Signer::sign_message`] signs with `ring` for SHA-256/384/512 (an RSA key that
    /// `ring` accepted at load), rather than with the `rsa` crate. The signatures are the same;
    /// this says which code makes them, for tests and diagnostics.
    pub fn signs_messages_with_ring(&self) -> bool {
        self.ring.is_some()
    }
}

/// An RSA key as a `ring` key pair, with the public key (n, e) to check every signature it makes.
struct RingRsa {
    pair: ring::signature::RsaKeyPair,
    /// The modulus and exponent as the file gives them (and the `rsa` crate validated them).
    public: ring::signature::RsaPublicKeyComponents<Vec<u8>>,
    /// Not used by PKCS#1 v1.5 (deterministic); `ring`'s signing call asks for one. `ring`
    /// computes in constant time rather than blinding.
    rng: ring::rand::SystemRandom,
}

impl RingRsa {
    /// The message `ring` signs at load, to check the key before trusting it with requests.
    const PROBE: &'static [u8] = b"bingate: ring RSA key self-test";

    /// `key` (PKCS#1 components) as a `ring` key pair, `public` being the key the `rsa` crate
    /// validated. `None` when `ring` refuses the key (under 2048 or over 4096 bits, a public
    /// exponent under 65537 or over 33 bits, p < q…), or when its first signature does not
    /// verify, with `ring` and then with the `rsa` crate: `ring` takes the file's CRT values
    /// (dP, dQ, qInv) as they are and checks them only by signing, where the `rsa` crate
    /// recomputes them from p, q and d, so a file with wrong CRT values signs today and must go
    /// on signing.
    fn new(key: &rsa::pkcs1::RsaPrivateKey<'_>, public: &rsa::RsaPublicKey) -> Option<RingRsa> {
        let components = ring::rsa::KeyPairComponents {
            public_key: ring::rsa::PublicKeyComponents {
                n: key.modulus.as_bytes(),
                e: key.public_exponent.as_bytes(),
            },
            d: key.private_exponent.as_bytes(),
            p: key.prime1.as_bytes(),
            q: key.prime2.as_bytes(),
            dP: key.exponent1.as_bytes(),
            dQ: key.exponent2.as_bytes(),
            qInv: key.coefficient.as_bytes(),
        };
        let pair = ring::signature::RsaKeyPair::from_components(&components).ok()?;
        let ring = RingRsa {
            pair,
            public: ring::signature::RsaPublicKeyComponents {
                n: key.modulus.as_bytes().to_vec(),
                e: key.public_exponent.as_bytes().to_vec(),
            },
            rng: ring::rand::SystemRandom::new(),
        };
        let probe = ring
            .sign(DigestAlg::Sha256, RingRsa::PROBE)
            .ok()
            .flatten()?;
        // Once, with code that is not `ring`'s: the `rsa` crate's verification (about 0.4 ms
        // for RSA-3072, too slow to repeat for every signature).
        let digest = crate::hash::digest(DigestAlg::Sha256, RingRsa::PROBE)?;
        rsa::traits::SignatureScheme::verify(
            rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            public,
            &digest,
            &probe,
        )
        .ok()?;
        Some(ring)
    }

    /// `message` signed with SHA-256/384/512 and PKCS#1 v1.5, and verified with the public key
    /// before it is returned: a fault in the CRT computation would otherwise leak the key. `ring`
    /// checks its result inside `sign` too; this check is on the returned bytes, with the file's
    /// public key (about 50 µs for RSA-3072, against 2 ms for the signature). `Ok(None)` for a
    /// digest `ring` does not sign with (SHA-1, MD5): the caller signs through the `rsa` crate.
    fn sign(&self, alg: DigestAlg, message: &[u8]) -> Result<Option<Vec<u8>>, SignDigestError> {
        use ring::signature as rs;
        let (encoding, verification): (&'static dyn rs::RsaEncoding, &rs::RsaParameters) = match alg
        {
            DigestAlg::Sha256 => (&rs::RSA_PKCS1_SHA256, &rs::RSA_PKCS1_2048_8192_SHA256),
            DigestAlg::Sha384 => (&rs::RSA_PKCS1_SHA384, &rs::RSA_PKCS1_2048_8192_SHA384),
            DigestAlg::Sha512 => (&rs::RSA_PKCS1_SHA512, &rs::RSA_PKCS1_2048_8192_SHA512),
            DigestAlg::Sha1 | DigestAlg::Md5 => return Ok(None),
        };
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        self.pair
            .sign(encoding, &self.rng, message, &mut sig)
            .map_err(|e| SignDigestError::Backend(format!("ring RSA signing: {e}")))?;
        self.public
            .verify(verification, message, &sig)
            .map_err(|e| {
                SignDigestError::Backend(format!(
                    "the RSA signature does not verify with the public key: {e}"
                ))
            })?;
        Ok(Some(sig))
    }
}

fn spki_from_der(
    der: Result<Vec<u8>, spki::Error>,
    origin: &str,
) -> Result<SubjectPublicKeyInfoOwned, KeyError> {
    der.map_err(|e| e.to_string())
        .and_then(|d| SubjectPublicKeyInfoOwned::from_der(&d).map_err(|e| e.to_string()))
        .map_err(|e| KeyError::Malformed {
            origin: origin.to_owned(),
            detail: format!("cannot encode the public key: {e}"),
        })
}

/// PKCS#1 v1.5 with SHA-1: the DigestInfo prefix from RFC 8017 §9.2 note 1 (sha1 0.10 has no
/// `AssociatedOid` for `Pkcs1v15Sign::new`). The same as `crate::pki::keys` verifies with.
fn sha1_pkcs1v15() -> rsa::Pkcs1v15Sign {
    const PREFIX: [u8; 15] = [
        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
    ];
    rsa::Pkcs1v15Sign {
        hash_len: Some(20),
        prefix: PREFIX.to_vec().into_boxed_slice(),
    }
}

/// Randomness for RSA blinding. The private-key operation is masked with a random blinding
/// factor (the countermeasure to timing attacks such as RUSTSEC-2023-0071); the signature
/// itself stays deterministic. Seeded once per signature from the OS (where failure is an
/// error, not a panic), then SHA-256 in counter mode, so that `fill_bytes`, which cannot
/// fail, never has to.
struct BlindingRng {
    seed: [u8; 32],
    counter: u64,
}

impl BlindingRng {
    fn new() -> Result<BlindingRng, SignDigestError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| {
            SignDigestError::Backend(format!("no OS randomness for RSA blinding: {e}"))
        })?;
        Ok(BlindingRng { seed, counter: 0 })
    }
}

impl RngCore for BlindingRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        use sha2::Digest as _;
        for chunk in dest.chunks_mut(32) {
            let block = sha2::Sha256::new()
                .chain_update(self.seed)
                .chain_update(self.counter.to_le_bytes())
                .finalize();
            self.counter = self.counter.wrapping_add(1);
            for (d, s) in chunk.iter_mut().zip(block.iter()) {
                *d = *s;
            }
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for BlindingRng {}

impl Drop for BlindingRng {
    fn drop(&mut self) {
        self.seed = [0u8; 32];
    }
}

/// `digest` left-padded with zeros to `field` bytes when shorter (FIPS 186-5 §6.4.1 takes the
/// digest as an integer, so padding changes nothing). The `ecdsa` crate refuses a prehash shorter
/// than half the field (SHA-1 on P-384) instead of padding it.
fn pad_prehash(digest: &[u8], field: usize) -> Vec<u8> {
    match field.checked_sub(digest.len()) {
        Some(pad) if pad > 0 => {
            let mut z = vec![0u8; pad];
            z.extend_from_slice(digest);
            z
        }
        _ => digest.to_vec(),
    }
}

impl Signer for LocalSigner {
    fn kind(&self) -> KeyKind {
        self.kind
    }

    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }

    fn sign_digest(&self, alg: DigestAlg, digest: &[u8]) -> Result<Vec<u8>, SignDigestError> {
        check_digest(alg, digest, self.kind)?;
        let backend = |e: &dyn fmt::Display| SignDigestError::Backend(e.to_string());
        match &self.key {
            LocalKey::Rsa(key) => {
                let padding = match alg {
                    DigestAlg::Sha1 => sha1_pkcs1v15(),
                    DigestAlg::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    DigestAlg::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                    DigestAlg::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                    // Refused by `check_digest`; kept as an error, not a panic.
                    DigestAlg::Md5 => {
                        return Err(SignDigestError::UnsupportedDigest {
                            digest: alg.name(),
                            key: self.kind.describe(),
                        });
                    }
                };
                let mut rng = BlindingRng::new()?;
                // `rsa` checks the result against the public key before returning it (a fault
                // in the CRT computation would otherwise leak the key).
                let sig = key
                    .sign_with_rng(&mut rng, padding, digest)
                    .map_err(|e| backend(&e))?;
                if sig.len() != key.size() {
                    return Err(SignDigestError::Backend(format!(
                        "RSA signature of {} bytes for a {}-byte modulus",
                        sig.len(),
                        key.size()
                    )));
                }
                Ok(sig)
            }
            LocalKey::P256(key) => {
                use p256::ecdsa::signature::hazmat::PrehashSigner;
                let sig: p256::ecdsa::DerSignature = key
                    .sign_prehash(&pad_prehash(digest, 32))
                    .map_err(|e| backend(&e))?;
                Ok(sig.as_bytes().to_vec())
            }
            LocalKey::P384(key) => {
                use p384::ecdsa::signature::hazmat::PrehashSigner;
                let sig: p384::ecdsa::DerSignature = key
                    .sign_prehash(&pad_prehash(digest, 48))
                    .map_err(|e| backend(&e))?;
                Ok(sig.as_bytes().to_vec())
            }
        }
    }

    /// With `ring` for an RSA key it accepted and SHA-256/384/512 (see [`LocalSigner`]);
    /// otherwise, and should `ring` fail, the message is hashed and signed as
    /// [`Signer::sign_digest`] signs it. Either way the same signature.
    fn sign_message(&self, alg: DigestAlg, message: &[u8]) -> Result<Vec<u8>, SignDigestError> {
        if let Some(ring) = &self.ring {
            // A `ring` failure (its own fault check, or ours) falls back to the `rsa` crate,
            // which checks its result too: nothing unchecked is ever returned.
            if let Ok(Some(sig)) = ring.sign(alg, message) {
                return Ok(sig);
            }
        }
        let digest = crate::hash::digest(alg, message).ok_or_else(|| {
            SignDigestError::UnsupportedDigest {
                digest: alg.name(),
                key: self.kind.describe(),
            }
        })?;
        self.sign_digest(alg, &digest)
    }
}

// ---------------------------------------------------------------------------------------------
// PEM
// ---------------------------------------------------------------------------------------------

/// One `-----BEGIN label-----` … `-----END label-----` block, markers included.
struct PemBlock<'a> {
    label: &'a str,
    text: &'a str,
}

fn find_from(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = hay.get(from..)?;
    memchr::memmem::find(rest, needle).and_then(|i| i.checked_add(from))
}

fn is_pem(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"-----BEGIN").is_some()
}

/// Every PEM block of `bytes`, in order; text between blocks is ignored.
fn pem_blocks<'a>(bytes: &'a [u8], origin: &str) -> Result<Vec<PemBlock<'a>>, KeyError> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const DASHES: &[u8] = b"-----";
    let mut blocks = Vec::new();
    let mut pos = 0usize;
    while let Some(begin) = find_from(bytes, pos, BEGIN) {
        if blocks.len() >= MAX_PEM_BLOCKS {
            return Err(KeyError::Budget {
                origin: origin.to_owned(),
                what: "the number of PEM blocks",
                value: u64::try_from(blocks.len())
                    .unwrap_or(u64::MAX)
                    .saturating_add(1),
                limit: u64::try_from(MAX_PEM_BLOCKS).unwrap_or(u64::MAX),
            });
        }
        let label_start = begin
            .checked_add(BEGIN.len())
            .ok_or_else(|| malformed(origin, "PEM"))?;
        let label_end = find_from(bytes, label_start, DASHES)
            .ok_or_else(|| malformed(origin, "a PEM BEGIN line without its closing dashes"))?;
        let label = bytes
            .get(label_start..label_end)
            .and_then(|l| std::str::from_utf8(l).ok())
            .filter(|l| !l.contains(['\n', '\r']))
            .ok_or_else(|| malformed(origin, "a PEM BEGIN line without its closing dashes"))?;
        let end_marker = format!("-----END {label}-----");
        let end = find_from(bytes, label_end, end_marker.as_bytes()).ok_or_else(|| {
            KeyError::Malformed {
                origin: origin.to_owned(),
                detail: format!("the PEM block {label} has no END line"),
            }
        })?;
        let block_end = end
            .checked_add(end_marker.len())
            .ok_or_else(|| malformed(origin, "PEM"))?;
        let text = bytes
            .get(begin..block_end)
            .and_then(|t| std::str::from_utf8(t).ok())
            .ok_or_else(|| KeyError::Malformed {
                origin: origin.to_owned(),
                detail: format!("the PEM block {label} is not text"),
            })?;
        blocks.push(PemBlock { label, text });
        pos = block_end;
    }
    Ok(blocks)
}

fn malformed(origin: &str, what: &str) -> KeyError {
    KeyError::Malformed {
        origin: origin.to_owned(),
        detail: format!("unreadable {what}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Private keys
// ---------------------------------------------------------------------------------------------

/// PEM labels that hold a private key bingate reads.
const KEY_LABELS: [&str; 4] = [
    "PRIVATE KEY",
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
];

/// Reads a private key: RSA as PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`), EC P-256 or
/// P-384 as SEC1 (`EC PRIVATE KEY`) or PKCS#8; PEM (the bytes contain `-----BEGIN`) or DER; an
/// encrypted PKCS#8 key (`ENCRYPTED PRIVATE KEY`, PEM or DER) is decrypted with `passphrase`.
/// Encryption: PBES2 with PBKDF2 (HMAC-SHA-224/256/384/512) or scrypt, and AES-128/192/256-CBC,
/// which covers `openssl pkcs8 -topk8 -v2 aes-256-cbc`, OpenSSL 3's `genpkey -aes256` and
/// `pkcs8 -scrypt`. `origin` (the path) names the file in errors.
pub fn load_private_key(
    bytes: &[u8],
    passphrase: Option<&[u8]>,
    origin: &str,
) -> Result<LocalSigner, KeyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(KeyError::NotAKey {
            origin: origin.to_owned(),
            found: if bytes.is_empty() {
                "nothing (it is empty)".to_owned()
            } else {
                "only whitespace".to_owned()
            },
        });
    }
    if !is_pem(bytes) {
        return load_der(bytes, passphrase, origin, true);
    }

    let blocks = pem_blocks(bytes, origin)?;
    let mut keys = Vec::new();
    let mut others = Vec::new();
    for block in &blocks {
        match block.label {
            l if KEY_LABELS.contains(&l) => keys.push(block),
            // `openssl ecparam -genkey` writes the curve before the key.
            "EC PARAMETERS" => {}
            "DSA PRIVATE KEY" => {
                return Err(KeyError::UnsupportedAlgorithm {
                    origin: origin.to_owned(),
                    algorithm: algorithm_name("1.2.840.10040.4.1"),
                });
            }
            "OPENSSH PRIVATE KEY" => {
                return Err(KeyError::UnsupportedFormat {
                    origin: origin.to_owned(),
                    format: "an OpenSSH private key; convert it to PKCS#8 with \
                             `ssh-keygen -p -m PKCS8 -f <file>`"
                        .to_owned(),
                });
            }
            other => others.push(other),
        }
    }
    let block = match keys.as_slice() {
        [one] => *one,
        [] => {
            let found = if others.is_empty() {
                "no PEM block".to_owned()
            } else {
                describe_labels(&others)
            };
            return Err(KeyError::NotAKey {
                origin: origin.to_owned(),
                found,
            });
        }
        many => {
            return Err(KeyError::SeveralKeys {
                origin: origin.to_owned(),
                count: many.len(),
            });
        }
    };
    // RFC 1421 encapsulated headers: OpenSSL's legacy ("traditional") PEM encryption.
    if block.text.contains("Proc-Type:") || block.text.contains("DEK-Info:") {
        return Err(KeyError::UnsupportedEncryption {
            origin: origin.to_owned(),
            scheme: "OpenSSL's legacy PEM encryption (Proc-Type/DEK-Info headers)".to_owned(),
        });
    }
    let (_, doc) = der::SecretDocument::from_pem(block.text).map_err(|e| KeyError::Malformed {
        origin: origin.to_owned(),
        detail: format!("the PEM block {}: {e}", block.label),
    })?;
    load_der(doc.as_bytes(), passphrase, origin, true)
}

/// `a PEM CERTIFICATE block, 2 PEM X509 CRL blocks`: the labels in order of first appearance.
fn describe_labels(labels: &[&str]) -> String {
    let mut counted: Vec<(&str, usize)> = Vec::new();
    for label in labels {
        match counted.iter_mut().find(|(l, _)| l == label) {
            Some((_, n)) => *n = n.saturating_add(1),
            None => counted.push((label, 1)),
        }
    }
    let parts: Vec<String> = counted
        .iter()
        .map(|(l, n)| match n {
            1 => format!("a PEM {l} block"),
            n => format!("{n} PEM {l} blocks"),
        })
        .collect();
    parts.join(", ")
}

/// The outline of a DER structure, told apart by the tags of its top-level elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// PrivateKeyInfo / OneAsymmetricKey: INTEGER, AlgorithmIdentifier, OCTET STRING, …
    Pkcs8,
    /// EncryptedPrivateKeyInfo: AlgorithmIdentifier, OCTET STRING.
    Encrypted,
    /// RSAPrivateKey: nine INTEGERs (two-prime) or ten elements (multi-prime).
    Pkcs1,
    /// ECPrivateKey: INTEGER 1, OCTET STRING, [0] parameters, [1] public key.
    Sec1,
    /// OpenSSL's traditional DSA key: six INTEGERs.
    Dsa,
    /// SEQUENCE, SEQUENCE, BIT STRING: a certificate, CRL or certificate request.
    Signed,
    /// SubjectPublicKeyInfo: AlgorithmIdentifier, BIT STRING.
    PublicKey,
    Other,
}

fn shape(elems: &[AnyRef<'_>]) -> Shape {
    let tags: Vec<Tag> = elems.iter().map(Tagged::tag).collect();
    match tags.as_slice() {
        [Tag::Integer, Tag::Sequence, Tag::OctetString, ..] => Shape::Pkcs8,
        [Tag::Sequence, Tag::OctetString] => Shape::Encrypted,
        [Tag::Integer, Tag::Integer, rest @ ..]
            if rest.len() >= 7 && rest.iter().take(7).all(|t| *t == Tag::Integer) =>
        {
            Shape::Pkcs1
        }
        [
            Tag::Integer,
            Tag::Integer,
            Tag::Integer,
            Tag::Integer,
            Tag::Integer,
            Tag::Integer,
        ] => Shape::Dsa,
        [Tag::Integer, Tag::OctetString, ..] => Shape::Sec1,
        [Tag::Sequence, Tag::Sequence, Tag::BitString] => Shape::Signed,
        [Tag::Sequence, Tag::BitString] => Shape::PublicKey,
        _ => Shape::Other,
    }
}

/// Reads a DER private key. `outer`: the bytes came from the file (not from decrypting it), so
/// an encrypted key is acceptable and a non-key is "not a key" rather than a wrong passphrase.
fn load_der(
    der: &[u8],
    passphrase: Option<&[u8]>,
    origin: &str,
    outer: bool,
) -> Result<LocalSigner, KeyError> {
    let elems = match Vec::<AnyRef<'_>>::from_der(der) {
        Ok(e) => e,
        Err(_) if !outer => return Err(wrong_passphrase(origin)),
        Err(_) => {
            return Err(KeyError::NotAKey {
                origin: origin.to_owned(),
                found: "bytes that are neither PEM nor a DER structure".to_owned(),
            });
        }
    };
    let shape = shape(&elems);
    if !outer && shape != Shape::Pkcs8 {
        // What decrypted is not a PrivateKeyInfo: the passphrase was wrong and the CBC padding
        // happened to check out (about one time in 256).
        return Err(wrong_passphrase(origin));
    }
    let not_a_key = |found: &str| KeyError::NotAKey {
        origin: origin.to_owned(),
        found: found.to_owned(),
    };
    match shape {
        Shape::Pkcs8 => load_pkcs8(der, origin),
        Shape::Encrypted => load_encrypted(der, passphrase, origin),
        Shape::Pkcs1 => {
            let key =
                rsa::pkcs1::RsaPrivateKey::from_der(der).map_err(|e| KeyError::Malformed {
                    origin: origin.to_owned(),
                    detail: format!("PKCS#1 RSA private key: {e}"),
                })?;
            rsa_from_pkcs1(&key, origin)
        }
        Shape::Sec1 => load_sec1(der, &elems, None, origin),
        Shape::Dsa => Err(KeyError::UnsupportedAlgorithm {
            origin: origin.to_owned(),
            algorithm: algorithm_name("1.2.840.10040.4.1"),
        }),
        Shape::Signed if Certificate::from_der(der).is_ok() => Err(not_a_key("a certificate")),
        Shape::Signed => Err(not_a_key(
            "a signed structure (a CRL or a certificate request)",
        )),
        Shape::PublicKey => Err(not_a_key("a public key")),
        Shape::Other => Err(not_a_key("a DER structure that is not a private key")),
    }
}

fn wrong_passphrase(origin: &str) -> KeyError {
    KeyError::WrongPassphrase {
        origin: origin.to_owned(),
    }
}

fn load_pkcs8(der: &[u8], origin: &str) -> Result<LocalSigner, KeyError> {
    let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(|e| KeyError::Malformed {
        origin: origin.to_owned(),
        detail: format!("PKCS#8 private key: {e}"),
    })?;
    let oid = info.algorithm.oid.to_string();
    match oid.as_str() {
        RSA_ENCRYPTION => {
            let key = rsa::pkcs1::RsaPrivateKey::from_der(info.private_key).map_err(|e| {
                KeyError::Malformed {
                    origin: origin.to_owned(),
                    detail: format!("PKCS#8 RSA private key: {e}"),
                }
            })?;
            rsa_from_pkcs1(&key, origin)
        }
        EC_PUBLIC_KEY => {
            let curve = named_curve(info.algorithm.parameters, origin)?;
            let elems =
                Vec::<AnyRef<'_>>::from_der(info.private_key).map_err(|e| KeyError::Malformed {
                    origin: origin.to_owned(),
                    detail: format!("PKCS#8 EC private key: {e}"),
                })?;
            load_sec1(info.private_key, &elems, Some(curve), origin)
        }
        _ => Err(KeyError::UnsupportedAlgorithm {
            origin: origin.to_owned(),
            algorithm: algorithm_name(&oid),
        }),
    }
}

/// The named curve in EC `parameters` (PKCS#8 AlgorithmIdentifier or SEC1 `[0]`).
fn named_curve(params: Option<AnyRef<'_>>, origin: &str) -> Result<String, KeyError> {
    match params {
        Some(p) if p.tag() == Tag::ObjectIdentifier => p
            .decode_as::<ObjectIdentifier>()
            .map(|o| o.to_string())
            .map_err(|e| KeyError::Malformed {
                origin: origin.to_owned(),
                detail: format!("EC curve identifier: {e}"),
            }),
        Some(p) if p.tag() == Tag::Sequence => Err(KeyError::UnsupportedAlgorithm {
            origin: origin.to_owned(),
            algorithm: "an EC key with explicit curve parameters (write it with a named curve: \
                        `openssl ec -param_enc named_curve`)"
                .to_owned(),
        }),
        _ => Err(KeyError::Malformed {
            origin: origin.to_owned(),
            detail: "the EC key names no curve".to_owned(),
        }),
    }
}

/// A SEC1 ECPrivateKey (`elems` is its top-level elements). `outer_curve`: the curve the PKCS#8
/// wrapper named, if any; the key's own `[0]` parameters, when present, must agree.
fn load_sec1(
    der: &[u8],
    elems: &[AnyRef<'_>],
    outer_curve: Option<String>,
    origin: &str,
) -> Result<LocalSigner, KeyError> {
    // `[0] EXPLICIT ECParameters`: decode it generically first, so that explicit parameters
    // (which the `sec1` crate cannot decode) get a clear error.
    let inner_curve = match elems.iter().find(|e| {
        e.tag()
            == Tag::ContextSpecific {
                constructed: true,
                number: der::TagNumber::N0,
            }
    }) {
        Some(ctx) => Some(named_curve(AnyRef::from_der(ctx.value()).ok(), origin)?),
        None => None,
    };
    let curve = match (outer_curve, inner_curve) {
        (Some(outer), Some(inner)) if outer != inner => {
            return Err(KeyError::Malformed {
                origin: origin.to_owned(),
                detail: format!(
                    "the PKCS#8 wrapper names curve {outer} and the EC key names {inner}"
                ),
            });
        }
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => {
            return Err(KeyError::Malformed {
                origin: origin.to_owned(),
                detail: "the SEC1 EC private key names no curve".to_owned(),
            });
        }
    };
    let key = sec1::EcPrivateKey::from_der(der).map_err(|e| KeyError::Malformed {
        origin: origin.to_owned(),
        detail: format!("SEC1 EC private key: {e}"),
    })?;
    let bad = |e: der::Error| KeyError::Malformed {
        origin: origin.to_owned(),
        detail: format!("EC private key (or its public key does not match it): {e}"),
    };
    match curve.as_str() {
        P256 => LocalSigner::p256(p256::SecretKey::try_from(key).map_err(bad)?, origin),
        P384 => LocalSigner::p384(p384::SecretKey::try_from(key).map_err(bad)?, origin),
        other => Err(KeyError::UnsupportedAlgorithm {
            origin: origin.to_owned(),
            algorithm: curve_name(other),
        }),
    }
}

fn rsa_from_pkcs1(
    key: &rsa::pkcs1::RsaPrivateKey<'_>,
    origin: &str,
) -> Result<LocalSigner, KeyError> {
    if key.version() != rsa::pkcs1::Version::TwoPrime {
        return Err(KeyError::UnsupportedAlgorithm {
            origin: origin.to_owned(),
            algorithm: "multi-prime RSA".to_owned(),
        });
    }
    let modulus = key.modulus.as_bytes();
    let bits = u64::try_from(modulus.len())
        .ok()
        .and_then(|n| n.checked_mul(8))
        .unwrap_or(u64::MAX);
    let limit = u64::try_from(MAX_RSA_BITS).unwrap_or(u64::MAX);
    if bits > limit {
        return Err(KeyError::Budget {
            origin: origin.to_owned(),
            what: "the RSA modulus size in bits",
            value: bits,
            limit,
        });
    }
    let big = |u: rsa::pkcs1::UintRef<'_>| rsa::BigUint::from_bytes_be(u.as_bytes());
    let (n, e, d) = (
        big(key.modulus),
        big(key.public_exponent),
        big(key.private_exponent),
    );
    let primes = vec![big(key.prime1), big(key.prime2)];
    // `from_components` validates the key (n = p·q, d·e ≡ 1, sane exponent) before use. The
    // big-integer code is third-party: a panic on a hostile key is contained and reported.
    let built = crate::guard::contain("the rsa crate", None, || {
        rsa::RsaPrivateKey::from_components(n, e, d, primes)
    })
    .map_err(|_| KeyError::Malformed {
        origin: origin.to_owned(),
        detail: "the RSA key crashed the RSA library".to_owned(),
    })?
    .map_err(|e| KeyError::Malformed {
        origin: origin.to_owned(),
        detail: format!("inconsistent RSA private key: {e}"),
    })?;
    // `ring` sees only a key the `rsa` crate validated; refused or failing, the key signs
    // through the `rsa` crate alone. Its code is third-party too: a panic is contained.
    let ring = crate::guard::contain("the ring crate", None, || {
        RingRsa::new(key, &built.to_public_key())
    })
    .ok()
    .flatten();
    let mut signer = LocalSigner::rsa(built, origin)?;
    signer.ring = ring;
    Ok(signer)
}

/// The encryption scheme of an EncryptedPrivateKeyInfo, named as well as the bytes allow, for
/// messages about schemes the `pkcs5` crate cannot parse.
fn describe_scheme(alg: &AlgorithmIdentifierRef<'_>) -> String {
    let outer = alg.oid.to_string();
    if outer != PBES2 {
        return encryption_name(&outer);
    }
    // PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier,
    //                             encryptionScheme AlgorithmIdentifier }
    let parts = alg
        .parameters
        .and_then(|p| p.decode_as::<Vec<AlgorithmIdentifierRef<'_>>>().ok());
    let Some([kdf, cipher]) = parts.as_deref() else {
        return encryption_name(&outer);
    };
    let kdf_oid = kdf.oid.to_string();
    let mut kdf_name = encryption_name(&kdf_oid);
    if kdf_oid == PBKDF2 {
        // PBKDF2-params: salt, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1.
        let prf = kdf
            .parameters
            .and_then(|p| p.decode_as::<Vec<AnyRef<'_>>>().ok())
            .and_then(|v| {
                v.iter()
                    .find(|e| e.tag() == Tag::Sequence)
                    .and_then(|e| e.decode_as::<AlgorithmIdentifierRef<'_>>().ok())
                    .map(|a| a.oid.to_string())
            })
            .unwrap_or_else(|| "1.2.840.113549.2.7".to_owned());
        kdf_name = format!("{kdf_name} with {}", encryption_name(&prf));
    }
    format!(
        "PBES2 ({kdf_name}, {})",
        encryption_name(&cipher.oid.to_string())
    )
}

fn load_encrypted(
    der: &[u8],
    passphrase: Option<&[u8]>,
    origin: &str,
) -> Result<LocalSigner, KeyError> {
    // The AlgorithmIdentifier first, generically: the typed decoder fails outright on schemes
    // it does not know, and the user should be told which scheme that was.
    let mut reader = SliceReader::new(der).map_err(|e| KeyError::Malformed {
        origin: origin.to_owned(),
        detail: format!("encrypted PKCS#8 key: {e}"),
    })?;
    let alg = reader
        .sequence(|r| {
            let alg = AlgorithmIdentifierRef::decode(r)?;
            OctetStringRef::decode(r)?;
            Ok(alg)
        })
        .map_err(|e| KeyError::Malformed {
            origin: origin.to_owned(),
            detail: format!("encrypted PKCS#8 key: {e}"),
        })?;
    let unsupported = |scheme: String| KeyError::UnsupportedEncryption {
        origin: origin.to_owned(),
        scheme,
    };
    if alg.oid.to_string() != PBES2 {
        return Err(unsupported(describe_scheme(&alg)));
    }
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(der)
        .map_err(|_| unsupported(describe_scheme(&alg)))?;
    let Some(params) = info.encryption_algorithm.pbes2() else {
        return Err(unsupported(describe_scheme(&alg)));
    };
    check_kdf_budget(&params.kdf, origin)?;
    if params
        .kdf
        .pbkdf2()
        .is_some_and(|p| p.prf == pkcs5::pbes2::Pbkdf2Prf::HmacWithSha1)
    {
        // PBKDF2's default PRF, written by OpenSSL before 1.1.0. The `pkcs5` crate decrypts it
        // only with its `sha1-insecure` feature, which bingate does not enable.
        return Err(unsupported(describe_scheme(&alg)));
    }

    // AES-CBC ciphertext is whole blocks; anything else is damage, not a wrong passphrase.
    let data_len = info.encrypted_data.len();
    if data_len == 0 || data_len % 16 != 0 {
        return Err(KeyError::Malformed {
            origin: origin.to_owned(),
            detail: format!(
                "encrypted PKCS#8 key: {data_len} bytes of AES-CBC ciphertext (not whole \
                 16-byte blocks)"
            ),
        });
    }
    let Some(passphrase) = passphrase else {
        return Err(KeyError::PassphraseRequired {
            origin: origin.to_owned(),
        });
    };
    let doc = match info.decrypt(passphrase) {
        Ok(doc) => doc,
        // A wrong passphrase usually fails the CBC padding check, which `pkcs5` 0.7.1 reports
        // as `EncryptFailed` (sic); when the padding happens to check out, what decrypted is
        // not DER (`Asn1`).
        Err(pkcs8::Error::EncryptedPrivateKey(
            pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed,
        ))
        | Err(pkcs8::Error::Asn1(_)) => return Err(wrong_passphrase(origin)),
        Err(pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::UnsupportedAlgorithm { .. })) => {
            return Err(unsupported(describe_scheme(&alg)));
        }
        Err(e) => {
            return Err(KeyError::Malformed {
                origin: origin.to_owned(),
                detail: format!("encrypted PKCS#8 key: {e}"),
            });
        }
    };
    load_der(doc.as_bytes(), None, origin, false)
}

fn check_kdf_budget(kdf: &pkcs5::pbes2::Kdf<'_>, origin: &str) -> Result<(), KeyError> {
    let over = |what: &'static str, value: u64, limit: u64| KeyError::Budget {
        origin: origin.to_owned(),
        what,
        value,
        limit,
    };
    if let Some(p) = kdf.pbkdf2() {
        if p.iteration_count > MAX_PBKDF2_ITERATIONS {
            return Err(over(
                "the PBKDF2 iteration count",
                u64::from(p.iteration_count),
                u64::from(MAX_PBKDF2_ITERATIONS),
            ));
        }
    }
    if let Some(s) = kdf.scrypt() {
        let n: u64 = s.cost_parameter;
        let r = u64::from(s.block_size);
        let p = u64::from(s.parallelization);
        // OpenSSL: Blen = 128·r·p, Vlen = 128·r·(N+2).
        let memory = n
            .checked_add(2)
            .and_then(|n2| n2.checked_add(p))
            .and_then(|x| x.checked_mul(r))
            .and_then(|x| x.checked_mul(128))
            .unwrap_or(u64::MAX);
        if memory > MAX_SCRYPT_MEMORY {
            return Err(over(
                "the scrypt memory in bytes",
                memory,
                MAX_SCRYPT_MEMORY,
            ));
        }
        let work = n
            .checked_mul(r)
            .and_then(|x| x.checked_mul(p))
            .unwrap_or(u64::MAX);
        if work > MAX_SCRYPT_WORK {
            return Err(over("the scrypt work N·r·p", work, MAX_SCRYPT_WORK));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

/// Every certificate in a PEM file (each `CERTIFICATE` block, in order; other blocks skipped), or
/// the one certificate of a DER file.
pub fn load_certificates(bytes: &[u8], origin: &str) -> Result<Vec<Certificate>, KeyError> {
    let no_certificate = || KeyError::NoCertificate {
        origin: origin.to_owned(),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(no_certificate());
    }
    if !is_pem(bytes) {
        return Certificate::from_der(bytes).map(|c| vec![c]).map_err(|e| {
            KeyError::BadCertificate {
                origin: origin.to_owned(),
                index: 0,
                detail: format!("not a DER certificate: {e}"),
            }
        });
    }
    let mut certs = Vec::new();
    for block in pem_blocks(bytes, origin)? {
        if block.label != "CERTIFICATE" {
            continue;
        }
        let bad = |detail: String| KeyError::BadCertificate {
            origin: origin.to_owned(),
            index: certs.len(),
            detail,
        };
        let (_, der) =
            der::pem::decode_vec(block.text.as_bytes()).map_err(|e| bad(format!("PEM: {e}")))?;
        let cert = Certificate::from_der(&der).map_err(|e| bad(format!("DER: {e}")))?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(no_certificate());
    }
    Ok(certs)
}

/// A certificate key described as [`KeyKind::describe`] would.
fn describe_spki(spki: &SubjectPublicKeyInfoOwned) -> String {
    let info = crate::pki::keys::key_info(spki);
    match (info.algorithm.as_str(), info.bits) {
        ("rsa", Some(bits)) => format!("RSA-{bits}"),
        ("rsa", None) => "RSA".to_owned(),
        ("rsa-pss", Some(bits)) => format!("RSASSA-PSS RSA-{bits}"),
        ("rsa-pss", None) => "RSASSA-PSS RSA".to_owned(),
        ("ecdsa-p256", _) => "ECDSA P-256".to_owned(),
        ("ecdsa-p384", _) => "ECDSA P-384".to_owned(),
        (other, _) => other.to_owned(),
    }
}

/// The modulus and exponent of an RSA SubjectPublicKeyInfo (leading zeros stripped).
fn rsa_parts(spki: &SubjectPublicKeyInfoOwned) -> Option<(Vec<u8>, Vec<u8>)> {
    let key = rsa::pkcs1::RsaPublicKey::from_der(spki.subject_public_key.as_bytes()?).ok()?;
    Some((
        key.modulus.as_bytes().to_vec(),
        key.public_exponent.as_bytes().to_vec(),
    ))
}

fn spki_curve(spki: &SubjectPublicKeyInfoOwned) -> Option<String> {
    if spki.algorithm.oid.to_string() != EC_PUBLIC_KEY {
        return None;
    }
    spki.algorithm
        .parameters
        .as_ref()?
        .decode_as::<ObjectIdentifier>()
        .ok()
        .map(|o| o.to_string())
}

/// Whether two EC keys on `curve` are the same point (compressed or not).
fn same_point(
    curve: &str,
    a: &SubjectPublicKeyInfoOwned,
    b: &SubjectPublicKeyInfoOwned,
) -> Option<bool> {
    let (a, b) = (
        a.subject_public_key.as_bytes()?,
        b.subject_public_key.as_bytes()?,
    );
    match curve {
        P256 => Some(
            p256::PublicKey::from_sec1_bytes(a).ok()?
                == p256::PublicKey::from_sec1_bytes(b).ok()?,
        ),
        P384 => Some(
            p384::PublicKey::from_sec1_bytes(a).ok()?
                == p384::PublicKey::from_sec1_bytes(b).ok()?,
        ),
        _ => None,
    }
}

/// Refuses a certificate whose public key is not the signer's: RSA keys are compared by modulus
/// and exponent, EC keys by curve and point (so a compressed point in the certificate matches).
pub fn check_key_matches(signer: &dyn Signer, cert: &Certificate) -> Result<(), KeyError> {
    let mine = signer.public_key();
    let theirs = &cert.tbs_certificate.subject_public_key_info;
    let subject = || cert.tbs_certificate.subject.to_string();
    let mismatch = || KeyError::KeyMismatch {
        key: signer.kind().describe(),
        certificate_subject: subject(),
        certificate_key: describe_spki(theirs),
    };
    let matches = match signer.kind() {
        KeyKind::Rsa { .. } => {
            let their_oid = theirs.algorithm.oid.to_string();
            let same = their_oid == RSA_ENCRYPTION || their_oid == RSASSA_PSS;
            let same = same
                && matches!((rsa_parts(mine), rsa_parts(theirs)), (Some(a), Some(b)) if a == b);
            if same && their_oid == RSASSA_PSS {
                return Err(KeyError::CertificateRestrictsKey {
                    certificate_subject: subject(),
                    algorithm: algorithm_name(RSASSA_PSS),
                });
            }
            same
        }
        KeyKind::EcdsaP256 | KeyKind::EcdsaP384 => match (spki_curve(mine), spki_curve(theirs)) {
            (Some(a), Some(b)) if a == b => same_point(&a, mine, theirs).unwrap_or(false),
            _ => false,
        },
    };
    if matches { Ok(()) } else { Err(mismatch()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode;

    const LEAF_RSA: &[u8] = include_bytes!("../../corpus/pki/leaf-rsa.key");
    const WEAK_1024: &[u8] = include_bytes!("../../corpus/pki/leaf-weak1024.key");
    const LEAF_ECDSA: &[u8] = include_bytes!("../../corpus/pki/leaf-ecdsa.key");
    /// Another RSA-2048 key of the test PKI.
    const OTHER_RSA: &[u8] = include_bytes!("../../corpus/pki/leaf-expired.key");
    const MESSAGE: &[u8] = b"signed attributes, as DER";
    const ALL: [DigestAlg; 4] = [
        DigestAlg::Sha1,
        DigestAlg::Sha256,
        DigestAlg::Sha384,
        DigestAlg::Sha512,
    ];

    fn load(bytes: &[u8]) -> LocalSigner {
        load_private_key(bytes, None, "test key").unwrap()
    }

    /// The corpus RSA key (a PEM PKCS#8 file) as PKCS#1 DER.
    fn leaf_pkcs1() -> Vec<u8> {
        let (_, doc) =
            der::SecretDocument::from_pem(std::str::from_utf8(LEAF_RSA).unwrap()).unwrap();
        let info = pkcs8::PrivateKeyInfo::from_der(doc.as_bytes()).unwrap();
        info.private_key.to_vec()
    }

    /// `sign_message` against `sign_digest` over the message's digest: the trait's contract.
    fn assert_message_is_digest_signature(signer: &LocalSigner, alg: DigestAlg) {
        let digest = crate::hash::digest(alg, MESSAGE).unwrap();
        let by_message = signer.sign_message(alg, MESSAGE).unwrap();
        let by_digest = signer.sign_digest(alg, &digest).unwrap();
        assert_eq!(by_message, by_digest, "{alg:?}");
        crate::pki::keys::verify_prehashed(&signer.spki, alg, &digest, &by_message, false).unwrap();
    }

    #[test]
    fn rsa_2048_signs_messages_with_ring_as_the_rsa_crate_signs_digests() {
        let signer = load(LEAF_RSA);
        assert!(signer.signs_messages_with_ring());
        for alg in ALL {
            assert_message_is_digest_signature(&signer, alg);
        }
    }

    #[test]
    fn ring_is_not_used_for_sha1() {
        let signer = load(LEAF_RSA);
        let ring = signer.ring.as_ref().unwrap();
        assert_eq!(ring.sign(DigestAlg::Sha1, MESSAGE).unwrap(), None);
        assert_eq!(ring.sign(DigestAlg::Md5, MESSAGE).unwrap(), None);
        assert!(ring.sign(DigestAlg::Sha256, MESSAGE).unwrap().is_some());
    }

    #[test]
    fn rsa_1024_key_falls_back_to_the_rsa_crate() {
        // ring refuses moduli under 2048 bits; the key must sign as it always has.
        let signer = load(WEAK_1024);
        assert_eq!(signer.kind(), KeyKind::Rsa { bits: 1024 });
        assert!(!signer.signs_messages_with_ring());
        for alg in ALL {
            assert_message_is_digest_signature(&signer, alg);
        }
    }

    #[test]
    fn ecdsa_keys_sign_messages_as_digests() {
        let signer = load(LEAF_ECDSA);
        assert!(!signer.signs_messages_with_ring());
        for alg in ALL {
            assert_message_is_digest_signature(&signer, alg);
        }
    }

    #[test]
    fn md5_messages_are_refused() {
        for key in [LEAF_RSA, WEAK_1024, LEAF_ECDSA] {
            let err = load(key).sign_message(DigestAlg::Md5, MESSAGE).unwrap_err();
            assert!(
                matches!(
                    err,
                    SignDigestError::UnsupportedDigest { digest: "md5", .. }
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn key_with_wrong_crt_values_signs_through_the_rsa_crate() {
        // `ring` uses the file's dP as given (and its first signature fails its fault check);
        // the `rsa` crate recomputes dP from p and d. Such a file signs today: it must go on
        // signing, without `ring`.
        let pkcs1 = leaf_pkcs1();
        let key = rsa::pkcs1::RsaPrivateKey::from_der(&pkcs1).unwrap();
        let mut wrong_dp = key.exponent1.as_bytes().to_vec();
        let last = wrong_dp.last_mut().unwrap();
        *last ^= 2; // dP is odd; it stays odd and the same length.
        let broken = rsa::pkcs1::RsaPrivateKey {
            exponent1: rsa::pkcs1::UintRef::new(&wrong_dp).unwrap(),
            ..key
        };
        let der = broken.to_der().unwrap();
        // ring accepts the key: only its first signature shows the fault.
        assert!(ring::signature::RsaKeyPair::from_der(&der).is_ok());
        let signer = load(&der);
        assert!(!signer.signs_messages_with_ring());
        let good = load(LEAF_RSA);
        for alg in ALL {
            assert_message_is_digest_signature(&signer, alg);
            assert_eq!(
                signer.sign_message(alg, MESSAGE).unwrap(),
                good.sign_message(alg, MESSAGE).unwrap(),
                "{alg:?}"
            );
        }
    }

    #[test]
    fn ring_signature_failing_the_fault_check_is_not_returned() {
        // A `RingRsa` whose public key is another RSA-2048 key's: every signature fails the
        // check, and `sign` says so instead of returning it.
        let leaf = load(LEAF_RSA);
        let pkcs1 = leaf_pkcs1();
        let key = rsa::pkcs1::RsaPrivateKey::from_der(&pkcs1).unwrap();
        let LocalKey::Rsa(other) = load(OTHER_RSA).key else {
            panic!("RSA key");
        };
        // The load-time probe, checked with the `rsa` crate, refuses the pair.
        assert!(RingRsa::new(&key, &other.to_public_key()).is_none());
        assert!(leaf.ring.is_some());
        let wrong = RingRsa {
            pair: ring::signature::RsaKeyPair::from_der(&pkcs1).unwrap(),
            public: ring::signature::RsaPublicKeyComponents {
                n: other.n().to_bytes_be(),
                e: other.e().to_bytes_be(),
            },
            rng: ring::rand::SystemRandom::new(),
        };
        let err = wrong.sign(DigestAlg::Sha256, MESSAGE).unwrap_err();
        assert!(
            err.to_string()
                .contains("does not verify with the public key"),
            "{err}"
        );
    }
}
