//! Human output for `bingate risk`: per PE file the level and the outcome sentence first, then
//! the evidence by weight, each with what to do about it; the offline-estimate caveat last.

use std::io::{self, Write};

use crate::escape::text as esc;

use super::{FileReport, Renderer, Skipped, Summary};
use crate::facts::Format;
use crate::risk::{BASIS, RiskLevel};

pub struct RiskRenderer<W: Write> {
    out: W,
    color: bool,
    /// Examined files that are not PE (no estimate).
    not_pe: u64,
}

impl<W: Write> RiskRenderer<W> {
    pub fn new(out: W, color: bool) -> Self {
        RiskRenderer {
            out,
            color,
            not_pe: 0,
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn level(&mut self, level: RiskLevel) -> io::Result<()> {
        let (text, code) = match level {
            RiskLevel::High => ("HIGH", "31"),
            RiskLevel::Medium => ("MEDIUM", "33"),
            RiskLevel::Low => ("LOW", "32"),
        };
        if self.color {
            write!(self.out, "\x1b[{code}m{text:<7}\x1b[0m")
        } else {
            write!(self.out, "{text:<7}")
        }
    }
}

impl<W: Write> Renderer for RiskRenderer<W> {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn file(&mut self, f: &FileReport) -> io::Result<()> {
        let Some(r) = &f.risk else {
            if f.container.is_some() && f.format.is_none() {
                write!(self.out, "{:<7}", "-")?;
                writeln!(
                    self.out,
                    "{}: a container; its PE files follow",
                    esc(&f.path)
                )?;
                if let Some(e) = &f.error {
                    writeln!(self.out, "       stopped: {}", esc(e.message()))?;
                }
                for line in super::container_lines(f) {
                    writeln!(self.out, "       {}", esc(&line))?;
                }
                return Ok(());
            }
            if let Some(e) = &f.error {
                write!(self.out, "{:<7}", "-")?;
                return writeln!(self.out, "{}: {}", esc(&f.path), esc(e.message()));
            }
            if f.format != Some(Format::Pe) {
                // ELF files: SmartScreen is a Windows matter.
                self.not_pe = self.not_pe.saturating_add(1);
                return Ok(());
            }
            write!(self.out, "{:<7}", "-")?;
            return writeln!(
                self.out,
                "{}: no estimate (signature not verified)",
                esc(&f.path)
            );
        };
        self.level(r.level)?;
        writeln!(self.out, "{}  (score {}/100)", esc(&f.path), r.score)?;
        for line in super::container_lines(f) {
            writeln!(self.out, "  {}", esc(&line))?;
        }
        writeln!(self.out, "  {}", esc(&r.outcome))?;
        for e in &r.evidence {
            writeln!(
                self.out,
                "  {:>3}  {:<20} {}",
                e.weight,
                e.id,
                esc(&e.detail)
            )?;
            if e.weight > 0 && !e.fix.is_empty() {
                writeln!(self.out, "       {:<20} fix: {}", "", esc(e.fix))?;
            }
        }
        writeln!(self.out)
    }

    fn finish(&mut self, _skipped: &[Skipped], s: &Summary) -> io::Result<()> {
        if let Some(c) = &s.risk {
            write!(
                self.out,
                "{} estimated: {} high, {} medium, {} low",
                super::count(
                    c.high.saturating_add(c.medium).saturating_add(c.low),
                    "PE file",
                    "PE files"
                ),
                c.high,
                c.medium,
                c.low
            )?;
        } else {
            write!(self.out, "no PE files estimated")?;
        }
        if self.not_pe > 0 {
            write!(
                self.out,
                "; {} not estimated",
                super::count(self.not_pe, "ELF file", "ELF files")
            )?;
        }
        writeln!(self.out)?;
        writeln!(self.out, "Note: {BASIS}.")?;
        self.out.flush()
    }
}
