//! `--format csv`: one row per file, for spreadsheets, after a header row that names the columns.
//!
//! RFC 4180: fields are separated by commas, records end with CRLF, and a field that holds a
//! comma, a double quote, a CR or an LF is enclosed in double quotes with its double quotes
//! doubled. Nothing else is written: no summary row (a spreadsheet would sort it in with the
//! files) and no trailing text.
//!
//! Formula injection (OWASP, "CSV Injection"): a spreadsheet runs a cell that starts with `=`,
//! `+`, `-` or `@` as a formula, and one that starts with a TAB or CR may be read as one after
//! the whitespace is dropped. File names, signer names and version strings come from the files
//! examined, so any cell starting with one of these six characters gets a `'` put in front of it
//! (which spreadsheets show as text and hide). Numbers bingate writes are never negative, so no
//! cell of bingate's own is changed by this.
//!
//! Columns (documented in docs/report-schema.md, "CSV"): identity and facts, the mitigations
//! (the ELF names are checksec's where they mean the same: `relro`, `canary`, `nx`, `pie`,
//! `rpath`, `runpath`, `fortify_source`, `fortified`), the signature, the risk level, the policy
//! result, the version resource, warnings and error. A cell is empty when the column does not
//! apply to the file (a PE mitigation on an ELF row, the signature with `--no-verify`).
//!
//! The view filters rows and findings as the human report does: with `--only-failures`, only
//! files with a failing finding at `--min-level` or above have a row; the policy columns count
//! only findings at `--min-level` or above.

use std::io::{self, Write};

use super::{FileReport, Renderer, Skipped, Summary};
use crate::cms::verdict::{SignatureReport, SignatureVerdict};
use crate::config::View;
use crate::elf::{ElfHardening, Pie, Relro};
use crate::facts::Hardening;
use crate::pe::{PeHardening, SafeSeh};
use crate::policy::{Finding, Level, Status};

/// The header row, in column order.
pub const COLUMNS: &[&str] = &[
    "path",
    "container",
    "format",
    "arch",
    "bits",
    "kind",
    "toolchain",
    "size",
    "sha256",
    "nx",
    "cet",
    "wx",
    "aslr",
    "high_entropy_va",
    "cfg",
    "safeseh",
    "gs",
    "wx_sections",
    "pie",
    "relro",
    "canary",
    "fortify_source",
    "fortified",
    "unfortified",
    "rpath",
    "runpath",
    "textrel",
    "signature",
    "signer",
    "timestamp",
    "risk",
    "policy",
    "deny",
    "warn",
    "info",
    "failing_rules",
    "company",
    "product",
    "description",
    "file_version",
    "product_version",
    "original_filename",
    "warnings",
    "error",
];

/// The characters that make a spreadsheet read a cell as a formula (OWASP's list).
const FORMULA_START: &[char] = &['=', '+', '-', '@', '\t', '\r'];

pub struct CsvRenderer<W: Write> {
    out: W,
    view: View,
}

impl<W: Write> CsvRenderer<W> {
    pub fn new(out: W, view: View) -> Self {
        CsvRenderer { out, view }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn record<S: AsRef<str>>(&mut self, cells: &[S]) -> io::Result<()> {
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            write_field(&mut self.out, c.as_ref())?;
        }
        self.out.write_all(b"\r\n")
    }
}

/// One field, guarded against formula injection and quoted as RFC 4180 says.
fn write_field(out: &mut impl Write, cell: &str) -> io::Result<()> {
    let guard = if cell.starts_with(FORMULA_START) {
        "'"
    } else {
        ""
    };
    if cell.contains([',', '"', '\r', '\n']) {
        write!(out, "\"{guard}{}\"", cell.replace('"', "\"\""))
    } else {
        write!(out, "{guard}{cell}")
    }
}

fn yes_no(v: bool) -> String {
    if v { "yes" } else { "no" }.to_owned()
}

/// Findings that count in this view: failing (or waived) at `min_level` or above.
fn shown(findings: &[Finding], min: Level, status: Status) -> impl Iterator<Item = &Finding> {
    findings
        .iter()
        .filter(move |f| f.status == status && f.level != Level::Off && f.level >= min)
}

/// The signature whose status is the file's: the one `decided_by` names, else the primary.
fn deciding(v: &SignatureVerdict) -> Option<&SignatureReport> {
    v.decided_by
        .as_ref()
        .and_then(|d| {
            v.signatures
                .iter()
                .find(|s| s.entry == d.entry && s.nested == d.nested)
        })
        .or_else(|| v.signatures.first())
}

/// The mitigation columns, `nx` to `textrel`.
fn mitigations(h: Option<&Hardening>) -> [String; 18] {
    let mut m: [String; 18] = Default::default();
    match h {
        Some(Hardening::Pe(p)) => pe_mitigations(p, &mut m),
        Some(Hardening::Elf(e)) => elf_mitigations(e, &mut m),
        None => {}
    }
    m
}

fn pe_mitigations(h: &PeHardening, m: &mut [String; 18]) {
    let [nx, cet, wx, aslr, heva, cfg, safeseh, gs, wx_sections, ..] = m;
    *nx = yes_no(h.nx_compat);
    *cet = yes_no(h.cet_compat);
    *wx = yes_no(!h.wx_sections.is_empty());
    *aslr = match (h.dynamic_base, h.relocs_stripped) {
        (true, false) => "yes",
        (true, true) => "no-relocs",
        (false, _) => "no",
    }
    .to_owned();
    *heva = yes_no(h.high_entropy_va);
    *cfg = match (h.guard_cf, h.cfg_instrumented) {
        (true, true) => "yes",
        (true, false) => "flag-only",
        (false, _) => "no",
    }
    .to_owned();
    *safeseh = match h.safe_seh {
        SafeSeh::Table => "table",
        SafeSeh::NoSeh => "no-seh",
        SafeSeh::Absent => "absent",
        SafeSeh::NotApplicable => "not-applicable",
    }
    .to_owned();
    *gs = yes_no(h.gs_cookie);
    *wx_sections = h.wx_sections.join(";");
}

fn elf_mitigations(h: &ElfHardening, m: &mut [String; 18]) {
    let [
        nx,
        cet,
        wx,
        _,
        _,
        _,
        _,
        _,
        _,
        pie,
        relro,
        canary,
        fortify_source,
        fortified,
        unfortified,
        rpath,
        runpath,
        textrel,
    ] = m;
    *nx = yes_no(h.nx);
    let marks: Vec<&str> = [
        (h.ibt, "ibt"),
        (h.shstk, "shstk"),
        (h.bti, "bti"),
        (h.pac, "pac"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| *name)
    .collect();
    *cet = if marks.is_empty() {
        "no".to_owned()
    } else {
        marks.join("+")
    };
    *wx = yes_no(h.wx_segments);
    *pie = match h.pie {
        Pie::Pie => "pie",
        Pie::Dso => "dso",
        Pie::No => "no",
        Pie::Rel => "rel",
    }
    .to_owned();
    *relro = match h.relro {
        Relro::Full => "full",
        Relro::Partial => "partial",
        Relro::None => "none",
    }
    .to_owned();
    *canary = yes_no(h.canary);
    *fortify_source = yes_no(h.fortify.fortified > 0);
    *fortified = h.fortify.fortified.to_string();
    *unfortified = h.fortify.unfortified.to_string();
    let paths = |v: &[String]| {
        if v.is_empty() {
            "no".to_owned()
        } else {
            v.join(":")
        }
    };
    *rpath = paths(&h.rpath);
    *runpath = paths(&h.runpath);
    *textrel = yes_no(h.textrel);
}

/// The row of one file, in [`COLUMNS`] order.
fn row(f: &FileReport, view: &View) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let mut cells = vec![
        f.path.clone(),
        opt(f.container.as_ref().map(|c| c.kind.name().to_owned())),
        opt(f.format.map(|x| x.as_str().to_owned())),
        opt(f.arch.clone()),
        opt(f.bits.map(|b| b.to_string())),
        opt(f.kind.map(|k| k.as_str().to_owned())),
        opt(f.toolchain.as_ref().map(|t| t.name.as_str().to_owned())),
        opt(f.size.map(|s| s.to_string())),
        opt(f.sha256.clone()),
    ];
    cells.extend(mitigations(f.hardening.as_ref()));

    let sig = f.signature.as_ref();
    let ours = sig.and_then(deciding);
    cells.push(opt(sig.map(|v| v.status.as_str().to_owned())));
    cells.push(opt(ours
        .and_then(|s| s.signer.as_ref())
        .map(|c| c.subject.clone())));
    cells.push(opt(ours
        .and_then(|s| s.timestamp.as_ref())
        .filter(|t| t.valid)
        .map(|t| t.time.to_string())));
    cells.push(opt(f.risk.as_ref().map(|r| r.level.as_str().to_owned())));

    match f.findings.as_deref() {
        Some(fs) => {
            let failing: Vec<&Finding> = shown(fs, view.min_level, Status::Fail).collect();
            let waived = shown(fs, view.min_level, Status::Waived).next().is_some();
            cells.push(
                match (failing.is_empty(), waived) {
                    (false, _) => "fail",
                    (true, true) => "waived-only",
                    (true, false) => "pass",
                }
                .to_owned(),
            );
            for level in [Level::Deny, Level::Warn, Level::Info] {
                cells.push(if level >= view.min_level {
                    failing
                        .iter()
                        .filter(|x| x.level == level)
                        .count()
                        .to_string()
                } else {
                    String::new()
                });
            }
            cells.push(
                failing
                    .iter()
                    .map(|x| x.rule.as_str())
                    .collect::<Vec<_>>()
                    .join(";"),
            );
        }
        None => cells.extend(std::iter::repeat_n(String::new(), 5)),
    }

    let v = f.version.as_ref();
    for field in [
        v.and_then(|v| v.company.clone()),
        v.and_then(|v| v.product.clone()),
        v.and_then(|v| v.description.clone()),
        v.and_then(|v| v.file_version.clone()),
        v.and_then(|v| v.product_version.clone()),
        v.and_then(|v| v.original_filename.clone()),
    ] {
        cells.push(opt(field));
    }
    cells.push(f.warnings.len().to_string());
    cells.push(opt(f.error.as_ref().map(|e| e.message().to_owned())));
    cells
}

impl<W: Write> Renderer for CsvRenderer<W> {
    fn begin(&mut self) -> io::Result<()> {
        self.record(COLUMNS)
    }

    fn file(&mut self, f: &FileReport) -> io::Result<()> {
        // As in human output, a file that could not be read is always listed: it decides exit 2.
        if self.view.only_failures
            && !super::fails_at(f, self.view.min_level)
            && f.severity != super::Severity::ToolError
        {
            return Ok(());
        }
        let cells = row(f, &self.view);
        self.record(&cells)
    }

    fn finish(&mut self, _skipped: &[Skipped], _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn field(s: &str) -> String {
        let mut out = Vec::new();
        write_field(&mut out, s).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field(""), "");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("cr\rhere"), "\"cr\rhere\"");
    }

    #[test]
    fn formula_starts_are_prefixed_with_a_quote() {
        assert_eq!(field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(field("+1"), "'+1");
        assert_eq!(field("-1"), "'-1");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("\tx"), "'\tx");
        // Quoted after the guard: the quote is inside the field.
        assert_eq!(field("\rx"), "\"'\rx\"");
        assert_eq!(field("=a,b"), "\"'=a,b\"");
        // Only at the start.
        assert_eq!(field("a=b"), "a=b");
    }

    /// A file that could not be read (not a regular file), as the scan reports it.
    fn unreadable(path: &str) -> FileReport {
        FileReport::error(
            path.into(),
            None,
            None,
            None,
            crate::error::FileError::not_regular(),
            super::super::Severity::ToolError,
        )
    }

    #[test]
    fn only_failures_keeps_unreadable_files() {
        let f = unreadable("unreadable");
        let view = View {
            only_failures: true,
            ..View::default()
        };
        let mut r = CsvRenderer::new(Vec::new(), view);
        r.file(&f).unwrap();
        let out = String::from_utf8(r.into_inner()).unwrap();
        assert!(out.starts_with("unreadable,"), "{out}");
    }

    #[test]
    fn every_row_has_one_cell_per_column() {
        let f = unreadable("x");
        assert_eq!(row(&f, &View::default()).len(), COLUMNS.len());
    }
}
