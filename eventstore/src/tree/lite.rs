//! The tree's tables on SQLite.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use uuid::Uuid;

use super::{add_signatures, BlockRow, LeafRow, SignatureRow, SIGNATURE_SOURCES};
use crate::{error::StoreError, merkle::NewNode};

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

pub(crate) async fn store_tree(
    pool: &SqlitePool,
    rows: &[LeafRow],
    made: &[NewNode],
    blocks: &[BlockRow],
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for chunk in rows.chunks(100) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO merkle_leaves (leaf_index, event_id, tx, position, event_hash, group_start, practice_id, practice_seq, practice_fold) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(r.leaf_index)
                .push_bind(r.event_id)
                .push_bind(r.tx)
                .push_bind(r.position)
                .push_bind(r.event_hash.clone())
                .push_bind(r.group_start)
                .push_bind(r.practice_id)
                .push_bind(r.practice_seq)
                .push_bind(r.practice_fold.clone());
        });
        q.build().execute(&mut *tx).await?;
    }
    for chunk in made.chunks(300) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO merkle_nodes (level, idx, hash) ");
        q.push_values(chunk, |mut b, n| {
            b.push_bind(n.level as i64)
                .push_bind(n.index as i64)
                .push_bind(n.hash.to_vec());
        });
        q.build().execute(&mut *tx).await?;
    }
    for chunk in blocks.chunks(300) {
        let mut q =
            QueryBuilder::<Sqlite>::new("INSERT INTO merkle_blocks (idx, leaves, event_hashes) ");
        q.push_values(chunk, |mut b, block| {
            b.push_bind(block.idx)
                .push_bind(block.leaves())
                .push_bind(block.event_hashes.clone());
        });
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
