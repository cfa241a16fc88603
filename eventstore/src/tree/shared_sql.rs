//! The tree's queries that both dialects accept as written; only bulk writes and multi-key
//! lookups, where PostgreSQL's arrays beat SQLite's chunked lists, stay in `pg` and `lite`.

use std::collections::HashMap;

use uuid::Uuid;

use super::{
    on_tree, BlockRow, CheckpointRow, LeafRow, PracticeRun, BLOCK_COLUMNS, BLOCK_LEAVES,
    STORED_FROM,
};
use crate::{
    checkpoint::Checkpoint,
    error::StoreError,
    store::{with_pool, Backend},
    EventStore,
};

const SELECT_RUNS: &str =
    "SELECT practice_id, first_leaf, leaf_indexes, events, fold FROM merkle_practice_runs";

impl EventStore {
    /// The longest row of the newest block: where the tree ends.
    pub(crate) async fn last_block(&self) -> Result<Option<BlockRow>, StoreError> {
        let sql = format!(
            "SELECT {BLOCK_COLUMNS} FROM merkle_blocks ORDER BY idx DESC, leaves DESC LIMIT 1"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .fetch_optional(pool)
            .await)?)
    }

    /// The practice's newest run among the first `size` leaves: its event count and fold there.
    /// (A builder step is one write, so a run starting before `size` ends before it.)
    pub(crate) async fn last_practice_run(
        &self,
        practice: Uuid,
        size: u64,
    ) -> Result<Option<PracticeRun>, StoreError> {
        let sql = format!(
            "{SELECT_RUNS} WHERE practice_id = $1 AND first_leaf < $2 ORDER BY first_leaf DESC LIMIT 1"
        );
        Ok(with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(practice)
            .bind(size as i64)
            .fetch_optional(pool)
            .await)?)
    }

    /// The leaf of an event: found by its commit cursor in the block that covers it.
    pub(crate) async fn leaf_of(&self, event_id: Uuid) -> Result<Option<LeafRow>, StoreError> {
        let Some(event) = self.raw_events_by_id(&[event_id]).await?.pop() else {
            return Ok(None);
        };
        let cursor = event.cursor();
        let Some(block) = on_tree!(self, block_at(cursor))? else {
            return Ok(None);
        };
        Ok(block
            .leaves()?
            .into_iter()
            .find(|leaf| leaf.event_id == event_id))
    }

    /// The leaves with these indexes that are stored, in the order given.
    async fn leaves_at(&self, indexes: &[u64]) -> Result<Vec<LeafRow>, StoreError> {
        let mut blocks: Vec<u64> = indexes.iter().map(|i| i >> STORED_FROM).collect();
        blocks.dedup();
        let mut found = HashMap::with_capacity(blocks.len());
        for chunk in blocks.chunks(1_000) {
            found.extend(on_tree!(self, full_blocks(chunk))?);
        }
        let mut out = Vec::with_capacity(indexes.len());
        for &index in indexes {
            let Some(block) = found.get(&(index >> STORED_FROM)) else {
                continue;
            };
            let slot = (index % BLOCK_LEAVES as u64) as usize;
            if slot < block.len() {
                out.push(block.leaf(slot)?);
            }
        }
        Ok(out)
    }

    /// A practice's leaves among the first `size`.
    pub(crate) async fn practice_leaves(
        &self,
        practice: Uuid,
        size: u64,
    ) -> Result<Vec<LeafRow>, StoreError> {
        let sql =
            format!("{SELECT_RUNS} WHERE practice_id = $1 AND first_leaf < $2 ORDER BY first_leaf");
        let runs: Vec<PracticeRun> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(practice)
            .bind(size as i64)
            .fetch_all(pool)
            .await)?;
        let indexes: Vec<u64> = runs
            .iter()
            .flat_map(PracticeRun::leaf_indexes)
            .filter(|&i| i >= 0 && (i as u64) < size)
            .map(|i| i as u64)
            .collect();
        self.leaves_at(&indexes).await
    }

    pub(crate) async fn leaves_between(
        &self,
        start: u64,
        end: u64,
    ) -> Result<Vec<LeafRow>, StoreError> {
        let indexes: Vec<u64> = (start..end).collect();
        self.leaves_at(&indexes).await
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

    /// The checkpoint of the largest tree signed so far.
    pub(crate) async fn latest_checkpoint_row(&self) -> Result<Option<CheckpointRow>, StoreError> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT tree_size, root, signed_at, key_id, signature FROM tree_checkpoints \
             ORDER BY tree_size DESC LIMIT 1",
        )
        .fetch_optional(pool)
        .await)?)
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
