//! The report: one entry per file, the skipped list and a summary, rendered to any `impl Write`.

mod csv;
mod html;
mod human;
mod json;
mod risk_human;
mod sarif;
mod verify_human;

pub use csv::CsvRenderer;
pub use html::HtmlRenderer;
pub use human::HumanRenderer;
pub use json::JsonRenderer;
pub use risk_human::RiskRenderer;
pub use sarif::SarifRenderer;
pub use verify_human::VerifyRenderer;

use std::io;

use serde::Serialize;

use crate::error::FileError;
use crate::facts::{BinaryFacts, Format, Hardening, Kind, Toolchain};

/// The JSON schema identifier; bump on an incompatible change.
pub const SCHEMA: &str = "bingate.report/1";

/// One examined file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileReport {
    pub path: String,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    pub format: Option<Format>,
    pub arch: Option<String>,
    pub bits: Option<u8>,
    pub kind: Option<Kind>,
    pub toolchain: Option<Toolchain>,
    pub hardening: Option<Hardening>,
    pub warnings: Vec<String>,
    /// Why the file has no facts (serialized as its message).
    pub error: Option<FileError>,
    /// The Authenticode verdict (PE files, when signatures are verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::cms::verdict::SignatureVerdict>,
    /// The SmartScreen-risk estimate (PE files, when signatures are verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<crate::risk::RiskEstimate>,
    /// What a container (archive, package, installer database) holds, when the file is one
    /// or carries one (a PE self-extractor): its entries are reported after it, with paths
    /// `container!/entry`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<crate::container::Summary>,
    /// The installer payload a PE file carries after its image (NSIS, Inno Setup, a zip
    /// self-extractor, WiX Burn), when one is recognised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installer: Option<crate::container::Installer>,
    /// What a PE file's version resource says (RT_VERSION), as sigcheck shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<VersionSummary>,
    /// Every rule of the policy for this file (absent when no policy was applied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<crate::policy::Finding>>,
    #[serde(skip)]
    pub severity: Severity,
    /// The path relative to the scanned root it was found under (`crate::scan::relative`), set
    /// by `check`; waiver `path` globs match it. Not in the report, which shows `path`.
    #[serde(skip)]
    pub root_relative: Option<String>,
    /// For an entry of a container: where the top-level file's path ends in `path` (the
    /// `!/` that follows it starts the path inside). SARIF points at the top-level file.
    #[serde(skip)]
    pub inside: Option<usize>,
}

/// The strings of a PE file's version resource that sigcheck users look for (the first
/// StringTable's), and the fixed block's file version. Each is absent when the resource has no
/// such string or it is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VersionSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The FileVersion string; when there is none, VS_FIXEDFILEINFO's "a.b.c.d".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_version: Option<String>,
    /// The ProductVersion string; when there is none, VS_FIXEDFILEINFO's "a.b.c.d".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_filename: Option<String>,
}

impl VersionSummary {
    /// The strings present, labelled, in the order sigcheck shows them (human, verify, HTML).
    pub fn labelled(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("company", &self.company),
            ("description", &self.description),
            ("product", &self.product),
            ("file version", &self.file_version),
            ("product version", &self.product_version),
            ("original name", &self.original_filename),
        ]
        .into_iter()
        .filter_map(|(label, value)| value.as_deref().map(|v| (label, v)))
    }
}

/// What a signature of a verdict is called in the reports: the primary one (by its format), a
/// signature in another certificate-table entry, or a nested one.
pub fn signature_name(
    v: &crate::cms::verdict::SignatureVerdict,
    s: &crate::cms::verdict::SignatureReport,
) -> String {
    use crate::cms::verdict::SignatureFormat;
    if s.nested > 0 {
        format!("nested signature {} in entry {}", s.nested, s.entry)
    } else if s.entry > 0 {
        format!("signature in entry {}", s.entry)
    } else {
        match v.format {
            Some(SignatureFormat::ElfSection) => "ELF signature (.bingate.sig)".to_owned(),
            Some(SignatureFormat::KernelModule) => "kernel module signature".to_owned(),
            Some(SignatureFormat::Authenticode) | None => "primary signature".to_owned(),
        }
    }
}

/// How an entry counts toward the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Severity {
    /// Examined (facts, or a parse error that is a finding about the file).
    #[default]
    Examined,
    /// Could not be read, or named explicitly but not PE/ELF: a usage or I/O error (exit 2).
    ToolError,
}

impl FileReport {
    /// The path waiver globs match: relative to the scanned root when the report comes from a
    /// walk; otherwise (a report built in memory) the path as given, without a leading `./`.
    pub fn match_path(&self) -> &str {
        self.root_relative
            .as_deref()
            .unwrap_or_else(|| self.path.strip_prefix("./").unwrap_or(&self.path))
    }

    /// What the policy judges about this file.
    pub fn subject(&self) -> crate::policy::Subject<'_> {
        crate::policy::Subject {
            path: self.match_path(),
            sha256: &self.sha256,
            arch: &self.arch,
            bits: self.bits,
            kind: self.kind,
            toolchain: &self.toolchain,
            hardening: &self.hardening,
            error: &self.error,
            signature: &self.signature,
            risk: &self.risk,
            container: &self.container,
            installer: &self.installer,
        }
    }

    pub fn from_facts(path: String, sha256: Option<String>, size: u64, facts: BinaryFacts) -> Self {
        FileReport {
            path,
            sha256,
            size: Some(size),
            format: Some(facts.format),
            arch: Some(facts.arch),
            bits: Some(facts.bits),
            kind: Some(facts.kind),
            toolchain: Some(facts.toolchain),
            hardening: Some(facts.hardening),
            warnings: facts.warnings,
            error: None,
            signature: None,
            risk: None,
            container: None,
            installer: None,
            version: None,
            findings: None,
            severity: Severity::Examined,
            root_relative: None,
            inside: None,
        }
    }

    /// A file examined without its facts (`verify`): who it is, not what it carries.
    pub fn identity(path: String, sha256: Option<String>, size: u64, format: Format) -> Self {
        FileReport::bare(path, sha256, Some(size), Some(format), Severity::Examined)
    }

    /// A container (archive, package, installer database): what it holds, no facts of its own.
    pub fn container(
        path: String,
        sha256: Option<String>,
        size: u64,
        summary: crate::container::Summary,
    ) -> Self {
        let mut r = FileReport::bare(path, sha256, Some(size), None, Severity::Examined);
        r.container = Some(summary);
        r
    }

    pub fn error(
        path: String,
        sha256: Option<String>,
        size: Option<u64>,
        format: Option<Format>,
        error: FileError,
        severity: Severity,
    ) -> Self {
        let mut r = FileReport::bare(path, sha256, size, format, severity);
        r.error = Some(error);
        r
    }

    /// Who a file is, and nothing else.
    fn bare(
        path: String,
        sha256: Option<String>,
        size: Option<u64>,
        format: Option<Format>,
        severity: Severity,
    ) -> Self {
        FileReport {
            path,
            sha256,
            size,
            format,
            arch: None,
            bits: None,
            kind: None,
            toolchain: None,
            hardening: None,
            warnings: Vec::new(),
            error: None,
            signature: None,
            risk: None,
            container: None,
            installer: None,
            version: None,
            findings: None,
            severity,
            root_relative: None,
            inside: None,
        }
    }
}

/// Why a file met while walking a directory was not examined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// Not a PE or ELF file (script, text, image, archive…).
    NotBinary,
    /// A symbolic link, not followed without `--follow-symlinks`.
    Symlink,
    /// A FIFO, socket or device: never opened (reading one can block forever).
    NotRegular,
    /// With `--follow-symlinks`, a symbolic link to a directory that contains it (Debian's
    /// `/usr/bin/X11 -> .`): not entered again.
    SymlinkLoop,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: SkipReason,
}

/// Counts over the whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Entries in `files`.
    pub files: u64,
    pub pe: u64,
    pub elf: u64,
    /// Containers (archives, packages, installer databases) walked; their binaries are counted
    /// in `pe` and `elf`. Absent when none was.
    #[serde(skip_serializing_if = "is_zero")]
    pub containers: u64,
    /// Containers whose format has no signature of its own (zip, tar, deb, rpm) and whose walk
    /// ended without an error: `verify` does not count them as files without a valid verdict.
    #[serde(skip)]
    pub containers_without_signature: u64,
    /// Files with an `error` (unparseable binaries, unreadable or non-binary named files).
    pub errors: u64,
    /// Files with at least one warning.
    pub warnings: u64,
    pub skipped: u64,
    pub skipped_not_binary: u64,
    pub skipped_symlinks: u64,
    pub skipped_not_regular: u64,
    /// Signature verdicts, when signatures were verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signatures: Option<SignatureCounts>,
    /// SmartScreen-risk levels, when risk was estimated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskCounts>,
    /// Failure counts and waiver notes, when a policy was applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<crate::policy::PolicySummary>,
}

/// How many files got each signature verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SignatureCounts {
    pub valid: u64,
    pub invalid: u64,
    pub untrusted: u64,
    pub unsigned: u64,
    pub malformed: u64,
}

/// How many PE files got each SmartScreen-risk level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RiskCounts {
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

impl RiskCounts {
    /// Files at `level` or above.
    pub fn at_or_above(&self, level: crate::risk::RiskLevel) -> u64 {
        use crate::risk::RiskLevel;
        match level {
            RiskLevel::High => self.high,
            RiskLevel::Medium => self.high.saturating_add(self.medium),
            RiskLevel::Low => self
                .high
                .saturating_add(self.medium)
                .saturating_add(self.low),
        }
    }
}

impl Summary {
    /// "N files examined: …; N skipped (…)", the line the human and HTML reports end with.
    pub fn examined_line(&self) -> String {
        let mut line = format!(
            "{} examined: {} ELF, {} PE",
            count(self.files, "file", "files"),
            self.elf,
            self.pe
        );
        if self.containers > 0 {
            line.push_str(", ");
            line.push_str(&count(self.containers, "container", "containers"));
        }
        line.push_str(&format!(
            ", {} with errors, {} with warnings; {} skipped ({} not PE/ELF, {} symlinks, {} special files)",
            self.errors,
            self.warnings,
            self.skipped,
            self.skipped_not_binary,
            self.skipped_symlinks,
            self.skipped_not_regular
        ));
        line
    }

    pub fn add_file(&mut self, f: &FileReport) {
        if let Some(r) = &f.risk {
            use crate::risk::RiskLevel;
            let c = self.risk.get_or_insert_with(RiskCounts::default);
            let slot = match r.level {
                RiskLevel::High => &mut c.high,
                RiskLevel::Medium => &mut c.medium,
                RiskLevel::Low => &mut c.low,
            };
            *slot = slot.saturating_add(1);
        }
        if let Some(v) = &f.signature {
            use crate::cms::verdict::Status;
            let c = self.signatures.get_or_insert_with(SignatureCounts::default);
            let slot = match v.status {
                Status::Valid => &mut c.valid,
                Status::Invalid => &mut c.invalid,
                Status::Untrusted => &mut c.untrusted,
                Status::Unsigned => &mut c.unsigned,
                Status::Malformed => &mut c.malformed,
            };
            *slot = slot.saturating_add(1);
        }
        self.files = self.files.saturating_add(1);
        match f.format {
            Some(Format::Pe) => self.pe = self.pe.saturating_add(1),
            Some(Format::Elf) => self.elf = self.elf.saturating_add(1),
            None if f.container.is_some() => {
                self.containers = self.containers.saturating_add(1);
                if f.signature.is_none() && f.error.is_none() {
                    self.containers_without_signature =
                        self.containers_without_signature.saturating_add(1);
                }
            }
            None => {}
        }
        if f.error.is_some() {
            self.errors = self.errors.saturating_add(1);
        }
        if !f.warnings.is_empty() {
            self.warnings = self.warnings.saturating_add(1);
        }
    }

    pub fn add_skipped(&mut self, s: &Skipped) {
        self.skipped = self.skipped.saturating_add(1);
        let slot = match s.reason {
            SkipReason::NotBinary => &mut self.skipped_not_binary,
            SkipReason::Symlink | SkipReason::SymlinkLoop => &mut self.skipped_symlinks,
            SkipReason::NotRegular => &mut self.skipped_not_regular,
        };
        *slot = slot.saturating_add(1);
    }
}

/// A streaming renderer: `file` is called in report order, then `finish` once.
pub trait Renderer {
    fn begin(&mut self) -> io::Result<()>;
    fn file(&mut self, file: &FileReport) -> io::Result<()>;
    fn finish(&mut self, skipped: &[Skipped], summary: &Summary) -> io::Result<()>;
}

/// What the human reports say about a container or an installer payload, one line each
/// (unescaped: the renderers escape what they print). Never more than was checked: package
/// signatures are "present, not verified", a payload not walked is "not examined".
pub fn container_lines(f: &FileReport) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(i) = &f.installer {
        let covered = match i.covered_by_signature {
            Some(true) => ", inside the signed bytes",
            Some(false) => ", after the signature (not covered by it)",
            None => "",
        };
        let examined = if i.examined {
            "its files are listed below"
        } else {
            "its files were not examined"
        };
        out.push(format!(
            "installer payload: {} at offset {:#x}, {} bytes{covered}; {examined}",
            i.kind.name(),
            i.offset,
            i.size
        ));
    }
    if let Some(s) = &f.container {
        let mut line = format!(
            "{}: {} entr{}, {} binar{} inside",
            s.kind.name(),
            s.entries,
            if s.entries == 1 { "y" } else { "ies" },
            s.binaries,
            if s.binaries == 1 { "y" } else { "ies" },
        );
        if s.containers > 0 {
            line.push_str(&format!(
                ", {} nested container{}",
                s.containers,
                if s.containers == 1 { "" } else { "s" }
            ));
        }
        out.push(line);
        if let Some(n) = s.unsigned_pe.filter(|n| *n > 0) {
            let more = n.saturating_sub(s.unsigned_pe_shown.len() as u64);
            let mut line = format!(
                "{n} unsigned PE file{} inside: {}",
                if n == 1 { "" } else { "s" },
                s.unsigned_pe_shown.join(", ")
            );
            if more > 0 {
                line.push_str(&format!(" and {more} more"));
            }
            out.push(line);
        }
        for p in &s.package_signatures {
            out.push(format!("package signature present, not verified: {p}"));
        }
        for n in &s.notes {
            match &n.entry {
                Some(e) => out.push(format!("{}: {e}: {}", n.id, n.message)),
                None => out.push(format!("{}: {}", n.id, n.message)),
            }
        }
    }
    out
}

/// Whether `f` has a failing (not waived) finding at `min` or above: the file `--only-failures`
/// keeps, in human and CSV output.
pub(crate) fn fails_at(f: &FileReport, min: crate::policy::Level) -> bool {
    f.findings.as_ref().is_some_and(|xs| {
        xs.iter()
            .any(|x| x.status == crate::policy::Status::Fail && x.level >= min)
    })
}

/// "1 file", "2 files": a count with its noun in the right number.
pub(crate) fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
