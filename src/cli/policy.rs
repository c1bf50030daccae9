//! `bingate policy list|show|validate|explain`: policies for people. What is asked for goes to
//! `out`, why it cannot be given to `err`.

use std::io::{self, Write};

use super::{EXIT_ERROR, EXIT_OK, PolicyCommand};
use crate::policy::{
    Applies, Check, Comparison, Level, Policy, PolicyErrors, Rule, Scalar, builtin_names,
    did_you_mean, load,
};

/// Runs a `policy` subcommand and returns its exit code.
pub fn run(cmd: PolicyCommand, out: &mut impl Write, err: &mut impl Write) -> io::Result<u8> {
    match cmd {
        PolicyCommand::List => list(out),
        PolicyCommand::Show { policy } => match load(&policy, &[]) {
            Ok(p) => show(&p, out).map(|()| EXIT_OK),
            Err(e) => errors(&e, err),
        },
        PolicyCommand::Validate { file } => match load(&file.display().to_string(), &[]) {
            Ok(p) => {
                let active = p.rules.iter().filter(|r| r.level != Level::Off).count();
                writeln!(
                    out,
                    "{}: ok: policy `{}`, {} rules ({active} active), {} waivers",
                    file.display(),
                    p.name,
                    p.rules.len(),
                    p.waivers.len()
                )?;
                Ok(EXIT_OK)
            }
            Err(e) => errors(&e, err),
        },
        PolicyCommand::Explain { rule, policy } => explain(&rule, policy.as_deref(), out, err),
    }
}

/// A policy's problems, each with its position, and how many there are.
fn errors(e: &PolicyErrors, err: &mut impl Write) -> io::Result<u8> {
    writeln!(err, "{e}")?;
    writeln!(
        err,
        "{} error{}",
        e.0.len(),
        if e.0.len() == 1 { "" } else { "s" }
    )?;
    Ok(EXIT_ERROR)
}

fn list(out: &mut impl Write) -> io::Result<u8> {
    for name in builtin_names() {
        match load(name, &[]) {
            Ok(p) => {
                let active = p.rules.iter().filter(|r| r.level != Level::Off).count();
                writeln!(out, "{name:<26} {active:>3} rules  {}", p.description)?;
            }
            Err(e) => writeln!(out, "{name:<26} (invalid: {e})")?,
        }
    }
    Ok(EXIT_OK)
}

fn describe_applies(a: &Applies, check: &Check) -> String {
    let mut parts = Vec::new();
    let format = a.format.or(match check {
        Check::Named(n) => Some(n.format()),
        Check::RiskAtMost(_) => Some(crate::facts::Format::Pe),
        Check::Fact { .. } => None,
    });
    if let Some(f) = format {
        parts.push(f.as_str().to_owned());
    }
    if !a.arch.is_empty() {
        parts.push(format!("arch {}", a.arch.join("/")));
    }
    if !a.bits.is_empty() {
        parts.push(format!("{}-bit", slashed(a.bits.iter().map(u8::to_string))));
    }
    if !a.kind.is_empty() {
        parts.push(slashed(a.kind.iter().map(|k| k.as_str())));
    }
    if !a.subsystem.is_empty() {
        parts.push(format!("subsystem {}", a.subsystem.join("/")));
    }
    if !a.toolchain.is_empty() {
        parts.push(format!(
            "toolchain {}",
            slashed(a.toolchain.iter().map(|t| t.as_str()))
        ));
    }
    if parts.is_empty() {
        "all files".into()
    } else {
        parts.join(", ")
    }
}

/// `a/b/c`.
fn slashed<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    items
        .map(|s| s.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn scalar(s: &Scalar) -> String {
    match s {
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Str(s) => format!("\"{s}\""),
    }
}

fn describe_check(c: &Check) -> String {
    match c {
        Check::Named(n) => format!("{} ({})", n.name(), n.description()),
        Check::RiskAtMost(l) => format!(
            "SmartScreen-risk estimate at most {} (docs/smartscreen.md)",
            l.as_str()
        ),
        Check::Fact { fact, comparison } => match comparison {
            Comparison::Equals(v) => format!("{fact} = {}", scalar(v)),
            Comparison::OneOf(vs) => format!(
                "{fact} in [{}]",
                vs.iter().map(scalar).collect::<Vec<_>>().join(", ")
            ),
            Comparison::Empty(true) => format!("{fact} is empty"),
            Comparison::Empty(false) => format!("{fact} is not empty"),
            Comparison::AtLeast(n) => format!("{fact} >= {n}"),
            Comparison::AtMost(n) => format!("{fact} <= {n}"),
        },
    }
}

fn show(p: &Policy, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{} ({})", p.name, p.source)?;
    writeln!(out, "{}", p.description)?;
    for r in &p.rules {
        writeln!(out)?;
        writeln!(out, "{:<5} {}  {}", r.level.as_str(), r.id, r.description)?;
        writeln!(
            out,
            "      applies: {}",
            describe_applies(&r.applies, &r.check)
        )?;
        writeln!(out, "      checks:  {}", describe_check(&r.check))?;
        if !r.controls.is_empty() {
            writeln!(out, "      controls: {}", r.controls.join("; "))?;
        }
    }
    if !p.waivers.is_empty() {
        writeln!(out, "\n{} waivers", p.waivers.len())?;
    }
    Ok(())
}

fn explain_rule(r: &Rule, policy: &Policy, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{}: {}", r.id, r.description)?;
    writeln!(
        out,
        "  policy:   {} ({}), level {}",
        policy.name,
        policy.source,
        r.level.as_str()
    )?;
    writeln!(
        out,
        "  applies:  {}",
        describe_applies(&r.applies, &r.check)
    )?;
    writeln!(out, "  checks:   {}", describe_check(&r.check))?;
    writeln!(out, "  why:      {}", r.rationale)?;
    if !r.controls.is_empty() {
        writeln!(out, "  controls:")?;
        for c in &r.controls {
            writeln!(out, "    - {c}")?;
        }
    }
    writeln!(out, "  how to fix:")?;
    for (toolchain, text) in r.remediation.entries() {
        writeln!(out, "    {toolchain}: {text}")?;
    }
    Ok(())
}

fn explain(
    rule: &str,
    policy: Option<&str>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<u8> {
    let names: Vec<String> = match policy {
        Some(p) => vec![p.to_owned()],
        None => builtin_names().map(str::to_owned).collect(),
    };
    let mut all_ids = Vec::new();
    for name in &names {
        let p = match load(name, &[]) {
            Ok(p) => p,
            Err(e) => return errors(&e, err),
        };
        if let Some(r) = p.rules.iter().find(|r| r.id == rule) {
            explain_rule(r, &p, out)?;
            return Ok(EXIT_OK);
        }
        all_ids.extend(p.rules.iter().map(|r| r.id.clone()));
    }
    let hint = did_you_mean(rule, all_ids.iter().map(String::as_str))
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    writeln!(
        err,
        "bingate: no rule `{rule}` in {}{hint}",
        names.join(", ")
    )?;
    Ok(EXIT_ERROR)
}
