//! The `risk-at-most` check: the file's SmartScreen-risk estimate against the highest level a
//! rule allows.

use super::super::eval::Subject;
use super::super::model::Status;

/// The SmartScreen-risk estimate against the highest level the rule allows.
pub(crate) fn risk_at_most(max: crate::risk::RiskLevel, file: &Subject<'_>) -> (Status, String) {
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
