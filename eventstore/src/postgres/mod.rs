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

use std::time::Duration;

use sqlx::{postgres::PgPoolOptions, PgPool};

use crate::error::StoreError;

/// A connection idle at least this long is pinged before it is handed out.
const PING_IF_IDLE: Duration = Duration::from_secs(1);

/// The service's pool settings. sqlx pings a connection when it is handed out (by default) and
/// again when it is given back (always, in the background): the first of these was 16% of the
/// service's CPU under a command load, most of it TLS, and a wait before every statement. A
/// connection in steady use is known good, and was tested when it was given back; one that sat
/// idle (the database may have restarted meanwhile) is pinged first, and one that fails anyway
/// is dropped from the pool and its statement answered as the outage it is.
pub(crate) fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

pub(crate) async fn connect(url: &str) -> Result<PgPool, StoreError> {
    let pool = pool_options(16).connect(url).await?;
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
