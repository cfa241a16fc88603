//! The tree's tables on PostgreSQL.

use std::collections::HashMap;

use sqlx::{postgres::PgRow, PgPool, Row};
use uuid::Uuid;

use super::LeafRow;
use crate::{checkpoint::Checkpoint, error::StoreError, merkle::NewNode};

const LEAF_COLUMNS: &str = "leaf_index, event_id, tx, position, event_hash, group_start, practice_id, practice_seq, practice_fold";

fn leaf(row: &PgRow) -> Result<LeafRow, sqlx::Error> {
    Ok(LeafRow {
        leaf_index: row.try_get("leaf_index")?,
        event_id: row.try_get("event_id")?,
        tx: row.try_get("tx")?,
        position: row.try_get("position")?,
        event_hash: row.try_get("event_hash")?,
        group_start: row.try_get("group_start")?,
        practice_id: row.try_get("practice_id")?,
        practice_seq: row.try_get("practice_seq")?,
        practice_fold: row.try_get("practice_fold")?,
    })
}

fn leaves(rows: Vec<PgRow>) -> Result<Vec<LeafRow>, StoreError> {
    Ok(rows.iter().map(leaf).collect::<Result<_, _>>()?)
}

pub(crate) async fn last_leaf(pool: &PgPool) -> Result<Option<LeafRow>, StoreError> {
    let sql = format!("SELECT {LEAF_COLUMNS} FROM merkle_leaves ORDER BY leaf_index DESC LIMIT 1");
    Ok(leaves(sqlx::query(&sql).fetch_all(pool).await?)?.pop())
}

pub(crate) async fn nodes(
    pool: &PgPool,
    keys: &[(u32, u64)],
) -> Result<HashMap<(u32, u64), Vec<u8>>, StoreError> {
    let levels: Vec<i32> = keys.iter().map(|k| k.0 as i32).collect();
    let idxs: Vec<i64> = keys.iter().map(|k| k.1 as i64).collect();
    let rows = sqlx::query(
        "SELECT n.level, n.idx, n.hash FROM merkle_nodes n JOIN UNNEST($1::int[], $2::bigint[]) AS k(level, idx) \
         ON n.level = k.level AND n.idx = k.idx",
    )
    .bind(&levels)
    .bind(&idxs)
    .fetch_all(pool)
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let level: i32 = r.try_get("level")?;
        let idx: i64 = r.try_get("idx")?;
        out.insert((level as u32, idx as u64), r.try_get("hash")?);
    }
    Ok(out)
}

pub(crate) async fn signatures(
    pool: &PgPool,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, (i32, String, Vec<u8>)>, StoreError> {
    let rows = sqlx::query(
        "SELECT first_event_id, event_count, key_id, signature FROM append_signatures WHERE first_event_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        out.insert(
            r.try_get("first_event_id")?,
            (
                r.try_get("event_count")?,
                r.try_get("key_id")?,
                r.try_get("signature")?,
            ),
        );
    }
    Ok(out)
}

pub(crate) async fn practice_leaves(
    pool: &PgPool,
    practice: Uuid,
    size: i64,
) -> Result<Vec<LeafRow>, StoreError> {
    let sql = format!("SELECT {LEAF_COLUMNS} FROM merkle_leaves WHERE practice_id = $1 AND leaf_index < $2 ORDER BY leaf_index");
    leaves(
        sqlx::query(&sql)
            .bind(practice)
            .bind(size)
            .fetch_all(pool)
            .await?,
    )
}

pub(crate) async fn leaves_between(
    pool: &PgPool,
    start: i64,
    end: i64,
) -> Result<Vec<LeafRow>, StoreError> {
    let sql = format!("SELECT {LEAF_COLUMNS} FROM merkle_leaves WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index");
    leaves(
        sqlx::query(&sql)
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await?,
    )
}

pub(crate) async fn leaf_of(pool: &PgPool, event_id: Uuid) -> Result<Option<LeafRow>, StoreError> {
    let sql = format!("SELECT {LEAF_COLUMNS} FROM merkle_leaves WHERE event_id = $1");
    Ok(leaves(sqlx::query(&sql).bind(event_id).fetch_all(pool).await?)?.pop())
}

pub(crate) async fn store_tree(
    pool: &PgPool,
    rows: &[LeafRow],
    made: &[NewNode],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO merkle_leaves (leaf_index, event_id, tx, position, event_hash, group_start, practice_id, practice_seq, practice_fold) \
         SELECT * FROM UNNEST($1::bigint[], $2::uuid[], $3::bigint[], $4::bigint[], $5::bytea[], $6::bigint[], $7::uuid[], $8::bigint[], $9::bytea[])",
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
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO merkle_nodes (level, idx, hash) SELECT * FROM UNNEST($1::int[], $2::bigint[], $3::bytea[])",
    )
    .bind(made.iter().map(|n| n.level as i32).collect::<Vec<_>>())
    .bind(made.iter().map(|n| n.index as i64).collect::<Vec<_>>())
    .bind(made.iter().map(|n| n.hash.to_vec()).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn insert_checkpoint(pool: &PgPool, c: &Checkpoint) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tree_checkpoints (tree_size, root, signed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tree_size) DO NOTHING",
    )
    .bind(c.tree_size as i64)
    .bind(c.root.to_vec())
    .bind(c.signed_at)
    .bind(&c.key_id)
    .bind(&c.signature)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn checkpoints(
    pool: &PgPool,
    size: Option<i64>,
) -> Result<Vec<super::CheckpointRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT tree_size, root, signed_at, key_id, signature FROM tree_checkpoints \
         WHERE $1::bigint IS NULL OR tree_size = $1 ORDER BY tree_size",
    )
    .bind(size)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(super::CheckpointRow {
            tree_size: r.try_get("tree_size")?,
            root: r.try_get("root")?,
            signed_at: r.try_get("signed_at")?,
            key_id: r.try_get("key_id")?,
            signature: r.try_get("signature")?,
        });
    }
    Ok(out)
}

pub(crate) async fn last_practice_leaf(
    pool: &PgPool,
    practice: Uuid,
) -> Result<Option<LeafRow>, StoreError> {
    let sql = format!("SELECT {LEAF_COLUMNS} FROM merkle_leaves WHERE practice_id = $1 ORDER BY leaf_index DESC LIMIT 1");
    Ok(leaves(sqlx::query(&sql).bind(practice).fetch_all(pool).await?)?.pop())
}
