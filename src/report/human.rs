//! `--format human`: one row per file with a compact mark per mitigation, then a summary line.
//!
//! A header row names the columns and is repeated when the format changes between rows (ELF and
//! PE carry different mitigations). Colour only when asked (the CLI enables it on a terminal).

use std::io::{self, Write};

use crate::escape::text as esc;

use super::{FileReport, Renderer, Skipped, Summary};
use crate::cms::verdict::{SignatureVerdict, Status as SigStatus};
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
];

fn elf_cells(h: &ElfHardening) -> Vec<Cell> {
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
    ]
}

fn pe_cells(h: &PeHardening, sig: Option<&SignatureVerdict>) -> Vec<Cell> {
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
        match (sig.map(|v| v.status), h.has_signature) {
            (Some(SigStatus::Valid), _) => cell("valid", Tone::Good),
            (Some(SigStatus::Untrusted), _) => cell("untrust", Tone::Partial),
            (Some(SigStatus::Invalid), _) => cell("invalid", Tone::Bad),
            (Some(SigStatus::Malformed), _) => cell("broken", Tone::Bad),
            (Some(SigStatus::Unsigned), _) | (None, false) => cell("no", Tone::Bad),
            (None, true) => cell("cert", Tone::Neutral),
        },
    ]
}

pub struct HumanRenderer<W: Write> {
    out: W,
    color: bool,
    last_format: Option<Format>,
    #[allow(dead_code)]
    view: crate::config::View,
}

impl<W: Write> HumanRenderer<W> {
    pub fn new(out: W, color: bool) -> Self {
        HumanRenderer {
            out,
            color,
            last_format: None,
            view: crate::config::View::default(),
        }
    }

    /// What is shown (`--only-failures`, `--min-level`, `--details`).
    pub fn with_view(mut self, view: crate::config::View) -> Self {
        self.view = view;
        self
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn paint(&mut self, c: &Cell, width: usize) -> io::Result<()> {
        let code = match c.tone {
            Tone::Good => "32",
            Tone::Partial => "33",
            Tone::Bad => "31",
            Tone::Neutral => "",
        };
        if self.color && !code.is_empty() {
            write!(self.out, "\x1b[{code}m{:<width$}\x1b[0m", c.text)
        } else {
            write!(self.out, "{:<width$}", c.text)
        }
    }

    /// A container's row: what it is and holds (its entries follow as rows of their own), its
    /// signature when the format has one, and the error that stopped its walk.
    fn container(&mut self, f: &FileReport) -> io::Result<()> {
        let (tag, tone) = match &f.error {
            Some(_) => ("ERROR", Tone::Bad),
            None => ("PKG", Tone::Neutral),
        };
        self.paint(&cell(tag, tone), 6)?;
        write!(self.out, "{}", esc(&f.path))?;
        if let Some(v) = &f.signature {
            write!(self.out, "  (signature: {})", v.status.as_str())?;
        }
        writeln!(self.out)?;
        if let Some(e) = &f.error {
            writeln!(self.out, "    stopped: {}", esc(e.message()))?;
        }
        for line in super::container_lines(f) {
            writeln!(self.out, "    {}", esc(&line))?;
        }
        // The next binary row starts a new table.
        self.last_format = None;
        self.findings(f)
    }

    /// Failing and waived findings under a file's row: rule, evidence, fix, controls.
    fn findings(&mut self, f: &FileReport) -> io::Result<()> {
        let Some(findings) = &f.findings else {
            return Ok(());
        };
        let toolchain = match (&f.toolchain, &f.container) {
            (Some(t), _) => t.name.as_str(),
            (None, Some(_)) => "",
            (None, None) => "unknown",
        };
        for x in findings
            .iter()
            .filter(|x| matches!(x.status, Status::Fail | Status::Waived))
        {
            self.finding(x, toolchain)?;
        }
        Ok(())
    }

    fn finding(&mut self, x: &Finding, toolchain: &str) -> io::Result<()> {
        let (label, tone) = match (x.status, x.level) {
            (Status::Waived, _) => ("waived", Tone::Neutral),
            (_, Level::Deny) => ("deny", Tone::Bad),
            (_, Level::Warn) => ("warn", Tone::Partial),
            _ => ("info", Tone::Neutral),
        };
        write!(self.out, "    ")?;
        self.paint(&cell(label, tone), 7)?;
        writeln!(self.out, "{}: {}", x.rule, esc(&x.message))?;
        if let Some(w) = &x.waiver {
            let until = w
                .expires
                .as_deref()
                .map(|e| format!(" until {e}"))
                .unwrap_or_default();
            writeln!(
                self.out,
                "           waived{until}: {} ({})",
                esc(&w.reason),
                esc(&w.origin)
            )?;
        } else if let Some(fix) = &x.remediation {
            if toolchain.is_empty() {
                // A container: no toolchain built it.
                writeln!(self.out, "           fix: {}", esc(fix))?;
            } else {
                writeln!(self.out, "           fix ({toolchain}): {}", esc(fix))?;
            }
        }
        if !x.controls.is_empty() {
            writeln!(
                self.out,
                "           controls: {}",
                esc(&x.controls.join("; "))
            )?;
        }
        Ok(())
    }

    fn header(&mut self, format: Format) -> io::Result<()> {
        let columns = match format {
            Format::Elf => ELF_COLUMNS,
            Format::Pe => PE_COLUMNS,
        };
        write!(self.out, "{:<4}", format.as_str().to_uppercase())?;
        for (name, width) in columns {
            write!(self.out, "{name:<width$}")?;
        }
        writeln!(self.out, "{:<8}{:<10}PATH", "ARCH", "TOOLCHAIN")
    }
}

impl<W: Write> Renderer for HumanRenderer<W> {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn file(&mut self, f: &FileReport) -> io::Result<()> {
        if f.container.is_some() && f.format.is_none() {
            return self.container(f);
        }
        let (Some(hardening), None) = (&f.hardening, &f.error) else {
            let msg = f.error.as_ref().map_or("no facts", |e| e.message());
            let e = cell("ERROR", Tone::Bad);
            self.paint(&e, 6)?;
            writeln!(self.out, "{}: {}", esc(&f.path), esc(msg))?;
            return self.findings(f);
        };
        if f.kind == Some(crate::facts::Kind::DebugInfo) {
            // Its facts describe nothing that runs: say what it is instead of a row of them.
            writeln!(
                self.out,
                "DEBUG {}  (separate debug-info file: its loadable sections have no bytes here; not judged)",
                esc(&f.path)
            )?;
            self.last_format = None;
            return self.findings(f);
        }
        let (format, cells, columns) = match hardening {
            Hardening::Elf(h) => (Format::Elf, elf_cells(h), ELF_COLUMNS),
            Hardening::Pe(h) => (Format::Pe, pe_cells(h, f.signature.as_ref()), PE_COLUMNS),
        };
        if self.last_format != Some(format) {
            self.header(format)?;
            self.last_format = Some(format);
        }
        write!(self.out, "{:<4}", "")?;
        for (c, (_, width)) in cells.iter().zip(columns) {
            self.paint(c, *width)?;
        }
        let arch = f.arch.as_deref().unwrap_or("?");
        let tc = f.toolchain.as_ref().map(|t| t.name.as_str()).unwrap_or("?");
        write!(self.out, "{arch:<8}{tc:<10}{}", esc(&f.path))?;
        if !f.warnings.is_empty() {
            write!(
                self.out,
                "  ({} warning{})",
                f.warnings.len(),
                if f.warnings.len() == 1 { "" } else { "s" }
            )?;
        }
        writeln!(self.out)?;
        for line in super::container_lines(f) {
            writeln!(self.out, "    {}", esc(&line))?;
        }
        self.findings(f)
    }

    fn finish(&mut self, _skipped: &[Skipped], s: &Summary) -> io::Result<()> {
        if let Some(p) = &s.policy {
            let f = &p.failed;
            writeln!(
                self.out,
                "policy: {} deny, {} warn, {} info finding{} failed in {} file{}; {} waived",
                f.deny,
                f.warn,
                f.info,
                if f.deny.saturating_add(f.warn).saturating_add(f.info) == 1 {
                    ""
                } else {
                    "s"
                },
                p.files_failing,
                if p.files_failing == 1 { "" } else { "s" },
                p.waived
            )?;
            for w in &p.expired_waivers {
                self.paint(&cell("expired waiver", Tone::Bad), 0)?;
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
                self.paint(&cell("unused waiver", Tone::Partial), 0)?;
                writeln!(
                    self.out,
                    " for {} ({}) at {}: matched no failing finding",
                    w.rule, w.target, w.origin
                )?;
            }
        }
        writeln!(
            self.out,
            "{} files examined: {} ELF, {} PE, {} with errors, {} with warnings; {} skipped ({} not PE/ELF, {} symlinks, {} special files)",
            s.files,
            s.elf,
            s.pe,
            s.errors,
            s.warnings,
            s.skipped,
            s.skipped_not_binary,
            s.skipped_symlinks,
            s.skipped_not_regular
        )?;
        self.out.flush()
    }
}
