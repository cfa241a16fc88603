//! The Merkle tree over the log, stored append-only next to it. Leaf n is the n-th event in
//! commit-safe order (what `read_all` delivers), so only a follower of that order can number
//! leaves: [`TreeBuilder`] follows it off the append path, checks each append's signature, and
//! stores leaves and completed subtrees. Checkpoints and proofs read O(log n) stored nodes.

mod builder;
mod lite;
mod pg;
mod rows;
mod shared_sql;
mod source;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub(crate) use builder::{group_is_signed, groups};
pub use builder::{TreeBuilder, TreeError};
pub(crate) use rows::{BlockRow, LeafRow, PracticeRun, BLOCK_COLUMNS};

use crate::{
    checkpoint::{Checkpoint, PracticeHead},
    error::StoreError,
    hashing::{seal_step, GENESIS},
    merkle::{self, Hash, NewNode, Nodes},
    signing::LogSigner,
    store::{Backend, EventStore},
};

#[derive(sqlx::FromRow)]
pub(crate) struct CheckpointRow {
    pub tree_size: i64,
    pub root: Vec<u8>,
    pub signed_at: DateTime<Utc>,
    pub key_id: String,
    pub signature: Vec<u8>,
}

/// An append's signature as stored, keyed by the append's first event.
pub(crate) type SignatureRow = (Uuid, i32, String, Vec<u8>);

/// Signatures are kept in the first event's row (migration 0012); appends written before that
/// have theirs in `append_signatures`. Each query is completed by a list of event ids.
pub(crate) const SIGNATURE_SOURCES: [&str; 2] = [
    "SELECT first_event_id, event_count, key_id, signature FROM append_signatures \
     WHERE first_event_id",
    // Whole signatures only: SQLite has no check that a row's three columns go together.
    "SELECT event_id, sig_events, sig_key_id, signature FROM events \
     WHERE signature IS NOT NULL AND sig_events IS NOT NULL AND sig_key_id IS NOT NULL \
     AND event_id",
];

/// Adds rows of the sources in [`SIGNATURE_SOURCES`] order: a signature in an event's own row
/// replaces one claimed for it in `append_signatures`, which anyone who can insert may add to.
pub(crate) fn add_signatures(
    found: &mut HashMap<Uuid, (i32, String, Vec<u8>)>,
    rows: Vec<SignatureRow>,
) {
    found.extend(
        rows.into_iter()
            .map(|(first, count, key_id, signature)| (first, (count, key_id, signature))),
    );
}

/// Perfect subtrees below this level are not stored one by one: `merkle_blocks` keeps the event
/// hashes of each block of 2^STORED_FROM leaves, and the subtrees inside a block are computed
/// from them when needed. Storing every level cost two node rows per event (the leaf's own and,
/// on average, one above it) besides the leaf row; now it is one block row per 16 events and a
/// node row per eight, and a proof hashes at most 16 leaves more per block it touches.
pub(crate) const STORED_FROM: u32 = 4;
pub(crate) const BLOCK_LEAVES: usize = 1 << STORED_FROM;

/// What one builder step stores, in one write.
pub(crate) struct TreeStep {
    pub first_leaf: i64,
    pub leaves: i32,
    pub nodes: Vec<NewNode>,
    /// Blocks that filled in the step, and the one still filling when the step added to it.
    pub blocks: Vec<BlockRow>,
    pub runs: Vec<PracticeRun>,
}

/// The hash of perfect subtree (level, index), a part of the block whose leaves' event hashes
/// are `block` (concatenated); `None` when the block does not reach that far.
fn derived_node(block: &[u8], level: u32, index: u64) -> Option<Hash> {
    if level == 0 {
        let offset = (index as usize % BLOCK_LEAVES) * 32;
        let event_hash = block.get(offset..offset + 32)?;
        return Some(merkle::leaf_hash(event_hash));
    }
    let left = derived_node(block, level - 1, index * 2)?;
    let right = derived_node(block, level - 1, index * 2 + 1)?;
    Some(merkle::node_hash(&left, &right))
}

/// Folds one more of a practice's event hashes into its running commitment.
pub fn practice_fold(running: &Hash, event_hash: &Hash) -> Hash {
    seal_step(running, event_hash)
}

pub const PRACTICE_FOLD_START: Hash = GENESIS;

macro_rules! on_tree {
    ($store:expr, $f:ident ( $($arg:expr),* )) => {
        match &$store.backend {
            Backend::Postgres(pool) => $crate::tree::pg::$f(pool $(, $arg)*).await,
            Backend::Sqlite(pool) => $crate::tree::lite::$f(pool $(, $arg)*).await,
        }
    };
}
pub(crate) use on_tree;

/// An audit path for one event against a tree of `tree_size` leaves.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InclusionProof {
    pub event_id: Uuid,
    pub leaf_index: u64,
    pub tree_size: u64,
    #[serde(with = "crate::checkpoint::hex_hash")]
    pub event_hash: Hash,
    #[serde(with = "crate::checkpoint::hex_hashes")]
    pub path: Vec<Hash>,
}

fn hash32(bytes: &[u8], what: &str) -> Result<Hash, StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt {
        position: 0,
        reason: format!("{what} is not 32 bytes"),
    })
}

impl EventStore {
    /// Leaves in the tree so far.
    pub async fn tree_size(&self) -> Result<u64, StoreError> {
        Ok(self
            .last_block()
            .await?
            .map(|b| ((b.idx as u64) << STORED_FROM) + b.len() as u64)
            .unwrap_or(0))
    }

    /// Runs a pure tree computation over stored nodes: asks once which nodes it needs, fetches
    /// them (stored ones in one query, low ones from the leaves under them), then runs it with
    /// the answers.
    pub(crate) async fn over_nodes<T>(
        &self,
        f: impl Fn(&mut Nodes<'_>) -> T,
    ) -> Result<T, StoreError> {
        let keys = merkle::nodes_needed(|n| f(n));
        let mut found: HashMap<(u32, u64), Hash> = HashMap::new();
        if !keys.is_empty() {
            for (key, hash) in on_tree!(self, nodes(&keys))? {
                if let Ok(hash) = hash32(&hash, "node") {
                    found.insert(key, hash);
                }
            }
        }
        let low: Vec<(u32, u64)> = keys
            .into_iter()
            .filter(|k| k.0 < STORED_FROM && !found.contains_key(k))
            .collect();
        if !low.is_empty() {
            let mut blocks: Vec<u64> = low
                .iter()
                .map(|(level, index)| (index << level) >> STORED_FROM)
                .collect();
            blocks.sort_unstable();
            blocks.dedup();
            let blocks = on_tree!(self, blocks(&blocks))?;
            for (level, index) in low {
                let block = (index << level) >> STORED_FROM;
                if let Some(hash) = blocks
                    .get(&block)
                    .and_then(|hashes| derived_node(hashes, level, index))
                {
                    found.insert((level, index), hash);
                }
            }
        }
        let mut missing = None;
        let out = f(&mut |level, index| match found.get(&(level, index)) {
            Some(h) => *h,
            None => {
                missing.get_or_insert((level, index));
                [0; 32]
            }
        });
        match missing {
            None => Ok(out),
            Some((level, index)) => Err(StoreError::Corrupt {
                position: 0,
                reason: format!("Merkle node {level}/{index} is missing"),
            }),
        }
    }

    pub async fn tree_root(&self, size: u64) -> Result<Hash, StoreError> {
        self.over_nodes(|n| merkle::root(n, size)).await
    }

    /// Signs the tree as it stands (nothing is rescanned: the root comes from O(log n) stored
    /// subtrees) and stores the checkpoint. Signing an unchanged tree again returns the stored one.
    pub async fn sign_checkpoint(
        &self,
        signer: &LogSigner,
        now: DateTime<Utc>,
    ) -> Result<Checkpoint, StoreError> {
        Ok(self.sign_or_take_checkpoint(signer, now).await?.0)
    }

    /// As [`Self::sign_checkpoint`], and whether this call signed it (`false`: the tree's size
    /// was already signed, by this process or another, and that checkpoint is the answer).
    pub(crate) async fn sign_or_take_checkpoint(
        &self,
        signer: &LogSigner,
        now: DateTime<Utc>,
    ) -> Result<(Checkpoint, bool), StoreError> {
        let size = self.tree_size().await?;
        if let Some(existing) = self.checkpoint_at(size).await? {
            return Ok((existing, false));
        }
        let root = self.tree_root(size).await?;
        self.store_checkpoint(Checkpoint::sign(signer, size, root, now, None))
            .await
    }

    /// Stores a checkpoint, or when another signer stored one of the same size first, answers
    /// with that one; says which.
    pub(crate) async fn store_checkpoint(
        &self,
        checkpoint: Checkpoint,
    ) -> Result<(Checkpoint, bool), StoreError> {
        if self.insert_checkpoint(&checkpoint).await? {
            return Ok((checkpoint, true));
        }
        let size = checkpoint.tree_size;
        Ok((self.checkpoint_at(size).await?.unwrap_or(checkpoint), false))
    }

    /// A checkpoint that also commits to one practice's history; made on demand, not stored.
    pub async fn sign_practice_checkpoint(
        &self,
        signer: &LogSigner,
        practice: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Checkpoint, StoreError> {
        let size = self.tree_size().await?;
        let root = self.tree_root(size).await?;
        let (events, fold) = self.practice_head(practice, size).await?;
        let head = PracticeHead {
            practice_id: practice,
            events: events as u64,
            fold,
        };
        Ok(Checkpoint::sign(signer, size, root, now, Some(head)))
    }

    /// A practice's event count and running fold over the first `size` leaves.
    pub(crate) async fn practice_head(
        &self,
        practice: Uuid,
        size: u64,
    ) -> Result<(i64, Hash), StoreError> {
        Ok(match self.last_practice_run(practice, size).await? {
            Some(run) => (run.events, hash32(&run.fold, "practice fold")?),
            None => (0, PRACTICE_FOLD_START),
        })
    }

    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        self.checkpoint_rows(None)
            .await?
            .into_iter()
            .map(checkpoint_from_row)
            .collect()
    }

    /// The checkpoint of the largest tree signed so far, by any instance.
    pub async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        self.latest_checkpoint_row()
            .await?
            .map(checkpoint_from_row)
            .transpose()
    }

    pub async fn checkpoint_at(&self, size: u64) -> Result<Option<Checkpoint>, StoreError> {
        self.checkpoint_rows(Some(size as i64))
            .await?
            .into_iter()
            .map(checkpoint_from_row)
            .next()
            .transpose()
    }

    /// The audit path of an event against the tree of `tree_size` leaves; `None` when the event
    /// is not (yet) among them.
    pub async fn inclusion_proof(
        &self,
        event_id: Uuid,
        tree_size: u64,
    ) -> Result<Option<InclusionProof>, StoreError> {
        let Some(leaf) = self.leaf_of(event_id).await? else {
            return Ok(None);
        };
        let index = leaf.leaf_index as u64;
        if index >= tree_size || tree_size > self.tree_size().await? {
            return Ok(None);
        }
        let path = self
            .over_nodes(|n| merkle::inclusion_path(n, index, tree_size))
            .await?;
        Ok(Some(InclusionProof {
            event_id,
            leaf_index: index,
            tree_size,
            event_hash: leaf.event_hash,
            path,
        }))
    }

    /// Proof that the tree of `old` leaves is a prefix of the tree of `new` leaves.
    pub async fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<Option<Vec<Hash>>, StoreError> {
        if old > new || new > self.tree_size().await? {
            return Ok(None);
        }
        Ok(Some(
            self.over_nodes(|n| merkle::consistency_path(n, old, new))
                .await?,
        ))
    }

    pub(crate) async fn append_signatures(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, (i32, String, Vec<u8>)>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        on_tree!(self, signatures(ids))
    }
}

fn checkpoint_from_row(r: CheckpointRow) -> Result<Checkpoint, StoreError> {
    Ok(Checkpoint {
        tree_size: r.tree_size as u64,
        root: hash32(&r.root, "checkpoint root")?,
        signed_at: r.signed_at,
        key_id: r.key_id,
        practice: None,
        signature: r.signature,
    })
}
