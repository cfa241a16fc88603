// The output column `tx` is a cast of the stored xid8: ORDER BY must name `events.tx`, or it
// sorts by the cast and cannot use the (tx, position) index.
use sqlx::{postgres::PgRow, PgPool, Row};
use uuid::Uuid;

use super::{COLUMNS, DELIVERABLE};
use crate::{error::StoreError, model::Cursor, raw::RawEvent, raw::Seal};

pub(crate) fn raw_from_row(row: &PgRow) -> Result<RawEvent, sqlx::Error> {
    Ok(RawEvent {
        position: row.try_get("position")?,
        tx: row.try_get("tx")?,
        stream: row.try_get("stream")?,
        version: row.try_get("version")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        data: row.try_get("data")?,
        metadata: row.try_get("metadata")?,
        recorded_at: row.try_get("recorded_at")?,
        hash: row.try_get("hash")?,
    })
}

fn all(rows: Vec<PgRow>) -> Result<Vec<RawEvent>, StoreError> {
    Ok(rows.iter().map(raw_from_row).collect::<Result<_, _>>()?)
}

pub(crate) async fn read_stream(
    pool: &PgPool,
    stream: &str,
    from_version: i64,
) -> Result<Vec<RawEvent>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM events WHERE stream = $1 AND version >= $2 ORDER BY version"
    );
    all(sqlx::query(&sql)
        .bind(stream)
        .bind(from_version)
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn read_all(
    pool: &PgPool,
    after: Cursor,
    limit: i64,
) -> Result<Vec<RawEvent>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM events WHERE (tx, position) > ($1::text::xid8, $2) AND {DELIVERABLE} \
         ORDER BY events.tx, events.position LIMIT $3"
    );
    all(sqlx::query(&sql)
        .bind(after.tx.to_string())
        .bind(after.position)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn events_by_id(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<RawEvent>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM events WHERE event_id = ANY($1) ORDER BY position");
    all(sqlx::query(&sql).bind(ids).fetch_all(pool).await?)
}

pub(crate) async fn stream_version(pool: &PgPool, stream: &str) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT version FROM streams WHERE stream = $1")
            .bind(stream)
            .fetch_optional(pool)
            .await?,
    )
}

pub(crate) async fn head(pool: &PgPool) -> Result<Cursor, StoreError> {
    let sql = format!("SELECT tx::text::bigint AS tx, position FROM events WHERE {DELIVERABLE} ORDER BY events.tx DESC, events.position DESC LIMIT 1");
    let row = sqlx::query(&sql).fetch_optional(pool).await?;
    Ok(match row {
        Some(r) => Cursor {
            tx: r.try_get("tx")?,
            position: r.try_get("position")?,
        },
        None => Cursor::START,
    })
}

/// The newest committed event, deliverable or not yet (an older transaction may still be open).
pub(crate) async fn committed_head(pool: &PgPool) -> Result<Cursor, StoreError> {
    let row = sqlx::query("SELECT tx::text::bigint AS tx, position FROM events ORDER BY events.tx DESC, events.position DESC LIMIT 1").fetch_optional(pool).await?;
    Ok(match row {
        Some(r) => Cursor {
            tx: r.try_get("tx")?,
            position: r.try_get("position")?,
        },
        None => Cursor::START,
    })
}

pub(crate) async fn cursor_of(pool: &PgPool, position: i64) -> Result<Option<Cursor>, StoreError> {
    let row = sqlx::query("SELECT tx::text::bigint AS tx FROM events WHERE position = $1")
        .bind(position)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(r) => Some(Cursor {
            tx: r.try_get("tx")?,
            position,
        }),
        None => None,
    })
}

pub(crate) async fn load_checkpoint(pool: &PgPool, name: &str) -> Result<Cursor, StoreError> {
    let row = sqlx::query("SELECT tx, position FROM checkpoints WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(r) => Cursor {
            tx: r.try_get("tx")?,
            position: r.try_get("position")?,
        },
        None => Cursor::START,
    })
}

pub(crate) async fn save_checkpoint(
    pool: &PgPool,
    name: &str,
    at: Cursor,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO checkpoints (name, tx, position, updated_at) VALUES ($1, $2, $3, now()) \
         ON CONFLICT (name) DO UPDATE SET tx = EXCLUDED.tx, position = EXCLUDED.position, updated_at = now()",
    )
    .bind(name)
    .bind(at.tx)
    .bind(at.position)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn seals(pool: &PgPool) -> Result<Vec<Seal>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, up_to_tx, up_to_pos, event_count, running_hash FROM seals ORDER BY seq",
    )
    .fetch_all(pool)
    .await?;
    rows.iter().map(seal_from_row).collect()
}

fn seal_from_row(r: &PgRow) -> Result<Seal, StoreError> {
    let hash: Vec<u8> = r.try_get("running_hash")?;
    Ok(Seal {
        seq: r.try_get("seq")?,
        up_to: Cursor {
            tx: r.try_get("up_to_tx")?,
            position: r.try_get("up_to_pos")?,
        },
        event_count: r.try_get("event_count")?,
        running_hash: hash.try_into().map_err(|_| StoreError::Corrupt {
            position: 0,
            reason: "seal hash".into(),
        })?,
    })
}

/// False when another sealer continued the same seal first.
pub(crate) async fn insert_seal(
    pool: &PgPool,
    prev_seq: i64,
    up_to: Cursor,
    count: i64,
    hash: &[u8; 32],
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO seals (prev_seq, up_to_tx, up_to_pos, event_count, running_hash) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (prev_seq) DO NOTHING",
    )
    .bind(prev_seq)
        .bind(up_to.tx)
        .bind(up_to.position)
        .bind(count)
        .bind(hash.to_vec())
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn heads(pool: &PgPool) -> Result<Vec<(String, i64, Vec<u8>)>, StoreError> {
    Ok(sqlx::query_as("SELECT stream, version, hash FROM streams")
        .fetch_all(pool)
        .await?)
}
