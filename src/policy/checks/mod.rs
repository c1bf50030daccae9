//! The checks a rule can run, one file per family: `pe.rs` (ASLR, high-entropy VA, ImageBase,
//! CFG, SafeSEH, checksum), `elf.rs` (FORTIFY_SOURCE, RPATH/RUNPATH), `signing.rs` (Authenticode
//! and ELF signatures), `contents.rs` (unsigned executables inside a signed container, installer
//! payloads), `risk.rs` (the SmartScreen-risk estimate) and `fact.rs` (`fact = ...`
//! comparisons). This file dispatches a rule's check to them; which rules apply to a file, waivers
//! and findings are the evaluator's (`eval.rs`).

use serde_json::Value;

use super::model::{Check, NamedCheck, Rule, Status};
use crate::facts::Hardening;

mod contents;
mod elf;
mod fact;
mod pe;
mod risk;
mod signing;

pub(crate) use contents::contents;
pub(crate) use risk::risk_at_most;
pub(crate) use signing::signing;

use elf::{elf_fortify, elf_safe_paths};
use pe::{pe_aslr, pe_cfg, pe_checksum, pe_heva, pe_image_base_above_4gb, pe_safe_seh};

/// A rule's check against the file's hardening facts (`json` is them as JSON, for `fact = ...`).
/// Signing, contents and risk checks read the file report instead; `evaluate` calls those directly.
pub(crate) fn judge(
    rule: &Rule,
    h: &Hardening,
    json: &Value,
    bits: Option<u8>,
) -> (Status, String) {
    match &rule.check {
        Check::Named(n) => named(*n, h, bits),
        // Judged from the file's estimate in `evaluate`, never from hardening facts.
        Check::RiskAtMost(_) => (
            Status::NotApplicable,
            "no SmartScreen-risk estimate in this run".into(),
        ),
        Check::Fact { fact, comparison } => fact::compare(fact, comparison, h, json),
    }
}

/// A named check, sent to its family's file by check and format.
fn named(check: NamedCheck, h: &Hardening, bits: Option<u8>) -> (Status, String) {
    let only_64 = || (Status::NotApplicable, "applies to 64-bit images".to_owned());
    match (check, h) {
        (NamedCheck::PeAslr, Hardening::Pe(p)) => pe_aslr(p),
        (NamedCheck::PeHighEntropyVa | NamedCheck::PeImageBaseAbove4Gb, Hardening::Pe(_))
            if bits != Some(64) =>
        {
            only_64()
        }
        (NamedCheck::PeHighEntropyVa, Hardening::Pe(p)) => pe_heva(p),
        (NamedCheck::PeImageBaseAbove4Gb, Hardening::Pe(p)) => pe_image_base_above_4gb(p),
        (NamedCheck::PeCfg, Hardening::Pe(p)) => pe_cfg(p),
        (NamedCheck::PeSafeSeh, Hardening::Pe(p)) => pe_safe_seh(p),
        (NamedCheck::PeChecksum, Hardening::Pe(p)) => pe_checksum(p),
        (NamedCheck::ElfFortify, Hardening::Elf(e)) => elf_fortify(e),
        (NamedCheck::ElfSafePaths, Hardening::Elf(e)) => elf_safe_paths(e),
        (c, _) => (
            Status::NotApplicable,
            format!("{} applies to {} files", c.name(), c.format().as_str()),
        ),
    }
}
