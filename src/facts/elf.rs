//! The ELF hardening facts, one field per mitigation (names are the public contract); `crate::elf`
//! derives them from the headers.

use serde::{Deserialize, Serialize};

/// PIE status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pie {
    /// ET_DYN with an interpreter, or DF_1_PIE.
    Pie,
    /// ET_DYN shared object.
    Dso,
    /// ET_EXEC: loaded at a fixed address.
    No,
    /// ET_REL relocatable object.
    Rel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relro {
    Full,
    Partial,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fortify {
    /// Distinct glibc `__*_chk` functions used.
    pub fortified: u64,
    /// Distinct plain functions used that have a `__*_chk` counterpart.
    pub unfortified: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElfHardening {
    pub pie: Pie,
    pub nx: bool,
    pub relro: Relro,
    pub bind_now: bool,
    pub canary: bool,
    pub fortify: Fortify,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    pub stripped: bool,
    pub textrel: bool,
    pub wx_segments: bool,
    pub ibt: bool,
    pub shstk: bool,
    pub bti: bool,
    pub pac: bool,
    #[serde(rename = "static")]
    pub is_static: bool,
    pub interpreter: Option<String>,
    pub safestack: bool,
    pub clang_cfi: bool,
}
