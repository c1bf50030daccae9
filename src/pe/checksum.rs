//! The PE image checksum (the algorithm of imagehlp's CheckSumMappedFile).
//!
//! A 16-bit ones'-complement sum of the file's little-endian words with the CheckSum field taken
//! as zero, plus the file length. The ones'-complement sum of 16-bit words equals the folded sum
//! of wider words (RFC 1071 §2), so we add 32-bit words into a u64 and fold at the end.

/// Computes the checksum of `data`, treating the 4 bytes at `checksum_offset` as zero.
pub fn compute(data: &[u8], checksum_offset: u64) -> u32 {
    let off = usize::try_from(checksum_offset).unwrap_or(usize::MAX);
    // The field is 4-aligned in every real image, so the two halves around it stay word-aligned.
    if off % 4 != 0 && off < data.len() {
        return reference(data, checksum_offset);
    }
    let (head, rest) = data.split_at(off.min(data.len()));
    let tail = rest.get(4..).unwrap_or_default();
    let sum = sum32(head).wrapping_add(sum32(tail));
    (fold16(sum) as u32).wrapping_add(data.len() as u32)
}

/// The checksum accumulated piece by piece, in file order, from pieces that start at multiples
/// of 4 (the last may end anywhere): how the content pass computes it in the same read as the
/// file hash and the byte counts (`pe::content`). Equal to [`compute`] over the same bytes.
pub struct Sum {
    checksum_offset: u64,
    at: u64,
    sum: u64,
}

impl Sum {
    pub fn new(checksum_offset: u64) -> Sum {
        Sum {
            checksum_offset,
            at: 0,
            sum: 0,
        }
    }

    /// Adds the next `piece` of the file (it starts where the previous one ended).
    pub fn add(&mut self, piece: &[u8]) {
        let start = self.at;
        let len = piece.len() as u64;
        self.at = start.saturating_add(len);
        let field = self.checksum_offset;
        let part = if field % 4 == 0 && field < self.at && field.saturating_add(4) > start {
            // The CheckSum field is inside: add around it (it counts as zero).
            let k = usize::try_from(field.saturating_sub(start)).unwrap_or(usize::MAX);
            let (head, rest) = piece.split_at(k.min(piece.len()));
            sum32(head).wrapping_add(sum32(rest.get(4..).unwrap_or_default()))
        } else {
            sum32(piece)
        };
        // Folding keeps the ones'-complement value (RFC 1071 §2), so the u64 never overflows
        // however large the file.
        self.sum = self
            .sum
            .checked_add(part)
            .unwrap_or_else(|| fold16(self.sum).wrapping_add(fold16(part)));
    }

    /// A sum of the bytes from file offset `at` on (a multiple of 4): pieces of one file summed
    /// apart, then put together with [`Sum::value_of`].
    pub fn starting_at(checksum_offset: u64, at: u64) -> Sum {
        Sum {
            checksum_offset,
            at,
            sum: 0,
        }
    }

    /// The checksum of a file of `len` bytes summed in `parts` that together cover it once
    /// (the ones'-complement sum does not depend on the order of the words); `None` when the
    /// CheckSum field is not word-aligned.
    pub fn value_of(parts: &[&Sum], len: u64) -> Option<u32> {
        let mut total = 0u64;
        for p in parts {
            if p.checksum_offset % 4 != 0 && p.checksum_offset < len {
                return None;
            }
            total = total
                .checked_add(p.sum)
                .unwrap_or_else(|| fold16(total).wrapping_add(fold16(p.sum)));
        }
        Some((fold16(total) as u32).wrapping_add(len as u32))
    }

    /// The checksum of the bytes given to [`Sum::add`] in order, when the CheckSum field is
    /// word-aligned or outside them (`None` otherwise: use [`compute`] on the whole file).
    pub fn value(&self) -> Option<u32> {
        let off = self.checksum_offset;
        if off % 4 != 0 && off < self.at {
            return None;
        }
        Some((fold16(self.sum) as u32).wrapping_add(self.at as u32))
    }

    /// The checksum of `data`, the bytes given to [`Sum::add`] in order.
    pub fn finish(self, data: &[u8]) -> u32 {
        let off = usize::try_from(self.checksum_offset).unwrap_or(usize::MAX);
        if self.at != data.len() as u64 || (off % 4 != 0 && off < data.len()) {
            return compute(data, self.checksum_offset);
        }
        (fold16(self.sum) as u32).wrapping_add(data.len() as u32)
    }
}

/// Adds little-endian 32-bit words (the last one zero-padded) into a u64. Files up to 2^34 bytes
/// cannot overflow it.
fn sum32(data: &[u8]) -> u64 {
    let mut sum: u64 = 0;
    let mut chunks = data.chunks_exact(4);
    for chunk in chunks.by_ref() {
        let mut w = [0u8; 4];
        w.copy_from_slice(chunk);
        sum = sum.wrapping_add(u64::from(u32::from_le_bytes(w)));
    }
    let mut last = [0u8; 4];
    for (slot, b) in last.iter_mut().zip(chunks.remainder()) {
        *slot = *b;
    }
    sum.wrapping_add(u64::from(u32::from_le_bytes(last)))
}

fn fold16(mut sum: u64) -> u64 {
    while sum > 0xffff {
        sum = (sum & 0xffff).wrapping_add(sum >> 16);
    }
    sum
}

/// The word-by-word routine as documented, used for odd layouts and to test the fast path.
pub fn reference(data: &[u8], checksum_offset: u64) -> u32 {
    let mut sum: u32 = 0;
    let mut i = 0usize;
    while i < data.len() {
        let lo = data.get(i).copied().unwrap_or(0);
        let hi = data.get(i.wrapping_add(1)).copied().unwrap_or(0);
        let in_field =
            (i as u64) >= checksum_offset && (i as u64) < checksum_offset.saturating_add(4);
        let word = if in_field {
            0
        } else {
            u32::from(u16::from_le_bytes([lo, hi]))
        };
        sum = sum.wrapping_add(word);
        sum = (sum & 0xffff).wrapping_add(sum >> 16);
        i = i.wrapping_add(2);
    }
    sum = (sum & 0xffff).wrapping_add(sum >> 16);
    sum.wrapping_add(data.len() as u32)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> u8 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 56) as u8
    }

    #[test]
    fn fast_checksum_matches_the_reference_routine() {
        let mut seed = 42;
        for len in [
            0usize,
            1,
            2,
            3,
            4,
            5,
            7,
            64,
            65,
            66,
            67,
            1000,
            4099,
            65536 + 3,
        ] {
            for fill in [None, Some(0xffu8), Some(0)] {
                let data: Vec<u8> = (0..len)
                    .map(|_| fill.unwrap_or_else(|| lcg(&mut seed)))
                    .collect();
                for off in [0u64, 4, 8, 64, 0xd8, 1 << 40] {
                    assert_eq!(
                        compute(&data, off),
                        reference(&data, off),
                        "len {len} off {off} fill {fill:?}"
                    );
                }
            }
        }
    }

    /// The piecewise sum equals the one-pass checksum for pieces of any size that keep word
    /// alignment, wherever the CheckSum field falls (inside a piece, across none, past the end).
    #[test]
    fn sum_in_pieces_matches_the_whole_computation() {
        let mut seed = 7;
        for len in [0usize, 3, 64, 1000, 1027, 5000] {
            let data: Vec<u8> = (0..len).map(|_| lcg(&mut seed)).collect();
            for piece in [4usize, 64, 1024, 4096] {
                for off in [0u64, 0x58, 0x3fc, 0x400, 1024, 1 << 40, 0x59] {
                    let mut sum = Sum::new(off);
                    for p in data.chunks(piece) {
                        sum.add(p);
                    }
                    assert_eq!(
                        sum.finish(&data),
                        reference(&data, off),
                        "len {len} piece {piece} off {off:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn stored_checksum_field_is_ignored() {
        let mut a = vec![0x11u8; 512];
        let b = a.clone();
        a[0x58..0x5c].copy_from_slice(&0xdead_beefu32.to_le_bytes());
        assert_eq!(compute(&a, 0x58), compute(&b, 0x58));
    }
}
