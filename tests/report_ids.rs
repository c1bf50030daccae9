//! Every id a report prints from a closed vocabulary (signature statuses, reason codes, anomaly
//! ids, risk evidence ids) is unique within its enum and documented in docs/report-schema.md,
//! in a table generated from the enums' descriptions: `BINGATE_BLESS=1 cargo test --test
//! report_ids` rewrites the tables from the enums; otherwise they must match exactly.

mod common;

use bingate::cms::codes::{AnomalyId, ReasonCode, SignatureFormat};
use bingate::cms::verdict::Status;
use bingate::risk::EvidenceId;

use common::{golden, paths};

fn doc() -> std::path::PathBuf {
    paths::repo("docs/report-schema.md")
}
const TABLE_HEAD: &str = "| id | description |";
const TABLE_RULE: &str = "|----|-------------|";

/// (heading in the doc, the enum's (id, description) pairs).
fn vocabularies() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    fn rows<T: Copy>(
        all: &[T],
        id: fn(T) -> &'static str,
        desc: fn(T) -> &'static str,
    ) -> Vec<(&'static str, &'static str)> {
        all.iter().map(|v| (id(*v), desc(*v))).collect()
    }
    vec![
        (
            "### Signature statuses (`status`)",
            rows(Status::ALL, Status::as_str, Status::description),
        ),
        (
            "### Signature formats (`format`)",
            rows(
                SignatureFormat::ALL,
                SignatureFormat::as_str,
                SignatureFormat::description,
            ),
        ),
        (
            "### Reason codes (`reasons[].code`)",
            rows(ReasonCode::ALL, ReasonCode::as_str, ReasonCode::description),
        ),
        (
            "### Anomaly ids (`anomalies[].id`)",
            rows(AnomalyId::ALL, AnomalyId::as_str, AnomalyId::description),
        ),
        (
            "### Risk evidence ids (`risk.evidence[].id`)",
            rows(EvidenceId::ALL, EvidenceId::as_str, EvidenceId::description),
        ),
    ]
}

fn table(rows: &[(&str, &str)]) -> Vec<String> {
    let mut out = vec![TABLE_HEAD.to_owned(), TABLE_RULE.to_owned()];
    out.extend(rows.iter().map(|(id, d)| format!("| `{id}` | {d} |")));
    out
}

/// The line range of the table under `heading`: from its header row to its last row.
fn table_span(lines: &[String], heading: &str) -> std::ops::Range<usize> {
    let at = lines
        .iter()
        .position(|l| l == heading)
        .unwrap_or_else(|| panic!("docs/report-schema.md has no heading `{heading}`"));
    let start = (at + 1..lines.len())
        .find(|&i| lines[i] == TABLE_HEAD)
        .unwrap_or_else(|| panic!("no `{TABLE_HEAD}` table under `{heading}`"));
    let end = (start..lines.len())
        .find(|&i| !lines[i].starts_with('|'))
        .unwrap_or(lines.len());
    start..end
}

#[test]
fn every_id_is_unique_within_its_enum() {
    for (heading, rows) in vocabularies() {
        let mut ids: Vec<&str> = rows.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "{heading}: duplicate ids");
        for (id, d) in &rows {
            assert!(
                !d.is_empty() && !d.contains('\n'),
                "{id}: one-line description"
            );
            assert!(
                !d.contains('|'),
                "{id}: a description must not break the table"
            );
        }
    }
}

#[test]
fn every_id_is_documented_in_the_report_schema() {
    let text = std::fs::read_to_string(doc()).expect("docs/report-schema.md");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let bless = golden::blessing();
    let mut drift = Vec::new();
    for (heading, rows) in vocabularies() {
        let span = table_span(&lines, heading);
        let want = table(&rows);
        if lines[span.clone()] != want[..] {
            drift.push(heading);
            lines.splice(span, want);
        }
    }
    if bless {
        if !drift.is_empty() {
            let mut out = lines.join("\n");
            out.push('\n');
            std::fs::write(doc(), out).expect("write docs/report-schema.md");
        }
        return;
    }
    assert!(
        drift.is_empty(),
        "docs/report-schema.md: the tables under {drift:?} differ from the enums \
         (rewrite them with BINGATE_BLESS=1 cargo test --test report_ids and review the diff)"
    );
}

/// Policy and risk read typed values: no id of these vocabularies is written as a string literal
/// in src/policy/ or src/risk/ (the evidence ids' own declarations in risk/weights.rs aside), so
/// a misspelt code cannot silently change a finding or a score.
#[test]
fn policy_and_risk_name_no_id_as_a_string() {
    let ids: Vec<&str> = vocabularies()
        .into_iter()
        .flat_map(|(_, rows)| rows.into_iter().map(|(id, _)| id))
        .collect();
    let mut found = Vec::new();
    for dir in ["src/policy", "src/risk"] {
        for p in paths::rust_files(&paths::repo(dir)) {
            let text = std::fs::read_to_string(&p).unwrap();
            for (n, line) in text.lines().enumerate() {
                // An id_enum! declaration: `Variant = "id": "description",`.
                let declaration = line
                    .trim_start()
                    .split_once(" = \"")
                    .is_some_and(|(v, _)| v.chars().all(|c| c.is_ascii_alphanumeric()));
                for id in &ids {
                    if line.contains(&format!("\"{id}\"")) && !declaration {
                        found.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "id literals:\n{}", found.join("\n"));
}
