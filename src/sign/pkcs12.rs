//! PKCS#12 (.pfx/.p12) key files: the private key, its certificate and the rest of the chain,
//! as Windows' certificate export and `openssl pkcs12 -export` write them (RFC 7292).
//!
//! Supported protection, which covers what OpenSSL 1.1/3 and Windows write:
//! - the password-integrity MAC (HMAC-SHA-1/-256/-384/-512, key from the RFC 7292 appendix B KDF),
//!   verified before anything is decrypted, so that a wrong password is reported as such and
//!   never turns into garbage;
//! - PBES2 (PBKDF2 with HMAC-SHA-1/-224/-256/-384/-512, AES-128/192/256-CBC): OpenSSL 3's default;
//! - the legacy PKCS#12 PBEs pbeWithSHAAnd3-KeyTripleDES-CBC, …2-KeyTripleDES-CBC,
//!   …128BitRC2-CBC and …40BitRC2-CBC: Windows and `openssl pkcs12 -legacy`;
//! - unencrypted bags (a plain `data` ContentInfo, keyBag).
//!
//! Not supported (each a typed error): public-key integrity and privacy modes (signedData,
//! envelopedData), RC4, PBMAC1, nested safeContentsBags, BER indefinite lengths.
//!
//! The file is untrusted bytes like every other key file: iteration counts and bag counts are
//! bounded by budgets ([`MAX_PKCS12_ITERATIONS`], [`MAX_PKCS12_WORK`], [`MAX_PKCS12_BAGS`]),
//! checked before the work they allow is done; the file's size is bounded by the caller
//! (`crate::budget::MAX_SMALL_INPUT_SIZE`). The password, derived keys and decrypted key bags are
//! wiped when dropped and never appear in errors.

use std::fmt;

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockCipher, BlockDecryptMut, InnerIvInit, KeyInit};
use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Tag, TagNumber, Tagged};
use digest::core_api::BlockSizeUser;
use digest::{Digest, FixedOutputReset};
use hmac::{Mac, SimpleHmac};
use pkcs8::pkcs5;
use spki::AlgorithmIdentifierRef;
use x509_cert::Certificate;
use zeroize::Zeroizing;

pub use crate::budget::{MAX_PKCS12_BAGS, MAX_PKCS12_ITERATIONS, MAX_PKCS12_WORK};
use crate::sign::key::{self, KeyError, LocalSigner};

// ---------------------------------------------------------------------------------------------
// Object identifiers
// ---------------------------------------------------------------------------------------------

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const ID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");

const KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.1");
const SHROUDED_KEY_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
const CRL_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.4");
const SECRET_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.5");
const SAFE_CONTENTS_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.6");
const X509_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");

const PBE_SHA1_3DES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");
const PBE_SHA1_2DES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.4");
const PBE_SHA1_RC2_128: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.5");
const PBE_SHA1_RC2_40: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.6");
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");

const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// A readable name for a PKCS#12 content type, bag type or algorithm, with the OID.
fn oid_name(oid: &ObjectIdentifier) -> String {
    let name = match oid.to_string().as_str() {
        "1.2.840.113549.1.7.2" => "signedData (public-key integrity mode)",
        "1.2.840.113549.1.7.3" => "envelopedData (public-key privacy mode)",
        "1.2.840.113549.1.12.1.1" => "pbeWithSHAAnd128BitRC4",
        "1.2.840.113549.1.12.1.2" => "pbeWithSHAAnd40BitRC4",
        "1.2.840.113549.1.5.3" => "PBES1 pbeWithMD5AndDES-CBC",
        "1.2.840.113549.1.5.10" => "PBES1 pbeWithSHA1AndDES-CBC",
        "1.2.840.113549.1.5.14" => "PBMAC1",
        "1.2.840.113549.1.12.10.1.6" => "safeContentsBag (nested)",
        "1.2.840.113549.1.9.22.2" => "sdsiCertificate",
        "1.2.840.113549.2.5" => "MD5",
        "2.16.840.1.101.3.4.2.4" => "SHA-224",
        _ => return format!("OID {oid}"),
    };
    format!("{name} ({oid})")
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a PKCS#12 file cannot be used. `origin` is the file (as the user named it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pkcs12Error {
    /// The MAC does not verify with the password, or (in a file without a MAC) a container does
    /// not decrypt with it: the two cannot be told apart.
    WrongPassword {
        origin: String,
        /// Whether a MAC was checked (otherwise: a decryption failed, no MAC in the file).
        mac: bool,
    },
    /// The MAC verified, but a container or the key does not decrypt with the same password:
    /// a file with separate integrity and privacy passwords (`openssl pkcs12 -twopass`), or
    /// damage the MAC cannot see (it covers the AuthenticatedSafe, so this is rare).
    DoesNotDecrypt { origin: String },
    /// The bytes do not decode as a PKCS#12 PFX, or a part of it (`part`) does not.
    Malformed { origin: String, part: String },
    /// Protection bingate does not implement (`what`: the scheme or mode, named).
    Unsupported { origin: String, what: String },
    /// A bag type bingate cannot read and which may hold a key or certificate.
    UnsupportedBag { origin: String, bag: String },
    /// No private key in the file (`certificates`: how many certificates it holds).
    NoKey { origin: String, certificates: usize },
    /// More than one private key.
    SeveralKeys { origin: String, count: usize },
    /// The file asks for more work than a budget allows.
    Budget {
        origin: String,
        what: &'static str,
        value: u64,
        limit: u64,
    },
    /// The `index`-th certificate bag (0-based, in file order) does not hold a certificate.
    BadCertificate {
        origin: String,
        index: usize,
        detail: String,
    },
    /// The key decrypted but is not one bingate signs with (or is inconsistent).
    Key(KeyError),
}

impl fmt::Display for Pkcs12Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkcs12Error::WrongPassword { origin, mac: true } => write!(
                f,
                "{origin}: wrong password or corrupted file (the PKCS#12 integrity MAC does not \
                 verify)"
            ),
            Pkcs12Error::WrongPassword { origin, mac: false } => write!(
                f,
                "{origin}: wrong password or corrupted file (the file has no integrity MAC and \
                 its contents do not decrypt)"
            ),
            Pkcs12Error::DoesNotDecrypt { origin } => write!(
                f,
                "{origin}: the password verifies the PKCS#12 MAC but does not decrypt the \
                 contents (a file with a separate encryption password?)"
            ),
            Pkcs12Error::Malformed { origin, part } => {
                write!(f, "{origin}: malformed PKCS#12 file: {part}")
            }
            Pkcs12Error::Unsupported { origin, what } => write!(
                f,
                "{origin}: the PKCS#12 file uses {what}, which bingate does not read; re-export \
                 it with `openssl pkcs12 -export` (AES-256) or `-legacy`"
            ),
            Pkcs12Error::UnsupportedBag { origin, bag } => {
                write!(
                    f,
                    "{origin}: the PKCS#12 file holds a {bag} bingate cannot read"
                )
            }
            Pkcs12Error::NoKey {
                origin,
                certificates,
            } => write!(
                f,
                "{origin}: the PKCS#12 file holds no private key ({certificates} \
                 certificate(s)); export it with its private key"
            ),
            Pkcs12Error::SeveralKeys { origin, count } => write!(
                f,
                "{origin}: the PKCS#12 file holds {count} private keys; give a file with \
                 exactly one"
            ),
            Pkcs12Error::Budget {
                origin,
                what,
                value,
                limit,
            } => write!(
                f,
                "{origin}: {what} is {value}, over bingate's limit of {limit}"
            ),
            Pkcs12Error::BadCertificate {
                origin,
                index,
                detail,
            } => write!(
                f,
                "{origin}: certificate bag #{} is malformed: {detail}",
                index.saturating_add(1)
            ),
            Pkcs12Error::Key(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Pkcs12Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Pkcs12Error::Key(e) => Some(e),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What a file holds
// ---------------------------------------------------------------------------------------------

/// The contents of a PKCS#12 file.
#[derive(Debug)]
pub struct Pkcs12Contents {
    /// The one private key.
    pub signer: LocalSigner,
    /// The certificate whose public key is the signer's, if the file has one.
    pub cert: Option<Certificate>,
    /// Every other certificate: the issuer chain of `cert` first (issuer, its issuer, …), then
    /// the rest in file order.
    pub chain: Vec<Certificate>,
}

/// A cheap sniff: `SEQUENCE { INTEGER 3, SEQUENCE { OID 1.2.840.113549.1.7.x …` — a PFX (version
/// 3, then the AuthenticatedSafe ContentInfo of type data or signedData). Reads a few dozen bytes;
/// a `true` is not a promise that [`load`] succeeds.
pub fn looks_like_pkcs12(bytes: &[u8]) -> bool {
    let Some(pfx) = first_tlv(bytes, 0x30) else {
        return false;
    };
    let Some(rest) = pfx.strip_prefix(&[0x02, 0x01, 0x03]) else {
        return false;
    };
    let Some(content_info) = first_tlv(rest, 0x30) else {
        return false;
    };
    // OID 1.2.840.113549.1.7 (pkcs-7), then the content type's last arc.
    content_info.starts_with(&[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07])
}

/// The value of the DER element at the start of `bytes` with tag `tag`, cut to what is present
/// (the sniff must work on a file's first bytes, and it only needs the value's beginning).
fn first_tlv(bytes: &[u8], tag: u8) -> Option<&[u8]> {
    let (&first, rest) = bytes.split_first()?;
    if first != tag {
        return None;
    }
    let (&len, rest) = rest.split_first()?;
    let skip = match len {
        0..=0x7f => 0usize,
        0x81..=0x84 => usize::from(len & 0x7f),
        _ => return None,
    };
    rest.get(skip..)
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// Reads a PKCS#12 file protected with `password` (bytes as the user gave them: UTF-8, or
/// Latin-1 for OpenSSL 1.x files with a non-ASCII password; empty for none). `origin` (the
/// path) names the file in errors.
///
/// The MAC, when present, is verified first. Then every container is decrypted and its bags
/// read; exactly one private key must be found (keyBag or pkcs8ShroudedKeyBag), and its
/// certificate is told apart from the chain by its public key.
pub fn load(bytes: &[u8], password: &[u8], origin: &str) -> Result<Pkcs12Contents, Pkcs12Error> {
    let mut cx = Context {
        origin,
        password,
        bmp: None,
        mac_verified: false,
        work: MAX_PKCS12_WORK,
        bags: 0,
    };
    let pfx = pkcs12::pfx::Pfx::from_der(bytes).map_err(|e| cx.malformed("PFX", e))?;
    let auth_safe = &pfx.auth_safe;
    if auth_safe.content_type == ID_SIGNED_DATA {
        return Err(cx.unsupported(oid_name(&ID_SIGNED_DATA)));
    }
    if auth_safe.content_type != ID_DATA {
        return Err(cx.malformed_msg(
            "authSafe",
            format!("content type {}", oid_name(&auth_safe.content_type)),
        ));
    }
    let auth_safe_bytes = auth_safe
        .content
        .decode_as::<OctetStringRef<'_>>()
        .map_err(|e| cx.malformed("authSafe content", e))?;
    let auth_safe_bytes = auth_safe_bytes.as_bytes();

    match &pfx.mac_data {
        Some(mac) => cx.verify_mac(mac, auth_safe_bytes)?,
        None => cx.bmp = bmp_candidates(password).into_iter().next(),
    }

    let contents = Vec::<cms::content_info::ContentInfo>::from_der(auth_safe_bytes)
        .map_err(|e| cx.malformed("AuthenticatedSafe", e))?;
    cx.count_bags(contents.len())?;

    let mut keys: Vec<KeyBag> = Vec::new();
    let mut certs: Vec<Certificate> = Vec::new();
    for content in &contents {
        let safe_contents = cx.open_content(content)?;
        let bags = pkcs12::safe_bag::SafeContents::from_der(&safe_contents)
            .map_err(|e| cx.contents_error("SafeContents", e))?;
        cx.count_bags(bags.len())?;
        for bag in &bags {
            cx.read_bag(bag, &mut keys, &mut certs)?;
        }
    }

    let key = match keys.as_mut_slice() {
        [one] => std::mem::replace(one, KeyBag::Plain(Zeroizing::new(Vec::new()))),
        [] => {
            return Err(Pkcs12Error::NoKey {
                origin: origin.to_owned(),
                certificates: certs.len(),
            });
        }
        many => {
            return Err(Pkcs12Error::SeveralKeys {
                origin: origin.to_owned(),
                count: many.len(),
            });
        }
    };
    let signer = cx.open_key(key)?;
    let (cert, chain) = order_certificates(&signer, certs);
    Ok(Pkcs12Contents {
        signer,
        cert,
        chain,
    })
}

/// A private key bag, still encrypted or not.
enum KeyBag {
    /// keyBag: a PrivateKeyInfo.
    Plain(Zeroizing<Vec<u8>>),
    /// pkcs8ShroudedKeyBag: an EncryptedPrivateKeyInfo.
    Shrouded(Vec<u8>),
}

/// The certificate matching the signer's key (the first, in file order), and the others: the
/// issuers of that certificate first, walking up by name, then the rest in file order.
fn order_certificates(
    signer: &LocalSigner,
    certs: Vec<Certificate>,
) -> (Option<Certificate>, Vec<Certificate>) {
    let mut rest = certs;
    let Some(pos) = rest
        .iter()
        .position(|c| key::check_key_matches(signer, c).is_ok())
    else {
        return (None, rest);
    };
    let cert = rest.remove(pos);
    let mut chain = Vec::with_capacity(rest.len());
    let mut issuer = cert.tbs_certificate.issuer.clone();
    let mut subject = cert.tbs_certificate.subject.clone();
    // Each step moves one certificate from `rest` to `chain`: at most `rest.len()` steps.
    while issuer != subject {
        let Some(next) = rest
            .iter()
            .position(|c| c.tbs_certificate.subject == issuer)
        else {
            break;
        };
        let found = rest.remove(next);
        issuer = found.tbs_certificate.issuer.clone();
        subject = found.tbs_certificate.subject.clone();
        chain.push(found);
    }
    chain.extend(rest);
    (Some(cert), chain)
}

/// The state of one [`load`]: the file's name, the password and the budgets left.
struct Context<'a> {
    origin: &'a str,
    password: &'a [u8],
    /// The password as the PKCS#12 KDF takes it (BMPString with its NUL), once known: the form
    /// that verified the MAC, or the first candidate in a file without one.
    bmp: Option<Zeroizing<Vec<u8>>>,
    mac_verified: bool,
    /// Hash-chain iterations left ([`MAX_PKCS12_WORK`]).
    work: u64,
    /// Bags and ContentInfos read so far ([`MAX_PKCS12_BAGS`]).
    bags: usize,
}

impl Context<'_> {
    fn malformed(&self, part: &str, e: impl fmt::Display) -> Pkcs12Error {
        self.malformed_msg(part, e.to_string())
    }

    fn malformed_msg(&self, part: &str, detail: String) -> Pkcs12Error {
        Pkcs12Error::Malformed {
            origin: self.origin.to_owned(),
            part: format!("{part}: {detail}"),
        }
    }

    fn unsupported(&self, what: String) -> Pkcs12Error {
        Pkcs12Error::Unsupported {
            origin: self.origin.to_owned(),
            what,
        }
    }

    /// A decryption failed (bad padding): without a MAC, the password is wrong; with a
    /// verified one, the contents use another password.
    fn wrong_password(&self) -> Pkcs12Error {
        if self.mac_verified {
            Pkcs12Error::DoesNotDecrypt {
                origin: self.origin.to_owned(),
            }
        } else {
            Pkcs12Error::WrongPassword {
                origin: self.origin.to_owned(),
                mac: false,
            }
        }
    }

    /// Decrypted bytes that do not decode: with a verified MAC the file is malformed; without
    /// one, the likeliest cause is a wrong password whose CBC padding happened to check out.
    fn contents_error(&self, part: &str, e: impl fmt::Display) -> Pkcs12Error {
        if self.mac_verified {
            self.malformed(part, e)
        } else {
            Pkcs12Error::WrongPassword {
                origin: self.origin.to_owned(),
                mac: false,
            }
        }
    }

    fn count_bags(&mut self, n: usize) -> Result<(), Pkcs12Error> {
        let total = self.bags.saturating_add(n);
        if total > MAX_PKCS12_BAGS {
            return Err(Pkcs12Error::Budget {
                origin: self.origin.to_owned(),
                what: "the number of PKCS#12 bags and containers",
                value: u64::try_from(total).unwrap_or(u64::MAX),
                limit: u64::try_from(MAX_PKCS12_BAGS).unwrap_or(u64::MAX),
            });
        }
        self.bags = total;
        Ok(())
    }

    /// Checks an iteration count against [`MAX_PKCS12_ITERATIONS`] and takes
    /// `iterations × chains` from the file's [`MAX_PKCS12_WORK`], before any is run.
    fn spend(&mut self, iterations: u64, chains: u64) -> Result<u32, Pkcs12Error> {
        let limit = u64::from(MAX_PKCS12_ITERATIONS);
        if iterations > limit {
            return Err(Pkcs12Error::Budget {
                origin: self.origin.to_owned(),
                what: "the PKCS#12 iteration count",
                value: iterations,
                limit,
            });
        }
        let iterations32 = u32::try_from(iterations).unwrap_or(u32::MAX);
        if iterations32 == 0 {
            return Err(self.malformed_msg("iteration count", "0".to_owned()));
        }
        let cost = iterations.saturating_mul(chains);
        let spent = MAX_PKCS12_WORK.saturating_sub(self.work);
        self.work = self
            .work
            .checked_sub(cost)
            .ok_or_else(|| Pkcs12Error::Budget {
                origin: self.origin.to_owned(),
                what: "the PKCS#12 iterations of the whole file",
                value: spent.saturating_add(cost),
                limit: MAX_PKCS12_WORK,
            })?;
        Ok(iterations32)
    }

    // --- MAC ---------------------------------------------------------------------------------

    fn verify_mac(
        &mut self,
        mac: &pkcs12::mac_data::MacData,
        data: &[u8],
    ) -> Result<(), Pkcs12Error> {
        let oid = mac.mac.algorithm.oid;
        let iterations = u64::try_from(mac.iterations)
            .map_err(|_| self.malformed_msg("MAC iterations", mac.iterations.to_string()))?;
        let expected = mac.mac.digest.as_bytes();
        let salt = mac.mac_salt.as_bytes();
        for candidate in bmp_candidates(self.password) {
            let ok = match oid {
                SHA1 => self.mac_with::<sha1::Sha1>(&candidate, salt, iterations, data, expected),
                SHA256 => {
                    self.mac_with::<sha2::Sha256>(&candidate, salt, iterations, data, expected)
                }
                SHA384 => {
                    self.mac_with::<sha2::Sha384>(&candidate, salt, iterations, data, expected)
                }
                SHA512 => {
                    self.mac_with::<sha2::Sha512>(&candidate, salt, iterations, data, expected)
                }
                other => return Err(self.unsupported(format!("a MAC with {}", oid_name(&other)))),
            }?;
            if ok {
                self.bmp = Some(candidate);
                self.mac_verified = true;
                return Ok(());
            }
        }
        Err(Pkcs12Error::WrongPassword {
            origin: self.origin.to_owned(),
            mac: true,
        })
    }

    fn mac_with<D>(
        &mut self,
        password: &[u8],
        salt: &[u8],
        iterations: u64,
        data: &[u8],
        expected: &[u8],
    ) -> Result<bool, Pkcs12Error>
    where
        D: Digest + FixedOutputReset + BlockSizeUser,
    {
        let len = <D as Digest>::output_size();
        if expected.len() != len {
            return Err(self.malformed_msg(
                "MAC",
                format!("{} bytes for a {len}-byte digest", expected.len()),
            ));
        }
        let rounds = self.spend(iterations, 1)?;
        let key = kdf::<D>(password, salt, pkcs12::kdf::Pkcs12KeyType::Mac, rounds, len);
        let mut hmac = <SimpleHmac<D> as Mac>::new_from_slice(&key)
            .map_err(|e| self.malformed("MAC key", e))?;
        hmac.update(data);
        // Constant-time comparison.
        Ok(hmac.verify_slice(expected).is_ok())
    }

    // --- Containers --------------------------------------------------------------------------

    /// The SafeContents bytes of one AuthenticatedSafe ContentInfo, decrypted if need be.
    fn open_content(
        &mut self,
        content: &cms::content_info::ContentInfo,
    ) -> Result<Zeroizing<Vec<u8>>, Pkcs12Error> {
        match content.content_type {
            ID_DATA => {
                let data = content
                    .content
                    .decode_as::<OctetStringRef<'_>>()
                    .map_err(|e| self.malformed("data ContentInfo", e))?;
                Ok(Zeroizing::new(data.as_bytes().to_vec()))
            }
            ID_ENCRYPTED_DATA => {
                let enc = content
                    .content
                    .decode_as::<cms::encrypted_data::EncryptedData>()
                    .map_err(|e| self.malformed("encryptedData ContentInfo", e))?;
                let info = &enc.enc_content_info;
                let Some(ciphertext) = &info.encrypted_content else {
                    return Err(self.malformed_msg(
                        "encryptedData ContentInfo",
                        "no encrypted content".to_owned(),
                    ));
                };
                let alg = AlgorithmIdentifierRef {
                    oid: info.content_enc_alg.oid,
                    parameters: info.content_enc_alg.parameters.as_ref().map(AnyRef::from),
                };
                self.decrypt(&alg, ciphertext.as_bytes())
            }
            ID_ENVELOPED_DATA => Err(self.unsupported(oid_name(&ID_ENVELOPED_DATA))),
            other => Err(self.malformed_msg(
                "AuthenticatedSafe",
                format!("content type {}", oid_name(&other)),
            )),
        }
    }

    // --- Bags --------------------------------------------------------------------------------

    fn read_bag(
        &self,
        bag: &pkcs12::safe_bag::SafeBag,
        keys: &mut Vec<KeyBag>,
        certs: &mut Vec<Certificate>,
    ) -> Result<(), Pkcs12Error> {
        // `bag_value` is the whole `[0] EXPLICIT` element.
        let outer =
            AnyRef::from_der(&bag.bag_value).map_err(|e| self.contents_error("SafeBag", e))?;
        if outer.tag()
            != (Tag::ContextSpecific {
                constructed: true,
                number: TagNumber::N0,
            })
        {
            return Err(self.contents_error("SafeBag", "bagValue is not [0]"));
        }
        let value = outer.value();
        match bag.bag_id {
            KEY_BAG => keys.push(KeyBag::Plain(Zeroizing::new(value.to_vec()))),
            SHROUDED_KEY_BAG => keys.push(KeyBag::Shrouded(value.to_vec())),
            CERT_BAG => {
                let index = certs.len();
                let bad = |detail: String| Pkcs12Error::BadCertificate {
                    origin: self.origin.to_owned(),
                    index,
                    detail,
                };
                let cert_bag = pkcs12::cert_type::CertBag::from_der(value)
                    .map_err(|e| bad(format!("CertBag: {e}")))?;
                if cert_bag.cert_id != X509_CERTIFICATE {
                    return Err(Pkcs12Error::UnsupportedBag {
                        origin: self.origin.to_owned(),
                        bag: format!("certificate of type {}", oid_name(&cert_bag.cert_id)),
                    });
                }
                let cert = Certificate::from_der(cert_bag.cert_value.as_bytes())
                    .map_err(|e| bad(format!("X.509 certificate: {e}")))?;
                certs.push(cert);
            }
            // Neither signs nor is part of the chain bingate sends.
            CRL_BAG | SECRET_BAG => {}
            SAFE_CONTENTS_BAG => {
                return Err(Pkcs12Error::UnsupportedBag {
                    origin: self.origin.to_owned(),
                    bag: oid_name(&SAFE_CONTENTS_BAG),
                });
            }
            other => {
                return Err(Pkcs12Error::UnsupportedBag {
                    origin: self.origin.to_owned(),
                    bag: format!("bag of type {}", oid_name(&other)),
                });
            }
        }
        Ok(())
    }

    /// The signer of the one key bag: decrypted if shrouded, then read by
    /// [`key::load_private_key`] as an unencrypted PKCS#8 PrivateKeyInfo.
    fn open_key(&mut self, bag: KeyBag) -> Result<LocalSigner, Pkcs12Error> {
        let plain = match bag {
            KeyBag::Plain(der) => der,
            KeyBag::Shrouded(der) => {
                // Generic AlgorithmIdentifier: `pkcs8`'s type knows only PBES1/PBES2 OIDs.
                let info = ::pkcs12::pbe_params::EncryptedPrivateKeyInfo::from_der(&der)
                    .map_err(|e| self.contents_error("pkcs8ShroudedKeyBag", e))?;
                let alg = AlgorithmIdentifierRef {
                    oid: info.encryption_algorithm.oid,
                    parameters: info
                        .encryption_algorithm
                        .parameters
                        .as_ref()
                        .map(AnyRef::from),
                };
                self.decrypt(&alg, info.encrypted_data.as_bytes())?
            }
        };
        // What decrypted must be a PrivateKeyInfo: otherwise a wrong password (no MAC) or damage.
        if let Err(e) = pkcs8::PrivateKeyInfo::from_der(&plain) {
            return Err(self.contents_error("decrypted private key", e));
        }
        key::load_private_key(&plain, None, self.origin).map_err(Pkcs12Error::Key)
    }

    // --- Decryption --------------------------------------------------------------------------

    fn decrypt(
        &mut self,
        alg: &AlgorithmIdentifierRef<'_>,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Pkcs12Error> {
        match alg.oid {
            PBES2 => self.decrypt_pbes2(alg, ciphertext),
            PBE_SHA1_3DES => self.decrypt_legacy(alg, ciphertext, Legacy::Tdes3),
            PBE_SHA1_2DES => self.decrypt_legacy(alg, ciphertext, Legacy::Tdes2),
            PBE_SHA1_RC2_128 => self.decrypt_legacy(alg, ciphertext, Legacy::Rc2_128),
            PBE_SHA1_RC2_40 => self.decrypt_legacy(alg, ciphertext, Legacy::Rc2_40),
            other => Err(self.unsupported(oid_name(&other))),
        }
    }

    fn decrypt_legacy(
        &mut self,
        alg: &AlgorithmIdentifierRef<'_>,
        ciphertext: &[u8],
        scheme: Legacy,
    ) -> Result<Zeroizing<Vec<u8>>, Pkcs12Error> {
        let params = alg
            .parameters
            .ok_or_else(|| self.malformed_msg("PKCS#12 PBE", "no parameters".to_owned()))?
            .decode_as::<pkcs12::pbe_params::Pkcs12PbeParams>()
            .map_err(|e| self.malformed("PKCS#12 PBE parameters", e))?;
        let iterations = u64::try_from(params.iterations)
            .map_err(|_| self.malformed_msg("PBE iterations", params.iterations.to_string()))?;
        check_blocks(ciphertext, 8).map_err(|d| self.malformed_msg("encrypted data", d))?;
        let key_len = scheme.key_len();
        // SHA-1 gives 20 bytes a chain: the key takes ⌈key_len/20⌉ chains, the IV one.
        let chains = u64::try_from(key_len.div_ceil(20))
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let rounds = self.spend(iterations, chains)?;
        let password = self
            .bmp
            .clone()
            .unwrap_or_else(|| Zeroizing::new(Vec::new()));
        let salt = params.salt.as_bytes();
        use pkcs12::kdf::Pkcs12KeyType;
        let key = kdf::<sha1::Sha1>(
            &password,
            salt,
            Pkcs12KeyType::EncryptionKey,
            rounds,
            key_len,
        );
        let iv = kdf::<sha1::Sha1>(&password, salt, Pkcs12KeyType::Iv, rounds, 8);
        let result = match scheme {
            Legacy::Tdes3 => des::TdesEde3::new_from_slice(&key)
                .map_err(|_| ())
                .and_then(|c| cbc_decrypt(c, &iv, ciphertext)),
            Legacy::Tdes2 => des::TdesEde2::new_from_slice(&key)
                .map_err(|_| ())
                .and_then(|c| cbc_decrypt(c, &iv, ciphertext)),
            Legacy::Rc2_128 => {
                cbc_decrypt(rc2::Rc2::new_with_eff_key_len(&key, 128), &iv, ciphertext)
            }
            Legacy::Rc2_40 => {
                cbc_decrypt(rc2::Rc2::new_with_eff_key_len(&key, 40), &iv, ciphertext)
            }
        };
        result.map_err(|()| self.wrong_password())
    }

    fn decrypt_pbes2(
        &mut self,
        alg: &AlgorithmIdentifierRef<'_>,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Pkcs12Error> {
        let params = alg
            .parameters
            .ok_or_else(|| self.malformed_msg("PBES2", "no parameters".to_owned()))
            .and_then(|p| {
                pkcs5::pbes2::Parameters::try_from(p)
                    .map_err(|_| self.unsupported(describe_pbes2(p)))
            })?;
        let Some(kdf) = params.kdf.pbkdf2() else {
            return Err(self.unsupported(describe_pbes2_params(&params)));
        };
        use pkcs5::pbes2::EncryptionScheme as E;
        let (key_len, iv): (usize, &[u8]) = match &params.encryption {
            E::Aes128Cbc { iv } => (16, iv.as_slice()),
            E::Aes192Cbc { iv } => (24, iv.as_slice()),
            E::Aes256Cbc { iv } => (32, iv.as_slice()),
            _ => return Err(self.unsupported(describe_pbes2_params(&params))),
        };
        if let Some(declared) = kdf.key_length {
            if usize::from(declared) != key_len {
                return Err(self.malformed_msg(
                    "PBKDF2 parameters",
                    format!("key length {declared} for a {key_len}-byte AES key"),
                ));
            }
        }
        check_blocks(ciphertext, 16).map_err(|d| self.malformed_msg("encrypted data", d))?;
        use pkcs5::pbes2::Pbkdf2Prf as Prf;
        let digest_len: usize = match kdf.prf {
            Prf::HmacWithSha1 => 20,
            Prf::HmacWithSha224 => 28,
            Prf::HmacWithSha256 => 32,
            Prf::HmacWithSha384 => 48,
            Prf::HmacWithSha512 => 64,
            _ => return Err(self.unsupported(describe_pbes2_params(&params))),
        };
        let chains = u64::try_from(key_len.div_ceil(digest_len)).unwrap_or(u64::MAX);
        let rounds = self.spend(u64::from(kdf.iteration_count), chains)?;
        // PBES2 takes the password as bytes (OpenSSL passes the UTF-8 it was given).
        let mut key = Zeroizing::new(vec![0u8; key_len]);
        let (pw, salt) = (self.password, kdf.salt);
        match kdf.prf {
            Prf::HmacWithSha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pw, salt, rounds, &mut key),
            Prf::HmacWithSha224 => pbkdf2::pbkdf2_hmac::<sha2::Sha224>(pw, salt, rounds, &mut key),
            Prf::HmacWithSha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw, salt, rounds, &mut key),
            Prf::HmacWithSha384 => pbkdf2::pbkdf2_hmac::<sha2::Sha384>(pw, salt, rounds, &mut key),
            Prf::HmacWithSha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(pw, salt, rounds, &mut key),
            _ => return Err(self.unsupported(describe_pbes2_params(&params))),
        }
        let result = match key_len {
            16 => aes::Aes128::new_from_slice(&key)
                .map_err(|_| ())
                .and_then(|c| cbc_decrypt(c, iv, ciphertext)),
            24 => aes::Aes192::new_from_slice(&key)
                .map_err(|_| ())
                .and_then(|c| cbc_decrypt(c, iv, ciphertext)),
            _ => aes::Aes256::new_from_slice(&key)
                .map_err(|_| ())
                .and_then(|c| cbc_decrypt(c, iv, ciphertext)),
        };
        result.map_err(|()| self.wrong_password())
    }
}

/// The legacy PKCS#12 password-based encryption schemes (RFC 7292 appendix C).
#[derive(Clone, Copy)]
enum Legacy {
    Tdes3,
    Tdes2,
    Rc2_128,
    Rc2_40,
}

impl Legacy {
    fn key_len(self) -> usize {
        match self {
            Legacy::Tdes3 => 24,
            Legacy::Tdes2 | Legacy::Rc2_128 => 16,
            Legacy::Rc2_40 => 5,
        }
    }
}

/// CBC ciphertext is whole blocks, and at least one: anything else is damage, not a wrong
/// password.
fn check_blocks(ciphertext: &[u8], block: usize) -> Result<(), String> {
    let len = ciphertext.len();
    if len == 0 || len.checked_rem(block) != Some(0) {
        return Err(format!(
            "{len} bytes of CBC ciphertext (not whole {block}-byte blocks)"
        ));
    }
    Ok(())
}

/// CBC decryption with PKCS#7 padding; `Err(())` when the padding does not check out (the
/// usual sign of a wrong key) or the IV has the wrong length.
fn cbc_decrypt<C>(cipher: C, iv: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, ()>
where
    C: BlockDecryptMut + BlockCipher,
{
    let decryptor = cbc::Decryptor::<C>::inner_iv_slice_init(cipher, iv).map_err(|_| ())?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let len = decryptor
        .decrypt_padded_mut::<Pkcs7>(&mut buf)
        .map_err(|_| ())?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// The RFC 7292 appendix B KDF, output wiped on drop. `password` is the BMPString with its NUL.
fn kdf<D>(
    password: &[u8],
    salt: &[u8],
    id: pkcs12::kdf::Pkcs12KeyType,
    rounds: u32,
    len: usize,
) -> Zeroizing<Vec<u8>>
where
    D: Digest + FixedOutputReset + BlockSizeUser,
{
    // `rounds` is at most MAX_PKCS12_ITERATIONS, well inside i32.
    let rounds = i32::try_from(rounds).unwrap_or(i32::MAX);
    Zeroizing::new(pkcs12::kdf::derive_key::<D>(
        password, salt, id, rounds, len,
    ))
}

/// The password as the PKCS#12 KDF takes it (RFC 7292 appendix B.1: a BMPString, big-endian
/// UTF-16, with a two-byte NUL terminator), in the forms tried in turn against the MAC:
/// - UTF-8 passwords as UTF-16 (OpenSSL 3's `OPENSSL_utf82uni`, Windows);
/// - non-ASCII or non-UTF-8 bytes also as Latin-1, one byte a character (OpenSSL 1.x's
///   `OPENSSL_asc2uni`);
/// - the empty password also as no bytes at all (OpenSSL's NULL password, which some tools write
///   for "no password").
fn bmp_candidates(password: &[u8]) -> Vec<Zeroizing<Vec<u8>>> {
    let mut out = Vec::with_capacity(2);
    let utf8 = std::str::from_utf8(password).ok();
    if let Some(s) = utf8 {
        let mut v = Zeroizing::new(Vec::with_capacity(password.len().saturating_mul(2)));
        for unit in s.encode_utf16() {
            v.extend_from_slice(&unit.to_be_bytes());
        }
        v.extend_from_slice(&[0, 0]);
        out.push(v);
    }
    if utf8.is_none() || !password.is_ascii() {
        let mut v = Zeroizing::new(Vec::with_capacity(password.len().saturating_mul(2)));
        for &b in password {
            v.extend_from_slice(&[0, b]);
        }
        v.extend_from_slice(&[0, 0]);
        out.push(v);
    }
    if password.is_empty() {
        out.push(Zeroizing::new(Vec::new()));
    }
    out
}

/// PBES2 parameters named as well as the bytes allow, for schemes bingate cannot decrypt.
fn describe_pbes2(params: AnyRef<'_>) -> String {
    match params.decode_as::<Vec<AlgorithmIdentifierRef<'_>>>() {
        Ok(parts) => {
            let names: Vec<String> = parts.iter().map(|a| a.oid.to_string()).collect();
            format!("PBES2 ({})", names.join(", "))
        }
        Err(_) => "PBES2 with unreadable parameters".to_owned(),
    }
}

fn describe_pbes2_params(params: &pkcs5::pbes2::Parameters<'_>) -> String {
    format!(
        "PBES2 (KDF {}, cipher {})",
        params.kdf.oid(),
        params.encryption.oid()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::cms::{KeyKind, Signer};

    const RSA_AES256: &[u8] = include_bytes!("../../corpus/pki/p12/rsa-aes256.p12");
    const RSA_LEGACY: &[u8] = include_bytes!("../../corpus/pki/p12/rsa-legacy.p12");
    const RSA_WINDOWS: &[u8] = include_bytes!("../../corpus/pki/p12/rsa-windows.p12");
    const RSA_RC2_128: &[u8] = include_bytes!("../../corpus/pki/p12/rsa-rc2-128.p12");
    const RSA_CHAIN: &[u8] = include_bytes!("../../corpus/pki/p12/rsa-chain.p12");
    const RSA_NOMAC: &[u8] = include_bytes!("../../corpus/pki/p12/rsa-nomac.p12");
    const RSA_EMPTY: &[u8] = include_bytes!("../../corpus/pki/p12/rsa-empty-password.p12");
    const RSA_OVER: &[u8] = include_bytes!("../../corpus/pki/p12/rsa-over-budget.p12");
    const ECDSA_P256: &[u8] = include_bytes!("../../corpus/pki/p12/ecdsa-p256.p12");
    const ECDSA_P384: &[u8] = include_bytes!("../../corpus/pki/p12/ecdsa-p384-legacy.p12");
    const CERT_ONLY: &[u8] = include_bytes!("../../corpus/pki/p12/cert-only.p12");
    const PBES2_SHA1_P8: &[u8] = include_bytes!("../../corpus/pki/p12/rsa-pbes2-sha1.p8");
    const LEAF_RSA_KEY: &[u8] = include_bytes!("../../corpus/pki/leaf-rsa.key");

    fn cn(cert: &Certificate) -> String {
        cert.tbs_certificate.subject.to_string()
    }

    #[test]
    fn every_protection_scheme_loads_key_and_certificate() {
        let cases: [(&str, &[u8], KeyKind); 7] = [
            ("aes256", RSA_AES256, KeyKind::Rsa { bits: 2048 }),
            ("legacy", RSA_LEGACY, KeyKind::Rsa { bits: 2048 }),
            ("windows", RSA_WINDOWS, KeyKind::Rsa { bits: 2048 }),
            ("rc2-128", RSA_RC2_128, KeyKind::Rsa { bits: 2048 }),
            ("nomac", RSA_NOMAC, KeyKind::Rsa { bits: 2048 }),
            ("p256", ECDSA_P256, KeyKind::EcdsaP256),
            ("p384", ECDSA_P384, KeyKind::EcdsaP384),
        ];
        for (name, bytes, kind) in cases {
            let got = load(bytes, b"test", name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got.signer.kind(), kind, "{name}");
            let cert = got.cert.expect(name);
            key::check_key_matches(&got.signer, &cert).unwrap();
            assert!(got.chain.is_empty(), "{name}");
        }
    }

    #[test]
    fn the_key_is_the_pem_key() {
        let pem = key::load_private_key(LEAF_RSA_KEY, None, "leaf-rsa.key").unwrap();
        let p12 = load(RSA_LEGACY, b"test", "legacy").unwrap();
        assert_eq!(pem.public_key(), p12.signer.public_key());
    }

    #[test]
    fn chain_comes_issuer_first() {
        // make.sh puts root before intermediate in the file.
        let got = load(RSA_CHAIN, b"test", "chain").unwrap();
        let cert = got.cert.unwrap();
        assert_eq!(got.chain.len(), 2);
        assert_eq!(
            got.chain[0].tbs_certificate.subject,
            cert.tbs_certificate.issuer
        );
        assert_eq!(
            got.chain[1].tbs_certificate.subject,
            got.chain[0].tbs_certificate.issuer
        );
        assert!(
            cn(&got.chain[1]).contains("root CA"),
            "{}",
            cn(&got.chain[1])
        );
    }

    #[test]
    fn wrong_password_is_reported_as_such() {
        for (name, bytes) in [("aes256", RSA_AES256), ("legacy", RSA_LEGACY)] {
            let err = load(bytes, b"nope", name).unwrap_err();
            assert_eq!(
                err,
                Pkcs12Error::WrongPassword {
                    origin: name.to_owned(),
                    mac: true
                }
            );
            assert!(err.to_string().contains("wrong password or corrupted file"));
        }
        let err = load(RSA_NOMAC, b"nope", "nomac").unwrap_err();
        assert_eq!(
            err,
            Pkcs12Error::WrongPassword {
                origin: "nomac".to_owned(),
                mac: false
            }
        );
    }

    #[test]
    fn empty_password() {
        let got = load(RSA_EMPTY, b"", "empty").unwrap();
        assert!(got.cert.is_some());
        assert!(matches!(
            load(RSA_EMPTY, b"test", "empty"),
            Err(Pkcs12Error::WrongPassword { mac: true, .. })
        ));
    }

    #[test]
    fn no_key_is_an_error_that_says_so() {
        let err = load(CERT_ONLY, b"test", "certs").unwrap_err();
        assert_eq!(
            err,
            Pkcs12Error::NoKey {
                origin: "certs".to_owned(),
                certificates: 1
            }
        );
        assert!(err.to_string().contains("no private key"));
    }

    #[test]
    fn iterations_over_budget_are_refused_before_any_work() {
        let start = std::time::Instant::now();
        let err = load(RSA_OVER, b"test", "big").unwrap_err();
        assert_eq!(
            err,
            Pkcs12Error::Budget {
                origin: "big".to_owned(),
                what: "the PKCS#12 iteration count",
                value: 10_000_001,
                limit: u64::from(MAX_PKCS12_ITERATIONS),
            }
        );
        // Refused from the parameters: no derivation ran (10M iterations take seconds).
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn work_budget_is_consumed_across_derivations() {
        let mut cx = Context {
            origin: "x",
            password: b"",
            bmp: None,
            mac_verified: false,
            work: MAX_PKCS12_WORK,
            bags: 0,
        };
        for _ in 0..4 {
            cx.spend(u64::from(MAX_PKCS12_ITERATIONS), 1).unwrap();
        }
        assert!(matches!(
            cx.spend(1, 1),
            Err(Pkcs12Error::Budget {
                what: "the PKCS#12 iterations of the whole file",
                ..
            })
        ));
        assert!(cx.spend(0, 1).is_err());
    }

    #[test]
    fn pbes2_with_hmac_sha1_prf_decrypts() {
        // OpenSSL 1.1's `pkcs12 -keypbe AES-128-CBC` key bags: PBKDF2's default PRF.
        let info = ::pkcs12::pbe_params::EncryptedPrivateKeyInfo::from_der(PBES2_SHA1_P8).unwrap();
        let mut cx = Context {
            origin: "p8",
            password: b"test",
            bmp: None,
            mac_verified: true,
            work: MAX_PKCS12_WORK,
            bags: 0,
        };
        let alg = AlgorithmIdentifierRef {
            oid: info.encryption_algorithm.oid,
            parameters: info
                .encryption_algorithm
                .parameters
                .as_ref()
                .map(AnyRef::from),
        };
        let plain = cx.decrypt(&alg, info.encrypted_data.as_bytes()).unwrap();
        let signer = key::load_private_key(&plain, None, "p8").unwrap();
        let pem = key::load_private_key(LEAF_RSA_KEY, None, "pem").unwrap();
        assert_eq!(signer.public_key(), pem.public_key());
        cx.password = b"nope";
        assert!(matches!(
            cx.decrypt(&alg, info.encrypted_data.as_bytes()),
            Err(Pkcs12Error::DoesNotDecrypt { .. })
        ));
        cx.mac_verified = false;
        assert!(matches!(
            cx.decrypt(&alg, info.encrypted_data.as_bytes()),
            Err(Pkcs12Error::WrongPassword { mac: false, .. })
        ));
    }

    #[test]
    fn sniff() {
        for bytes in [RSA_AES256, RSA_LEGACY, RSA_NOMAC, ECDSA_P256, CERT_ONLY] {
            assert!(looks_like_pkcs12(bytes));
            assert!(looks_like_pkcs12(&bytes[..24]));
        }
        assert!(!looks_like_pkcs12(LEAF_RSA_KEY));
        assert!(!looks_like_pkcs12(PBES2_SHA1_P8));
        assert!(!looks_like_pkcs12(b""));
        assert!(!looks_like_pkcs12(&[0x30]));
        assert!(!looks_like_pkcs12(&[0x30, 0x80, 0x02, 0x01, 0x03]));
    }

    #[test]
    fn password_encodings() {
        let c = bmp_candidates(b"ab");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].as_slice(), &[0, b'a', 0, b'b', 0, 0]);
        // "é" (U+00E9): UTF-16 and Latin-1 of its UTF-8 bytes.
        let c = bmp_candidates("é".as_bytes());
        assert_eq!(c[0].as_slice(), &[0, 0xe9, 0, 0]);
        assert_eq!(c[1].as_slice(), &[0, 0xc3, 0, 0xa9, 0, 0]);
        // U+1F600 as a surrogate pair.
        let c = bmp_candidates("😀".as_bytes());
        assert_eq!(c[0].as_slice(), &[0xd8, 0x3d, 0xde, 0x00, 0, 0]);
        let c = bmp_candidates(b"");
        assert_eq!(c[0].as_slice(), &[0, 0]);
        assert!(c[1].is_empty());
        let c = bmp_candidates(&[0xff]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].as_slice(), &[0, 0xff, 0, 0]);
    }

    #[test]
    fn errors_never_show_the_password() {
        let secret = b"hunter2-secret";
        for bytes in [RSA_AES256, RSA_NOMAC, RSA_LEGACY] {
            let err = load(bytes, secret, "f").unwrap_err();
            assert!(!err.to_string().contains("hunter2"));
            assert!(!format!("{err:?}").contains("hunter2"));
        }
        let got = load(RSA_AES256, b"test", "f").unwrap();
        assert!(!format!("{got:?}").contains("test\""));
    }
}
