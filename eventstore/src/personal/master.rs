//! The master key: wraps every subject's data key. It comes from configuration (or a development
//! file) and never from the database, so a copy of the database alone opens nothing. Rotation
//! keeps the previous keys for reading until every wrapped key has been re-wrapped.

use aes_gcm_siv::Aes256GcmSiv;
use base64::Engine;
use chacha20poly1305::{aead::KeyInit, XChaCha20Poly1305};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::envelope::{derived, open_with, seal_with};

/// nonce (12) ‖ AES-256-GCM-SIV ciphertext of 32 bytes and its tag.
const WRAPPED: usize = 12 + 32 + 16;
/// The first format: nonce (24) ‖ XChaCha20-Poly1305 ciphertext and tag; still unwrapped.
const WRAPPED_V1: usize = 24 + 32 + 16;

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
    v1: XChaCha20Poly1305,
    /// Under a key derived from the master key. Unwrapping is most of what loading a household's
    /// key costs, and a rebuild loads one per household: AES-GCM-SIV with the CPU's AES
    /// instructions does 32 bytes about four times faster than XChaCha20-Poly1305.
    aead: Aes256GcmSiv,
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
        let wrapping = derived(key, b"hearth master key: wrapping v2");
        Self {
            id: hex::encode(&Sha256::digest(key)[..8]),
            v1: XChaCha20Poly1305::new(key.into()),
            aead: Aes256GcmSiv::new(&wrapping.into()),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// nonce ‖ ciphertext of a data key, bound to its subject so a wrapped key cannot be moved
    /// to another household's row.
    pub(crate) fn wrap(&self, subject: Uuid, data_key: &[u8; 32]) -> Vec<u8> {
        seal_with(&self.aead, data_key, subject.as_bytes())
    }

    /// The format is told by the length: both formats wrap exactly 32 bytes.
    pub(crate) fn unwrap(&self, subject: Uuid, wrapped: &[u8]) -> Option<[u8; 32]> {
        let aad = subject.as_bytes();
        let plain = match wrapped.len() {
            WRAPPED => open_with(&self.aead, wrapped, aad)?,
            WRAPPED_V1 => open_with(&self.v1, wrapped, aad)?,
            _ => return None,
        };
        plain.try_into().ok()
    }

    #[cfg(test)]
    fn wrap_v1(&self, subject: Uuid, data_key: &[u8; 32]) -> Vec<u8> {
        seal_with(&self.v1, data_key, subject.as_bytes())
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
    fn keys_wrapped_in_the_first_format_still_unwrap() {
        let (a, b) = (
            MasterKey::from_bytes(&[1; 32]),
            MasterKey::from_bytes(&[2; 32]),
        );
        let s = Uuid::new_v4();
        let wrapped = a.wrap_v1(s, &[7; 32]);
        assert_eq!(wrapped.len(), WRAPPED_V1);
        assert_eq!(a.unwrap(s, &wrapped), Some([7; 32]));
        assert_eq!(b.unwrap(s, &wrapped), None);
        assert_eq!(a.unwrap(Uuid::new_v4(), &wrapped), None);
        assert_eq!(a.wrap(s, &[7; 32]).len(), WRAPPED);
        assert_eq!(
            a.unwrap(s, &wrapped[..WRAPPED]),
            None,
            "a cut key is refused"
        );
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
