//! The production token vault: tokens sealed with the configured key, in the database beside
//! the log, replaced only by compare-and-swap on a version.

use async_trait::async_trait;
use hearth_domain::IntegrationId;
use hearth_eventstore::{Backend, EventStore};

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

fn db(e: sqlx::Error) -> XplanError {
    XplanError::Vault(e.to_string())
}

#[async_trait]
impl TokenVault for DbVault {
    async fn load(&self, integration: IntegrationId) -> Result<Option<StoredTokens>, XplanError> {
        let row: Option<(i64, Vec<u8>)> = match self.store.backend() {
            Backend::Postgres(p) => sqlx::query_as(
                "SELECT version, sealed FROM integration_tokens WHERE integration_id = $1",
            )
            .bind(integration.0)
            .fetch_optional(p)
            .await
            .map_err(db)?,
            Backend::Sqlite(p) => sqlx::query_as(
                "SELECT version, sealed FROM integration_tokens WHERE integration_id = ?1",
            )
            .bind(integration.to_string())
            .fetch_optional(p)
            .await
            .map_err(db)?,
        };
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
        let next = expected.unwrap_or(0) + 1;
        // Insert when nothing is stored yet; otherwise update only the version we read.
        let changed = match (self.store.backend(), expected) {
            (Backend::Postgres(p), None) => sqlx::query("INSERT INTO integration_tokens (integration_id, version, sealed) VALUES ($1, 1, $2) ON CONFLICT DO NOTHING")
                .bind(integration.0).bind(&sealed).execute(p).await.map_err(db)?.rows_affected(),
            (Backend::Postgres(p), Some(v)) => sqlx::query("UPDATE integration_tokens SET version = $3, sealed = $2, updated_at = now() WHERE integration_id = $1 AND version = $4")
                .bind(integration.0).bind(&sealed).bind(next).bind(v).execute(p).await.map_err(db)?.rows_affected(),
            (Backend::Sqlite(p), None) => sqlx::query("INSERT OR IGNORE INTO integration_tokens (integration_id, version, sealed) VALUES (?1, 1, ?2)")
                .bind(integration.to_string()).bind(&sealed).execute(p).await.map_err(db)?.rows_affected(),
            (Backend::Sqlite(p), Some(v)) => sqlx::query("UPDATE integration_tokens SET version = ?3, sealed = ?2, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE integration_id = ?1 AND version = ?4")
                .bind(integration.to_string()).bind(&sealed).bind(next).bind(v).execute(p).await.map_err(db)?.rows_affected(),
        };
        Ok((changed == 1).then_some(next))
    }
}

impl DbVault {
    /// A new consent replaces whatever was stored, whatever its version.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn store_new(
        &self,
        integration: IntegrationId,
        tokens: &Tokens,
    ) -> Result<i64, XplanError> {
        loop {
            let current = self.raw_version(integration).await?;
            if let Some(v) = self.replace(integration, current, tokens).await? {
                return Ok(v);
            }
        }
    }

    /// The stored version even when the record cannot be opened (e.g. after a key change).
    async fn raw_version(&self, integration: IntegrationId) -> Result<Option<i64>, XplanError> {
        Ok(match self.store.backend() {
            Backend::Postgres(p) => sqlx::query_scalar(
                "SELECT version FROM integration_tokens WHERE integration_id = $1",
            )
            .bind(integration.0)
            .fetch_optional(p)
            .await
            .map_err(db)?,
            Backend::Sqlite(p) => sqlx::query_scalar(
                "SELECT version FROM integration_tokens WHERE integration_id = ?1",
            )
            .bind(integration.to_string())
            .fetch_optional(p)
            .await
            .map_err(db)?,
        })
    }
}
