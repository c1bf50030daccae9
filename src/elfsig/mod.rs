//! ELF signatures: bingate's embedded `.bingate.sig` section (a CMS SignedData over a manifest
//! of the whole file, see `docs/elf-signature.md`) and the Linux kernel's appended module
//! signature (`sign-file`'s format).
//!
//! Signing is planned from the input's headers ([`Plan`]: the pieces of the output to stream from
//! the input, the ranges to hash), streamed and hashed in one pass by `crate::sign::stream` into
//! the temporary file of `crate::sign::output`, and finished from the digests ([`Finished`]: the
//! tail holding the signature). Verifying returns the same [`SignatureVerdict`] as Authenticode,
//! with the same status vocabulary.

pub mod layout;
pub mod manifest;
pub mod module;
pub mod section;

use std::collections::HashMap;

use x509_cert::Certificate;

use crate::cms::Signer;
use crate::cms::build::Timestamper;
use crate::cms::verdict::{SignatureVerdict, VerifyEnv};
use crate::hash::DigestAlg;

/// The name of bingate's signature section.
pub const SECTION_NAME: &str = ".bingate.sig";

/// How to sign.
pub struct SignOptions<'a> {
    pub signer: &'a dyn Signer,
    pub cert: &'a Certificate,
    /// Further certificates to include (section format only; module signatures carry none).
    pub chain: &'a [Certificate],
    pub digest: DigestAlg,
    /// Asks a TSA for a token over the signature value (section format only).
    pub timestamper: Option<Timestamper<'a>>,
    /// Replace an existing signature instead of refusing.
    pub replace: bool,
    /// The signing-time attribute (Unix seconds).
    pub signed_at: u64,
}

/// One stretch of the first part of a signed file, in order. Signing copies these from the input
/// into the output in one pass while it hashes them, so what is written is what was hashed; the
/// rest of the file (the tail: for the section format the section header table and the
/// signature, for the module format the appended signature) is made afterwards from the digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// `len` bytes of the input from `offset`.
    Input { offset: u64, len: u64 },
    /// Bytes made by the signer (the patched ELF header, the name appended to the name table).
    Bytes(Vec<u8>),
}

impl Piece {
    pub fn len(&self) -> u64 {
        match self {
            Piece::Input { len, .. } => *len,
            Piece::Bytes(b) => b.len() as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the one pass over the [`Piece`]s computed.
pub struct Hashed {
    /// The digest of every byte streamed, not finished: the tail is hashed into a copy of it
    /// (again, if a timestamp outgrows its room), so the streamed bytes are hashed once.
    pub state: Box<dyn digest::DynDigest + Send>,
    /// The digest of each requested range (offset, length) of the output.
    pub ranges: HashMap<(u64, u64), Vec<u8>>,
}

impl std::fmt::Debug for Hashed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hashed")
            .field("ranges", &self.ranges.len())
            .finish_non_exhaustive()
    }
}

/// How a file is to be signed, decided from its headers before any byte is hashed: the pieces to
/// stream and hash, the ranges whose digests the signature needs, and (with
/// [`Plan::finish`]) the tail once they are known.
// One plan per signing run, moved once: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Plan {
    Section(section::Plan),
    Module(module::Plan),
}

/// Makes the CMS of a signature made elsewhere ([`Plan::finish_with`]) from what it signs: the
/// manifest text (section format) or the module's digest (module format).
pub type MakeCms<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<u8>, String>;

/// [`MakeCms`] inside the formats: the CMS from what it signs, or why not.
pub(crate) type MakeCmsBy<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<u8>, SignError>;

/// The end of a signed file, made from the digests of its streamed part.
#[derive(Debug)]
pub struct Finished {
    /// The bytes that follow the streamed part.
    pub tail: Vec<u8>,
    /// How many times the tail was laid out again because a timestamp token outgrew the room
    /// reserved for it (only the tail is hashed again; without a timestamp always 0).
    pub replans: u32,
}

impl Plan {
    /// Plans signing `data` (the input, mapped or read: only its headers, tables and trailer are
    /// read here) in the given format.
    pub fn new(data: &[u8], module: bool, opts: &SignOptions<'_>) -> Result<Plan, SignError> {
        Plan::new_reserving(data, module, opts, opts.timestamper.is_some())
    }

    /// As [`Plan::new`], for a signature made elsewhere ([`Plan::finish_with`]): `opts.signer`
    /// only sizes it (a [`crate::cms::build::CertificateKey`] will do), and `timestamped` says
    /// whether its maker adds an RFC 3161 token, so room is reserved for one (section format).
    pub fn new_reserving(
        data: &[u8],
        module: bool,
        opts: &SignOptions<'_>,
        timestamped: bool,
    ) -> Result<Plan, SignError> {
        if module {
            module::prepare(data, opts).map(Plan::Module)
        } else {
            section::prepare(data, opts, timestamped).map(Plan::Section)
        }
    }

    /// What to stream, in order.
    pub fn pieces(&self) -> &[Piece] {
        match self {
            Plan::Section(p) => p.pieces(),
            Plan::Module(p) => p.pieces(),
        }
    }

    /// The ranges of the output (offset, length), inside the streamed part, whose digests the
    /// signature needs besides the digest of everything.
    pub fn ranges(&self) -> &[(u64, u64)] {
        match self {
            Plan::Section(p) => p.ranges(),
            Plan::Module(_) => &[],
        }
    }

    /// How many bytes of the input the signed file keeps.
    pub fn kept(&self) -> u64 {
        match self {
            Plan::Section(p) => p.kept(),
            Plan::Module(p) => p.kept(),
        }
    }

    /// Signs: the tail of the output, from the digests of the streamed part.
    pub fn finish(&self, hashed: Hashed, opts: &SignOptions<'_>) -> Result<Finished, SignError> {
        match self {
            Plan::Section(p) => p.finish(hashed, opts),
            Plan::Module(p) => p
                .finish(hashed, opts)
                .map(|tail| Finished { tail, replans: 0 }),
        }
    }

    /// Signs with a signature made by `make` (a signing server) instead of `opts.signer`: for
    /// the section format `make` gets the manifest text and returns the CMS carrying it; for the
    /// module format it gets the module's digest (`opts.digest`) and returns the detached CMS.
    /// `opts` gives the digest algorithm and, with the plan from [`Plan::new_reserving`], the
    /// sizes. With a timestamped section signature whose token outgrows the room reserved, the
    /// tail is laid out again and `make` called again (at most a few times, see
    /// `section::Plan::finish`): each call is a new signature (for a server, a new audited
    /// request). An error of `make` is [`SignError::Remote`].
    pub fn finish_with(
        &self,
        hashed: Hashed,
        opts: &SignOptions<'_>,
        make: MakeCms<'_>,
    ) -> Result<Finished, SignError> {
        let remote = |signed: &[u8]| make(signed).map_err(SignError::Remote);
        match self {
            Plan::Section(p) => p.finish_by(hashed, opts, &remote),
            Plan::Module(p) => p
                .finish_by(hashed, &remote)
                .map(|tail| Finished { tail, replans: 0 }),
        }
    }
}

/// Why a file could not be signed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SignError {
    /// The input is not an ELF file bingate can rewrite (with the offset, when known).
    Elf(crate::error::Error),
    /// The ELF file has no section header table to add a section to.
    NoSectionTable,
    /// Already signed and `--replace` was not given.
    AlreadySigned {
        what: String,
    },
    /// The layout cannot carry the signature faithfully.
    Unsupported(String),
    Cms(crate::cms::build::CmsError),
    /// The maker of the signature (a signing server, through [`Plan::finish_with`]) failed or
    /// answered with a signature that does not fit what was asked.
    Remote(String),
}

impl std::fmt::Display for SignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignError::Elf(e) => write!(f, "{e}"),
            SignError::NoSectionTable => write!(
                f,
                "the ELF file has no section header table (e_shoff is 0): a signature section cannot be added"
            ),
            SignError::AlreadySigned { what } => {
                write!(f, "already signed ({what}); use --replace to sign it again")
            }
            SignError::Unsupported(m) => write!(f, "{m}"),
            SignError::Cms(e) => write!(f, "{e}"),
            SignError::Remote(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SignError {}

impl From<crate::error::Error> for SignError {
    fn from(e: crate::error::Error) -> Self {
        SignError::Elf(e)
    }
}

impl From<crate::cms::build::CmsError> for SignError {
    fn from(e: crate::cms::build::CmsError) -> Self {
        SignError::Cms(e)
    }
}

/// Which signature an ELF file carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Module,
    Section,
    /// The bytes of a `.bingate.sig` manifest are in the file, but its section header table is
    /// missing or cannot be read, so the section cannot be located: `malformed`, never
    /// `unsigned`: where the manifest text is, and why the section table cannot be used.
    Unlocatable {
        at: u64,
        why: String,
    },
    None,
}

/// Finds the signature format of an ELF file (cheap: the trailer, then the section names).
pub fn find(data: &[u8]) -> Found {
    if data.ends_with(module::MAGIC) {
        return Found::Module;
    }
    let why = match layout::Layout::parse(data) {
        Ok(l) if !l.section_index(SECTION_NAME).is_empty() => return Found::Section,
        Ok(l) if l.shoff != 0 && !l.sections.is_empty() => return Found::None,
        Ok(_) => "it has no section header table".to_owned(),
        Err(e) => format!("its section header table cannot be read: {e}"),
    };
    // Without a readable section table a signature section cannot be found by name; look for
    // its manifest text instead (one scan, only for such files).
    match memchr::memmem::find(data, manifest::HEADER.as_bytes()) {
        Some(at) => Found::Unlocatable { at: at as u64, why },
        None => Found::None,
    }
}

/// Verifies whatever signature an ELF file carries: an appended module signature (checked
/// against `module_certs` and the code-signing anchors' certificates), else a `.bingate.sig`
/// section, else `unsigned`.
pub fn verify(data: &[u8], env: &VerifyEnv<'_>, module_certs: &[Certificate]) -> SignatureVerdict {
    match find(data) {
        Found::Module => module::verify(data, env, module_certs),
        Found::Section => section::verify(data, env),
        Found::Unlocatable { at, why } => section::malformed(format!(
            "a {SECTION_NAME} signature manifest is at offset {at:#x}, but {why}, so the signature section cannot be located"
        )),
        Found::None => SignatureVerdict::unsigned(format!(
            "no {SECTION_NAME} section and no appended module signature"
        )),
    }
}

/// A hasher for `alg` (MD5 refused).
pub(crate) fn hasher(alg: DigestAlg) -> Option<Box<dyn digest::DynDigest + Send>> {
    use digest::Digest;
    Some(match alg {
        DigestAlg::Md5 => return None,
        DigestAlg::Sha1 => Box::new(sha1::Sha1::new()),
        DigestAlg::Sha256 => Box::new(sha2::Sha256::new()),
        DigestAlg::Sha384 => Box::new(sha2::Sha384::new()),
        DigestAlg::Sha512 => Box::new(sha2::Sha512::new()),
    })
}
