//! The examples in README.md and docs/*.md are the binary's output today: every fenced block
//! preceded by a `<!-- checked: bingate ARGS -->` comment is compared with what `bingate ARGS`
//! prints when run from the repository root.
//!
//! - a `json` block must equal the output as JSON values (the README pretty-prints it);
//! - a block with `...` or `…` lines is abridged: its other lines must appear in the output, in
//!   order, each as a whole line;
//! - any other block must equal the output exactly.
//!
//! A block whose command reads `corpus/public` (fetched by corpus/fetch-public.sh, not committed)
//! is skipped when that corpus is absent, unless `BINGATE_REQUIRE_INTEROP=1`.

mod common;

use common::run::bingate_env;
use common::{interop, paths};

const MARKER: &str = "<!-- checked: bingate ";

struct Example {
    file: String,
    line: usize,
    args: Vec<String>,
    lang: String,
    body: String,
}

fn examples(file: &str) -> Vec<Example> {
    let text = paths::read_to_string(file);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(rest) = lines[i].trim().strip_prefix(MARKER) else {
            i += 1;
            continue;
        };
        let args = rest
            .trim_end_matches("-->")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let open = (i + 1..lines.len())
            .find(|&k| lines[k].starts_with("```"))
            .unwrap_or_else(|| panic!("{file}:{}: a checked marker without a block", i + 1));
        let close = (open + 1..lines.len())
            .find(|&k| lines[k].starts_with("```"))
            .unwrap_or_else(|| panic!("{file}:{}: unclosed block", open + 1));
        let mut body: Vec<&str> = lines[open + 1..close].to_vec();
        // A block may show the command as its first line.
        if body.first().is_some_and(|l| l.starts_with("$ bingate ")) {
            body.remove(0);
        }
        out.push(Example {
            file: file.to_owned(),
            line: i + 1,
            args,
            lang: lines[open].trim_start_matches('`').trim().to_owned(),
            body: body.join("\n"),
        });
        i = close + 1;
    }
    out
}

fn run(args: &[String]) -> String {
    let o = bingate_env(args, &[("NO_COLOR", "1")]);
    String::from_utf8(o.stdout).unwrap()
}

fn check(e: &Example) -> Result<(), String> {
    let actual = run(&e.args);
    let place = format!("{}:{} (bingate {})", e.file, e.line, e.args.join(" "));
    if e.lang == "json" {
        let want: serde_json::Value = serde_json::from_str(&e.body)
            .map_err(|err| format!("{place}: the block is not JSON: {err}"))?;
        let got: serde_json::Value = serde_json::from_str(&actual)
            .map_err(|err| format!("{place}: the output is not JSON: {err}"))?;
        return if want == got {
            Ok(())
        } else {
            Err(format!(
                "{place}: differs; today's output:\n{}",
                serde_json::to_string_pretty(&got).unwrap()
            ))
        };
    }
    let abridged = e.body.lines().any(|l| matches!(l.trim(), "..." | "…"));
    if !abridged {
        return if actual.trim_end() == e.body.trim_end() {
            Ok(())
        } else {
            Err(format!("{place}: differs; today's output:\n{actual}"))
        };
    }
    let have: Vec<&str> = actual.lines().collect();
    let mut at = 0;
    for want in e.body.lines().filter(|l| !matches!(l.trim(), "..." | "…")) {
        match have[at..].iter().position(|h| *h == want) {
            Some(k) => at += k + 1,
            None => {
                return Err(format!(
                    "{place}: line not in the output (in order): {want:?}; today's output:\n{actual}"
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn readme_and_docs_examples_are_todays_output() {
    let mut files = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(paths::repo("docs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            files.push(format!("docs/{name}"));
        }
    }
    let public = paths::repo("corpus/public/msvc-runtime").is_dir();
    let (mut checked, mut failures) = (0, Vec::new());
    for file in &files {
        for e in examples(file) {
            if e.args.iter().any(|a| a.starts_with("corpus/public")) && !public {
                interop::skip("corpus/public is absent (corpus/fetch-public.sh)");
                continue;
            }
            checked += 1;
            if let Err(f) = check(&e) {
                failures.push(f);
            }
        }
    }
    assert!(checked >= 3, "only {checked} checked examples");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// policies/README.md's table gives each shipped policy's rule count, split by format, and the
/// active count when some rules are `off`: the same numbers the loaded policies have.
#[test]
fn policies_readme_counts_match_the_shipped_policies() {
    use bingate::facts::Format;
    use bingate::policy::{Check, Level};
    let text = paths::read_to_string("policies/README.md");
    let mut seen = 0;
    for line in text.lines().filter(|l| l.starts_with("| [")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1]
            .trim_start_matches('[')
            .split(".toml")
            .next()
            .unwrap();
        let p = bingate::policy::load(name, &[]).unwrap();
        let format = |r: &bingate::policy::Rule| {
            r.applies.format.or(match &r.check {
                Check::Named(n) => Some(n.format()),
                Check::RiskAtMost(_) => Some(Format::Pe),
                Check::Fact { .. } => None,
            })
        };
        let pe = p
            .rules
            .iter()
            .filter(|r| format(r) == Some(Format::Pe))
            .count();
        let elf = p
            .rules
            .iter()
            .filter(|r| format(r) == Some(Format::Elf))
            .count();
        let active = p.rules.iter().filter(|r| r.level != Level::Off).count();
        let total = p.rules.len();
        let split = match (pe, elf) {
            (_, 0) => "(PE)".to_owned(),
            (0, _) => "(ELF)".to_owned(),
            _ if active == total => format!("({pe} PE, {elf} ELF)"),
            _ => format!("({pe} PE, {elf} ELF; {active} active)"),
        };
        assert_eq!(
            cells[2],
            format!("{total} {split}"),
            "policies/README.md, {name}"
        );
        seen += 1;
    }
    let shipped = std::fs::read_dir(paths::repo("policies"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "toml")
        })
        .count();
    assert_eq!(seen, shipped, "every shipped policy is listed");
}
