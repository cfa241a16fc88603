//! The master key: wraps every subject's data key. It comes from configuration (or a development
//! file) and never from the database, so a copy of the database alone opens nothing. Rotation
//! keeps the previous keys for reading until every wrapped key has been re-wrapped.

use base64::Engine;
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const NONCE: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MasterKeyError {
    #[error("a master key must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)")]
    BadKey,
}

/// One master key and its id (the first 8 bytes of its SHA-256, in hex: names it without
/// revealing it).
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    aead: XChaCha20Poly1305,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    pub fn from_base64(text: &str) -> Result<Self, MasterKeyError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| MasterKeyError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| MasterKeyError::BadKey)?;
        Ok(Self::from_bytes(&key))
    }

    pub fn from_bytes(key: &[u8; 32]) -> Self {
        Self {
            id: hex::encode(&Sha256::digest(key)[..8]),
            aead: XChaCha20Poly1305::new(key.into()),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// nonce ‖ ciphertext of a data key, bound to its subject so a wrapped key cannot be moved
    /// to another household's row.
    pub(crate) fn wrap(&self, subject: Uuid, data_key: &[u8; 32]) -> Vec<u8> {
        let nonce: [u8; NONCE] = rand::random();
        let mut out = nonce.to_vec();
        out.extend(
            self.aead
                .encrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: data_key,
                        aad: subject.as_bytes(),
                    },
                )
                .expect("encryption in memory cannot fail"),
        );
        out
    }

    pub(crate) fn unwrap(&self, subject: Uuid, wrapped: &[u8]) -> Option<[u8; 32]> {
        if wrapped.len() < NONCE {
            return None;
        }
        let (nonce, body) = wrapped.split_at(NONCE);
        let plain = self
            .aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: subject.as_bytes(),
                },
            )
            .ok()?;
        plain.try_into().ok()
    }
}

/// The current master key (wraps new keys) and earlier ones still accepted for unwrapping while
/// a rotation is under way.
#[derive(Clone, Debug)]
pub struct MasterKeys {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

impl MasterKeys {
    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Self {
        Self { current, previous }
    }

    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    pub(crate) fn by_id(&self, id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_opens_only_with_its_master_key_and_subject() {
        let (a, b) = (
            MasterKey::from_bytes(&[1; 32]),
            MasterKey::from_bytes(&[2; 32]),
        );
        let (s1, s2) = (Uuid::new_v4(), Uuid::new_v4());
        let wrapped = a.wrap(s1, &[7; 32]);
        assert_eq!(a.unwrap(s1, &wrapped), Some([7; 32]));
        assert_eq!(b.unwrap(s1, &wrapped), None);
        assert_eq!(a.unwrap(s2, &wrapped), None);
        assert_ne!(a.id(), b.id());
    }

    #[test]
    fn keys_are_read_from_base64_of_32_bytes_only() {
        let text = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
        assert_eq!(
            MasterKey::from_base64(&text).unwrap().id(),
            MasterKey::from_bytes(&[9; 32]).id()
        );
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }
}
