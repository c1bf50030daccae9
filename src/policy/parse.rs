//! Reading policy and waiver files with positions.
//!
//! Phase one walks the TOML document and records every problem (unknown keys, wrong types,
//! unknown facts, bad levels, bad dates) with its position instead of stopping at the first;
//! phase two (`load.rs`) resolves `extends` and overrides. (After cargo-deny's `cfg.rs`.)

use toml_span::Span;
use toml_span::value::{Table, Value};

use super::catalog::{self, FactType};
use super::diag::{Sink, did_you_mean};
use super::model::{
    Applies, Check, Comparison, Date, Level, NamedCheck, Remediation, Rule, Scalar, Waiver,
    WaiverTarget,
};
use crate::facts::{Format, Kind, ToolchainName};

/// A policy file as written: before `extends` and overrides are applied.
#[derive(Debug, Clone)]
pub struct RawPolicy {
    pub name: String,
    pub description: String,
    pub extends: Option<(String, usize)>,
    pub rules: Vec<(Rule, usize)>,
    pub overrides: Vec<Override>,
    pub waivers: Vec<Waiver>,
    /// The `[risk]` section: weight and threshold overrides for the SmartScreen-risk estimate.
    pub risk: Option<RawRisk>,
    /// Ids of every [[rule]] written, including rules dropped for errors, so that phase two
    /// does not also call them unknown.
    pub attempted_ids: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Override {
    pub rule: String,
    pub level: Level,
    /// Byte offset of the rule id, for errors.
    pub at: usize,
}

/// A policy's `[risk]` section as written.
#[derive(Debug, Clone, Default)]
pub struct RawRisk {
    /// (evidence id, weight).
    pub weights: Vec<(crate::risk::weights::EvidenceId, u32)>,
    pub medium: Option<u32>,
    pub high: Option<u32>,
    /// Byte offset of the section, for errors found when thresholds are combined.
    pub at: usize,
}

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "extends",
    "rule",
    "override",
    "waiver",
    "risk",
];
const RISK_KEYS: &[&str] = &["weights", "medium", "high"];
/// The largest weight or threshold a `[risk]` section may set (scores are capped at 100).
const MAX_RISK_VALUE: i64 = 100;
const RULE_KEYS: &[&str] = &[
    "id",
    "description",
    "level",
    "applies",
    "check",
    "controls",
    "rationale",
    "remediation",
];
const APPLIES_KEYS: &[&str] = &["format", "arch", "bits", "kind", "subsystem", "toolchain"];
const CHECK_KEYS: &[&str] = &[
    "fact",
    "named",
    "risk_at_most",
    "equals",
    "one_of",
    "empty",
    "at_least",
    "at_most",
];
const REMEDIATION_KEYS: &[&str] = &[
    "msvc", "mingw", "go", "rust", "gcc", "clang", "dotnet", "default",
];
const OVERRIDE_KEYS: &[&str] = &["rule", "level"];
const WAIVER_KEYS: &[&str] = &["rule", "path", "sha256", "reason", "expires"];
const KINDS: &[&str] = &[
    "executable",
    "shared-library",
    "object",
    "driver",
    "native-executable",
    "efi-application",
    "efi-driver",
    "core",
    "debug-info",
    "other",
];
const TOOLCHAINS: &[&str] = &[
    "go", "rust", "msvc", "mingw", "gcc", "clang", "dotnet", "unknown",
];

fn kind_of(s: &str) -> Option<Kind> {
    Some(match s {
        "executable" => Kind::Executable,
        "shared-library" => Kind::SharedLibrary,
        "object" => Kind::Object,
        "driver" => Kind::Driver,
        "native-executable" => Kind::NativeExecutable,
        "efi-application" => Kind::EfiApplication,
        "efi-driver" => Kind::EfiDriver,
        "core" => Kind::Core,
        "debug-info" => Kind::DebugInfo,
        "other" => Kind::Other,
        _ => return None,
    })
}

fn toolchain_of(s: &str) -> Option<ToolchainName> {
    Some(match s {
        "go" => ToolchainName::Go,
        "rust" => ToolchainName::Rust,
        "msvc" => ToolchainName::Msvc,
        "mingw" => ToolchainName::Mingw,
        "gcc" => ToolchainName::Gcc,
        "clang" => ToolchainName::Clang,
        "dotnet" => ToolchainName::Dotnet,
        "unknown" => ToolchainName::Unknown,
        _ => return None,
    })
}

/// What a TOML value is, for messages ("a string", "an integer"…).
pub fn type_name(v: &Value<'_>) -> &'static str {
    if v.as_str().is_some() {
        "a string"
    } else if v.as_integer().is_some() {
        "an integer"
    } else if v.as_bool().is_some() {
        "a boolean"
    } else if v.as_array().is_some() {
        "an array"
    } else if v.as_table().is_some() {
        "a table"
    } else {
        "a float"
    }
}

/// Reports every key of `t` not in `allowed`, in file order, with a did-you-mean hint.
pub fn unknown_keys(sink: &mut Sink<'_>, t: &Table<'_>, allowed: &[&str], what: &str) {
    let mut keys: Vec<_> = t.keys().collect();
    keys.sort_by_key(|k| k.span.start);
    for k in keys {
        if !allowed.contains(&k.name.as_ref()) {
            let hint = did_you_mean(&k.name, allowed.iter().copied())
                .or_else(|| Some(format!("allowed keys in {what}: {}", allowed.join(", "))));
            sink.error(
                k.span.start,
                format!("unknown key `{}` in {what}", k.name),
                hint,
            );
        }
    }
}

struct Walker<'s> {
    sink: Sink<'s>,
    attempted_ids: Vec<String>,
}

impl<'s> Walker<'s> {
    fn table<'v, 'de>(&mut self, v: &'v Value<'de>, what: &str) -> Option<&'v Table<'de>> {
        let t = v.as_table();
        if t.is_none() {
            self.sink.error(
                v.span.start,
                format!("{what} must be a table, found {}", type_name(v)),
                Some("write it as { key = value, … } or as a [section]".into()),
            );
        }
        t
    }

    /// Reports keys of `t` not in `allowed`.
    fn unknown_keys(&mut self, t: &Table<'_>, allowed: &[&str], what: &str) {
        unknown_keys(&mut self.sink, t, allowed, what);
    }

    fn get<'v, 'de>(t: &'v Table<'de>, key: &str) -> Option<&'v Value<'de>> {
        t.get(key)
    }

    fn string(&mut self, v: &Value<'_>, what: &str) -> Option<String> {
        match v.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                let hint = if what.contains("expires") {
                    "write dates as strings: expires = \"2027-01-31\"".to_owned()
                } else {
                    "put the value in double quotes".to_owned()
                };
                let hint = Some(hint);
                self.sink.error(
                    v.span.start,
                    format!("{what} must be a string, found {}", type_name(v)),
                    hint,
                );
                None
            }
        }
    }

    fn required_string(
        &mut self,
        t: &Table<'_>,
        key: &str,
        what: &str,
        at: Span,
    ) -> Option<String> {
        match Self::get(t, key) {
            Some(v) => self.string(v, &format!("`{key}` in {what}")),
            None => {
                self.sink.error(
                    at.start,
                    format!("missing required key `{key}` in {what}"),
                    None,
                );
                None
            }
        }
    }

    fn string_list(&mut self, v: &Value<'_>, what: &str) -> Vec<(String, usize)> {
        match v.as_array() {
            Some(items) => items
                .iter()
                .filter_map(|i| {
                    self.string(i, &format!("an element of {what}"))
                        .map(|s| (s, i.span.start))
                })
                .collect(),
            None => {
                self.sink.error(
                    v.span.start,
                    format!("{what} must be an array of strings, found {}", type_name(v)),
                    Some("write a list even for one value: [\"value\"]".into()),
                );
                Vec::new()
            }
        }
    }

    fn level(&mut self, v: &Value<'_>, what: &str) -> Option<Level> {
        let s = self.string(v, what)?;
        let l = Level::parse(&s);
        if l.is_none() {
            self.sink.error(
                v.span.start,
                format!("unknown level `{s}` in {what}"),
                Some("levels: deny, warn, info, off".into()),
            );
        }
        l
    }

    fn top(&mut self, root: &Value<'_>) -> Option<RawPolicy> {
        let t = self.table(root, "a policy file")?;
        self.unknown_keys(t, TOP_KEYS, "a policy");
        let whole = root.span;
        let name = self
            .required_string(t, "name", "the policy", whole)
            .unwrap_or_default();
        let description = self
            .required_string(t, "description", "the policy", whole)
            .unwrap_or_default();
        let extends = Self::get(t, "extends")
            .and_then(|v| self.string(v, "`extends`").map(|s| (s, v.span.start)));
        let mut rules = Vec::new();
        if let Some(v) = Self::get(t, "rule") {
            for r in self.array_of_tables(v, "`rule`") {
                if let Some(rule) = self.rule(r) {
                    rules.push((rule, r.span.start));
                }
            }
        }
        let mut overrides = Vec::new();
        if let Some(v) = Self::get(t, "override") {
            for o in self.array_of_tables(v, "`override`") {
                if let Some(o) = self.override_(o) {
                    overrides.push(o);
                }
            }
        }
        let waivers = self.waivers(t);
        let risk = Self::get(t, "risk").and_then(|v| self.risk(v));
        let attempted_ids = std::mem::take(&mut self.attempted_ids);
        Some(RawPolicy {
            risk,
            attempted_ids,
            name,
            description,
            extends,
            rules,
            overrides,
            waivers,
        })
    }

    fn array_of_tables<'v, 'de>(&mut self, v: &'v Value<'de>, what: &str) -> Vec<&'v Value<'de>> {
        match v.as_array() {
            Some(items) => items.iter().collect(),
            None => {
                self.sink.error(
                    v.span.start,
                    format!("{what} must be an array of tables, found {}", type_name(v)),
                    Some(format!("write [[{}]] sections", what.trim_matches('`'))),
                );
                Vec::new()
            }
        }
    }

    fn waivers(&mut self, t: &Table<'_>) -> Vec<Waiver> {
        let Some(v) = Self::get(t, "waiver") else {
            return Vec::new();
        };
        self.array_of_tables(v, "`waiver`")
            .into_iter()
            .filter_map(|w| self.waiver(w))
            .collect()
    }

    /// An integer in 0..=100 for a `[risk]` weight or threshold.
    fn risk_value(&mut self, v: &Value<'_>, what: &str) -> Option<u32> {
        match v.as_integer() {
            Some(n) if (0..=MAX_RISK_VALUE).contains(&n) => u32::try_from(n).ok(),
            Some(n) => {
                self.sink.error(
                    v.span.start,
                    format!("{what} is {n}, outside 0..={MAX_RISK_VALUE}"),
                    Some("scores are capped at 100".into()),
                );
                None
            }
            None => {
                self.sink.error(
                    v.span.start,
                    format!("{what} must be an integer, found {}", type_name(v)),
                    None,
                );
                None
            }
        }
    }

    fn risk(&mut self, v: &Value<'_>) -> Option<RawRisk> {
        let t = self.table(v, "`[risk]`")?;
        self.unknown_keys(t, RISK_KEYS, "`[risk]`");
        let mut risk = RawRisk {
            at: v.span.start,
            ..RawRisk::default()
        };
        if let Some(w) = Self::get(t, "weights")
            && let Some(wt) = self.table(w, "`risk.weights`")
        {
            let mut keys: Vec<_> = wt.iter().collect();
            keys.sort_by_key(|(k, _)| k.span.start);
            for (k, val) in keys {
                let id = k.name.as_ref();
                let Some(evidence) = crate::risk::weights::EvidenceId::parse(id) else {
                    let ids = crate::risk::weights::EvidenceId::ALL
                        .iter()
                        .map(|e| e.as_str());
                    let hint = did_you_mean(id, ids.clone()).or_else(|| {
                        Some(format!(
                            "evidence ids: {}",
                            ids.collect::<Vec<_>>().join(", ")
                        ))
                    });
                    self.sink.error(
                        k.span.start,
                        format!("unknown evidence id `{id}` in `risk.weights`"),
                        hint,
                    );
                    continue;
                };
                if let Some(n) = self.risk_value(val, &format!("the weight of `{id}`")) {
                    risk.weights.push((evidence, n));
                }
            }
        }
        for (key, slot) in [("medium", &mut risk.medium), ("high", &mut risk.high)] {
            if let Some(x) = Self::get(t, key) {
                let n = self.risk_value(x, &format!("`risk.{key}`"));
                if n == Some(0) {
                    self.sink.error(
                        x.span.start,
                        format!("`risk.{key}` must be at least 1 (every file scores at least 0)"),
                        None,
                    );
                } else {
                    *slot = n;
                }
            }
        }
        Some(risk)
    }

    fn override_(&mut self, v: &Value<'_>) -> Option<Override> {
        let t = self.table(v, "an [[override]] entry")?;
        self.unknown_keys(t, OVERRIDE_KEYS, "an [[override]]");
        let rule_v = Self::get(t, "rule");
        let rule = self.required_string(t, "rule", "an [[override]]", v.span);
        let level = match Self::get(t, "level") {
            Some(l) => self.level(l, "`level` of an [[override]]"),
            None => {
                self.sink.error(
                    v.span.start,
                    "missing required key `level` in an [[override]]",
                    None,
                );
                None
            }
        };
        Some(Override {
            rule: rule?,
            level: level?,
            at: rule_v.map_or(v.span.start, |r| r.span.start),
        })
    }

    fn waiver(&mut self, v: &Value<'_>) -> Option<Waiver> {
        let t = self.table(v, "a [[waiver]] entry")?;
        self.unknown_keys(t, WAIVER_KEYS, "a [[waiver]]");
        let rule = self.required_string(t, "rule", "a [[waiver]]", v.span);
        let reason = self.required_string(t, "reason", "a [[waiver]]", v.span);
        if reason.as_deref().is_some_and(|r| r.trim().is_empty()) {
            self.sink.error(
                v.span.start,
                "the `reason` of a [[waiver]] must not be empty",
                None,
            );
        }
        let path = Self::get(t, "path").and_then(|p| {
            let s = self.string(p, "`path` of a [[waiver]]")?;
            // Compiled in full, as the evaluator will: a pattern globset parses but cannot
            // compile is reported here, at its position.
            if let Err(e) = crate::glob::RootGlobs::new([s.as_str()]) {
                self.sink.error(p.span.start, format!("`path`: {e}"), None);
                return None;
            }
            Some(s)
        });
        let sha = Self::get(t, "sha256").and_then(|p| {
            let s = self
                .string(p, "`sha256` of a [[waiver]]")?
                .to_ascii_lowercase();
            if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                self.sink
                    .error(p.span.start, "`sha256` must be 64 hexadecimal digits", None);
                return None;
            }
            Some(s)
        });
        let target = match (
            path,
            sha,
            Self::get(t, "path").is_some(),
            Self::get(t, "sha256").is_some(),
        ) {
            (Some(p), None, _, false) => Some(WaiverTarget::Path(p)),
            (None, Some(s), false, _) => Some(WaiverTarget::Sha256(s)),
            (_, _, true, true) => {
                self.sink.error(
                    v.span.start,
                    "a [[waiver]] takes `path` or `sha256`, not both",
                    None,
                );
                None
            }
            (_, _, false, false) => {
                self.sink.error(
                    v.span.start,
                    "a [[waiver]] needs `path` (a glob) or `sha256`",
                    Some("path = \"dist/legacy/*.dll\" or sha256 = \"<64 hex digits>\"".into()),
                );
                None
            }
            _ => None,
        };
        let expires = match Self::get(t, "expires") {
            Some(e) => {
                let s = self.string(e, "`expires` of a [[waiver]]")?;
                match Date::parse(&s) {
                    Some(d) => Some(d),
                    None => {
                        self.sink.error(
                            e.span.start,
                            format!("invalid date `{s}` in `expires`"),
                            Some("dates are YYYY-MM-DD, e.g. \"2027-01-31\"".into()),
                        );
                        return None;
                    }
                }
            }
            None => None,
        };
        Some(Waiver {
            rule: rule?,
            target: target?,
            reason: reason?,
            expires,
            origin: self.sink.origin(v.span.start),
            at: v.span.start,
        })
    }

    fn rule(&mut self, v: &Value<'_>) -> Option<Rule> {
        let t = self.table(v, "a [[rule]] entry")?;
        self.unknown_keys(t, RULE_KEYS, "a [[rule]]");
        let id = self.required_string(t, "id", "a [[rule]]", v.span);
        if let Some(id) = &id {
            self.attempted_ids.push(id.clone());
        }
        if let (Some(id), Some(idv)) = (&id, Self::get(t, "id")) {
            let kebab = !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !id.starts_with('-')
                && !id.ends_with('-')
                && !id.contains("--");
            if !kebab {
                self.sink.error(
                    idv.span.start,
                    format!("rule id `{id}` is not kebab-case"),
                    Some("e.g. `pe-nx-compat`".into()),
                );
            }
        }
        let description = self.required_string(t, "description", "a [[rule]]", v.span);
        let level = match Self::get(t, "level") {
            Some(l) => self.level(l, "`level` of a [[rule]]"),
            None => {
                self.sink.error(
                    v.span.start,
                    "missing required key `level` in a [[rule]]",
                    None,
                );
                None
            }
        };
        let applies = match Self::get(t, "applies") {
            Some(a) => self.applies(a),
            None => Some(Applies::default()),
        };
        let check = match Self::get(t, "check") {
            Some(c) => self.check(c, applies.as_ref().and_then(|a| a.format)),
            None => {
                self.sink.error(
                    v.span.start,
                    "missing required key `check` in a [[rule]]",
                    None,
                );
                None
            }
        };
        let controls = match Self::get(t, "controls") {
            Some(c) => self
                .string_list(c, "`controls`")
                .into_iter()
                .map(|(s, _)| s)
                .collect(),
            None => Vec::new(),
        };
        let rationale = self.required_string(t, "rationale", "a [[rule]]", v.span);
        let remediation = match Self::get(t, "remediation") {
            Some(r) => self.remediation(r),
            None => {
                self.sink.error(
                    v.span.start,
                    "missing required key `remediation` in a [[rule]]",
                    None,
                );
                None
            }
        };
        Some(Rule {
            id: id?,
            description: description?,
            level: level?,
            applies: applies?,
            check: check?,
            controls,
            rationale: rationale?,
            remediation: remediation?,
        })
    }

    fn applies(&mut self, v: &Value<'_>) -> Option<Applies> {
        let t = self.table(v, "`applies`")?;
        self.unknown_keys(t, APPLIES_KEYS, "`applies`");
        let mut a = Applies::default();
        let mut ok = true;
        if let Some(f) = Self::get(t, "format") {
            match self.string(f, "`applies.format`").as_deref() {
                Some("pe") => a.format = Some(Format::Pe),
                Some("elf") => a.format = Some(Format::Elf),
                Some(other) => {
                    self.sink.error(
                        f.span.start,
                        format!("unknown format `{other}`"),
                        Some("formats: pe, elf".into()),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        if let Some(v) = Self::get(t, "arch") {
            a.arch = self
                .string_list(v, "`applies.arch`")
                .into_iter()
                .map(|(s, _)| s)
                .collect();
        }
        if let Some(v) = Self::get(t, "subsystem") {
            a.subsystem = self
                .string_list(v, "`applies.subsystem`")
                .into_iter()
                .map(|(s, _)| s)
                .collect();
        }
        if let Some(v) = Self::get(t, "bits") {
            match v.as_array() {
                Some(items) => {
                    for i in items {
                        match i.as_integer() {
                            Some(32) => a.bits.push(32),
                            Some(64) => a.bits.push(64),
                            _ => {
                                self.sink.error(
                                    i.span.start,
                                    "`applies.bits` takes 32 and/or 64",
                                    None,
                                );
                                ok = false;
                            }
                        }
                    }
                }
                None => {
                    self.sink.error(
                        v.span.start,
                        "`applies.bits` must be an array of integers",
                        None,
                    );
                    ok = false;
                }
            }
        }
        if let Some(v) = Self::get(t, "kind") {
            ok &= self.enum_list(v, "kind", KINDS, kind_of, &mut a.kind);
        }
        if let Some(v) = Self::get(t, "toolchain") {
            ok &= self.enum_list(v, "toolchain", TOOLCHAINS, toolchain_of, &mut a.toolchain);
        }
        ok.then_some(a)
    }

    /// Reads `applies.<key>` as a list of names from `names`, converted by `of`.
    fn enum_list<T>(
        &mut self,
        v: &Value<'_>,
        key: &str,
        names: &[&str],
        of: fn(&str) -> Option<T>,
        out: &mut Vec<T>,
    ) -> bool {
        let mut ok = true;
        for (s, at) in self.string_list(v, &format!("`applies.{key}`")) {
            match of(&s) {
                Some(x) => out.push(x),
                None => {
                    let hint = did_you_mean(&s, names.iter().copied())
                        .or_else(|| Some(format!("{key}s: {}", names.join(", "))));
                    self.sink.error(at, format!("unknown {key} `{s}`"), hint);
                    ok = false;
                }
            }
        }
        ok
    }

    fn scalar(&mut self, v: &Value<'_>, ty: FactType, fact: &str) -> Option<Scalar> {
        let s = match (ty, v) {
            (FactType::Bool, v) if v.as_bool().is_some() => {
                Scalar::Bool(v.as_bool().unwrap_or_default())
            }
            (FactType::Int, v) if v.as_integer().is_some() => {
                Scalar::Int(v.as_integer().unwrap_or_default())
            }
            (FactType::Str, v) if v.as_str().is_some() => {
                Scalar::Str(v.as_str().unwrap_or_default().to_owned())
            }
            _ => {
                self.sink.error(
                    v.span.start,
                    format!(
                        "fact `{fact}` is {} {}, but the value is {}",
                        if ty == FactType::Int { "an" } else { "a" },
                        ty.name(),
                        type_name(v)
                    ),
                    Some(match ty {
                        FactType::Bool => "write true or false, without quotes".into(),
                        FactType::Int => {
                            "write a number, without quotes (0x… hex is allowed)".into()
                        }
                        _ => "put the value in double quotes".into(),
                    }),
                );
                return None;
            }
        };
        Some(s)
    }

    fn check(&mut self, v: &Value<'_>, format: Option<Format>) -> Option<Check> {
        let t = self.table(v, "`check`")?;
        self.unknown_keys(t, CHECK_KEYS, "`check`");
        if let Some(r) = Self::get(t, "risk_at_most") {
            if t.len() > 1 {
                self.sink.error(
                    v.span.start,
                    "a `risk_at_most` check takes no other keys",
                    None,
                );
            }
            let s = self.string(r, "`check.risk_at_most`")?;
            let Some(level) = crate::risk::RiskLevel::parse(&s) else {
                self.sink.error(
                    r.span.start,
                    format!("unknown risk level `{s}`"),
                    Some("risk levels: low, medium, high".into()),
                );
                return None;
            };
            if format.is_some_and(|f| f != Format::Pe) {
                self.sink.error(
                    r.span.start,
                    "`risk_at_most` reads PE files but the rule applies to another format",
                    None,
                );
                return None;
            }
            return Some(Check::RiskAtMost(level));
        }
        if let Some(n) = Self::get(t, "named") {
            if t.len() > 1 {
                self.sink
                    .error(v.span.start, "a named check takes no other keys", None);
            }
            let name = self.string(n, "`check.named`")?;
            let Some(check) = NamedCheck::parse(&name) else {
                let names = NamedCheck::ALL.iter().map(|(n, _, _)| *n);
                let hint = did_you_mean(&name, names.clone()).or_else(|| {
                    Some(format!(
                        "named checks: {}",
                        names.collect::<Vec<_>>().join(", ")
                    ))
                });
                self.sink
                    .error(n.span.start, format!("unknown named check `{name}`"), hint);
                return None;
            };
            if format.is_some_and(|f| f != check.format()) {
                self.sink.error(n.span.start, format!("named check `{name}` reads {} files but the rule applies to another format", check.format().as_str()), None);
                return None;
            }
            return Some(Check::Named(check));
        }
        let Some(fv) = Self::get(t, "fact") else {
            self.sink.error(
                v.span.start,
                "`check` needs `fact` (with a comparison), `named` or `risk_at_most`",
                None,
            );
            return None;
        };
        let fact = self.string(fv, "`check.fact`")?;
        let Some(format) = format else {
            self.sink.error(
                fv.span.start,
                format!("fact `{fact}` needs the rule to say which format it applies to"),
                Some("add applies = { format = \"pe\" } (or \"elf\")".into()),
            );
            return None;
        };
        let Some(info) = catalog::lookup(format, &fact) else {
            let hint = did_you_mean(&fact, catalog::names(format)).or_else(|| {
                Some(format!(
                    "see docs/report-schema.md for the {} facts",
                    format.as_str()
                ))
            });
            self.sink.error(
                fv.span.start,
                format!("unknown {} fact `{fact}`", format.as_str()),
                hint,
            );
            return None;
        };
        let ops: Vec<&str> = ["equals", "one_of", "empty", "at_least", "at_most"]
            .into_iter()
            .filter(|k| t.contains_key(*k))
            .collect();
        if ops.len() != 1 {
            self.sink.error(
                v.span.start,
                format!("`check` on a fact needs exactly one of equals, one_of, empty, at_least, at_most (found {})", ops.len()),
                None,
            );
            return None;
        }
        let op = ops.first().copied().unwrap_or_default();
        let ov = Self::get(t, op)?;
        let comparison = match op {
            "equals" if info.ty != FactType::List => {
                Comparison::Equals(self.scalar(ov, info.ty, &fact)?)
            }
            "one_of" if info.ty != FactType::List => {
                let Some(items) = ov.as_array() else {
                    self.sink
                        .error(ov.span.start, "`one_of` must be an array", None);
                    return None;
                };
                let vals: Vec<Option<Scalar>> = items
                    .iter()
                    .map(|i| self.scalar(i, info.ty, &fact))
                    .collect();
                Comparison::OneOf(vals.into_iter().collect::<Option<Vec<_>>>()?)
            }
            "empty" if info.ty == FactType::List => match ov.as_bool() {
                Some(b) => Comparison::Empty(b),
                None => {
                    self.sink
                        .error(ov.span.start, "`empty` must be true or false", None);
                    return None;
                }
            },
            "at_least" | "at_most" if info.ty == FactType::Int => match ov.as_integer() {
                Some(n) if op == "at_least" => Comparison::AtLeast(n),
                Some(n) => Comparison::AtMost(n),
                None => {
                    self.sink
                        .error(ov.span.start, format!("`{op}` must be an integer"), None);
                    return None;
                }
            },
            _ => {
                self.sink.error(
                    ov.span.start,
                    format!(
                        "`{op}` does not apply to fact `{fact}`, which is {} {}",
                        if info.ty == FactType::Int { "an" } else { "a" },
                        info.ty.name()
                    ),
                    Some(match info.ty {
                        FactType::List => "list facts take `empty = true|false`".into(),
                        FactType::Int => {
                            "integer facts take equals, one_of, at_least, at_most".into()
                        }
                        _ => "use equals or one_of".into(),
                    }),
                );
                return None;
            }
        };
        Some(Check::Fact { fact, comparison })
    }

    fn remediation(&mut self, v: &Value<'_>) -> Option<Remediation> {
        let t = self.table(v, "`remediation`")?;
        self.unknown_keys(t, REMEDIATION_KEYS, "`remediation`");
        let mut r = Remediation::default();
        for key in REMEDIATION_KEYS {
            let Some(val) = Self::get(t, key) else {
                continue;
            };
            let text = self.string(val, &format!("`remediation.{key}`"));
            let slot = match *key {
                "msvc" => &mut r.msvc,
                "mingw" => &mut r.mingw,
                "go" => &mut r.go,
                "rust" => &mut r.rust,
                "gcc" => &mut r.gcc,
                "clang" => &mut r.clang,
                "dotnet" => &mut r.dotnet,
                _ => &mut r.default,
            };
            *slot = text;
        }
        Some(r)
    }
}

/// Parses a policy file. `file` names it in diagnostics. Returns what could be read (rules
/// with errors left out) together with every problem found, so that callers can go on to
/// check `extends` and overrides and report all problems at once.
pub fn parse_policy(src: &str, file: &str) -> (Option<RawPolicy>, Vec<super::diag::Diagnostic>) {
    let mut w = Walker {
        sink: Sink::new(file, src),
        attempted_ids: Vec::new(),
    };
    let root = match toml_span::parse(src) {
        Ok(v) => v,
        Err(e) => {
            w.sink.error(e.span.start, toml_message(&e), toml_hint(&e));
            return (None, w.sink.diags);
        }
    };
    let policy = w.top(&root);
    (policy, w.sink.diags)
}

/// Parses a waivers file: only `[[waiver]]` entries.
pub fn parse_waivers(src: &str, file: &str) -> Result<Vec<Waiver>, Vec<super::diag::Diagnostic>> {
    let mut w = Walker {
        sink: Sink::new(file, src),
        attempted_ids: Vec::new(),
    };
    let root = match toml_span::parse(src) {
        Ok(v) => v,
        Err(e) => {
            w.sink.error(e.span.start, toml_message(&e), toml_hint(&e));
            return Err(w.sink.diags);
        }
    };
    let Some(t) = w.table(&root, "a waivers file") else {
        return Err(w.sink.diags);
    };
    w.unknown_keys(t, &["waiver"], "a waivers file");
    let waivers = w.waivers(t);
    if w.sink.diags.is_empty() {
        Ok(waivers)
    } else {
        Err(w.sink.diags)
    }
}

fn toml_message(e: &toml_span::Error) -> String {
    format!("invalid TOML: {}", e.kind)
}

fn toml_hint(e: &toml_span::Error) -> Option<String> {
    // toml-span has no date-time values: a bare date is a parse error at its first digit.
    matches!(
        e.kind,
        toml_span::ErrorKind::InvalidNumber | toml_span::ErrorKind::Unexpected(_)
    )
    .then(|| "dates are written as strings: expires = \"2027-01-31\"".to_owned())
}
