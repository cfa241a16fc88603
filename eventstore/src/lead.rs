//! One leader among the instances sharing a log, for work that must not run twice at once (the
//! file-note relay: two relays would put every note on the bus twice). On PostgreSQL a session
//! advisory lock, held on a connection taken out of the pool: dropping the [`Leadership`] closes
//! that connection, and the server releases the lock with it — also when the process dies.
//! SQLite is one process's file: its only instance leads.

use sqlx::{Connection, PgConnection};

use crate::{
    error::StoreError,
    store::{Backend, EventStore},
};

/// Held while this instance leads; let go by dropping it.
pub struct Leadership {
    connection: Option<PgConnection>,
}

impl Leadership {
    /// Whether the lock is still held: false once its connection is gone (the database
    /// restarted, say), when another instance may already lead.
    pub async fn held(&mut self) -> bool {
        match &mut self.connection {
            Some(c) => c.ping().await.is_ok(),
            None => true,
        }
    }
}

impl EventStore {
    /// Leads `name` if no other instance does; `None` while another one leads it.
    pub async fn try_lead(&self, name: &str) -> Result<Option<Leadership>, StoreError> {
        match &self.backend {
            Backend::Postgres(pool) => {
                let mut connection = pool.acquire().await?;
                let led: bool =
                    sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                        .bind(name)
                        .fetch_one(&mut *connection)
                        .await?;
                // Led: out of the pool for good, as a lock left on a pooled connection would
                // outlive the leadership. Not led: the connection holds nothing and goes back.
                Ok(led.then(|| Leadership {
                    connection: Some(connection.detach()),
                }))
            }
            Backend::Sqlite(_) => Ok(Some(Leadership { connection: None })),
        }
    }
}
