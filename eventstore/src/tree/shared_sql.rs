//! The tree's queries that both dialects accept as written; only bulk writes and multi-key
//! lookups, where PostgreSQL's arrays beat SQLite's chunked lists, stay in `pg` and `lite`.

use uuid::Uuid;

use super::{CheckpointRow, LeafRow};
use crate::{checkpoint::Checkpoint, error::StoreError, store::with_pool, EventStore};

const SELECT_LEAVES: &str = "SELECT leaf_index, event_id, tx, position, event_hash, group_start, \
     practice_id, practice_seq, practice_fold FROM merkle_leaves";

impl EventStore {
    pub(crate) async fn last_leaf(&self) -> Result<Option<LeafRow>, StoreError> {
        let sql = format!("{SELECT_LEAVES} ORDER BY leaf_index DESC LIMIT 1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .fetch_optional(pool)
            .await)?)
    }

    pub(crate) async fn last_practice_leaf(
        &self,
        practice: Uuid,
    ) -> Result<Option<LeafRow>, StoreError> {
        let sql =
            format!("{SELECT_LEAVES} WHERE practice_id = $1 ORDER BY leaf_index DESC LIMIT 1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(practice)
            .fetch_optional(pool)
            .await)?)
    }

    pub(crate) async fn leaf_of(&self, event_id: Uuid) -> Result<Option<LeafRow>, StoreError> {
        let sql = format!("{SELECT_LEAVES} WHERE event_id = $1");
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(event_id)
            .fetch_optional(pool)
            .await)?)
    }

    /// A practice's leaves among the first `size`.
    pub(crate) async fn practice_leaves(
        &self,
        practice: Uuid,
        size: u64,
    ) -> Result<Vec<LeafRow>, StoreError> {
        let sql = format!(
            "{SELECT_LEAVES} WHERE practice_id = $1 AND leaf_index < $2 ORDER BY leaf_index"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(practice)
            .bind(size as i64)
            .fetch_all(pool)
            .await)?)
    }

    pub(crate) async fn leaves_between(
        &self,
        start: u64,
        end: u64,
    ) -> Result<Vec<LeafRow>, StoreError> {
        let sql = format!(
            "{SELECT_LEAVES} WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(start as i64)
            .bind(end as i64)
            .fetch_all(pool)
            .await)?)
    }

    /// Keeps the first checkpoint stored for a size: a concurrent signer's equal one is dropped.
    /// Whether this one was stored.
    pub(crate) async fn insert_checkpoint(&self, c: &Checkpoint) -> Result<bool, StoreError> {
        Ok(with_pool!(self, |pool| sqlx::query(
            "INSERT INTO tree_checkpoints (tree_size, root, signed_at, key_id, signature) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tree_size) DO NOTHING",
        )
        .bind(c.tree_size as i64)
        .bind(c.root.to_vec())
        .bind(c.signed_at)
        .bind(&c.key_id)
        .bind(&c.signature)
        .execute(pool)
        .await
        .map(|done| done.rows_affected() == 1))?)
    }

    /// Every stored checkpoint, or only the one of `size`. The cast types the parameter for
    /// PostgreSQL, which cannot infer it from `IS NULL`.
    pub(crate) async fn checkpoint_rows(
        &self,
        size: Option<i64>,
    ) -> Result<Vec<CheckpointRow>, StoreError> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT tree_size, root, signed_at, key_id, signature FROM tree_checkpoints \
             WHERE CAST($1 AS BIGINT) IS NULL OR tree_size = $1 ORDER BY tree_size",
        )
        .bind(size)
        .fetch_all(pool)
        .await)?)
    }
}
