//! Reading CMS SignedData the way Windows does, not the way strict DER does.
//!
//! Real signers put the same certificate twice in the `certificates` SET (Node.js's node.exe,
//! osslsigncode's time-stamp tokens); strict DER SET OF decoding rejects that, WinVerifyTrust
//! accepts it. The certificate set is not covered by any signature, so reading it element by
//! element, dropping duplicates, and re-encoding a canonical SignedData changes nothing that is
//! verified: the signed attributes and content are carried over as decoded values.
//!
//! The same holds for the SignedData's `digestAlgorithms` SET, also outside every signature: a
//! SHA-2 identifier with absent parameters there and NULL parameters in the SignerInfo (or the
//! other way round) names the same algorithm. RFC 5754 section 2 asks implementations to accept
//! both encodings, Windows does, and Microsoft's own signer wrote such signatures (the VC++ 2022
//! runtime DLLs signed in 2024, `msvcp140.dll` as vendored in numpy 2.1's Windows wheels); the
//! authenticode crate compares the two identifiers byte for byte. The canonical re-encoding
//! writes the SignerInfo's form in the SET ([`same_algorithm`]).

use cms::signed_data::{EncapsulatedContentInfo, SignerInfo};
use der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

/// id-signedData (RFC 5652).
const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";

/// `certificates [0] IMPLICIT CertificateSet` in a SignedData.
const CERTIFICATES: Tag = Tag::ContextSpecific {
    constructed: true,
    number: TagNumber::N0,
};

/// The X.509 certificates of a `[0] IMPLICIT CertificateSet`, each once, in file order. Other
/// CertificateChoices (PKCS #6 extended certificates, attribute certificates, `other` formats)
/// are skipped: Authenticode does not use them, and Windows ignores them.
fn certificate_set(set: &der::Any, what: &str) -> Result<Vec<Certificate>, String> {
    let err = |e: der::Error| format!("{what}: certificates: {e}");
    let mut certificates: Vec<Certificate> = Vec::new();
    let mut inner = SliceReader::new(set.value()).map_err(err)?;
    while !inner.is_finished() {
        let c = der::Any::decode(&mut inner).map_err(err)?;
        if c.tag() != Tag::Sequence {
            continue;
        }
        if let Ok(cert) = c.decode_as::<Certificate>() {
            // Bounded: the signature's DER walk limits every SET to MAX_SET_ELEMENTS.
            if !certificates.contains(&cert) {
                certificates.push(cert);
            }
        }
    }
    Ok(certificates)
}

/// Whether two AlgorithmIdentifiers name the same algorithm: the same OID, and the same
/// parameters or NULL parameters on one side and none on the other (RFC 5754 section 2: "MUST
/// accept SHA2 AlgorithmIdentifiers with absent parameters as well as NULL parameters").
pub fn same_algorithm(a: &AlgorithmIdentifierOwned, b: &AlgorithmIdentifierOwned) -> bool {
    let null_or_absent = |p: &Option<der::Any>| match p {
        None => true,
        Some(any) => any.tag() == Tag::Null && any.value().is_empty(),
    };
    a.oid == b.oid
        && (a.parameters == b.parameters
            || (null_or_absent(&a.parameters) && null_or_absent(&b.parameters)))
}

pub struct LenientSignedData {
    pub version: cms::content_info::CmsVersion,
    pub digest_algorithms: Vec<AlgorithmIdentifierOwned>,
    pub encap: EncapsulatedContentInfo,
    pub certificates: Vec<Certificate>,
    pub signer_infos: Vec<SignerInfo>,
}

/// Reads the SignedData inside `content` (a ContentInfo's `[0]` content), element by element.
/// `what` names the structure in errors.
pub fn signed_data(content: &der::Any, what: &str) -> Result<LenientSignedData, String> {
    let err = |e: der::Error| format!("{what}: {e}");
    let mut r = SliceReader::new(content.value()).map_err(err)?;
    let version = cms::content_info::CmsVersion::decode(&mut r).map_err(err)?;
    let algs = der::Any::decode(&mut r).map_err(err)?;
    let mut digest_algorithms: Vec<AlgorithmIdentifierOwned> = Vec::new();
    let mut ar = SliceReader::new(algs.value()).map_err(err)?;
    while !ar.is_finished() {
        let a = AlgorithmIdentifierOwned::decode(&mut ar).map_err(err)?;
        if !digest_algorithms.contains(&a) {
            digest_algorithms.push(a);
        }
    }
    let encap = EncapsulatedContentInfo::decode(&mut r).map_err(err)?;
    let mut certificates = Vec::new();
    let mut signer_infos = Vec::new();
    while !r.is_finished() {
        let item = der::Any::decode(&mut r).map_err(err)?;
        let tag = item.tag();
        if tag == CERTIFICATES {
            certificates = certificate_set(&item, what)?;
        } else if tag == Tag::Set {
            let mut inner = SliceReader::new(item.value()).map_err(err)?;
            while !inner.is_finished() {
                signer_infos.push(SignerInfo::decode(&mut inner).map_err(err)?);
            }
        }
        // [1] CRLs are not needed (revocation comes from --crl files).
    }
    Ok(LenientSignedData {
        version,
        digest_algorithms,
        encap,
        certificates,
        signer_infos,
    })
}

impl LenientSignedData {
    /// A strict ContentInfo(SignedData) DER with the same content, signer infos and (deduplicated)
    /// certificates.
    pub fn to_canonical_der(&self) -> Result<Vec<u8>, String> {
        use cms::cert::CertificateChoices;
        let e = |e: der::Error| format!("re-encoding SignedData: {e}");
        let certs: Vec<CertificateChoices> = self
            .certificates
            .iter()
            .cloned()
            .map(CertificateChoices::Certificate)
            .collect();
        // Each digest algorithm in the SignerInfos' own encoding (see the module doc), once.
        let mut digest_algorithms: Vec<AlgorithmIdentifierOwned> = Vec::new();
        for a in &self.digest_algorithms {
            let a = self
                .signer_infos
                .iter()
                .map(|si| &si.digest_alg)
                .find(|s| same_algorithm(s, a))
                .unwrap_or(a);
            if !digest_algorithms.contains(a) {
                digest_algorithms.push(a.clone());
            }
        }
        let sd = cms::signed_data::SignedData {
            version: self.version,
            digest_algorithms: der::asn1::SetOfVec::try_from(digest_algorithms).map_err(e)?,
            encap_content_info: self.encap.clone(),
            certificates: Some(cms::signed_data::CertificateSet(
                der::asn1::SetOfVec::try_from(certs).map_err(e)?,
            )),
            crls: None,
            signer_infos: cms::signed_data::SignerInfos(
                der::asn1::SetOfVec::try_from(self.signer_infos.clone()).map_err(e)?,
            ),
        };
        let ci = cms::content_info::ContentInfo {
            content_type: der::asn1::ObjectIdentifier::new_unwrap(SIGNED_DATA),
            content: der::Any::encode_from(&sd).map_err(e)?,
        };
        ci.to_der().map_err(e)
    }
}
