//! `--format human`: one row per file with a compact mark per mitigation, the findings that fail
//! under it, then a summary: the failing rules with each fix once, and the counts.
//!
//! Rows come in blocks, one per format (ELF and PE carry different mitigations), each under one
//! header row: the block of the first row is written as files arrive; rows of the other blocks
//! (and containers, errors, debug-info files) are held and written after it. Findings under a
//! row name the rule and what was found; the fix, the same for every file a rule fails on, is
//! written once per rule in the summary (under each row too with `--details`). What is shown
//! follows the [`View`]: `--only-failures`, `--min-level`, `--details`. Colour only when asked
//! (the CLI enables it on a terminal).

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::escape::text as esc;

use super::{FileReport, Renderer, Skipped, Summary, count};
use crate::cms::verdict::{SignatureVerdict, Status as SigStatus};
use crate::config::View;
use crate::elf::{ElfHardening, Pie, Relro};
use crate::facts::{Format, Hardening};
use crate::pe::{PeHardening, SafeSeh};
use crate::policy::{Finding, Level, Status};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tone {
    Good,
    Partial,
    Bad,
    Neutral,
}

struct Cell {
    text: String,
    tone: Tone,
}

fn cell(text: impl Into<String>, tone: Tone) -> Cell {
    Cell {
        text: text.into(),
        tone,
    }
}

fn yes_no(v: bool) -> Cell {
    if v {
        cell("yes", Tone::Good)
    } else {
        cell("no", Tone::Bad)
    }
}

fn bad_if(v: bool) -> Cell {
    if v {
        cell("yes", Tone::Bad)
    } else {
        cell("no", Tone::Good)
    }
}

const ELF_COLUMNS: &[(&str, usize)] = &[
    ("PIE", 4),
    ("NX", 4),
    ("RELRO", 8),
    ("CANARY", 7),
    ("FORTIFY", 8),
    ("CET", 10),
    ("W+X", 4),
    ("TEXTREL", 8),
    ("RPATH", 6),
    ("SIGNED", 8),
];

const PE_COLUMNS: &[(&str, usize)] = &[
    ("ASLR", 5),
    ("HEVA", 5),
    ("NX", 4),
    ("CFG", 5),
    ("SAFESEH", 8),
    ("GS", 4),
    ("CET", 4),
    ("W+X", 4),
    ("SIGNED", 8),
    ("RISK", 7),
];

/// Warnings listed under a row without `--details` (the rest are counted).
const WARNINGS_SHOWN: usize = 4;

/// The signature column: the verdict when signatures were verified; otherwise, for PE files,
/// whether a certificate table is there (`cert`), and for ELF files nothing (`-`).
fn signature_cell(sig: Option<&SignatureVerdict>, table: Option<bool>) -> Cell {
    match (sig.map(|v| v.status), table) {
        (Some(SigStatus::Valid), _) => cell("valid", Tone::Good),
        (Some(SigStatus::Untrusted), _) => cell("untrust", Tone::Partial),
        (Some(SigStatus::Invalid), _) => cell("invalid", Tone::Bad),
        (Some(SigStatus::Malformed), _) => cell("broken", Tone::Bad),
        (Some(SigStatus::Unsigned), Some(_)) | (None, Some(false)) => cell("no", Tone::Bad),
        // Most ELF files are unsigned: not a mark against them.
        (Some(SigStatus::Unsigned), None) => cell("no", Tone::Neutral),
        (None, Some(true)) => cell("cert", Tone::Neutral),
        (None, None) => cell("-", Tone::Neutral),
    }
}

fn risk_cell(risk: Option<&crate::risk::RiskEstimate>) -> Cell {
    use crate::risk::RiskLevel;
    match risk.map(|r| r.level) {
        Some(RiskLevel::High) => cell("high", Tone::Bad),
        Some(RiskLevel::Medium) => cell("medium", Tone::Partial),
        Some(RiskLevel::Low) => cell("low", Tone::Good),
        None => cell("-", Tone::Neutral),
    }
}

fn elf_cells(h: &ElfHardening, sig: Option<&SignatureVerdict>) -> Vec<Cell> {
    let cet = match (h.ibt || h.bti, h.shstk || h.pac) {
        (true, true) if h.bti || h.pac => cell("bti+pac", Tone::Good),
        (true, true) => cell("ibt+shstk", Tone::Good),
        (true, false) => cell(if h.bti { "bti" } else { "ibt" }, Tone::Partial),
        (false, true) => cell(if h.pac { "pac" } else { "shstk" }, Tone::Partial),
        (false, false) => cell("no", Tone::Bad),
    };
    let fortify = match (h.fortify.fortified, h.fortify.unfortified) {
        (0, 0) => cell("-", Tone::Neutral),
        (f, 0) => cell(format!("{f}/0"), Tone::Good),
        (0, u) => cell(format!("0/{u}"), Tone::Bad),
        (f, u) => cell(format!("{f}/{u}"), Tone::Partial),
    };
    let paths = !h.rpath.is_empty() || !h.runpath.is_empty();
    vec![
        match h.pie {
            Pie::Pie => cell("pie", Tone::Good),
            Pie::Dso => cell("dso", Tone::Good),
            Pie::No => cell("no", Tone::Bad),
            Pie::Rel => cell("rel", Tone::Neutral),
        },
        yes_no(h.nx),
        match h.relro {
            Relro::Full => cell("full", Tone::Good),
            Relro::Partial => cell("partial", Tone::Partial),
            Relro::None => cell("none", Tone::Bad),
        },
        yes_no(h.canary),
        fortify,
        cet,
        bad_if(h.wx_segments),
        bad_if(h.textrel),
        if paths {
            cell("yes", Tone::Partial)
        } else {
            cell("no", Tone::Good)
        },
        signature_cell(sig, None),
    ]
}

fn pe_cells(
    h: &PeHardening,
    sig: Option<&SignatureVerdict>,
    risk: Option<&crate::risk::RiskEstimate>,
) -> Vec<Cell> {
    let aslr = match (h.dynamic_base, h.relocs_stripped) {
        (true, false) => cell("yes", Tone::Good),
        (true, true) => cell("norel", Tone::Partial),
        (false, _) => cell("no", Tone::Bad),
    };
    let cfg = match (h.guard_cf, h.cfg_instrumented) {
        (true, true) => cell("yes", Tone::Good),
        (true, false) => cell("flag", Tone::Partial),
        (false, _) => cell("no", Tone::Bad),
    };
    let seh = match h.safe_seh {
        SafeSeh::Table => cell("table", Tone::Good),
        SafeSeh::NoSeh => cell("no-seh", Tone::Good),
        SafeSeh::Absent => cell("absent", Tone::Bad),
        SafeSeh::NotApplicable => cell("n/a", Tone::Neutral),
    };
    vec![
        aslr,
        yes_no(h.high_entropy_va),
        yes_no(h.nx_compat),
        cfg,
        seh,
        yes_no(h.gs_cookie),
        yes_no(h.cet_compat),
        bad_if(!h.wx_sections.is_empty()),
        // The verdict when signatures were verified; otherwise only whether a table is there.
        signature_cell(sig, Some(h.has_signature)),
        risk_cell(risk),
    ]
}

/// The blocks rows are grouped in, each under one header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Block {
    Elf,
    Pe,
    /// Containers, files with errors, debug-info files: rows that are not a table's.
    Other,
}

/// One failing rule, over the files shown.
struct RuleTally {
    level: Level,
    /// Files it fails on (not waived).
    files: u64,
    /// Files where a waiver covers it.
    waived: u64,
    /// Distinct fixes, in first-seen order: the fix, the toolchains it was given for, files.
    fixes: Vec<(String, Vec<String>, u64)>,
    controls: Vec<String>,
}

/// Appends a cell, padded to `width`, coloured when `color`.
fn paint(buf: &mut Vec<u8>, color: bool, c: &Cell, width: usize) -> io::Result<()> {
    let code = match c.tone {
        Tone::Good => "32",
        Tone::Partial => "33",
        Tone::Bad => "31",
        Tone::Neutral => "",
    };
    if color && !code.is_empty() {
        write!(buf, "\x1b[{code}m{:<width$}\x1b[0m", c.text)
    } else {
        write!(buf, "{:<width$}", c.text)
    }
}

pub struct HumanRenderer<W: Write> {
    out: W,
    color: bool,
    view: View,
    /// The block written as files arrive (the first row's), once its header is out.
    streaming: Option<Block>,
    /// Rows of the other blocks, in order of first appearance, written by `finish`.
    held: Vec<(Block, Vec<u8>)>,
    /// Failing rules over the files shown.
    rules: BTreeMap<String, RuleTally>,
    /// Files left out by `--only-failures`.
    hidden: u64,
}

impl<W: Write> HumanRenderer<W> {
    pub fn new(out: W, color: bool) -> Self {
        HumanRenderer {
            out,
            color,
            view: View::default(),
            streaming: None,
            held: Vec::new(),
            rules: BTreeMap::new(),
            hidden: 0,
        }
    }

    /// What is shown (`--only-failures`, `--min-level`, `--details`).
    pub fn with_view(mut self, view: View) -> Self {
        self.view = view;
        self
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// Whether a finding is shown: failing or waived, at `--min-level` or above (as in `tally`).
    fn shown(&self, x: &Finding) -> bool {
        matches!(x.status, Status::Fail | Status::Waived) && x.level >= self.view.min_level
    }

    /// Counts the file's shown findings toward the per-rule summary.
    fn tally(&mut self, f: &FileReport) {
        let Some(findings) = &f.findings else {
            return;
        };
        let toolchain = toolchain_of(f).to_owned();
        let min_level = self.view.min_level;
        for x in findings
            .iter()
            .filter(|x| matches!(x.status, Status::Fail | Status::Waived) && x.level >= min_level)
        {
            let t = self
                .rules
                .entry(x.rule.clone())
                .or_insert_with(|| RuleTally {
                    level: x.level,
                    files: 0,
                    waived: 0,
                    fixes: Vec::new(),
                    controls: x.controls.clone(),
                });
            if x.status == Status::Waived {
                t.waived = t.waived.saturating_add(1);
                continue;
            }
            t.files = t.files.saturating_add(1);
            if let Some(fix) = &x.remediation {
                match t.fixes.iter_mut().find(|(text, _, _)| text == fix) {
                    Some((_, toolchains, n)) => {
                        *n = n.saturating_add(1);
                        if !toolchain.is_empty() && !toolchains.contains(&toolchain) {
                            toolchains.push(toolchain.clone());
                        }
                    }
                    None => {
                        let toolchains = if toolchain.is_empty() {
                            Vec::new()
                        } else {
                            vec![toolchain.clone()]
                        };
                        t.fixes.push((fix.clone(), toolchains, 1));
                    }
                }
            }
        }
    }

    /// Writes a row (or several lines) of `block`: at once when it is the block being
    /// streamed, else held for `finish`.
    fn emit(&mut self, block: Block, lines: Vec<u8>) -> io::Result<()> {
        if self.streaming.is_none() {
            self.streaming = Some(block);
            let mut buf = Vec::new();
            header(&mut buf, block)?;
            self.out.write_all(&buf)?;
        }
        if self.streaming == Some(block) {
            return self.out.write_all(&lines);
        }
        match self.held.iter_mut().find(|(b, _)| *b == block) {
            Some((_, buf)) => buf.extend_from_slice(&lines),
            None => self.held.push((block, lines)),
        }
        Ok(())
    }

    /// A container's row: what it is and holds (its entries follow as rows of their own), its
    /// signature when the format has one, and the error that stopped its walk.
    fn container(&self, buf: &mut Vec<u8>, f: &FileReport) -> io::Result<()> {
        let (tag, tone) = match &f.error {
            Some(_) => ("ERROR", Tone::Bad),
            None => ("PKG", Tone::Neutral),
        };
        paint(buf, self.color, &cell(tag, tone), 6)?;
        write!(buf, "{}", esc(&f.path))?;
        if let Some(v) = &f.signature {
            write!(buf, "  (signature: {})", v.status.as_str())?;
        }
        writeln!(buf)?;
        if let Some(e) = &f.error {
            writeln!(buf, "    stopped: {}", esc(e.message()))?;
        }
        for line in super::container_lines(f) {
            writeln!(buf, "    {}", esc(&line))?;
        }
        self.findings(buf, f)
    }

    /// The file's shown findings under its row: level, rule and what was found; the waiver
    /// that covers one; with `--details`, the fix and the controls.
    fn findings(&self, buf: &mut Vec<u8>, f: &FileReport) -> io::Result<()> {
        let Some(findings) = &f.findings else {
            return Ok(());
        };
        let toolchain = toolchain_of(f);
        for x in findings.iter().filter(|x| self.shown(x)) {
            self.finding(buf, x, toolchain)?;
        }
        Ok(())
    }

    fn finding(&self, buf: &mut Vec<u8>, x: &Finding, toolchain: &str) -> io::Result<()> {
        let (label, tone) = match (x.status, x.level) {
            (Status::Waived, _) => ("waived", Tone::Neutral),
            (_, Level::Deny) => ("deny", Tone::Bad),
            (_, Level::Warn) => ("warn", Tone::Partial),
            _ => ("info", Tone::Neutral),
        };
        write!(buf, "    ")?;
        paint(buf, self.color, &cell(label, tone), 7)?;
        writeln!(buf, "{}: {}", x.rule, esc(&x.message))?;
        if let Some(w) = &x.waiver {
            let until = w
                .expires
                .as_deref()
                .map(|e| format!(" until {e}"))
                .unwrap_or_default();
            writeln!(
                buf,
                "           waived{until}: {} ({})",
                esc(&w.reason),
                esc(&w.origin)
            )?;
        } else if let (true, Some(fix)) = (self.view.details, &x.remediation) {
            if toolchain.is_empty() {
                writeln!(buf, "           fix: {}", esc(fix))?;
            } else {
                writeln!(buf, "           fix ({toolchain}): {}", esc(fix))?;
            }
        }
        if self.view.details && !x.controls.is_empty() {
            writeln!(buf, "           controls: {}", esc(&x.controls.join("; ")))?;
        }
        Ok(())
    }

    /// The file's own warnings (facts read with a problem), a few unless `--details`.
    fn warnings(&self, buf: &mut Vec<u8>, f: &FileReport) -> io::Result<()> {
        let shown = if self.view.details {
            f.warnings.len()
        } else {
            WARNINGS_SHOWN
        };
        for w in f.warnings.iter().take(shown) {
            writeln!(buf, "    warning: {}", esc(w))?;
        }
        let more = f.warnings.len().saturating_sub(shown) as u64;
        if more > 0 {
            writeln!(
                buf,
                "    and {} more (--details lists them)",
                count(more, "warning", "warnings")
            )?;
        }
        Ok(())
    }

    /// `--details`: version information, who signed and when, the risk estimate's evidence.
    fn details(&self, buf: &mut Vec<u8>, f: &FileReport) -> io::Result<()> {
        if !self.view.details {
            return Ok(());
        }
        if let Some(v) = &f.version {
            for (label, value) in v.labelled() {
                writeln!(buf, "    {label:<16}{}", esc(value))?;
            }
        }
        if let Some(sig) = &f.signature {
            let primary = sig.signatures.first();
            match primary.and_then(|s| s.signer.as_ref()) {
                Some(signer) => writeln!(
                    buf,
                    "    {:<16}{} by {}",
                    "signature",
                    sig.status.as_str(),
                    esc(&signer.subject)
                )?,
                None => writeln!(buf, "    {:<16}{}", "signature", sig.status.as_str())?,
            }
            if let Some(t) = primary.and_then(|s| s.timestamp.as_ref()) {
                writeln!(
                    buf,
                    "    {:<16}{}{}",
                    "timestamp",
                    t.time,
                    t.tsa
                        .as_deref()
                        .map(|a| format!(" by {}", esc(a)))
                        .unwrap_or_default()
                )?;
            }
        }
        if let Some(r) = &f.risk {
            let ids: Vec<&str> = r.evidence.iter().map(|e| e.id.as_str()).collect();
            writeln!(
                buf,
                "    {:<16}{} ({})",
                "risk",
                r.level.as_str(),
                if ids.is_empty() {
                    "no evidence".to_owned()
                } else {
                    ids.join(", ")
                }
            )?;
        }
        Ok(())
    }

    /// A file's row in its block, with what follows it.
    fn row(&self, f: &FileReport) -> io::Result<(Block, Vec<u8>)> {
        let mut buf = Vec::new();
        if f.container.is_some() && f.format.is_none() {
            self.container(&mut buf, f)?;
            return Ok((Block::Other, buf));
        }
        let (Some(hardening), None) = (&f.hardening, &f.error) else {
            let msg = f.error.as_ref().map_or("no facts", |e| e.message());
            paint(&mut buf, self.color, &cell("ERROR", Tone::Bad), 6)?;
            writeln!(buf, "{}: {}", esc(&f.path), esc(msg))?;
            self.findings(&mut buf, f)?;
            return Ok((Block::Other, buf));
        };
        if f.kind == Some(crate::facts::Kind::DebugInfo) {
            // Its facts describe nothing that runs: say what it is instead of a row of them.
            writeln!(
                buf,
                "DEBUG {}  (separate debug-info file: its loadable sections have no bytes here; not judged)",
                esc(&f.path)
            )?;
            self.findings(&mut buf, f)?;
            return Ok((Block::Other, buf));
        }
        let (block, cells, columns) = match hardening {
            Hardening::Elf(h) => (Block::Elf, elf_cells(h, f.signature.as_ref()), ELF_COLUMNS),
            Hardening::Pe(h) => (
                Block::Pe,
                pe_cells(h, f.signature.as_ref(), f.risk.as_ref()),
                PE_COLUMNS,
            ),
        };
        write!(buf, "{:<4}", "")?;
        for (c, (_, width)) in cells.iter().zip(columns) {
            paint(&mut buf, self.color, c, *width)?;
        }
        let arch = f.arch.as_deref().unwrap_or("?");
        let tc = f.toolchain.as_ref().map(|t| t.name.as_str()).unwrap_or("?");
        writeln!(buf, "{arch:<8}{tc:<10}{}", esc(&f.path))?;
        self.warnings(&mut buf, f)?;
        for line in super::container_lines(f) {
            writeln!(buf, "    {}", esc(&line))?;
        }
        self.details(&mut buf, f)?;
        self.findings(&mut buf, f)?;
        Ok((block, buf))
    }

    /// The failing rules, most severe first, each with the files it fails on and its fix once
    /// per distinct fix (a fix written for an earlier rule is referred to, not repeated).
    fn rule_summary(&mut self) -> io::Result<()> {
        if self.rules.is_empty() {
            return Ok(());
        }
        let mut rules: Vec<(&String, &RuleTally)> = self.rules.iter().collect();
        rules.sort_by(|(a, x), (b, y)| {
            y.level
                .cmp(&x.level)
                .then(y.files.cmp(&x.files))
                .then(a.cmp(b))
        });
        let width = rules.iter().map(|(r, _)| r.len()).max().unwrap_or(0);
        let mut buf = Vec::new();
        writeln!(
            buf,
            "\nfailing rules{} (each fix once):",
            match self.view.min_level {
                Level::Deny => ", deny only",
                Level::Warn => ", warn and deny",
                _ => "",
            }
        )?;
        let mut written: Vec<(&str, &str)> = Vec::new();
        for (rule, t) in &rules {
            let (label, tone) = match t.level {
                Level::Deny => ("deny", Tone::Bad),
                Level::Warn => ("warn", Tone::Partial),
                _ => ("info", Tone::Neutral),
            };
            write!(buf, "  ")?;
            paint(&mut buf, self.color, &cell(label, tone), 6)?;
            write!(buf, "{rule:<width$}  {}", count(t.files, "file", "files"))?;
            if t.waived > 0 {
                write!(buf, " ({} waived)", t.waived)?;
            }
            writeln!(buf)?;
            let several = t.fixes.len() > 1;
            for (fix, toolchains, n) in &t.fixes {
                let mut tag = toolchains.join(", ");
                if several {
                    if !tag.is_empty() {
                        tag.push_str("; ");
                    }
                    tag.push_str(&count(*n, "file", "files"));
                }
                let tag = if tag.is_empty() {
                    String::new()
                } else {
                    format!(" ({tag})")
                };
                match written.iter().find(|(text, _)| text == fix) {
                    Some((_, first)) => writeln!(buf, "        fix{tag}: the same as for {first}")?,
                    None => {
                        writeln!(buf, "        fix{tag}: {}", esc(fix))?;
                        written.push((fix.as_str(), rule.as_str()));
                    }
                }
            }
            if self.view.details && !t.controls.is_empty() {
                writeln!(buf, "        controls: {}", esc(&t.controls.join("; ")))?;
            }
        }
        self.out.write_all(&buf)
    }
}

/// The toolchain a fix is worded for: the file's; none for a container.
fn toolchain_of(f: &FileReport) -> &str {
    match (&f.toolchain, &f.container) {
        (Some(t), _) => t.name.as_str(),
        (None, Some(_)) => "",
        (None, None) => "unknown",
    }
}

fn header(buf: &mut Vec<u8>, block: Block) -> io::Result<()> {
    let (format, columns) = match block {
        Block::Elf => (Format::Elf, ELF_COLUMNS),
        Block::Pe => (Format::Pe, PE_COLUMNS),
        Block::Other => return Ok(()),
    };
    write!(buf, "{:<4}", format.as_str().to_uppercase())?;
    for (name, width) in columns {
        write!(buf, "{name:<width$}")?;
    }
    writeln!(buf, "{:<8}{:<10}PATH", "ARCH", "TOOLCHAIN")
}

impl<W: Write> Renderer for HumanRenderer<W> {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn file(&mut self, f: &FileReport) -> io::Result<()> {
        // Tool errors (unreadable files) are always shown: they decide exit code 2.
        if self.view.only_failures
            && !super::fails_at(f, self.view.min_level)
            && f.severity != super::Severity::ToolError
        {
            self.hidden = self.hidden.saturating_add(1);
            return Ok(());
        }
        self.tally(f);
        let (block, lines) = self.row(f)?;
        self.emit(block, lines)
    }

    fn finish(&mut self, _skipped: &[Skipped], s: &Summary) -> io::Result<()> {
        for (block, rows) in std::mem::take(&mut self.held) {
            let mut buf = Vec::new();
            writeln!(buf)?;
            header(&mut buf, block)?;
            self.out.write_all(&buf)?;
            self.out.write_all(&rows)?;
        }
        self.rule_summary()?;
        writeln!(self.out)?;
        if let Some(p) = &s.policy {
            let f = &p.failed;
            let total = f.deny.saturating_add(f.warn).saturating_add(f.info);
            writeln!(
                self.out,
                "policy: {} deny, {} warn, {} info {} failed in {}; {} waived",
                f.deny,
                f.warn,
                f.info,
                if total == 1 { "finding" } else { "findings" },
                count(p.files_failing, "file", "files"),
                p.waived
            )?;
            for w in &p.expired_waivers {
                let mut buf = Vec::new();
                paint(&mut buf, self.color, &cell("expired waiver", Tone::Bad), 0)?;
                self.out.write_all(&buf)?;
                writeln!(
                    self.out,
                    " for {} ({}) at {}: expired {}; its reason was: {}",
                    w.rule,
                    w.target,
                    w.origin,
                    w.expires.as_deref().unwrap_or("?"),
                    w.reason
                )?;
            }
            for w in &p.unused_waivers {
                let mut buf = Vec::new();
                paint(
                    &mut buf,
                    self.color,
                    &cell("unused waiver", Tone::Partial),
                    0,
                )?;
                self.out.write_all(&buf)?;
                writeln!(
                    self.out,
                    " for {} ({}) at {}: matched no failing finding",
                    w.rule, w.target, w.origin
                )?;
            }
        }
        if let Some(c) = &s.signatures {
            let parts: Vec<String> = [
                (c.valid, "valid"),
                (c.untrusted, "untrusted"),
                (c.invalid, "invalid"),
                (c.malformed, "malformed"),
                (c.unsigned, "unsigned"),
            ]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
            if !parts.is_empty() {
                writeln!(self.out, "signatures: {}", parts.join(", "))?;
            }
        }
        if let Some(r) = &s.risk {
            writeln!(
                self.out,
                "SmartScreen risk (PE files): {} high, {} medium, {} low",
                r.high, r.medium, r.low
            )?;
        }
        writeln!(self.out, "{}", s.examined_line())?;
        if self.hidden > 0 {
            writeln!(
                self.out,
                "{} with nothing failing{} not shown (--only-failures)",
                count(self.hidden, "file", "files"),
                match self.view.min_level {
                    Level::Deny => " at deny",
                    Level::Warn => " at warn or above",
                    _ => "",
                }
            )?;
        }
        self.out.flush()
    }
}
