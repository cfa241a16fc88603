//! Where an integration's tokens live between calls. The production vault encrypts them into
//! the database (see crate::token_vault); tests may use the in-memory one.

use std::{collections::HashMap, sync::Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hearth_domain::IntegrationId;

use super::{error::XplanError, secret::Tokens};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTokens {
    pub tokens: Tokens,
    /// Bumped on every replacement: refresh tokens rotate, so two workers refreshing at once must
    /// not both win (the loser would hold a refresh token XPLAN has already retired).
    pub version: i64,
}

#[async_trait]
pub trait TokenVault: Send + Sync {
    async fn load(&self, integration: IntegrationId) -> Result<Option<StoredTokens>, XplanError>;
    /// Stores `tokens` if the vault still holds `expected` (None: holds nothing). Returns the new
    /// version, or None when someone else replaced them first.
    async fn replace(
        &self,
        integration: IntegrationId,
        expected: Option<i64>,
        tokens: &Tokens,
    ) -> Result<Option<i64>, XplanError>;
}

/// What the session reports so it becomes part of the integration's history.
#[async_trait]
pub trait ConsentRecorder: Send + Sync {
    async fn tokens_refreshed(&self, integration: IntegrationId, access_expires_at: DateTime<Utc>);
    async fn consent_expired(&self, integration: IntegrationId, reason: &str);
}

/// Records nothing (tools and tests that only need the HTTP calls).
pub struct NoRecorder;

#[async_trait]
impl ConsentRecorder for NoRecorder {
    async fn tokens_refreshed(&self, _: IntegrationId, _: DateTime<Utc>) {}
    async fn consent_expired(&self, _: IntegrationId, _: &str) {}
}

#[derive(Default)]
pub struct MemoryVault {
    tokens: Mutex<HashMap<IntegrationId, StoredTokens>>,
}

#[async_trait]
impl TokenVault for MemoryVault {
    async fn load(&self, integration: IntegrationId) -> Result<Option<StoredTokens>, XplanError> {
        Ok(self
            .tokens
            .lock()
            .map_err(|_| XplanError::Vault("poisoned".into()))?
            .get(&integration)
            .cloned())
    }

    async fn replace(
        &self,
        integration: IntegrationId,
        expected: Option<i64>,
        tokens: &Tokens,
    ) -> Result<Option<i64>, XplanError> {
        let mut all = self
            .tokens
            .lock()
            .map_err(|_| XplanError::Vault("poisoned".into()))?;
        let current = all.get(&integration).map(|s| s.version);
        if current != expected {
            return Ok(None);
        }
        let version = current.unwrap_or(0) + 1;
        all.insert(
            integration,
            StoredTokens {
                tokens: tokens.clone(),
                version,
            },
        );
        Ok(Some(version))
    }
}
