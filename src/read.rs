//! The one bounds-checked reader every parser goes through.
//!
//! Offsets and lengths that come from a file are never used to index a slice directly: they go
//! through [`Bytes::get`] and friends, which return a typed [`Error`] naming the structure, the
//! offset and how many bytes were wanted and available. (After rustls `msgs/codec.rs` `Reader` and
//! object `read/read_ref.rs`.)

use crate::error::{Error, Result};

/// Lower-case hex of `bytes`, no separators: digests, serials and fingerprints in reports.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            // A nibble is below 16: always a digit.
            s.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}

/// UTF-16 text (`little_endian` or big-endian code units), decoded lossily; an odd trailing byte
/// is ignored. Manifests, version strings, trust lists, Zone.Identifier files and SpcString
/// program names all come in UTF-16.
pub fn utf16_lossy(bytes: &[u8], little_endian: bool) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| {
            let pair = [
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ];
            if little_endian {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        })
        .collect();
    String::from_utf16_lossy(&units)
}

/// A view of a file's bytes with checked accessors. `le` selects the byte order of integer reads.
#[derive(Clone, Copy)]
pub struct Bytes<'a> {
    data: &'a [u8],
    le: bool,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8], little_endian: bool) -> Self {
        Bytes {
            data,
            le: little_endian,
        }
    }

    pub fn len(&self) -> u64 {
        self.data.len() as u64
    }

    pub fn as_slice(&self) -> &'a [u8] {
        self.data
    }

    /// `len` bytes at `offset`, or a `Truncated` error naming `what`.
    pub fn get(&self, what: &'static str, offset: u64, len: u64) -> Result<&'a [u8]> {
        let available = self.len().saturating_sub(offset);
        let end = offset
            .checked_add(len)
            .ok_or_else(|| Error::bad_value(what, len, Some(offset)))?;
        let (Ok(start), Ok(end)) = (usize::try_from(offset), usize::try_from(end)) else {
            return Err(Error::truncated(what, offset, len, available));
        };
        self.data
            .get(start..end)
            .ok_or_else(|| Error::truncated(what, offset, len, available))
    }

    /// A sub-view of `len` bytes at `offset`, keeping the byte order.
    pub fn sub(&self, what: &'static str, offset: u64, len: u64) -> Result<Bytes<'a>> {
        Ok(Bytes::new(self.get(what, offset, len)?, self.le))
    }

    pub fn u8(&self, what: &'static str, offset: u64) -> Result<u8> {
        let b = self.get(what, offset, 1)?;
        Ok(b.first().copied().unwrap_or_default())
    }

    pub fn u16(&self, what: &'static str, offset: u64) -> Result<u16> {
        let b: [u8; 2] = self.array(what, offset)?;
        Ok(if self.le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    pub fn u32(&self, what: &'static str, offset: u64) -> Result<u32> {
        let b: [u8; 4] = self.array(what, offset)?;
        Ok(if self.le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    pub fn u64(&self, what: &'static str, offset: u64) -> Result<u64> {
        let b: [u8; 8] = self.array(what, offset)?;
        Ok(if self.le {
            u64::from_le_bytes(b)
        } else {
            u64::from_be_bytes(b)
        })
    }

    fn array<const N: usize>(&self, what: &'static str, offset: u64) -> Result<[u8; N]> {
        let b = self.get(what, offset, N as u64)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// The bytes of a NUL-terminated string at `offset` (without the terminator), borrowed.
    pub fn cstr_bytes(&self, what: &'static str, offset: u64, max: u64) -> Result<&'a [u8]> {
        let available = self.len().saturating_sub(offset);
        let window = self.get(what, offset, available.min(max))?;
        match memchr::memchr(0, window) {
            Some(n) => Ok(window.get(..n).unwrap_or_default()),
            None => Err(Error::truncated(
                what,
                offset,
                available.min(max).saturating_add(1),
                available,
            )),
        }
    }

    /// A NUL-terminated string at `offset`, at most `max` bytes long (the terminator must appear
    /// within `max` bytes or before the end of the view). Invalid UTF-8 is replaced, never trusted.
    pub fn cstr(&self, what: &'static str, offset: u64, max: u64) -> Result<String> {
        let raw = self.cstr_bytes(what, offset, max)?;
        Ok(String::from_utf8_lossy(raw).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn get_past_end_is_truncated_with_offset() {
        let b = Bytes::new(&[1, 2, 3, 4], true);
        let e = b.get("thing", 2, 4).unwrap_err();
        assert_eq!(e.offset, Some(2));
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                what: "thing",
                needed: 4,
                available: 2
            }
        );
    }

    #[test]
    fn get_overflowing_offset_is_an_error_not_a_panic() {
        let b = Bytes::new(&[0; 16], true);
        assert!(b.get("x", u64::MAX, 2).is_err());
        assert!(b.get("x", u64::MAX - 1, 1).is_err());
        assert!(b.u64("x", 9).is_err());
    }

    #[test]
    fn integers_follow_byte_order() {
        let data = [0x12, 0x34, 0x56, 0x78];
        assert_eq!(Bytes::new(&data, true).u32("x", 0).unwrap(), 0x7856_3412);
        assert_eq!(Bytes::new(&data, false).u32("x", 0).unwrap(), 0x1234_5678);
        assert_eq!(Bytes::new(&data, false).u16("x", 2).unwrap(), 0x5678);
    }

    #[test]
    fn cstr_needs_a_terminator_within_bounds() {
        let b = Bytes::new(b"abc\0def", true);
        assert_eq!(b.cstr("s", 0, 64).unwrap(), "abc");
        assert!(b.cstr("s", 4, 64).is_err());
        assert!(b.cstr("s", 0, 2).is_err());
    }
}

/// The length of the DER element at the start of `b` (tag, length and contents), if its header
/// is well formed. Only definite lengths up to 4 length bytes are accepted.
pub fn der_element_len(b: &[u8]) -> Option<u64> {
    let first = *b.get(1)?;
    if first < 0x80 {
        return 2u64.checked_add(u64::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len: u64 = 0;
    for i in 0..n {
        len = (len << 8) | u64::from(*b.get(i.checked_add(2)?)?);
    }
    len.checked_add(2)?.checked_add(n as u64)
}

/// Checks that the DER at the start of `der` nests constructed values at most `max` deep (the
/// top-level value is depth 1), walking iteratively, and that no SET (universal SET, or a
/// constructed context-specific value, which is how CMS writes its IMPLICIT SET OFs) holds more
/// than [`MAX_SET_ELEMENTS`](crate::budget::MAX_SET_ELEMENTS) values: `der` 0.7 insertion-sorts
/// every SET OF it decodes, so an unsorted SET of n values costs n² comparisons. Only the first
/// value is examined; bytes after it are the caller's business. Returns the depth, or a message
/// naming the offset where a budget was exceeded or a length ran past its parent. Time and memory
/// are linear in the length of the value.
pub fn der_depth(der: &[u8], max: usize) -> std::result::Result<usize, String> {
    // Per open SET-like value: (its offset, the values counted in it so far).
    let mut sets: Vec<Option<(usize, u32)>> = Vec::new();
    // Stack of the end offsets of the constructed values we are inside.
    let mut ends: Vec<usize> = Vec::new();
    let mut at = 0usize;
    let mut deepest = 0usize;
    let mut limit = der.len();
    loop {
        while ends.last() == Some(&at) {
            ends.pop();
            sets.pop();
        }
        if at >= limit && ends.is_empty() {
            return Ok(deepest);
        }
        let parent_end = ends.last().copied().unwrap_or(limit);
        if let Some(Some((set_at, count))) = sets.last_mut() {
            *count = count.saturating_add(1);
            if *count > crate::budget::MAX_SET_ELEMENTS {
                return Err(format!(
                    "DER SET at offset {set_at:#x} holds more than {} values (budget MAX_SET_ELEMENTS)",
                    crate::budget::MAX_SET_ELEMENTS
                ));
            }
        }
        let Some(&tag) = der.get(at) else {
            return Err(format!("DER value at offset {at:#x} runs past the end"));
        };
        if tag & 0x1f == 0x1f {
            return Err(format!("DER value at offset {at:#x} has a multi-byte tag"));
        }
        let Some(&first) = der.get(at.saturating_add(1)) else {
            return Err(format!(
                "DER length at offset {:#x} runs past the end",
                at.saturating_add(1)
            ));
        };
        let (len, header) = if first & 0x80 == 0 {
            (usize::from(first), 2usize)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err(format!(
                    "DER length at offset {:#x} uses {n} length octets",
                    at.saturating_add(1)
                ));
            }
            let mut len = 0usize;
            for i in 0..n {
                let Some(&b) = der.get(at.saturating_add(2).saturating_add(i)) else {
                    return Err(format!(
                        "DER length at offset {:#x} runs past the end",
                        at.saturating_add(1)
                    ));
                };
                len = (len << 8) | usize::from(b);
            }
            (len, 2usize.saturating_add(n))
        };
        let content = at.saturating_add(header);
        let end = content.saturating_add(len);
        if end > parent_end {
            return Err(format!(
                "DER value at offset {at:#x} ({len} bytes) runs past its parent or the data"
            ));
        }
        if ends.is_empty() {
            // The first top-level value bounds the walk.
            limit = end;
        }
        if tag & 0x20 != 0 {
            ends.push(end);
            // 0x31: universal SET; 0xa0..=0xbe: constructed context-specific.
            let set_like = tag == 0x31 || tag & 0xe0 == 0xa0;
            sets.push(set_like.then_some((at, 0)));
            deepest = deepest.max(ends.len());
            if ends.len() > max {
                return Err(format!(
                    "DER nesting deeper than {max} at offset {at:#x} (budget MAX_DER_DEPTH)"
                ));
            }
            at = content;
        } else {
            at = end;
        }
        if ends.is_empty() && at >= limit {
            return Ok(deepest);
        }
    }
}

#[cfg(test)]
mod der_depth_tests {
    use super::der_depth;

    #[test]
    fn der_lengths() {
        use super::der_element_len;
        assert_eq!(der_element_len(&[0x30, 0x03, 1, 2, 3]), Some(5));
        assert_eq!(der_element_len(&[0x30, 0x82, 0x01, 0x00]), Some(4 + 256));
        assert_eq!(der_element_len(&[0x30, 0x80]), None);
        assert_eq!(der_element_len(&[0x30]), None);
    }

    #[test]
    fn depth_of_real_and_hostile_der() {
        // SEQUENCE { SEQUENCE { INTEGER 1 } } is depth 2.
        assert_eq!(
            der_depth(&[0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x01], 32),
            Ok(2)
        );
        // A primitive value alone is depth 0; trailing bytes after the first value are ignored.
        assert_eq!(der_depth(&[0x02, 0x01, 0x05, 0xff, 0xff], 32), Ok(0));
        // 40 nested SEQUENCEs: over a budget of 32, named with the offset.
        let mut deep = Vec::new();
        for i in 0..40u8 {
            deep.extend_from_slice(&[0x30, 2 * (39 - i)]);
        }
        let err = der_depth(&deep, 32).unwrap_err();
        assert!(err.contains("deeper than 32 at offset 0x40"), "{err}");
        assert_eq!(der_depth(&deep, 40), Ok(40));
        // A child longer than its parent, a length past the data, indefinite length.
        assert!(der_depth(&[0x30, 0x02, 0x30, 0x05], 32).is_err());
        assert!(der_depth(&[0x30, 0x82, 0xff, 0xff], 32).is_err());
        assert!(der_depth(&[0x30, 0x80, 0x00, 0x00], 32).is_err());
        assert!(der_depth(&[], 32).is_ok());
    }

    /// A SET of n values: each an INTEGER, in descending order (the worst case for der 0.7's
    /// insertion sort).
    fn set_of(n: usize, tag: u8) -> Vec<u8> {
        let mut body = Vec::new();
        for i in (0..n).rev() {
            body.extend_from_slice(&[0x02, 0x02, (i >> 8) as u8, i as u8]);
        }
        let mut v = vec![tag, 0x83];
        v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        v.extend(body);
        v
    }

    #[test]
    fn set_element_budget() {
        let max = crate::budget::MAX_SET_ELEMENTS as usize;
        for tag in [0x31u8, 0xa0, 0xa1] {
            assert!(der_depth(&set_of(max, tag), 32).is_ok(), "{tag:#x}");
            let err = der_depth(&set_of(max + 1, tag), 32).unwrap_err();
            assert!(
                err.contains("MAX_SET_ELEMENTS") && err.contains("offset 0x0"),
                "{err}"
            );
        }
        // A SEQUENCE is not sorted by decoders: no element budget.
        assert!(der_depth(&set_of(20_000, 0x30), 32).is_ok());
        // A SET nested in a SEQUENCE is counted on its own.
        let inner = set_of(max + 1, 0x31);
        let mut outer = vec![0x30, 0x83];
        outer.extend_from_slice(&(inner.len() as u32).to_be_bytes()[1..]);
        outer.extend(inner);
        assert!(der_depth(&outer, 32).unwrap_err().contains("offset 0x5"));
    }

    #[test]
    fn every_signed_fixture_is_within_the_budget() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/signed");
        let mut deepest = 0;
        for e in std::fs::read_dir(dir).expect("corpus/signed") {
            let path = e.expect("entry").path();
            let Ok(data) = std::fs::read(&path) else {
                continue;
            };
            let Ok(layout) = crate::pe::signing_layout(&data) else {
                continue;
            };
            let Some((off, _)) = layout.certificate_table else {
                continue;
            };
            // WIN_CERTIFICATE header is 8 bytes; the PKCS#7 DER follows.
            let Some(der) = usize::try_from(off).ok().and_then(|o| data.get(o + 8..)) else {
                continue;
            };
            if let Ok(d) = der_depth(der, crate::budget::MAX_DER_DEPTH) {
                deepest = deepest.max(d);
            }
        }
        assert!(
            (8..=crate::budget::MAX_DER_DEPTH).contains(&deepest),
            "{deepest}"
        );
    }
}
