//! The tree's tables on PostgreSQL.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use super::{add_signatures, BlockRow, LeafRow, SignatureRow, SIGNATURE_SOURCES};
use crate::{error::StoreError, merkle::NewNode};

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

pub(crate) async fn store_tree(
    pool: &PgPool,
    rows: &[LeafRow],
    made: &[NewNode],
    blocks: &[BlockRow],
) -> Result<(), StoreError> {
    // One statement, so one round trip and atomic without a transaction of its own.
    sqlx::query(
        "WITH leaves AS (INSERT INTO merkle_leaves (leaf_index, event_id, tx, position, event_hash, group_start, practice_id, practice_seq, practice_fold) \
         SELECT * FROM UNNEST($1::bigint[], $2::uuid[], $3::bigint[], $4::bigint[], $5::bytea[], $6::bigint[], $7::uuid[], $8::bigint[], $9::bytea[])) \
         , nodes AS (INSERT INTO merkle_nodes (level, idx, hash) SELECT * FROM UNNEST($10::int[], $11::bigint[], $12::bytea[])) \
         INSERT INTO merkle_blocks (idx, leaves, event_hashes) SELECT * FROM UNNEST($13::bigint[], $14::int[], $15::bytea[])",
    )
    .bind(rows.iter().map(|r| r.leaf_index).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.event_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.tx).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.position).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.event_hash.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.group_start).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.practice_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.practice_seq).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.practice_fold.clone()).collect::<Vec<_>>())
    .bind(made.iter().map(|n| n.level as i32).collect::<Vec<_>>())
    .bind(made.iter().map(|n| n.index as i64).collect::<Vec<_>>())
    .bind(made.iter().map(|n| n.hash.to_vec()).collect::<Vec<_>>())
    .bind(blocks.iter().map(|b| b.idx).collect::<Vec<_>>())
    .bind(blocks.iter().map(|b| b.leaves()).collect::<Vec<_>>())
    .bind(blocks.iter().map(|b| b.event_hashes.clone()).collect::<Vec<_>>())
    .execute(pool)
    .await?;
    Ok(())
}
