//! Wakes other processes' subscribers after this process's appends commit. Appends themselves
//! no longer NOTIFY (migration 0006): PostgreSQL serialises the commits of notifying
//! transactions, which cost every writer its group commit. One NOTIFY here stands for all
//! appends committed since the last one; a notify-only transaction writes no WAL of its own, so
//! it never waits for a flush.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

use super::NOTIFY_CHANNEL;

/// At most one NOTIFY per this interval: the extra latency other processes may see, against a
/// transaction and a wake-up of every listener per append under load.
const MIN_GAP: Duration = Duration::from_millis(5);

/// Runs until every sender of `appended` (every clone of the store) is gone.
pub(crate) fn spawn_notifier(pool: PgPool, mut appended: watch::Receiver<i64>) {
    tokio::spawn(async move {
        while appended.changed().await.is_ok() {
            appended.borrow_and_update();
            if let Err(e) = sqlx::query("SELECT pg_notify($1, '')")
                .bind(NOTIFY_CHANNEL)
                .execute(&pool)
                .await
            {
                tracing::debug!(error = %e, "NOTIFY failed; other processes' subscribers will poll");
            }
            tokio::time::sleep(MIN_GAP).await;
        }
    });
}
