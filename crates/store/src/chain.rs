//! The hash chain: each stored event carries `SHA-256(previous hash ‖ canonical bytes)`, where
//! the canonical bytes are the event's stored JSON line without its `hash` field — the bytes as
//! written, never re-serialised before hashing.
//!
//! The canonical line always ends with `,"hash":"<64 hex>"}` (the hash is its last field), so the
//! bytes the hash covers are the stored line with that suffix cut and `}` put back.

use sha2::{Digest, Sha256};

/// The "previous hash" of the first event.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// `,"hash":"` + 64 hex digits + `"}`.
const HASH_SUFFIX_BYTES: usize = 9 + 64 + 2;

/// The link of an event: SHA-256 over the previous event's hash and the event's canonical
/// bytes (its JSON without `hash`).
pub fn chain_hash(previous: &[u8; 32], canonical_without_hash: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(canonical_without_hash);
    hasher.finalize().into()
}

/// The link of a stored line, computed over its bytes as stored, without copying them.
pub(crate) fn chain_hash_of_line(previous: &[u8; 32], line: &[u8]) -> Option<[u8; 32]> {
    let body = line.len().checked_sub(HASH_SUFFIX_BYTES)?;
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(&line[..body]);
    hasher.update(b"}");
    Some(hasher.finalize().into())
}

/// Splits a stored line into the canonical bytes its hash covers and the hash it carries.
/// `None` when the line does not end the way the store writes it.
pub fn split_stored_line(line: &[u8]) -> Option<(Vec<u8>, [u8; 32])> {
    let body = line.len().checked_sub(HASH_SUFFIX_BYTES)?;
    let suffix = &line[body..];
    if !suffix.starts_with(br#","hash":""#) || !suffix.ends_with(br#""}"#) {
        return None;
    }
    let hash = decode_hex(&suffix[9..9 + 64])?;
    let mut canonical = line[..body].to_vec();
    canonical.push(b'}');
    Some((canonical, hash))
}

/// The stored line: the canonical bytes with the hash added as the last field.
pub(crate) fn stored_line(canonical_without_hash: &[u8], hash: &[u8; 32]) -> Vec<u8> {
    let body = canonical_without_hash
        .strip_suffix(b"}")
        .expect("canonical JSON of an event is an object");
    let mut line = Vec::with_capacity(body.len() + HASH_SUFFIX_BYTES);
    line.extend_from_slice(body);
    line.extend_from_slice(br#","hash":""#);
    line.extend_from_slice(encode_hex(hash).as_bytes());
    line.extend_from_slice(br#""}"#);
    line
}

/// Lowercase hex, as the log writes hashes.
pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// 64 lowercase hex digits to 32 bytes.
pub(crate) fn decode_hex(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_line_splits_back_into_what_was_hashed() {
        let canonical = br#"{"position":1,"data":{}}"#;
        let hash = chain_hash(&GENESIS_HASH, canonical);
        let line = stored_line(canonical, &hash);
        assert!(line.ends_with(format!(r#","hash":"{}"}}"#, encode_hex(&hash)).as_bytes()));
        let (back, carried) = split_stored_line(&line).expect("well formed");
        assert_eq!(back, canonical);
        assert_eq!(carried, hash);
        assert_eq!(chain_hash_of_line(&GENESIS_HASH, &line), Some(hash));
    }

    #[test]
    fn any_changed_byte_changes_the_link() {
        let canonical = br#"{"position":1,"data":{"provider":"A"}}"#;
        let hash = chain_hash(&GENESIS_HASH, canonical);
        for i in 0..canonical.len() {
            let mut changed = canonical.to_vec();
            changed[i] ^= 1;
            assert_ne!(chain_hash(&GENESIS_HASH, &changed), hash, "byte {i}");
        }
        assert_ne!(chain_hash(&[1; 32], canonical), hash);
    }

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 37) as u8);
        assert_eq!(decode_hex(encode_hex(&bytes).as_bytes()), Some(bytes));
        assert_eq!(decode_hex(&[b'g'; 64]), None);
        assert_eq!(decode_hex(b"00"), None);
        assert_eq!(split_stored_line(b"{}"), None);
    }
}
