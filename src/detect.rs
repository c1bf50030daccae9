//! Format sniffing: is this a PE image, an ELF file, or something to skip?

use crate::facts::Format;

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Binary(Format),
    /// Not PE or ELF: the first bytes are kept for the message.
    Other {
        magic: [u8; 4],
        len: usize,
    },
}

/// How many leading bytes [`sniff`] needs to decide (the DOS header's e_lfanew is at 0x3c).
pub const SNIFF_LEN: usize = 64;

/// [`sniff`] for a whole file already in memory.
pub fn sniff_bytes(data: &[u8]) -> Sniffed {
    sniff(data, |off| {
        let off = usize::try_from(off).ok()?;
        data.get(off..off.checked_add(4)?)?.try_into().ok()
    })
}

/// Decides from the file's head. A PE needs "MZ" and "PE\0\0" at e_lfanew; `pe_signature` is
/// asked for those 4 bytes (they may lie beyond the head).
pub fn sniff(head: &[u8], pe_signature: impl FnOnce(u64) -> Option<[u8; 4]>) -> Sniffed {
    let mut magic = [0u8; 4];
    let len = head.len().min(4);
    if let (Some(dst), Some(src)) = (magic.get_mut(..len), head.get(..len)) {
        dst.copy_from_slice(src);
    }
    if head.starts_with(b"\x7fELF") {
        return Sniffed::Binary(Format::Elf);
    }
    if head.starts_with(b"MZ") {
        if let Some(lfanew) = head.get(0x3c..0x40) {
            let mut w = [0u8; 4];
            w.copy_from_slice(lfanew);
            if pe_signature(u64::from(u32::from_le_bytes(w))) == Some(*b"PE\0\0") {
                return Sniffed::Binary(Format::Pe);
            }
        }
    }
    Sniffed::Other { magic, len }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elf_and_pe_and_other() {
        assert_eq!(
            sniff(b"\x7fELF\x02\x01", |_| None),
            Sniffed::Binary(Format::Elf)
        );
        let mut mz = vec![0u8; 64];
        mz[..2].copy_from_slice(b"MZ");
        mz[0x3c] = 0x80;
        assert_eq!(
            sniff(&mz, |off| (off == 0x80).then_some(*b"PE\0\0")),
            Sniffed::Binary(Format::Pe)
        );
        // A DOS program (MZ without a PE header) is not a PE image.
        assert!(matches!(
            sniff(&mz, |_| Some(*b"NE\0\0")),
            Sniffed::Other { .. }
        ));
        assert_eq!(
            sniff(b"#!", |_| None),
            Sniffed::Other {
                magic: *b"#!\0\0",
                len: 2
            }
        );
    }
}
