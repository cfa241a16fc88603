//! The production token vault: tokens sealed with the configured key, in the database beside
//! the log, replaced only by compare-and-swap on a version.

use async_trait::async_trait;
use hearth_domain::IntegrationId;
use hearth_eventstore::EventStore;

use crate::{
    crypto::Cipher,
    xplan::{StoredTokens, TokenVault, Tokens, XplanError},
};

pub struct DbVault {
    store: EventStore,
    cipher: Cipher,
}

impl DbVault {
    pub fn new(store: EventStore, cipher: Cipher) -> Self {
        Self { store, cipher }
    }

    fn seal(&self, integration: IntegrationId, tokens: &Tokens) -> Result<Vec<u8>, XplanError> {
        let plain = serde_json::to_vec(tokens).map_err(|e| XplanError::Vault(e.to_string()))?;
        Ok(self.cipher.seal(&plain, integration.to_string().as_bytes()))
    }

    fn open(&self, integration: IntegrationId, sealed: &[u8]) -> Result<Tokens, XplanError> {
        let plain = self
            .cipher
            .open(sealed, integration.to_string().as_bytes())
            .map_err(|e| XplanError::Vault(e.to_string()))?;
        serde_json::from_slice(&plain).map_err(|e| XplanError::Vault(e.to_string()))
    }
}

fn db(e: hearth_eventstore::StoreError) -> XplanError {
    XplanError::Vault(e.to_string())
}

#[async_trait]
impl TokenVault for DbVault {
    async fn load(&self, integration: IntegrationId) -> Result<Option<StoredTokens>, XplanError> {
        let row = self.store.sealed_record(integration.0).await.map_err(db)?;
        row.map(|(version, sealed)| {
            Ok(StoredTokens {
                tokens: self.open(integration, &sealed)?,
                version,
            })
        })
        .transpose()
    }

    async fn replace(
        &self,
        integration: IntegrationId,
        expected: Option<i64>,
        tokens: &Tokens,
    ) -> Result<Option<i64>, XplanError> {
        let sealed = self.seal(integration, tokens)?;
        self.store
            .replace_sealed_record(integration.0, expected, &sealed)
            .await
            .map_err(db)
    }
}

impl DbVault {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn store_new(
        &self,
        integration: IntegrationId,
        tokens: &Tokens,
    ) -> Result<i64, XplanError> {
        loop {
            // The stored version even when the record cannot be opened (e.g. after a key change).
            let current = self
                .store
                .sealed_record(integration.0)
                .await
                .map_err(db)?
                .map(|(v, _)| v);
            if let Some(v) = self.replace(integration, current, tokens).await? {
                return Ok(v);
            }
        }
    }
}
