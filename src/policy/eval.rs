//! Judging one file's facts against a policy: a finding per rule, waivers applied.

use serde::Serialize;
use serde_json::Value;

use super::catalog;
use super::model::{
    Check, Comparison, Date, Finding, Level, NamedCheck, Policy, Rule, Scalar, Status, Waiver,
    WaiverRef, WaiverTarget,
};
use crate::elf::ElfHardening;
use crate::facts::{Format, Hardening, Kind};
use crate::pe::{PeHardening, SafeSeh};
use crate::report::FileReport;

/// The built-in rule every policy carries: a binary bingate cannot parse fails the gate.
pub const PARSE_ERROR_RULE: &str = "parse-error";

/// Directories anyone can write to: a library path there lets any local user inject code.
const WORLD_WRITABLE: &[&str] = &["/tmp", "/var/tmp", "/dev/shm"];

/// A waiver in the run-level report (expired or unused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverNote {
    pub rule: String,
    pub target: String,
    pub reason: String,
    pub expires: Option<String>,
    pub origin: String,
}

impl WaiverNote {
    fn of(w: &Waiver) -> Self {
        WaiverNote {
            rule: w.rule.clone(),
            target: match &w.target {
                WaiverTarget::Path(p) => format!("path {p}"),
                WaiverTarget::Sha256(s) => format!("sha256 {s}"),
            },
            reason: w.reason.clone(),
            expires: w.expires.map(|d| d.to_string()),
            origin: w.origin.clone(),
        }
    }
}

/// Failure counts per level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LevelCounts {
    pub deny: u64,
    pub warn: u64,
    pub info: u64,
}

/// The policy part of the run summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PolicySummary {
    pub failed: LevelCounts,
    pub waived: u64,
    pub files_failing: u64,
    pub expired_waivers: Vec<WaiverNote>,
    pub unused_waivers: Vec<WaiverNote>,
    /// Findings that applied (pass, fail or waived; not `not-applicable`), over all files: zero
    /// means the policy judged nothing (a Windows policy on ELF files), which the CLI reports.
    #[serde(skip)]
    pub applied: u64,
}

impl PolicySummary {
    /// Failures at `level` or above.
    pub fn failed_at_or_above(&self, level: Level) -> u64 {
        let f = &self.failed;
        match level {
            Level::Deny => f.deny,
            Level::Warn => f.deny.saturating_add(f.warn),
            Level::Info | Level::Off => f.deny.saturating_add(f.warn).saturating_add(f.info),
        }
    }
}

pub struct Evaluator<'p> {
    policy: &'p Policy,
    today: Date,
    matchers: Vec<Option<crate::glob::RootGlobs>>,
    used: Vec<bool>,
    expired_hit: Vec<bool>,
    summary: PolicySummary,
}

impl<'p> Evaluator<'p> {
    /// `today` decides waiver expiry (a waiver is valid through its `expires` day).
    pub fn new(policy: &'p Policy, today: Date) -> Self {
        let matchers = policy
            .waivers
            .iter()
            .map(|w| match &w.target {
                // Checked when the policy was parsed (crate::glob never panics).
                WaiverTarget::Path(p) => crate::glob::RootGlobs::new([p.as_str()]).ok(),
                WaiverTarget::Sha256(_) => None,
            })
            .collect();
        let n = policy.waivers.len();
        Evaluator {
            policy,
            today,
            matchers,
            used: vec![false; n],
            expired_hit: vec![false; n],
            summary: PolicySummary::default(),
        }
    }

    pub fn policy(&self) -> &Policy {
        self.policy
    }

    /// A finding for every rule that is not `off`, in policy order; parse failures first.
    pub fn evaluate(&mut self, file: &FileReport) -> Vec<Finding> {
        let mut out = Vec::with_capacity(self.policy.rules.len().saturating_add(1));
        let facts = file.hardening.as_ref().filter(|_| file.error.is_none());
        if facts.is_none() {
            let message = format!(
                "bingate could not examine this file: {}",
                file.error.as_deref().unwrap_or("no facts")
            );
            out.push(self.judge_failure(
                file,
                PARSE_ERROR_RULE,
                Level::Deny,
                message,
                Vec::new(),
                None,
            ));
        }
        let json = facts.and_then(|h| serde_json::to_value(h).ok());
        for rule in self.policy.rules.iter().filter(|r| r.level != Level::Off) {
            let (status, message) = match (facts, &json) {
                (Some(h), Some(j)) => match applicable(rule, file, h) {
                    Err(why) => (Status::NotApplicable, why),
                    Ok(()) => match &rule.check {
                        Check::Named(n) if n.needs_signature() => signing(*n, file),
                        Check::RiskAtMost(max) => risk_at_most(*max, file),
                        _ => judge(rule, h, j, file.bits),
                    },
                },
                _ => (
                    Status::NotApplicable,
                    "not evaluated: the file has no facts".to_owned(),
                ),
            };
            let remediation = rule
                .remediation
                .for_toolchain(file.toolchain.as_ref().map(|t| t.name))
                .map(str::to_owned);
            if status == Status::Fail {
                out.push(self.judge_failure(
                    file,
                    &rule.id,
                    rule.level,
                    message,
                    rule.controls.clone(),
                    remediation,
                ));
            } else {
                out.push(Finding {
                    rule: rule.id.clone(),
                    level: rule.level,
                    status,
                    message,
                    controls: rule.controls.clone(),
                    remediation: None,
                    waiver: None,
                });
            }
        }
        if out.iter().any(|f| f.status == Status::Fail) {
            self.summary.files_failing = self.summary.files_failing.saturating_add(1);
        }
        let applied = out
            .iter()
            .filter(|f| f.status != Status::NotApplicable)
            .count() as u64;
        self.summary.applied = self.summary.applied.saturating_add(applied);
        out
    }

    /// A failing finding, unless a live waiver covers it.
    fn judge_failure(
        &mut self,
        file: &FileReport,
        rule: &str,
        level: Level,
        mut message: String,
        controls: Vec<String>,
        remediation: Option<String>,
    ) -> Finding {
        let mut waiver = None;
        for (i, w) in self.policy.waivers.iter().enumerate() {
            if w.rule != rule || !self.matches(i, w, file) {
                continue;
            }
            let note = WaiverRef {
                reason: w.reason.clone(),
                expires: w.expires.map(|d| d.to_string()),
                origin: w.origin.clone(),
            };
            if w.expires.is_some_and(|d| d < self.today) {
                if let Some(hit) = self.expired_hit.get_mut(i) {
                    *hit = true;
                }
                message.push_str(&format!(
                    " (waiver at {} expired on {})",
                    w.origin,
                    w.expires.map(|d| d.to_string()).unwrap_or_default()
                ));
                continue;
            }
            if let Some(u) = self.used.get_mut(i) {
                *u = true;
            }
            waiver = Some(note);
            break;
        }
        let status = if waiver.is_some() {
            Status::Waived
        } else {
            Status::Fail
        };
        if status == Status::Waived {
            self.summary.waived = self.summary.waived.saturating_add(1);
        } else {
            let c = &mut self.summary.failed;
            let slot = match level {
                Level::Deny => &mut c.deny,
                Level::Warn => &mut c.warn,
                Level::Info | Level::Off => &mut c.info,
            };
            *slot = slot.saturating_add(1);
        }
        Finding {
            rule: rule.to_owned(),
            level,
            status,
            message,
            controls,
            remediation,
            waiver,
        }
    }

    fn matches(&self, i: usize, w: &Waiver, file: &FileReport) -> bool {
        match &w.target {
            WaiverTarget::Sha256(s) => file.sha256.as_deref() == Some(s.as_str()),
            // The same matching as `--exclude`: relative to the scanned root, at any depth.
            WaiverTarget::Path(_) => self
                .matchers
                .get(i)
                .and_then(Option::as_ref)
                .is_some_and(|m| m.is_match(file.match_path())),
        }
    }

    /// The run's policy summary: counts, expired waivers, and waivers that waived nothing.
    pub fn finish(mut self) -> PolicySummary {
        for (i, w) in self.policy.waivers.iter().enumerate() {
            let expired = w.expires.is_some_and(|d| d < self.today);
            if expired {
                self.summary.expired_waivers.push(WaiverNote::of(w));
            } else if !self.used.get(i).copied().unwrap_or(false) {
                self.summary.unused_waivers.push(WaiverNote::of(w));
            }
        }
        self.summary
    }
}

fn applicable(rule: &Rule, file: &FileReport, h: &Hardening) -> Result<(), String> {
    let a = &rule.applies;
    if file.kind == Some(Kind::DebugInfo) && !a.kind.contains(&Kind::DebugInfo) {
        return Err(
            "a separate debug-info file (its loadable sections have no bytes in the file): not a loadable binary"
                .to_owned(),
        );
    }
    let format = match h {
        Hardening::Pe(_) => Format::Pe,
        Hardening::Elf(_) => Format::Elf,
    };
    let required_format = a.format.or(match &rule.check {
        Check::Named(n) => Some(n.format()),
        Check::RiskAtMost(_) => Some(Format::Pe),
        Check::Fact { .. } => None,
    });
    if let Some(f) = required_format {
        if f != format {
            return Err(format!("applies to {} files", f.as_str()));
        }
    }
    if !a.arch.is_empty() && !file.arch.as_ref().is_some_and(|x| a.arch.contains(x)) {
        return Err(format!("applies to arch {}", a.arch.join(", ")));
    }
    if !a.bits.is_empty() && !file.bits.is_some_and(|b| a.bits.contains(&b)) {
        let bits: Vec<String> = a.bits.iter().map(u8::to_string).collect();
        return Err(format!("applies to {}-bit files", bits.join("/")));
    }
    if !a.kind.is_empty() && !file.kind.is_some_and(|k| a.kind.contains(&k)) {
        let kinds: Vec<&str> = a.kind.iter().map(|k| k.as_str()).collect();
        return Err(format!("applies to kind {}", kinds.join(", ")));
    }
    if !a.subsystem.is_empty() {
        let sub = match h {
            Hardening::Pe(p) => Some(p.subsystem.as_str()),
            Hardening::Elf(_) => None,
        };
        if !sub.is_some_and(|s| a.subsystem.iter().any(|x| x == s)) {
            return Err(format!("applies to subsystem {}", a.subsystem.join(", ")));
        }
    }
    if !a.toolchain.is_empty()
        && !file
            .toolchain
            .as_ref()
            .is_some_and(|t| a.toolchain.contains(&t.name))
    {
        let names: Vec<&str> = a.toolchain.iter().map(|t| t.as_str()).collect();
        return Err(format!("applies to toolchain {}", names.join(", ")));
    }
    Ok(())
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Number(n) => match n.as_u64() {
            Some(u) if u > 0xffff => format!("{u:#x}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn show_scalar(s: &Scalar) -> String {
    match s {
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) if *i > 0xffff => format!("{i:#x}"),
        Scalar::Int(i) => i.to_string(),
        Scalar::Str(s) => format!("\"{s}\""),
    }
}

fn scalar_eq(v: &Value, s: &Scalar) -> bool {
    match (v, s) {
        (Value::Bool(a), Scalar::Bool(b)) => a == b,
        (Value::Number(n), Scalar::Int(i)) => {
            n.as_i64() == Some(*i)
                || (n.as_u64().is_some() && *i >= 0 && n.as_u64() == u64::try_from(*i).ok())
        }
        (Value::String(a), Scalar::Str(b)) => a == b,
        _ => false,
    }
}

fn judge(rule: &Rule, h: &Hardening, json: &Value, bits: Option<u8>) -> (Status, String) {
    match &rule.check {
        Check::Named(n) => named(*n, h, bits),
        // Judged from the file's estimate in `evaluate`, never from hardening facts.
        Check::RiskAtMost(_) => (
            Status::NotApplicable,
            "no SmartScreen-risk estimate in this run".into(),
        ),
        Check::Fact { fact, comparison } => {
            let pointer = format!("/{}", fact.replace('.', "/"));
            let Some(v) = json.pointer(&pointer) else {
                return (
                    Status::NotApplicable,
                    format!("{fact} is not reported for this file"),
                );
            };
            let format = match h {
                Hardening::Pe(_) => Format::Pe,
                Hardening::Elf(_) => Format::Elf,
            };
            let source = catalog::lookup(format, fact)
                .map(|f| f.source)
                .unwrap_or("");
            let (ok, required) = match comparison {
                Comparison::Equals(s) => (scalar_eq(v, s), show_scalar(s)),
                Comparison::OneOf(list) => (
                    list.iter().any(|s| scalar_eq(v, s)),
                    format!(
                        "one of {}",
                        list.iter().map(show_scalar).collect::<Vec<_>>().join(", ")
                    ),
                ),
                Comparison::Empty(want) => {
                    let empty = v.as_array().is_some_and(Vec::is_empty);
                    (
                        empty == *want,
                        if *want {
                            "empty".into()
                        } else {
                            "non-empty".into()
                        },
                    )
                }
                Comparison::AtLeast(n) => {
                    (v.as_i64().is_some_and(|x| x >= *n), format!("at least {n}"))
                }
                Comparison::AtMost(n) => {
                    (v.as_i64().is_some_and(|x| x <= *n), format!("at most {n}"))
                }
            };
            let shown = show(v);
            if ok {
                (Status::Pass, format!("{fact} = {shown} ({source})"))
            } else {
                (
                    Status::Fail,
                    format!("{fact} = {shown}, required {required} ({source})"),
                )
            }
        }
    }
}

/// The SmartScreen-risk estimate against the highest level the rule allows.
fn risk_at_most(max: crate::risk::RiskLevel, file: &FileReport) -> (Status, String) {
    let Some(r) = &file.risk else {
        return (
            Status::NotApplicable,
            "no SmartScreen-risk estimate in this run (signatures were not verified)".into(),
        );
    };
    let top: Vec<String> = r
        .evidence
        .iter()
        .filter(|e| e.weight > 0)
        .take(3)
        .map(|e| format!("{} ({})", e.id, e.weight))
        .collect();
    let message = format!(
        "risk {} (score {}/100){}: {}",
        r.level.as_str(),
        r.score,
        if top.is_empty() {
            String::new()
        } else {
            format!("; {}", top.join(", "))
        },
        r.outcome
    );
    if r.level <= max {
        (Status::Pass, message)
    } else {
        (Status::Fail, message)
    }
}

/// Signing checks read the file's signature verdict (Authenticode, or an ELF signature).
fn signing(check: NamedCheck, file: &FileReport) -> (Status, String) {
    use crate::cms::verdict::Status as Sig;
    let Some(v) = &file.signature else {
        return (
            Status::NotApplicable,
            "the signature was not verified in this run".into(),
        );
    };
    let primary = v.deciding();
    let first_reason = || {
        primary
            .and_then(|s| s.reasons.first())
            .map(|r| r.message.clone())
            .or_else(|| v.error.clone())
            .unwrap_or_default()
    };
    let has = |id: &str| v.anomalies.iter().any(|a| a.id == id);
    match check {
        NamedCheck::ElfSigned => match v.status {
            Sig::Unsigned => (
                Status::Fail,
                "no ELF signature (no .bingate.sig section, no appended module signature)".into(),
            ),
            Sig::Malformed => (
                Status::Fail,
                format!("the signature cannot be read: {}", first_reason()),
            ),
            _ => (
                Status::Pass,
                format!(
                    "signed ({}, {})",
                    v.format.unwrap_or("unknown format"),
                    v.status.as_str()
                ),
            ),
        },
        NamedCheck::PeSigned => match v.status {
            Sig::Unsigned => (
                Status::Fail,
                "no Authenticode signature (certificate table absent)".into(),
            ),
            Sig::Malformed => (
                Status::Fail,
                format!("the certificate table cannot be read: {}", first_reason()),
            ),
            _ => (Status::Pass, format!("signed ({})", v.status.as_str())),
        },
        NamedCheck::PeSignatureValid | NamedCheck::ElfSignatureValid => match v.status {
            Sig::Valid => {
                let who = primary
                    .and_then(|s| s.signer.as_ref())
                    .map(|s| s.subject.clone())
                    .unwrap_or_default();
                (Status::Pass, format!("valid signature by {who}"))
            }
            // An unsigned file fails pe-signed / elf-signed; judging its absent signature again
            // adds nothing.
            Sig::Unsigned => (
                Status::NotApplicable,
                if check == NamedCheck::ElfSignatureValid {
                    "unsigned: no ELF signature to verify (elf-signed requires one)"
                } else {
                    "unsigned (see pe-signed)"
                }
                .into(),
            ),
            s => (
                Status::Fail,
                format!("signature {}: {}", s.as_str(), first_reason()),
            ),
        },
        NamedCheck::PeTimestamped => match primary.and_then(|s| s.timestamp.as_ref()) {
            Some(t) if t.valid => (Status::Pass, format!("timestamped {}", t.time)),
            Some(t) => (
                Status::Fail,
                format!("the timestamp ({}) does not verify", t.time),
            ),
            None if v.status == Sig::Unsigned => (Status::NotApplicable, "unsigned".into()),
            None => (
                Status::Fail,
                "no timestamp: the signature expires with the certificate".into(),
            ),
        },
        NamedCheck::PeNoSha1Only => {
            if v.signatures.is_empty() {
                (Status::NotApplicable, "unsigned".into())
            } else if has("sha1-only") {
                (Status::Fail, "every signature uses SHA-1 or MD5".into())
            } else {
                (
                    Status::Pass,
                    "a SHA-256 or stronger signature is present".into(),
                )
            }
        }
        NamedCheck::PeNoSignaturePadding => {
            let found: Vec<&str> = v
                .anomalies
                .iter()
                .filter(|a| a.id == "padding" || a.id == "trailing-data")
                .map(|a| a.id.as_str())
                .collect();
            if v.status == Sig::Unsigned {
                (Status::NotApplicable, "unsigned".into())
            } else if found.is_empty() {
                (
                    Status::Pass,
                    "no padding in WIN_CERTIFICATE and no data after the table".into(),
                )
            } else {
                (
                    Status::Fail,
                    format!("bytes outside the signature: {}", found.join(", ")),
                )
            }
        }
        NamedCheck::PeSigningKeySize => {
            // RSA-2048 is the floor; the CA/Browser Forum code-signing BRs (§6.1.5.2) require
            // RSA-3072 for certificates issued from 2021-06-01.
            const CAB_3072_FROM: u64 = 1_622_505_600; // 2021-06-01T00:00:00Z
            let weak: Vec<String> = v
                .signatures
                .iter()
                .filter_map(|s| {
                    let signer = s.signer.as_ref().filter(|x| x.key_algorithm == "rsa")?;
                    let bits = s.key_bits?;
                    let issued = crate::time::parse_rfc3339(&signer.not_before).unwrap_or(0);
                    if bits < 2048 {
                        Some(format!("RSA-{bits} (under 2048)"))
                    } else if bits < 3072 && issued >= CAB_3072_FROM {
                        Some(format!("RSA-{bits} on a certificate issued {} (CA/B Forum: 3072 from 2021-06-01)", signer.not_before))
                    } else {
                        None
                    }
                })
                .collect();
            match (v.signatures.is_empty(), weak.is_empty()) {
                (true, _) => (Status::NotApplicable, "unsigned".into()),
                (false, true) => (
                    Status::Pass,
                    "signer keys meet RSA-2048 and the CA/B Forum minimums".into(),
                ),
                (false, false) => (
                    Status::Fail,
                    format!("weak signer keys: {}", weak.join("; ")),
                ),
            }
        }
        _ => (Status::NotApplicable, String::new()),
    }
}

fn named(check: NamedCheck, h: &Hardening, bits: Option<u8>) -> (Status, String) {
    let only_64 = || (Status::NotApplicable, "applies to 64-bit images".to_owned());
    match (check, h) {
        (NamedCheck::PeAslr, Hardening::Pe(p)) => pe_aslr(p),
        (NamedCheck::PeHighEntropyVa | NamedCheck::PeImageBaseAbove4Gb, Hardening::Pe(_)) if bits != Some(64) => only_64(),
        (NamedCheck::PeHighEntropyVa, Hardening::Pe(p)) => pe_heva(p),
        (NamedCheck::PeImageBaseAbove4Gb, Hardening::Pe(p)) => {
            if p.image_base > 0xffff_ffff {
                (Status::Pass, format!("ImageBase {:#x} is above 4 GiB", p.image_base))
            } else {
                (Status::Fail, format!("ImageBase {:#x} is below 4 GiB (OptionalHeader.ImageBase)", p.image_base))
            }
        }
        (NamedCheck::PeCfg, Hardening::Pe(p)) => match (p.guard_cf, p.cfg_instrumented) {
            (true, true) => (Status::Pass, "GUARD_CF (0x4000) set and the load config carries the CFG check pointer and function table".into()),
            (false, _) => (Status::Fail, "DllCharacteristics lacks GUARD_CF (0x4000)".into()),
            (true, false) if !p.has_load_config => (Status::Fail, "GUARD_CF (0x4000) is set but the image has no load config: the loader has nothing to enforce".into()),
            (true, false) => (Status::Fail, "GUARD_CF (0x4000) is set but the load config lacks the CFG check pointer, function table or instrumentation flags (GuardFlags 0x500)".into()),
        },
        (NamedCheck::PeSafeSeh, Hardening::Pe(p)) => match p.safe_seh {
            SafeSeh::Table => (Status::Pass, "load config SEHandlerTable lists the image's exception handlers".into()),
            SafeSeh::NoSeh => (Status::Pass, "DllCharacteristics NO_SEH (0x0400): the image has no SEH handlers".into()),
            SafeSeh::Absent => (Status::Fail, "neither a SafeSEH handler table in the load config nor NO_SEH (0x0400)".into()),
            SafeSeh::NotApplicable => (Status::NotApplicable, "SafeSEH applies to x86 images only (others unwind by table)".into()),
        },
        (NamedCheck::PeChecksum, Hardening::Pe(p)) => {
            let c = p.checksum;
            if c.stored == 0 {
                (Status::Fail, format!("OptionalHeader.CheckSum is 0 (computed {:#x})", c.computed))
            } else if c.stored != c.computed {
                (Status::Fail, format!("OptionalHeader.CheckSum {:#x} differs from the computed {:#x}", c.stored, c.computed))
            } else {
                (Status::Pass, format!("OptionalHeader.CheckSum {:#x} matches the computed checksum", c.stored))
            }
        }
        (NamedCheck::ElfFortify, Hardening::Elf(e)) => elf_fortify(e),
        (NamedCheck::ElfSafePaths, Hardening::Elf(e)) => elf_safe_paths(e),
        (c, _) => (Status::NotApplicable, format!("{} applies to {} files", c.name(), c.format().as_str())),
    }
}

fn pe_aslr(p: &PeHardening) -> (Status, String) {
    if !p.dynamic_base {
        return (
            Status::Fail,
            "DllCharacteristics lacks DYNAMIC_BASE (0x0040)".into(),
        );
    }
    if p.relocs_stripped {
        return (Status::Fail, "DYNAMIC_BASE is set but relocations are stripped (FileHeader RELOCS_STRIPPED 0x0001): the image cannot move".into());
    }
    if p.has_relocations {
        (
            Status::Pass,
            "DYNAMIC_BASE (0x0040) set with a base-relocation directory".into(),
        )
    } else {
        (Status::Pass, "DYNAMIC_BASE (0x0040) set and relocations not stripped; no base-relocation directory (nothing to relocate)".into())
    }
}

fn pe_heva(p: &PeHardening) -> (Status, String) {
    if !p.high_entropy_va {
        return (
            Status::Fail,
            "DllCharacteristics lacks HIGH_ENTROPY_VA (0x0020)".into(),
        );
    }
    if !p.dynamic_base {
        return (
            Status::Fail,
            "HIGH_ENTROPY_VA is set without DYNAMIC_BASE (0x0040): it has no effect".into(),
        );
    }
    if !p.large_address_aware {
        return (
            Status::Fail,
            "HIGH_ENTROPY_VA is set without LARGE_ADDRESS_AWARE (0x0020): it has no effect".into(),
        );
    }
    (
        Status::Pass,
        "HIGH_ENTROPY_VA (0x0020) with DYNAMIC_BASE and LARGE_ADDRESS_AWARE".into(),
    )
}

fn elf_fortify(e: &ElfHardening) -> (Status, String) {
    let (f, u) = (e.fortify.fortified, e.fortify.unfortified);
    match (f, u) {
        (0, 0) => (
            Status::NotApplicable,
            "no fortifiable libc function is used".into(),
        ),
        (0, u) => (
            Status::Fail,
            format!("{u} fortifiable libc functions imported, none through a __*_chk variant"),
        ),
        (f, u) => (
            Status::Pass,
            format!("{f} __*_chk functions imported ({u} calls left unfortified)"),
        ),
    }
}

/// Why an RPATH/RUNPATH entry is unsafe, if it is.
fn path_problem(entry: &str) -> Option<&'static str> {
    if entry.is_empty() {
        return Some("empty entry (means the current directory)");
    }
    if entry.starts_with("$ORIGIN") || entry.starts_with("${ORIGIN}") {
        return None;
    }
    if !entry.starts_with('/') {
        return Some("relative to the current directory");
    }
    let under =
        |dir: &str| entry == dir || entry.strip_prefix(dir).is_some_and(|r| r.starts_with('/'));
    WORLD_WRITABLE
        .iter()
        .any(|d| under(d))
        .then_some("in a world-writable directory")
}

fn elf_safe_paths(e: &ElfHardening) -> (Status, String) {
    let entries: Vec<(&str, &String)> = e
        .rpath
        .iter()
        .map(|p| ("RPATH", p))
        .chain(e.runpath.iter().map(|p| ("RUNPATH", p)))
        .collect();
    if entries.is_empty() {
        return (Status::Pass, "no RPATH or RUNPATH".into());
    }
    let bad: Vec<String> = entries
        .iter()
        .filter_map(|(tag, p)| path_problem(p).map(|why| format!("{tag} \"{p}\": {why}")))
        .collect();
    if bad.is_empty() {
        (
            Status::Pass,
            format!(
                "{} RPATH/RUNPATH entries, all absolute or $ORIGIN-relative",
                entries.len()
            ),
        )
    } else {
        (Status::Fail, bad.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_library_paths_are_named() {
        assert_eq!(
            path_problem(""),
            Some("empty entry (means the current directory)")
        );
        assert_eq!(
            path_problem("lib"),
            Some("relative to the current directory")
        );
        assert_eq!(
            path_problem("/tmp/lib"),
            Some("in a world-writable directory")
        );
        assert_eq!(path_problem("/tmpfoo/lib"), None);
        assert_eq!(path_problem("$ORIGIN/../lib"), None);
        assert_eq!(path_problem("/usr/lib/x"), None);
    }
}
