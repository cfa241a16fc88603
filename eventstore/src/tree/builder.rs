//! Follows the log in commit-safe order and turns events into leaves. Every append's signature
//! is checked first: a row written around the service (by SQL, without the key) stops the
//! builder there, so it can never be folded into a signed checkpoint.

use std::collections::HashMap;

use uuid::Uuid;

use super::{hash32, on_tree, practice_fold, LeafRow, PRACTICE_FOLD_START};
use crate::{
    error::StoreError,
    merkle::{leaf_hash, Frontier, Hash, NewNode},
    model::Cursor,
    raw::RawEvent,
    signing::LogPublicKey,
    store::{Backend, EventStore},
};

const BATCH: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("event {stream}@{version} (position {position}) has no valid append signature: it was not written by this service")]
    Unauthenticated {
        position: i64,
        stream: String,
        version: i64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Consecutive events of one append with the signature that covers them, or a single event
/// that starts no signed append.
pub(crate) struct Group<'a> {
    pub events: &'a [RawEvent],
    pub signature: Option<(String, Vec<u8>)>,
}

/// Splits a stretch of the log into appends. Returns the groups and how many events they cover.
/// An append cut off by the end of the stretch is left for the next read — unless the stretch
/// reaches the end of the log (`at_end`): then it claims events that do not exist, and is
/// returned as it is so its signature fails rather than hiding what follows.
pub(crate) fn groups<'a>(
    batch: &'a [RawEvent],
    signatures: &HashMap<Uuid, (i32, String, Vec<u8>)>,
    at_end: bool,
) -> (Vec<Group<'a>>, usize) {
    let mut out = Vec::new();
    let mut i = 0;
    while i < batch.len() {
        match signatures.get(&batch[i].event_id) {
            Some((count, key_id, sig)) => {
                let mut count = (*count).max(1) as usize;
                if i + count > batch.len() {
                    if !at_end {
                        break;
                    }
                    count = batch.len() - i;
                }
                out.push(Group {
                    events: &batch[i..i + count],
                    signature: Some((key_id.clone(), sig.clone())),
                });
                i += count;
            }
            None => {
                out.push(Group {
                    events: &batch[i..i + 1],
                    signature: None,
                });
                i += 1;
            }
        }
    }
    (out, i)
}

/// Whether a group's signature covers exactly its events' stored hashes.
pub(crate) fn group_is_signed(group: &Group<'_>, key: &LogPublicKey) -> bool {
    let Some((key_id, sig)) = &group.signature else {
        return false;
    };
    let hashes: Option<Vec<Hash>> = group.events.iter().map(|e| e.stored_hash().ok()).collect();
    *key_id == key.key_id() && hashes.is_some_and(|h| key.verify_append(&h, sig))
}

struct State {
    frontier: Frontier,
    after: Cursor,
    practices: HashMap<Uuid, (i64, Hash)>,
}

pub struct TreeBuilder {
    store: EventStore,
    key: LogPublicKey,
    state: Option<State>,
}

impl TreeBuilder {
    /// `key` is the public half of the service's signing key: appends must verify against it.
    pub fn new(store: EventStore, key: LogPublicKey) -> Self {
        TreeBuilder {
            store,
            key,
            state: None,
        }
    }

    /// Adds leaves until the tree covers every deliverable event; returns the tree size.
    pub async fn catch_up(&mut self) -> Result<u64, TreeError> {
        while self.step().await? > 0 {}
        Ok(self.state.as_ref().map(|s| s.frontier.size()).unwrap_or(0))
    }

    /// One batch; returns how many leaves it added. After any error the next call starts again
    /// from what is stored (another builder may have stored leaves meanwhile).
    pub async fn step(&mut self) -> Result<usize, TreeError> {
        let outcome = self.try_step().await;
        if outcome.is_err() {
            self.state = None;
        }
        outcome
    }

    async fn try_step(&mut self) -> Result<usize, TreeError> {
        if self.state.is_none() {
            self.state = Some(self.load().await?);
        }
        let after = self.state.as_ref().map(|s| s.after).unwrap_or_default();
        let mut limit = BATCH;
        loop {
            let batch = self.store.read_all_raw(after, limit).await?;
            if batch.is_empty() {
                return Ok(0);
            }
            let ids: Vec<Uuid> = batch.iter().map(|e| e.event_id).collect();
            let signatures = self.store.append_signatures(&ids).await?;
            let at_end = batch.len() < limit;
            let (groups, covered) = groups(&batch, &signatures, at_end);
            if groups.is_empty() {
                // One append larger than the batch: read it whole.
                let count = signatures
                    .get(&batch[0].event_id)
                    .map(|s| s.0 as usize)
                    .unwrap_or(1);
                limit = limit.max(count);
                continue;
            }
            return self.add(&groups, covered).await;
        }
    }

    async fn add(&mut self, groups: &[Group<'_>], covered: usize) -> Result<usize, TreeError> {
        let Some(state) = self.state.as_ref() else {
            return Ok(0);
        };
        let mut frontier = state.frontier.clone();
        let mut practices = state.practices.clone();
        let mut leaves = Vec::with_capacity(covered);
        let mut nodes: Vec<NewNode> = Vec::with_capacity(covered * 2);
        let mut after = state.after;
        for group in groups {
            if !group_is_signed(group, &self.key) {
                let e = &group.events[0];
                // Stop before the forged rows, keeping what came before them.
                if leaves.is_empty() {
                    return Err(TreeError::Unauthenticated {
                        position: e.position,
                        stream: e.stream.clone(),
                        version: e.version,
                    });
                }
                break;
            }
            let group_start = frontier.size() as i64;
            for e in group.events {
                let hash = e.stored_hash()?;
                let practice = e.metadata()?.practice_id;
                let (seq, fold) = match practice {
                    Some(p) => {
                        let (seq, fold) = match practices.get(&p) {
                            Some(known) => *known,
                            None => self.practice_head(p).await?,
                        };
                        let next = (seq + 1, practice_fold(&fold, &hash));
                        practices.insert(p, next);
                        (Some(next.0), Some(next.1.to_vec()))
                    }
                    None => (None, None),
                };
                leaves.push(LeafRow {
                    leaf_index: frontier.size() as i64,
                    event_id: e.event_id,
                    tx: e.tx,
                    position: e.position,
                    event_hash: hash.to_vec(),
                    group_start,
                    practice_id: practice,
                    practice_seq: seq,
                    practice_fold: fold,
                });
                nodes.extend(frontier.push(leaf_hash(&hash)));
                after = e.cursor();
            }
        }
        on_tree!(self.store, store_tree(&leaves, &nodes))?;
        self.state = Some(State {
            frontier,
            after,
            practices,
        });
        Ok(leaves.len())
    }

    async fn practice_head(&self, practice: Uuid) -> Result<(i64, Hash), StoreError> {
        Ok(match self.store.last_practice_leaf(practice).await? {
            Some(leaf) => (
                leaf.practice_seq.unwrap_or(0),
                hash32(
                    leaf.practice_fold.as_deref().unwrap_or_default(),
                    "practice fold",
                )?,
            ),
            None => (0, PRACTICE_FOLD_START),
        })
    }

    async fn load(&self) -> Result<State, StoreError> {
        let last = self.store.last_leaf().await?;
        let (size, after) = match &last {
            Some(l) => (
                l.leaf_index as u64 + 1,
                Cursor {
                    tx: l.tx,
                    position: l.position,
                },
            ),
            None => (0, Cursor::START),
        };
        let frontier = self.store.over_nodes(|n| Frontier::at(n, size)).await?;
        Ok(State {
            frontier,
            after,
            practices: HashMap::new(),
        })
    }
}
