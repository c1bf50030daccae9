//! The pass/fail matrix: every shipped policy against every committed fixture, as golden files
//! (`tests/golden/matrix/<policy>.txt`) to review whenever a rule or a fact changes. Regenerate
//! with `BINGATE_BLESS=1 cargo test --test policy_matrix`.

mod common;

use std::fmt::Write as _;

use bingate::policy::{Date, Evaluator, Status};
use bingate::report::FileReport;
use common::{golden, paths};

fn fixtures() -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["corpus/elf", "corpus/pe"] {
        for e in std::fs::read_dir(paths::repo(sub)).unwrap() {
            out.push(format!(
                "{sub}/{}",
                e.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    out.sort();
    out
}

fn matrix(policy_name: &str) -> String {
    let policy = bingate::policy::load(policy_name, &[]).unwrap();
    let mut ev = Evaluator::new(&policy, Date::parse("2026-11-22").unwrap());
    let mut text = format!(
        "# {policy_name}: one line per fixture; fail lists rule(level), pass and n/a list rule ids\n"
    );
    for rel in fixtures() {
        let data = paths::read(&rel);
        let report = match bingate::analyze(&data) {
            Ok(f) => FileReport::from_facts(rel.clone(), Some(String::new()), data.len() as u64, f),
            Err(e) => {
                FileReport::error(rel.clone(), None, None, None, e.into(), Default::default())
            }
        };
        let findings = ev.evaluate(&report.subject());
        let pick = |s: Status| -> Vec<String> {
            findings
                .iter()
                .filter(|f| f.status == s)
                .map(|f| {
                    if s == Status::Fail {
                        format!("{}({})", f.rule, f.level.as_str())
                    } else {
                        f.rule.clone()
                    }
                })
                .collect()
        };
        let (fail, pass, na) = (
            pick(Status::Fail),
            pick(Status::Pass),
            pick(Status::NotApplicable),
        );
        let verdict = if fail.is_empty() { "PASS" } else { "FAIL" };
        writeln!(text, "{verdict} {rel}").unwrap();
        if !fail.is_empty() {
            writeln!(text, "  fail: {}", fail.join(" ")).unwrap();
        }
        writeln!(
            text,
            "  pass: {}",
            if pass.is_empty() {
                "-".into()
            } else {
                pass.join(" ")
            }
        )
        .unwrap();
        if !na.is_empty() {
            writeln!(text, "  n/a:  {}", na.join(" ")).unwrap();
        }
    }
    text
}

#[test]
fn every_shipped_policy_against_every_fixture() {
    let mut stale = Vec::new();
    for name in bingate::policy::builtin_names() {
        let text = matrix(name);
        if let Err(e) = golden::check(&format!("matrix/{name}.txt"), text.as_bytes()) {
            stale.push(e);
        }
    }
    assert!(
        stale.is_empty(),
        "matrix differs (bless with BINGATE_BLESS=1 and review the diff):\n{}",
        stale.join("\n")
    );
}
