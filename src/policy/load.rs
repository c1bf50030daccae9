//! Loading a policy by name or path: `extends` chains, overrides, extra waiver files.

use std::path::{Path, PathBuf};

use super::builtin;
use super::diag::{Diagnostic, PolicyErrors, did_you_mean};
use super::model::{Policy, Rule, Waiver};
use super::parse::{RawPolicy, parse_policy, parse_waivers};

use crate::budget::MAX_EXTENDS_DEPTH;

/// Where a policy text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    Builtin(&'static str),
    File(PathBuf),
}

impl Origin {
    fn label(&self) -> String {
        match self {
            Origin::Builtin(n) => format!("builtin:{n}"),
            Origin::File(p) => p.display().to_string(),
        }
    }
}

fn plain(message: String) -> PolicyErrors {
    PolicyErrors(vec![Diagnostic {
        file: "bingate".into(),
        line: 0,
        column: 0,
        message,
        hint: None,
    }])
}

fn read(spec: &str, base: Option<&Path>) -> Result<(Origin, String), PolicyErrors> {
    let as_path = match base {
        Some(dir) => dir.join(spec),
        None => PathBuf::from(spec),
    };
    let looks_like_path = spec.contains('/') || spec.contains('\\') || spec.ends_with(".toml");
    if looks_like_path || (as_path.is_file() && builtin::get(spec).is_none()) {
        return crate::input::read_text_limited(&as_path, crate::budget::MAX_POLICY_FILE_SIZE)
            .map(|s| (Origin::File(as_path.clone()), s))
            .map_err(|e| plain(format!("cannot read policy {}: {e}", as_path.display())));
    }
    match builtin::get(spec) {
        Some((name, text)) => Ok((Origin::Builtin(name), text.to_owned())),
        None => {
            let hint = did_you_mean(spec, builtin::names());
            Err(PolicyErrors(vec![Diagnostic {
                file: "bingate".into(),
                line: 0,
                column: 0,
                message: format!(
                    "unknown policy `{spec}` (not a shipped policy name, and no such file)"
                ),
                hint: hint.or_else(|| {
                    Some(format!(
                        "shipped policies: {}",
                        builtin::names().collect::<Vec<_>>().join(", ")
                    ))
                }),
            }]))
        }
    }
}

/// Loads a policy (a shipped name or a file path) with its `extends` chain, then adds the
/// waivers of `waiver_files`. Every problem in the chain is reported at once.
pub fn load(spec: &str, waiver_files: &[PathBuf]) -> Result<Policy, PolicyErrors> {
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut chain: Vec<(Origin, String, RawPolicy)> = Vec::new();
    let mut next = Some((spec.to_owned(), None::<PathBuf>));
    // Set when the chain cannot be followed to its root; overrides are then not checked.
    let mut broken = false;
    while let Some((s, base)) = next.take() {
        let (origin, text) = match read(&s, base.as_deref()) {
            Ok(r) => r,
            Err(e) => {
                diags.extend(e.0);
                broken = true;
                break;
            }
        };
        if chain.iter().any(|(o, _, _)| *o == origin) {
            diags.extend(
                plain(format!(
                    "`extends` cycle: {} extends itself through its parents",
                    origin.label()
                ))
                .0,
            );
            broken = true;
            break;
        }
        if chain.len() >= MAX_EXTENDS_DEPTH {
            diags.extend(
                plain(format!(
                    "`extends` chain deeper than {MAX_EXTENDS_DEPTH} at {}",
                    origin.label()
                ))
                .0,
            );
            broken = true;
            break;
        }
        let (raw, problems) = parse_policy(&text, &origin.label());
        diags.extend(problems);
        let Some(raw) = raw else {
            broken = true;
            break;
        };
        if let Some((parent, _)) = &raw.extends {
            let base = match &origin {
                Origin::File(p) => p.parent().map(Path::to_path_buf),
                Origin::Builtin(_) => None,
            };
            next = Some((parent.clone(), base));
        }
        chain.push((origin, text, raw));
    }
    // Apply from the root ancestor down to the named policy (when the chain is complete).
    let mut policy: Option<Policy> = None;
    if !broken {
        for (origin, text, raw) in chain.into_iter().rev() {
            let (p, problems) = apply(policy, raw, &origin, &text);
            diags.extend(problems);
            policy = Some(p);
        }
    }
    if !diags.is_empty() {
        // Phase-two problems (overrides, duplicates) join phase one's in file order.
        diags.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        return Err(PolicyErrors(diags));
    }
    let mut policy = policy.ok_or_else(|| plain("empty policy chain".into()))?;
    for file in waiver_files {
        let text = crate::input::read_text_limited(file, crate::budget::MAX_POLICY_FILE_SIZE)
            .map_err(|e| plain(format!("cannot read waivers {}: {e}", file.display())))?;
        let label = file.display().to_string();
        let waivers = parse_waivers(&text, &label).map_err(PolicyErrors)?;
        check_waiver_rules(&policy.rules, &waivers, &text, &label)?;
        policy.waivers.extend(waivers);
    }
    Ok(policy)
}

/// Parses a policy from memory (`label` names it in diagnostics). `extends` may name only a
/// shipped policy: a text has no directory to resolve paths against. For tests and fuzzing; the
/// command line goes through [`load`].
pub fn from_text(text: &str, label: &str) -> Result<Policy, PolicyErrors> {
    let (raw, mut diags) = parse_policy(text, label);
    let Some(raw) = raw else {
        return Err(PolicyErrors(diags));
    };
    let parent = match &raw.extends {
        Some((name, _)) => match builtin::get(name) {
            Some((n, _)) => Some(load(n, &[])?),
            None => {
                return Err(plain(format!(
                    "`extends = \"{name}\"` in {label}: only shipped policies can be extended from a text"
                )));
            }
        },
        None => None,
    };
    let (policy, problems) = apply(parent, raw, &Origin::File(PathBuf::from(label)), text);
    diags.extend(problems);
    if diags.is_empty() {
        Ok(policy)
    } else {
        Err(PolicyErrors(diags))
    }
}

/// Unknown rule names in one policy or waiver file that get a "did you mean" hint.
const MAX_ID_HINTS: usize = 32;

fn apply(
    parent: Option<Policy>,
    raw: RawPolicy,
    origin: &Origin,
    text: &str,
) -> (Policy, Vec<Diagnostic>) {
    let label = origin.label();
    let mut sink = super::diag::Sink::new(&label, text);
    let mut rules: Vec<Rule> = parent.as_ref().map(|p| p.rules.clone()).unwrap_or_default();
    let inherited = rules.len();
    let mut risk = parent.as_ref().map(|p| p.risk.clone()).unwrap_or_default();
    if let Some(r) = &raw.risk {
        risk.merge(&r.weights, r.medium, r.high);
        if risk.medium >= risk.high {
            sink.error(
                r.at,
                format!(
                    "risk thresholds out of order: medium ({}) must be below high ({})",
                    risk.medium, risk.high
                ),
                Some("defaults: medium = 15, high = 35".into()),
            );
        }
    }
    let mut waivers: Vec<Waiver> = parent.map(|p| p.waivers).unwrap_or_default();
    // Rule ids by position, so 50,000 rules cost 50,000 lookups, not their square.
    let mut ids: std::collections::HashMap<String, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    let attempted: std::collections::HashSet<&str> =
        raw.attempted_ids.iter().map(String::as_str).collect();
    for (rule, at) in raw.rules {
        if let Some(&pos) = ids.get(&rule.id) {
            let hint = if pos < inherited {
                format!(
                    "the parent policy defines `{}`; change its level with [[override]]",
                    rule.id
                )
            } else {
                "rule ids are unique within a policy".to_owned()
            };
            sink.error(at, format!("duplicate rule id `{}`", rule.id), Some(hint));
            continue;
        }
        ids.insert(rule.id.clone(), rules.len());
        rules.push(rule);
    }
    // "Did you mean" compares a name with every rule id: offered for the first few unknown names
    // only, so a policy full of them stays linear.
    let mut hints = MAX_ID_HINTS;
    for o in raw.overrides {
        match ids.get(&o.rule).and_then(|&i| rules.get_mut(i)) {
            Some(r) => r.level = o.level,
            None if attempted.contains(o.rule.as_str()) => {}
            None => {
                let hint = (hints > 0)
                    .then(|| {
                        hints = hints.saturating_sub(1);
                        let candidates = rules
                            .iter()
                            .map(|r| r.id.as_str())
                            .chain(raw.attempted_ids.iter().map(String::as_str));
                        did_you_mean(&o.rule, candidates)
                    })
                    .flatten();
                sink.error(
                    o.at,
                    format!("[[override]] names unknown rule `{}`", o.rule),
                    hint,
                );
            }
        }
    }
    unknown_waiver_rules(
        &mut sink,
        &raw.waivers,
        |id| ids.contains_key(id) || attempted.contains(id),
        &rules,
    );
    waivers.extend(raw.waivers);
    let diags = sink.diags;
    let policy = Policy {
        name: raw.name,
        description: raw.description,
        source: label,
        rules,
        waivers,
        risk,
    };
    (policy, diags)
}

/// Reports waivers whose rule is not in the policy (`parse-error` is always known).
fn unknown_waiver_rules(
    sink: &mut super::diag::Sink<'_>,
    waivers: &[Waiver],
    known: impl Fn(&str) -> bool,
    rules: &[Rule],
) {
    let mut hints = MAX_ID_HINTS;
    for w in waivers {
        if !known(&w.rule) && w.rule != super::eval::PARSE_ERROR_RULE {
            let hint = (hints > 0)
                .then(|| {
                    hints = hints.saturating_sub(1);
                    did_you_mean(&w.rule, rules.iter().map(|r| r.id.as_str()))
                })
                .flatten();
            sink.error(
                w.at,
                format!("[[waiver]] names unknown rule `{}`", w.rule),
                hint,
            );
        }
    }
}

fn check_waiver_rules(
    rules: &[Rule],
    waivers: &[Waiver],
    text: &str,
    label: &str,
) -> Result<(), PolicyErrors> {
    let mut sink = super::diag::Sink::new(label, text);
    let ids: std::collections::HashSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    unknown_waiver_rules(&mut sink, waivers, |id| ids.contains(id), rules);
    if sink.diags.is_empty() {
        Ok(())
    } else {
        Err(PolicyErrors(sink.diags))
    }
}
