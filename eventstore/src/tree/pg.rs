//! The tree's tables on PostgreSQL.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use super::{add_signatures, BlockRow, SignatureRow, TreeStep, BLOCK_COLUMNS, SIGNATURE_SOURCES};
use crate::{error::StoreError, model::Cursor};

pub(crate) async fn nodes(
    pool: &PgPool,
    keys: &[(u32, u64)],
) -> Result<HashMap<(u32, u64), Vec<u8>>, StoreError> {
    let levels: Vec<i32> = keys.iter().map(|k| k.0 as i32).collect();
    let idxs: Vec<i64> = keys.iter().map(|k| k.1 as i64).collect();
    let rows = sqlx::query_as(
        "SELECT n.level, n.idx, n.hash FROM merkle_nodes n JOIN UNNEST($1::int[], $2::bigint[]) AS k(level, idx) \
         ON n.level = k.level AND n.idx = k.idx",
    )
    .bind(&levels)
    .bind(&idxs)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(level, idx, hash): (i32, i64, Vec<u8>)| ((level as u32, idx as u64), hash))
        .collect())
}

/// The newest (longest) row of each of these blocks: its leaves' event hashes, concatenated.
pub(crate) async fn blocks(
    pool: &PgPool,
    idxs: &[u64],
) -> Result<HashMap<u64, Vec<u8>>, StoreError> {
    let idxs: Vec<i64> = idxs.iter().map(|&i| i as i64).collect();
    let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT DISTINCT ON (idx) idx, event_hashes FROM merkle_blocks WHERE idx = ANY($1) \
         ORDER BY idx, leaves DESC",
    )
    .bind(&idxs)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(i, h)| (i as u64, h)).collect())
}

pub(crate) async fn signatures(
    pool: &PgPool,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, (i32, String, Vec<u8>)>, StoreError> {
    let mut out = HashMap::with_capacity(ids.len());
    for source in SIGNATURE_SOURCES {
        let rows: Vec<SignatureRow> = sqlx::query_as(&format!("{source} = ANY($1)"))
            .bind(ids)
            .fetch_all(pool)
            .await?;
        add_signatures(&mut out, rows);
    }
    Ok(out)
}

/// The newest (longest) row of each of these blocks, whole.
pub(crate) async fn full_blocks(
    pool: &PgPool,
    idxs: &[u64],
) -> Result<HashMap<u64, BlockRow>, StoreError> {
    let idxs: Vec<i64> = idxs.iter().map(|&i| i as i64).collect();
    let rows: Vec<BlockRow> = sqlx::query_as(&format!(
        "SELECT DISTINCT ON (idx) {BLOCK_COLUMNS} FROM merkle_blocks WHERE idx = ANY($1) \
         ORDER BY idx, leaves DESC"
    ))
    .bind(&idxs)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|b| (b.idx as u64, b)).collect())
}

/// How many events the log has after `after`, up to and with `upto`, in commit order.
pub(crate) async fn events_between(
    pool: &PgPool,
    after: Cursor,
    upto: Cursor,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE (tx, position) > ($1::text::xid8, $2) \
         AND (tx, position) <= ($3::text::xid8, $4)",
    )
    .bind(after.tx.to_string())
    .bind(after.position)
    .bind(upto.tx.to_string())
    .bind(upto.position)
    .fetch_one(pool)
    .await?)
}

/// The block (its longest row) whose first leaf is the last at or before `cursor` in commit
/// order: the one that holds the leaf of the event at `cursor`, if any does.
pub(crate) async fn block_at(
    pool: &PgPool,
    cursor: Cursor,
) -> Result<Option<BlockRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {BLOCK_COLUMNS} FROM merkle_blocks WHERE (first_tx, first_position) <= ($1, $2) \
         ORDER BY first_tx DESC, first_position DESC, leaves DESC LIMIT 1"
    ))
    .bind(cursor.tx)
    .bind(cursor.position)
    .fetch_optional(pool)
    .await?)
}

/// One builder step, in one statement (so one round trip, and atomic without a transaction of
/// its own): its row in merkle_steps, the blocks it filled or grew, its nodes and its
/// practices' runs.
pub(crate) async fn store_tree(pool: &PgPool, step: &TreeStep) -> Result<(), StoreError> {
    let (blocks, made, runs) = (&step.blocks, &step.nodes, &step.runs);
    let mut first_tx = Vec::with_capacity(blocks.len());
    let mut first_position = Vec::with_capacity(blocks.len());
    for b in blocks {
        let first = b.first_cursor()?;
        first_tx.push(first.tx);
        first_position.push(first.position);
    }
    sqlx::query(
        "WITH step AS (INSERT INTO merkle_steps (first_leaf, leaves) VALUES ($1, $2)) \
         , nodes AS (INSERT INTO merkle_nodes (level, idx, hash) SELECT * FROM UNNEST($3::int[], $4::bigint[], $5::bytea[])) \
         , runs AS (INSERT INTO merkle_practice_runs (practice_id, first_leaf, leaf_indexes, events, fold) \
             SELECT * FROM UNNEST($6::uuid[], $7::bigint[], $8::bytea[], $9::bigint[], $10::bytea[])) \
         INSERT INTO merkle_blocks (idx, leaves, first_tx, first_position, event_hashes, event_ids, cursors, group_starts) \
         SELECT * FROM UNNEST($11::bigint[], $12::int[], $13::bigint[], $14::bigint[], $15::bytea[], $16::bytea[], $17::bytea[], $18::bytea[])",
    )
    .bind(step.first_leaf)
    .bind(step.leaves)
    .bind(made.iter().map(|n| n.level as i32).collect::<Vec<_>>())
    .bind(made.iter().map(|n| n.index as i64).collect::<Vec<_>>())
    .bind(made.iter().map(|n| n.hash.to_vec()).collect::<Vec<_>>())
    .bind(runs.iter().map(|r| r.practice_id).collect::<Vec<_>>())
    .bind(runs.iter().map(|r| r.first_leaf).collect::<Vec<_>>())
    .bind(runs.iter().map(|r| r.leaf_indexes.as_slice()).collect::<Vec<_>>())
    .bind(runs.iter().map(|r| r.events).collect::<Vec<_>>())
    .bind(runs.iter().map(|r| r.fold.as_slice()).collect::<Vec<_>>())
    .bind(blocks.iter().map(|b| b.idx).collect::<Vec<_>>())
    .bind(blocks.iter().map(|b| b.len() as i32).collect::<Vec<_>>())
    .bind(&first_tx)
    .bind(&first_position)
    .bind(blocks.iter().map(|b| b.event_hashes.as_slice()).collect::<Vec<_>>())
    .bind(blocks.iter().map(|b| b.event_ids.as_slice()).collect::<Vec<_>>())
    .bind(blocks.iter().map(|b| b.cursors.as_slice()).collect::<Vec<_>>())
    .bind(blocks.iter().map(|b| b.group_starts.as_slice()).collect::<Vec<_>>())
    .execute(pool)
    .await?;
    Ok(())
}
