//! CMS SignedData (RFC 5652) built for bingate's two ELF formats.
//!
//! - [`module_signature`]: the kernel's appended-signature payload, exactly as `sign-file`
//!   (OpenSSL `CMS_sign` with NOCERTS|BINARY|DETACHED|NOATTR) writes it: version 1, the digest
//!   algorithm without parameters, id-data without content, no certificates, one SignerInfo by
//!   issuerAndSerialNumber without signed attributes, `rsaEncryption` (NULL parameters) or
//!   `ecdsa-with-SHA*` as the signature algorithm. With RSA the bytes are deterministic, so they
//!   can be compared with sign-file's byte for byte.
//! - [`attached_signature`]: the `.bingate.sig` payload: the manifest as id-data content, signed
//!   attributes (content type, message digest, signing time), the signer's certificate and chain,
//!   and optionally an RFC 3161 token over the signature value as the unsigned attribute
//!   id-aa-timeStampToken.
//!
//! Everything that signs goes through [`Signer`]; nothing here knows where the key lives.

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

use super::signing::{KeyKind, SignDigestError, Signer};
use crate::hash::DigestAlg;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub(crate) const ID_SIGNED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const CONTENT_TYPE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub(crate) const MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// id-aa-timeStampToken (RFC 3161 appendix A).
pub const TIMESTAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Why a CMS structure could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum CmsError {
    /// The signer refused or failed.
    Sign(SignDigestError),
    /// The digest algorithm cannot be used for signing (MD5).
    Digest(&'static str),
    /// DER encoding failed (a certificate that does not re-encode, a time out of range).
    Encode(String),
    /// The timestamp authority failed.
    Timestamp(String),
}

impl std::fmt::Display for CmsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CmsError::Sign(e) => write!(f, "signing failed: {e}"),
            CmsError::Digest(d) => write!(f, "{d} cannot be used for signing"),
            CmsError::Encode(e) => write!(f, "CMS encoding failed: {e}"),
            CmsError::Timestamp(e) => write!(f, "timestamp failed: {e}"),
        }
    }
}

impl std::error::Error for CmsError {}

pub(crate) fn enc(e: der::Error) -> CmsError {
    CmsError::Encode(e.to_string())
}

pub fn digest_oid(alg: DigestAlg) -> Result<ObjectIdentifier, CmsError> {
    Ok(ObjectIdentifier::new_unwrap(match alg {
        DigestAlg::Sha1 => "1.3.14.3.2.26",
        DigestAlg::Sha256 => "2.16.840.1.101.3.4.2.1",
        DigestAlg::Sha384 => "2.16.840.1.101.3.4.2.2",
        DigestAlg::Sha512 => "2.16.840.1.101.3.4.2.3",
        DigestAlg::Md5 => return Err(CmsError::Digest("md5")),
    }))
}

/// The digest AlgorithmIdentifier as OpenSSL writes it in CMS: parameters absent.
fn digest_algorithm(alg: DigestAlg) -> Result<AlgorithmIdentifierOwned, CmsError> {
    Ok(AlgorithmIdentifierOwned {
        oid: digest_oid(alg)?,
        parameters: None,
    })
}

/// The SignerInfo signatureAlgorithm as OpenSSL writes it: `rsaEncryption` with NULL
/// parameters for RSA PKCS#1 v1.5, `ecdsa-with-SHA*` without parameters for ECDSA.
pub(crate) fn signature_algorithm(
    kind: KeyKind,
    alg: DigestAlg,
) -> Result<AlgorithmIdentifierOwned, CmsError> {
    Ok(match kind {
        KeyKind::Rsa { .. } => AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        KeyKind::EcdsaP256 | KeyKind::EcdsaP384 => AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap(match alg {
                DigestAlg::Sha1 => "1.2.840.10045.4.1",
                DigestAlg::Sha256 => "1.2.840.10045.4.3.2",
                DigestAlg::Sha384 => "1.2.840.10045.4.3.3",
                DigestAlg::Sha512 => "1.2.840.10045.4.3.4",
                DigestAlg::Md5 => return Err(CmsError::Digest("md5")),
            }),
            parameters: None,
        },
    })
}

pub(crate) fn issuer_and_serial(cert: &Certificate) -> SignerIdentifier {
    SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: cert.tbs_certificate.issuer.clone(),
        serial_number: cert.tbs_certificate.serial_number.clone(),
    })
}

/// `sd` as a ContentInfo, DER.
pub(crate) fn wrap(sd: &SignedData) -> Result<Vec<u8>, CmsError> {
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(sd).map_err(enc)?,
    }
    .to_der()
    .map_err(enc)
}

fn hash(alg: DigestAlg, data: &[u8]) -> Result<Vec<u8>, CmsError> {
    crate::hash::digest(alg, data).ok_or(CmsError::Digest("md5"))
}

/// The kernel module signature payload for a file whose digest (with `alg`) is `digest`.
pub fn module_signature(
    signer: &dyn Signer,
    cert: &Certificate,
    alg: DigestAlg,
    digest: &[u8],
) -> Result<Vec<u8>, CmsError> {
    let signature = signer.sign_digest(alg, digest).map_err(CmsError::Sign)?;
    let si = SignerInfo {
        version: CmsVersion::V1,
        sid: issuer_and_serial(cert),
        digest_alg: digest_algorithm(alg)?,
        signed_attrs: None,
        signature_algorithm: signature_algorithm(signer.kind(), alg)?,
        signature: OctetString::new(signature).map_err(enc)?,
        unsigned_attrs: None,
    };
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![digest_algorithm(alg)?]).map_err(enc)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: None,
        crls: None,
        signer_infos: cms::signed_data::SignerInfos(SetOfVec::try_from(vec![si]).map_err(enc)?),
    };
    wrap(&sd)
}

/// Asks a timestamp authority for a token over the signature value; returns the DER
/// ContentInfo of the TimeStampToken.
pub type Timestamper<'a> = &'a (dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Sync);

pub(crate) fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, CmsError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(enc)?,
    })
}

/// `signer`'s signature over `signed_attrs`: the digest with `alg` of their DER SET OF (RFC 5652
/// §5.4), signed. The DER goes to [`Signer::sign_message`], which hashes it (or lets a backend
/// that hashes inside its signing call do so): the same signature as signing the digest.
pub(crate) fn sign_attributes(
    signer: &dyn Signer,
    alg: DigestAlg,
    signed_attrs: &SetOfVec<Attribute>,
) -> Result<Vec<u8>, CmsError> {
    if matches!(alg, DigestAlg::Md5) {
        // Refused here as when this function hashed itself, with the same error.
        return Err(CmsError::Digest("md5"));
    }
    let to_sign = signed_attrs.to_der().map_err(enc)?;
    signer.sign_message(alg, &to_sign).map_err(CmsError::Sign)
}

/// The signing time as CMS wants it: UTCTime before 2050, GeneralizedTime after (RFC 5652
/// §11.3).
fn signing_time(unix: u64) -> Result<Any, CmsError> {
    let t = std::time::Duration::from_secs(unix);
    let time = if unix < 2_524_608_000 {
        x509_cert::time::Time::UtcTime(der::asn1::UtcTime::from_unix_duration(t).map_err(enc)?)
    } else {
        x509_cert::time::Time::GeneralTime(
            der::asn1::GeneralizedTime::from_unix_duration(t).map_err(enc)?,
        )
    };
    Any::encode_from(&time).map_err(enc)
}

/// Stands in for a signer when sizing: the same key kind and public key, and a signature of zeros
/// as long as the longest one the key makes ([`KeyKind::max_signature_len`]).
struct Sizing<'a>(&'a dyn Signer);

impl Signer for Sizing<'_> {
    fn kind(&self) -> KeyKind {
        self.0.kind()
    }
    fn public_key(&self) -> &spki::SubjectPublicKeyInfoOwned {
        self.0.public_key()
    }
    fn sign_digest(&self, _alg: DigestAlg, _digest: &[u8]) -> Result<Vec<u8>, SignDigestError> {
        Ok(vec![0; self.0.kind().max_signature_len()])
    }
    /// As long as [`Sizing::sign_digest`]'s, without hashing the message first.
    fn sign_message(&self, _alg: DigestAlg, _message: &[u8]) -> Result<Vec<u8>, SignDigestError> {
        Ok(vec![0; self.0.kind().max_signature_len()])
    }
}

/// The certificates to embed in a SignedData, each once: a chain file that repeats the signer
/// (or any certificate) must not make the SET invalid DER.
pub(crate) fn certificate_set<'c>(
    certs: impl Iterator<Item = &'c Certificate>,
) -> Result<CertificateSet, CmsError> {
    let mut out = Vec::new();
    for c in certs {
        let choice = cms::cert::CertificateChoices::Certificate(c.clone());
        if !out.contains(&choice) {
            out.push(choice);
        }
    }
    Ok(CertificateSet(SetOfVec::try_from(out).map_err(enc)?))
}

/// The length of the DER that [`attached_signature`] builds, without a timestamp, for
/// `content_len` bytes of content: computed before the content exists (nothing is hashed or
/// signed). Every field's length is fixed by the arguments (the certificates, the digest
/// algorithm, the signing time, the content's length) except the signature value, taken at its
/// longest. So the result is exact for RSA keys, whose signatures are as long as the modulus, and
/// an upper bound for ECDSA keys, whose DER signatures are a few bytes shorter in most runs
/// (the CMS then shrinks by those bytes, and by one more for each enclosing DER length that
/// drops below a length-of-length boundary).
pub fn attached_signature_len(
    signer: &dyn Signer,
    cert: &Certificate,
    chain: &[Certificate],
    alg: DigestAlg,
    content_len: usize,
    signed_at: u64,
) -> Result<usize, CmsError> {
    let placeholder = vec![0u8; content_len];
    attached_signature(
        &Sizing(signer),
        cert,
        chain,
        alg,
        &placeholder,
        signed_at,
        None,
    )
    .map(|der| der.len())
}

/// A CMS SignedData carrying `content` (id-data), signed by `signer` whose certificate is
/// `cert` (included with `chain`), with signed attributes content type, message digest and
/// signing time (`signed_at`, Unix seconds), and a timestamp token when `timestamp` is given.
pub fn attached_signature(
    signer: &dyn Signer,
    cert: &Certificate,
    chain: &[Certificate],
    alg: DigestAlg,
    content: &[u8],
    signed_at: u64,
    timestamp: Option<Timestamper<'_>>,
) -> Result<Vec<u8>, CmsError> {
    let attrs = vec![
        attribute(CONTENT_TYPE, Any::encode_from(&ID_DATA).map_err(enc)?)?,
        attribute(
            MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(hash(alg, content)?).map_err(enc)?).map_err(enc)?,
        )?,
        attribute(SIGNING_TIME, signing_time(signed_at)?)?,
    ];
    let signed_attrs = SetOfVec::try_from(attrs).map_err(enc)?;
    let signature = sign_attributes(signer, alg, &signed_attrs)?;
    let unsigned_attrs = match timestamp {
        None => None,
        Some(ts) => {
            let token = ts(&signature).map_err(CmsError::Timestamp)?;
            let value = Any::from_der(&token).map_err(enc)?;
            Some(SetOfVec::try_from(vec![attribute(TIMESTAMP_TOKEN, value)?]).map_err(enc)?)
        }
    };
    let si = SignerInfo {
        version: CmsVersion::V1,
        sid: issuer_and_serial(cert),
        digest_alg: digest_algorithm(alg)?,
        signed_attrs: Some(signed_attrs),
        signature_algorithm: signature_algorithm(signer.kind(), alg)?,
        signature: OctetString::new(signature).map_err(enc)?,
        unsigned_attrs,
    };
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![digest_algorithm(alg)?]).map_err(enc)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: Some(
                Any::encode_from(&OctetString::new(content.to_vec()).map_err(enc)?).map_err(enc)?,
            ),
        },
        certificates: Some(certificate_set(std::iter::once(cert).chain(chain))?),
        crls: None,
        signer_infos: cms::signed_data::SignerInfos(SetOfVec::try_from(vec![si]).map_err(enc)?),
    };
    wrap(&sd)
}

/// A key known only by its certificate: its kind and public key, for sizing a signature that
/// another party (a signing server) makes. It cannot sign: [`Signer::sign_digest`] fails. With
/// [`attached_signature_len`] it gives the same length as the real key would.
pub struct CertificateKey {
    kind: KeyKind,
    public_key: spki::SubjectPublicKeyInfoOwned,
}

impl CertificateKey {
    /// The key of `cert`: RSA (PKCS#1 v1.5, any size), ECDSA P-256 or P-384; anything else is
    /// refused (bingate signs with no other key), naming the algorithm.
    pub fn from_certificate(cert: &Certificate) -> Result<CertificateKey, String> {
        let spki = &cert.tbs_certificate.subject_public_key_info;
        let info = crate::pki::keys::key_info(spki);
        let kind = match (info.algorithm.as_str(), info.bits) {
            ("rsa", Some(bits)) => KeyKind::Rsa { bits },
            ("ecdsa-p256", _) => KeyKind::EcdsaP256,
            ("ecdsa-p384", _) => KeyKind::EcdsaP384,
            (other, _) => {
                return Err(format!(
                    "the certificate's key ({other}) is not one bingate signs with (RSA, ECDSA P-256, ECDSA P-384)"
                ));
            }
        };
        Ok(CertificateKey {
            kind,
            public_key: spki.clone(),
        })
    }
}

impl Signer for CertificateKey {
    fn kind(&self) -> KeyKind {
        self.kind
    }
    fn public_key(&self) -> &spki::SubjectPublicKeyInfoOwned {
        &self.public_key
    }
    fn sign_digest(&self, _alg: DigestAlg, _digest: &[u8]) -> Result<Vec<u8>, SignDigestError> {
        Err(SignDigestError::Backend(
            "this key is known by its certificate only (its holder signs)".into(),
        ))
    }
}

/// The time (Unix seconds) of the RFC 3161 token in a signature's SignerInfo (the
/// id-aa-timeStampToken attribute), `None` when it carries none: what a signer reports back
/// about the signature it just built.
pub fn token_time(signature_der: &[u8]) -> Result<Option<u64>, String> {
    let opened = super::open::open(signature_der, "SignedData").map_err(|e| e.to_string())?;
    let si = opened.only_signer().ok_or("not exactly one SignerInfo")?;
    match super::timestamp::read_standard(si, opened.certificates())
        .into_iter()
        .next()
    {
        None => Ok(None),
        Some(t) => t.map(|t| Some(t.time)),
    }
}
