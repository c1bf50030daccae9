//! Authenticode signatures of cabinets: a PKCS#7 SignedData appended to the file, found through
//! the 20-byte reserved header area (`cbCFHeader` = 20, `abReserve` = 0x00100000, then the
//! signature's offset and size at 44 and 48).
//!
//! The signed digest covers the header without the fields a signer rewrites: bytes 0..4 (the
//! signature), 8..34 (cbCabinet to setID; reserved1 and iCabinet/cbCFHeader/the reserve fields
//! 34..56 are skipped), then everything from 56 up to the signature: the end of the reserve,
//! the previous/next cabinet names, the CFFOLDER entries (after which the CFFILE table must
//! start), the files and the data blocks. (Learned from osslsigncode's `cab.c`.)

use super::msi::hasher;
use super::verify::{self, Source};
use crate::cms::verdict::{SignatureVerdict, VerifyEnv};
use crate::hash::DigestAlg;
use crate::read::Bytes;

/// SpcIndirectDataContent types a CAB signature may carry: the CAB data type (what signtool and
/// osslsigncode write) and SpcPeImageData (older signers).
pub const CAB_CONTENT_OIDS: [&str; 2] = ["1.3.6.1.4.1.311.2.1.25", "1.3.6.1.4.1.311.2.1.15"];

const FLAG_PREV_CABINET: u16 = 0x0001;
const FLAG_NEXT_CABINET: u16 = 0x0002;
const FLAG_RESERVE_PRESENT: u16 = 0x0004;

/// Where a cabinet's signature is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureLocation {
    pub offset: u64,
    pub size: u64,
}

/// The signature's place from the reserved header: `Ok(None)` for an unsigned cabinet.
pub fn signature_location(data: &[u8]) -> Result<Option<SignatureLocation>, String> {
    let b = Bytes::new(data, true);
    let e = |e: crate::error::Error| e.to_string();
    if b.get("cabinet signature", 0, 4).map_err(e)? != b"MSCF" {
        return Err("not a cabinet (no MSCF signature)".into());
    }
    let flags = b.u16("flags", 30).map_err(e)?;
    if flags & FLAG_RESERVE_PRESENT == 0 {
        return Ok(None);
    }
    let header = b.u16("cbCFHeader", 36).map_err(e)?;
    if header != 20 || b.u32("abReserve", 40).map_err(e)? != 0x0010_0000 {
        // A reserve of another shape carries no Authenticode signature.
        return Ok(None);
    }
    let offset = u64::from(b.u32("signature offset", 44).map_err(e)?);
    let size = u64::from(b.u32("signature size", 48).map_err(e)?);
    if offset == 0 && size == 0 {
        return Ok(None);
    }
    let len = b.len();
    if offset == 0 || size == 0 || offset.checked_add(size) != Some(len) {
        return Err(format!(
            "the reserved header places the signature at {offset} for {size} bytes; the file \
             has {len} (it must end the file)"
        ));
    }
    Ok(Some(SignatureLocation { offset, size }))
}

/// The digest a CAB signature with `alg` signs (see the module doc).
pub fn cab_digest(data: &[u8], sig: SignatureLocation, alg: DigestAlg) -> Result<Vec<u8>, String> {
    let b = Bytes::new(data, true);
    let e = |e: crate::error::Error| e.to_string();
    let mut h = hasher(alg)?;
    h.update(b.get("header", 0, 4).map_err(e)?);
    h.update(b.get("header", 8, 26).map_err(e)?);
    let files_at = u64::from(b.u32("coffFiles", 16).map_err(e)?);
    let nfolders = u64::from(b.u16("cFolders", 26).map_err(e)?);
    let flags = b.u16("flags", 30).map_err(e)?;
    let end = sig.offset;
    // Names of the previous and next cabinets, then 8 bytes per CFFOLDER (the signer's reserve
    // per folder is 0): the CFFILE table must follow.
    let mut at = 60u64;
    for flag in [FLAG_PREV_CABINET, FLAG_NEXT_CABINET] {
        if flags & flag != 0 {
            for _ in 0..2 {
                let s = b.cstr_bytes("cabinet name", at, 256).map_err(e)?;
                at = at.saturating_add(s.len() as u64).saturating_add(1);
            }
        }
    }
    at = at.saturating_add(nfolders.saturating_mul(8));
    if at != files_at {
        return Err(format!(
            "the CFFILE table should start at {at} after the header and folders; coffFiles says \
             {files_at}"
        ));
    }
    let rest = b
        .get("signed bytes", 56, end.saturating_sub(56))
        .map_err(e)?;
    crate::hash::feed(rest, |step| h.update(step));
    Ok(h.finalize().to_vec())
}

/// Verifies the Authenticode signature of a cabinet.
pub fn verify_cab(data: &[u8], env: &VerifyEnv<'_>) -> SignatureVerdict {
    let loc = match signature_location(data) {
        Ok(Some(l)) => l,
        Ok(None) => {
            return SignatureVerdict::unsigned("no signature in the cabinet's reserved header");
        }
        Err(e) => return verify::malformed(e),
    };
    let Some(der) = data.get(
        usize::try_from(loc.offset).unwrap_or(usize::MAX)
            ..usize::try_from(loc.offset.saturating_add(loc.size)).unwrap_or(usize::MAX),
    ) else {
        return verify::malformed("the signature lies outside the file".into());
    };
    let digest = |alg: DigestAlg, content_type: Option<&str>| -> Result<Vec<u8>, String> {
        if let Some(t) = content_type.filter(|t| !CAB_CONTENT_OIDS.contains(t)) {
            return Err(format!(
                "the signed content's type is {t}, not a cabinet's: it is not a CAB signature"
            ));
        }
        cab_digest(data, loc, alg)
    };
    verify::verify_detached(der, Source::Digest(&digest), env)
}
