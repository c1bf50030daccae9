//! Offline certificate revocation from CRL files the user supplies (RFC 5280 §5, §6.3).
//!
//! CRL distribution points and OCSP are online; bingate verifies offline, so revocation is known
//! only from CRL files given to it. [`load`] reads DER or PEM (one or several
//! `-----BEGIN X509 CRL-----` blocks; other PEM blocks in the file are skipped).
//! [`Revocations::check`] answers "was this certificate revoked by its issuer, and when?".
//!
//! # Semantics
//!
//! - **Which CRLs apply.** Those whose issuer name equals the issuer certificate's subject (and
//!   the certificate's issuer name), except those whose authorityKeyIdentifier names a different
//!   key than the issuer's subjectKeyIdentifier (a re-keyed CA with the same name: that CRL is for
//!   the other key and is skipped silently). No such CRL: [`RevocationStatus::NotChecked`].
//! - **A CRL is used only if its signature verifies with the issuer's key**, the issuer's
//!   keyUsage (when present) allows cRLSign, the inner and outer signature algorithms agree, and
//!   it carries no critical extension bingate does not understand (indirect CRLs, i.e. entries
//!   with a certificateIssuer extension, are not supported). If CRLs for the issuer exist but
//!   none is usable, the answer is [`RevocationStatus::CrlInvalid`] with the reason, not
//!   `NotChecked`: the user supplied revocation data for this issuer and it could not be used,
//!   which the caller should surface. Unusable CRLs next to a usable one are named in the notes
//!   of [`Revocations::check_noted`] and otherwise ignored. A corrupted CRL (one flipped
//!   signature byte) alone is therefore `CrlInvalid`.
//! - **Dates of the CRL do not limit what it says about the past.** A CRL issued after the
//!   decisive time (thisUpdate later than a signature's timestamp) still tells when a certificate
//!   was revoked, and that date is what matters: "a revoked certificate makes the signature
//!   invalid unless a valid timestamp precedes the revocation date" (the CA/B Forum code-signing
//!   requirements let a CA backdate the revocation date for exactly this reason). So `check`
//!   reports [`RevocationStatus::Revoked`] with the *revocation date* from the CRL entry
//!   whatever the CRL's thisUpdate, and the caller compares that date with its timestamp. The
//!   entry's invalidityDate extension is not used (Windows uses the revocation date too).
//! - **Stale CRLs are still applied.** A CRL whose nextUpdate is before the verification time
//!   `at` is reported as stale in a note, and its revocations still count: offline
//!   verification cannot fetch a fresher list, and a stale list is still right about every
//!   revocation it contains. What a stale (or any) CRL cannot say is that nothing happened
//!   after its thisUpdate: `Good` means "listed as revoked by no usable CRL", as of the newest
//!   thisUpdate among them.
//! - **Several usable CRLs.** A certificate listed by any of them is revoked; the earliest
//!   revocation date wins (the strictest answer for the caller's comparison). A certificateHold
//!   entry counts as a revocation (reason `certificateHold`); removeFromCRL entries are skipped.
//! - **Partial CRLs.** A CRL with an issuingDistributionPoint or a deltaCRLIndicator covers only
//!   part of the issuer's certificates (or only the changes): its entries revoke, but it cannot
//!   make a certificate `Good`. If only partial CRLs apply and none lists the certificate, the
//!   answer is `NotChecked`.
//! - **Serial numbers** are compared as INTEGER values (redundant leading sign octets removed),
//!   not as encodings.
//!
//! Work is bounded: at most [`MAX_CRLS_PER_FILE`] CRLs per file, and signature checks per
//! `check` call are limited by [`crate::budget::MAX_SIGNATURE_CHECKS`].

use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, KeyUsage, SubjectKeyIdentifier};
use x509_cert::name::Name;

pub use crate::budget::MAX_CRLS_PER_FILE;
use crate::budget::MAX_SIGNATURE_CHECKS;

const PEM_BEGIN: &[u8] = b"-----BEGIN X509 CRL-----";
const PEM_END: &[u8] = b"-----END X509 CRL-----";

const OID_CRL_NUMBER: &str = "2.5.29.20";
const OID_DELTA_CRL_INDICATOR: &str = "2.5.29.27";
const OID_ISSUING_DISTRIBUTION_POINT: &str = "2.5.29.28";
const OID_AUTHORITY_KEY_ID: &str = "2.5.29.35";
const OID_SUBJECT_KEY_ID: &str = "2.5.29.14";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_CRL_REASON: &str = "2.5.29.21";
const OID_INVALIDITY_DATE: &str = "2.5.29.24";
const OID_CERTIFICATE_ISSUER: &str = "2.5.29.29";

/// One entry of a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// The serial number as a canonical big-endian two's-complement INTEGER (see [`serial_key`]).
    pub serial: Vec<u8>,
    /// revocationDate, Unix seconds.
    pub at: u64,
    /// The reasonCode extension, as RFC 5280 names it (`keyCompromise`, …), when present.
    pub reason: Option<String>,
}

/// One parsed CRL. Its signature is not checked when loading: see [`Crl::verify_signature`].
#[derive(Debug, Clone)]
pub struct Crl {
    origin: String,
    issuer: Name,
    this_update: u64,
    next_update: Option<u64>,
    /// Sorted by serial, one entry per serial (the earliest revocation date).
    revoked: Vec<RevokedEntry>,
    /// The DER of tbsCertList, what the signature covers.
    tbs: Vec<u8>,
    sig_oid: String,
    signature: Vec<u8>,
    authority_key_id: Option<Vec<u8>>,
    /// Covers only part of the issuer's certificates (IDP or delta CRL).
    partial: bool,
    /// Why this CRL cannot be used at all, whatever its signature.
    defect: Option<String>,
}

impl Crl {
    /// Where it came from (the `origin` given to [`load`], with the block number for PEM bundles).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn issuer(&self) -> &Name {
        &self.issuer
    }

    /// thisUpdate, Unix seconds.
    pub fn this_update(&self) -> u64 {
        self.this_update
    }

    /// nextUpdate, Unix seconds.
    pub fn next_update(&self) -> Option<u64> {
        self.next_update
    }

    /// The entries, sorted by serial.
    pub fn revoked(&self) -> &[RevokedEntry] {
        &self.revoked
    }

    /// The entry for `serial` (any INTEGER encoding of it).
    pub fn lookup(&self, serial: &[u8]) -> Option<&RevokedEntry> {
        let key = serial_key(serial);
        self.revoked
            .binary_search_by(|e| e.serial.as_slice().cmp(key))
            .ok()
            .and_then(|i| self.revoked.get(i))
    }

    /// Does `issuer`'s key verify this CRL's signature? The issuer's subject must equal the CRL's
    /// issuer name. (KeyUsage and unsupported extensions are judged by [`Revocations::check`].)
    pub fn verify_signature(&self, issuer: &Certificate) -> bool {
        if issuer.tbs_certificate.subject != self.issuer {
            return false;
        }
        let Some((alg, pss)) = crate::pki::keys::signature_algorithm(&self.sig_oid) else {
            return false;
        };
        let Some(h) = crate::hash::digest(alg, &self.tbs) else {
            return false;
        };
        crate::pki::keys::verify_prehashed(
            &issuer.tbs_certificate.subject_public_key_info,
            alg,
            &h,
            &self.signature,
            pss,
        )
        .is_ok()
    }

    fn from_der(der: &[u8], origin: String) -> Result<Crl, CrlError> {
        let list = match CertificateList::from_der(der) {
            Ok(l) => l,
            Err(error) => return Err(CrlError::NotDer { origin, error }),
        };
        let tbs = match list.tbs_cert_list.to_der() {
            Ok(t) => t,
            Err(error) => return Err(CrlError::Reencode { origin, error }),
        };
        let Some(signature) = list.signature.as_bytes().map(<[u8]>::to_vec) else {
            return Err(CrlError::UnusedBits { origin });
        };
        let t = &list.tbs_cert_list;
        let mut defect = None;
        if t.signature != list.signature_algorithm {
            defect = Some(
                "the signature algorithm inside the signed part differs from the outer one"
                    .to_owned(),
            );
        }
        let mut partial = false;
        let mut authority_key_id = None;
        for e in t.crl_extensions.iter().flatten() {
            match e.extn_id.to_string().as_str() {
                OID_AUTHORITY_KEY_ID => {
                    authority_key_id = AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes())
                        .ok()
                        .and_then(|a| a.key_identifier)
                        .map(|k| k.as_bytes().to_vec());
                }
                OID_DELTA_CRL_INDICATOR | OID_ISSUING_DISTRIBUTION_POINT => partial = true,
                OID_CRL_NUMBER => {}
                other => note_critical(e, other, "CRL", &mut defect),
            }
        }
        let mut revoked = Vec::new();
        for r in t.revoked_certificates.iter().flatten() {
            let mut reason = None;
            for e in r.crl_entry_extensions.iter().flatten() {
                match e.extn_id.to_string().as_str() {
                    OID_CRL_REASON => {
                        reason = CrlReason::from_der(e.extn_value.as_bytes()).ok();
                    }
                    OID_INVALIDITY_DATE => {}
                    OID_CERTIFICATE_ISSUER if defect.is_none() => {
                        defect = Some(
                            "indirect CRLs (certificateIssuer entries) are not supported"
                                .to_owned(),
                        );
                    }
                    other => note_critical(e, other, "CRL entry", &mut defect),
                }
            }
            if reason == Some(CrlReason::RemoveFromCRL) {
                continue;
            }
            revoked.push(RevokedEntry {
                serial: serial_key(r.serial_number.as_bytes()).to_vec(),
                at: crate::time::unix(r.revocation_date),
                reason: reason.map(|r| reason_name(r).to_owned()),
            });
        }
        // Sort by serial, then date, and keep the earliest entry per serial.
        revoked.sort_by(|a, b| a.serial.cmp(&b.serial).then(a.at.cmp(&b.at)));
        revoked.dedup_by(|later, first| later.serial == first.serial);
        Ok(Crl {
            origin,
            issuer: t.issuer.clone(),
            this_update: crate::time::unix(t.this_update),
            next_update: t.next_update.map(crate::time::unix),
            revoked,
            tbs,
            sig_oid: list.signature_algorithm.oid.to_string(),
            signature,
            authority_key_id,
            partial,
            defect,
        })
    }
}

fn note_critical(e: &Extension, oid: &str, what: &str, defect: &mut Option<String>) {
    if e.critical && defect.is_none() {
        *defect = Some(format!("unsupported critical {what} extension {oid}"));
    }
}

/// Why a CRL file could not be loaded. Every variant names the file (`origin`, with the CRL's
/// number in a PEM bundle); the PEM variants carry the file offset of the block's BEGIN line,
/// the DER variants the `der` error, which knows its position in the CRL's encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrlError {
    /// The bytes are not a DER X.509 CertificateList.
    NotDer { origin: String, error: der::Error },
    /// The tbsCertList (the signed part) could not be encoded again.
    Reencode { origin: String, error: der::Error },
    /// The signature BIT STRING has unused bits.
    UnusedBits { origin: String },
    /// More than [`MAX_CRLS_PER_FILE`] CRLs in one PEM file.
    TooMany { origin: String },
    /// PEM block `block` (from 1), at `offset`, has no END line.
    NoPemEnd {
        origin: String,
        block: usize,
        offset: u64,
    },
    /// PEM block `block` (from 1), at `offset`, does not decode.
    Pem {
        origin: String,
        block: usize,
        offset: u64,
        error: der::pem::Error,
    },
    /// PEM text without any `X509 CRL` block.
    NoPemBlock { origin: String },
}

impl CrlError {
    /// The file (and CRL) the error is about, as the caller named it.
    pub fn origin(&self) -> &str {
        match self {
            CrlError::NotDer { origin, .. }
            | CrlError::Reencode { origin, .. }
            | CrlError::UnusedBits { origin }
            | CrlError::TooMany { origin }
            | CrlError::NoPemEnd { origin, .. }
            | CrlError::Pem { origin, .. }
            | CrlError::NoPemBlock { origin } => origin,
        }
    }

    /// Where the problem was met, when known: the file offset of a PEM block, or the position
    /// of a DER error within the CRL's DER (the file itself, for a DER file).
    pub fn offset(&self) -> Option<u64> {
        match self {
            CrlError::NoPemEnd { offset, .. } | CrlError::Pem { offset, .. } => Some(*offset),
            CrlError::NotDer { error, .. } | CrlError::Reencode { error, .. } => {
                error.position().map(|p| u64::from(u32::from(p)))
            }
            CrlError::UnusedBits { .. }
            | CrlError::TooMany { .. }
            | CrlError::NoPemBlock { .. } => None,
        }
    }
}

impl std::fmt::Display for CrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CrlError::NotDer { origin, error } => {
                write!(f, "{origin}: not a DER X.509 CRL: {error}")
            }
            CrlError::Reencode { origin, error } => {
                write!(f, "{origin}: cannot re-encode tbsCertList: {error}")
            }
            CrlError::UnusedBits { origin } => {
                write!(f, "{origin}: the signature BIT STRING has unused bits")
            }
            CrlError::TooMany { origin } => {
                write!(
                    f,
                    "{origin}: more than {MAX_CRLS_PER_FILE} CRLs in one file"
                )
            }
            CrlError::NoPemEnd { origin, block, .. } => {
                write!(f, "{origin}: PEM block {block} has no END X509 CRL line")
            }
            CrlError::Pem {
                origin,
                block,
                error,
                ..
            } => write!(f, "{origin}: PEM block {block}: {error}"),
            CrlError::NoPemBlock { origin } => {
                write!(f, "{origin}: PEM without any X509 CRL block")
            }
        }
    }
}

impl std::error::Error for CrlError {}

/// Reads every CRL in `bytes`: one DER CRL, or PEM with one or more `X509 CRL` blocks. Errors
/// name `origin` (and the PEM block number).
pub fn load(bytes: &[u8], origin: &str) -> Result<Vec<Crl>, CrlError> {
    if memchr::memmem::find(bytes, b"-----BEGIN ").is_none() {
        return Ok(vec![Crl::from_der(bytes, origin.to_owned())?]);
    }
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut block = 0usize;
    while let Some(start) = memchr::memmem::find(rest, PEM_BEGIN) {
        block = block.saturating_add(1);
        if out.len() >= MAX_CRLS_PER_FILE {
            return Err(CrlError::TooMany {
                origin: origin.to_owned(),
            });
        }
        let offset = bytes.len().saturating_sub(rest.len()).saturating_add(start);
        let offset = u64::try_from(offset).unwrap_or(u64::MAX);
        let from = rest.get(start..).unwrap_or_default();
        let end = memchr::memmem::find(from, PEM_END)
            .and_then(|e| e.checked_add(PEM_END.len()))
            .ok_or_else(|| CrlError::NoPemEnd {
                origin: origin.to_owned(),
                block,
                offset,
            })?;
        let pem = from.get(..end).unwrap_or_default();
        let (_, der) = der::pem::decode_vec(pem).map_err(|error| CrlError::Pem {
            origin: origin.to_owned(),
            block,
            offset,
            error,
        })?;
        out.push(Crl::from_der(&der, format!("{origin} (CRL {block})"))?);
        rest = from.get(end..).unwrap_or_default();
    }
    if out.is_empty() {
        return Err(CrlError::NoPemBlock {
            origin: origin.to_owned(),
        });
    }
    Ok(out)
}

/// What the CRLs say about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStatus {
    /// No CRL from this issuer was given (or only partial ones that do not list it).
    NotChecked,
    /// Not listed by any usable CRL from this issuer.
    Good,
    /// Listed: revoked at this date (Unix seconds), whatever the CRL's own dates. The caller
    /// compares it with the timestamp: a valid timestamp before it keeps the signature valid.
    Revoked { at: u64, reason: Option<String> },
    /// CRLs from this issuer were given but none could be used; why.
    CrlInvalid(String),
}

/// A [`RevocationStatus`] with the notes worth showing (stale or ignored CRLs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub status: RevocationStatus,
    pub notes: Vec<String>,
}

/// All CRLs the user gave.
#[derive(Debug, Clone, Default)]
pub struct Revocations {
    crls: Vec<Crl>,
}

impl Revocations {
    pub fn new(crls: Vec<Crl>) -> Revocations {
        Revocations { crls }
    }

    pub fn extend(&mut self, crls: Vec<Crl>) {
        self.crls.extend(crls);
    }

    pub fn crls(&self) -> &[Crl] {
        &self.crls
    }

    pub fn is_empty(&self) -> bool {
        self.crls.is_empty()
    }

    /// The status of `cert`, issued by `issuer`; `at` is the verification time, used only to
    /// flag stale CRLs (see the module doc).
    pub fn check(&self, cert: &Certificate, issuer: &Certificate, at: u64) -> RevocationStatus {
        self.check_noted(cert, issuer, at).status
    }

    /// [`Revocations::check`] with notes: stale CRLs applied anyway, unusable CRLs ignored.
    pub fn check_noted(&self, cert: &Certificate, issuer: &Certificate, at: u64) -> Checked {
        let mut notes = Vec::new();
        let name = &issuer.tbs_certificate.subject;
        if cert.tbs_certificate.issuer != *name {
            notes.push(format!(
                "{name} is not the issuer of {}; no CRL consulted",
                cert.tbs_certificate.subject
            ));
            return Checked {
                status: RevocationStatus::NotChecked,
                notes,
            };
        }
        let ski = cert_ext(issuer, OID_SUBJECT_KEY_ID)
            .and_then(|b| SubjectKeyIdentifier::from_der(b).ok())
            .map(|s| s.0.as_bytes().to_vec());
        let candidates: Vec<&Crl> = self
            .crls
            .iter()
            .filter(|c| c.issuer == *name)
            .filter(|c| match (&c.authority_key_id, &ski) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            })
            .collect();
        if candidates.is_empty() {
            return Checked {
                status: RevocationStatus::NotChecked,
                notes,
            };
        }
        let ku = cert_ext(issuer, OID_KEY_USAGE).and_then(|b| KeyUsage::from_der(b).ok());
        if ku.is_some_and(|k| !k.crl_sign()) {
            return Checked {
                status: RevocationStatus::CrlInvalid(format!(
                    "{name}'s keyUsage does not allow cRLSign, so its CRLs cannot be trusted"
                )),
                notes,
            };
        }
        let mut usable = Vec::new();
        let mut rejected = Vec::new();
        let mut checks = 0u64;
        for c in candidates {
            if let Some(d) = &c.defect {
                rejected.push(format!("{}: {d}", c.origin));
                continue;
            }
            if checks >= MAX_SIGNATURE_CHECKS {
                rejected.push(format!(
                    "{}: not examined (more than {MAX_SIGNATURE_CHECKS} CRL signature checks)",
                    c.origin
                ));
                continue;
            }
            checks = checks.saturating_add(1);
            if c.verify_signature(issuer) {
                usable.push(c);
            } else {
                rejected.push(format!(
                    "{}: the signature does not verify with {name}'s key",
                    c.origin
                ));
            }
        }
        if usable.is_empty() {
            return Checked {
                status: RevocationStatus::CrlInvalid(rejected.join("; ")),
                notes,
            };
        }
        for r in rejected {
            notes.push(format!("CRL ignored: {r}"));
        }
        for c in &usable {
            if let Some(next) = c.next_update.filter(|n| *n < at) {
                notes.push(format!(
                    "CRL {} is stale: its nextUpdate {} is before the verification time {}; \
                     its revocations are applied anyway (offline verification cannot fetch a \
                     newer list)",
                    c.origin,
                    crate::time::show(next),
                    crate::time::show(at)
                ));
            }
        }
        let serial = cert.tbs_certificate.serial_number.as_bytes();
        let hit = usable
            .iter()
            .filter_map(|c| c.lookup(serial))
            .min_by_key(|e| e.at);
        let status = match hit {
            Some(e) => RevocationStatus::Revoked {
                at: e.at,
                reason: e.reason.clone(),
            },
            None if usable.iter().any(|c| !c.partial) => RevocationStatus::Good,
            None => {
                notes.push(format!(
                    "only partial CRLs (delta or issuingDistributionPoint) from {name}; they do \
                     not list the certificate, which proves nothing"
                ));
                RevocationStatus::NotChecked
            }
        };
        Checked { status, notes }
    }
}

use super::ext::extension as cert_ext;

/// The canonical encoding of an INTEGER's content octets: redundant leading sign octets (0x00
/// before a byte with the high bit clear, 0xFF before one with it set) removed, so that any two
/// encodings of the same value compare equal and different values never do.
pub fn serial_key(mut b: &[u8]) -> &[u8] {
    while let [first, second, ..] = b {
        let redundant =
            (*first == 0x00 && second & 0x80 == 0) || (*first == 0xFF && second & 0x80 != 0);
        if !redundant {
            break;
        }
        b = b.get(1..).unwrap_or_default();
    }
    b
}

fn reason_name(r: CrlReason) -> &'static str {
    match r {
        CrlReason::Unspecified => "unspecified",
        CrlReason::KeyCompromise => "keyCompromise",
        CrlReason::CaCompromise => "cACompromise",
        CrlReason::AffiliationChanged => "affiliationChanged",
        CrlReason::Superseded => "superseded",
        CrlReason::CessationOfOperation => "cessationOfOperation",
        CrlReason::CertificateHold => "certificateHold",
        CrlReason::RemoveFromCRL => "removeFromCRL",
        CrlReason::PrivilegeWithdrawn => "privilegeWithdrawn",
        CrlReason::AaCompromise => "aACompromise",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use der::asn1::{GeneralizedTime, UtcTime};
    use x509_cert::time::Time;

    #[test]
    fn serial_key_strips_only_redundant_sign_octets() {
        assert_eq!(serial_key(&[0x00, 0x00, 0x80]), &[0x00, 0x80]);
        assert_eq!(serial_key(&[0x00, 0x7F]), &[0x7F]);
        assert_eq!(serial_key(&[0xFF, 0xFF, 0x80]), &[0x80]);
        assert_eq!(serial_key(&[0xFF, 0x7F]), &[0xFF, 0x7F]);
        assert_eq!(serial_key(&[0x00]), &[0x00]);
        assert_eq!(serial_key(&[]), &[] as &[u8]);
        // +128 and -128 stay different.
        assert_ne!(serial_key(&[0x00, 0x80]), serial_key(&[0x80]));
    }

    fn crl_with(serials: &[(&[u8], u64)]) -> Crl {
        let mut revoked: Vec<RevokedEntry> = serials
            .iter()
            .map(|(s, at)| RevokedEntry {
                serial: serial_key(s).to_vec(),
                at: *at,
                reason: None,
            })
            .collect();
        revoked.sort_by(|a, b| a.serial.cmp(&b.serial).then(a.at.cmp(&b.at)));
        revoked.dedup_by(|later, first| later.serial == first.serial);
        Crl {
            origin: "test".into(),
            issuer: Name::default(),
            this_update: 0,
            next_update: None,
            revoked,
            tbs: Vec::new(),
            sig_oid: String::new(),
            signature: Vec::new(),
            authority_key_id: None,
            partial: false,
            defect: None,
        }
    }

    #[test]
    fn lookup_matches_serial_values_not_encodings() {
        let crl = crl_with(&[(&[0x20, 0x05], 10), (&[0x00, 0x80], 20), (&[0x01], 30)]);
        assert_eq!(crl.lookup(&[0x20, 0x05]).map(|e| e.at), Some(10));
        assert_eq!(crl.lookup(&[0x00, 0x20, 0x05]).map(|e| e.at), Some(10));
        assert_eq!(crl.lookup(&[0x00, 0x00, 0x80]).map(|e| e.at), Some(20));
        // -128 is not +128.
        assert_eq!(crl.lookup(&[0x80]), None);
        assert_eq!(crl.lookup(&[0x20, 0x06]), None);
        assert_eq!(crl.lookup(&[0x05, 0x20]), None);
    }

    #[test]
    fn duplicate_entries_keep_the_earliest_revocation() {
        let crl = crl_with(&[(&[0x07], 500), (&[0x00, 0x07], 100), (&[0x07], 300)]);
        assert_eq!(crl.revoked().len(), 1);
        assert_eq!(crl.lookup(&[0x07]).map(|e| e.at), Some(100));
    }

    #[test]
    fn utc_and_generalized_times_convert_to_unix_seconds() {
        // 2025-06-01T00:00:00Z, the fixture's revocation date.
        let d = std::time::Duration::from_secs(1_748_736_000);
        let utc = Time::UtcTime(UtcTime::from_unix_duration(d).unwrap());
        assert_eq!(crate::time::unix(utc), 1_748_736_000);
        // 2035-12-31T23:59:59Z, the fixture's nextUpdate.
        let d = std::time::Duration::from_secs(2_082_758_399);
        let utc = Time::UtcTime(UtcTime::from_unix_duration(d).unwrap());
        assert_eq!(crate::time::unix(utc), 2_082_758_399);
        // After 2049 RFC 5280 requires GeneralizedTime: 2050-01-01T00:00:00Z.
        let d = std::time::Duration::from_secs(2_524_608_000);
        let general = Time::GeneralTime(GeneralizedTime::from_unix_duration(d).unwrap());
        assert_eq!(crate::time::unix(general), 2_524_608_000);
        assert_eq!(crate::time::show(1_748_736_000), "2025-06-01T00:00:00Z");
    }

    #[test]
    fn utc_time_decodes_from_der() {
        // UTCTime "250601000000Z".
        let der = b"\x17\x0d250601000000Z";
        let t = Time::from_der(der).unwrap();
        assert_eq!(crate::time::unix(t), 1_748_736_000);
    }
}
