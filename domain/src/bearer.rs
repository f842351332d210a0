//! Random bearer secrets that the database keeps only as a digest (session cookies, invitation links): a
//! secret is 32 random bytes in hex, and its row is found by the SHA-256 of that text, so a database leak
//! yields nothing anyone can present.
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes from the operating system, as 64 lower-case hex digits.
pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    crate::hex::encode(&bytes)
}

/// The SHA-256 of a presented secret, as 64 hex digits: the key its row is stored under.
pub(crate) fn digest(secret: &str) -> String {
    crate::hex::encode(&Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_hex_and_their_digest_is_another_fixed_length_hex() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert!(a.len() == 64 && a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "the SHA-256 known-answer vector");
        assert_ne!(digest(&a), a);
    }
}
