//! Encryption at rest for the secrets the server must read back (two-factor seeds), with XChaCha20-Poly1305
//! under the server's 32-byte key (`CAREGATE_SECRET_KEY`, 64 hex digits). A sealed value is the random nonce
//! followed by the ciphertext, in hex; it is bound to a context (the user it belongs to), so a sealed value
//! copied onto another row does not open. A database dump alone yields nothing usable.
use std::path::Path;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::DomainError;

/// The server's key. Not `Debug`, `Clone` or `Serialize`: it is read once at start-up and never logged.
pub struct SecretKey {
    cipher: XChaCha20Poly1305,
    /// A key for MACs, derived from the same secret so that one variable serves both.
    mac_key: [u8; 32],
}

const NONCE_LEN: usize = 24;

impl SecretKey {
    /// Parses 64 hex digits.
    pub fn parse(hex: &str) -> Result<SecretKey, String> {
        let bytes = crate::hex::decode(hex.trim()).filter(|bytes| bytes.len() == 32).ok_or("must be 64 hex digits (32 random bytes)")?;
        Ok(SecretKey::from_bytes(&bytes))
    }

    /// A fresh random key and its 64 hex digits.
    pub fn generate() -> (SecretKey, String) {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let hex = crate::hex::encode(&key);
        (SecretKey::from_bytes(&key), hex)
    }

    fn from_bytes(bytes: &[u8]) -> SecretKey {
        use hmac::{Hmac, Mac};
        let mut derive = <Hmac<sha2::Sha256> as Mac>::new_from_slice(bytes).expect("HMAC takes a key of any length");
        derive.update(b"caregate mac key");
        let mac_key = derive.finalize().into_bytes().into();
        SecretKey { cipher: XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(bytes)), mac_key }
    }

    /// An HMAC-SHA256 of `message` under a key derived from the server's, in hex: a digest a database dump
    /// cannot be searched against.
    pub fn mac(&self, message: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.mac_key).expect("HMAC takes a key of any length");
        mac.update(message);
        crate::hex::encode(&mac.finalize().into_bytes())
    }

    /// The key in `path`, created (readable by the owner only) on first use: the embedded default keeps it
    /// beside its SQLite file.
    pub fn load_or_create(path: &Path) -> Result<SecretKey, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => SecretKey::parse(&text).map_err(|err| format!("{}: {err}", path.display())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let (key, hex) = SecretKey::generate();
                write_private(path, &hex).map_err(|err| format!("cannot create {}: {err}", path.display()))?;
                Ok(key)
            }
            Err(err) => Err(format!("cannot read {}: {err}", path.display())),
        }
    }

    /// Encrypts `plaintext` for `context`.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self.cipher.encrypt(&nonce, Payload { msg: plaintext, aad: context }).expect("encryption into memory cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        crate::hex::encode(&out)
    }

    /// Decrypts a value sealed for `context`; a value sealed under another key or for another context, or
    /// damaged, is an internal error (it cannot happen unless the key changed or the row was tampered with).
    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<Vec<u8>, DomainError> {
        let unreadable = || DomainError::Internal("a sealed secret does not open: the server's secret key changed, or the value was altered".into());
        let bytes = crate::hex::decode(sealed).filter(|bytes| bytes.len() > NONCE_LEN).ok_or_else(unreadable)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        self.cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: context }).map_err(|_| unreadable())
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let (key, hex) = SecretKey::generate();
        let sealed = key.seal(b"seed", b"user:7");
        assert!(!sealed.contains(&crate::hex::encode(b"seed")), "the plaintext does not show");
        assert_eq!(key.open(&sealed, b"user:7").unwrap(), b"seed");
        assert!(key.open(&sealed, b"user:8").is_err(), "another row's context");
        let (other, _) = SecretKey::generate();
        assert!(other.open(&sealed, b"user:7").is_err(), "another key");
        assert_eq!(SecretKey::parse(&hex).unwrap().open(&sealed, b"user:7").unwrap(), b"seed", "the hex form is the key");
        assert_ne!(key.seal(b"seed", b"user:7"), sealed, "a fresh nonce every time");
        for damaged in ["", "zz", &sealed[..40], &format!("{sealed}00")] {
            assert!(key.open(damaged, b"user:7").is_err(), "{damaged:?}");
        }
    }

    #[test]
    fn macs_depend_on_the_key_and_the_message_only() {
        let (key, hex) = SecretKey::generate();
        assert_eq!(key.mac(b"code"), SecretKey::parse(&hex).unwrap().mac(b"code"));
        assert_ne!(key.mac(b"code"), key.mac(b"other"));
        assert_ne!(key.mac(b"code"), SecretKey::generate().0.mac(b"code"));
        assert_eq!(key.mac(b"code").len(), 64);
    }

    #[test]
    fn keys_must_be_64_hex_digits() {
        assert!(SecretKey::parse(&"ab".repeat(32)).is_ok());
        for bad in ["", "abc", &"ab".repeat(31), &"zz".repeat(32), &"é".repeat(32)] {
            assert!(SecretKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_embedded_key_file_is_created_once_and_then_read() {
        let dir = std::env::temp_dir().join(format!("caregate-key-{}", std::process::id()));
        let path = dir.join("secret.key");
        let first = SecretKey::load_or_create(&path).unwrap();
        let sealed = first.seal(b"seed", b"ctx");
        let again = SecretKey::load_or_create(&path).unwrap();
        assert_eq!(again.open(&sealed, b"ctx").unwrap(), b"seed");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
