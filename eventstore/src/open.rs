//! Opening a log that must already exist, for the read-only verbs (verify, replay, export,
//! checkpoint): nothing is created or migrated, so pointing one at the wrong place is an error
//! naming that place rather than a fresh, empty — and falsely intact — log.

use std::str::FromStr;

use crate::{
    error::StoreError,
    store::{Backend, EventStore},
};
use sqlx::{
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqlitePoolOptions},
};

/// The newest migration this build expects; an older schema lacks the verifiable-log tables.
const REQUIRED_TABLES: &[&str] = &["events", "streams", "merkle_steps", "tree_checkpoints"];

impl EventStore {
    /// Opens an existing, migrated log. Errors name the URL when there is no database there or
    /// it holds no Hearth log.
    pub async fn open_existing(url: &str) -> Result<Self, StoreError> {
        let store = Self::open_as_it_is(url).await?;
        for table in REQUIRED_TABLES {
            if !store.has_table(table).await? {
                return Err(StoreError::NoLog {
                    url: redact(url),
                    reason: format!(
                        "the database has no `{table}` table: not a Hearth log, or not migrated by this version (run `hearth serve` once)"
                    ),
                });
            }
        }
        Ok(store)
    }

    /// Opens an existing database without migrating it or checking its schema (tests of
    /// migrations open a log at an older schema this way).
    pub(crate) async fn open_as_it_is(url: &str) -> Result<Self, StoreError> {
        let missing = |reason: String| StoreError::NoLog {
            url: redact(url),
            reason,
        };
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = crate::postgres::pool_options(4)
                .connect(url)
                .await
                .map_err(|e| missing(e.to_string()))?;
            Backend::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| missing(e.to_string()))?
                .create_if_missing(false)
                .read_only(false);
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await
                .map_err(|e| missing(format!("no database file ({e})")))?;
            Backend::Sqlite(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        Ok(EventStore::on(backend))
    }

    async fn has_table(&self, table: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = match &self.backend {
            Backend::Postgres(pool) => {
                sqlx::query_scalar("SELECT 1::bigint FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1")
                    .bind(table)
                    .fetch_optional(pool)
                    .await?
            }
            Backend::Sqlite(pool) => {
                sqlx::query_scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
                    .bind(table)
                    .fetch_optional(pool)
                    .await?
            }
        };
        Ok(found.is_some())
    }

    /// PostgreSQL with least privilege: migrates through `migration_url` (the tables' owner),
    /// then serves through `url` (a member of `hearth_service`, which may only append).
    pub async fn connect_migrated_by(url: &str, migration_url: &str) -> Result<Self, StoreError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        }
        let owner = PgPoolOptions::new()
            .max_connections(1)
            .connect(migration_url)
            .await?;
        sqlx::migrate!("../migrations/postgres").run(&owner).await?;
        owner.close().await;
        let pool = crate::postgres::pool_options(16).connect(url).await?;
        Ok(EventStore::on(Backend::Postgres(pool)))
    }

    /// Whether the log holds no event at all.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.committed_head().await? == crate::model::Cursor::START)
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
