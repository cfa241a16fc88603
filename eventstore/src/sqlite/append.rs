use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, Transaction};

use crate::{
    error::StoreError,
    model::{AppendResult, Cursor, StreamAppend},
    plan::{lock_order, new_heads, plan, recorded_at_now, Heads, Row as PlannedRow},
    signing::LogSigner,
};

/// SQLite caps bound parameters per statement; 12 columns × 500 rows stays well inside it.
const ROWS_PER_INSERT: usize = 500;

pub(crate) async fn append(
    pool: &SqlitePool,
    appends: &[StreamAppend],
    signer: Option<&LogSigner>,
) -> Result<AppendResult, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let heads = read_heads(&mut tx, appends).await?;
    let rows = plan(appends, &heads, recorded_at_now())?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(AppendResult {
            first_position: 0,
            last_position: 0,
            cursor: Cursor::START,
            versions: vec![],
        });
    }
    // One writer at a time: positions follow the rows' order, so the first row is the first
    // the signature covers.
    let mut signature = signer.map(|signer| {
        let hashes: Vec<[u8; 32]> = rows.iter().map(|r| r.hash).collect();
        Signature {
            events: hashes.len() as i64,
            key_id: signer.key_id(),
            bytes: signer.sign_append(&hashes),
        }
    });
    let mut first = i64::MAX;
    let mut last = 0;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let (lo, hi) = insert(&mut tx, chunk, signature.take())
            .await
            .map_err(map_duplicate_id)?;
        first = first.min(lo);
        last = last.max(hi);
    }
    let heads = new_heads(&rows);
    let mut upsert = QueryBuilder::<Sqlite>::new("INSERT INTO streams (stream, version, hash) ");
    upsert.push_values(&heads, |mut b, (stream, version, hash)| {
        b.push_bind(stream.as_str())
            .push_bind(*version)
            .push_bind(hash.to_vec());
    });
    upsert.push(
        " ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash",
    );
    upsert.build().execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(AppendResult {
        first_position: first,
        last_position: last,
        cursor: Cursor {
            tx: last,
            position: last,
        },
        versions: heads.into_iter().map(|(s, v, _)| (s, v)).collect(),
    })
}

/// The IMMEDIATE transaction already excludes other writers, so a plain read is a lock.
async fn read_heads(
    tx: &mut Transaction<'_, Sqlite>,
    appends: &[StreamAppend],
) -> Result<Heads, StoreError> {
    let mut heads = Heads::new();
    for stream in lock_order(appends) {
        let row = sqlx::query("SELECT version, hash FROM streams WHERE stream = ?")
            .bind(&stream)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(row) = row {
            let hash: Vec<u8> = row.try_get("hash")?;
            let hash: [u8; 32] = hash.try_into().map_err(|_| StoreError::Corrupt {
                position: 0,
                reason: "stream head hash".into(),
            })?;
            heads.insert(stream, (row.try_get("version")?, hash));
        }
    }
    Ok(heads)
}

/// An append's signature, stored in its first event's row.
struct Signature {
    events: i64,
    key_id: String,
    bytes: Vec<u8>,
}

/// Inserts `rows`; `signature`, when given, goes into the first of them.
async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    rows: &[PlannedRow<'_>],
    mut signature: Option<Signature>,
) -> Result<(i64, i64), StoreError> {
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO events (stream, version, event_id, event_type, schema_version, data, metadata, recorded_at, hash, sig_events, sig_key_id, signature) ",
    );
    let mut encoded = Vec::with_capacity(rows.len());
    for r in rows {
        encoded.push((
            r.event.data.to_string(),
            serde_json::to_string(&r.event.metadata)?,
        ));
    }
    q.push_values(rows.iter().zip(&encoded), |mut b, (r, (data, meta))| {
        let signed = signature.take();
        b.push_bind(r.stream)
            .push_bind(r.version)
            .push_bind(r.event.event_id)
            .push_bind(r.event.event_type.as_str())
            .push_bind(r.event.schema_version)
            .push_bind(data.as_str())
            .push_bind(meta.as_str())
            .push_bind(r.recorded_at)
            .push_bind(r.hash.to_vec())
            .push_bind(signed.as_ref().map(|s| s.events))
            .push_bind(signed.as_ref().map(|s| s.key_id.clone()))
            .push_bind(signed.map(|s| s.bytes));
    });
    q.push(" RETURNING position");
    let positions: Vec<i64> = q.build_query_scalar().fetch_all(&mut **tx).await?;
    let lo = positions.iter().copied().min().unwrap_or(0);
    let hi = positions.iter().copied().max().unwrap_or(0);
    Ok((lo, hi))
}

/// Versions are checked under the write lock, so the only unique key an insert can hit is the
/// event id: a re-send, which the store resolves.
fn map_duplicate_id(e: StoreError) -> StoreError {
    if e.is_unique_violation() {
        StoreError::DuplicateEventId(uuid::Uuid::nil())
    } else {
        e
    }
}
