//! The PE hardening facts, one field per mitigation (names are the public contract).

pub use crate::facts::pe::{Checksum, PeHardening, SafeSeh};

use super::debug::cet_compat;
use super::headers::{
    DIR_BASERELOC, DIR_SECURITY, IMAGE_FILE_LARGE_ADDRESS_AWARE, IMAGE_FILE_RELOCS_STRIPPED,
    IMAGE_SCN_MEM_EXECUTE, IMAGE_SCN_MEM_SHARED, IMAGE_SCN_MEM_WRITE, PeHeaders,
};
use super::load_config::LoadConfig;
use super::{checksum, imports, subsystem_name};

/// IMAGE_DLLCHARACTERISTICS_* bits.
const HIGH_ENTROPY_VA: u16 = 0x0020;
const DYNAMIC_BASE: u16 = 0x0040;
const FORCE_INTEGRITY: u16 = 0x0080;
const NX_COMPAT: u16 = 0x0100;
const NO_ISOLATION: u16 = 0x0200;
const NO_SEH: u16 = 0x0400;
const APPCONTAINER: u16 = 0x1000;
const GUARD_CF: u16 = 0x4000;

const MACHINE_I386: u16 = 0x014c;

pub(super) fn derive(
    data: &[u8],
    h: &PeHeaders,
    lc: Option<&LoadConfig>,
    ex_dll: Option<u32>,
    dotnet: bool,
    want_checksum: bool,
) -> PeHardening {
    let flag = |f| h.has_dll_characteristic(f);
    let sections_with = |flags: u32| -> Vec<String> {
        h.sections
            .iter()
            .filter(|s| s.has(flags))
            .map(|s| s.name.clone())
            .collect()
    };
    let safe_seh = if h.machine != MACHINE_I386 {
        SafeSeh::NotApplicable
    } else if flag(NO_SEH) {
        SafeSeh::NoSeh
    } else if lc.is_some_and(LoadConfig::safe_seh_table) {
        SafeSeh::Table
    } else {
        SafeSeh::Absent
    };
    PeHardening {
        dynamic_base: flag(DYNAMIC_BASE),
        relocs_stripped: h.has_characteristic(IMAGE_FILE_RELOCS_STRIPPED),
        high_entropy_va: h.is_64 && flag(HIGH_ENTROPY_VA),
        large_address_aware: h.has_characteristic(IMAGE_FILE_LARGE_ADDRESS_AWARE),
        image_base: h.image_base,
        nx_compat: flag(NX_COMPAT),
        guard_cf: flag(GUARD_CF),
        cfg_instrumented: lc.is_some_and(LoadConfig::cfg_instrumented),
        ehcont: lc.is_some_and(LoadConfig::ehcont),
        cet_compat: cet_compat(ex_dll),
        safe_seh,
        gs_cookie: lc.is_some_and(LoadConfig::gs_cookie),
        force_integrity: flag(FORCE_INTEGRITY),
        isolation: !flag(NO_ISOLATION),
        appcontainer: flag(APPCONTAINER),
        dotnet,
        has_load_config: lc.is_some(),
        wx_sections: sections_with(IMAGE_SCN_MEM_WRITE | IMAGE_SCN_MEM_EXECUTE),
        shared_writable_sections: sections_with(IMAGE_SCN_MEM_SHARED | IMAGE_SCN_MEM_WRITE),
        executable_imports: imports::in_executable_section(h),
        checksum: Checksum {
            stored: h.checksum,
            computed: want_checksum.then(|| checksum::compute(data, h.checksum_offset)),
        },
        subsystem: subsystem_name(h.subsystem),
        has_signature: h.dir(DIR_SECURITY).present(),
        has_relocations: h.dir(DIR_BASERELOC).present(),
    }
}
