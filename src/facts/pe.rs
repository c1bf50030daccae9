//! The PE hardening facts, one field per mitigation (names are the public contract); `crate::pe`
//! derives them from the headers.

use serde::{Deserialize, Serialize};

/// SafeSEH state (x86 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SafeSeh {
    /// Load config has an SEHandlerTable with at least one handler.
    Table,
    /// IMAGE_DLLCHARACTERISTICS_NO_SEH: the image uses no structured exception handlers.
    NoSeh,
    /// x86 image with neither: exception handlers are not validated.
    Absent,
    /// Not x86: exception handling is table-based and SafeSEH does not apply.
    NotApplicable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    pub stored: u32,
    /// The checksum of the file's bytes: one pass over the file, so computed only when the run
    /// shows or judges it (JSON, the risk estimate, a policy rule on it); `None` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed: Option<u32>,
}

impl Checksum {
    /// The stored value is set and equals the computed one (`None`: not computed).
    pub fn matches(&self) -> Option<bool> {
        self.computed.map(|c| self.stored != 0 && self.stored == c)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeHardening {
    pub dynamic_base: bool,
    pub relocs_stripped: bool,
    /// True only for PE32+ images (the flag means nothing in a 32-bit image).
    pub high_entropy_va: bool,
    pub large_address_aware: bool,
    pub image_base: u64,
    pub nx_compat: bool,
    pub guard_cf: bool,
    pub cfg_instrumented: bool,
    pub ehcont: bool,
    pub cet_compat: bool,
    pub safe_seh: SafeSeh,
    pub gs_cookie: bool,
    pub force_integrity: bool,
    pub isolation: bool,
    pub appcontainer: bool,
    pub dotnet: bool,
    pub has_load_config: bool,
    pub wx_sections: Vec<String>,
    pub shared_writable_sections: Vec<String>,
    pub executable_imports: bool,
    pub checksum: Checksum,
    pub subsystem: String,
    pub has_signature: bool,
    /// A base-relocation directory is present (ASLR can actually move the image).
    pub has_relocations: bool,
}
