//! Building and validating a certificate path from a signer to a trust anchor, the way
//! WinVerifyTrust judges Authenticode chains: signatures, validity at the decisive time,
//! basicConstraints and path length, keyUsage, and the EKU rules (the purpose on the leaf, or no
//! EKU anywhere; a CA with an EKU extension must allow the purpose too).
//!
//! Work is bounded (webpki's `Budget`): path depth and signature checks have named limits, and
//! when several candidate paths fail, the most specific failure is reported.

use der::{Decode, Encode};
use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

use crate::budget::{MAX_CHAIN_DEPTH, MAX_SIGNATURE_CHECKS};

/// What the leaf must be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Authenticode signer: the leaf lists id-kp-codeSigning, or no certificate in the path has
    /// an EKU extension (WinVerifyTrust's "no EKU means any purpose" for code signing).
    CodeSigning,
    /// RFC 3161 token signer: the leaf itself must list id-kp-timeStamping (RFC 3161 §2.3). A
    /// leaf without an EKU extension is not a time-stamping authority.
    TimeStamping,
    /// Legacy Authenticode countersigner (PKCS #9 countersignature): the timestamping EKU must
    /// appear in the path, on the leaf or, for a leaf without an EKU extension, on one of the
    /// CAs above it (old VeriSign/Microsoft time-stamping hierarchies restrict at the CA).
    LegacyTimeStamping,
}

impl Purpose {
    fn oid(self) -> &'static str {
        match self {
            Purpose::CodeSigning => "1.3.6.1.5.5.7.3.3",
            Purpose::TimeStamping | Purpose::LegacyTimeStamping => "1.3.6.1.5.5.7.3.8",
        }
    }

    /// May the leaf lack an EKU extension for this purpose?
    fn leaf_may_lack_eku(self) -> bool {
        match self {
            Purpose::CodeSigning | Purpose::LegacyTimeStamping => true,
            Purpose::TimeStamping => false,
        }
    }
}

const ANY_EKU: &str = "2.5.29.37.0";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";

/// Why no valid path was found (when several candidates fail, the most specific is kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum ChainError {
    /// The path ends at a certificate that is not a trust anchor.
    Untrusted {
        subject: String,
    },
    NoIssuer {
        subject: String,
        issuer: String,
    },
    BadSignature {
        subject: String,
    },
    Expired {
        subject: String,
        not_after: String,
        checked_at: String,
    },
    NotYetValid {
        subject: String,
        not_before: String,
        checked_at: String,
    },
    NotCa {
        subject: String,
    },
    PathLength {
        subject: String,
    },
    KeyUsage {
        subject: String,
    },
    WrongPurpose {
        subject: String,
        purpose: String,
    },
    /// The anchor's root program does not allow it for this purpose at the checked time.
    Disallowed {
        subject: String,
        window: String,
    },
    Budget {
        what: String,
    },
}

impl ChainError {
    /// Higher is more specific (rustls/webpki `most_specific`): a wrong EKU or expiry on a real
    /// path says more than "no issuer found" on a dead end.
    fn rank(&self) -> u8 {
        match self {
            ChainError::Budget { .. } => 0,
            ChainError::NoIssuer { .. } => 1,
            ChainError::Untrusted { .. } => 2,
            ChainError::BadSignature { .. } => 3,
            ChainError::NotCa { .. } | ChainError::PathLength { .. } => 4,
            ChainError::KeyUsage { .. } | ChainError::WrongPurpose { .. } => 5,
            ChainError::NotYetValid { .. }
            | ChainError::Expired { .. }
            | ChainError::Disallowed { .. } => 6,
        }
    }

    pub fn message(&self) -> String {
        match self {
            ChainError::Untrusted { subject } => {
                format!("the chain ends at {subject}, which is not a trust anchor")
            }
            ChainError::NoIssuer { subject, issuer } => {
                format!("no certificate for {issuer}, the issuer of {subject}")
            }
            ChainError::BadSignature { subject } => {
                format!("the signature on {subject} does not verify")
            }
            ChainError::Expired {
                subject,
                not_after,
                checked_at,
            } => format!("{subject} expired {not_after} (checked at {checked_at})"),
            ChainError::NotYetValid {
                subject,
                not_before,
                checked_at,
            } => format!("{subject} is not valid before {not_before} (checked at {checked_at})"),
            ChainError::NotCa { subject } => {
                format!("{subject} issues certificates but is not a CA (basicConstraints)")
            }
            ChainError::PathLength { subject } => {
                format!("the path is longer than {subject}'s pathLenConstraint allows")
            }
            ChainError::KeyUsage { subject } => {
                format!("{subject}'s keyUsage does not allow this use")
            }
            ChainError::WrongPurpose { subject, purpose } => {
                format!("{subject}'s extended key usage does not allow {purpose}")
            }
            ChainError::Disallowed { subject, window } => format!(
                "the root program does not allow {subject} for this purpose then ({window})"
            ),
            ChainError::Budget { what } => format!("budget exceeded: {what}"),
        }
    }
}

/// A trust anchor with the dates its root program attaches for this purpose (Microsoft's CTL:
/// not-before and disallowed-after, as Unix seconds).
///
/// The stored certificate is what path building judges (validity, basicConstraints, EKU, key
/// usage): a certificate in a signature's bag with the anchor's subject and key is replaced by
/// it, so a forged copy with other dates or extensions changes nothing.
#[derive(Debug, Clone)]
pub struct Anchor {
    pub cert: Certificate,
    /// A root of Microsoft's Trusted Root Program (embedded bundle or `--ctl`): Windows' SHA-1
    /// cut-off dates apply to chains ending here (they apply only to program roots).
    pub program: bool,
    /// Microsoft's NotBefore: end-entity certificates issued (notBefore) after this are not
    /// anchored here (the root is distrusted for new issuance).
    pub not_before: Option<u64>,
    /// Paths validated at a time after this (the timestamp, or the verification time) are not
    /// anchored here.
    pub disallowed_after: Option<u64>,
}

/// Trust anchors for one purpose: the embedded Microsoft roots, looked up through their build-time
/// index and decoded only when a chain needs one, then the anchors held in memory (`--trust`
/// files, the system bundle, a `--ctl`'s roots). Lookups try them in that order.
#[derive(Debug, Clone, Default)]
pub struct Anchors {
    embedded: Option<super::embedded::EmbeddedAnchors>,
    listed: Vec<Anchor>,
}

impl Anchors {
    /// Loads every certificate of a PEM bundle (comments between blocks are allowed), with no
    /// date restrictions (the user vouches for them). The error is `der`'s, which says where.
    pub fn from_pem(pem: &[u8]) -> Result<Anchors, der::Error> {
        let certs = Certificate::load_pem_chain(pem)?;
        let mut a = Anchors::default();
        for cert in certs {
            a.push(Anchor {
                cert,
                program: false,
                not_before: None,
                disallowed_after: None,
            });
        }
        Ok(a)
    }

    /// The embedded roots for one purpose, before any other anchor.
    pub(crate) fn embedded(embedded: super::embedded::EmbeddedAnchors) -> Anchors {
        Anchors {
            embedded: Some(embedded),
            listed: Vec::new(),
        }
    }

    /// Adds an anchor after the others.
    pub fn push(&mut self, anchor: Anchor) {
        self.listed.push(anchor);
    }

    /// How many anchors there are (nothing is decoded).
    pub fn len(&self) -> usize {
        self.embedded
            .as_ref()
            .map_or(0, |e| e.len())
            .saturating_add(self.listed.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every anchor, in lookup order. This decodes every embedded root: for listing and tests;
    /// path building looks anchors up by name instead.
    pub fn iter(&self) -> impl Iterator<Item = &Anchor> {
        self.embedded
            .iter()
            .flat_map(|e| e.iter())
            .chain(self.listed.iter())
    }

    /// The anchors whose subject is `name`, in lookup order (the issuer candidates of a
    /// certificate issued by `name`).
    pub fn with_subject(&self, name: &x509_cert::name::Name) -> Vec<&Anchor> {
        let mut out = self
            .embedded
            .as_ref()
            .map(|e| e.with_subject(name))
            .unwrap_or_default();
        out.extend(
            self.listed
                .iter()
                .filter(|a| &a.cert.tbs_certificate.subject == name),
        );
        out
    }

    /// The stored anchor with `c`'s subject and public key (a signature's bag copy of a root,
    /// or the root itself).
    pub fn find(&self, c: &Certificate) -> Option<&Anchor> {
        self.embedded.as_ref().and_then(|e| e.find(c)).or_else(|| {
            self.listed.iter().find(|a| {
                a.cert.tbs_certificate.subject == c.tbs_certificate.subject
                    && a.cert.tbs_certificate.subject_public_key_info
                        == c.tbs_certificate.subject_public_key_info
            })
        })
    }

    /// The first anchor whose certificate has this issuer and serial number (a CMS signer
    /// identified by IssuerAndSerialNumber).
    pub fn by_issuer_serial(
        &self,
        issuer: &x509_cert::name::Name,
        serial: &x509_cert::serial_number::SerialNumber,
    ) -> Option<&Anchor> {
        self.embedded
            .as_ref()
            .and_then(|e| e.by_issuer_serial(issuer, serial))
            .or_else(|| {
                self.listed.iter().find(|a| {
                    &a.cert.tbs_certificate.serial_number == serial
                        && &a.cert.tbs_certificate.issuer == issuer
                })
            })
    }

    /// The first anchor whose subjectKeyIdentifier is `key_id` (a CMS signer identified by
    /// SubjectKeyIdentifier).
    pub fn by_key_id(&self, key_id: &[u8]) -> Option<&Anchor> {
        self.embedded
            .as_ref()
            .and_then(|e| e.by_key_id(key_id))
            .or_else(|| {
                self.listed
                    .iter()
                    .find(|a| super::ext::subject_key_id(&a.cert).as_deref() == Some(key_id))
            })
    }
}

/// A validated path: subjects from the leaf to the anchor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Path {
    pub subjects: Vec<String>,
    /// The certificates, leaf first (for revocation checks of each link); the last one is the
    /// stored anchor, never a bag copy.
    #[serde(skip)]
    pub certs: Vec<Certificate>,
    /// The path ends at a Microsoft Trusted Root Program root.
    #[serde(skip)]
    pub program_root: bool,
}

use super::ext::extension as ext;

fn subject(c: &Certificate) -> String {
    c.tbs_certificate.subject.to_string()
}

/// Does `issuer`'s key verify the signature on `cert`?
fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let Some((alg, pss)) =
        crate::pki::keys::signature_algorithm(&cert.signature_algorithm.oid.to_string())
    else {
        return false;
    };
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return false;
    };
    let Some(h) = crate::hash::digest(alg, &tbs) else {
        return false;
    };
    let Some(sig) = cert.signature.as_bytes() else {
        return false;
    };
    let spki = &issuer.tbs_certificate.subject_public_key_info;
    let verify = || crate::pki::keys::verify_prehashed(spki, alg, &h, sig, pss).is_ok();
    // The same CA certificates sign the chains of most files in a run (one vendor's files, one
    // TSA): the answer for (signed digest, signature, key) is remembered, not recomputed.
    let Ok(key_der) = spki.to_der() else {
        return verify();
    };
    let mut id = Vec::with_capacity(
        h.len()
            .saturating_add(sig.len())
            .saturating_add(key_der.len())
            .saturating_add(2),
    );
    id.push(u8::from(pss));
    id.push(alg as u8);
    id.extend_from_slice(&h);
    id.extend_from_slice(sig);
    id.extend_from_slice(&key_der);
    let Some(id) = crate::hash::digest(crate::hash::DigestAlg::Sha256, &id) else {
        return verify();
    };
    remembered(id, verify)
}

/// Signature checks already made in this process, by the SHA-256 of what was checked.
fn remembered(id: Vec<u8>, verify: impl FnOnce() -> bool) -> bool {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static DONE: OnceLock<Mutex<HashMap<Vec<u8>, bool>>> = OnceLock::new();
    let done = DONE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(known) = done.lock().ok().and_then(|m| m.get(&id).copied()) {
        return known;
    }
    // Checked outside the lock: other threads go on while an RSA-16384 check runs.
    let ok = verify();
    if let Ok(mut m) = done.lock() {
        if m.len() >= crate::budget::MAX_REMEMBERED_SIGNATURE_CHECKS {
            m.clear();
        }
        m.insert(id, ok);
    }
    ok
}

/// Does a certificate of `path` list `purpose`'s EKU explicitly (not anyExtendedKeyUsage)?
fn eku_in_path(path: &[Certificate], purpose: Purpose) -> bool {
    path.iter()
        .any(|c| super::ext::eku(c).oids().iter().any(|o| o == purpose.oid()))
}

struct Search<'a> {
    /// The signature's certificates that are not copies of an anchor (filtered once).
    pool: Vec<&'a Certificate>,
    anchors: &'a Anchors,
    at: u64,
    purpose: Purpose,
    checks: u64,
    best: Option<ChainError>,
}

impl Search<'_> {
    fn fail(&mut self, e: ChainError) {
        if self.best.as_ref().is_none_or(|b| e.rank() > b.rank()) {
            self.best = Some(e);
        }
    }

    /// Checks `c` itself at its position (`depth` 0 = leaf, `cas_below` CAs under it).
    fn check_cert(&mut self, c: &Certificate, depth: usize, cas_below: usize) -> bool {
        let s = subject(c);
        let v = &c.tbs_certificate.validity;
        if self.at < crate::time::unix(v.not_before) {
            self.fail(ChainError::NotYetValid {
                subject: s,
                not_before: v.not_before.to_string(),
                checked_at: crate::time::show(self.at),
            });
            return false;
        }
        if self.at > crate::time::unix(v.not_after) {
            self.fail(ChainError::Expired {
                subject: s,
                not_after: v.not_after.to_string(),
                checked_at: crate::time::show(self.at),
            });
            return false;
        }
        // An EKU that cannot be read allows no purpose (never "no restriction").
        let eku = super::ext::eku(c);
        if eku == super::ext::Eku::Absent && depth == 0 && !self.purpose.leaf_may_lack_eku() {
            self.fail(ChainError::WrongPurpose {
                subject: s,
                purpose: self.purpose.oid().to_owned(),
            });
            return false;
        }
        if eku != super::ext::Eku::Absent {
            let allowed = eku
                .oids()
                .iter()
                .any(|o| o == self.purpose.oid() || (depth > 0 && o == ANY_EKU));
            if !allowed {
                self.fail(ChainError::WrongPurpose {
                    subject: s,
                    purpose: self.purpose.oid().to_owned(),
                });
                return false;
            }
        }
        let ku = ext(c, OID_KEY_USAGE).and_then(|b| KeyUsage::from_der(b).ok());
        if depth == 0 {
            if ku.as_ref().is_some_and(|k| !k.digital_signature()) {
                self.fail(ChainError::KeyUsage { subject: s });
                return false;
            }
        } else {
            let bc = ext(c, OID_BASIC_CONSTRAINTS).and_then(|b| BasicConstraints::from_der(b).ok());
            match bc {
                Some(b) if b.ca => {
                    if b.path_len_constraint
                        .is_some_and(|n| usize::from(n) < cas_below)
                    {
                        self.fail(ChainError::PathLength { subject: s });
                        return false;
                    }
                }
                Some(_) => {
                    self.fail(ChainError::NotCa { subject: s });
                    return false;
                }
                // No basicConstraints: a trust anchor is trusted as configured (RFC 5280 §6.1
                // does not validate the anchor as a certificate), and CryptoAPI accepts X.509 v1
                // issuers (old Microsoft and VeriSign chains). A v3 issuer without it is refused.
                None => {
                    let v1 = c.tbs_certificate.version == x509_cert::Version::V1;
                    if !(v1 || self.anchors.find(c).is_some()) {
                        self.fail(ChainError::NotCa { subject: s });
                        return false;
                    }
                }
            }
            if ku.as_ref().is_some_and(|k| !k.key_cert_sign()) {
                self.fail(ChainError::KeyUsage { subject: s });
                return false;
            }
        }
        true
    }

    fn extend(&mut self, path: &mut Vec<Certificate>) -> bool {
        let Some(current) = path.last().cloned() else {
            return false;
        };
        let depth = path.len().saturating_sub(1);
        let cas_below = depth.saturating_sub(1);
        if !self.check_cert(&current, depth, cas_below) {
            return false;
        }
        if let Some(anchor) = self.anchors.find(&current) {
            if self.purpose == Purpose::LegacyTimeStamping && !eku_in_path(path, self.purpose) {
                self.fail(ChainError::WrongPurpose {
                    subject: subject(path.first().unwrap_or(&current)),
                    purpose: self.purpose.oid().to_owned(),
                });
                return false;
            }
            let leaf_issued = path.first().map_or(0, |l| {
                crate::time::unix(l.tbs_certificate.validity.not_before)
            });
            let issued_too_late = anchor.not_before.is_some_and(|t| leaf_issued > t);
            let too_late = anchor.disallowed_after.is_some_and(|t| self.at > t);
            if issued_too_late || too_late {
                let window = match (issued_too_late, anchor.not_before, anchor.disallowed_after) {
                    (true, Some(a), _) => {
                        format!("not for certificates issued after {}", crate::time::show(a))
                    }
                    (_, _, Some(b)) => format!("disallowed after {}", crate::time::show(b)),
                    _ => String::new(),
                };
                self.fail(ChainError::Disallowed {
                    subject: subject(&current),
                    window,
                });
                return false;
            }
            return true;
        }
        if path.len() >= MAX_CHAIN_DEPTH {
            self.fail(ChainError::Budget {
                what: format!("chain deeper than {MAX_CHAIN_DEPTH}"),
            });
            return false;
        }
        let issuer_name = &current.tbs_certificate.issuer;
        // Anchors first; a bag certificate with an anchor's subject and key is that anchor (it
        // is already a candidate), so it is not tried as an intermediate of its own.
        let mut candidates: Vec<Certificate> = Vec::new();
        let anchors = self.anchors.with_subject(issuer_name);
        for c in anchors
            .iter()
            .map(|a| &a.cert)
            .chain(self.pool.iter().copied())
        {
            if &c.tbs_certificate.subject == issuer_name
                && !path.iter().any(|p| p == c)
                && !candidates.contains(c)
            {
                candidates.push(c.clone());
            }
        }
        if candidates.is_empty() {
            let s = subject(&current);
            if current.tbs_certificate.subject == current.tbs_certificate.issuer {
                self.fail(ChainError::Untrusted { subject: s });
            } else {
                self.fail(ChainError::NoIssuer {
                    subject: s,
                    issuer: issuer_name.to_string(),
                });
            }
            return false;
        }
        for cand in candidates {
            self.checks = self.checks.saturating_add(1);
            if self.checks > MAX_SIGNATURE_CHECKS {
                self.fail(ChainError::Budget {
                    what: format!("more than {MAX_SIGNATURE_CHECKS} signature checks"),
                });
                return false;
            }
            if !signed_by(&current, &cand) {
                self.fail(ChainError::BadSignature {
                    subject: subject(&current),
                });
                continue;
            }
            path.push(cand);
            if self.extend(path) {
                return true;
            }
            path.pop();
        }
        false
    }
}

/// Finds a valid path from `leaf` through `pool` (the signature's certificates and any extra
/// intermediates) to one of `anchors`, validated at `at` (Unix seconds) for `purpose`.
pub fn build(
    leaf: &Certificate,
    pool: &[Certificate],
    anchors: &Anchors,
    at: u64,
    purpose: Purpose,
) -> Result<Path, ChainError> {
    let mut s = Search {
        pool: pool.iter().filter(|c| anchors.find(c).is_none()).collect(),
        anchors,
        at,
        purpose,
        checks: 0,
        best: None,
    };
    // A certificate with an anchor's subject and key is judged as the stored anchor, never as the
    // copy the signature carries (webpki matches trust anchors by name and key too). Issuers come
    // from the stored anchors and from a pool without anchor copies, so only the leaf can be one.
    let leaf = anchors.find(leaf).map_or(leaf, |a| &a.cert);
    let mut path = vec![leaf.clone()];
    if s.extend(&mut path) {
        let program_root = path
            .last()
            .and_then(|a| anchors.find(a))
            .is_some_and(|a| a.program);
        Ok(Path {
            subjects: path.iter().map(subject).collect(),
            certs: path,
            program_root,
        })
    } else {
        Err(s.best.unwrap_or(ChainError::Untrusted {
            subject: subject(leaf),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::signed_by;
    use x509_cert::Certificate;

    fn pem(name: &str) -> Certificate {
        let bytes = crate::test_support::fixture("pki", name);
        Certificate::load_pem_chain(&bytes).unwrap().remove(0)
    }

    /// A remembered check answers only for the same signed bytes, signature and key: a changed
    /// certificate or another issuer is checked afresh, before and after the valid one.
    #[test]
    fn remembered_checks_answer_only_for_the_same_inputs() {
        let intermediate = pem("intermediate.pem");
        let root = pem("root.pem");
        let mut forged = intermediate.clone();
        forged.tbs_certificate.serial_number =
            x509_cert::serial_number::SerialNumber::new(&[0x42]).unwrap();
        for _ in 0..2 {
            assert!(!signed_by(&forged, &root));
            assert!(signed_by(&intermediate, &root));
            assert!(!signed_by(&intermediate, &intermediate));
            assert!(!signed_by(&forged, &root));
        }
    }
}
