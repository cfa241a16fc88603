//! Sealed records beside the log: small opaque byte strings (encrypted OAuth tokens) that are
//! replaced, never appended, with a version for compare-and-swap because refresh tokens rotate.
//! The log's database holds only ciphertext; the key lives in configuration.

use uuid::Uuid;

use crate::{
    error::StoreError,
    shared_sql::UuidColumn,
    store::{with_pool, Backend},
    EventStore,
};

impl EventStore {
    /// The record of `owner` and its version, if there is one.
    #[tracing::instrument(level = "debug", skip_all, fields(owner = %owner), err(level = "debug"))]
    pub async fn sealed_record(&self, owner: Uuid) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT version, sealed FROM integration_tokens WHERE integration_id = $1",
        )
        .bind(pool.uuid(owner))
        .fetch_optional(pool)
        .await)?)
    }

    /// Writes `sealed` as version `expected + 1` (1 when `expected` is None) only if the stored
    /// version is still `expected`; answers the new version, or None when someone else won.
    #[tracing::instrument(level = "debug", skip_all, fields(owner = %owner), err(level = "debug"))]
    pub async fn replace_sealed_record(
        &self,
        owner: Uuid,
        expected: Option<i64>,
        sealed: &[u8],
    ) -> Result<Option<i64>, StoreError> {
        let next = expected.unwrap_or(0) + 1;
        let changed = match (self.backend(), expected) {
            (Backend::Postgres(p), None) => sqlx::query("INSERT INTO integration_tokens (integration_id, version, sealed) VALUES ($1, 1, $2) ON CONFLICT DO NOTHING")
                .bind(owner).bind(sealed).execute(p).await?.rows_affected(),
            (Backend::Postgres(p), Some(v)) => sqlx::query("UPDATE integration_tokens SET version = $3, sealed = $2, updated_at = now() WHERE integration_id = $1 AND version = $4")
                .bind(owner).bind(sealed).bind(next).bind(v).execute(p).await?.rows_affected(),
            (Backend::Sqlite(p), None) => sqlx::query("INSERT OR IGNORE INTO integration_tokens (integration_id, version, sealed) VALUES (?1, 1, ?2)")
                .bind(owner.to_string()).bind(sealed).execute(p).await?.rows_affected(),
            (Backend::Sqlite(p), Some(v)) => sqlx::query("UPDATE integration_tokens SET version = ?3, sealed = ?2, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE integration_id = ?1 AND version = ?4")
                .bind(owner.to_string()).bind(sealed).bind(next).bind(v).execute(p).await?.rows_affected(),
        };
        Ok((changed == 1).then_some(next))
    }
}
