use sqlx::{sqlite::SqliteRow, Row, SqlitePool};
use uuid::Uuid;

use super::COLUMNS;
use crate::{error::StoreError, model::Cursor, raw::RawEvent, raw::Seal};

fn raw_from_row(row: &SqliteRow) -> Result<RawEvent, StoreError> {
    let position: i64 = row.try_get("position")?;
    let json = |col: &str| -> Result<serde_json::Value, StoreError> {
        let text: String = row.try_get(col)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            position,
            reason: format!("{col}: {e}"),
        })
    };
    Ok(RawEvent {
        position,
        tx: row.try_get("tx")?,
        stream: row.try_get("stream")?,
        version: row.try_get("version")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        data: json("data")?,
        metadata: json("metadata")?,
        recorded_at: row.try_get("recorded_at")?,
        hash: row.try_get("hash")?,
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

pub(crate) async fn stream_version(
    pool: &SqlitePool,
    stream: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT version FROM streams WHERE stream = ?")
            .bind(stream)
            .fetch_optional(pool)
            .await?,
    )
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

pub(crate) async fn load_checkpoint(pool: &SqlitePool, name: &str) -> Result<Cursor, StoreError> {
    let row = sqlx::query("SELECT tx, position FROM checkpoints WHERE name = ?")
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

pub(crate) async fn seals(pool: &SqlitePool) -> Result<Vec<Seal>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, up_to_tx, up_to_pos, event_count, running_hash FROM seals ORDER BY seq",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
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
        })
        .collect()
}

pub(crate) async fn insert_seal(
    pool: &SqlitePool,
    prev_seq: i64,
    up_to: Cursor,
    count: i64,
    hash: &[u8; 32],
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO seals (prev_seq, up_to_tx, up_to_pos, event_count, running_hash) VALUES (?, ?, ?, ?, ?) \
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

pub(crate) async fn heads(pool: &SqlitePool) -> Result<Vec<(String, i64, Vec<u8>)>, StoreError> {
    Ok(sqlx::query_as("SELECT stream, version, hash FROM streams")
        .fetch_all(pool)
        .await?)
}
