//! Policies: file errors with exact positions, waivers with an injectable clock, exit codes,
//! and the shipped policies' rule hygiene.

mod common;

use bingate::policy::{Date, Evaluator, Level, Status};
use bingate::report::FileReport;
use common::paths;
use common::run::bingate;
use serde_json::Value;

fn report(rel: &str) -> FileReport {
    let data = paths::read(rel);
    let facts = bingate::analyze(&data).unwrap();
    FileReport::from_facts(
        rel.to_owned(),
        Some("0".repeat(64)),
        data.len() as u64,
        facts,
    )
}

#[test]
fn policy_file_errors_are_all_reported_with_positions_and_hints() {
    let out = bingate(&["policy", "validate", "tests/policies/errors.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let expected = "\
tests/policies/errors.toml:3:1: error: unknown key `colour` in a policy
  hint: allowed keys in a policy: name, description, extends, rule, override, waiver, risk
tests/policies/errors.toml:8:10: error: unknown level `deny!` in `level` of a [[rule]]
  hint: levels: deny, warn, info, off
tests/policies/errors.toml:10:41: error: fact `nx_compat` is a boolean, but the value is a string
  hint: write true or false, without quotes
tests/policies/errors.toml:16:7: error: rule id `Bad_Id` is not kebab-case
  hint: e.g. `pe-nx-compat`
tests/policies/errors.toml:20:19: error: unknown pe fact `nx_compt`
  hint: did you mean `nx_compat`?
tests/policies/errors.toml:22:32: error: unknown key `msvcc` in `remediation`
  hint: did you mean `msvc`?
tests/policies/errors.toml:25:9: error: [[override]] names unknown rule `pe-nxx`
  hint: did you mean `pe-nx`?
tests/policies/errors.toml:32:12: error: invalid date `2027-02-30` in `expires`
  hint: dates are YYYY-MM-DD, e.g. \"2027-01-31\"
8 errors
";
    assert_eq!(stderr, expected);
}

#[test]
fn override_of_an_unknown_rule_is_an_error_with_a_hint() {
    let dir = paths::tempdir();
    let p = dir.path().join("child.toml");
    std::fs::write(&p, "name = \"child\"\ndescription = \"x\"\nextends = \"default\"\n\n[[override]]\nrule = \"pe-nx-compt\"\nlevel = \"warn\"\n").unwrap();
    let out = bingate(&["policy", "validate", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("child.toml:6:9: error: [[override]] names unknown rule `pe-nx-compt`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `pe-nx-compat`?"), "{stderr}");
}

#[test]
fn extends_inherits_rules_and_override_changes_the_level() {
    let dir = paths::tempdir();
    let p = dir.path().join("child.toml");
    std::fs::write(&p, "name = \"child\"\ndescription = \"x\"\nextends = \"default\"\n\n[[override]]\nrule = \"pe-nx-compat\"\nlevel = \"info\"\n").unwrap();
    let policy = bingate::policy::load(p.to_str().unwrap(), &[]).unwrap();
    let parent = bingate::policy::load("default", &[]).unwrap();
    assert_eq!(policy.rules.len(), parent.rules.len());
    let nx = policy
        .rules
        .iter()
        .find(|r| r.id == "pe-nx-compat")
        .unwrap();
    assert_eq!(nx.level, Level::Info);
    // A rule id the parent already has is an error: the child must override it instead.
    std::fs::write(&p, "name = \"child\"\ndescription = \"x\"\nextends = \"default\"\n\n[[rule]]\nid = \"pe-nx-compat\"\ndescription = \"d\"\nlevel = \"deny\"\napplies = { format = \"pe\" }\ncheck = { fact = \"nx_compat\", equals = true }\nrationale = \"r\"\nremediation = { default = \"x\" }\n").unwrap();
    let err = bingate::policy::load(p.to_str().unwrap(), &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(":5:1: error: duplicate rule id `pe-nx-compat`"),
        "{err}"
    );
}

#[test]
fn waivers_apply_until_they_expire_and_unused_ones_are_reported() {
    let policy = bingate::policy::load("tests/policies/waivers-demo.toml", &[]).unwrap();
    let bad = report("corpus/pe/x64-no-nxcompat.exe");
    // Before the live waiver's expiry: waived, with its reason; the 2020 waiver is expired.
    let mut ev = Evaluator::new(&policy, Date::parse("2027-06-30").unwrap());
    let f = ev.evaluate(&bad.subject());
    let nx = f.iter().find(|x| x.rule == "pe-nx-compat").unwrap();
    assert_eq!(nx.status, Status::Waived);
    assert_eq!(
        nx.waiver.as_ref().unwrap().reason,
        "legacy plug-in host, replaced in 2027"
    );
    let s = ev.finish();
    assert_eq!(s.waived, 1);
    assert_eq!(s.failed.deny, 0);
    assert_eq!(s.expired_waivers.len(), 1);
    assert_eq!(s.expired_waivers[0].reason, "an older exception");
    assert_eq!(s.unused_waivers.len(), 1);
    assert_eq!(s.unused_waivers[0].target, "path never-built.exe");

    // The day after: the waiver no longer applies, the failure bites, both dated waivers expired.
    let mut ev = Evaluator::new(&policy, Date::parse("2027-07-01").unwrap());
    let f = ev.evaluate(&bad.subject());
    let nx = f.iter().find(|x| x.rule == "pe-nx-compat").unwrap();
    assert_eq!(nx.status, Status::Fail);
    assert!(
        nx.message.contains("expired on 2027-06-30"),
        "{}",
        nx.message
    );
    let s = ev.finish();
    assert_eq!(s.failed.deny, 1);
    assert_eq!(s.expired_waivers.len(), 2);
}

#[test]
fn exit_codes_follow_fail_on() {
    // x64-no-heva.exe fails only warn-level rules of the default policy.
    let warn_only = "corpus/pe/x64-no-heva.exe";
    assert_eq!(bingate(&["check", warn_only]).status.code(), Some(0));
    assert_eq!(
        bingate(&["check", "--fail-on", "warn", warn_only])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        bingate(&["check", "corpus/pe/x64-no-nxcompat.exe"])
            .status
            .code(),
        Some(1)
    );
    // Waived failures do not fail the run; --today moves the clock past the expiry.
    let args = [
        "check",
        "--policy",
        "tests/policies/waivers-demo.toml",
        "corpus/pe/x64-no-nxcompat.exe",
    ];
    let mut with_today = args.to_vec();
    with_today.extend(["--today", "2026-12-01"]);
    assert_eq!(bingate(&with_today).status.code(), Some(0));
    let mut later = args.to_vec();
    later.extend(["--today", "2028-01-01"]);
    assert_eq!(bingate(&later).status.code(), Some(1));
    // Policy-file errors are exit 2.
    assert_eq!(
        bingate(&[
            "check",
            "--policy",
            "tests/policies/errors.toml",
            "corpus/pe"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        bingate(&["check", "--policy", "no-such-policy", "corpus/pe"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn json_findings_list_every_rule_with_status() {
    let out = bingate(&[
        "check",
        "--format",
        "json",
        "--today",
        "2026-12-01",
        "--policy",
        "tests/policies/waivers-demo.toml",
        "corpus/pe/x64-no-nxcompat.exe",
        "corpus/elf/no-pie",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["policy"]["name"], "waivers-demo");
    let pe = &doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["format"] == "pe")
        .unwrap()["findings"];
    assert_eq!(pe[0]["rule"], "pe-nx-compat");
    assert_eq!(pe[0]["status"], "waived");
    assert_eq!(
        pe[0]["waiver"]["reason"],
        "legacy plug-in host, replaced in 2027"
    );
    let elf = &doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["format"] == "elf")
        .unwrap()["findings"];
    assert_eq!(elf[0]["status"], "not-applicable");
    assert_eq!(doc["summary"]["policy"]["waived"], 1);
    assert_eq!(
        doc["summary"]["policy"]["unused_waivers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn unparseable_binaries_fail_the_gate() {
    let dir = paths::tempdir();
    let mut data = paths::read("corpus/elf/pie-default");
    data.truncate(100);
    std::fs::write(dir.path().join("broken"), &data).unwrap();
    let out = bingate(&["check", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &doc["files"][0]["findings"][0];
    assert_eq!(f["rule"], "parse-error");
    assert_eq!(f["status"], "fail");
    assert_eq!(f["level"], "deny");
}

/// Every shipped policy loads; rule ids are kebab-case and unique within a policy; a rule id
/// means the same check in every policy that has it; every rule is documented.
#[test]
fn shipped_policies_are_valid_unique_and_documented() {
    let docs = paths::read_to_string("docs/policies.md");
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let names: Vec<&str> = bingate::policy::builtin_names().collect();
    assert!(names.contains(&"default"));
    for name in names {
        let p = bingate::policy::load(name, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.name, name);
        let mut ids = std::collections::BTreeSet::new();
        for r in &p.rules {
            assert!(ids.insert(r.id.clone()), "{name}: duplicate {}", r.id);
            assert!(
                !r.description.is_empty() && !r.rationale.is_empty(),
                "{name}/{}",
                r.id
            );
            assert!(
                r.remediation.default.is_some(),
                "{name}/{}: no default remediation",
                r.id
            );
            assert!(
                docs.contains(&format!("`{}`", r.id)),
                "{name}/{}: not in docs/policies.md",
                r.id
            );
            let check = format!("{:?}", r.check);
            if let Some(prev) = seen.insert(r.id.clone(), check.clone()) {
                assert_eq!(
                    prev, check,
                    "rule {} checks different things in different policies",
                    r.id
                );
            }
        }
    }
}

#[test]
fn policy_commands_list_show_and_explain() {
    let out = bingate(&["policy", "list"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("default"));
    let out = bingate(&["policy", "show", "default"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("pe-nx-compat") && text.contains("applies: pe"),
        "{text}"
    );
    let out = bingate(&["policy", "explain", "pe-nx-compat"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("how to fix:") && text.contains("mingw:"),
        "{text}"
    );
    let out = bingate(&["policy", "explain", "pe-nx-compt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `pe-nx-compat`?"));
}
