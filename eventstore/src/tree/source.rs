//! What the tree builder reads of the log: per event only what a leaf needs (position, hash,
//! practice) and, for the first event of each append, the append's signature — one query, no
//! payloads. Reading whole events and then their signatures by id cost the builder more than
//! the appends it followed.

use std::collections::HashMap;

use sqlx::Row;
use uuid::Uuid;

use super::builder::Chained;
use crate::{
    error::StoreError,
    merkle::Hash,
    model::Cursor,
    raw::stored_hash_at,
    store::{with_pool, Backend, EventStore},
};

pub(crate) struct LeafSource {
    pub event_id: Uuid,
    pub tx: i64,
    pub position: i64,
    pub stream: String,
    pub version: i64,
    pub hash: Vec<u8>,
    pub practice_id: Option<Uuid>,
}

impl LeafSource {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            tx: self.tx,
            position: self.position,
        }
    }
}

impl Chained for LeafSource {
    fn event_id(&self) -> Uuid {
        self.event_id
    }

    fn stored_hash(&self) -> Result<Hash, StoreError> {
        stored_hash_at(self.position, &self.hash)
    }
}

/// The events after `after` in commit-safe order, and the signatures of the appends they start.
pub(crate) type SourceBatch = (Vec<LeafSource>, HashMap<Uuid, (i32, String, Vec<u8>)>);

/// The columns read, and where an append's signature comes from: its first event's row, or for
/// appends written before migration 0012, `append_signatures` (joined only while it has rows:
/// see [`EventStore::leaf_sources`]).
const OWN_SIGNATURE: &str = "e.sig_events AS event_count, e.sig_key_id AS key_id, e.signature";
const OWN_OR_LEGACY_SIGNATURE: &str =
    "CASE WHEN e.signature IS NULL THEN s.event_count ELSE e.sig_events END AS event_count, \
     CASE WHEN e.signature IS NULL THEN s.key_id ELSE e.sig_key_id END AS key_id, \
     coalesce(e.signature, s.signature) AS signature";
const LEGACY_JOIN: &str = "LEFT JOIN append_signatures s ON s.first_event_id = e.event_id";

/// The signature's columns and the join that brings them, with or without the old table.
fn signature_source(legacy: bool) -> (&'static str, &'static str) {
    if legacy {
        (OWN_OR_LEGACY_SIGNATURE, LEGACY_JOIN)
    } else {
        (OWN_SIGNATURE, "")
    }
}

fn pg_sql(legacy: bool) -> String {
    let (columns, join) = signature_source(legacy);
    format!(
        "SELECT e.event_id, e.tx::text::bigint AS tx, e.position, e.stream, e.version, e.hash, \
         e.metadata->>'practice_id' AS practice_id, {columns} FROM events e {join} \
         WHERE (e.tx, e.position) > ($1::text::xid8, $2) \
           AND e.tx < (SELECT pg_snapshot_xmin(pg_current_snapshot())) \
         ORDER BY e.tx, e.position LIMIT $3"
    )
}

// SQLite has one writer at a time: position order is commit order, and tx is the position.
fn lite_sql(legacy: bool) -> String {
    let (columns, join) = signature_source(legacy);
    format!(
        "SELECT e.event_id, e.position AS tx, e.position, e.stream, e.version, e.hash, \
         json_extract(e.metadata, '$.practice_id') AS practice_id, {columns} FROM events e {join} \
         WHERE e.position > $1 ORDER BY e.position LIMIT $2"
    )
}

impl EventStore {
    /// `legacy`: whether `append_signatures` holds rows, so must be joined. Checked when a builder
    /// loads: the service no longer writes there, so a row added later is not its own, and an
    /// event whose only signature it is stays unsigned either way.
    pub(crate) async fn leaf_sources(
        &self,
        after: Cursor,
        limit: usize,
        legacy: bool,
    ) -> Result<SourceBatch, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        match &self.backend {
            Backend::Postgres(pool) => {
                let rows = sqlx::query(&pg_sql(legacy))
                    .bind(after.tx.to_string())
                    .bind(after.position)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                collect(rows.iter())
            }
            Backend::Sqlite(pool) => {
                let rows = sqlx::query(&lite_sql(legacy))
                    .bind(after.position)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                collect(rows.iter())
            }
        }
    }

    pub(crate) async fn has_legacy_signatures(&self) -> Result<bool, StoreError> {
        Ok(with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM append_signatures)"
        )
        .fetch_one(pool)
        .await)?)
    }
}

fn collect<'r, R>(rows: impl Iterator<Item = &'r R>) -> Result<SourceBatch, StoreError>
where
    R: Row + 'r,
    &'static str: sqlx::ColumnIndex<R>,
    i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Uuid: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<i32>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut sources = Vec::new();
    let mut signatures = HashMap::new();
    for row in rows {
        let position: i64 = row.try_get("position")?;
        let practice: Option<String> = row.try_get("practice_id")?;
        let practice_id = practice
            .map(|p| {
                Uuid::parse_str(&p).map_err(|e| StoreError::Corrupt {
                    position,
                    reason: format!("metadata: practice_id: {e}"),
                })
            })
            .transpose()?;
        let event_id: Uuid = row.try_get("event_id")?;
        let count: Option<i32> = row.try_get("event_count")?;
        let key_id: Option<String> = row.try_get("key_id")?;
        let signature: Option<Vec<u8>> = row.try_get("signature")?;
        if let (Some(count), Some(key_id), Some(signature)) = (count, key_id, signature) {
            signatures.insert(event_id, (count, key_id, signature));
        }
        sources.push(LeafSource {
            event_id,
            tx: row.try_get("tx")?,
            position,
            stream: row.try_get("stream")?,
            version: row.try_get("version")?,
            hash: row.try_get("hash")?,
            practice_id,
        });
    }
    Ok((sources, signatures))
}
