//! The hash chain: record `seq` is bound to its number, its predecessor and its exact body
//! bytes, so no record can be edited, dropped, reordered or inserted without a hash changing.

use sha2::{Digest, Sha256};

/// The domain tag that starts every hashed record (the version of this chain format).
pub const DOMAIN: &[u8] = b"bingate-audit-v1\n";

/// The previous hash of record 1.
pub const GENESIS_PREV: [u8; 32] = [0; 32];

/// `SHA-256("bingate-audit-v1\n" || seq as u64 big-endian || prev_hash || body)`.
pub fn chain_hash(seq: u64, prev_hash: &[u8; 32], body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(seq.to_be_bytes());
    h.update(prev_hash);
    h.update(body);
    h.finalize().into()
}

/// 32 bytes from a stored column, or `None` when it has another length.
pub fn hash32(bytes: &[u8]) -> Option<[u8; 32]> {
    <[u8; 32]>::try_from(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_hash_is_sha256_of_the_documented_concatenation() {
        let body = br#"{"time":"2026-12-06T02:00:00Z"}"#;
        let mut input = b"bingate-audit-v1\n".to_vec();
        input.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 7]);
        input.extend_from_slice(&[9; 32]);
        input.extend_from_slice(body);
        assert_eq!(chain_hash(7, &[9; 32], body), crate::hash::sha256(&input));
        assert_ne!(chain_hash(8, &[9; 32], body), chain_hash(7, &[9; 32], body));
    }
}
