//! Encryption of secrets at rest (OAuth tokens), with an AEAD so a tampered or swapped record
//! fails to open instead of yielding garbage. The integration id is bound as associated data:
//! one integration's ciphertext cannot be replayed as another's.

use base64::Engine;
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the token key must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)")]
    BadKey,
    #[error("a stored secret cannot be decrypted (wrong key or altered record)")]
    Unreadable,
}

#[derive(Clone)]
pub struct Cipher {
    aead: XChaCha20Poly1305,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(***)")
    }
}

const NONCE: usize = 24;

impl Cipher {
    pub fn from_base64(key: &str) -> Result<Self, CryptoError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .map_err(|_| CryptoError::BadKey)?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != 32 {
            return Err(CryptoError::BadKey);
        }
        Ok(Self {
            aead: XChaCha20Poly1305::new_from_slice(key).map_err(|_| CryptoError::BadKey)?,
        })
    }

    /// A fresh random key, base64-encoded.
    pub fn generate_key() -> String {
        base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
    }

    /// nonce ‖ ciphertext; a random 192-bit nonce per message.
    pub fn seal(&self, plaintext: &[u8], bound_to: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE] = rand::random();
        let mut out = nonce.to_vec();
        let sealed = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: bound_to,
                },
            )
            .expect("encryption in memory cannot fail");
        out.extend(sealed);
        out
    }

    pub fn open(&self, sealed: &[u8], bound_to: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE {
            return Err(CryptoError::Unreadable);
        }
        let (nonce, body) = sealed.split_at(NONCE);
        self.aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: bound_to,
                },
            )
            .map_err(|_| CryptoError::Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_keys_other_bindings_and_tampering() {
        let c = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        let sealed = c.seal(b"refresh-token", b"integration-1");
        assert!(
            !sealed.windows(7).any(|w| w == b"refresh"),
            "plaintext visible"
        );
        assert_eq!(c.open(&sealed, b"integration-1").unwrap(), b"refresh-token");
        assert_eq!(
            c.open(&sealed, b"integration-2"),
            Err(CryptoError::Unreadable)
        );
        let other = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        assert_eq!(
            other.open(&sealed, b"integration-1"),
            Err(CryptoError::Unreadable)
        );
        let mut bent = sealed.clone();
        *bent.last_mut().unwrap() ^= 1;
        assert_eq!(
            c.open(&bent, b"integration-1"),
            Err(CryptoError::Unreadable)
        );
        assert!(matches!(
            Cipher::from_base64("c2hvcnQ="),
            Err(CryptoError::BadKey)
        ));
    }
}
