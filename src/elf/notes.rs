//! GNU property notes (`.note.gnu.property`): x86 IBT/SHSTK and AArch64 BTI/PAC markings.

use super::headers::{ElfHeaders, PT_GNU_PROPERTY, PT_NOTE, SHT_NOTE};
use crate::budget::{MAX_GNU_PROPERTIES, MAX_NOTES};
use crate::error::{Error, Result};
use crate::read::Bytes;

const NT_GNU_PROPERTY_TYPE_0: u32 = 5;
const GNU_PROPERTY_AARCH64_FEATURE_1_AND: u32 = 0xc000_0000;
const GNU_PROPERTY_X86_FEATURE_1_AND: u32 = 0xc000_0002;

/// Feature bits, by architecture family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Features {
    /// GNU_PROPERTY_X86_FEATURE_1_AND.
    pub x86: u32,
    /// GNU_PROPERTY_AARCH64_FEATURE_1_AND.
    pub aarch64: u32,
}

/// Reads the property notes from PT_GNU_PROPERTY / PT_NOTE segments, or, for files without
/// program headers (relocatable objects), from SHT_NOTE sections.
pub fn read(data: &[u8], h: &ElfHeaders) -> Result<Features> {
    let bytes = h.bytes(data);
    let mut out = Features::default();
    let mut budget = MAX_NOTES;
    let regions: Vec<(u64, u64, u64)> = if !h.segments.is_empty() {
        let prop = h.segment(PT_GNU_PROPERTY);
        h.segments
            .iter()
            .filter(|s| match prop {
                Some(p) => s == &p,
                None => s.p_type == PT_NOTE,
            })
            .map(|s| (s.offset, s.filesz, s.align))
            .collect()
    } else {
        h.sections_of_type(SHT_NOTE)
            .map(|s| (s.offset, s.size, if h.is_64 { 8 } else { 4 }))
            .collect()
    };
    for (offset, size, align) in regions {
        let region = bytes.sub("ELF note segment", offset, size)?;
        walk_notes(region, offset, align, h.is_64, &mut budget, &mut out)?;
    }
    Ok(out)
}

fn align_up(v: u64, align: u64) -> Option<u64> {
    let mask = align.checked_sub(1)?;
    Some(v.checked_add(mask)? & !mask)
}

fn walk_notes(
    region: Bytes<'_>,
    base: u64,
    align: u64,
    is_64: bool,
    budget: &mut u64,
    out: &mut Features,
) -> Result<()> {
    let align = if align == 8 { 8 } else { 4 };
    let mut at = 0u64;
    while at.saturating_add(12) <= region.len() {
        *budget = budget.checked_sub(1).ok_or_else(|| {
            Error::budget(
                "ELF notes",
                MAX_NOTES.saturating_add(1),
                MAX_NOTES,
                base.checked_add(at),
            )
        })?;
        let namesz = u64::from(region.u32("ELF note header", at)?);
        let descsz = u64::from(region.u32("ELF note header", at.saturating_add(4))?);
        let n_type = region.u32("ELF note header", at.saturating_add(8))?;
        let name_at = at.saturating_add(12);
        let name = region.get("ELF note name", name_at, namesz)?;
        let desc_at = align_up(name_at.saturating_add(namesz), align)
            .ok_or_else(|| Error::bad_value("ELF note name size", namesz, base.checked_add(at)))?;
        let desc = region.sub("ELF note descriptor", desc_at, descsz)?;
        if name == b"GNU\0" && n_type == NT_GNU_PROPERTY_TYPE_0 {
            read_properties(desc, base.saturating_add(desc_at), is_64, out)?;
        }
        at = align_up(desc_at.saturating_add(descsz), align)
            .ok_or_else(|| Error::bad_value("ELF note size", descsz, base.checked_add(at)))?;
    }
    Ok(())
}

fn read_properties(desc: Bytes<'_>, base: u64, is_64: bool, out: &mut Features) -> Result<()> {
    let pad = if is_64 { 8 } else { 4 };
    let mut at = 0u64;
    let mut n = 0u64;
    while at.saturating_add(8) <= desc.len() {
        n = n.saturating_add(1);
        if n > MAX_GNU_PROPERTIES {
            return Err(Error::budget(
                "GNU properties",
                n,
                MAX_GNU_PROPERTIES,
                base.checked_add(at),
            ));
        }
        let pr_type = desc.u32("GNU property", at)?;
        let datasz = u64::from(desc.u32("GNU property", at.saturating_add(4))?);
        let data_at = at.saturating_add(8);
        if (pr_type == GNU_PROPERTY_X86_FEATURE_1_AND
            || pr_type == GNU_PROPERTY_AARCH64_FEATURE_1_AND)
            && datasz >= 4
        {
            let bits = desc.u32("GNU property data", data_at)?;
            if pr_type == GNU_PROPERTY_X86_FEATURE_1_AND {
                out.x86 |= bits;
            } else {
                out.aarch64 |= bits;
            }
        } else {
            desc.get("GNU property data", data_at, datasz)?;
        }
        at = align_up(data_at.saturating_add(datasz), pad)
            .ok_or_else(|| Error::bad_value("GNU property size", datasz, base.checked_add(at)))?;
    }
    Ok(())
}
