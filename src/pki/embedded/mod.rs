//! The embedded Microsoft roots (`policies/trust/`), indexed at build time and decoded on demand.
//!
//! `build.rs` turns the two PEM bundles and the two TOML files into each certificate's DER, once,
//! and a table: where each certificate's DER, subject, issuer, serial number, public key and key
//! identifier lie, its thumbprints, its subject text and its window for each purpose (the bundles
//! that hold it, `microsoft-roots.toml`'s dates, Windows' required roots). A run parses none of
//! it: listing the store reads the table, and a chain looking for an anchor compares the DER of
//! the name it needs with the table's subjects, then decodes only the certificates that match,
//! once per store ([`Decoded`]). `reference.rs` (tests only) decodes the same files the way
//! bingate did before and checks the table against it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use super::chain::Anchor;
use super::trust::Window;

#[cfg(test)]
mod reference;

/// Where bytes lie in [`DER`]: `start..start + len`.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn bytes(self) -> &'static [u8] {
        let start = usize::try_from(self.start).unwrap_or(usize::MAX);
        let len = usize::try_from(self.len).unwrap_or(usize::MAX);
        start
            .checked_add(len)
            .and_then(|end| DER.get(start..end))
            .unwrap_or_default()
    }
}

/// One embedded certificate, as build.rs indexed it.
struct Root {
    /// The whole certificate.
    der: Span,
    /// `tbsCertificate.subject` and `issuer` (whole Name elements).
    subject: Span,
    issuer: Span,
    /// The serial number INTEGER's content octets.
    serial: Span,
    /// `subjectPublicKeyInfo` (the whole element).
    spki: Span,
    /// The subjectKeyIdentifier extension's key identifier, when it has a readable one.
    key_id: Option<Span>,
    sha1: [u8; 20],
    sha256: [u8; 32],
    /// The subject as microsoft-roots.toml writes it (what `trust list` shows).
    subject_text: &'static str,
    /// The window for each purpose the root anchors (`None`: it does not anchor that purpose).
    code_signing: Option<Window>,
    time_stamping: Option<Window>,
    /// One of Windows' required built-in roots (its required purposes have no dates).
    required: bool,
}

/// Where the embedded bundle came from (microsoft-roots.toml's `[source]`).
struct EmbeddedProvenance {
    /// `<package> <version>`.
    package: &'static str,
    ctl_this_update: &'static str,
    ctl_sequence_number: &'static str,
}

/// One entry of windows-required-roots.toml.
struct RequiredRootText {
    sha1: &'static str,
    name: &'static str,
    code_signing: bool,
    time_stamping: bool,
    embedded: bool,
}

// DER, CODE_SIGNING_ANCHORS, TIME_STAMPING_ANCHORS, PROVENANCE, ROOTS, BY_SUBJECT, REQUIRED.
include!(concat!(env!("OUT_DIR"), "/embedded_roots.rs"));

/// The two purposes a root anchors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    CodeSigning,
    TimeStamping,
}

impl Root {
    fn window(&self, u: Use) -> Option<Window> {
        match u {
            Use::CodeSigning => self.code_signing,
            Use::TimeStamping => self.time_stamping,
        }
    }
}

/// How many embedded certificates there are.
pub(crate) fn len() -> usize {
    ROOTS.len()
}

/// How many embedded roots anchor `u`.
pub(crate) fn anchors_for(u: Use) -> usize {
    match u {
        Use::CodeSigning => CODE_SIGNING_ANCHORS,
        Use::TimeStamping => TIME_STAMPING_ANCHORS,
    }
}

/// What `trust list` and `--ctl` need to know of certificate `i`, without decoding it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    pub sha1: &'static [u8; 20],
    pub sha256: &'static [u8; 32],
    pub subject: &'static str,
    pub code_signing: Option<Window>,
    pub time_stamping: Option<Window>,
    pub required: bool,
}

/// Certificate `i`'s facts (`None` past the end).
pub(crate) fn facts(i: usize) -> Option<Facts> {
    let r = ROOTS.get(i)?;
    Some(Facts {
        sha1: &r.sha1,
        sha256: &r.sha256,
        subject: r.subject_text,
        code_signing: r.code_signing,
        time_stamping: r.time_stamping,
        required: r.required,
    })
}

/// The certificate whose SHA-256 thumbprint is `sha256`.
pub(crate) fn by_sha256(sha256: &[u8; 32]) -> Option<usize> {
    ROOTS.iter().position(|r| &r.sha256 == sha256)
}

/// Every certificate's SHA-1 thumbprint, in order.
pub(crate) fn sha1s() -> impl Iterator<Item = &'static [u8; 20]> {
    ROOTS.iter().map(|r| &r.sha1)
}

/// `[source]` of microsoft-roots.toml: package and version, ctlThisUpdate, sequenceNumber.
pub(crate) fn provenance() -> (&'static str, &'static str, &'static str) {
    (
        PROVENANCE.package,
        PROVENANCE.ctl_this_update,
        PROVENANCE.ctl_sequence_number,
    )
}

/// windows-required-roots.toml: (sha1, name, code signing, time stamping, embedded).
pub(crate) fn required_roots()
-> impl Iterator<Item = (&'static str, &'static str, bool, bool, bool)> {
    REQUIRED
        .iter()
        .map(|r| (r.sha1, r.name, r.code_signing, r.time_stamping, r.embedded))
}

/// Indices of the certificates whose subject's DER is `name`, in order.
fn with_subject(name: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let subject = |i: u16| {
        ROOTS
            .get(usize::from(i))
            .map_or(&[][..], |r| r.subject.bytes())
    };
    let start = BY_SUBJECT.partition_point(|&i| subject(i) < name);
    BY_SUBJECT
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(move |&&i| subject(i) == name)
        .map(|&i| usize::from(i))
}

/// The embedded certificates a store has decoded, and the anchors made of them: each is decoded
/// the first time a chain (or `--ctl`) needs it, once for both purposes, and kept.
#[derive(Debug)]
pub(crate) struct Decoded {
    certs: Box<[OnceLock<Option<Box<Certificate>>>]>,
    code_signing: Box<[OnceLock<Option<Box<Anchor>>>]>,
    time_stamping: Box<[OnceLock<Option<Box<Anchor>>>]>,
    /// Certificates decoded so far (each counts once).
    count: AtomicUsize,
}

impl Decoded {
    pub(crate) fn new() -> Arc<Decoded> {
        fn slots<T>() -> Box<[OnceLock<T>]> {
            (0..ROOTS.len()).map(|_| OnceLock::new()).collect()
        }
        Arc::new(Decoded {
            certs: slots(),
            code_signing: slots(),
            time_stamping: slots(),
            count: AtomicUsize::new(0),
        })
    }

    /// How many embedded certificates have been decoded.
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Certificate `i`, decoded on first use. `None` past the end, or if it does not decode
    /// (a build defect the reference test rules out: every embedded certificate decodes).
    pub(crate) fn cert(&self, i: usize) -> Option<&Certificate> {
        self.certs
            .get(i)?
            .get_or_init(|| {
                let der = ROOTS.get(i)?.der.bytes();
                self.count.fetch_add(1, Ordering::Relaxed);
                Certificate::from_der(der).ok().map(Box::new)
            })
            .as_deref()
    }

    /// Certificate `i` as an anchor for `u`, when it anchors `u`.
    fn anchor(&self, u: Use, i: usize) -> Option<&Anchor> {
        let slots = match u {
            Use::CodeSigning => &self.code_signing,
            Use::TimeStamping => &self.time_stamping,
        };
        slots
            .get(i)?
            .get_or_init(|| {
                let w = ROOTS.get(i)?.window(u)?;
                Some(Box::new(Anchor {
                    cert: self.cert(i)?.clone(),
                    program: true,
                    not_before: w.not_before,
                    disallowed_after: w.disallowed_after,
                }))
            })
            .as_deref()
    }
}

/// The embedded roots that anchor one purpose, looked up through the index.
#[derive(Debug, Clone)]
pub(crate) struct EmbeddedAnchors {
    decoded: Arc<Decoded>,
    purpose: Use,
}

impl EmbeddedAnchors {
    pub(crate) fn new(decoded: Arc<Decoded>, purpose: Use) -> Self {
        EmbeddedAnchors { decoded, purpose }
    }

    /// How many roots anchor this purpose (nothing is decoded).
    pub(crate) fn len(&self) -> usize {
        anchors_for(self.purpose)
    }

    /// Every anchor, in order (decodes them all: for listing and tests).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Anchor> {
        (0..ROOTS.len()).filter_map(|i| self.decoded.anchor(self.purpose, i))
    }

    /// The anchors whose subject is `name`, in order; only they are decoded.
    pub(crate) fn with_subject(&self, name: &Name) -> Vec<&Anchor> {
        let Ok(name) = name.to_der() else {
            return Vec::new();
        };
        with_subject(&name)
            .filter_map(|i| self.decoded.anchor(self.purpose, i))
            .collect()
    }

    /// The first anchor with `c`'s subject and public key.
    pub(crate) fn find(&self, c: &Certificate) -> Option<&Anchor> {
        let subject = c.tbs_certificate.subject.to_der().ok()?;
        let mut matches = with_subject(&subject).peekable();
        matches.peek()?;
        let spki = c.tbs_certificate.subject_public_key_info.to_der().ok()?;
        matches
            .filter(|&i| {
                ROOTS
                    .get(i)
                    .is_some_and(|r| r.spki.bytes() == spki.as_slice())
            })
            .find_map(|i| self.decoded.anchor(self.purpose, i))
    }

    /// The first anchor whose certificate has this issuer and serial number.
    pub(crate) fn by_issuer_serial(&self, issuer: &Name, serial: &SerialNumber) -> Option<&Anchor> {
        let issuer = issuer.to_der().ok()?;
        (0..ROOTS.len())
            .filter(|&i| {
                ROOTS.get(i).is_some_and(|r| {
                    r.serial.bytes() == serial.as_bytes() && r.issuer.bytes() == issuer.as_slice()
                })
            })
            .find_map(|i| self.decoded.anchor(self.purpose, i))
    }

    /// The first anchor whose subjectKeyIdentifier is `key_id`.
    pub(crate) fn by_key_id(&self, key_id: &[u8]) -> Option<&Anchor> {
        (0..ROOTS.len())
            .filter(|&i| {
                ROOTS
                    .get(i)
                    .and_then(|r| r.key_id)
                    .is_some_and(|k| k.bytes() == key_id)
            })
            .find_map(|i| self.decoded.anchor(self.purpose, i))
    }
}
