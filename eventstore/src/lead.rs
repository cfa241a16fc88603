//! One leader among the instances sharing a log, for work that must not run twice at once (the
//! file-note relay and webhook delivery: two of either would send everything twice). On
//! PostgreSQL a session advisory lock, held on a connection taken out of the pool for good:
//! dropping the [`Leadership`] closes that connection, and the server releases the lock with it
//! — also when the process dies. SQLite is one process's file: its only instance leads.

use std::time::Duration;

use sqlx::{Connection, PgConnection};

use crate::{
    error::StoreError,
    store::{Backend, EventStore},
};

/// How long a check of the lock's connection may take before it counts as lost (a half-open
/// connection would otherwise hang the leader until TCP gives up).
const CHECK_WITHIN: Duration = Duration::from_secs(5);

/// Held while this instance leads; let go by dropping it or, promptly, [`Leadership::release`].
pub struct Leadership {
    connection: Option<PgConnection>,
}

impl Leadership {
    /// Whether the lock is still held: false once its connection is gone or does not answer
    /// (the database restarted, say), when another instance may already lead.
    pub async fn held(&mut self) -> bool {
        match &mut self.connection {
            Some(c) => matches!(
                tokio::time::timeout(CHECK_WITHIN, c.ping()).await,
                Ok(Ok(()))
            ),
            None => true,
        }
    }

    /// Closes the lock's connection, so another instance can lead at once.
    pub async fn release(mut self) {
        if let Some(c) = self.connection.take() {
            let _ = tokio::time::timeout(CHECK_WITHIN, c.close()).await;
        }
    }
}

impl EventStore {
    /// Leads `name` if no other instance does; `None` while another one leads it.
    pub async fn try_lead(&self, name: &str) -> Result<Option<Leadership>, StoreError> {
        match &self.backend {
            Backend::Postgres(pool) => {
                // Out of the pool before asking: were this call abandoned after the server took
                // the lock, a pooled connection would go back still holding it.
                let mut connection = pool.acquire().await?.detach();
                let led: bool =
                    sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                        .bind(name)
                        .fetch_one(&mut connection)
                        .await?;
                if !led {
                    let _ = connection.close().await;
                    return Ok(None);
                }
                Ok(Some(Leadership {
                    connection: Some(connection),
                }))
            }
            Backend::Sqlite(_) => Ok(Some(Leadership { connection: None })),
        }
    }
}
