//! DER helpers for tests that look inside signatures.

/// The length of the DER element at the start of `b` (header and contents).
pub fn der_len(b: &[u8]) -> usize {
    match b[1] {
        l if l < 0x80 => 2 + l as usize,
        l => {
            let n = (l & 0x7f) as usize;
            2 + n + b[2..2 + n].iter().fold(0usize, |a, x| a << 8 | *x as usize)
        }
    }
}
