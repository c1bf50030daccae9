//! The verdict every signature format shares: the status vocabulary, what the caller decides
//! (trust anchors, time, strictness, revocation), and the identity checks that do not depend on
//! the format: the timestamp's time rules and the signer's chain to a code-signing anchor,
//! applied exactly as WinVerifyTrust applies them to Authenticode. Authenticode
//! (`crate::authenticode::verify`) and bingate's ELF signatures (`crate::elfsig`) both use it.

use serde::Serialize;
use x509_cert::Certificate;

pub use super::codes::{AnomalyId, ReasonCode, SignatureFormat};
use super::signer::{DigestCheck, SignerCert};
use super::timestamp::{Kind, Timestamp};
use crate::hash::DigestAlg;
pub use crate::pki::chain::Anchors;
use crate::pki::chain::{self, ChainError, Purpose};

const LIFETIME_SIGNING: &str = "1.3.6.1.4.1.311.10.3.13";

/// Windows' SHA-1 rules for Authenticode (Microsoft, "Windows Enforcement of Authenticode Code
/// Signing and Timestamping", TechNet wiki article 32288, 2016 revision; docs/authenticode.md
/// "SHA-1"). They apply only to chains that end at a Trusted Root Program root, and are
/// separate from `--strict`.
///
/// A code-signing certificate signed with SHA-1 is not trusted for a signature made (timestamped,
/// or verified without a timestamp) on or after 2016-01-01T00:00:00Z.
pub const SHA1_CODE_SIGNING_CUTOFF: u64 = 1_451_606_400;
/// A SHA-1 timestamp (the TSA's signature digest, or its certificate's signature hash) made after
/// 2017-02-14T00:00:00Z counts as no timestamp.
pub const SHA1_TIMESTAMP_CUTOFF: u64 = 1_487_030_400;

/// Is `cert` signed with SHA-1 (or MD5)?
pub fn signed_with_sha1(cert: &Certificate) -> bool {
    let oid = cert.signature_algorithm.oid.to_string();
    match crate::pki::keys::signature_algorithm(&oid) {
        Some((alg, _)) => alg.is_weak(),
        // md5WithRSAEncryption, md2WithRSAEncryption: older still.
        None => matches!(
            oid.as_str(),
            "1.2.840.113549.1.1.4" | "1.2.840.113549.1.1.2"
        ),
    }
}

/// Each certificate of `path` (leaf first) that a `--crl` file revokes, with the revocation time.
fn revocations<'c>(
    env: &'c VerifyEnv<'_>,
    path: &'c [Certificate],
) -> impl Iterator<Item = (&'c Certificate, u64)> {
    path.windows(2).filter_map(|pair| match pair {
        [cert, issuer] => (env.revoked)(cert, issuer).map(|at| (cert, at)),
        _ => None,
    })
}

crate::ids::id_enum! {
    /// The verdict vocabulary shared by every signature format bingate verifies.
    pub enum Status {
        Valid = "valid": "every check passed: the signature verifies and chains to a trusted anchor",
        Invalid = "invalid": "the signature, the signed bytes or the chain is wrong",
        Untrusted = "untrusted": "the signature verifies but its chain does not reach a trusted anchor",
        Unsigned = "unsigned": "no signature was found",
        Malformed = "malformed": "a signature is present but cannot be read",
    }
}

/// A machine-readable reason with a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub message: String,
}

pub fn reason(code: ReasonCode, message: impl Into<String>) -> Reason {
    Reason {
        code,
        message: message.into(),
    }
}

/// Revocation lookup: `Some(revoked_at)` when a CRL lists `cert` (issued by `issuer`).
pub type RevocationLookup<'a> = &'a (dyn Fn(&Certificate, &Certificate) -> Option<u64> + Sync);

/// Where anchors come from: fixed sets, or a store that may still be loading.
pub trait AnchorSource: Sync {
    fn code_signing(&self) -> &Anchors;
    fn time_stamping(&self) -> &Anchors;
}

/// Two fixed anchor sets.
pub struct FixedAnchors<'a> {
    pub code_signing: &'a Anchors,
    pub time_stamping: &'a Anchors,
}

impl AnchorSource for FixedAnchors<'_> {
    fn code_signing(&self) -> &Anchors {
        self.code_signing
    }
    fn time_stamping(&self) -> &Anchors {
        self.time_stamping
    }
}

/// A run's trust store: its anchors for each purpose.
impl AnchorSource for crate::pki::trust::TrustStore {
    fn code_signing(&self) -> &Anchors {
        &self.code_signing
    }
    fn time_stamping(&self) -> &Anchors {
        &self.time_stamping
    }
}

/// What the caller decides: trust, time, strictness, revocation.
pub struct VerifyEnv<'a> {
    /// Trust anchors, asked for only when a chain is built.
    pub anchors: &'a dyn AnchorSource,
    /// Verification time (Unix seconds) when no valid timestamp decides it.
    pub at: u64,
    pub strict: bool,
    pub require_all: bool,
    pub revoked: RevocationLookup<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimestampReport {
    pub kind: Kind,
    pub time: crate::time::Time,
    pub tsa: Option<String>,
    pub valid: bool,
    pub chain: Vec<String>,
}

pub fn has_eku(cert: &Certificate, oid: &str) -> bool {
    crate::pki::ext::eku(cert).oids().iter().any(|o| o == oid)
}

fn chain_status(e: &ChainError) -> (Status, ReasonCode) {
    match e {
        ChainError::Untrusted { .. }
        | ChainError::NoIssuer { .. }
        | ChainError::Disallowed { .. } => (Status::Untrusted, ReasonCode::UntrustedRoot),
        ChainError::Expired { .. } | ChainError::NotYetValid { .. } => {
            (Status::Invalid, ReasonCode::Expired)
        }
        ChainError::WrongPurpose { .. } | ChainError::KeyUsage { .. } => {
            (Status::Invalid, ReasonCode::WrongCertificateType)
        }
        _ => (Status::Invalid, ReasonCode::BadChain),
    }
}

/// A status that only gets worse, with the reasons that made it so.
pub struct Judgement {
    pub status: Status,
    pub reasons: Vec<Reason>,
}

impl Default for Judgement {
    fn default() -> Self {
        Judgement {
            status: Status::Valid,
            reasons: Vec::new(),
        }
    }
}

impl Judgement {
    /// Records `r`; `s` replaces the status when it is worse (invalid beats untrusted beats
    /// valid).
    pub fn worsen(&mut self, s: Status, r: Reason) {
        if self.status == Status::Valid
            || (self.status == Status::Untrusted && s == Status::Invalid)
        {
            self.status = s;
        }
        self.reasons.push(r);
    }
}

/// Judges the first timestamp of a signature whose certificate bag is `bag` (the pool for a
/// legacy countersigner's chain; an RFC 3161 token brings its own certificates).
pub fn judge_timestamp(
    env: &VerifyEnv<'_>,
    ts: &[Timestamp],
    signer: Option<&Certificate>,
    bag: &[Certificate],
) -> (Option<TimestampReport>, Option<u64>, Vec<Reason>) {
    let mut reasons = Vec::new();
    let Some(t) = ts.first() else {
        return (None, None, reasons);
    };
    let mut valid = t.imprint_match && t.cms.message_digest_match && t.cms.signature_valid;
    if !valid {
        reasons.push(reason(
            ReasonCode::TimestampInvalid,
            "the timestamp does not verify; it is ignored",
        ));
    }
    // RFC 3161 §2.3: the TSA's own certificate carries id-kp-timeStamping. Legacy
    // countersigners predate that rule: the EKU must appear somewhere in their path.
    let purpose = match t.kind {
        Kind::Rfc3161 => Purpose::TimeStamping,
        Kind::Legacy => Purpose::LegacyTimeStamping,
    };
    let chain = match &t.tsa_cert {
        Some(tsa) if valid => match chain::build(
            tsa,
            match t.kind {
                Kind::Rfc3161 => &t.certificates,
                Kind::Legacy => bag,
            },
            env.anchors.time_stamping(),
            t.time,
            purpose,
        ) {
            Ok(p) => {
                // A TSA certificate revoked at or before the stamped time vouches for nothing.
                for (cert, revoked_at) in revocations(env, &p.certs) {
                    if revoked_at <= t.time {
                        valid = false;
                        reasons.push(reason(
                            ReasonCode::TimestampRevoked,
                            format!(
                                "timestamp: {} was revoked {}, before the stamped time",
                                cert.tbs_certificate.subject,
                                crate::time::show(revoked_at)
                            ),
                        ));
                    }
                }
                let sha1 = DigestAlg::from_oid_name(&t.digest_algorithm)
                    .is_some_and(DigestAlg::is_weak)
                    || signed_with_sha1(tsa);
                if valid && p.program_root && sha1 && t.time > SHA1_TIMESTAMP_CUTOFF {
                    valid = false;
                    reasons.push(reason(
                        ReasonCode::Sha1Timestamp,
                        format!(
                            "timestamp: a SHA-1 timestamp made after {} counts as no timestamp \
                             on Windows (Trusted Root Program chain)",
                            crate::time::show(SHA1_TIMESTAMP_CUTOFF)
                        ),
                    ));
                }
                p.subjects
            }
            Err(e) => {
                valid = false;
                reasons.push(reason(
                    ReasonCode::TimestampUntrusted,
                    format!("timestamp: {}", e.message()),
                ));
                Vec::new()
            }
        },
        _ => Vec::new(),
    };
    // The stamped time must fall inside the signer's validity to extend it.
    if valid {
        if let Some(c) = signer {
            let v = &c.tbs_certificate.validity;
            let inside = t.time >= v.not_before.to_unix_duration().as_secs()
                && t.time <= v.not_after.to_unix_duration().as_secs();
            if !inside {
                valid = false;
                reasons.push(reason(
                    ReasonCode::TimestampOutsideValidity,
                    format!(
                        "timestamp {} is outside the signer's validity",
                        crate::time::show(t.time)
                    ),
                ));
            }
        }
    }
    let report = TimestampReport {
        kind: t.kind,
        time: crate::time::Time::from_unix(t.time),
        tsa: t.tsa.clone(),
        valid,
        chain,
    };
    (Some(report), valid.then_some(t.time), reasons)
}

/// The identity checks every format shares: the first timestamp (its signature, its TSA chain
/// for time stamping, and the stamped time inside the signer's validity), then the signer's
/// chain to a code-signing anchor at the decisive time (the stamped time, unless the signer
/// carries the lifetime-signing EKU), then revocation of every certificate in the path (a
/// revocation after a valid stamped time does not count). Returns the chain's subjects and the
/// timestamp report.
pub fn judge_identity(
    env: &VerifyEnv<'_>,
    signer: Option<&Certificate>,
    bag: &[Certificate],
    timestamps: &[Timestamp],
    j: &mut Judgement,
) -> (Vec<String>, Option<TimestampReport>) {
    let (timestamp, ts_time, ts_reasons) = judge_timestamp(env, timestamps, signer, bag);
    j.reasons.extend(ts_reasons);
    let lifetime = signer.is_some_and(|c| has_eku(c, LIFETIME_SIGNING));
    let decisive = match (ts_time, lifetime) {
        (Some(t), false) => t,
        _ => env.at,
    };
    let mut chain_subjects = Vec::new();
    match signer {
        None => j.worsen(
            Status::Invalid,
            reason(
                ReasonCode::NoSignerCertificate,
                "no certificate in the signature matches the signer",
            ),
        ),
        Some(leaf) => match chain::build(
            leaf,
            bag,
            env.anchors.code_signing(),
            decisive,
            Purpose::CodeSigning,
        ) {
            Ok(path) => {
                chain_subjects = path.subjects.clone();
                if path.program_root
                    && signed_with_sha1(leaf)
                    && decisive >= SHA1_CODE_SIGNING_CUTOFF
                {
                    j.worsen(
                        Status::Untrusted,
                        reason(
                            ReasonCode::Sha1Certificate,
                            format!(
                                "{} is signed with SHA-1; Windows does not trust SHA-1 \
                                 code-signing certificates for signatures made on or after {} \
                                 (this one: {})",
                                leaf.tbs_certificate.subject,
                                crate::time::show(SHA1_CODE_SIGNING_CUTOFF),
                                crate::time::show(decisive)
                            ),
                        ),
                    );
                }
                for (cert, revoked_at) in revocations(env, &path.certs) {
                    // A revocation after a valid stamped time does not count.
                    let saved = ts_time.is_some_and(|t| t < revoked_at);
                    if !saved {
                        j.worsen(
                            Status::Invalid,
                            reason(
                                ReasonCode::Revoked,
                                format!(
                                    "{} was revoked {}",
                                    cert.tbs_certificate.subject,
                                    crate::time::show(revoked_at)
                                ),
                            ),
                        );
                    }
                }
            }
            Err(e) => {
                let (s, code) = chain_status(&e);
                let mut msg = e.message();
                if lifetime && ts_time.is_some() {
                    msg.push_str(
                        " (lifetime-signing certificate: the timestamp does not extend it)",
                    );
                }
                j.worsen(s, reason(code, msg));
            }
        },
    }
    (chain_subjects, timestamp)
}

/// Page hashes (Authenticode only; other formats report none present).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageHashReport {
    pub present: bool,
    pub verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureReport {
    pub entry: usize,
    pub nested: usize,
    pub digest_algorithm: crate::hash::Algorithm,
    pub digest: DigestCheck,
    pub signer: Option<SignerCert>,
    pub key_bits: Option<u32>,
    pub chain: Vec<String>,
    pub program_name: Option<String>,
    pub more_info_url: Option<String>,
    pub timestamp: Option<TimestampReport>,
    pub page_hashes: PageHashReport,
    pub status: Status,
    pub reasons: Vec<Reason>,
    /// The signer as the signature names it (issuer and serial), for signatures that carry no
    /// certificate (kernel module signatures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer_id: Option<SignerId>,
    /// What changed since signing (ELF section signatures): section names, `headers`,
    /// `appended data`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
}

/// A signer identified by issuer and serial number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignerId {
    pub issuer: String,
    pub serial: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnomalyReport {
    pub id: AnomalyId,
    #[serde(flatten)]
    pub detail: serde_json::Value,
}

/// The `signature` object of a file's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureVerdict {
    pub status: Status,
    /// The signature format found: `authenticode`, `elf-section` (bingate's `.bingate.sig`) or
    /// `kernel-module` (an appended module signature); absent when none was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<SignatureFormat>,
    pub signatures: Vec<SignatureReport>,
    pub anomalies: Vec<AnomalyReport>,
    /// Set for unsigned and malformed files: why.
    pub error: Option<String>,
    /// Set when the file's status comes from a signature other than the primary one: a SHA-1
    /// primary that fails only on trust grounds (its chain, time or Windows' SHA-1 rules) with a
    /// valid SHA-256 (or stronger) signature nested in it, which is the signature Windows 8 and
    /// later check on dual-signed files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<DecidedBy>,
}

impl SignatureVerdict {
    /// No signature was found; `why` says where bingate looked.
    pub fn unsigned(why: impl Into<String>) -> Self {
        SignatureVerdict {
            status: Status::Unsigned,
            format: None,
            signatures: Vec::new(),
            anomalies: Vec::new(),
            error: Some(why.into()),
            decided_by: None,
        }
    }

    /// Why `ours` (one of this verdict's signatures, if any) is not valid: its reasons, then the
    /// verdict's error, joined with `; `.
    pub fn why(&self, ours: Option<&SignatureReport>) -> String {
        ours.into_iter()
            .flat_map(|s| s.reasons.iter().map(|r| r.message.clone()))
            .chain(self.error.clone())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The signature the file's status rests on: the one named by `decided_by`, else the primary
    /// (entry 0, not nested).
    pub fn deciding(&self) -> Option<&SignatureReport> {
        let (entry, nested) = self
            .decided_by
            .as_ref()
            .map_or((0, 0), |d| (d.entry, d.nested));
        self.signatures
            .iter()
            .find(|s| s.entry == entry && s.nested == nested)
    }
}

/// Which signature decided a file's status, and why not the primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecidedBy {
    pub entry: usize,
    pub nested: usize,
    pub reason: String,
}
