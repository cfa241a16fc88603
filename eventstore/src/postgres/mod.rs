//! PostgreSQL backend: production. Subscription order is (writing transaction, position) and only
//! transactions older than every running one are delivered, so nothing is ever skipped.

mod append;
mod group;
mod notify;
mod read;

pub(crate) use append::append_in;
pub(crate) use group::Grouper;
pub(crate) use notify::spawn_notifier;
pub(crate) use read::*;

use sqlx::{postgres::PgPoolOptions, PgPool};

use crate::error::StoreError;

pub(crate) async fn connect(url: &str) -> Result<PgPool, StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect(url)
        .await?;
    sqlx::migrate!("../migrations/postgres").run(&pool).await?;
    Ok(pool)
}

pub(crate) const NOTIFY_CHANNEL: &str = "hearth_events";

/// Columns of a raw event, named as `RawEvent::from_row` reads them.
pub(crate) const COLUMNS: &str =
    "position, tx::text::bigint AS tx, stream, version, event_id, event_type, \
     schema_version, data, metadata, recorded_at, hash";

/// Events below this are committed or rolled back for good: nothing can appear before them anymore.
/// The sub-select makes it an init-plan, evaluated once per query rather than once per row.
pub(crate) const DELIVERABLE: &str = "tx < (SELECT pg_snapshot_xmin(pg_current_snapshot()))";
