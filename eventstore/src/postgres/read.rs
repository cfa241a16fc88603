// The output column `tx` is a cast of the stored xid8: ORDER BY must name `events.tx`, or it
// sorts by the cast and cannot use the (tx, position) index.
use sqlx::{postgres::PgRow, PgPool, Row};
use uuid::Uuid;

use super::{COLUMNS, DELIVERABLE};
use crate::{
    error::StoreError,
    model::{Cursor, LogAnchor},
    raw::RawEvent,
};

fn all(rows: Vec<PgRow>) -> Result<Vec<RawEvent>, StoreError> {
    rows.iter()
        .map(|row| RawEvent::from_row(row, |row, _, col| Ok(row.try_get(col)?)))
        .collect()
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

pub(crate) async fn head(pool: &PgPool) -> Result<Cursor, StoreError> {
    newest(pool, &format!("WHERE {DELIVERABLE}")).await
}

/// The newest committed event, deliverable or not yet (an older transaction may still be open).
pub(crate) async fn committed_head(pool: &PgPool) -> Result<Cursor, StoreError> {
    newest(pool, "").await
}

async fn newest(pool: &PgPool, filter: &str) -> Result<Cursor, StoreError> {
    let sql = format!(
        "SELECT tx::text::bigint AS tx, position FROM events {filter} \
         ORDER BY events.tx DESC, events.position DESC LIMIT 1"
    );
    let found: Option<(i64, i64)> = sqlx::query_as(&sql).fetch_optional(pool).await?;
    Ok(found.map_or(Cursor::START, |(tx, position)| Cursor { tx, position }))
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
/// The stored hash of the event at `at` and how many events come at or before it in
/// subscription order; `None` when no event sits at that cursor.
pub(crate) async fn anchor(pool: &PgPool, at: Cursor) -> Result<Option<LogAnchor>, StoreError> {
    let row = sqlx::query(
        "SELECT e.hash, (SELECT count(*) FROM events c WHERE (c.tx, c.position) <= (e.tx, e.position)) AS n \
         FROM events e WHERE e.position = $1 AND e.tx = $2::text::xid8",
    )
    .bind(at.position)
    .bind(at.tx.to_string())
    .fetch_optional(pool)
    .await?;
    row.map(|r| LogAnchor::from_row(r.try_get("hash")?, r.try_get("n")?))
        .transpose()
}
