//! The log's queries that both dialects accept as written; reads whose SQL or decoding differs
//! (event columns, delivery order, upserts with timestamps) stay in `postgres` and `sqlite`.

use sqlx::{PgPool, SqlitePool};
use uuid::{fmt::Hyphenated, Uuid};

use crate::{
    error::StoreError,
    model::Cursor,
    raw::Seal,
    store::{with_pool, EventStore},
};

/// How each dialect's id columns hold a UUID: PostgreSQL's `uuid`, SQLite's hyphenated text. In
/// a [`with_pool!`] body, `.bind(pool.uuid(id))` binds an id the way the pool's table holds it.
pub(crate) trait UuidColumn {
    type Arg;
    fn uuid(&self, id: Uuid) -> Self::Arg;
}

impl UuidColumn for PgPool {
    type Arg = Uuid;
    fn uuid(&self, id: Uuid) -> Uuid {
        id
    }
}

impl UuidColumn for SqlitePool {
    type Arg = Hyphenated;
    fn uuid(&self, id: Uuid) -> Hyphenated {
        id.hyphenated()
    }
}

impl EventStore {
    pub async fn stream_version(&self, stream: &str) -> Result<Option<i64>, StoreError> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT version FROM streams WHERE stream = $1"
        )
        .bind(stream)
        .fetch_optional(pool)
        .await)?)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(name), err(level = "debug"))]
    pub async fn load_checkpoint(&self, name: &str) -> Result<Cursor, StoreError> {
        let found: Option<(i64, i64)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT tx, position FROM checkpoints WHERE name = $1"
        )
        .bind(name)
        .fetch_optional(pool)
        .await)?;
        Ok(found.map_or(Cursor::START, |(tx, position)| Cursor { tx, position }))
    }

    pub(crate) async fn seals(&self) -> Result<Vec<Seal>, StoreError> {
        let sql =
            "SELECT seq, up_to_tx, up_to_pos, event_count, running_hash FROM seals ORDER BY seq";
        let rows: Vec<(i64, i64, i64, i64, Vec<u8>)> =
            with_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await)?;
        rows.into_iter()
            .map(|(seq, tx, position, event_count, hash)| {
                Ok(Seal {
                    seq,
                    up_to: Cursor { tx, position },
                    event_count,
                    running_hash: hash.try_into().map_err(|_| StoreError::Corrupt {
                        position: 0,
                        reason: "seal hash".into(),
                    })?,
                })
            })
            .collect()
    }

    /// False when another sealer continued the same seal first.
    pub(crate) async fn insert_seal(
        &self,
        prev_seq: i64,
        up_to: Cursor,
        count: i64,
        hash: &[u8; 32],
    ) -> Result<bool, StoreError> {
        let inserted = with_pool!(self, |pool| sqlx::query(
            "INSERT INTO seals (prev_seq, up_to_tx, up_to_pos, event_count, running_hash) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (prev_seq) DO NOTHING",
        )
        .bind(prev_seq)
        .bind(up_to.tx)
        .bind(up_to.position)
        .bind(count)
        .bind(hash.to_vec())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(inserted == 1)
    }

    pub(crate) async fn heads(&self) -> Result<Vec<(String, i64, Vec<u8>)>, StoreError> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT stream, version, hash FROM streams"
        )
        .fetch_all(pool)
        .await)?)
    }
}
