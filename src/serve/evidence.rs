//! The facts a digest-only client sends about its file (`evidence`: the file entry of `bingate
//! check --json`), read back into a report the key's policy is evaluated on. The server cannot
//! check them (it never sees the file): the audit record marks the verdict "client-supplied".
//! The report must at least name the same file: its SHA-256 must be the request's.

use serde::Deserialize;

use crate::facts::{Format, Hardening, Kind, Toolchain};
use crate::report::FileReport;

/// The fields of a report entry the policy judges before signing.
#[derive(Deserialize)]
struct Evidence {
    sha256: Option<String>,
    size: Option<u64>,
    format: Option<Format>,
    arch: Option<String>,
    bits: Option<u8>,
    kind: Option<Kind>,
    toolchain: Option<Toolchain>,
    hardening: Option<Hardening>,
    #[serde(default)]
    warnings: Vec<String>,
    error: Option<String>,
}

/// The report of `file_name` the client's evidence describes.
pub fn report(
    evidence: &serde_json::Value,
    file_name: &str,
    file_sha256: &str,
) -> Result<FileReport, String> {
    let e: Evidence = serde_json::from_value(evidence.clone())
        .map_err(|e| format!("not a bingate check report entry: {e}"))?;
    match &e.sha256 {
        Some(s) if s.eq_ignore_ascii_case(file_sha256) => {}
        Some(s) => {
            return Err(format!(
                "the report is about a file with SHA-256 {s}, not the file to sign ({file_sha256})"
            ));
        }
        None => return Err("the report carries no sha256".into()),
    }
    if let Some(err) = e.error {
        return Err(format!("the client could not examine the file: {err}"));
    }
    if e.format.is_none() || e.hardening.is_none() {
        return Err("the report has no facts (format, hardening)".into());
    }
    Ok(FileReport {
        path: file_name.to_owned(),
        sha256: e.sha256,
        size: e.size,
        format: e.format,
        arch: e.arch,
        bits: e.bits,
        kind: e.kind,
        toolchain: e.toolchain,
        hardening: e.hardening,
        warnings: e.warnings,
        error: None,
        signature: None,
        risk: None,
        container: None,
        installer: None,
        version: None,
        findings: None,
        severity: Default::default(),
        root_relative: None,
        inside: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report entry as `check --json` writes it reads back into the same facts.
    #[test]
    fn check_report_round_trips_into_the_same_facts() {
        for path in ["tests/data/dist/app.exe", "tests/data/dist/plugin.dll"] {
            let data = std::fs::read(path).unwrap();
            let mut r = crate::scan::examine(&data, std::path::Path::new(path), None, None);
            r.sha256 = Some(crate::sign::remote::hex(
                &<sha2::Sha256 as sha2::Digest>::digest(&data),
            ));
            let v = serde_json::to_value(&r).unwrap();
            let back = report(&v, path, r.sha256.as_deref().unwrap()).unwrap();
            assert_eq!(back.hardening, r.hardening, "{path}");
            assert_eq!(back.toolchain, r.toolchain, "{path}");
            assert_eq!(back.kind, r.kind, "{path}");
            assert!(report(&v, path, &"0".repeat(64)).is_err());
        }
    }
}
