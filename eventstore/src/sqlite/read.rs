use sqlx::{sqlite::SqliteRow, Row, SqlitePool};
use uuid::Uuid;

use super::COLUMNS;
use crate::{
    error::StoreError,
    model::{Cursor, LogAnchor},
    raw::RawEvent,
};

/// SQLite keeps JSON as text: a row that does not parse is reported as corrupt at its position.
fn raw_from_row(row: &SqliteRow) -> Result<RawEvent, StoreError> {
    RawEvent::from_row(row, |row, position, col| {
        let text: String = row.try_get(col)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            position,
            reason: format!("{col}: {e}"),
        })
    })
}

fn all(rows: Vec<SqliteRow>) -> Result<Vec<RawEvent>, StoreError> {
    rows.iter().map(raw_from_row).collect()
}

pub(crate) async fn read_stream(
    pool: &SqlitePool,
    stream: &str,
    from_version: i64,
) -> Result<Vec<RawEvent>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM events WHERE stream = ? AND version >= ? ORDER BY version");
    all(sqlx::query(&sql)
        .bind(stream)
        .bind(from_version)
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn read_all(
    pool: &SqlitePool,
    after: Cursor,
    limit: i64,
) -> Result<Vec<RawEvent>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?");
    all(sqlx::query(&sql)
        .bind(after.position)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn events_by_id(
    pool: &SqlitePool,
    ids: &[Uuid],
) -> Result<Vec<RawEvent>, StoreError> {
    let mut found = Vec::new();
    let sql = format!("SELECT {COLUMNS} FROM events WHERE event_id = ?");
    for id in ids {
        if let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
            found.push(raw_from_row(&row)?);
        }
    }
    found.sort_by_key(|e| e.position);
    Ok(found)
}

pub(crate) async fn head(pool: &SqlitePool) -> Result<Cursor, StoreError> {
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM events")
        .fetch_one(pool)
        .await?;
    Ok(last
        .map(|p| Cursor { tx: p, position: p })
        .unwrap_or(Cursor::START))
}

pub(crate) async fn committed_head(pool: &SqlitePool) -> Result<Cursor, StoreError> {
    head(pool).await
}

pub(crate) async fn cursor_of(
    pool: &SqlitePool,
    position: i64,
) -> Result<Option<Cursor>, StoreError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT position FROM events WHERE position = ?")
        .bind(position)
        .fetch_optional(pool)
        .await?;
    Ok(found.map(|p| Cursor { tx: p, position: p }))
}

pub(crate) async fn save_checkpoint(
    pool: &SqlitePool,
    name: &str,
    at: Cursor,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO checkpoints (name, tx, position) VALUES (?, ?, ?) \
         ON CONFLICT (name) DO UPDATE SET tx = excluded.tx, position = excluded.position, \
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(name)
    .bind(at.tx)
    .bind(at.position)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn anchor(pool: &SqlitePool, at: Cursor) -> Result<Option<LogAnchor>, StoreError> {
    if at.tx != at.position {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT e.hash, (SELECT count(*) FROM events c WHERE c.position <= e.position) AS n \
         FROM events e WHERE e.position = ?",
    )
    .bind(at.position)
    .fetch_optional(pool)
    .await?;
    row.map(|r| LogAnchor::from_row(r.try_get("hash")?, r.try_get("n")?))
        .transpose()
}
