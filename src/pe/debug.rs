//! The debug directory, read for IMAGE_DEBUG_TYPE_EX_DLLCHARACTERISTICS (CET shadow stack).
//!
//! Read with our own checked reader rather than goblin's `DebugData`, which rejects the whole
//! directory when any CodeView or POGO entry is odd; only the type-20 entry matters here.

use super::headers::{DIR_DEBUG, PeHeaders};
use crate::budget::MAX_DEBUG_ENTRIES;
use crate::error::{Error, Result};
use crate::read::Bytes;

const IMAGE_DEBUG_TYPE_EX_DLLCHARACTERISTICS: u32 = 20;
const IMAGE_DLLCHARACTERISTICS_EX_CET_COMPAT: u32 = 0x1;
const SIZEOF_DEBUG_DIRECTORY: u64 = 28;

/// `Some(bits)` of the extended DLL characteristics when the image has a type-20 entry.
pub fn ex_dll_characteristics(bytes: Bytes<'_>, headers: &PeHeaders) -> Result<Option<u32>> {
    let dir = headers.dir(DIR_DEBUG);
    if !dir.present() {
        return Ok(None);
    }
    let Some(start) = headers.rva_to_offset(dir.address) else {
        return Err(Error::bad_value(
            "PE debug directory RVA",
            u64::from(dir.address),
            None,
        ));
    };
    let count = u64::from(dir.size) / SIZEOF_DEBUG_DIRECTORY;
    if count > MAX_DEBUG_ENTRIES {
        return Err(Error::budget(
            "PE debug directory entries",
            count,
            MAX_DEBUG_ENTRIES,
            Some(start),
        ));
    }
    let table = bytes.sub(
        "PE debug directory",
        start,
        count.saturating_mul(SIZEOF_DEBUG_DIRECTORY),
    )?;
    for i in 0..count {
        let entry = i.saturating_mul(SIZEOF_DEBUG_DIRECTORY);
        let kind = table.u32("PE debug directory entry", entry.saturating_add(12))?;
        if kind != IMAGE_DEBUG_TYPE_EX_DLLCHARACTERISTICS {
            continue;
        }
        let size = table.u32("PE debug directory entry", entry.saturating_add(16))?;
        let ptr = table.u32("PE debug directory entry", entry.saturating_add(24))?;
        if size < 4 {
            return Err(Error::bad_value(
                "EX_DLLCHARACTERISTICS size",
                u64::from(size),
                start.checked_add(entry),
            ));
        }
        return Ok(Some(
            bytes.u32("EX_DLLCHARACTERISTICS data", u64::from(ptr))?,
        ));
    }
    Ok(None)
}

pub fn cet_compat(ex: Option<u32>) -> bool {
    ex.is_some_and(|bits| bits & IMAGE_DLLCHARACTERISTICS_EX_CET_COMPAT != 0)
}
