//! The tree's tables on SQLite.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use uuid::Uuid;

use super::{add_signatures, BlockRow, SignatureRow, TreeStep, BLOCK_COLUMNS, SIGNATURE_SOURCES};
use crate::{error::StoreError, model::Cursor};

pub(crate) async fn nodes(
    pool: &SqlitePool,
    keys: &[(u32, u64)],
) -> Result<HashMap<(u32, u64), Vec<u8>>, StoreError> {
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(400) {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT level, idx, hash FROM merkle_nodes WHERE ");
        for (i, (level, idx)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(level = ")
                .push_bind(*level as i64)
                .push(" AND idx = ")
                .push_bind(*idx as i64)
                .push(")");
        }
        let rows: Vec<(i64, i64, Vec<u8>)> = q.build_query_as().fetch_all(pool).await?;
        out.extend(
            rows.into_iter()
                .map(|(level, idx, hash)| ((level as u32, idx as u64), hash)),
        );
    }
    Ok(out)
}

/// The newest (longest) row of each of these blocks: its leaves' event hashes, concatenated.
pub(crate) async fn blocks(
    pool: &SqlitePool,
    idxs: &[u64],
) -> Result<HashMap<u64, Vec<u8>>, StoreError> {
    let mut out = HashMap::new();
    for chunk in idxs.chunks(400) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT idx, event_hashes FROM merkle_blocks b WHERE leaves = \
             (SELECT max(leaves) FROM merkle_blocks m WHERE m.idx = b.idx) AND idx IN (",
        );
        let mut list = q.separated(", ");
        for idx in chunk {
            list.push_bind(*idx as i64);
        }
        q.push(")");
        let rows: Vec<(i64, Vec<u8>)> = q.build_query_as().fetch_all(pool).await?;
        out.extend(rows.into_iter().map(|(i, h)| (i as u64, h)));
    }
    Ok(out)
}

pub(crate) async fn signatures(
    pool: &SqlitePool,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, (i32, String, Vec<u8>)>, StoreError> {
    let mut out = HashMap::with_capacity(ids.len());
    for source in SIGNATURE_SOURCES {
        for chunk in ids.chunks(500) {
            let mut q = QueryBuilder::<Sqlite>::new(source);
            q.push(" IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            q.push(")");
            let rows: Vec<SignatureRow> = q.build_query_as().fetch_all(pool).await?;
            add_signatures(&mut out, rows);
        }
    }
    Ok(out)
}

/// The newest (longest) row of each of these blocks, whole.
pub(crate) async fn full_blocks(
    pool: &SqlitePool,
    idxs: &[u64],
) -> Result<HashMap<u64, BlockRow>, StoreError> {
    let mut out = HashMap::with_capacity(idxs.len());
    for chunk in idxs.chunks(400) {
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {BLOCK_COLUMNS} FROM merkle_blocks b WHERE leaves = \
             (SELECT max(leaves) FROM merkle_blocks m WHERE m.idx = b.idx) AND idx IN ("
        ));
        let mut list = q.separated(", ");
        for idx in chunk {
            list.push_bind(*idx as i64);
        }
        q.push(")");
        let rows: Vec<BlockRow> = q.build_query_as().fetch_all(pool).await?;
        out.extend(rows.into_iter().map(|b| (b.idx as u64, b)));
    }
    Ok(out)
}

/// How many events the log has after `after`, up to and with `upto`.
pub(crate) async fn events_between(
    pool: &SqlitePool,
    after: Cursor,
    upto: Cursor,
) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM events WHERE position > ? AND position <= ?")
            .bind(after.position)
            .bind(upto.position)
            .fetch_one(pool)
            .await?,
    )
}

/// The block (its longest row) whose first leaf is the last at or before `cursor`.
pub(crate) async fn block_at(
    pool: &SqlitePool,
    cursor: Cursor,
) -> Result<Option<BlockRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {BLOCK_COLUMNS} FROM merkle_blocks WHERE first_position <= ? \
         ORDER BY first_position DESC, leaves DESC LIMIT 1"
    ))
    .bind(cursor.position)
    .fetch_optional(pool)
    .await?)
}

/// One builder step in one transaction: its step row, nodes, practice runs and blocks.
pub(crate) async fn store_tree(pool: &SqlitePool, step: &TreeStep) -> Result<(), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("INSERT INTO merkle_steps (first_leaf, leaves) VALUES (?, ?)")
        .bind(step.first_leaf)
        .bind(step.leaves)
        .execute(&mut *tx)
        .await?;
    for chunk in step.nodes.chunks(300) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO merkle_nodes (level, idx, hash) ");
        q.push_values(chunk, |mut b, n| {
            b.push_bind(n.level as i64)
                .push_bind(n.index as i64)
                .push_bind(n.hash.to_vec());
        });
        q.build().execute(&mut *tx).await?;
    }
    for chunk in step.runs.chunks(150) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO merkle_practice_runs (practice_id, first_leaf, leaf_indexes, events, fold) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(r.practice_id)
                .push_bind(r.first_leaf)
                .push_bind(r.leaf_indexes.as_slice())
                .push_bind(r.events)
                .push_bind(r.fold.as_slice());
        });
        q.build().execute(&mut *tx).await?;
    }
    for chunk in step.blocks.chunks(100) {
        let firsts = chunk
            .iter()
            .map(BlockRow::first_cursor)
            .collect::<Result<Vec<_>, _>>()?;
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO merkle_blocks (idx, leaves, first_tx, first_position, event_hashes, event_ids, cursors, group_starts) ",
        );
        q.push_values(chunk.iter().zip(firsts), |mut b, (block, first)| {
            b.push_bind(block.idx)
                .push_bind(block.len() as i64)
                .push_bind(first.tx)
                .push_bind(first.position)
                .push_bind(block.event_hashes.as_slice())
                .push_bind(block.event_ids.as_slice())
                .push_bind(block.cursors.as_slice())
                .push_bind(block.group_starts.as_slice());
        });
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
