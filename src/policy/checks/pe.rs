//! The PE checks a rule can name: ASLR, high-entropy VA, ImageBase above 4 GiB, CFG, SafeSEH and
//! the optional-header checksum, each judged from the file's PE hardening facts.

use super::super::model::Status;
use crate::pe::{PeHardening, SafeSeh};

/// `pe-aslr`.
pub(super) fn pe_aslr(p: &PeHardening) -> (Status, String) {
    if !p.dynamic_base {
        return (
            Status::Fail,
            "DllCharacteristics lacks DYNAMIC_BASE (0x0040)".into(),
        );
    }
    if p.relocs_stripped {
        return (Status::Fail, "DYNAMIC_BASE is set but relocations are stripped (FileHeader RELOCS_STRIPPED 0x0001): the image cannot move".into());
    }
    if p.has_relocations {
        (
            Status::Pass,
            "DYNAMIC_BASE (0x0040) set with a base-relocation directory".into(),
        )
    } else {
        (Status::Pass, "DYNAMIC_BASE (0x0040) set and relocations not stripped; no base-relocation directory (nothing to relocate)".into())
    }
}

/// `pe-high-entropy-va` (64-bit images; the dispatcher answers for the others).
pub(super) fn pe_heva(p: &PeHardening) -> (Status, String) {
    if !p.high_entropy_va {
        return (
            Status::Fail,
            "DllCharacteristics lacks HIGH_ENTROPY_VA (0x0020)".into(),
        );
    }
    if !p.dynamic_base {
        return (
            Status::Fail,
            "HIGH_ENTROPY_VA is set without DYNAMIC_BASE (0x0040): it has no effect".into(),
        );
    }
    if !p.large_address_aware {
        return (
            Status::Fail,
            "HIGH_ENTROPY_VA is set without LARGE_ADDRESS_AWARE (0x0020): it has no effect".into(),
        );
    }
    (
        Status::Pass,
        "HIGH_ENTROPY_VA (0x0020) with DYNAMIC_BASE and LARGE_ADDRESS_AWARE".into(),
    )
}

/// `pe-image-base-above-4gb` (64-bit images; the dispatcher answers for the others).
pub(super) fn pe_image_base_above_4gb(p: &PeHardening) -> (Status, String) {
    if p.image_base > 0xffff_ffff {
        (
            Status::Pass,
            format!("ImageBase {:#x} is above 4 GiB", p.image_base),
        )
    } else {
        (
            Status::Fail,
            format!(
                "ImageBase {:#x} is below 4 GiB (OptionalHeader.ImageBase)",
                p.image_base
            ),
        )
    }
}

/// `pe-cfg`: Control Flow Guard, GUARD_CF and the load config's CFG fields.
pub(super) fn pe_cfg(p: &PeHardening) -> (Status, String) {
    match (p.guard_cf, p.cfg_instrumented) {
        (true, true) => (Status::Pass, "GUARD_CF (0x4000) set and the load config carries the CFG check pointer and function table".into()),
        (false, _) => (Status::Fail, "DllCharacteristics lacks GUARD_CF (0x4000)".into()),
        (true, false) if !p.has_load_config => (Status::Fail, "GUARD_CF (0x4000) is set but the image has no load config: the loader has nothing to enforce".into()),
        (true, false) => (Status::Fail, "GUARD_CF (0x4000) is set but the load config lacks the CFG check pointer, function table or instrumentation flags (GuardFlags 0x500)".into()),
    }
}

/// `pe-safe-seh`.
pub(super) fn pe_safe_seh(p: &PeHardening) -> (Status, String) {
    match p.safe_seh {
        SafeSeh::Table => (
            Status::Pass,
            "load config SEHandlerTable lists the image's exception handlers".into(),
        ),
        SafeSeh::NoSeh => (
            Status::Pass,
            "DllCharacteristics NO_SEH (0x0400): the image has no SEH handlers".into(),
        ),
        SafeSeh::Absent => (
            Status::Fail,
            "neither a SafeSEH handler table in the load config nor NO_SEH (0x0400)".into(),
        ),
        SafeSeh::NotApplicable => (
            Status::NotApplicable,
            "SafeSEH applies to x86 images only (others unwind by table)".into(),
        ),
    }
}

/// `pe-checksum`.
pub(super) fn pe_checksum(p: &PeHardening) -> (Status, String) {
    let c = p.checksum;
    // A run whose policy has this rule always computes the checksum (scan::check::Work): not
    // having it is a failure to check, never a pass.
    let Some(computed) = c.computed else {
        return (
            Status::Fail,
            "the checksum was not computed in this run, so it cannot be judged".into(),
        );
    };
    if c.stored == 0 {
        (
            Status::Fail,
            format!("OptionalHeader.CheckSum is 0 (computed {computed:#x})"),
        )
    } else if c.stored != computed {
        (
            Status::Fail,
            format!(
                "OptionalHeader.CheckSum {:#x} differs from the computed {computed:#x}",
                c.stored
            ),
        )
    } else {
        (
            Status::Pass,
            format!(
                "OptionalHeader.CheckSum {:#x} matches the computed checksum",
                c.stored
            ),
        )
    }
}
