//! The dictionaries an xz file asks for, read from its index before anything is decoded.
//!
//! An LZMA2 block header declares its dictionary size (up to 4 GiB), and the decoder
//! (lzma-rust2) allocates that much as soon as it meets the block. A hostile header would
//! make one small file cost gigabytes, so every block header is read first, located through
//! each stream's footer and index (xz file format 1.2.0, sections 2.1.2, 3.1 and 4), and a
//! file whose dictionaries exceed [`crate::budget::MAX_XZ_DICTIONARY`] is refused. The walk
//! is backwards from the end, one stream at a time, and linear in the file's size; a file
//! whose footer or index cannot be read (a truncated download) is refused too, since its
//! blocks cannot be checked before they are decoded.

use crate::error::Error;
use crate::read::Bytes;

const STREAM_HEADER_MAGIC: &[u8] = b"\xfd7zXZ\x00";
const FOOTER_MAGIC: &[u8] = b"YZ";
/// Stream header and footer length.
const HEADER_LEN: u64 = 12;
/// The LZMA2 filter id.
const LZMA2: u64 = 0x21;

/// The largest dictionary any block of the xz file `data` declares, or why the file cannot be
/// checked. Filters other than LZMA2 (BCJ, delta) declare none.
pub fn max_dictionary(data: &[u8]) -> Result<u64, Error> {
    let b = Bytes::new(data, true);
    let mut end = data.len() as u64;
    let mut max = 0u64;
    let mut streams = 0u64;
    loop {
        // Stream padding: zero bytes in groups of four.
        while end >= 4 && b.get("xz stream padding", end.saturating_sub(4), 4)? == [0u8; 4] {
            end = end.saturating_sub(4);
        }
        if end == 0 && streams > 0 {
            return Ok(max);
        }
        let footer = end
            .checked_sub(HEADER_LEN)
            .ok_or_else(|| malformed("no stream footer (the file is truncated)", end))?;
        if b.get("xz stream footer", footer.saturating_add(10), 2)? != FOOTER_MAGIC {
            return Err(malformed(
                "no stream footer magic at the end (the file is truncated or has trailing data)",
                footer,
            ));
        }
        let backward = u64::from(b.u32("xz backward size", footer.saturating_add(4))?);
        let index_len = backward
            .checked_add(1)
            .and_then(|v| v.checked_mul(4))
            .ok_or_else(|| malformed("backward size overflows", footer))?;
        let index = footer
            .checked_sub(index_len)
            .ok_or_else(|| malformed("the index starts before the file", footer))?;
        let blocks = read_index(&b, index, index_len)?;
        let blocks_len = blocks
            .iter()
            .try_fold(0u64, |acc, &unpadded| acc.checked_add(round4(unpadded)?));
        let stream = blocks_len
            .and_then(|l| index.checked_sub(l))
            .and_then(|s| s.checked_sub(HEADER_LEN))
            .ok_or_else(|| malformed("the blocks the index lists start before the file", index))?;
        if b.get("xz stream header", stream, 6)? != STREAM_HEADER_MAGIC {
            return Err(malformed("no stream header where the index says", stream));
        }
        let mut at = stream.saturating_add(HEADER_LEN);
        for unpadded in blocks {
            max = max.max(block_dictionary(&b, at)?);
            at = at.saturating_add(round4(unpadded).unwrap_or(u64::MAX));
        }
        streams = streams.saturating_add(1);
        end = stream;
        if end == 0 {
            return Ok(max);
        }
    }
}

/// The unpadded sizes of the blocks an index lists.
fn read_index(b: &Bytes<'_>, index: u64, len: u64) -> Result<Vec<u64>, Error> {
    if b.u8("xz index indicator", index)? != 0 {
        return Err(malformed(
            "the index does not start with its indicator",
            index,
        ));
    }
    let end = index.saturating_add(len);
    let mut at = index.saturating_add(1);
    let count = varint(b, &mut at, end)?;
    // Each record takes at least two bytes of the index: a count past that is a lie.
    if count > len / 2 {
        return Err(malformed(
            "the index lists more records than it has bytes",
            index,
        ));
    }
    let mut out = Vec::new();
    for _ in 0..count {
        let unpadded = varint(b, &mut at, end)?;
        let _uncompressed = varint(b, &mut at, end)?;
        out.push(unpadded);
    }
    Ok(out)
}

/// The dictionary size the block header at `at` declares for its LZMA2 filter (0 without one).
fn block_dictionary(b: &Bytes<'_>, at: u64) -> Result<u64, Error> {
    let size_byte = b.u8("xz block header size", at)?;
    if size_byte == 0 {
        return Err(malformed(
            "an index indicator where a block header belongs",
            at,
        ));
    }
    let header_len = (u64::from(size_byte).saturating_add(1)).saturating_mul(4);
    let end = at.saturating_add(header_len);
    let flags = b.u8("xz block flags", at.saturating_add(1))?;
    let mut p = at.saturating_add(2);
    if flags & 0x40 != 0 {
        varint(b, &mut p, end)?;
    }
    if flags & 0x80 != 0 {
        varint(b, &mut p, end)?;
    }
    let mut dict = 0;
    for _ in 0..=(flags & 0x03) {
        let id = varint(b, &mut p, end)?;
        let props_len = varint(b, &mut p, end)?;
        if id == LZMA2 {
            if props_len != 1 {
                return Err(malformed("LZMA2 filter properties are not one byte", p));
            }
            dict = lzma2_dictionary(b.u8("xz LZMA2 dictionary", p)?)
                .ok_or_else(|| malformed("LZMA2 dictionary size byte past 40", p))?;
        }
        p = p
            .checked_add(props_len)
            .filter(|q| *q <= end)
            .ok_or_else(|| malformed("filter properties run past the block header", p))?;
    }
    Ok(dict)
}

/// LZMA2's dictionary size byte (xz file format 5.3.1): 2 or 3 times a power of two from 4 KiB,
/// 40 meaning 4 GiB - 1.
fn lzma2_dictionary(byte: u8) -> Option<u64> {
    match byte {
        40 => Some(u64::from(u32::MAX)),
        0..=39 => Some((2 | u64::from(byte & 1)) << (u32::from(byte / 2) + 11)),
        _ => None,
    }
}

/// A multibyte integer (xz file format 1.2): seven bits a byte, at most nine bytes, within
/// `end`.
fn varint(b: &Bytes<'_>, at: &mut u64, end: u64) -> Result<u64, Error> {
    let mut value = 0u64;
    for i in 0..9u32 {
        if *at >= end {
            return Err(malformed("a number runs past its structure", *at));
        }
        let byte = b.u8("xz number", *at)?;
        *at = at.saturating_add(1);
        value |= u64::from(byte & 0x7f)
            .checked_shl(i.saturating_mul(7))
            .unwrap_or(0);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(malformed("a number longer than nine bytes", *at))
}

fn round4(n: u64) -> Option<u64> {
    n.checked_add(3).map(|v| v & !3)
}

fn malformed(what: &'static str, offset: u64) -> Error {
    Error::parser("xz index", what, Some(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `xz -9` of a few bytes (64 MiB dictionary), made with xz-utils 5.4.1.
    fn xz9(payload: &[u8]) -> Option<Vec<u8>> {
        use std::io::Write;
        let mut child = std::process::Command::new("xz")
            .args(["-9", "-c", "-T1"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(payload).ok()?;
        let out = child.wait_with_output().ok()?;
        Some(out.stdout)
    }

    #[test]
    fn dictionary_bytes_decode_as_the_format_says() {
        assert_eq!(lzma2_dictionary(0), Some(4096));
        assert_eq!(lzma2_dictionary(1), Some(6144));
        assert_eq!(lzma2_dictionary(2), Some(8192));
        assert_eq!(lzma2_dictionary(36), Some(1 << 30));
        assert_eq!(lzma2_dictionary(28), Some(64 << 20));
        assert_eq!(lzma2_dictionary(40), Some(u64::from(u32::MAX)));
        assert_eq!(lzma2_dictionary(41), None);
    }

    #[test]
    fn the_fixture_asks_for_xz_9s_dictionary_and_a_lie_is_found() {
        let data = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/corpus/containers/bins.tar.xz"
        ))
        .expect("fixture");
        assert_eq!(max_dictionary(&data).expect("readable"), 64 << 20);
        // The first block header's dictionary byte: stream header (12), size, flags, filter id
        // 0x21, properties size 1, then the byte.
        let mut lie = data.clone();
        assert_eq!(&lie[14..16], &[0x21, 0x01]);
        lie[16] = 40;
        assert_eq!(max_dictionary(&lie).expect("readable"), u64::from(u32::MAX));
        // Truncated: no footer, refused.
        assert!(max_dictionary(&data[..data.len() / 2]).is_err());
        // Every prefix is refused or read, never a panic.
        for cut in 0..data.len() {
            let _ = max_dictionary(&data[..cut]);
        }
    }

    #[test]
    fn concatenated_streams_and_padding_are_all_read() {
        let Some(one) = xz9(b"first") else {
            return;
        };
        let mut two = one.clone();
        two.extend_from_slice(&[0u8; 8]);
        two.extend_from_slice(&one);
        assert_eq!(max_dictionary(&two).expect("readable"), 64 << 20);
    }
}
