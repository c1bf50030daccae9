//! Containers: archives, packages and installers read in memory, entry by entry.
//!
//! A container is walked from bytes already in memory (a mapped file, or an entry of an outer
//! container read into a buffer); nothing is ever written to the file system and entry names
//! are never used as paths: a name with `..`, an absolute path or a NUL is reported as a note
//! and shown as it is. Each format module gives its regular-file entries, one at a time, to a
//! visitor as a reader over the entry's bytes; the visitor decides how much to read (the first
//! bytes to sniff, the whole entry for a binary or a nested container).
//!
//! Every byte decompressed is charged to one [`Budget`] per top-level file (total expanded
//! bytes), each compressed unit's expansion ratio is bounded, and entries, depth and entry
//! sizes have limits (`crate::budget`). Exceeding one stops that container with an
//! [`ErrorKind::Budget`](crate::error::ErrorKind::Budget) error naming what was reached; the
//! entries visited before it keep their results.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::Error;

pub mod cab;
pub mod deb;
pub mod installer;
pub mod msi;
pub mod rpm;
pub mod tar;
pub mod xz;
pub mod zip;

/// A single-stream compression (a `.tar.gz`, or one compressed file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    Gzip,
    Xz,
    Zstd,
    Bzip2,
}

impl Codec {
    pub fn as_str(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Xz => "xz",
            Codec::Zstd => "zstd",
            Codec::Bzip2 => "bzip2",
        }
    }
}

/// What kind of container a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type", content = "codec")]
pub enum Kind {
    /// Zip and its relatives: whl, nupkg, jar, vsix, appx/msix, docx…, and a zip appended to
    /// a PE (a self-extractor).
    Zip,
    /// A tar archive, compressed with `codec` or not.
    Tar(Option<Codec>),
    /// One compressed stream that is not a tar archive: a single entry.
    Compressed(Codec),
    /// A Debian package (ar with `debian-binary`, `control.tar.*`, `data.tar.*`).
    Deb,
    /// An RPM package (lead, signature and header, then a compressed cpio payload).
    Rpm,
    /// A Windows Installer database (a compound file with the MSI, MSM or MSP class id).
    Msi,
    /// A Microsoft cabinet.
    Cab,
    /// A WiX Burn bundle's attached containers (cabinets end to end after the bundle's stub).
    /// Never recognised from a file's first bytes: only as the payload of a PE with a
    /// `.wixburn` section.
    Burn,
}

impl Kind {
    /// The name the report shows.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Zip => "zip",
            Kind::Tar(None) => "tar",
            Kind::Tar(Some(Codec::Gzip)) => "tar.gz",
            Kind::Tar(Some(Codec::Xz)) => "tar.xz",
            Kind::Tar(Some(Codec::Zstd)) => "tar.zst",
            Kind::Tar(Some(Codec::Bzip2)) => "tar.bz2",
            Kind::Compressed(c) => c.as_str(),
            Kind::Deb => "deb",
            Kind::Rpm => "rpm",
            Kind::Msi => "msi",
            Kind::Cab => "cab",
            Kind::Burn => "burn",
        }
    }
}

/// How many leading bytes [`sniff`] looks at (tar's "ustar" magic is at 257).
pub const SNIFF_LEN: usize = 512;

/// What the first bytes say the container is, or `None`. `head` is at most [`SNIFF_LEN`]
/// bytes. A compressed stream is `Compressed` here: whether it holds a tar archive is decided
/// by [`walk`] from its first decompressed bytes. A compound file that is not an installer
/// database (a .doc, a .xls) is `None`, decided by [`msi::is_installer`] from the whole file.
pub fn sniff(head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(Kind::Zip);
    }
    if head.starts_with(b"\x1f\x8b") {
        return Some(Kind::Compressed(Codec::Gzip));
    }
    if head.starts_with(b"\xfd7zXZ\x00") {
        return Some(Kind::Compressed(Codec::Xz));
    }
    if head.starts_with(b"\x28\xb5\x2f\xfd") {
        return Some(Kind::Compressed(Codec::Zstd));
    }
    if head.len() >= 4 && head.starts_with(b"BZh") {
        if let Some(level) = head.get(3) {
            if (b'1'..=b'9').contains(level) {
                return Some(Kind::Compressed(Codec::Bzip2));
            }
        }
    }
    if is_tar_header(head) {
        return Some(Kind::Tar(None));
    }
    if head.starts_with(b"!<arch>\ndebian-binary") {
        return Some(Kind::Deb);
    }
    if head.starts_with(b"\xed\xab\xee\xdb") {
        return Some(Kind::Rpm);
    }
    if head.starts_with(b"MSCF\0\0\0\0") {
        return Some(Kind::Cab);
    }
    if head.starts_with(msi::CFB_MAGIC) {
        return Some(Kind::Msi);
    }
    None
}

/// A POSIX (ustar) or GNU tar header: "ustar" at 257.
pub fn is_tar_header(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

/// What an entry is, as the container says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryMeta {
    /// Position among the container's entries (every entry counts, directories too).
    pub index: u64,
    /// The entry's name as the container stores it, decoded lossily (UTF-8; CP437 for zip
    /// names without the UTF-8 flag is left to the zip crate). Never used as a path.
    pub name: String,
    /// The size the container declares for the entry's bytes, when it declares one.
    pub size: Option<u64>,
    /// Where the entry's header or data starts in the container's bytes, for messages.
    pub offset: Option<u64>,
}

/// Something about a container the report should show: unsafe names, links not followed,
/// package signatures present but not verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// A stable id: `unsafe-name`, `link`, `package-signature`, `skipped-entry`…
    pub id: String,
    /// The entry it is about (its name as stored), when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    pub message: String,
}

/// What a container holds, for the report and the policy. The format modules fill `kind`,
/// `entries` and `notes`; the scan fills the counts of what was examined inside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub kind: Kind,
    /// Entries the container lists (directories and links too), as far as it was read.
    pub entries: u64,
    /// PE and ELF files found inside, at any depth.
    pub binaries: u64,
    /// Nested containers found inside, at any depth.
    pub containers: u64,
    /// PE files inside (at any depth) whose Authenticode status is unsigned, when signatures
    /// were verified (`None` when they were not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsigned_pe: Option<u64>,
    /// The first few of them (`crate::budget::COMPANIONS_SHOWN`), as report paths.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unsigned_pe_shown: Vec<String>,
    /// Signature files of the package itself (jar `META-INF/*.RSA`, `AppxSignature.p7x`,
    /// `.signature.p7s`, wheel `RECORD.jws`/`RECORD.p7s`): present, not verified.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub package_signatures: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<Note>,
}

impl Summary {
    pub fn new(kind: Kind) -> Self {
        Summary {
            kind,
            entries: 0,
            binaries: 0,
            containers: 0,
            unsigned_pe: None,
            unsigned_pe_shown: Vec::new(),
            package_signatures: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a note, keeping at most `crate::budget::MAX_CONTAINER_NOTES` (the count of those
    /// dropped is the last note).
    pub fn note(&mut self, id: &str, entry: Option<&str>, message: impl Into<String>) {
        let max = crate::budget::MAX_CONTAINER_NOTES;
        if self.notes.len() < max {
            self.notes.push(Note {
                id: id.to_owned(),
                entry: entry.map(str::to_owned),
                message: message.into(),
            });
        } else if self.notes.len() == max {
            self.notes.push(Note {
                id: "notes-dropped".to_owned(),
                entry: None,
                message: format!("more than {max} notes: the rest are not shown"),
            });
        }
    }

    /// Notes an unsafe entry name (`..` component, absolute path, drive letter, NUL):
    /// reported, never followed. Returns whether the name was unsafe.
    pub fn check_name(&mut self, name: &str) -> bool {
        if let Some(why) = unsafe_name(name) {
            self.note("unsafe-name", Some(name), why);
            true
        } else {
            false
        }
    }
}

/// What installer a PE file's payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstallerKind {
    Nsis,
    InnoSetup,
    /// A zip archive appended to the image (WinZip, Info-ZIP and 7-Zip's zip self-extractors).
    ZipSfx,
    WixBurn,
}

impl InstallerKind {
    pub fn name(self) -> &'static str {
        match self {
            InstallerKind::Nsis => "NSIS",
            InstallerKind::InnoSetup => "Inno Setup",
            InstallerKind::ZipSfx => "zip self-extractor",
            InstallerKind::WixBurn => "WiX Burn bundle",
        }
    }
}

/// An installer payload recognised in a PE file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installer {
    pub kind: InstallerKind,
    /// Where the payload starts in the file, and its length.
    pub offset: u64,
    pub size: u64,
    /// Whether the payload's bytes lie inside the range the Authenticode signature hashes
    /// (`None` when the file is not signed or its layout could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covered_by_signature: Option<bool>,
    /// Whether the payload's files were examined (listed after the file, like an archive's).
    pub examined: bool,
}

/// Why an entry name would be unsafe to extract, if it would.
pub fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.contains('\0') {
        return Some("the name contains a NUL byte");
    }
    let bytes = name.as_bytes();
    if name.starts_with('/') || name.starts_with('\\') {
        return Some("the name is an absolute path");
    }
    if bytes.get(1) == Some(&b':') && bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        return Some("the name starts with a drive letter");
    }
    if name.split(['/', '\\']).any(|c| c == "..") {
        return Some("the name has a `..` component (it would be written outside the folder)");
    }
    None
}

/// The limits of one walk (`crate::budget` has the defaults and their sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Containers inside containers: a top-level file is depth 0.
    pub max_depth: u32,
    /// Entries listed per container.
    pub max_entries: u64,
    /// Bytes decompressed for one top-level file, at every depth.
    pub max_expanded: u64,
    /// Expansion ratio of one compressed unit, checked once it expanded past
    /// `ratio_grace` bytes.
    pub max_ratio: u64,
    pub ratio_grace: u64,
    /// Bytes read from one entry (a binary or a nested container); the run's
    /// `--max-file-size`.
    pub max_entry_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        use crate::budget;
        Limits {
            max_depth: budget::MAX_CONTAINER_DEPTH,
            max_entries: budget::MAX_CONTAINER_ENTRIES,
            max_expanded: budget::MAX_EXPANDED_BYTES,
            max_ratio: budget::MAX_EXPANSION_RATIO,
            ratio_grace: budget::EXPANSION_RATIO_GRACE,
            max_entry_size: budget::DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// The bytes decompressed for one top-level file, shared by every walk under it (and by
/// threads walking a zip's entries side by side).
#[derive(Debug)]
pub struct Budget {
    pub limits: Limits,
    expanded: AtomicU64,
}

impl Budget {
    pub fn new(limits: Limits) -> Self {
        Budget {
            limits,
            expanded: AtomicU64::new(0),
        }
    }

    /// Bytes decompressed so far.
    pub fn expanded(&self) -> u64 {
        self.expanded.load(Ordering::Relaxed)
    }

    /// Charges `n` decompressed bytes; an error once the total passes `max_expanded`.
    pub fn charge(&self, n: u64) -> Result<(), Error> {
        let before = self.expanded.fetch_add(n, Ordering::Relaxed);
        let total = before.saturating_add(n);
        if total > self.limits.max_expanded {
            return Err(Error::budget(
                "bytes decompressed from one file",
                total,
                self.limits.max_expanded,
                None,
            ));
        }
        Ok(())
    }
}

/// A reader over decompressed bytes that charges them to the [`Budget`] and bounds the
/// expansion ratio of one compressed unit of `compressed` bytes (a zip entry's data, a
/// gzip stream, a CAB folder). Exceeding either gives an `io::Error` whose inner error is the
/// budget [`Error`] ([`budget_error`] takes it back out).
///
/// Once a limit is reached the reader stays failed (every later read gives the same error), and
/// [`Guarded::exceeded`] tells the walker, whose visitor may have swallowed the error.
pub struct Guarded<'b, R> {
    inner: R,
    budget: &'b Budget,
    compressed: u64,
    read: u64,
    exceeded: Option<Error>,
}

impl<'b, R: Read> Guarded<'b, R> {
    pub fn new(inner: R, budget: &'b Budget, compressed: u64) -> Self {
        Guarded {
            inner,
            budget,
            compressed,
            read: 0,
            exceeded: None,
        }
    }

    /// Decompressed bytes read through this reader.
    pub fn read_so_far(&self) -> u64 {
        self.read
    }

    /// The budget error this reader gave, if a limit was reached through it.
    pub fn exceeded(&self) -> Option<&Error> {
        self.exceeded.as_ref()
    }

    fn fail(&mut self, e: Error) -> io::Error {
        self.exceeded = Some(e.clone());
        budget_io(e)
    }
}

impl<R: Read> Read for Guarded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = &self.exceeded {
            return Err(budget_io(e.clone()));
        }
        let n = self.inner.read(buf)?;
        let n64 = n as u64;
        self.read = self.read.saturating_add(n64);
        if let Err(e) = self.budget.charge(n64) {
            return Err(self.fail(e));
        }
        let limits = &self.budget.limits;
        if self.read > limits.ratio_grace
            && self.read > self.compressed.max(1).saturating_mul(limits.max_ratio)
        {
            let e = Error::budget(
                "expansion ratio of one compressed stream (bytes out per byte in)",
                self.read
                    .checked_div(self.compressed.max(1))
                    .unwrap_or(self.read),
                limits.max_ratio,
                None,
            );
            return Err(self.fail(e));
        }
        Ok(n)
    }
}

/// A budget error carried through `io::Read`.
#[derive(Debug)]
struct BudgetIo(Error);

impl std::fmt::Display for BudgetIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BudgetIo {}

/// Wraps a budget error for `io::Read`.
pub fn budget_io(e: Error) -> io::Error {
    io::Error::other(BudgetIo(e))
}

/// The budget error inside an `io::Error` made by [`budget_io`], if it is one.
pub fn budget_error(e: &io::Error) -> Option<Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<BudgetIo>())
        .map(|b| b.0.clone())
}

/// The error for a failed read of a container's bytes: the budget error it carries (so the
/// report names the limit reached), else a parse error of `what` at `offset`.
pub(crate) fn read_error(what: &'static str, e: &io::Error, offset: Option<u64>) -> Error {
    budget_error(e).unwrap_or_else(|| Error::parser(what, e, offset))
}

impl<T> Walked<T> {
    /// Runs a walker that fills a summary and a list of results and stops at its first error.
    pub(crate) fn collect(
        kind: Kind,
        walker: impl FnOnce(&mut Summary, &mut Vec<T>) -> Result<(), Error>,
    ) -> Walked<T> {
        let mut summary = Summary::new(kind);
        let mut items = Vec::new();
        let error = walker(&mut summary, &mut items).err();
        Walked {
            items,
            summary,
            error,
        }
    }
}

/// Counts one more entry listed by a container; an error past `max_entries`.
pub fn count_entry(summary: &mut Summary, limits: &Limits) -> Result<(), Error> {
    summary.entries = summary.entries.saturating_add(1);
    if summary.entries > limits.max_entries {
        return Err(Error::budget(
            "entries in one container",
            summary.entries,
            limits.max_entries,
            None,
        ));
    }
    Ok(())
}

/// What walking a container gave: the visitor's results in the container's order, the
/// summary, and the error that stopped the walk, if one did (a budget reached, a structure
/// that does not parse); the results before it are kept.
#[derive(Debug)]
pub struct Walked<T> {
    pub items: Vec<T>,
    pub summary: Summary,
    pub error: Option<Error>,
}

/// The visitor: called once per regular-file entry with its meta and a reader over its
/// decompressed bytes (already [`Guarded`]). It may be called from several threads at once
/// (a zip's entries are read side by side) and in any order; `Walked::items` is in the
/// container's order all the same.
pub type Visit<'v, T> = dyn Fn(&EntryMeta, &mut dyn Read) -> T + Sync + 'v;

/// Walks a container of `kind` held in `data`. `depth` is the container's own depth (0 for a
/// top-level file); a container deeper than `max_depth` is refused before anything is read.
pub fn walk<T: Send>(
    kind: Kind,
    data: &[u8],
    depth: u32,
    budget: &Budget,
    visit: &Visit<'_, T>,
) -> Walked<T> {
    if depth > budget.limits.max_depth {
        return Walked {
            items: Vec::new(),
            summary: Summary::new(kind),
            error: Some(Error::budget(
                "containers nested in containers",
                u64::from(depth),
                u64::from(budget.limits.max_depth),
                None,
            )),
        };
    }
    match kind {
        Kind::Zip => zip::walk(data, budget, visit),
        Kind::Tar(codec) => tar::walk(data, codec, budget, visit),
        Kind::Compressed(codec) => tar::walk_compressed(data, codec, budget, visit),
        Kind::Deb => deb::walk(data, budget, visit),
        Kind::Rpm => rpm::walk(data, budget, visit),
        Kind::Msi => msi::walk(data, budget, visit),
        Kind::Cab => cab::walk(data, budget, visit),
        Kind::Burn => installer::walk_burn(data, budget, visit),
    }
}
