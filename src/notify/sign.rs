//! HMAC-SHA256 signatures of webhook bodies, so that a receiver can tell a
//! delivery comes from us and was not altered on the way.
//!
//! HMAC (RFC 2104) is written here on the `sha2` we already build rather
//! than taken from another crate: it is two hashes and a padded key, and
//! the RFC 4231 vectors below pin it down.

use sha2::{Digest, Sha256};

/// SHA-256 works on 64-byte blocks; HMAC pads the key to one.
const BLOCK: usize = 64;

/// `sha256=<lowercase hex>` of the HMAC-SHA256 of `body` under `secret`:
/// the `x-debrief-signature` header of a delivery.
pub fn signature(secret: &str, body: &str) -> String {
    format!("sha256={}", hex(&hmac_sha256(secret.as_bytes(), body.as_bytes())))
}

/// HMAC-SHA256 of `message` under `key` (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // A key longer than a block is hashed first; a shorter one is padded
    // with zeros to a block.
    let mut padded = [0u8; BLOCK];
    if key.len() > BLOCK {
        padded[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        padded[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new().chain_update(padded.map(|b| b ^ 0x36)).chain_update(message).finalize();
    let outer = Sha256::new().chain_update(padded.map(|b| b ^ 0x5c)).chain_update(inner).finalize();
    let mut mac = [0u8; 32];
    mac.copy_from_slice(&outer);
    mac
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_case_1_short_key() {
        let key = [0x0b; 20];
        assert_eq!(
            hex(&hmac_sha256(&key, b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn rfc_4231_case_2_key_shorter_than_the_output() {
        assert_eq!(
            signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn rfc_4231_case_6_key_longer_than_a_block_is_hashed_first() {
        let key = [0xaa; 131];
        assert_eq!(
            hex(&hmac_sha256(&key, b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn the_signature_changes_with_the_body_and_the_secret() {
        let signed = signature("s3cret", r#"{"event":"test"}"#);
        assert_ne!(signed, signature("s3cret", r#"{"event":"test"} "#));
        assert_ne!(signed, signature("s3cret!", r#"{"event":"test"}"#));
        assert_eq!(signed.len(), "sha256=".len() + 64);
    }
}
