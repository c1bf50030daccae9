//! `--format html`: one self-contained audit page. A summary (files by signature status, by risk
//! level and by failing rule, with small inline SVG bar charts), then a sortable, filterable table
//! with one row per file and a details panel under each row (facts, signature chain and
//! timestamp, findings with fixes, risk evidence, container lines, version resource, warnings).
//!
//! The page loads nothing: inline CSS, one inline script, inline SVG. Its Content-Security-Policy
//! `<meta>` allows that script by its SHA-256 and nothing else (`default-src 'none'`), so even a
//! string that escaped [`crate::escape::html`] could not run. Every string that comes from a file
//! (paths, certificate names, version strings, messages that quote them) goes through that escape,
//! in text and in attributes alike; the script never turns text into markup.
//!
//! Streaming: each file's row and panel are rendered to a `String` when it arrives (no
//! `FileReport` is kept), with the counts the summary needs; `finish` writes the page.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::io::{self, Write};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::{FileReport, Renderer, Skipped, Summary};
use crate::cms::verdict::{
    SignatureFormat, SignatureReport, SignatureVerdict, Status as SigStatus,
};
use crate::escape::html as h;
use crate::policy::{Level, Status};
use crate::risk::{RiskEstimate, RiskLevel};

/// Items of one list shown in a details panel (a hardening fact's list, warnings) and skipped
/// paths listed in the summary: a hostile file or archive can make these long, and a page that
/// lists thousands of them per file is unreadable and slow to load. The count of the rest is
/// shown; the JSON report has them all.
const LIST_ITEMS_SHOWN: usize = 64;

/// The page's one script: sorting, filtering, the "N of M" counter and the details toggles. It
/// reads text and attributes only and never builds markup, so nothing from a file can become
/// script through it. Allowed by its hash in the page's Content-Security-Policy.
const SCRIPT: &str = r#"
(function () {
  'use strict';
  var table = document.getElementById('files');
  var filter = document.getElementById('filter');
  var status = document.getElementById('status');
  var shown = document.getElementById('shown');
  var bodies = Array.prototype.slice.call(table.tBodies);
  var total = bodies.length;
  function apply() {
    var q = filter.value.trim().toLowerCase();
    var s = status.value;
    var cut = s.indexOf(':');
    var key = cut > 0 ? s.slice(0, cut) : '';
    var want = cut > 0 ? s.slice(cut + 1) : '';
    var n = 0;
    bodies.forEach(function (b) {
      var row = b.rows[0];
      var name = row.cells[0].textContent.toLowerCase();
      var ok = (q === '' || name.indexOf(q) >= 0) &&
        (key === '' || row.getAttribute('data-' + key) === want);
      b.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = n + ' of ' + total + ' files shown';
  }
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  function sortKey(b, c) {
    var cell = b.rows[0].cells[c];
    var k = cell.getAttribute('data-k');
    return k !== null ? k : cell.textContent;
  }
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, c) {
    var button = th.querySelector('button');
    if (!button) { return; }
    button.addEventListener('click', function () {
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(heads, function (o) { o.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      bodies.sort(function (a, b) {
        var r = collator.compare(sortKey(a, c), sortKey(b, c));
        return asc ? r : -r;
      });
      bodies.forEach(function (b) { table.appendChild(b); });
    });
  });
  table.addEventListener('click', function (e) {
    var button = e.target.closest('button.open');
    if (!button) { return; }
    var panel = button.closest('tbody').rows[1];
    panel.hidden = !panel.hidden;
    button.setAttribute('aria-expanded', panel.hidden ? 'false' : 'true');
  });
  document.getElementById('expand').addEventListener('click', function () {
    var open = this.getAttribute('aria-pressed') !== 'true';
    this.setAttribute('aria-pressed', open ? 'true' : 'false');
    this.textContent = open ? 'Collapse all' : 'Expand all';
    bodies.forEach(function (b) {
      b.rows[1].hidden = !open;
      b.rows[0].cells[0].firstChild.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
  });
  filter.addEventListener('input', apply);
  status.addEventListener('change', apply);
  apply();
}());
"#;

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1d232a; --muted: #5b6570; --bg: #ffffff; --panel: #f4f6f8;
  --line: #d8dee4; --good: #1a7f37; --warn: #9a6700; --bad: #cf222e; --none: #8c959f; --accent: #0969da; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9da7b3; --bg: #0d1117; --panel: #161b22; --line: #30363d;
    --good: #3fb950; --warn: #d29922; --bad: #f85149; --none: #6e7681; --accent: #58a6ff; }
}
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 20px; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 14px; margin: 0 0 6px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
h4 { margin: 0 0 4px; font-size: 13px; color: var(--muted); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; min-width: 260px; flex: 1 1 260px; }
.card table { border-collapse: collapse; width: 100%; }
.card td, .card th { padding: 2px 6px; text-align: left; border-bottom: 1px solid var(--line); }
svg.chart { max-width: 100%; height: auto; display: block; }
.notes { margin: 0 0 8px; padding-left: 18px; overflow-wrap: anywhere; }
.card p { overflow-wrap: anywhere; margin: 6px 0 0; }
svg text { fill: var(--fg); font: 12px system-ui, sans-serif; }
.f-valid, .f-low, .f-pass { fill: var(--good); } .f-untrusted, .f-medium, .f-waived { fill: var(--warn); }
.f-invalid, .f-unsigned, .f-malformed, .f-high, .f-fail { fill: var(--bad); } .f-none, .f-na { fill: var(--none); }
.controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 12px 0 8px; }
input, select, button { font: inherit; color: inherit; }
input, select { padding: 4px 6px; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); }
#filter { min-width: 260px; }
#files { border-collapse: collapse; width: 100%; }
#files th { text-align: left; border-bottom: 2px solid var(--line); padding: 0; position: sticky; top: 0; background: var(--bg); }
#files th button { border: 0; background: none; padding: 6px 8px; cursor: pointer; font-weight: 600; width: 100%; text-align: left; }
#files th[aria-sort=ascending] button::after { content: " \25B2"; }
#files th[aria-sort=descending] button::after { content: " \25BC"; }
#files td { padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
tr.file:hover { background: var(--panel); }
button.open { border: 0; background: none; padding: 0; cursor: pointer; text-align: left; color: var(--accent);
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
button.open::before { content: "\25B8  "; color: var(--muted); }
button.open[aria-expanded=true]::before { content: "\25BE  "; }
#expand { border: 1px solid var(--line); border-radius: 4px; background: var(--panel); padding: 4px 8px; cursor: pointer; }
.b { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 12px; border: 1px solid currentColor; white-space: nowrap; }
.s-valid, .s-low, .s-pass { color: var(--good); } .s-untrusted, .s-medium, .s-waived, .s-warn { color: var(--warn); }
.s-invalid, .s-unsigned, .s-malformed, .s-high, .s-fail, .s-deny, .s-error { color: var(--bad); }
.s-none, .s-na, .s-info { color: var(--none); }
tr.details > td { background: var(--panel); }
.panel { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 10px 18px; padding: 6px 0; }
.panel section { min-width: 0; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 1px 10px; margin: 0; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; overflow-wrap: anywhere; }
.panel section.facts { grid-column: 1 / -1; }
.facts dl.kv { grid-template-columns: repeat(auto-fill, 180px minmax(160px, 1fr)); }
.panel ul { margin: 0; padding-left: 18px; } .panel li { margin: 2px 0; overflow-wrap: anywhere; }
.fix { color: var(--muted); } .err { color: var(--bad); }
.yes { color: var(--good); } .no { color: var(--bad); }
footer { margin-top: 16px; color: var(--muted); font-size: 12px; }
"#;

/// The per-file result of the policy, as the table and the status filter show it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PolicyResult {
    Fail,
    Waived,
    Pass,
    NotApplicable,
    NoPolicy,
}

impl PolicyResult {
    fn id(self) -> &'static str {
        match self {
            PolicyResult::Fail => "fail",
            PolicyResult::Waived => "waived",
            PolicyResult::Pass => "pass",
            PolicyResult::NotApplicable => "na",
            PolicyResult::NoPolicy => "none",
        }
    }

    fn label(self) -> &'static str {
        match self {
            PolicyResult::Fail => "fail",
            PolicyResult::Waived => "waived",
            PolicyResult::Pass => "pass",
            PolicyResult::NotApplicable => "not applicable",
            PolicyResult::NoPolicy => "no policy",
        }
    }

    const ALL: [PolicyResult; 5] = [
        PolicyResult::Fail,
        PolicyResult::Waived,
        PolicyResult::Pass,
        PolicyResult::NotApplicable,
        PolicyResult::NoPolicy,
    ];
}

/// A signature status as the page names it, `none` for a file without a verdict.
fn sig_id(v: Option<&SignatureVerdict>) -> &'static str {
    v.map_or("none", |v| v.status.as_str())
}

/// Sort key of a signature status: worst last.
fn sig_rank(v: Option<&SignatureVerdict>) -> u8 {
    match v.map(|v| v.status) {
        None => 0,
        Some(SigStatus::Valid) => 1,
        Some(SigStatus::Untrusted) => 2,
        Some(SigStatus::Unsigned) => 3,
        Some(SigStatus::Invalid) => 4,
        Some(SigStatus::Malformed) => 5,
    }
}

const SIG_ROWS: [(&str, &str); 6] = [
    ("valid", "valid"),
    ("untrusted", "untrusted"),
    ("unsigned", "unsigned"),
    ("invalid", "invalid"),
    ("malformed", "malformed"),
    ("none", "no verdict"),
];

const RISK_ROWS: [(&str, &str); 4] = [
    ("high", "high"),
    ("medium", "medium"),
    ("low", "low"),
    ("none", "no estimate"),
];

/// What the page knows about the run's files besides [`Summary`]: counts the summary does not
/// keep.
#[derive(Default)]
struct Counts {
    /// Files per signature id (`SIG_ROWS`).
    signature: BTreeMap<&'static str, u64>,
    /// Files per risk id (`RISK_ROWS`).
    risk: BTreeMap<&'static str, u64>,
    /// Files per policy result.
    policy: BTreeMap<PolicyResult, u64>,
    /// Files with an error.
    errors: u64,
    /// Failing rules: id -> (highest level it failed at, files failing it).
    failing: BTreeMap<String, (Level, u64)>,
}

fn bump<K: Ord>(map: &mut BTreeMap<K, u64>, key: K) {
    let slot = map.entry(key).or_insert(0);
    *slot = slot.saturating_add(1);
}

pub struct HtmlRenderer<W: Write> {
    out: W,
    /// The run's policy: its name and where it came from.
    policy: Option<(String, String)>,
    /// Each file's `<tbody>` (its row and its details panel), in report order.
    rows: String,
    counts: Counts,
}

impl<W: Write> HtmlRenderer<W> {
    pub fn new(out: W, policy: Option<(String, String)>) -> Self {
        HtmlRenderer {
            out,
            policy,
            rows: String::new(),
            counts: Counts::default(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// `fmt::Error` from writing to a `String` (which never fails) as an `io::Error`.
fn io_err(_: fmt::Error) -> io::Error {
    io::Error::other("formatting the HTML report failed")
}

impl<W: Write> Renderer for HtmlRenderer<W> {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn file(&mut self, f: &FileReport) -> io::Result<()> {
        let result = policy_result(f);
        let c = &mut self.counts;
        bump(&mut c.signature, sig_id(f.signature.as_ref()));
        bump(
            &mut c.risk,
            f.risk.as_ref().map_or("none", |r| r.level.as_str()),
        );
        bump(&mut c.policy, result);
        if f.error.is_some() {
            c.errors = c.errors.saturating_add(1);
        }
        for x in f.findings.iter().flatten() {
            if x.status == Status::Fail {
                let slot = c.failing.entry(x.rule.clone()).or_insert((x.level, 0));
                slot.0 = slot.0.max(x.level);
                slot.1 = slot.1.saturating_add(1);
            }
        }
        let id = self.rows.len();
        file_body(&mut self.rows, f, result, id).map_err(io_err)
    }

    fn finish(&mut self, skipped: &[Skipped], summary: &Summary) -> io::Result<()> {
        let mut page = String::new();
        head(&mut page).map_err(io_err)?;
        summary_section(
            &mut page,
            self.policy.as_ref(),
            &self.counts,
            skipped,
            summary,
        )
        .map_err(io_err)?;
        controls(&mut page, &self.counts, summary.files).map_err(io_err)?;
        self.out.write_all(page.as_bytes())?;
        self.out.write_all(self.rows.as_bytes())?;
        // The rows are written; free them before the tail.
        self.rows = String::new();
        let mut tail = String::new();
        footer(&mut tail).map_err(io_err)?;
        self.out.write_all(tail.as_bytes())?;
        self.out.flush()
    }
}

fn policy_result(f: &FileReport) -> PolicyResult {
    let Some(findings) = &f.findings else {
        return PolicyResult::NoPolicy;
    };
    if findings.iter().any(|x| x.status == Status::Fail) {
        PolicyResult::Fail
    } else if findings.iter().any(|x| x.status == Status::Waived) {
        PolicyResult::Waived
    } else if findings.iter().any(|x| x.status == Status::Pass) {
        PolicyResult::Pass
    } else {
        PolicyResult::NotApplicable
    }
}

/// The Content-Security-Policy: nothing but the inline styles and the one script, by hash.
fn csp() -> String {
    let digest = Sha256::digest(SCRIPT.as_bytes());
    let hash = base64::engine::general_purpose::STANDARD.encode(digest);
    format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    )
}

fn head(out: &mut String) -> fmt::Result {
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"bingate {}\">\n\
         <title>bingate audit report</title>\n<link rel=\"icon\" href=\"data:,\">\n\
         <style>{STYLE}</style>\n</head>\n<body>\n",
        h(&csp()),
        env!("CARGO_PKG_VERSION")
    )
}

/// A horizontal bar chart: one bar per `(class, label, count)`.
fn bars(out: &mut String, title: &str, items: &[(&str, &str, u64)]) -> fmt::Result {
    const LABEL: u64 = 92;
    const WIDTH: u64 = 150;
    const ROW: u64 = 20;
    let max = items.iter().map(|i| i.2).max().unwrap_or(0).max(1);
    let height = ROW.saturating_mul(items.len() as u64).max(ROW);
    let total = LABEL.saturating_add(WIDTH).saturating_add(40);
    write!(
        out,
        "<svg class=\"chart\" width=\"{total}\" height=\"{height}\" viewBox=\"0 0 {total} {height}\" role=\"img\" aria-label=\"{}\">",
        h(title)
    )?;
    for (n, (class, label, count)) in items.iter().enumerate() {
        let y = ROW.saturating_mul(n as u64);
        let w = count
            .saturating_mul(WIDTH)
            .checked_div(max)
            .unwrap_or(0)
            .max(u64::from(*count > 0).saturating_mul(2));
        write!(
            out,
            "<text x=\"0\" y=\"{}\">{}</text><rect class=\"f-{}\" x=\"{LABEL}\" y=\"{}\" width=\"{w}\" height=\"{}\" rx=\"2\"></rect><text x=\"{}\" y=\"{}\">{count}</text>",
            y.saturating_add(14),
            h(label),
            h(class),
            y.saturating_add(3),
            ROW.saturating_sub(6),
            LABEL.saturating_add(w).saturating_add(6),
            y.saturating_add(14),
        )?;
    }
    out.push_str("</svg>");
    Ok(())
}

fn summary_section(
    out: &mut String,
    policy: Option<&(String, String)>,
    c: &Counts,
    skipped: &[Skipped],
    s: &Summary,
) -> fmt::Result {
    out.push_str("<header>\n<h1>bingate audit report</h1>\n<p class=\"muted\">");
    out.push_str(&s.examined_line());
    out.push_str("</p>\n<p>");
    match policy {
        Some((name, source)) => write!(
            out,
            "Policy <b>{}</b> <span class=\"muted\">({})</span>",
            h(name),
            h(source)
        )?,
        None => out.push_str("No policy applied (facts only)."),
    }
    out.push_str("</p>\n</header>\n<section class=\"cards\" id=\"summary\">\n");

    // Signatures.
    let sig: Vec<(&str, &str, u64)> = SIG_ROWS
        .iter()
        .map(|(id, label)| (*id, *label, c.signature.get(id).copied().unwrap_or(0)))
        .filter(|(id, _, n)| *n > 0 || *id != "none")
        .collect();
    out.push_str("<div class=\"card\" id=\"sum-signature\"><h2>Signature status</h2>");
    if s.signatures.is_some() {
        bars(out, "files by signature status", &sig)?;
    } else {
        out.push_str("<p class=\"muted\">Signatures were not verified.</p>");
    }
    out.push_str("</div>\n");

    // Risk.
    out.push_str("<div class=\"card\" id=\"sum-risk\"><h2>SmartScreen risk</h2>");
    if s.risk.is_some() {
        let risk: Vec<(&str, &str, u64)> = RISK_ROWS
            .iter()
            .map(|(id, label)| (*id, *label, c.risk.get(id).copied().unwrap_or(0)))
            .collect();
        bars(out, "files by risk level", &risk)?;
    } else {
        out.push_str("<p class=\"muted\">Not estimated in this run.</p>");
    }
    out.push_str("</div>\n");

    // Policy.
    out.push_str("<div class=\"card\" id=\"sum-policy\"><h2>Policy</h2>");
    if let Some(p) = &s.policy {
        let results: Vec<(&str, &str, u64)> = PolicyResult::ALL
            .iter()
            .filter(|r| **r != PolicyResult::NoPolicy)
            .map(|r| (r.id(), r.label(), c.policy.get(r).copied().unwrap_or(0)))
            .collect();
        bars(out, "files by policy result", &results)?;
        write!(
            out,
            "<p>{} deny, {} warn, {} info {} failed in {}; {} waived.</p>",
            p.failed.deny,
            p.failed.warn,
            p.failed.info,
            if p.failed
                .deny
                .saturating_add(p.failed.warn)
                .saturating_add(p.failed.info)
                == 1
            {
                "finding"
            } else {
                "findings"
            },
            super::count(p.files_failing, "file", "files"),
            p.waived
        )?;
    } else {
        out.push_str("<p class=\"muted\">No policy applied.</p>");
    }
    out.push_str("</div>\n");

    // Failing rules, most files first.
    if !c.failing.is_empty() {
        let mut rules: Vec<(&String, &(Level, u64))> = c.failing.iter().collect();
        rules.sort_by(|a, b| (b.1).0.cmp(&(a.1).0).then((b.1).1.cmp(&(a.1).1)));
        out.push_str(
            "<div class=\"card\" id=\"sum-rules\"><h2>Failing rules</h2><table><thead><tr><th>rule</th><th>level</th><th>files</th></tr></thead><tbody>",
        );
        for (rule, (level, files)) in rules {
            write!(
                out,
                "<tr><td><code>{}</code></td><td><span class=\"b s-{}\">{}</span></td><td>{files}</td></tr>",
                h(rule),
                level.as_str(),
                level.as_str()
            )?;
        }
        out.push_str("</tbody></table></div>\n");
    }
    out.push_str("</section>\n");

    // Waivers that expired or matched nothing: full width, under the cards.
    if let Some(p) = &s.policy {
        if !p.expired_waivers.is_empty() || !p.unused_waivers.is_empty() {
            out.push_str("<ul class=\"notes\" id=\"waivers\">");
            for w in &p.expired_waivers {
                write!(
                    out,
                    "<li class=\"err\">Expired waiver for <code>{}</code> ({}) at {}: expired {}; its reason was: {}</li>",
                    h(&w.rule),
                    h(&w.target),
                    h(&w.origin),
                    h(w.expires.as_deref().unwrap_or("?")),
                    h(&w.reason)
                )?;
            }
            for w in &p.unused_waivers {
                write!(
                    out,
                    "<li class=\"s-warn\">Unused waiver for <code>{}</code> ({}) at {}: matched no failing finding</li>",
                    h(&w.rule),
                    h(&w.target),
                    h(&w.origin)
                )?;
            }
            out.push_str("</ul>\n");
        }
    }

    if !skipped.is_empty() {
        write!(
            out,
            "<details id=\"skipped\"><summary>{} skipped</summary><ul>",
            super::count(skipped.len() as u64, "file", "files")
        )?;
        for sk in skipped.iter().take(LIST_ITEMS_SHOWN) {
            let why = match sk.reason {
                super::SkipReason::NotBinary => "not PE/ELF",
                super::SkipReason::Symlink => "symbolic link",
                super::SkipReason::NotRegular => "not a regular file",
                super::SkipReason::SymlinkLoop => "symbolic link loop",
            };
            write!(out, "<li><code>{}</code>: {why}</li>", h(&sk.path))?;
        }
        more(out, skipped.len())?;
        out.push_str("</ul></details>\n");
    }
    Ok(())
}

/// "… and N more" after a list cut at [`LIST_ITEMS_SHOWN`].
fn more(out: &mut String, len: usize) -> fmt::Result {
    if len > LIST_ITEMS_SHOWN {
        write!(
            out,
            "<li class=\"muted\">… and {} more (see the JSON report)</li>",
            len.saturating_sub(LIST_ITEMS_SHOWN)
        )?;
    }
    Ok(())
}

fn controls(out: &mut String, c: &Counts, files: u64) -> fmt::Result {
    out.push_str(
        "<div class=\"controls\">\n<input id=\"filter\" type=\"search\" placeholder=\"Filter by path\" aria-label=\"Filter by path\" autocomplete=\"off\">\n<select id=\"status\" aria-label=\"Filter by status\">\n<option value=\"\">All files</option>\n",
    );
    let option = |out: &mut String, key: &str, id: &str, label: &str, n: u64| {
        if n > 0 {
            writeln!(
                out,
                "<option value=\"{key}:{}\">{label} ({n})</option>",
                h(id)
            )
        } else {
            Ok(())
        }
    };
    for r in PolicyResult::ALL {
        if r != PolicyResult::NoPolicy {
            let n = c.policy.get(&r).copied().unwrap_or(0);
            option(out, "pol", r.id(), &format!("Policy: {}", r.label()), n)?;
        }
    }
    for (id, label) in SIG_ROWS {
        let n = c.signature.get(id).copied().unwrap_or(0);
        if id != "none" || n < files {
            option(out, "sig", id, &format!("Signature: {label}"), n)?;
        }
    }
    for (id, label) in RISK_ROWS {
        let n = c.risk.get(id).copied().unwrap_or(0);
        if id != "none" || n < files {
            option(out, "risk", id, &format!("Risk: {label}"), n)?;
        }
    }
    option(out, "err", "yes", "Errors", c.errors)?;
    write!(
        out,
        "</select>\n<button type=\"button\" id=\"expand\" aria-pressed=\"false\">Expand all</button>\n<span id=\"shown\" aria-live=\"polite\">{files} of {files} files shown</span>\n</div>\n"
    )?;
    out.push_str(
        "<table id=\"files\">\n<thead><tr><th><button type=\"button\">Path</button></th><th><button type=\"button\">Format</button></th><th><button type=\"button\">Arch</button></th><th><button type=\"button\">Kind</button></th><th><button type=\"button\">Signature</button></th><th><button type=\"button\">Risk</button></th><th><button type=\"button\">Policy</button></th></tr></thead>\n",
    );
    Ok(())
}

fn footer(out: &mut String) -> fmt::Result {
    write!(
        out,
        "</table>\n<footer>Written by bingate {}. The risk column is an offline estimate: {}.</footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        h(crate::risk::BASIS)
    )
}

fn risk_rank(r: Option<&RiskEstimate>) -> u8 {
    match r.map(|r| r.level) {
        None => 0,
        Some(RiskLevel::Low) => 1,
        Some(RiskLevel::Medium) => 2,
        Some(RiskLevel::High) => 3,
    }
}

/// One file's `<tbody>`: its row and its (hidden) details panel.
fn file_body(out: &mut String, f: &FileReport, result: PolicyResult, id: usize) -> fmt::Result {
    let sig = sig_id(f.signature.as_ref());
    let risk = f.risk.as_ref().map_or("none", |r| r.level.as_str());
    let failing = f
        .findings
        .iter()
        .flatten()
        .filter(|x| x.status == Status::Fail)
        .count();
    write!(
        out,
        "<tbody>\n<tr class=\"file\" data-sig=\"{}\" data-risk=\"{}\" data-pol=\"{}\" data-err=\"{}\">",
        h(sig),
        h(risk),
        result.id(),
        if f.error.is_some() { "yes" } else { "no" }
    )?;
    write!(
        out,
        "<td><button type=\"button\" class=\"open\" aria-expanded=\"false\" aria-controls=\"d{id}\">{}</button></td>",
        h(&f.path)
    )?;
    let format = match (f.format, &f.container) {
        (Some(fm), _) => fm.as_str(),
        (None, Some(c)) => c.kind.name(),
        (None, None) => "-",
    };
    write!(
        out,
        "<td>{}</td><td>{}</td><td>{}</td>",
        h(format),
        h(f.arch.as_deref().unwrap_or("-")),
        f.kind.map_or("-", |k| k.as_str())
    )?;
    let sig_label = match (&f.signature, &f.error) {
        (None, Some(_)) => "error",
        (None, None) => "-",
        (Some(v), _) => v.status.as_str(),
    };
    let sig_class = if sig_label == "error" { "error" } else { sig };
    write!(
        out,
        "<td data-k=\"{}\"><span class=\"b s-{}\">{}</span></td>",
        sig_rank(f.signature.as_ref()),
        h(sig_class),
        h(sig_label)
    )?;
    match &f.risk {
        Some(r) => write!(
            out,
            "<td data-k=\"{}\"><span class=\"b s-{}\">{}</span> <span class=\"muted\">{}</span></td>",
            risk_rank(Some(r)),
            r.level.as_str(),
            r.level.as_str(),
            r.score
        )?,
        None => out.push_str("<td data-k=\"0\">-</td>"),
    }
    let policy_key = match result {
        PolicyResult::Fail => failing.saturating_add(10),
        PolicyResult::Waived => 3,
        PolicyResult::Pass => 2,
        PolicyResult::NotApplicable => 1,
        PolicyResult::NoPolicy => 0,
    };
    if result == PolicyResult::Fail {
        write!(
            out,
            "<td data-k=\"{policy_key}\"><span class=\"b s-fail\">fail</span> <span class=\"muted\">{}</span></td>",
            super::count(failing as u64, "rule", "rules")
        )?;
    } else if result == PolicyResult::NoPolicy {
        write!(out, "<td data-k=\"{policy_key}\">-</td>")?;
    } else {
        write!(
            out,
            "<td data-k=\"{policy_key}\"><span class=\"b s-{}\">{}</span></td>",
            result.id(),
            result.label()
        )?;
    }
    write!(
        out,
        "</tr>\n<tr class=\"details\" id=\"d{id}\" hidden><td colspan=\"7\"><div class=\"panel\">"
    )?;
    // What needs doing first: problems, failing findings, the signature; the facts last.
    problems(out, f)?;
    findings(out, f)?;
    if let Some(v) = &f.signature {
        signature(out, v)?;
    }
    if let Some(r) = &f.risk {
        risk_section(out, r)?;
    }
    extras(out, f)?;
    facts(out, f)?;
    out.push_str("</div></td></tr>\n</tbody>\n");
    Ok(())
}

fn kv(out: &mut String, key: &str, value: &str) -> fmt::Result {
    write!(out, "<dt>{}</dt><dd>{}</dd>", h(key), h(value))
}

fn facts(out: &mut String, f: &FileReport) -> fmt::Result {
    out.push_str("<section class=\"facts\"><h4>Facts</h4><dl class=\"kv\">");
    kv(out, "path", &f.path)?;
    if let Some(s) = &f.sha256 {
        write!(out, "<dt>sha256</dt><dd class=\"mono\">{}</dd>", h(s))?;
    }
    if let Some(s) = f.size {
        kv(out, "size", &format!("{s} bytes"))?;
    }
    if let Some(b) = f.bits {
        kv(out, "bits", &b.to_string())?;
    }
    if let Some(t) = &f.toolchain {
        let mut name = t.name.as_str().to_owned();
        for c in &t.components {
            name.push_str(" + ");
            name.push_str(c.as_str());
        }
        kv(out, "toolchain", &name)?;
        if !t.evidence.is_empty() {
            kv(out, "evidence", &t.evidence)?;
        }
    }
    if let Some(hd) = &f.hardening {
        // Every hardening fact as the JSON report names it, so this panel follows the schema.
        if let Ok(value) = serde_json::to_value(hd) {
            flatten(out, "", &value)?;
        }
    }
    out.push_str("</dl></section>");
    Ok(())
}

/// The facts of a JSON object as `key: value` rows; nested objects as `outer.inner`.
fn flatten(out: &mut String, prefix: &str, v: &serde_json::Value) -> fmt::Result {
    use serde_json::Value;
    let Value::Object(map) = v else {
        return Ok(());
    };
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(_) => flatten(out, &key, v)?,
            Value::Bool(b) => write!(
                out,
                "<dt>{}</dt><dd class=\"{}\">{}</dd>",
                h(&key),
                if *b { "yes" } else { "no" },
                if *b { "yes" } else { "no" }
            )?,
            Value::Array(items) => {
                let mut text: Vec<String> =
                    items.iter().take(LIST_ITEMS_SHOWN).map(scalar).collect();
                if items.len() > LIST_ITEMS_SHOWN {
                    text.push(format!(
                        "… and {} more",
                        items.len().saturating_sub(LIST_ITEMS_SHOWN)
                    ));
                }
                let joined = if text.is_empty() {
                    "none".to_owned()
                } else {
                    text.join(", ")
                };
                kv(out, &key, &joined)?;
            }
            other => kv(out, &key, &scalar(other))?,
        }
    }
    Ok(())
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

fn signature(out: &mut String, v: &SignatureVerdict) -> fmt::Result {
    out.push_str("<section class=\"signature\"><h4>Signature</h4><dl class=\"kv\">");
    write!(
        out,
        "<dt>status</dt><dd><span class=\"b s-{0}\">{0}</span> <span class=\"muted\">{1}</span></dd>",
        v.status.as_str(),
        h(v.status.description())
    )?;
    if let Some(fm) = v.format {
        kv(out, "format", fm.as_str())?;
    }
    if let Some(e) = &v.error {
        write!(out, "<dt>why</dt><dd class=\"err\">{}</dd>", h(e))?;
    }
    if let Some(d) = &v.decided_by {
        kv(
            out,
            "decided by",
            &format!("nested signature {}: {}", d.nested, d.reason),
        )?;
    }
    out.push_str("</dl>");
    for s in &v.signatures {
        one_signature(out, v, s)?;
    }
    if !v.anomalies.is_empty() {
        out.push_str("<h4>Anomalies</h4><ul>");
        for a in &v.anomalies {
            write!(
                out,
                "<li><code>{}</code> {}</li>",
                h(a.id.as_str()),
                h(&a.detail.to_string())
            )?;
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
    Ok(())
}

fn one_signature(out: &mut String, v: &SignatureVerdict, s: &SignatureReport) -> fmt::Result {
    let which = super::signature_name(v, s);
    write!(
        out,
        "<h4>{}: <span class=\"s-{}\">{}</span> ({})</h4><dl class=\"kv\">",
        h(&which),
        s.status.as_str(),
        s.status.as_str(),
        h(&s.digest_algorithm.to_string())
    )?;
    if let Some(signer) = &s.signer {
        kv(out, "signed by", &signer.subject)?;
        kv(out, "issuer", &signer.issuer)?;
        let bits = s.key_bits.map(|b| format!(" {b}-bit")).unwrap_or_default();
        kv(
            out,
            "key",
            &format!(
                "{}{bits}, valid {} to {}",
                signer.key_algorithm, signer.not_before, signer.not_after
            ),
        )?;
    }
    if let (None, Some(id)) = (&s.signer, &s.signer_id) {
        kv(out, "signer issuer", &id.issuer)?;
        kv(out, "signer serial", &id.serial)?;
    }
    if let Some(name) = &s.program_name {
        kv(out, "program", name)?;
    }
    if let Some(url) = &s.more_info_url {
        // Text, never a link: the URL is the signer's claim.
        kv(out, "more info", url)?;
    }
    if s.chain.len() > 1 {
        out.push_str("<dt>chain</dt><dd><ol>");
        for c in s.chain.iter().take(LIST_ITEMS_SHOWN) {
            write!(out, "<li>{}</li>", h(c))?;
        }
        more(out, s.chain.len())?;
        out.push_str("</ol></dd>");
    }
    match &s.timestamp {
        Some(t) => {
            let kind = match t.kind {
                crate::cms::timestamp::Kind::Rfc3161 => "RFC 3161",
                crate::cms::timestamp::Kind::Legacy => "legacy countersignature",
            };
            kv(
                out,
                "timestamp",
                &format!(
                    "{} ({kind}, {}){}",
                    t.time,
                    t.tsa.as_deref().unwrap_or("unknown TSA"),
                    if t.valid { "" } else { " - not valid, ignored" }
                ),
            )?;
            if t.chain.len() > 1 {
                kv(out, "TSA chain", &t.chain.join(" \u{2190} "))?;
            }
        }
        // The kernel checks module signatures without dates: nothing expires.
        None if v.format == Some(SignatureFormat::KernelModule) => {}
        None => kv(
            out,
            "timestamp",
            "none: the signature expires with the certificate",
        )?,
    }
    if s.page_hashes.present {
        kv(
            out,
            "page hashes",
            if s.page_hashes.verified {
                "verified"
            } else {
                "MISMATCH"
            },
        )?;
    }
    if !s.changes.is_empty() {
        kv(out, "changed since signing", &s.changes.join(", "))?;
    }
    out.push_str("</dl>");
    if !s.reasons.is_empty() {
        out.push_str("<ul>");
        for r in &s.reasons {
            write!(
                out,
                "<li>{} <code class=\"muted\">{}</code></li>",
                h(&r.message),
                h(r.code.as_str())
            )?;
        }
        out.push_str("</ul>");
    }
    Ok(())
}

fn findings(out: &mut String, f: &FileReport) -> fmt::Result {
    let Some(findings) = &f.findings else {
        return Ok(());
    };
    out.push_str("<section class=\"findings\"><h4>Policy findings</h4>");
    let toolchain = f.toolchain.as_ref().map(|t| t.name.as_str());
    // Failures, highest level first, then waived ones; each group in policy order.
    let mut shown: Vec<_> = findings
        .iter()
        .filter(|x| matches!(x.status, Status::Fail | Status::Waived))
        .collect();
    shown.sort_by_key(|x| (x.status == Status::Waived, std::cmp::Reverse(x.level)));
    if !shown.is_empty() {
        out.push_str("<ul>");
        for x in shown {
            let (label, class) = match x.status {
                Status::Waived => ("waived", "waived"),
                _ => (x.level.as_str(), x.level.as_str()),
            };
            write!(
                out,
                "<li><span class=\"b s-{class}\">{label}</span> <code>{}</code>: {}",
                h(&x.rule),
                h(&x.message)
            )?;
            if let Some(w) = &x.waiver {
                let until = w
                    .expires
                    .as_deref()
                    .map(|e| format!(" until {e}"))
                    .unwrap_or_default();
                write!(
                    out,
                    "<div class=\"fix\">waived{}: {} ({})</div>",
                    h(&until),
                    h(&w.reason),
                    h(&w.origin)
                )?;
            } else if let Some(fix) = &x.remediation {
                match toolchain {
                    Some(t) => write!(out, "<div class=\"fix\">fix ({}): {}</div>", h(t), h(fix))?,
                    None => write!(out, "<div class=\"fix\">fix: {}</div>", h(fix))?,
                }
            }
            if !x.controls.is_empty() {
                write!(
                    out,
                    "<div class=\"fix\">controls: {}</div>",
                    h(&x.controls.join("; "))
                )?;
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    let passed: Vec<&str> = findings
        .iter()
        .filter(|x| x.status == Status::Pass)
        .map(|x| x.rule.as_str())
        .collect();
    if !passed.is_empty() {
        write!(
            out,
            "<p class=\"muted\">passed: {}</p>",
            h(&passed.join(", "))
        )?;
    }
    let na = findings
        .iter()
        .filter(|x| x.status == Status::NotApplicable)
        .count();
    if na > 0 {
        write!(
            out,
            "<p class=\"muted\">{} not applicable</p>",
            super::count(na as u64, "rule", "rules")
        )?;
    }
    out.push_str("</section>");
    Ok(())
}

fn risk_section(out: &mut String, r: &RiskEstimate) -> fmt::Result {
    write!(
        out,
        "<section class=\"risk\"><h4>SmartScreen risk: <span class=\"s-{0}\">{0}</span> (score {1})</h4><p>{2}</p>",
        r.level.as_str(),
        r.score,
        h(&r.outcome)
    )?;
    if !r.evidence.is_empty() {
        out.push_str("<ul>");
        for e in &r.evidence {
            write!(
                out,
                "<li><b>+{}</b> <code>{}</code>: {}<div class=\"fix\">fix: {}</div></li>",
                e.weight,
                h(e.id.as_str()),
                h(&e.detail),
                h(e.fix)
            )?;
        }
        out.push_str("</ul>");
    }
    if let Some(m) = &r.mark_of_the_web {
        out.push_str("<dl class=\"kv\">");
        kv(out, "mark of the web", &m.source)?;
        if let Some(z) = m.zone {
            kv(out, "zone", z)?;
        }
        if let Some(u) = &m.host_url {
            kv(out, "host URL", u)?;
        }
        if let Some(u) = &m.referrer_url {
            kv(out, "referrer URL", u)?;
        }
        if let Some(e) = &m.error {
            kv(out, "unreadable", e)?;
        }
        out.push_str("</dl>");
    }
    out.push_str("</section>");
    Ok(())
}

/// Version resource, container and installer lines.
fn extras(out: &mut String, f: &FileReport) -> fmt::Result {
    if let Some(v) = &f.version {
        out.push_str("<section class=\"version\"><h4>Version resource</h4><dl class=\"kv\">");
        for (key, value) in v.labelled() {
            kv(out, key, value)?;
        }
        out.push_str("</dl></section>");
    }
    let lines = super::container_lines(f);
    if !lines.is_empty() {
        out.push_str("<section class=\"container\"><h4>Contents</h4><ul>");
        for l in &lines {
            write!(out, "<li>{}</li>", h(l))?;
        }
        out.push_str("</ul></section>");
    }
    Ok(())
}

/// The file's error and warnings.
fn problems(out: &mut String, f: &FileReport) -> fmt::Result {
    if f.error.is_some() || !f.warnings.is_empty() {
        out.push_str("<section class=\"problems\"><h4>Problems</h4><ul>");
        if let Some(e) = &f.error {
            write!(out, "<li class=\"err\">error: {}</li>", h(e.message()))?;
        }
        for w in f.warnings.iter().take(LIST_ITEMS_SHOWN) {
            write!(out, "<li>warning: {}</li>", h(w))?;
        }
        more(out, f.warnings.len())?;
        out.push_str("</ul></section>");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_names_the_script_by_its_hash() {
        let expected =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
        assert!(csp().contains(&format!("script-src 'sha256-{expected}'")));
        assert!(csp().starts_with("default-src 'none';"));
    }

    #[test]
    fn a_hostile_path_is_text_in_row_and_panel() {
        let mut f = FileReport::bare(
            "<script>alert(1)</script>\"'.exe".to_owned(),
            None,
            None,
            None,
            super::super::Severity::Examined,
        );
        f.warnings.push("<img src=x onerror=alert(2)>".to_owned());
        // Version strings and a finding's message quote the file too.
        f.version = Some(super::super::VersionSummary {
            company: Some("</dd><script>alert(3)</script>".to_owned()),
            product: Some("\u{202e}exe.txt".to_owned()),
            ..Default::default()
        });
        f.findings = Some(vec![crate::policy::Finding {
            rule: "pe-signed".to_owned(),
            level: Level::Warn,
            status: Status::Fail,
            message: "signer \"><svg onload=alert(4)>".to_owned(),
            controls: Vec::new(),
            remediation: Some("sign <it>".to_owned()),
            waiver: None,
        }]);
        let mut out = String::new();
        let result = policy_result(&f);
        file_body(&mut out, &f, result, 7).unwrap();
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(!out.contains("<svg"), "{out}");
        assert!(!out.contains("<it>"), "{out}");
        assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;.exe"));
        assert!(out.contains("&lt;/dd&gt;&lt;script&gt;alert(3)&lt;/script&gt;"));
        assert!(
            out.contains("\\u{202e}exe.txt"),
            "bidi override shown as an escape"
        );
        assert!(out.contains("signer &quot;&gt;&lt;svg onload=alert(4)&gt;"));
        assert!(out.contains("data-pol=\"fail\""));
        assert_eq!(out.matches("<tr class=\"file\"").count(), 1);
    }
}
