//! Judging one file's facts against a policy: which rules apply, a finding per rule, waivers
//! applied, the run's summary. What each check judges is in `checks/`, one file per family.

use serde::Serialize;

use super::checks::{contents, judge, risk_at_most, signing};
use super::model::{
    Check, Date, Finding, Level, Policy, Rule, Status, Waiver, WaiverRef, WaiverTarget,
};
use crate::cms::verdict::SignatureVerdict;
use crate::facts::Toolchain;
use crate::facts::{Format, Hardening, Kind};
use crate::risk::RiskEstimate;

/// The built-in rule every policy carries: a binary bingate cannot parse fails the gate.
pub const PARSE_ERROR_RULE: &str = "parse-error";

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

/// What a policy judges about one file: its facts and verdicts, and the path waivers match.
/// The report layer builds it from a report entry (`FileReport::subject`), so the policy layer
/// does not depend on the report layer.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Relative to the scanned root when found by a walk; waiver `path` globs match it.
    pub path: &'a str,
    pub sha256: &'a Option<String>,
    pub arch: &'a Option<String>,
    pub bits: Option<u8>,
    pub kind: Option<Kind>,
    pub toolchain: &'a Option<Toolchain>,
    pub hardening: &'a Option<Hardening>,
    /// Why the file could not be examined, when it could not.
    pub error: &'a Option<crate::error::FileError>,
    pub signature: &'a Option<SignatureVerdict>,
    pub risk: &'a Option<RiskEstimate>,
    /// What the file holds, when it is a container (or a PE carrying one).
    pub container: &'a Option<crate::container::Summary>,
    /// The installer payload a PE file carries, when one is recognised.
    pub installer: &'a Option<crate::container::Installer>,
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
    pub fn evaluate(&mut self, file: &Subject<'_>) -> Vec<Finding> {
        let mut out = Vec::with_capacity(self.policy.rules.len().saturating_add(1));
        let facts = file.hardening.as_ref().filter(|_| file.error.is_none());
        // A container (archive, package, installer database) walked without an error has no
        // facts of its own: its entries are judged as files, and only the rules about what it
        // holds judge it. One whose walk stopped fails `parse-error` like a binary that does
        // not parse: what it holds was not all examined.
        let container = file
            .container
            .as_ref()
            .filter(|_| facts.is_none() && file.error.is_none() && file.hardening.is_none());
        if facts.is_none() && container.is_none() {
            let message = format!(
                "bingate could not examine this file: {}",
                file.error.as_ref().map_or("no facts", |e| e.message())
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
                _ if container.is_some() => match &rule.check {
                    // Its `applies` filters describe binaries; a container has no facts to
                    // filter by, and what it holds is what the rule is about.
                    Check::Named(n) if n.reads_contents() => contents(*n, file),
                    _ => (
                        Status::NotApplicable,
                        "a container: the files inside are judged on their own".to_owned(),
                    ),
                },
                (Some(h), Some(j)) => match applicable(rule, file, h) {
                    Err(why) => (Status::NotApplicable, why),
                    Ok(()) => match &rule.check {
                        Check::Named(n) if n.needs_signature() => signing(*n, file),
                        Check::Named(n) if n.reads_contents() => contents(*n, file),
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
        file: &Subject<'_>,
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

    fn matches(&self, i: usize, w: &Waiver, file: &Subject<'_>) -> bool {
        match &w.target {
            WaiverTarget::Sha256(s) => file.sha256.as_deref() == Some(s.as_str()),
            // The same matching as `--exclude`: relative to the scanned root, at any depth.
            WaiverTarget::Path(_) => self
                .matchers
                .get(i)
                .and_then(Option::as_ref)
                .is_some_and(|m| m.is_match(file.path)),
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

fn applicable(rule: &Rule, file: &Subject<'_>, h: &Hardening) -> Result<(), String> {
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
