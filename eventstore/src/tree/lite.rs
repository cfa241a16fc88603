//! The tree's tables on SQLite.

use std::collections::HashMap;

use sqlx::{sqlite::SqliteRow, QueryBuilder, Row, Sqlite, SqlitePool};
use uuid::Uuid;

use super::LeafRow;
use crate::{checkpoint::Checkpoint, error::StoreError, merkle::NewNode};

const LEAF_COLUMNS: &str = "leaf_index, event_id, tx, position, event_hash, group_start, practice_id, practice_seq, practice_fold";

fn leaf(row: &SqliteRow) -> Result<LeafRow, sqlx::Error> {
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

fn leaves(rows: Vec<SqliteRow>) -> Result<Vec<LeafRow>, StoreError> {
    Ok(rows.iter().map(leaf).collect::<Result<_, _>>()?)
}

pub(crate) async fn last_leaf(pool: &SqlitePool) -> Result<Option<LeafRow>, StoreError> {
    let sql = format!("SELECT {LEAF_COLUMNS} FROM merkle_leaves ORDER BY leaf_index DESC LIMIT 1");
    Ok(leaves(sqlx::query(&sql).fetch_all(pool).await?)?.pop())
}

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
        for r in q.build().fetch_all(pool).await? {
            let level: i64 = r.try_get("level")?;
            let idx: i64 = r.try_get("idx")?;
            out.insert((level as u32, idx as u64), r.try_get("hash")?);
        }
    }
    Ok(out)
}

pub(crate) async fn signatures(
    pool: &SqlitePool,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, (i32, String, Vec<u8>)>, StoreError> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT first_event_id, event_count, key_id, signature FROM append_signatures WHERE first_event_id IN (",
        );
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        q.push(")");
        for r in q.build().fetch_all(pool).await? {
            out.insert(
                r.try_get("first_event_id")?,
                (
                    r.try_get("event_count")?,
                    r.try_get("key_id")?,
                    r.try_get("signature")?,
                ),
            );
        }
    }
    Ok(out)
}

pub(crate) async fn practice_leaves(
    pool: &SqlitePool,
    practice: Uuid,
    size: i64,
) -> Result<Vec<LeafRow>, StoreError> {
    let sql = format!("SELECT {LEAF_COLUMNS} FROM merkle_leaves WHERE practice_id = ? AND leaf_index < ? ORDER BY leaf_index");
    leaves(
        sqlx::query(&sql)
            .bind(practice)
            .bind(size)
            .fetch_all(pool)
            .await?,
    )
}

pub(crate) async fn leaves_between(
    pool: &SqlitePool,
    start: i64,
    end: i64,
) -> Result<Vec<LeafRow>, StoreError> {
    let sql = format!("SELECT {LEAF_COLUMNS} FROM merkle_leaves WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index");
    leaves(
        sqlx::query(&sql)
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await?,
    )
}

pub(crate) async fn leaf_of(
    pool: &SqlitePool,
    event_id: Uuid,
) -> Result<Option<LeafRow>, StoreError> {
    let sql = format!("SELECT {LEAF_COLUMNS} FROM merkle_leaves WHERE event_id = ?");
    Ok(leaves(sqlx::query(&sql).bind(event_id).fetch_all(pool).await?)?.pop())
}

pub(crate) async fn store_tree(
    pool: &SqlitePool,
    rows: &[LeafRow],
    made: &[NewNode],
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
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn insert_checkpoint(pool: &SqlitePool, c: &Checkpoint) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tree_checkpoints (tree_size, root, signed_at, key_id, signature) VALUES (?, ?, ?, ?, ?) \
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
    pool: &SqlitePool,
    size: Option<i64>,
) -> Result<Vec<super::CheckpointRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT tree_size, root, signed_at, key_id, signature FROM tree_checkpoints \
         WHERE ? IS NULL OR tree_size = ? ORDER BY tree_size",
    )
    .bind(size)
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
    pool: &SqlitePool,
    practice: Uuid,
) -> Result<Option<LeafRow>, StoreError> {
    let sql = format!("SELECT {LEAF_COLUMNS} FROM merkle_leaves WHERE practice_id = ? ORDER BY leaf_index DESC LIMIT 1");
    Ok(leaves(sqlx::query(&sql).bind(practice).fetch_all(pool).await?)?.pop())
}
