//! The one way a CMS SignedData is opened, whatever carries it (an Authenticode certificate
//! table entry, bingate's ELF signature section, a kernel module signature, an RFC 3161 token in
//! a signature or in a TSA's reply): the nesting and SET budgets walked before anything decodes,
//! the ContentInfo's content type, the SignedData read as Windows reads it (`lenient`), the
//! certificate budget, and the signer's certificate looked up in the bag.
//!
//! Callers word their own errors (a report names the structure the way its format does), so
//! [`OpenError`] says what failed and carries the decoder's message.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignerIdentifier, SignerInfo};
use der::{Decode, SliceReader};
use x509_cert::Certificate;

use super::lenient::{self, LenientSignedData};
use crate::budget::{MAX_CERTIFICATES_PER_SIGNATURE, MAX_DER_DEPTH};

/// id-signedData (RFC 5652 §5.1).
pub const ID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";

/// Why a SignedData could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// The DER nests deeper than `MAX_DER_DEPTH`, a SET holds more than `MAX_SET_ELEMENTS`
    /// values, or a length runs past its parent (`crate::read::der_depth`'s message).
    Structure(String),
    /// The bytes are not a ContentInfo.
    ContentInfo(String),
    /// The ContentInfo holds this content type (dotted OID), not SignedData.
    NotSignedData(String),
    /// The SignedData's fields do not decode.
    SignedData(String),
    /// More certificates than `MAX_CERTIFICATES_PER_SIGNATURE`.
    TooManyCertificates(u64),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Structure(e) | OpenError::ContentInfo(e) | OpenError::SignedData(e) => {
                f.write_str(e)
            }
            OpenError::NotSignedData(oid) => write!(f, "content type {oid} is not SignedData"),
            OpenError::TooManyCertificates(n) => write!(
                f,
                "{n} certificates in the signature, over the budget of \
                 {MAX_CERTIFICATES_PER_SIGNATURE} (MAX_CERTIFICATES_PER_SIGNATURE)"
            ),
        }
    }
}

impl std::error::Error for OpenError {}

/// An opened SignedData: its fields, with the certificate bag deduplicated and within budget.
pub struct Opened {
    pub signed_data: LenientSignedData,
}

/// Opens the ContentInfo(SignedData) at the start of `der` (bytes after it are the caller's
/// business: Authenticode entries are padded). The DER is walked within the nesting and SET
/// budgets first, so no decoder below allocates a lying length or sorts a huge SET. `what`
/// names the SignedData in the decoder's messages.
pub fn open(der: &[u8], what: &str) -> Result<Opened, OpenError> {
    crate::read::der_depth(der, MAX_DER_DEPTH).map_err(OpenError::Structure)?;
    let content_info = crate::guard::contain("CMS ContentInfo", None, || {
        let mut r = SliceReader::new(der)?;
        ContentInfo::decode(&mut r)
    })
    .map_err(|e| OpenError::ContentInfo(e.to_string()))?
    .map_err(|e| OpenError::ContentInfo(e.to_string()))?;
    finish(content_info, what)
}

/// [`open`] for a ContentInfo that is a value inside DER already walked within the budgets (an
/// RFC 3161 token in a signature's unsigned attributes).
pub fn open_walked(value: &der::Any, what: &str) -> Result<Opened, OpenError> {
    let content_info = value
        .decode_as::<ContentInfo>()
        .map_err(|e| OpenError::ContentInfo(e.to_string()))?;
    finish(content_info, what)
}

fn finish(content_info: ContentInfo, what: &str) -> Result<Opened, OpenError> {
    let content_type = content_info.content_type.to_string();
    if content_type != ID_SIGNED_DATA {
        return Err(OpenError::NotSignedData(content_type));
    }
    let signed_data =
        lenient::signed_data(&content_info.content, what).map_err(OpenError::SignedData)?;
    let n = signed_data.certificates.len() as u64;
    if n > MAX_CERTIFICATES_PER_SIGNATURE {
        return Err(OpenError::TooManyCertificates(n));
    }
    Ok(Opened { signed_data })
}

impl Opened {
    /// The certificates of the bag, each once, in file order.
    pub fn certificates(&self) -> &[Certificate] {
        &self.signed_data.certificates
    }

    /// The SignerInfo, when there is exactly one (every format bingate verifies but
    /// Authenticode, which nests further signatures in attributes instead, requires one).
    pub fn only_signer(&self) -> Option<&SignerInfo> {
        match self.signed_data.signer_infos.as_slice() {
            [si] => Some(si),
            _ => None,
        }
    }

    /// The certificate of the bag `sid` names by issuer and serial number.
    pub fn signer_cert(&self, sid: &SignerIdentifier) -> Option<&Certificate> {
        find_cert(sid, self.certificates())
    }
}

/// The certificate of `certs` that `sid` names by issuer and serial number (a subject key
/// identifier names none: Authenticode and RFC 3161 tokens use issuer and serial).
pub fn find_cert<'a>(sid: &SignerIdentifier, certs: &'a [Certificate]) -> Option<&'a Certificate> {
    let SignerIdentifier::IssuerAndSerialNumber(ias) = sid else {
        return None;
    };
    certs.iter().find(|c| {
        c.tbs_certificate.serial_number == ias.serial_number
            && c.tbs_certificate.issuer == ias.issuer
    })
}
