//! The policy model: rules, what they check, where they apply, waivers, and the findings they
//! produce. Parsing (with positions) is in `parse.rs`; evaluation in `eval.rs`, the checks in
//! `checks/`.

use serde::Serialize;

use crate::facts::{Format, Kind, ToolchainName};

/// How much a failing rule matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Off,
    Info,
    Warn,
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "off" => Level::Off,
            "info" => Level::Info,
            "warn" => Level::Warn,
            "deny" => Level::Deny,
            _ => return None,
        })
    }
}

/// A value a fact is compared with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Str(String),
}

/// How a fact is compared.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    Equals(Scalar),
    OneOf(Vec<Scalar>),
    /// A list fact must be empty (`true`) or non-empty (`false`).
    Empty(bool),
    AtLeast(i64),
    AtMost(i64),
}

/// Checks that need more than one fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedCheck {
    /// DYNAMIC_BASE, relocations not stripped, and a base-relocation directory.
    PeAslr,
    /// PE32+: HIGH_ENTROPY_VA with DYNAMIC_BASE and LARGE_ADDRESS_AWARE.
    PeHighEntropyVa,
    /// PE32+: ImageBase above 4 GiB.
    PeImageBaseAbove4Gb,
    /// GUARD_CF flag and an instrumented load config.
    PeCfg,
    /// x86: a SafeSEH table or NO_SEH.
    PeSafeSeh,
    /// Stored checksum equals the computed one.
    PeChecksum,
    /// FORTIFY applied: some `__*_chk` import, or no fortifiable function imported at all.
    ElfFortify,
    /// RPATH/RUNPATH entries are absolute (or `$ORIGIN`-relative), non-empty, not world-writable.
    ElfSafePaths,
    /// The image carries an Authenticode signature (not unsigned, not malformed).
    PeSigned,
    /// The signature verifies: digest, CMS signature, trusted chain at the decisive time.
    PeSignatureValid,
    /// The primary signature carries a valid timestamp.
    PeTimestamped,
    /// Not SHA-1 (or MD5) only: some signature uses SHA-256 or better.
    PeNoSha1Only,
    /// No data outside what the signature covers: no padding in WIN_CERTIFICATE, no trailing data.
    PeNoSignaturePadding,
    /// Signer keys: RSA at least 2048 bits.
    PeSigningKeySize,
    /// The ELF file carries a signature: a `.bingate.sig` section or a kernel module signature.
    ElfSigned,
    /// The ELF signature verifies (whole-file digest, signer signature, trusted chain; for
    /// module signatures, a `--cert` signer).
    ElfSignatureValid,
    /// A signed file (any signature status but unsigned) holds no unsigned PE file, at any
    /// depth: a container's or installer's signature does not vouch for what it carries.
    PeNoUnsignedInside,
    /// An installer payload recognised after the image lies inside what the signature covers
    /// and its files were examined.
    PeInstallerPayloadExamined,
}

impl NamedCheck {
    pub const ALL: &'static [(&'static str, NamedCheck, &'static str)] = &[
        (
            "pe-aslr",
            NamedCheck::PeAslr,
            "DYNAMIC_BASE set and relocations not stripped (an image with nothing to relocate needs no .reloc)",
        ),
        (
            "pe-high-entropy-va",
            NamedCheck::PeHighEntropyVa,
            "64-bit: HIGH_ENTROPY_VA with DYNAMIC_BASE and LARGE_ADDRESS_AWARE",
        ),
        (
            "pe-image-base-above-4gb",
            NamedCheck::PeImageBaseAbove4Gb,
            "64-bit: ImageBase above 0xFFFFFFFF",
        ),
        (
            "pe-cfg",
            NamedCheck::PeCfg,
            "GUARD_CF set and the load config carries the CFG check pointer, function table and instrumentation flags",
        ),
        (
            "pe-safe-seh",
            NamedCheck::PeSafeSeh,
            "x86: a SafeSEH handler table, or NO_SEH",
        ),
        (
            "pe-checksum",
            NamedCheck::PeChecksum,
            "OptionalHeader.CheckSum is non-zero and equals the computed checksum",
        ),
        (
            "elf-fortify",
            NamedCheck::ElfFortify,
            "at least one glibc __*_chk function imported, or no fortifiable function imported",
        ),
        (
            "elf-safe-paths",
            NamedCheck::ElfSafePaths,
            "RPATH/RUNPATH entries absolute or $ORIGIN-relative, non-empty, outside world-writable directories",
        ),
        (
            "pe-signed",
            NamedCheck::PeSigned,
            "an Authenticode signature is present and readable",
        ),
        (
            "pe-signature-valid",
            NamedCheck::PeSignatureValid,
            "the Authenticode signature verifies: image digest, signer signature, chain to a trusted code-signing root at the decisive time, no revocation",
        ),
        (
            "pe-timestamped",
            NamedCheck::PeTimestamped,
            "the primary signature carries a valid RFC 3161 or legacy timestamp",
        ),
        (
            "pe-no-sha1-only",
            NamedCheck::PeNoSha1Only,
            "at least one signature uses SHA-256 or better",
        ),
        (
            "pe-no-signature-padding",
            NamedCheck::PeNoSignaturePadding,
            "no bytes the signature does not cover: no padding inside WIN_CERTIFICATE (CVE-2013-3900), no data after the table",
        ),
        (
            "pe-signing-key-size",
            NamedCheck::PeSigningKeySize,
            "RSA signer keys are at least 2048 bits, and 3072 for certificates issued from 2021-06-01 (CA/B Forum)",
        ),
        (
            "elf-signed",
            NamedCheck::ElfSigned,
            "an ELF signature is present and readable: a .bingate.sig section or an appended kernel module signature",
        ),
        (
            "elf-signature-valid",
            NamedCheck::ElfSignatureValid,
            "the ELF signature verifies: whole-file digest, signer signature, chain to a trusted code-signing root (module signatures: a --cert signer)",
        ),
        (
            "pe-no-unsigned-inside",
            NamedCheck::PeNoUnsignedInside,
            "a signed container or installer (any signature status but unsigned) holds no unsigned PE file, at any depth",
        ),
        (
            "pe-installer-payload-examined",
            NamedCheck::PeInstallerPayloadExamined,
            "an installer payload after the image (NSIS, Inno Setup, zip self-extractor, WiX Burn) lies before the certificate table, so the signature covers it, and its files were examined",
        ),
    ];

    pub fn parse(name: &str) -> Option<NamedCheck> {
        Self::ALL
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, c, _)| *c)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, c, _)| *c == self)
            .map(|(n, _, _)| *n)
            .unwrap_or("?")
    }

    pub fn description(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, c, _)| *c == self)
            .map(|(_, _, d)| *d)
            .unwrap_or("?")
    }

    /// Does the check read the Authenticode verdict rather than hardening facts?
    pub fn needs_signature(self) -> bool {
        matches!(
            self,
            NamedCheck::PeSigned
                | NamedCheck::PeSignatureValid
                | NamedCheck::PeTimestamped
                | NamedCheck::PeNoSha1Only
                | NamedCheck::PeNoSignaturePadding
                | NamedCheck::PeSigningKeySize
                | NamedCheck::ElfSigned
                | NamedCheck::ElfSignatureValid
        )
    }

    /// Does the check read what the file holds (its container summary or installer payload)?
    pub fn reads_contents(self) -> bool {
        matches!(
            self,
            NamedCheck::PeNoUnsignedInside | NamedCheck::PeInstallerPayloadExamined
        )
    }

    /// The format a named check reads.
    pub fn format(self) -> Format {
        match self {
            NamedCheck::ElfFortify
            | NamedCheck::ElfSafePaths
            | NamedCheck::ElfSigned
            | NamedCheck::ElfSignatureValid => Format::Elf,
            _ => Format::Pe,
        }
    }
}

/// What a rule checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// A hardening fact (dotted for nested values: `fortify.unfortified`) compared with a value.
    Fact {
        fact: String,
        comparison: Comparison,
    },
    Named(NamedCheck),
    /// The SmartScreen-risk estimate is at most this level (PE files).
    RiskAtMost(crate::risk::RiskLevel),
}

/// Where a rule applies; an empty list means any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applies {
    pub format: Option<Format>,
    pub arch: Vec<String>,
    pub bits: Vec<u8>,
    pub kind: Vec<Kind>,
    pub subsystem: Vec<String>,
    pub toolchain: Vec<ToolchainName>,
}

/// Remediation text per toolchain; `default` when the detected toolchain has none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Remediation {
    pub msvc: Option<String>,
    pub mingw: Option<String>,
    pub go: Option<String>,
    pub rust: Option<String>,
    pub gcc: Option<String>,
    pub clang: Option<String>,
    pub dotnet: Option<String>,
    pub default: Option<String>,
}

impl Remediation {
    /// The advice for `toolchain`, falling back to gcc's for clang (and back), then the default.
    pub fn for_toolchain(&self, toolchain: Option<ToolchainName>) -> Option<&str> {
        let specific = match toolchain {
            Some(ToolchainName::Msvc) => self.msvc.as_ref(),
            Some(ToolchainName::Mingw) => self.mingw.as_ref(),
            Some(ToolchainName::Go) => self.go.as_ref(),
            Some(ToolchainName::Rust) => self.rust.as_ref(),
            Some(ToolchainName::Gcc) => self.gcc.as_ref().or(self.clang.as_ref()),
            Some(ToolchainName::Clang) => self.clang.as_ref().or(self.gcc.as_ref()),
            Some(ToolchainName::Dotnet) => self.dotnet.as_ref(),
            Some(ToolchainName::Unknown) | None => None,
        };
        specific.or(self.default.as_ref()).map(String::as_str)
    }

    pub fn entries(&self) -> Vec<(&'static str, &str)> {
        [
            ("msvc", &self.msvc),
            ("mingw", &self.mingw),
            ("go", &self.go),
            ("rust", &self.rust),
            ("gcc", &self.gcc),
            ("clang", &self.clang),
            ("dotnet", &self.dotnet),
            ("default", &self.default),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub level: Level,
    pub applies: Applies,
    pub check: Check,
    pub controls: Vec<String>,
    pub rationale: String,
    pub remediation: Remediation,
}

/// What a waiver matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaiverTarget {
    Path(String),
    Sha256(String),
}

/// A date (UTC calendar day), compared as (year, month, day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD` with a real calendar check.
    pub fn parse(s: &str) -> Option<Date> {
        let mut parts = s.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let (year, month, day): (u16, u8, u8) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (day >= 1 && day <= days).then_some(Date { year, month, day })
    }

    /// The UTC day of a Unix timestamp (days-from-civil inverse, Howard Hinnant's algorithm).
    // No step can overflow: secs / 86 400 < 2^48, and every later value is smaller or a bounded
    // multiple of it.
    #[allow(clippy::arithmetic_side_effects)]
    pub fn from_unix(secs: u64) -> Date {
        let z = (secs / 86_400) as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A time-limited exception to a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    pub rule: String,
    pub target: WaiverTarget,
    pub reason: String,
    pub expires: Option<Date>,
    /// Where the waiver was written (`file:line:column`), for reports.
    pub origin: String,
    /// Byte offset of the entry in its file, for diagnostics found after parsing.
    pub at: usize,
}

/// A resolved policy: `extends` applied, overrides folded in.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    pub description: String,
    /// `builtin:<name>` or the file path it was read from.
    pub source: String,
    pub rules: Vec<Rule>,
    pub waivers: Vec<Waiver>,
    /// Weights and thresholds of the SmartScreen-risk estimate (`[risk]`, inherited and merged).
    pub risk: crate::risk::Weights,
}

impl Policy {
    /// A rule that is not `off` judges the SmartScreen-risk estimate.
    pub fn judges_risk(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.level != Level::Off && matches!(r.check, Check::RiskAtMost(_)))
    }

    /// A rule judges the computed PE checksum: `pe-checksum`, or a fact rule on `checksum` or
    /// `checksum.computed`.
    pub fn judges_pe_checksum(&self) -> bool {
        self.rules.iter().any(|r| {
            r.level != Level::Off
                && match &r.check {
                    Check::Named(NamedCheck::PeChecksum) => true,
                    Check::Fact { fact, .. } => fact == "checksum" || fact == "checksum.computed",
                    _ => false,
                }
        })
    }

    /// A waiver names files by their SHA-256.
    pub fn waives_by_hash(&self) -> bool {
        self.waivers
            .iter()
            .any(|w| matches!(w.target, WaiverTarget::Sha256(_)))
    }
}

/// The outcome of one rule on one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    NotApplicable,
    Waived,
}

/// The waiver that applied to a finding (or that expired).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverRef {
    pub reason: String,
    pub expires: Option<String>,
    pub origin: String,
}

/// One rule's result for one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub level: Level,
    pub status: Status,
    pub message: String,
    pub controls: Vec<String>,
    pub remediation: Option<String>,
    pub waiver: Option<WaiverRef>,
}
