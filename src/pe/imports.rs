//! The import directory: where it lives (BinSkim BA2010) and which modules it names.
//!
//! Only the descriptors' module names are read (to tell a kernel driver from a native user-mode
//! program); thunks and hint/name tables are not touched.

use super::headers::{DIR_IMPORT, IMAGE_SCN_MEM_EXECUTE, PeHeaders};
use crate::budget::{MAX_IMPORT_DESCRIPTORS, MAX_STRING_LEN};
use crate::error::{Error, Result};
use crate::read::Bytes;

const SIZEOF_IMPORT_DESCRIPTOR: u64 = 20;

/// Is the import directory inside an executable section?
pub fn in_executable_section(headers: &PeHeaders) -> bool {
    let dir = headers.dir(DIR_IMPORT);
    dir.present()
        && headers
            .section_of(dir.address)
            .is_some_and(|s| s.has(IMAGE_SCN_MEM_EXECUTE))
}

/// The module names of the import descriptors, lower-cased.
pub fn module_names(bytes: Bytes<'_>, headers: &PeHeaders) -> Result<Vec<String>> {
    let dir = headers.dir(DIR_IMPORT);
    if !dir.present() {
        return Ok(Vec::new());
    }
    let start = headers
        .rva_to_offset(dir.address)
        .ok_or_else(|| Error::bad_value("PE import directory RVA", u64::from(dir.address), None))?;
    let mut names = Vec::new();
    for i in 0..MAX_IMPORT_DESCRIPTORS {
        let at = start.saturating_add(i.saturating_mul(SIZEOF_IMPORT_DESCRIPTOR));
        let desc = bytes.sub("PE import descriptor", at, SIZEOF_IMPORT_DESCRIPTOR)?;
        let name_rva = desc.u32("PE import descriptor", 12)?;
        let first_thunk = desc.u32("PE import descriptor", 16)?;
        if name_rva == 0 && first_thunk == 0 {
            return Ok(names);
        }
        let name_off = headers.rva_to_offset(name_rva).ok_or_else(|| {
            Error::bad_value("PE import module name RVA", u64::from(name_rva), Some(at))
        })?;
        names.push(
            bytes
                .cstr("PE import module name", name_off, MAX_STRING_LEN)?
                .to_ascii_lowercase(),
        );
    }
    Err(Error::budget(
        "PE import descriptors",
        MAX_IMPORT_DESCRIPTORS.saturating_add(1),
        MAX_IMPORT_DESCRIPTORS,
        Some(start),
    ))
}
