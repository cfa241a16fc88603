//! Webhook signing secrets, sealed beside the log like the XPLAN tokens (XChaCha20-Poly1305 with
//! the configured key, bound to the endpoint id) and replaced by compare-and-swap. A rotation
//! keeps the previous secret valid until a time the practice chooses, so deliveries are signed
//! with both meanwhile and receivers switch over without missing one. Never logged.

use base64::Engine;
use chrono::{DateTime, Utc};
use hearth_domain::WebhookId;
use hearth_eventstore::EventStore;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::crypto::Cipher;

#[derive(Clone, Serialize, Deserialize)]
pub struct SigningSecret {
    pub version: u32,
    pub secret: String,
    /// `None` for the current secret; the end of its overlap for a rotated-out one.
    pub valid_until: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningSecret")
            .field("version", &self.version)
            .field("secret", &"<redacted>")
            .field("valid_until", &self.valid_until)
            .finish()
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Sealed {
    secrets: Vec<SigningSecret>,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret store failed: {0}")]
    Store(String),
    #[error("the stored secrets cannot be opened (was the encryption key changed?)")]
    Unreadable,
}

#[derive(Clone)]
pub struct SecretVault {
    store: EventStore,
    cipher: Cipher,
}

fn aad(endpoint: WebhookId) -> Vec<u8> {
    format!("webhook:{endpoint}").into_bytes()
}

/// A new random secret: 32 bytes, base64url, with a prefix that says what it is.
fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

impl SecretVault {
    pub fn new(store: EventStore, cipher: Cipher) -> Self {
        Self { store, cipher }
    }

    async fn load(&self, endpoint: WebhookId) -> Result<(Option<i64>, Sealed), SecretError> {
        let row = self
            .store
            .sealed_record(endpoint.0)
            .await
            .map_err(|e| SecretError::Store(e.to_string()))?;
        let Some((version, sealed)) = row else {
            return Ok((None, Sealed::default()));
        };
        let plain = self
            .cipher
            .open(&sealed, &aad(endpoint))
            .map_err(|_| SecretError::Unreadable)?;
        let secrets = serde_json::from_slice(&plain).map_err(|_| SecretError::Unreadable)?;
        Ok((Some(version), secrets))
    }

    /// Adds a new current secret (version `version`); the previous current one stays valid until
    /// `previous_valid_until`, and secrets whose overlap has ended are dropped. Answers the new
    /// secret, shown to the practice once.
    pub async fn add(
        &self,
        endpoint: WebhookId,
        version: u32,
        previous_valid_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<String, SecretError> {
        let secret = generate();
        loop {
            let (stored, mut sealed) = self.load(endpoint).await?;
            sealed
                .secrets
                .retain(|s| s.valid_until.is_none_or(|t| t > now));
            for s in &mut sealed.secrets {
                s.valid_until.get_or_insert(previous_valid_until);
            }
            sealed.secrets.push(SigningSecret {
                version,
                secret: secret.clone(),
                valid_until: None,
            });
            let plain =
                serde_json::to_vec(&sealed).map_err(|e| SecretError::Store(e.to_string()))?;
            let bytes = self.cipher.seal(&plain, &aad(endpoint));
            let replaced = self
                .store
                .replace_sealed_record(endpoint.0, stored, &bytes)
                .await
                .map_err(|e| SecretError::Store(e.to_string()))?;
            if replaced.is_some() {
                return Ok(secret);
            }
        }
    }

    /// The secrets that sign a delivery now: the current one first, then any still overlapping.
    pub async fn signing(
        &self,
        endpoint: WebhookId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SigningSecret>, SecretError> {
        let (_, sealed) = self.load(endpoint).await?;
        let mut valid: Vec<SigningSecret> = sealed
            .secrets
            .into_iter()
            .filter(|s| s.valid_until.is_none_or(|t| t > now))
            .collect();
        valid.sort_by_key(|s| std::cmp::Reverse(s.version));
        Ok(valid)
    }
}
