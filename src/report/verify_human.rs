//! Human output for `bingate verify`: the verdict first, then what the version resource says
//! (company, description, product, file version, original filename, as sigcheck shows them), who
//! signed, the issuer chain, the timestamp and every anomaly, in words that need no ASN.1. At the
//! end, one line per status met (`valid: 12 files`), then the count of files verified.
//!
//! `--unsigned-only` (sigcheck's `-u`) lists only the files whose signature is not valid:
//! unsigned, invalid, untrusted and malformed ones, and files that could not be read. Valid files
//! and containers with no signature of their own (their entries are listed for themselves) are
//! left out; the status lines still count every file.

use std::io::{self, Write};

use crate::escape::text as esc;

use super::{FileReport, Renderer, Skipped, Summary};
use crate::cms::verdict::{SignatureFormat, SignatureVerdict, Status};

pub struct VerifyRenderer<W: Write> {
    out: W,
    color: bool,
    view: crate::config::View,
    /// Files per label shown, in [`Label`] order, over every file (shown or not).
    counts: [u64; LABELS],
}

/// What a file's line starts with: its signature status, or why it has none.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Label {
    Status(Status),
    /// Could not be read, or a container whose walk failed.
    Error,
    /// A container whose format has no signature of its own (zip, tar, deb, rpm).
    NoSignatureOfItsOwn,
    /// Not a PE or ELF file.
    NotABinary,
}

const LABELS: usize = 8;

impl Label {
    const ALL: [Label; LABELS] = [
        Label::Status(Status::Valid),
        Label::Status(Status::Invalid),
        Label::Status(Status::Untrusted),
        Label::Status(Status::Unsigned),
        Label::Status(Status::Malformed),
        Label::Error,
        Label::NoSignatureOfItsOwn,
        Label::NotABinary,
    ];

    fn of(f: &FileReport) -> Label {
        match (&f.signature, &f.error) {
            (Some(v), _) => Label::Status(v.status),
            (None, None) if f.container.is_some() => Label::NoSignatureOfItsOwn,
            (None, Some(_)) if f.severity == super::Severity::ToolError => Label::Error,
            (None, Some(_)) if f.container.is_some() => Label::Error,
            (None, Some(_)) => Label::Status(Status::Malformed),
            (None, None) => Label::NotABinary,
        }
    }

    fn index(self) -> usize {
        Label::ALL.iter().position(|l| *l == self).unwrap_or(0)
    }

    /// The summary line's name.
    fn name(self) -> &'static str {
        match self {
            Label::Status(s) => s.as_str(),
            Label::Error => "error",
            Label::NoSignatureOfItsOwn => "no signature of its own",
            Label::NotABinary => "not a PE or ELF file",
        }
    }
}

/// "1 file", "2 files".
fn files(n: u64) -> String {
    super::count(n, "file", "files")
}

impl<W: Write> VerifyRenderer<W> {
    pub fn new(out: W, color: bool) -> Self {
        VerifyRenderer {
            out,
            color,
            view: crate::config::View::default(),
            counts: [0; LABELS],
        }
    }

    /// What is shown (`--unsigned-only`).
    pub fn with_view(mut self, view: crate::config::View) -> Self {
        self.view = view;
        self
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn verdict(&mut self, status: Status) -> io::Result<()> {
        let (text, code) = match status {
            Status::Valid => ("VALID", "32"),
            Status::Invalid => ("INVALID", "31"),
            Status::Untrusted => ("UNTRUSTED", "33"),
            Status::Unsigned => ("UNSIGNED", "31"),
            Status::Malformed => ("MALFORMED", "31"),
        };
        if self.color {
            write!(self.out, "\x1b[{code}m{text:<10}\x1b[0m")
        } else {
            write!(self.out, "{text:<10}")
        }
    }

    /// What the version resource says, under the file's line.
    fn version(&mut self, f: &FileReport) -> io::Result<()> {
        let Some(v) = &f.version else {
            return Ok(());
        };
        for (label, value) in v.labelled() {
            writeln!(self.out, "    {label:<16}{}", esc(value))?;
        }
        Ok(())
    }

    /// What a container holds and an installer payload, under the file's verdict.
    fn inside(&mut self, f: &FileReport) -> io::Result<()> {
        for line in super::container_lines(f) {
            writeln!(self.out, "{:<10}{}", "", esc(&line))?;
        }
        Ok(())
    }

    fn details(&mut self, v: &SignatureVerdict) -> io::Result<()> {
        if let Some(e) = &v.error {
            writeln!(self.out, "    {}", esc(e))?;
        }
        if let Some(d) = &v.decided_by {
            writeln!(
                self.out,
                "    decided by nested signature {}: {}",
                d.nested, d.reason
            )?;
        }
        for s in &v.signatures {
            let which = super::signature_name(v, s);
            writeln!(
                self.out,
                "    {which}: {} ({})",
                s.status.as_str(),
                s.digest_algorithm
            )?;
            if let Some(signer) = &s.signer {
                let bits = s.key_bits.map(|b| format!(" {b}-bit")).unwrap_or_default();
                writeln!(self.out, "      signed by   {}", esc(&signer.subject))?;
                writeln!(
                    self.out,
                    "      key         {}{bits}, valid {} to {}",
                    signer.key_algorithm, signer.not_before, signer.not_after
                )?;
            }
            if let (None, Some(id)) = (&s.signer, &s.signer_id) {
                writeln!(self.out, "      signer      issuer {}", esc(&id.issuer))?;
                writeln!(self.out, "                  serial {}", id.serial)?;
            }
            if let Some(name) = &s.program_name {
                writeln!(self.out, "      program     {}", esc(name))?;
            }
            if s.chain.len() > 1 {
                writeln!(
                    self.out,
                    "      chain       {}",
                    s.chain
                        .iter()
                        .map(|c| esc(c))
                        .collect::<Vec<_>>()
                        .join("\n                  <- ")
                )?;
            }
            match &s.timestamp {
                Some(t) => writeln!(
                    self.out,
                    "      timestamp   {} ({}, {}){}",
                    t.time,
                    match t.kind {
                        crate::cms::timestamp::Kind::Rfc3161 => "RFC 3161",
                        crate::cms::timestamp::Kind::Legacy => "legacy countersignature",
                    },
                    esc(t.tsa.as_deref().unwrap_or("unknown TSA")),
                    if t.valid { "" } else { " - not valid, ignored" }
                )?,
                // The kernel checks module signatures without dates: nothing expires.
                None if v.format == Some(SignatureFormat::KernelModule) => {}
                None => writeln!(
                    self.out,
                    "      timestamp   none: the signature expires with the certificate"
                )?,
            }
            if s.page_hashes.present {
                writeln!(
                    self.out,
                    "      page hashes {}",
                    if s.page_hashes.verified {
                        "verified"
                    } else {
                        "MISMATCH"
                    }
                )?;
            }
            for r in &s.reasons {
                writeln!(self.out, "      - {} ({})", esc(&r.message), r.code)?;
            }
        }
        for a in &v.anomalies {
            writeln!(self.out, "    anomaly: {} {}", a.id, a.detail)?;
        }
        Ok(())
    }
}

impl<W: Write> Renderer for VerifyRenderer<W> {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn file(&mut self, f: &FileReport) -> io::Result<()> {
        let label = Label::of(f);
        if let Some(n) = self.counts.get_mut(label.index()) {
            *n = n.saturating_add(1);
        }
        if self.view.unsigned_only
            && matches!(
                label,
                Label::Status(Status::Valid) | Label::NoSignatureOfItsOwn
            )
        {
            return Ok(());
        }
        match (&f.signature, &f.error) {
            (Some(v), _) => {
                self.verdict(v.status)?;
                writeln!(self.out, "{}", esc(&f.path))?;
                self.version(f)?;
                self.details(v)?;
                self.inside(f)
            }
            // A container whose format has no signature (zip, tar, deb, rpm), or an MSI's cabinet (the
            // MSI's signature covers it).
            (None, None) if f.container.is_some() => {
                write!(self.out, "{:<10}", "-")?;
                writeln!(
                    self.out,
                    "{}: no signature of its own to verify; its binaries follow",
                    esc(&f.path)
                )?;
                self.inside(f)
            }
            // Could not be read (missing, not a regular file): an I/O error, not a verdict.
            (None, Some(e)) if f.severity == super::Severity::ToolError => {
                write!(self.out, "{:<10}", "ERROR")?;
                writeln!(self.out, "{}: {}", esc(&f.path), esc(e.message()))
            }
            (None, Some(e)) if f.container.is_some() => {
                write!(self.out, "{:<10}", "ERROR")?;
                writeln!(self.out, "{}: {}", esc(&f.path), esc(e.message()))?;
                self.inside(f)
            }
            (None, Some(e)) => {
                self.verdict(Status::Malformed)?;
                writeln!(self.out, "{}: {}", esc(&f.path), esc(e.message()))
            }
            (None, None) => {
                write!(self.out, "{:<10}", "-")?;
                writeln!(
                    self.out,
                    "{}: not a PE or ELF file (no signature to verify)",
                    esc(&f.path)
                )
            }
        }
    }

    fn finish(&mut self, _skipped: &[Skipped], s: &Summary) -> io::Result<()> {
        for (label, n) in Label::ALL.iter().zip(self.counts) {
            if n > 0 {
                writeln!(self.out, "{}: {}", label.name(), files(n))?;
            }
        }
        writeln!(self.out, "{} verified", files(s.files))?;
        self.out.flush()
    }
}
