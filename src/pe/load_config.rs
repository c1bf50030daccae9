//! The load configuration directory: CFG, SafeSEH, GS cookie and EH continuation data.
//!
//! The directory grows with each Windows version; a short one simply lacks the later fields,
//! which are then absent (None), not malformed.

use goblin::pe::data_directories::DataDirectory;
use goblin::pe::load_config::LoadConfigData;
use goblin::pe::options::ParseOptions;

use super::headers::{DIR_LOAD_CONFIG, PeHeaders};
use crate::budget::MAX_LOAD_CONFIG_SIZE;
use crate::error::{Error, Result};
use crate::guard::contain;
use crate::read::Bytes;

/// GuardFlags bits (winnt.h).
pub const IMAGE_GUARD_CF_INSTRUMENTED: u32 = 0x0000_0100;
pub const IMAGE_GUARD_CF_FUNCTION_TABLE_PRESENT: u32 = 0x0000_0400;
pub const IMAGE_GUARD_EH_CONTINUATION_TABLE_PRESENT: u32 = 0x0040_0000;

/// The load-config fields the checks need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadConfig {
    pub security_cookie: Option<u64>,
    pub se_handler_table: Option<u64>,
    pub se_handler_count: Option<u64>,
    pub guard_cf_check_function_pointer: Option<u64>,
    pub guard_cf_function_table: Option<u64>,
    pub guard_flags: Option<u32>,
}

impl LoadConfig {
    /// Reads the load config if the directory is present: `Ok(None)` when absent, an error
    /// (with the directory's file offset) when present but unreadable.
    ///
    /// How much of the structure is valid comes from its own `Size` field, as the Windows loader
    /// and llvm-readobj read it: linkers of the Visual Studio 2008–2012 era write 0x40 in the
    /// data directory (for Windows XP) while the structure, with its SafeSEH table, is larger.
    /// A directory size that disagrees with the structure's is reported in `notes`.
    pub fn read(
        data: &[u8],
        headers: &PeHeaders,
        notes: &mut Vec<String>,
    ) -> Result<Option<LoadConfig>> {
        let dir = headers.dir(DIR_LOAD_CONFIG);
        if !dir.present() {
            return Ok(None);
        }
        let offset = headers.rva_to_offset(dir.address);
        let Some(at) = offset else {
            return Err(Error::bad_value(
                "PE load config RVA",
                u64::from(dir.address),
                None,
            ));
        };
        let declared = Bytes::new(data, true).u32("PE load config Size", at)?;
        let size = if declared >= 4 { declared } else { dir.size };
        if u64::from(size) > MAX_LOAD_CONFIG_SIZE {
            return Err(Error::budget(
                "load config bytes",
                u64::from(size),
                MAX_LOAD_CONFIG_SIZE,
                Some(at),
            ));
        }
        if dir.size != size && dir.size != 0x40 {
            notes.push(format!(
                "load config directory size {:#x} disagrees with the structure's Size {size:#x} at offset {at:#x}; the structure's was used",
                dir.size
            ));
        }
        let dd = DataDirectory {
            virtual_address: dir.address,
            size,
        };
        let opts = ParseOptions::default();
        let parsed = contain("PE load config", offset, || {
            LoadConfigData::parse_with_opts(
                data,
                dd,
                &headers.raw_sections,
                headers.file_alignment,
                &opts,
                headers.is_64,
            )
        })?
        .map_err(|e| Error::parser("PE load config", e, offset))?;
        let d = parsed.directory;
        Ok(Some(LoadConfig {
            security_cookie: d.security_cookie,
            se_handler_table: d.se_handler_table,
            se_handler_count: d.se_handler_count,
            guard_cf_check_function_pointer: d.guard_cf_check_function_pointer,
            guard_cf_function_table: d.guard_cf_function_table,
            guard_flags: d.guard_flags,
        }))
    }

    fn flags(&self) -> u32 {
        self.guard_flags.unwrap_or(0)
    }

    /// CFG instrumentation that the loader can enforce: a check-function pointer, a function
    /// table, and GuardFlags CF_INSTRUMENTED | CF_FUNCTION_TABLE_PRESENT (BinSkim BA2008).
    pub fn cfg_instrumented(&self) -> bool {
        let need = IMAGE_GUARD_CF_INSTRUMENTED | IMAGE_GUARD_CF_FUNCTION_TABLE_PRESENT;
        self.guard_cf_check_function_pointer.unwrap_or(0) != 0
            && self.guard_cf_function_table.unwrap_or(0) != 0
            && self.flags() & need == need
    }

    pub fn ehcont(&self) -> bool {
        self.flags() & IMAGE_GUARD_EH_CONTINUATION_TABLE_PRESENT != 0
    }

    pub fn gs_cookie(&self) -> bool {
        self.security_cookie.unwrap_or(0) != 0
    }

    pub fn safe_seh_table(&self) -> bool {
        self.se_handler_table.unwrap_or(0) != 0 && self.se_handler_count.unwrap_or(0) != 0
    }
}
