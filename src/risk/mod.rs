//! The SmartScreen-risk estimate: what Windows users are likely to see when they download and open
//! a PE file, from evidence bingate reads offline.
//!
//! SmartScreen decides on the reputation of the file's hash and of its signing publisher, which no
//! offline tool can know; everything else it and Defender's machine-learning models weigh is in
//! the file (signature, metadata, packing). The estimate adds up documented weights
//! ([`weights::EVIDENCE`], overridable in a policy's `[risk]` section) into a score, a level and
//! one sentence. It never says that a file will pass.

pub mod motw;
pub mod weights;

use serde::Serialize;

use crate::cms::signer::KeyAlgorithm;
use crate::cms::verdict::{AnomalyId, ReasonCode, SignatureReport, SignatureVerdict, Status};
use crate::facts::{Kind, ToolchainName};
use crate::pe::PeHardening;
use crate::pe::content::Content;
use crate::pe::resources::Resources;
pub use motw::MarkOfTheWeb;
pub use weights::{EvidenceId, RiskLevel, Weights};

/// What every estimate says about itself.
pub const BASIS: &str = "offline estimate: the reputation of this file's hash and of its publisher cannot be known offline, so no score, however low, means the file will pass SmartScreen";

/// Executable sections above this entropy (bits/byte) look compressed or encrypted.
pub const SECTION_ENTROPY_LIMIT: f64 = 7.2;
/// A whole file above this entropy looks compressed or encrypted.
pub const FILE_ENTROPY_LIMIT: f64 = 6.7;
/// A signer certificate younger than this at signing time has no publisher reputation yet.
pub const YOUNG_CERT_SECONDS: u64 = 60 * 86_400;
/// CA/B Forum: certificates issued from this date need RSA 3072 (2021-06-01T00:00:00Z).
const RSA_3072_FROM: u64 = 1_622_505_600;
/// Words Windows' UAC installer detection looks for in 32-bit executable names.
pub const INSTALLER_WORDS: &[&str] = &["setup", "install", "update", "patch", "upgrade"];
/// Version strings a release engineer is expected to fill in.
pub const VERSION_FIELDS: &[&str] = &[
    "CompanyName",
    "ProductName",
    "FileDescription",
    "FileVersion",
    "OriginalFilename",
];
const EV_POLICY: &str = "2.23.140.1.3";
const ARTIFACT_SIGNING_EKU_PREFIX: &str = "1.3.6.1.4.1.311.97.";
const ARTIFACT_SIGNING_EKU: &str = "1.3.6.1.4.1.311.97.1.0";
pub use crate::budget::{COMPANIONS_SHOWN, EVIDENCE_ITEMS_SHOWN};

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub id: EvidenceId,
    pub weight: u32,
    /// The exact field or value that was seen.
    pub detail: String,
    /// What to do about it.
    pub fix: &'static str,
}

/// The `risk` object of a PE file's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskEstimate {
    pub score: u32,
    pub level: RiskLevel,
    pub outcome: String,
    /// Sorted by weight, heaviest first (then by id).
    pub evidence: Vec<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark_of_the_web: Option<MarkOfTheWeb>,
    pub basis: &'static str,
    /// The outcome's first sentence (what the signature and the file's kind make Windows show),
    /// kept so that evidence added later ([`add_unsigned_inside`]) can rebuild the rest.
    #[serde(skip)]
    outcome_head: String,
    /// Whether the signature is valid (the outcome then says when other evidence adds up).
    #[serde(skip)]
    signature_valid: bool,
}

/// Everything the estimate reads about one PE file.
pub struct Input<'a> {
    /// The file's name (no directory), for installer-name hints.
    pub file_name: &'a str,
    pub kind: Kind,
    pub bits: u8,
    pub toolchain: Option<ToolchainName>,
    pub hardening: &'a PeHardening,
    pub signature: &'a SignatureVerdict,
    /// The content facts and the resources (`None`: no resource directory), or why the headers
    /// they are read from could not be parsed.
    pub content: Result<(&'a Content, Option<&'a Resources>), String>,
    pub mark_of_the_web: Option<MarkOfTheWeb>,
    /// Unsigned PE files beside this one (directory scans; names only).
    pub unsigned_companions: &'a [String],
    /// How many unsigned PE files there are beside it (`unsigned_companions` names at most
    /// [`COMPANIONS_SHOWN`] of them).
    pub unsigned_companion_count: usize,
    /// The verification time (Unix seconds): the signing time when there is no timestamp.
    pub at: u64,
}

struct Collector<'w> {
    weights: &'w Weights,
    toolchain: Option<ToolchainName>,
    out: Vec<Evidence>,
}

impl Collector<'_> {
    fn add(&mut self, id: EvidenceId, detail: impl Into<String>) {
        self.add_weighted(id, weights::default_weight(id), detail);
    }

    fn add_weighted(&mut self, id: EvidenceId, default: u32, detail: impl Into<String>) {
        if self.out.iter().any(|e| e.id == id) {
            return;
        }
        self.out.push(Evidence {
            id,
            weight: self.weights.weight(id, default),
            detail: detail.into(),
            fix: weights::fix(id, self.toolchain),
        });
    }
}

/// The common name of an RFC 4514 subject (`CN=Contoso Ltd,O=Contoso`), else the whole subject.
pub fn common_name(subject: &str) -> &str {
    subject
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("CN="))
        .unwrap_or(subject)
}

/// Estimates the SmartScreen risk of one PE file.
pub fn estimate(input: &Input<'_>, weights: &Weights) -> RiskEstimate {
    let mut c = Collector {
        weights,
        toolchain: input.toolchain,
        out: Vec::new(),
    };
    let primary = input.signature.deciding();
    signature_evidence(&mut c, input, primary);
    resource_evidence(&mut c, input);
    content_evidence(&mut c, input);
    // Runs that estimate the risk compute the checksum (scan::check::Work).
    let checksum = input.hardening.checksum;
    if let (Some(false), Some(computed)) = (checksum.matches(), checksum.computed) {
        let default = if input.kind == Kind::Driver { 20 } else { 2 };
        let detail = if checksum.stored == 0 {
            format!("OptionalHeader.CheckSum is 0 (computed {computed:#010x})")
        } else {
            format!(
                "OptionalHeader.CheckSum is {:#010x}, computed {computed:#010x}",
                checksum.stored
            )
        };
        c.add_weighted(EvidenceId::BadChecksum, default, detail);
    }
    if input.signature.status != Status::Unsigned && input.unsigned_companion_count > 0 {
        let n = input
            .unsigned_companion_count
            .max(input.unsigned_companions.len());
        let mut names: Vec<&str> = input
            .unsigned_companions
            .iter()
            .take(COMPANIONS_SHOWN)
            .map(String::as_str)
            .collect();
        let more = n.saturating_sub(names.len());
        let mut detail = format!(
            "{n} unsigned PE file{} beside it: ",
            if n == 1 { "" } else { "s" }
        );
        names.sort_unstable();
        detail.push_str(&names.join(", "));
        if more > 0 {
            detail.push_str(&format!(" and {more} more"));
        }
        c.add(EvidenceId::UnsignedCompanions, detail);
    }
    if let Some(m) = &input.mark_of_the_web {
        let detail = match (&m.error, m.zone_id) {
            (Some(e), _) => format!("{}: {e}", m.source),
            (None, Some(id)) => {
                let mut d = format!("ZoneId={id} ({})", m.zone.unwrap_or("unknown zone"));
                if let Some(u) = &m.host_url {
                    d.push_str(&format!(", HostUrl={u}"));
                }
                if let Some(u) = &m.referrer_url {
                    d.push_str(&format!(", ReferrerUrl={u}"));
                }
                if id >= 3 {
                    d.push_str(": SmartScreen checks this copy when it is opened");
                } else {
                    d.push_str(": Windows does not ask SmartScreen about this copy; downloaded copies are checked");
                }
                d
            }
            (None, None) => format!("{}: no ZoneId", m.source),
        };
        c.add(EvidenceId::MarkOfTheWeb, detail);
    }

    let mut estimate = RiskEstimate {
        score: 0,
        level: RiskLevel::Low,
        outcome: String::new(),
        evidence: c.out,
        mark_of_the_web: input.mark_of_the_web.clone(),
        basis: BASIS,
        outcome_head: outcome_head(input, primary),
        signature_valid: input.signature.status == Status::Valid,
    };
    estimate.settle(weights);
    estimate
}

impl RiskEstimate {
    /// Sorts the evidence and derives the score, the level and the outcome from it.
    fn settle(&mut self, weights: &Weights) {
        self.evidence.sort_by(|a, b| {
            b.weight
                .cmp(&a.weight)
                .then(a.id.as_str().cmp(b.id.as_str()))
        });
        self.score = self
            .evidence
            .iter()
            .fold(0u32, |s, e| s.saturating_add(e.weight))
            .min(100);
        self.level = weights.level(self.score);
        self.outcome = outcome_tail(
            &self.outcome_head,
            self.signature_valid,
            &self.evidence,
            self.level,
        );
    }
}

/// Adds `unsigned-inside` to the estimate of a signed file that holds `count` unsigned PE files
/// (a container, or an installer whose payload was examined; `shown` names the first few), and
/// derives the score, level and outcome again. The scan knows what is inside only after the
/// file's own estimate is made, hence a separate step. Nothing is added when `count` is 0, when
/// the file itself is unsigned (the `unsigned` evidence already says everything a signature
/// would vouch for), or when the evidence is already there.
pub fn add_unsigned_inside(
    estimate: &mut RiskEstimate,
    weights: &Weights,
    count: u64,
    shown: &[String],
) {
    let id = EvidenceId::UnsignedInside;
    if count == 0
        || estimate
            .evidence
            .iter()
            .any(|e| e.id == id || e.id == EvidenceId::Unsigned)
    {
        return;
    }
    let n = count.max(shown.len() as u64);
    let names: Vec<&str> = shown
        .iter()
        .take(COMPANIONS_SHOWN)
        .map(String::as_str)
        .collect();
    let mut detail = format!(
        "{n} unsigned PE file{} inside",
        if n == 1 { "" } else { "s" }
    );
    if !names.is_empty() {
        detail.push_str(": ");
        detail.push_str(&names.join(", "));
    }
    let more = n.saturating_sub(names.len() as u64);
    if more > 0 && !names.is_empty() {
        detail.push_str(&format!(" and {more} more"));
    }
    estimate.evidence.push(Evidence {
        id,
        weight: weights.weight(id, weights::default_weight(id)),
        detail,
        fix: weights::fix(id, None),
    });
    estimate.settle(weights);
}

fn signature_evidence(c: &mut Collector<'_>, input: &Input<'_>, primary: Option<&SignatureReport>) {
    let v = input.signature;
    match v.status {
        Status::Unsigned => {
            c.add(
                EvidenceId::Unsigned,
                format!(
                    "no Authenticode signature ({})",
                    v.error.as_deref().unwrap_or("no certificate table")
                ),
            );
            return;
        }
        Status::Malformed if primary.is_none() => {
            c.add(
                EvidenceId::MalformedSignature,
                v.error
                    .clone()
                    .unwrap_or_else(|| "the signature cannot be read".into()),
            );
            return;
        }
        _ => {}
    }
    let Some(p) = primary else {
        c.add(
            EvidenceId::MalformedSignature,
            "no primary signature in the certificate table",
        );
        return;
    };
    let subject = p
        .signer
        .as_ref()
        .map_or("the signer", |s| common_name(&s.subject));
    for r in &p.reasons {
        let detail = || format!("{}: {}", r.code, r.message);
        match r.code {
            ReasonCode::UntrustedRoot => c.add(
                EvidenceId::UntrustedRoot,
                format!("'{subject}': {}", r.message),
            ),
            ReasonCode::DigestMismatch | ReasonCode::PageHashMismatch => {
                c.add(EvidenceId::DigestMismatch, detail());
            }
            ReasonCode::Revoked => c.add(EvidenceId::Revoked, detail()),
            ReasonCode::Expired | ReasonCode::TimestampOutsideValidity => {
                c.add(EvidenceId::CertTime, detail());
            }
            ReasonCode::WrongCertificateType => c.add(EvidenceId::WrongCertType, detail()),
            ReasonCode::MalformedSignature => c.add(EvidenceId::MalformedSignature, detail()),
            // Timestamp problems leave the signature without a usable timestamp (below).
            ReasonCode::TimestampInvalid
            | ReasonCode::TimestampUntrusted
            | ReasonCode::TimestampUnreadable => {}
            ReasonCode::AlgorithmMismatch
            | ReasonCode::BadSignature
            | ReasonCode::NoSignerCertificate
            | ReasonCode::BadChain
            | ReasonCode::Sha1Certificate
            | ReasonCode::TimestampRevoked
            | ReasonCode::Sha1Timestamp
            | ReasonCode::ModifiedAfterSigning
            | ReasonCode::SignaturePadding
            | ReasonCode::SignatureSectionAllocated
            | ReasonCode::SignerUnknown
            | ReasonCode::SignedAttributes
            | ReasonCode::UnsupportedDigest => c.add(EvidenceId::InvalidSignature, detail()),
        }
    }
    if matches!(v.status, Status::Invalid | Status::Malformed)
        && !c
            .out
            .iter()
            .any(|e| weights::default_weight(e.id) >= 25 && e.id != EvidenceId::NoTimestamp)
    {
        c.add(
            EvidenceId::InvalidSignature,
            format!("the signature is {}", v.status.as_str()),
        );
    }
    let ekus = p.signer.as_ref().map(|s| s.ekus.as_slice()).unwrap_or(&[]);
    // Artifact Signing certificates carry 1.3.6.1.4.1.311.97.1.0 and an identity EKU under the
    // same arc; name the identity when there is one.
    let artifact = ekus
        .iter()
        .filter(|e| e.starts_with(ARTIFACT_SIGNING_EKU_PREFIX))
        .max_by_key(|e| (e.as_str() != ARTIFACT_SIGNING_EKU, e.len()));
    let stamped = p.timestamp.as_ref().filter(|t| t.valid);
    if stamped.is_none() {
        let why = match (
            &p.timestamp,
            p.reasons.iter().find(|r| r.code.is_timestamp()),
        ) {
            (_, Some(r)) => format!("the timestamp does not count: {}", r.message),
            (Some(_), None) => "the timestamp does not verify".to_owned(),
            (None, None) => "no RFC 3161 or legacy timestamp".to_owned(),
        };
        match artifact {
            Some(eku) => c.add_weighted(
                EvidenceId::NoTimestamp,
                35,
                format!("{why}; the signer is a 72-hour Artifact Signing certificate (EKU {eku})"),
            ),
            None => c.add(EvidenceId::NoTimestamp, why),
        }
    }
    if let Some(eku) = artifact {
        c.add(
            EvidenceId::ArtifactSigning,
            format!(
                "signer '{subject}' carries the Artifact Signing identity EKU {eku}: reputation follows that identity, so the certificate's age (days) says nothing about the publisher's"
            ),
        );
    }
    if v.anomalies.iter().any(|a| a.id == AnomalyId::Sha1Only) {
        c.add(
            EvidenceId::Sha1,
            format!(
                "digest algorithms: {}",
                v.signatures
                    .iter()
                    .map(|s| s.digest_algorithm.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    for a in &v.anomalies {
        match a.id {
            AnomalyId::Padding => c.add(EvidenceId::CertPadding, format!("{}: {}", a.id, a.detail)),
            AnomalyId::TrailingData => {
                c.add(EvidenceId::TrailingData, format!("{}: {}", a.id, a.detail));
            }
            AnomalyId::MultipleEntries
            | AnomalyId::UnsupportedEntry
            | AnomalyId::TableSlack
            | AnomalyId::UnauthenticatedAttribute => {
                c.add(
                    EvidenceId::SignatureAnomaly,
                    format!("{}: {}", a.id, a.detail),
                );
            }
            AnomalyId::Sha1Only | AnomalyId::WeakKey | AnomalyId::BadChecksum => {}
        }
    }
    if let Some(s) = &p.signer {
        let not_before = s.not_before.unix();
        match (&s.key_algorithm, p.key_bits) {
            (KeyAlgorithm::Rsa, Some(bits)) if bits < 2048 => {
                c.add_weighted(
                    EvidenceId::WeakKey,
                    25,
                    format!("RSA {bits}-bit signer key"),
                );
            }
            (KeyAlgorithm::Rsa, Some(bits)) if bits < 3072 && not_before >= RSA_3072_FROM => {
                c.add_weighted(
                    EvidenceId::WeakKey,
                    10,
                    format!(
                        "RSA {bits}-bit key on a certificate issued {} (CA/B Forum: 3072 from 2021-06-01)",
                        s.not_before
                    ),
                );
            }
            (KeyAlgorithm::Ec, _) => c.add_weighted(
                EvidenceId::WeakKey,
                15,
                format!(
                    "ECDSA signer key{}: Smart App Control accepts no ECC signatures",
                    p.key_bits
                        .map(|b| format!(" ({b}-bit)"))
                        .unwrap_or_default()
                ),
            ),
            _ => {}
        }
        let signing_time = stamped.map_or(input.at, |t| t.time.unix());
        if artifact.is_none()
            && signing_time >= not_before
            && signing_time.saturating_sub(not_before) < YOUNG_CERT_SECONDS
        {
            c.add(
                EvidenceId::YoungCert,
                format!(
                    "certificate issued {} , {} before the {} {}",
                    s.not_before,
                    match signing_time.saturating_sub(not_before) / 86_400 {
                        1 => "1 day".to_owned(),
                        n => format!("{n} days"),
                    },
                    if stamped.is_some() {
                        "timestamp"
                    } else {
                        "verification time"
                    },
                    crate::time::show(signing_time)
                )
                .replace(" ,", ","),
            );
        }
        let ev_policy = s.policies.iter().any(|o| o == EV_POLICY);
        if ev_policy || !s.ev_subject_attributes.is_empty() {
            let mut what = Vec::new();
            if ev_policy {
                what.push(format!("policy {EV_POLICY}"));
            }
            what.extend(s.ev_subject_attributes.iter().cloned());
            c.add(
                EvidenceId::EvMarkers,
                format!(
                    "EV certificate ({}): no immediate reputation since 2024",
                    what.join(", ")
                ),
            );
        }
    }
}

fn resource_evidence(c: &mut Collector<'_>, input: &Input<'_>) {
    let executable = input.kind == Kind::Executable;
    let resources = match &input.content {
        Ok((_, r)) => *r,
        Err(e) => {
            c.add(
                EvidenceId::ResourceMalformed,
                format!("the resource directory cannot be read: {e}"),
            );
            None
        }
    };
    // Version information.
    match resources.and_then(|r| r.version.as_ref()) {
        None => c.add(
            EvidenceId::NoVersionInfo,
            if resources.is_none() {
                "no resource directory, so no VERSIONINFO"
            } else {
                "no RT_VERSION resource"
            },
        ),
        Some(v) => {
            let missing: Vec<&str> = VERSION_FIELDS
                .iter()
                .copied()
                .filter(|k| v.get(k).is_none_or(|s| s.trim().is_empty()))
                .collect();
            if !missing.is_empty() {
                c.add(
                    EvidenceId::NoVersionInfo,
                    format!("VERSIONINFO lacks or leaves empty: {}", missing.join(", ")),
                );
            }
        }
    }
    let manifest = resources.and_then(|r| r.manifest.as_ref());
    let level = manifest.and_then(|m| m.requested_execution_level.as_deref());
    if executable {
        match manifest {
            None => c.add(EvidenceId::NoManifest, "no RT_MANIFEST resource"),
            Some(m) if m.error.is_none() && level.is_none() => {
                c.add(
                    EvidenceId::NoManifest,
                    "the manifest has no requestedExecutionLevel",
                );
            }
            _ => {}
        }
        let lower = input.file_name.to_ascii_lowercase();
        if input.bits == 32
            && level.is_none()
            && let Some(word) = INSTALLER_WORDS.iter().find(|w| lower.contains(*w))
        {
            c.add(
                EvidenceId::InstallerDetection,
                format!(
                    "32-bit '{}' contains '{word}' and declares no requestedExecutionLevel: UAC treats it as an installer and asks for elevation",
                    input.file_name
                ),
            );
        }
        if manifest
            .and_then(|m| m.ui_access.as_deref())
            .is_some_and(|u| u.eq_ignore_ascii_case("true"))
        {
            c.add(
                EvidenceId::UiAccess,
                "requestedExecutionLevel uiAccess=\"true\"",
            );
        }
        if input.hardening.subsystem == "windows-gui"
            && resources.is_none_or(|r| r.icon_groups == 0)
        {
            c.add(
                EvidenceId::NoIcon,
                "windows-gui subsystem without an RT_GROUP_ICON resource",
            );
        }
    }
    if let Some(r) = resources {
        let mut problems: Vec<&str> = r.malformed.iter().map(String::as_str).collect();
        if let Some(e) = manifest.and_then(|m| m.error.as_deref())
            && !r.malformed.iter().any(|p| p.contains(e))
        {
            problems.push(e);
        }
        if let Some(first) = problems.first() {
            let detail = if problems.len() == 1 {
                (*first).to_owned()
            } else {
                format!("{} problems; first: {first}", problems.len())
            };
            c.add(EvidenceId::ResourceMalformed, detail);
        }
    }
}

/// The first [`EVIDENCE_ITEMS_SHOWN`] items joined with "; ", then how many more there are.
fn listed(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(EVIDENCE_ITEMS_SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(more) = items
        .len()
        .checked_sub(EVIDENCE_ITEMS_SHOWN)
        .filter(|&m| m > 0)
    {
        text.push_str(&format!("; and {more} more"));
    }
    text
}

fn content_evidence(c: &mut Collector<'_>, input: &Input<'_>) {
    // Unreadable headers were reported by `resource_evidence`.
    let Ok((content, _)) = &input.content else {
        return;
    };
    if !content.packer_markers.is_empty() {
        c.add(EvidenceId::Packer, listed(&content.packer_markers));
    }
    let hot: Vec<String> = content
        .sections
        .iter()
        .filter(|s| s.executable)
        .filter_map(|s| {
            s.entropy
                .filter(|e| *e > SECTION_ENTROPY_LIMIT)
                .map(|e| format!("executable section {} at {e:.2} bits/byte", s.name))
        })
        .collect();
    if !hot.is_empty() || content.file_entropy > FILE_ENTROPY_LIMIT {
        // The whole file first: it stays in view when the sections are cut short.
        let mut parts = Vec::with_capacity(hot.len().saturating_add(1));
        if content.file_entropy > FILE_ENTROPY_LIMIT {
            parts.push(format!(
                "whole file at {:.2} bits/byte",
                content.file_entropy
            ));
        }
        parts.extend(hot);
        c.add(EvidenceId::HighEntropy, listed(&parts));
    }
    if let Some((offset, len)) = content.overlay {
        let covered = if input.signature.status == Status::Unsigned {
            ""
        } else {
            " (outside the certificate table)"
        };
        c.add(
            EvidenceId::Overlay,
            format!("{len} bytes after the last section{covered}, from file offset {offset:#x}"),
        );
    }
}

/// The outcome's first sentence, from the signature and the file's kind (without its full stop).
fn outcome_head(input: &Input<'_>, primary: Option<&SignatureReport>) -> String {
    let publisher = primary
        .and_then(|p| p.signer.as_ref())
        .map(|s| common_name(&s.subject).to_owned());
    let named = publisher.as_deref().unwrap_or("an unnamed signer");
    let first_reason = primary
        .and_then(|p| p.reasons.first())
        .map_or(input.signature.status.as_str(), |r| r.code.as_str());
    let mut s = match input.signature.status {
        Status::Unsigned => "Strong block expected: the file is unsigned, so SmartScreen shows \"Windows protected your PC\" with an unknown publisher (and on machines set to \"Warn and prevent bypass\" it cannot be run)".to_owned(),
        Status::Malformed => "Strong block expected: the signature cannot be read, so Windows treats the file as unsigned".to_owned(),
        Status::Untrusted => format!("Strong block expected: the signature by '{named}' does not chain to a root Windows trusts for code signing"),
        Status::Invalid => format!("Strong block expected: the signature by '{named}' is not valid ({first_reason}), so Windows treats the file as unsigned or tampered with"),
        Status::Valid => format!("Warning naming '{named}' expected until the file and publisher build reputation"),
    };
    match input.kind {
        Kind::SharedLibrary => s.push_str(
            " (a DLL is not shown to SmartScreen on its own: Smart App Control and Defender judge it when a program loads it)",
        ),
        Kind::Driver | Kind::EfiApplication | Kind::EfiDriver | Kind::NativeExecutable => s.push_str(
            " (SmartScreen does not judge drivers, EFI or native images: the kernel or firmware applies its own signing rules; this is what Windows would show for a download)",
        ),
        _ => {}
    }
    s
}

/// The sentence a release engineer reads first: `head`, then what the evidence adds.
fn outcome_tail(head: &str, valid: bool, evidence: &[Evidence], level: RiskLevel) -> String {
    let mut s = head.to_owned();
    let defender: Vec<&str> = evidence
        .iter()
        .filter_map(|e| match e.id {
            EvidenceId::Packer => Some("packer markers"),
            EvidenceId::HighEntropy => Some("high entropy"),
            EvidenceId::NoVersionInfo => Some("missing version information"),
            _ => None,
        })
        .collect();
    s.push('.');
    if valid && level == RiskLevel::High {
        let top: Vec<&str> = evidence
            .iter()
            .filter(|e| e.weight > 0)
            .take(3)
            .map(|e| e.id.as_str())
            .collect();
        s.push_str(&format!(
            " The other evidence still adds up to a high risk: {}.",
            top.join(", ")
        ));
    }
    if !defender.is_empty() {
        s.push_str(&format!(
            " Defender machine-learning (!ml) detections are more likely: {}.",
            defender.join(", ")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    //! The signature evidence no committed fixture carries (EV, Artifact Signing, ECDSA, young
    //! and weak certificates), from a hand-built verdict over the facts of corpus/risk/app.exe.
    use super::*;
    use crate::cms::signer::{DigestCheck, SignerCert as Signer};
    use crate::cms::verdict::{PageHashReport, TimestampReport};

    fn at(rfc3339: &str) -> crate::time::Time {
        crate::time::Time::parse_rfc3339(rfc3339).expect("time")
    }

    fn signer() -> Signer {
        Signer {
            subject: "CN=Contoso Ltd,O=Contoso Ltd,C=US".into(),
            issuer: "CN=Some CA".into(),
            serial: "01".into(),
            not_before: at("2024-01-01T00:00:00Z"),
            not_after: at("2027-01-01T00:00:00Z"),
            sha256: String::new(),
            key_algorithm: KeyAlgorithm::Rsa,
            ekus: vec!["1.3.6.1.5.5.7.3.3".into()],
            policies: Vec::new(),
            ev_subject_attributes: Vec::new(),
        }
    }

    fn report(signer: Signer, bits: u32, stamped_at: Option<&str>) -> SignatureReport {
        SignatureReport {
            entry: 0,
            nested: 0,
            digest_algorithm: crate::hash::Algorithm::Known(crate::hash::DigestAlg::Sha256),
            digest: DigestCheck {
                error: None,
                algorithm: crate::hash::Algorithm::Known(crate::hash::DigestAlg::Sha256),
                signed: String::new(),
                computed: None,
                matches: true,
            },
            signer: Some(signer),
            key_bits: Some(bits),
            chain: Vec::new(),
            program_name: None,
            more_info_url: None,
            timestamp: stamped_at.map(|t| TimestampReport {
                kind: crate::cms::timestamp::Kind::Rfc3161,
                time: at(t),
                tsa: None,
                valid: true,
                chain: Vec::new(),
            }),
            page_hashes: PageHashReport {
                present: false,
                verified: false,
            },
            status: Status::Valid,
            reasons: Vec::new(),
            signer_id: None,
            changes: Vec::new(),
        }
    }

    fn estimate_with(r: SignatureReport) -> RiskEstimate {
        let data = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/risk/app.exe"))
            .expect("fixture");
        let facts = crate::pe::analyze(&data).expect("facts");
        let crate::facts::Hardening::Pe(h) = &facts.hardening else {
            panic!("PE")
        };
        let content = crate::pe::content::read(&data).expect("content");
        let resources = crate::pe::resources::read(&data).expect("resources");
        let verdict = SignatureVerdict {
            status: r.status,
            format: Some(crate::cms::verdict::SignatureFormat::Authenticode),
            signatures: vec![r],
            anomalies: Vec::new(),
            error: None,
            decided_by: None,
        };
        let input = Input {
            file_name: "app.exe",
            kind: facts.kind,
            bits: facts.bits,
            toolchain: Some(facts.toolchain.name),
            hardening: h,
            signature: &verdict,
            content: Ok((&content, resources.as_ref())),
            mark_of_the_web: None,
            unsigned_companions: &[],
            unsigned_companion_count: 0,
            at: crate::time::parse_rfc3339("2026-11-22T00:00:00Z").expect("time"),
        };
        estimate(&input, &Weights::default())
    }

    fn weight(r: &RiskEstimate, id: EvidenceId) -> Option<u32> {
        r.evidence.iter().find(|e| e.id == id).map(|e| e.weight)
    }

    #[test]
    fn a_clean_valid_signature_is_low_and_names_the_publisher() {
        let r = estimate_with(report(signer(), 3072, Some("2026-01-15T00:00:00Z")));
        assert_eq!((r.score, r.level), (0, RiskLevel::Low), "{:?}", r.evidence);
        assert!(
            r.outcome
                .starts_with("Warning naming 'Contoso Ltd' expected")
        );
        assert!(r.basis.starts_with("offline estimate"));
    }

    #[test]
    fn graded_key_evidence() {
        let r = estimate_with(report(signer(), 1024, Some("2026-01-15T00:00:00Z")));
        assert_eq!(weight(&r, EvidenceId::WeakKey), Some(25));
        let r = estimate_with(report(signer(), 2048, Some("2026-01-15T00:00:00Z")));
        assert_eq!(weight(&r, EvidenceId::WeakKey), Some(10));
        let mut old = signer();
        old.not_before = at("2021-05-31T00:00:00Z");
        let r = estimate_with(report(old, 2048, Some("2022-01-15T00:00:00Z")));
        assert_eq!(
            weight(&r, EvidenceId::WeakKey),
            None,
            "RSA 2048 issued before 2021-06-01"
        );
        let mut ec = signer();
        ec.key_algorithm = KeyAlgorithm::Ec;
        let r = estimate_with(report(ec, 256, Some("2026-01-15T00:00:00Z")));
        assert_eq!(weight(&r, EvidenceId::WeakKey), Some(15));
    }

    #[test]
    fn young_certificates_and_artifact_signing() {
        let mut young = signer();
        young.not_before = at("2026-01-01T00:00:00Z");
        let r = estimate_with(report(young.clone(), 3072, Some("2026-01-15T00:00:00Z")));
        assert_eq!(weight(&r, EvidenceId::YoungCert), Some(10));
        assert!(
            r.evidence[0]
                .detail
                .contains("14 days before the timestamp")
        );
        // Sixty days later it is not young any more.
        let r = estimate_with(report(young, 3072, Some("2026-03-15T00:00:00Z")));
        assert_eq!(weight(&r, EvidenceId::YoungCert), None);
        // Artifact Signing: no young-cert, and a missing timestamp weighs 35.
        let mut a = signer();
        a.not_before = at("2026-11-20T00:00:00Z");
        a.ekus = vec![
            "1.3.6.1.4.1.311.97.1.0".into(),
            "1.3.6.1.5.5.7.3.3".into(),
            "1.3.6.1.4.1.311.97.368317130.201670760.425010060.754072028".into(),
        ];
        let r = estimate_with(report(a, 3072, None));
        assert_eq!(weight(&r, EvidenceId::YoungCert), None);
        assert_eq!(weight(&r, EvidenceId::NoTimestamp), Some(35));
        assert_eq!(r.level, RiskLevel::High);
        let art = r
            .evidence
            .iter()
            .find(|e| e.id == EvidenceId::ArtifactSigning)
            .unwrap();
        assert!(art.detail.contains("311.97.368317130"), "{}", art.detail);
        assert!(
            r.outcome
                .contains("The other evidence still adds up to a high risk")
        );
    }

    #[test]
    fn ev_markers_are_reported_without_weight() {
        let mut ev = signer();
        ev.policies = vec!["2.23.140.1.3".into()];
        ev.ev_subject_attributes =
            vec!["businessCategory".into(), "jurisdictionCountryName".into()];
        let r = estimate_with(report(ev, 3072, Some("2026-01-15T00:00:00Z")));
        let e = r
            .evidence
            .iter()
            .find(|e| e.id == EvidenceId::EvMarkers)
            .unwrap();
        assert_eq!(e.weight, 0);
        assert_eq!(
            e.detail,
            "EV certificate (policy 2.23.140.1.3, businessCategory, jurisdictionCountryName): no immediate reputation since 2024"
        );
        assert_eq!(r.score, 0);
    }

    #[test]
    fn invalid_signatures_are_strong_blocks() {
        let mut r = report(signer(), 3072, Some("2026-01-15T00:00:00Z"));
        r.status = Status::Invalid;
        r.reasons = vec![crate::cms::verdict::reason(
            ReasonCode::DigestMismatch,
            "the image hash (sha256) differs from the signed one",
        )];
        let e = estimate_with(r);
        assert_eq!(weight(&e, EvidenceId::DigestMismatch), Some(40));
        assert_eq!(e.level, RiskLevel::High);
        assert!(e.outcome.starts_with(
            "Strong block expected: the signature by 'Contoso Ltd' is not valid (digest-mismatch)"
        ));
    }

    #[test]
    fn unsigned_executables_inside_a_signed_file_raise_the_estimate() {
        let mut r = estimate_with(report(signer(), 3072, Some("2026-01-15T00:00:00Z")));
        assert_eq!((r.score, r.level), (0, RiskLevel::Low));
        let shown: Vec<String> = (1..=6).map(|i| format!("setup.exe!/lib{i}.dll")).collect();
        add_unsigned_inside(&mut r, &Weights::default(), 9, &shown);
        assert_eq!(weight(&r, EvidenceId::UnsignedInside), Some(15));
        assert_eq!((r.score, r.level), (15, RiskLevel::Medium));
        assert_eq!(
            r.evidence[0].detail,
            "9 unsigned PE files inside: setup.exe!/lib1.dll, setup.exe!/lib2.dll, setup.exe!/lib3.dll, setup.exe!/lib4.dll, setup.exe!/lib5.dll and 4 more"
        );
        // Added once; the outcome is derived again from the new level.
        add_unsigned_inside(&mut r, &Weights::default(), 9, &shown);
        assert_eq!(r.score, 15);
        let heavy = Weights::with_overrides(
            [(EvidenceId::UnsignedInside, 40)].into_iter().collect(),
            None,
            None,
        );
        let mut r = estimate_with(report(signer(), 3072, Some("2026-01-15T00:00:00Z")));
        add_unsigned_inside(&mut r, &heavy, 1, &["a.zip!/x.dll".to_owned()]);
        assert_eq!((r.score, r.level), (40, RiskLevel::High));
        assert_eq!(
            r.evidence[0].detail,
            "1 unsigned PE file inside: a.zip!/x.dll"
        );
        assert!(
            r.outcome
                .ends_with("The other evidence still adds up to a high risk: unsigned-inside."),
            "{}",
            r.outcome
        );
    }

    #[test]
    fn nothing_inside_or_an_unsigned_file_adds_no_unsigned_inside() {
        let mut r = estimate_with(report(signer(), 3072, Some("2026-01-15T00:00:00Z")));
        add_unsigned_inside(&mut r, &Weights::default(), 0, &[]);
        assert_eq!(weight(&r, EvidenceId::UnsignedInside), None);
        let mut unsigned = report(signer(), 3072, None);
        unsigned.status = Status::Unsigned;
        let mut r = estimate_with(unsigned);
        r.evidence.push(Evidence {
            id: EvidenceId::Unsigned,
            weight: 40,
            detail: String::new(),
            fix: "",
        });
        let before = r.clone();
        add_unsigned_inside(&mut r, &Weights::default(), 3, &[]);
        assert_eq!(r, before);
    }

    #[test]
    fn common_names() {
        assert_eq!(common_name("CN=Contoso Ltd,O=Contoso"), "Contoso Ltd");
        assert_eq!(common_name("O=Contoso, CN=Contoso Ltd"), "Contoso Ltd");
        assert_eq!(common_name("O=Contoso"), "O=Contoso");
    }
}
