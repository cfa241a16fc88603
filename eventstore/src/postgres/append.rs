use std::collections::HashSet;

use sqlx::{PgPool, Postgres, Row, Transaction};

use crate::{
    error::StoreError,
    model::{AppendResult, Cursor, StreamAppend},
    plan::{lock_order, new_heads, plan, recorded_at_now, Heads, Row as PlannedRow},
    signing::LogSigner,
};

pub(crate) async fn append(
    pool: &PgPool,
    appends: &[StreamAppend],
    signer: Option<&LogSigner>,
) -> Result<AppendResult, StoreError> {
    let mut tx = pool.begin().await?;
    let result = append_in(&mut tx, appends, signer).await?;
    tx.commit()
        .await
        .map_err(|e| map_unique_violation(e.into()))?;
    Ok(result)
}

/// Appends inside the caller's transaction; nothing is visible until the caller commits.
pub(crate) async fn append_in(
    tx: &mut Transaction<'_, Postgres>,
    appends: &[StreamAppend],
    signer: Option<&LogSigner>,
) -> Result<AppendResult, StoreError> {
    let heads = lock_heads(tx, appends).await?;
    let rows = plan(appends, &heads, recorded_at_now())?;
    if rows.is_empty() {
        return Ok(AppendResult {
            first_position: 0,
            last_position: 0,
            cursor: Cursor::START,
            versions: vec![],
        });
    }
    insert(tx, &rows, signer)
        .await
        .map_err(map_unique_violation)
}

/// Writers lock their streams FOR UPDATE; pure version checks FOR SHARE, which still blocks a
/// concurrent writer of that stream until this append commits.
async fn lock_heads(
    tx: &mut Transaction<'_, Postgres>,
    appends: &[StreamAppend],
) -> Result<Heads, StoreError> {
    let writing: HashSet<&str> = appends
        .iter()
        .filter(|a| !a.events.is_empty())
        .map(|a| a.stream.as_str())
        .collect();
    let (write, check): (Vec<String>, Vec<String>) = lock_order(appends)
        .into_iter()
        .partition(|s| writing.contains(s.as_str()));
    let mut heads = Heads::new();
    for (names, mode) in [(write, "UPDATE"), (check, "SHARE")] {
        if names.is_empty() {
            continue;
        }
        let sql = format!("SELECT stream, version, hash FROM streams WHERE stream = ANY($1) ORDER BY stream FOR {mode}");
        for row in sqlx::query(&sql).bind(&names).fetch_all(&mut **tx).await? {
            let hash: Vec<u8> = row.try_get("hash")?;
            let hash: [u8; 32] = hash.try_into().map_err(|_| StoreError::Corrupt {
                position: 0,
                reason: "stream head hash".into(),
            })?;
            heads.insert(row.try_get("stream")?, (row.try_get("version")?, hash));
        }
    }
    Ok(heads)
}

async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    rows: &[PlannedRow<'_>],
    signer: Option<&LogSigner>,
) -> Result<AppendResult, StoreError> {
    let n = rows.len();
    let (
        mut streams,
        mut versions,
        mut ids,
        mut types,
        mut schema,
        mut data,
        mut meta,
        mut at,
        mut hashes,
    ) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in rows {
        streams.push(r.stream);
        versions.push(r.version);
        ids.push(r.event.event_id);
        types.push(r.event.event_type.as_str());
        schema.push(r.event.schema_version);
        data.push(&r.event.data);
        meta.push(serde_json::to_value(&r.event.metadata)?);
        at.push(r.recorded_at);
        hashes.push(r.hash.to_vec());
    }
    let inserted = sqlx::query(
        "INSERT INTO events (stream, version, event_id, event_type, schema_version, data, metadata, recorded_at, hash) \
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[], $8::timestamptz[], $9::bytea[]) \
         RETURNING position, tx::text::bigint AS tx, event_id",
    )
    .bind(&streams)
    .bind(&versions)
    .bind(&ids)
    .bind(&types)
    .bind(&schema)
    .bind(&data)
    .bind(&meta)
    .bind(&at)
    .bind(&hashes)
    .fetch_all(&mut **tx)
    .await?;

    let heads = new_heads(rows);
    let head_streams: Vec<&str> = heads.iter().map(|(s, _, _)| s.as_str()).collect();
    let head_versions: Vec<i64> = heads.iter().map(|(_, v, _)| *v).collect();
    let head_hashes: Vec<Vec<u8>> = heads.iter().map(|(_, _, h)| h.to_vec()).collect();
    sqlx::query(
        "INSERT INTO streams (stream, version, hash) SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bytea[]) \
         ON CONFLICT (stream) DO UPDATE SET version = EXCLUDED.version, hash = EXCLUDED.hash",
    )
    .bind(&head_streams)
    .bind(&head_versions)
    .bind(&head_hashes)
    .execute(&mut **tx)
    .await?;

    let mut positions: Vec<(i64, i64)> = Vec::with_capacity(inserted.len());
    let mut written: Vec<(i64, uuid::Uuid)> = Vec::with_capacity(inserted.len());
    for row in inserted {
        let position: i64 = row.try_get("position")?;
        positions.push((position, row.try_get("tx")?));
        written.push((position, row.try_get("event_id")?));
    }
    if let Some(signer) = signer {
        sign_append(tx, rows, written, signer).await?;
    }
    let first = positions.iter().map(|p| p.0).min().unwrap_or(0);
    let (last, tx_id) = positions.iter().copied().max().unwrap_or((0, 0));
    Ok(AppendResult {
        first_position: first,
        last_position: last,
        cursor: Cursor {
            tx: tx_id,
            position: last,
        },
        versions: heads.into_iter().map(|(s, v, _)| (s, v)).collect(),
    })
}

/// Signs the hashes in the order readers will meet them (position order within this transaction).
async fn sign_append(
    tx: &mut Transaction<'_, Postgres>,
    rows: &[PlannedRow<'_>],
    mut written: Vec<(i64, uuid::Uuid)>,
    signer: &LogSigner,
) -> Result<(), StoreError> {
    written.sort_unstable();
    let by_id: std::collections::HashMap<uuid::Uuid, [u8; 32]> =
        rows.iter().map(|r| (r.event.event_id, r.hash)).collect();
    let hashes: Vec<[u8; 32]> = written
        .iter()
        .filter_map(|(_, id)| by_id.get(id).copied())
        .collect();
    let Some((_, first)) = written.first() else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO append_signatures (first_event_id, event_count, key_id, signature) VALUES ($1, $2, $3, $4)",
    )
    .bind(first)
    .bind(hashes.len() as i32)
    .bind(signer.key_id())
    .bind(signer.sign_append(&hashes))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Two writers that both created the same new stream meet at the (stream, version) key.
fn map_unique_violation(e: StoreError) -> StoreError {
    if let StoreError::Database(sqlx::Error::Database(db)) = &e {
        if db.code().as_deref() == Some("23505") {
            return match db.constraint() {
                Some("events_event_id_key") => StoreError::DuplicateEventId(uuid::Uuid::nil()),
                _ => StoreError::Conflict {
                    stream: String::new(),
                    expected: crate::model::ExpectedVersion::Any,
                    actual: None,
                },
            };
        }
    }
    e
}
