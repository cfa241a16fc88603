//! The log's signing key (Ed25519). The service holds the private half (configuration or a key
//! file, never the database); auditors hold the public half. Two things are signed: every
//! append's event hashes, and checkpoints (tree heads). Each message starts with its own domain
//! tag, so a signature over one kind can never pass for the other.

use base64::{engine::general_purpose::STANDARD, Engine};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::{merkle::Hash, signed_here::SignedHere};

const APPEND_TAG: &[u8] = b"hearth-append-v1\n";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("not base64: {0}")]
    Encoding(String),
    #[error("an Ed25519 key is 32 bytes, this one is {0}")]
    Length(usize),
    #[error("not a valid Ed25519 public key")]
    Invalid,
}

/// The private key, with the id auditors see next to every signature.
#[derive(Clone)]
pub struct LogSigner {
    key: SigningKey,
    public: LogPublicKey,
    /// Shared by clones: the appends this process signed, for its own tree builder.
    signed_here: std::sync::Arc<SignedHere>,
}

impl std::fmt::Debug for LogSigner {
    // Never print the secret half.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner")
            .field("key_id", &self.public.key_id())
            .finish_non_exhaustive()
    }
}

impl LogSigner {
    pub fn from_secret(secret: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&secret);
        let public = LogPublicKey(key.verifying_key());
        LogSigner {
            key,
            public,
            signed_here: Default::default(),
        }
    }

    /// The 32-byte secret as standard base64 (what `HEARTH_SIGNING_KEY` holds).
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        Ok(Self::from_secret(decode32(text)?))
    }

    /// A fresh random key (development keys and tests).
    pub fn generate() -> Self {
        let mut secret = [0u8; 32];
        rand::Rng::fill(&mut rand::thread_rng(), &mut secret);
        Self::from_secret(secret)
    }

    pub fn secret_base64(&self) -> String {
        STANDARD.encode(self.key.to_bytes())
    }

    pub fn public_key(&self) -> &LogPublicKey {
        &self.public
    }

    pub fn key_id(&self) -> String {
        self.public.key_id()
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).to_bytes().to_vec()
    }

    pub fn sign_append(&self, hashes: &[Hash]) -> Vec<u8> {
        let message = append_message(hashes);
        let signature = self.sign(&message);
        self.signed_here.remember(&message, &signature);
        signature
    }

    pub(crate) fn signed_here(&self) -> &SignedHere {
        &self.signed_here
    }
}

/// The public key an auditor trusts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogPublicKey(VerifyingKey);

impl LogPublicKey {
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let bytes = decode32(text)?;
        VerifyingKey::from_bytes(&bytes)
            .map(LogPublicKey)
            .map_err(|_| KeyError::Invalid)
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_bytes())
    }

    /// The first 8 bytes of SHA-256 of the key, hex: short enough to print, long enough that two
    /// keys of one deployment never share it.
    pub fn key_id(&self) -> String {
        hex::encode(&Sha256::digest(self.0.as_bytes())[..8])
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.0.verify(message, &signature).is_ok()
    }

    /// Whether every (message, signature) pair verifies, checked as one batch: one multiscalar
    /// multiplication instead of one per signature. A false answer does not say which failed.
    pub fn verify_many(&self, pairs: &[(&[u8], &[u8])]) -> bool {
        if pairs.len() < 2 {
            return pairs.iter().all(|(m, s)| self.verify(m, s));
        }
        let Some(signatures) = pairs
            .iter()
            .map(|(_, s)| Signature::from_slice(s).ok())
            .collect::<Option<Vec<_>>>()
        else {
            return false;
        };
        let messages: Vec<&[u8]> = pairs.iter().map(|(m, _)| *m).collect();
        let keys = vec![self.0; pairs.len()];
        ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
    }

    pub fn verify_append(&self, hashes: &[Hash], signature: &[u8]) -> bool {
        self.verify(&append_message(hashes), signature)
    }
}

/// What an append's signature covers: its event hashes in the order written. Each hash already
/// covers the event's stream, version, id, content and the previous hash of its stream.
pub fn append_message(hashes: &[Hash]) -> Vec<u8> {
    let mut m = Vec::with_capacity(APPEND_TAG.len() + 8 + hashes.len() * 32);
    m.extend_from_slice(APPEND_TAG);
    m.extend_from_slice(&(hashes.len() as u64).to_be_bytes());
    for h in hashes {
        m.extend_from_slice(h);
    }
    m
}

fn decode32(text: &str) -> Result<[u8; 32], KeyError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| KeyError::Encoding(e.to_string()))?;
    let n = bytes.len();
    bytes.try_into().map_err(|_| KeyError::Length(n))
}
