//! The tree's stored rows and their byte layouts. A block row keeps every column of its leaves
//! concatenated (one row per 16 events instead of one per event); a practice run keeps the
//! leaves of one practice's events in one builder step and the practice's head after them.

use uuid::Uuid;

use super::{BLOCK_LEAVES, STORED_FROM};
use crate::{error::StoreError, merkle::Hash, model::Cursor};

/// One leaf, as read back from its block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LeafRow {
    pub leaf_index: i64,
    pub event_id: Uuid,
    pub tx: i64,
    pub position: i64,
    pub event_hash: Hash,
    /// Leaf index of the first event of the append that wrote this one (its signature's key).
    pub group_start: i64,
}

impl LeafRow {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            tx: self.tx,
            position: self.position,
        }
    }
}

/// The leaves of one block (2^STORED_FROM leaves), as far as it is filled, column by column.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub(crate) struct BlockRow {
    pub idx: i64,
    pub event_hashes: Vec<u8>,
    pub event_ids: Vec<u8>,
    pub cursors: Vec<u8>,
    pub group_starts: Vec<u8>,
}

/// The columns of a block row as selected (`leaves` and the first cursor follow from them).
pub(crate) const BLOCK_COLUMNS: &str = "idx, event_hashes, event_ids, cursors, group_starts";

impl BlockRow {
    pub fn new(idx: i64) -> Self {
        BlockRow {
            idx,
            event_hashes: Vec::with_capacity(BLOCK_LEAVES * 32),
            event_ids: Vec::with_capacity(BLOCK_LEAVES * 16),
            cursors: Vec::with_capacity(BLOCK_LEAVES * 16),
            group_starts: Vec::with_capacity(BLOCK_LEAVES * 8),
        }
    }

    pub fn len(&self) -> usize {
        self.event_hashes.len() / 32
    }

    pub fn is_empty(&self) -> bool {
        self.event_hashes.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.len() == BLOCK_LEAVES
    }

    pub fn push(&mut self, leaf: &LeafRow) {
        self.event_hashes.extend_from_slice(&leaf.event_hash);
        self.event_ids.extend_from_slice(leaf.event_id.as_bytes());
        self.cursors.extend_from_slice(&leaf.tx.to_be_bytes());
        self.cursors.extend_from_slice(&leaf.position.to_be_bytes());
        self.group_starts
            .extend_from_slice(&leaf.group_start.to_be_bytes());
    }

    /// The block's first leaf's commit cursor (what an event's leaf is looked up by).
    pub fn first_cursor(&self) -> Result<Cursor, StoreError> {
        Ok(self.leaf(0)?.cursor())
    }

    /// Leaf `i` of the block; a row whose columns disagree in length is corrupt.
    pub fn leaf(&self, i: usize) -> Result<LeafRow, StoreError> {
        let corrupt = || StoreError::Corrupt {
            position: 0,
            reason: format!("Merkle block {} has no whole leaf {i}", self.idx),
        };
        let at = |bytes: &[u8], width: usize, nth: usize| -> Option<Vec<u8>> {
            bytes
                .get(nth * width..(nth + 1) * width)
                .map(<[u8]>::to_vec)
        };
        let i64_at = |bytes: &[u8], nth: usize| {
            at(bytes, 8, nth).and_then(|b| b.try_into().ok().map(i64::from_be_bytes))
        };
        let event_hash: Hash = at(&self.event_hashes, 32, i)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(corrupt)?;
        let event_id = at(&self.event_ids, 16, i)
            .and_then(|b| Uuid::from_slice(&b).ok())
            .ok_or_else(corrupt)?;
        Ok(LeafRow {
            leaf_index: (self.idx << STORED_FROM) + i as i64,
            event_id,
            tx: i64_at(&self.cursors, 2 * i).ok_or_else(corrupt)?,
            position: i64_at(&self.cursors, 2 * i + 1).ok_or_else(corrupt)?,
            event_hash,
            group_start: i64_at(&self.group_starts, i).ok_or_else(corrupt)?,
        })
    }

    /// The block's newest leaf (a stored row has at least one).
    pub fn last_leaf(&self) -> Result<LeafRow, StoreError> {
        self.leaf(self.len().saturating_sub(1))
    }

    pub fn leaves(&self) -> Result<Vec<LeafRow>, StoreError> {
        (0..self.len()).map(|i| self.leaf(i)).collect()
    }
}

/// One practice's leaves in one builder step, and its event count and fold after them.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(crate) struct PracticeRun {
    pub practice_id: Uuid,
    pub first_leaf: i64,
    pub leaf_indexes: Vec<u8>,
    pub events: i64,
    pub fold: Vec<u8>,
}

impl PracticeRun {
    pub fn leaf_indexes(&self) -> impl Iterator<Item = i64> + '_ {
        self.leaf_indexes
            .chunks_exact(8)
            .filter_map(|b| b.try_into().ok().map(i64::from_be_bytes))
    }
}
