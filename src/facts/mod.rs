//! Facts we own: the plain values every check, policy and report works from.
//!
//! Parsers (`pe`, `elf`) turn goblin's structures into these; nothing outside the parsers sees a
//! goblin type. The serialised names are a public contract (`docs/report-schema.md`).

use serde::{Deserialize, Serialize};

pub mod elf;
pub mod pe;

pub use elf::ElfHardening;
pub use pe::PeHardening;

/// The container format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pe,
    Elf,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pe => "pe",
            Format::Elf => "elf",
        }
    }
}

/// What the file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Executable,
    SharedLibrary,
    Object,
    /// A Windows kernel-mode driver (native subsystem, linked against the kernel).
    Driver,
    /// A native-subsystem user-mode program (smss.exe, autochk.exe).
    NativeExecutable,
    EfiApplication,
    EfiDriver,
    /// An ELF core dump.
    Core,
    /// A separate ELF debug-info file (`objcopy --only-keep-debug`, /usr/lib/debug): its
    /// loadable sections have no bytes in the file, so it is not a loadable binary and no rule
    /// judges it unless the rule names this kind.
    DebugInfo,
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Executable => "executable",
            Kind::SharedLibrary => "shared-library",
            Kind::Object => "object",
            Kind::Driver => "driver",
            Kind::NativeExecutable => "native-executable",
            Kind::EfiApplication => "efi-application",
            Kind::EfiDriver => "efi-driver",
            Kind::Core => "core",
            Kind::DebugInfo => "debug-info",
            Kind::Other => "other",
        }
    }
}

/// The toolchain that produced a binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolchainName {
    Go,
    Rust,
    Msvc,
    Mingw,
    Gcc,
    Clang,
    Dotnet,
    Unknown,
}

impl ToolchainName {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolchainName::Go => "go",
            ToolchainName::Rust => "rust",
            ToolchainName::Msvc => "msvc",
            ToolchainName::Mingw => "mingw",
            ToolchainName::Gcc => "gcc",
            ToolchainName::Clang => "clang",
            ToolchainName::Dotnet => "dotnet",
            ToolchainName::Unknown => "unknown",
        }
    }
}

/// The toolchain and the evidence that decided it.
///
/// `name` is the toolchain that produced the image (its linker and entry point), which is the one
/// whose remediation text a user sees. `components` lists other toolchains whose code was linked
/// in (a Rust static library inside an MSVC-linked C++ program: name `msvc`, components `[rust]`);
/// it is empty, never absent, when nothing else was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Toolchain {
    pub name: ToolchainName,
    pub evidence: String,
    pub components: Vec<ToolchainName>,
}

impl Toolchain {
    pub fn new(name: ToolchainName, evidence: impl Into<String>) -> Self {
        Toolchain {
            name,
            evidence: evidence.into(),
            components: Vec::new(),
        }
    }

    /// The same label with `component` recorded as linked-in code.
    pub fn with_component(mut self, component: ToolchainName) -> Self {
        if component != self.name && !self.components.contains(&component) {
            self.components.push(component);
        }
        self
    }
}

/// Format-specific mitigation facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Hardening {
    Pe(PeHardening),
    Elf(ElfHardening),
}

/// Everything the parsers learned about one binary.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryFacts {
    pub format: Format,
    /// `x86`, `x86_64`, `aarch64`, `arm`, `riscv64`…, or `machine-<n>` for machines we do not name.
    pub arch: String,
    pub bits: u8,
    pub kind: Kind,
    pub toolchain: Toolchain,
    pub hardening: Hardening,
    /// Parts that could not be read; the facts that depend on them are reported as absent.
    pub warnings: Vec<String>,
}
