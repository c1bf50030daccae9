//! Why a trust source could not be read: [`TrustError`] for the store, [`CtlError`] for a
//! certificate trust list (`authroot.stl`), [`PemBundleError`] for a PEM bundle. Each carries
//! what failed (the file, the structure, the DER error with its position, a PEM block's offset)
//! and displays as the message `bingate` prints.

use std::fmt;
use std::path::PathBuf;

use der::Tag;
use der::asn1::ObjectIdentifier;

use super::trust::{MAX_CTL_ATTRIBUTES, MAX_CTL_ENTRIES, MAX_TRUST_CERTS, OID_CTL};

/// Why the trust store could not be loaded. Errors about a file name it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustError {
    /// A file or directory could not be read.
    Io { path: PathBuf, message: String },
    /// A file larger than [`super::trust::MAX_TRUST_FILE_SIZE`]; `message` names it.
    TooLarge { path: PathBuf, message: String },
    /// The `--ctl` file is not a certificate trust list bingate reads.
    Ctl { path: PathBuf, error: CtlError },
    /// A PEM bundle has a block that does not decode.
    Pem {
        path: PathBuf,
        error: PemBundleError,
    },
    /// Certificate `index` (from 0) of a file does not parse.
    Certificate {
        path: PathBuf,
        index: usize,
        error: der::Error,
    },
    /// A file with no `CERTIFICATE` block.
    NoCertificate { path: PathBuf },
    /// A directory with no file of these extensions.
    NoCertificateFiles {
        dir: PathBuf,
        extensions: Vec<&'static str>,
    },
    /// More than [`MAX_TRUST_CERTS`] certificates in a directory.
    TooManyCertificates { dir: PathBuf },
    /// The embedded bundle is inconsistent (a build defect: it is tested).
    Embedded { file: &'static str, message: String },
}

impl TrustError {
    /// The file (or directory) the error is about; `None` for the embedded bundle.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            TrustError::Io { path, .. }
            | TrustError::TooLarge { path, .. }
            | TrustError::Ctl { path, .. }
            | TrustError::Pem { path, .. }
            | TrustError::Certificate { path, .. }
            | TrustError::NoCertificate { path } => Some(path),
            TrustError::NoCertificateFiles { dir, .. }
            | TrustError::TooManyCertificates { dir } => Some(dir),
            TrustError::Embedded { .. } => None,
        }
    }

    /// Where in the file the problem was met, when known (a PEM block's offset, or the position
    /// of a DER error within the structure that failed).
    pub fn offset(&self) -> Option<u64> {
        match self {
            TrustError::Ctl { error, .. } => error.offset(),
            TrustError::Pem { error, .. } => error.offset(),
            TrustError::Certificate { error, .. } => der_position(error),
            _ => None,
        }
    }
}

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustError::Io { path, message } => write!(f, "{}: {message}", path.display()),
            // The I/O error already names the file: "<path>: larger than N bytes".
            TrustError::TooLarge { message, .. } => write!(f, "{message}, not a trust file"),
            TrustError::Ctl { path, error } => write!(f, "{}: {error}", path.display()),
            TrustError::Pem { path, error } => write!(f, "{}: {error}", path.display()),
            TrustError::Certificate { path, index, error } => {
                write!(f, "{}: certificate {index}: {error}", path.display())
            }
            TrustError::NoCertificate { path } => {
                write!(f, "{}: no PEM CERTIFICATE block", path.display())
            }
            TrustError::NoCertificateFiles { dir, extensions } => {
                write!(f, "{}: no certificate files (", dir.display())?;
                for (i, e) in extensions.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "*.{e}")?;
                }
                f.write_str(") found")
            }
            TrustError::TooManyCertificates { dir } => {
                write!(
                    f,
                    "{}: more than {MAX_TRUST_CERTS} certificates",
                    dir.display()
                )
            }
            TrustError::Embedded { file, message } => write!(f, "embedded {file}: {message}"),
        }
    }
}

impl std::error::Error for TrustError {}

/// Why the `CERTIFICATE` blocks of a PEM text could not be read. `offset` is the position of
/// the block's BEGIN line in the text; `block` counts from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PemBundleError {
    NoEnd {
        block: usize,
        offset: u64,
    },
    Decode {
        block: usize,
        offset: u64,
        error: der::pem::Error,
    },
    /// More than [`MAX_TRUST_CERTS`] blocks.
    TooMany,
}

impl PemBundleError {
    pub fn offset(&self) -> Option<u64> {
        match self {
            PemBundleError::NoEnd { offset, .. } | PemBundleError::Decode { offset, .. } => {
                Some(*offset)
            }
            PemBundleError::TooMany => None,
        }
    }
}

impl fmt::Display for PemBundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PemBundleError::NoEnd { block, .. } => write!(f, "PEM block {block} has no END line"),
            PemBundleError::Decode { block, error, .. } => write!(f, "PEM block {block}: {error}"),
            PemBundleError::TooMany => write!(f, "more than {MAX_TRUST_CERTS} certificates"),
        }
    }
}

impl std::error::Error for PemBundleError {}

/// Why a certificate trust list could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CtlError {
    /// The structure `what` does not decode (`error` knows its position).
    Der {
        what: &'static str,
        error: der::Error,
    },
    /// A DER error without a structure name (inside an OID list or an attribute).
    Decode(der::Error),
    /// The ContentInfo is not a CMS SignedData.
    NotSignedData { content_type: ObjectIdentifier },
    /// The ContentInfo content is not `[0] EXPLICIT`.
    ContentNotExplicit,
    /// The SignedData carries something other than a CTL.
    NotCtl { content_type: ObjectIdentifier },
    /// No `[0] eContent`.
    NoContent,
    /// The eContent is neither the CTL SEQUENCE nor an OCTET STRING around it.
    ContentTag { tag: Tag },
    /// The CertificateTrustList is not a SEQUENCE.
    NotSequence,
    /// The subjectUsage OID list does not decode.
    SubjectUsage(Box<CtlError>),
    /// The subjectUsage is not Microsoft's root list.
    NotRootList { usage: Vec<String> },
    /// ctlThisUpdate is not a valid time.
    ThisUpdate,
    /// Thumbprints of another algorithm than SHA-1.
    NotSha1 { algorithm: ObjectIdentifier },
    /// An unexpected element after subjectAlgorithm.
    Unexpected { tag: Tag },
    /// A critical ctlExtension (none is understood).
    CriticalExtension { oid: ObjectIdentifier },
    /// More than [`MAX_CTL_ENTRIES`] entries.
    TooManyEntries,
    /// Entry `index` (from 0) is malformed.
    Entry { index: usize, error: Box<CtlError> },
    /// A subjectIdentifier that is not a 20-byte SHA-1 thumbprint.
    ThumbprintLength { len: usize },
    /// More than [`MAX_CTL_ATTRIBUTES`] attributes in one entry.
    TooManyAttributes,
    /// Attribute `oid` of an entry is malformed.
    Attribute { oid: String, error: Box<CtlError> },
    /// A FILETIME attribute that is not 8 bytes.
    FiletimeLength { len: usize },
    /// Something other than a SEQUENCE where a SEQUENCE OF OID was expected.
    NotOidSequence { tag: Tag },
}

impl CtlError {
    /// The position of the DER error within the structure that failed, when there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            CtlError::Der { error, .. } | CtlError::Decode(error) => der_position(error),
            CtlError::SubjectUsage(e)
            | CtlError::Entry { error: e, .. }
            | CtlError::Attribute { error: e, .. } => e.offset(),
            _ => None,
        }
    }
}

impl fmt::Display for CtlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CtlError::Der { what, error } => write!(f, "{what}: {error}"),
            CtlError::Decode(error) => write!(f, "{error}"),
            CtlError::NotSignedData { content_type } => {
                write!(f, "not a CMS SignedData (contentType {content_type})")
            }
            CtlError::ContentNotExplicit => f.write_str("ContentInfo content is not [0] EXPLICIT"),
            CtlError::NotCtl { content_type } => write!(
                f,
                "eContentType is {content_type}, not a certificate trust list ({OID_CTL})"
            ),
            CtlError::NoContent => f.write_str("the CTL is absent (no [0] eContent)"),
            CtlError::ContentTag { tag } => {
                write!(f, "eContent is a {tag}, expected the CTL SEQUENCE")
            }
            CtlError::NotSequence => f.write_str("CertificateTrustList is not a SEQUENCE"),
            CtlError::SubjectUsage(e) => write!(f, "CTL subjectUsage: {e}"),
            CtlError::NotRootList { usage } => write!(
                f,
                "CTL subjectUsage is {usage:?}, not the root list ({})",
                super::trust::OID_ROOT_LIST_SIGNER
            ),
            CtlError::ThisUpdate => f.write_str("CTL ctlThisUpdate is not a valid time"),
            CtlError::NotSha1 { algorithm } => write!(
                f,
                "CTL subjectAlgorithm is {algorithm}; only SHA-1 thumbprints are understood"
            ),
            CtlError::Unexpected { tag } => write!(f, "unexpected {tag} in the CTL"),
            CtlError::CriticalExtension { oid } => {
                write!(f, "CTL has a critical extension {oid}")
            }
            CtlError::TooManyEntries => write!(f, "more than {MAX_CTL_ENTRIES} CTL entries"),
            CtlError::Entry { index, error } => write!(f, "CTL entry {index}: {error}"),
            CtlError::ThumbprintLength { len } => write!(
                f,
                "subjectIdentifier of {len} bytes, expected a SHA-1 thumbprint"
            ),
            CtlError::TooManyAttributes => write!(f, "more than {MAX_CTL_ATTRIBUTES} attributes"),
            CtlError::Attribute { oid, error } => write!(f, "attribute {oid}: {error}"),
            CtlError::FiletimeLength { len } => {
                write!(f, "a FILETIME of {len} bytes, expected 8")
            }
            CtlError::NotOidSequence { tag } => {
                write!(f, "a {tag} where a SEQUENCE OF OID was expected")
            }
        }
    }
}

impl std::error::Error for CtlError {}

fn der_position(e: &der::Error) -> Option<u64> {
    e.position().map(|p| u64::from(u32::from(p)))
}
