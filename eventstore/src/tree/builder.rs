//! Follows the log in commit-safe order and turns events into leaves. Every append's signature
//! is checked first: a row written around the service (by SQL, without the key) stops the
//! builder there, so it can never be folded into a signed checkpoint.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    on_tree, practice_fold, source::LeafSource, BlockRow, LeafRow, PracticeRun, TreeStep,
    STORED_FROM,
};
use crate::{
    checkpoint::Checkpoint,
    error::StoreError,
    merkle::{leaf_hash, Frontier, Hash},
    model::Cursor,
    raw::RawEvent,
    signed_here::SignedHere,
    signing::{append_message, LogPublicKey, LogSigner},
    store::{Backend, EventStore},
};

const BATCH: usize = 4_096;

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("event {stream}@{version} (position {position}) has no valid append signature: it was not written by this service")]
    Unauthenticated {
        position: i64,
        stream: String,
        version: i64,
    },
    /// Another builder (another instance, or an export) stored these same leaves first: the
    /// stored ones were read back and are the events this builder was adding. Not a fault; the
    /// next step starts from what is stored.
    #[error("another builder stored leaves {first} to {last} first")]
    LostRace { first: i64, last: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TreeError {
    pub fn is_lost_race(&self) -> bool {
        matches!(self, TreeError::LostRace { .. })
    }
}

/// A stored event as far as append signatures are concerned.
pub(crate) trait Chained {
    fn event_id(&self) -> Uuid;
    fn stored_hash(&self) -> Result<Hash, StoreError>;
}

impl Chained for RawEvent {
    fn event_id(&self) -> Uuid {
        self.event_id
    }

    fn stored_hash(&self) -> Result<Hash, StoreError> {
        RawEvent::stored_hash(self)
    }
}

/// Consecutive events of one append with the signature that covers them, or a single event
/// that starts no signed append.
pub(crate) struct Group<'a, E = RawEvent> {
    pub events: &'a [E],
    pub signature: Option<(String, Vec<u8>)>,
}

/// Splits a stretch of the log into appends. Returns the groups and how many events they cover.
/// An append cut off by the end of the stretch is left for the next read — unless the stretch
/// reaches the end of the log (`at_end`): then it claims events that do not exist, and is
/// returned as it is so its signature fails rather than hiding what follows.
pub(crate) fn groups<'a, E: Chained>(
    batch: &'a [E],
    signatures: &HashMap<Uuid, (i32, String, Vec<u8>)>,
    at_end: bool,
) -> (Vec<Group<'a, E>>, usize) {
    let mut out = Vec::new();
    let mut i = 0;
    while i < batch.len() {
        match signatures.get(&batch[i].event_id()) {
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
pub(crate) fn group_is_signed<E: Chained>(group: &Group<'_, E>, key: &LogPublicKey) -> bool {
    signed_message(group, key).is_some_and(|(message, sig)| key.verify(&message, sig))
}

/// The message a group's signature must cover, when the group claims a signature by `key`.
fn signed_message<'g, E: Chained>(
    group: &'g Group<'_, E>,
    key: &LogPublicKey,
) -> Option<(Vec<u8>, &'g [u8])> {
    let (key_id, sig) = group.signature.as_ref()?;
    if *key_id != key.key_id() {
        return None;
    }
    let hashes: Vec<Hash> = group
        .events
        .iter()
        .map(|e| e.stored_hash().ok())
        .collect::<Option<_>>()?;
    Some((append_message(&hashes), sig))
}

/// How many of `groups`, from the first, are signed by `key`. Appends this process signed itself
/// (`here`) need no arithmetic; one batch verification covers the others when they are all
/// signed (the usual case, about twice as fast as one by one); only when it fails are they
/// checked one by one to find the first that is not.
fn signed_prefix<E: Chained>(
    groups: &[Group<'_, E>],
    key: &LogPublicKey,
    here: Option<&SignedHere>,
) -> usize {
    // Each group that claims a signature by `key`, up to the first that does not, with whether
    // this process made that signature over that message.
    let claimed: Vec<(Vec<u8>, &[u8], bool)> = groups
        .iter()
        .map_while(|g| signed_message(g, key))
        .map(|(m, s)| {
            let vouched = here.is_some_and(|h| h.vouches(&m, s));
            (m, s, vouched)
        })
        .collect();
    let unvouched: Vec<(&[u8], &[u8])> = claimed
        .iter()
        .filter(|(_, _, vouched)| !vouched)
        .map(|(m, s, _)| (m.as_slice(), *s))
        .collect();
    if key.verify_many(&unvouched) {
        return claimed.len();
    }
    claimed
        .iter()
        .take_while(|(m, s, vouched)| *vouched || key.verify(m, s))
        .count()
}

struct State {
    frontier: Frontier,
    after: Cursor,
    practices: HashMap<Uuid, (i64, Hash)>,
    /// The leaves of the block still filling.
    block: BlockRow,
    /// Whether appends' signatures are also looked for in `append_signatures`.
    legacy_signatures: bool,
}

pub struct TreeBuilder {
    store: EventStore,
    key: LogPublicKey,
    state: Option<State>,
    /// Whether the last step read all the log had then (a batch short of its limit).
    reached_end: bool,
}

impl TreeBuilder {
    /// `key` is the public half of the service's signing key: appends must verify against it.
    pub fn new(store: EventStore, key: LogPublicKey) -> Self {
        TreeBuilder {
            store,
            key,
            state: None,
            reached_end: false,
        }
    }

    /// Adds leaves until the tree covers every deliverable event; returns the tree size.
    pub async fn catch_up(&mut self) -> Result<u64, TreeError> {
        while self.step().await? > 0 {}
        Ok(self.size())
    }

    /// Adds the leaves of what the log holds now, without chasing what writers append
    /// meanwhile: a follower that ticks calls this, so under a steady write load each tick is a
    /// few full batches (one write each) rather than a run of tiny steps, each its own commit,
    /// chasing the head. Returns the tree size.
    pub async fn follow(&mut self) -> Result<u64, TreeError> {
        while self.step().await? > 0 && !self.reached_end {}
        Ok(self.size())
    }

    fn size(&self) -> u64 {
        self.state.as_ref().map(|s| s.frontier.size()).unwrap_or(0)
    }

    /// Signs the tree as this builder last stored it. The root comes from the builder's own
    /// frontier, so the tree is not read back (the store's `sign_checkpoint` reads the size and
    /// the root's subtrees first: five statements per checkpoint where this takes two). When
    /// a tree at least this large is already signed (by another instance, or by this builder
    /// before), that checkpoint is the answer: what is published never goes back to a smaller
    /// tree. A builder that holds no tree (never stepped, or its last step failed) signs
    /// through the store.
    pub async fn sign_checkpoint(
        &self,
        signer: &LogSigner,
        now: DateTime<Utc>,
    ) -> Result<Checkpoint, StoreError> {
        Ok(self.sign_or_take_checkpoint(signer, now).await?.0)
    }

    /// As [`Self::sign_checkpoint`], and whether this call signed it: only a checkpoint signed
    /// here is this instance's to publish.
    pub async fn sign_or_take_checkpoint(
        &self,
        signer: &LogSigner,
        now: DateTime<Utc>,
    ) -> Result<(Checkpoint, bool), StoreError> {
        let Some(state) = &self.state else {
            return self.store.sign_or_take_checkpoint(signer, now).await;
        };
        let (size, root) = (state.frontier.size(), state.frontier.root());
        if let Some(latest) = self.store.latest_checkpoint().await? {
            if latest.tree_size >= size {
                return Ok((latest, false));
            }
        }
        self.store
            .store_checkpoint(Checkpoint::sign(signer, size, root, now, None))
            .await
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
        let (after, legacy) = self
            .state
            .as_ref()
            .map(|s| (s.after, s.legacy_signatures))
            .unwrap_or_default();
        let mut limit = BATCH;
        loop {
            let (batch, signatures) = self.store.leaf_sources(after, limit, legacy).await?;
            let at_end = batch.len() < limit;
            self.reached_end = at_end;
            if batch.is_empty() {
                return Ok(0);
            }
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

    async fn add(
        &mut self,
        groups: &[Group<'_, LeafSource>],
        covered: usize,
    ) -> Result<usize, TreeError> {
        let Some(state) = self.state.as_ref() else {
            return Ok(0);
        };
        let here = self
            .store
            .signer()
            .filter(|s| *s.public_key() == self.key)
            .map(|s| s.signed_here());
        let signed = signed_prefix(groups, &self.key, here);
        if signed == 0 {
            let e = &groups[0].events[0];
            return Err(TreeError::Unauthenticated {
                position: e.position,
                stream: e.stream.clone(),
                version: e.version,
            });
        }
        let mut frontier = state.frontier.clone();
        let mut practices = state.practices.clone();
        let mut after = state.after;
        let mut block = state.block.clone();
        let first_leaf = frontier.size() as i64;
        let mut step = TreeStep {
            first_leaf,
            leaves: 0,
            nodes: Vec::with_capacity(covered / 8),
            blocks: Vec::new(),
            runs: Vec::new(),
        };
        // Each practice's run in this step: its index in step.runs.
        let mut runs: HashMap<Uuid, usize> = HashMap::new();
        // Whether the block still filling got leaves in this step (its length alone cannot
        // tell: a step of 16 leaves ends a block and leaves the next as long as the last was).
        let mut block_grew = false;
        // Stop before the forged rows, keeping what came before them.
        for group in &groups[..signed] {
            let group_start = frontier.size() as i64;
            for e in group.events {
                let hash = e.stored_hash()?;
                let leaf_index = frontier.size() as i64;
                if let Some(p) = e.practice_id {
                    let (seq, fold) = match practices.get(&p) {
                        Some(known) => *known,
                        None => self.store.practice_head(p, first_leaf as u64).await?,
                    };
                    practices.insert(p, (seq + 1, practice_fold(&fold, &hash)));
                    let run = *runs.entry(p).or_insert_with(|| {
                        step.runs.push(PracticeRun {
                            practice_id: p,
                            first_leaf: leaf_index,
                            leaf_indexes: Vec::new(),
                            events: 0,
                            fold: Vec::new(),
                        });
                        step.runs.len() - 1
                    });
                    step.runs[run]
                        .leaf_indexes
                        .extend_from_slice(&leaf_index.to_be_bytes());
                }
                block.push(&LeafRow {
                    leaf_index,
                    event_id: e.event_id,
                    tx: e.tx,
                    position: e.position,
                    event_hash: hash,
                    group_start,
                });
                step.nodes.extend(
                    frontier
                        .push(leaf_hash(&hash))
                        .into_iter()
                        .filter(|n| n.level >= STORED_FROM),
                );
                block_grew = true;
                if block.is_full() {
                    let next = BlockRow::new(block.idx + 1);
                    step.blocks.push(std::mem::replace(&mut block, next));
                    block_grew = false;
                }
                after = e.cursor();
            }
        }
        // The block still filling, as far as it goes now (when this step added to it).
        if !block.is_empty() && block_grew {
            step.blocks.push(block.clone());
        }
        for run in &mut step.runs {
            let (events, fold) = practices[&run.practice_id];
            run.events = events;
            run.fold = fold.to_vec();
        }
        step.leaves = (frontier.size() as i64 - first_leaf) as i32;
        if let Err(e) = on_tree!(self.store, store_tree(&step)) {
            return Err(self.race_or(e, &step).await);
        }
        self.state = Some(State {
            frontier,
            after,
            practices,
            block,
            legacy_signatures: state.legacy_signatures,
        });
        Ok(step.leaves as usize)
    }

    /// A refused write is a lost race only when the leaves stored in its place are the ones it
    /// was writing (same events, same hashes, same places); a row anyone else put there is not.
    async fn race_or(&self, error: StoreError, step: &TreeStep) -> TreeError {
        if !error.is_unique_violation() || step.leaves == 0 {
            return error.into();
        }
        let first = step.first_leaf;
        let last = first + step.leaves as i64 - 1;
        let ours: HashMap<i64, LeafRow> = match step
            .blocks
            .iter()
            .map(BlockRow::leaves)
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(blocks) => blocks
                .into_iter()
                .flatten()
                .filter(|l| l.leaf_index >= first)
                .map(|l| (l.leaf_index, l))
                .collect(),
            Err(e) => return e.into(),
        };
        let stored = match self
            .store
            .leaves_between(first as u64, last as u64 + 1)
            .await
        {
            Ok(stored) => stored,
            Err(_) => return error.into(),
        };
        // The winner may have stored only the first part of this range (its step ended there).
        let same = !stored.is_empty()
            && stored
                .iter()
                .all(|s| ours.get(&s.leaf_index).is_some_and(|l| l == s));
        if same {
            TreeError::LostRace { first, last }
        } else {
            error.into()
        }
    }

    /// Checks the stored tree's last block against the log before building on it: each leaf
    /// names an event the log has, at its cursor and with its hash, and no event of the log
    /// lies between the previous block's last leaf and this block's last that is not a leaf.
    /// Readers take a block's longest row, so a row added around the builder (that extends the
    /// stored one, as it must) would otherwise decide where the tree goes on.
    async fn check_last_block(&self, block: &BlockRow) -> Result<(), StoreError> {
        let leaves = block.leaves()?;
        let mismatch = |reason: String| StoreError::Corrupt {
            position: 0,
            reason: format!(
                "the tree's last block ({}) does not match the log: {reason}",
                block.idx
            ),
        };
        let ids: Vec<Uuid> = leaves.iter().map(|l| l.event_id).collect();
        let found: HashMap<Uuid, RawEvent> = self
            .store
            .raw_events_by_id(&ids)
            .await?
            .into_iter()
            .map(|e| (e.event_id, e))
            .collect();
        for leaf in &leaves {
            match found.get(&leaf.event_id) {
                Some(e) if e.cursor() == leaf.cursor() && e.hash[..] == leaf.event_hash => {}
                _ => {
                    return Err(mismatch(format!(
                        "leaf {} is not the log's event {}",
                        leaf.leaf_index, leaf.event_id
                    )))
                }
            }
        }
        let before = match (block.idx > 0).then(|| block.idx - 1) {
            Some(previous) => on_tree!(self.store, full_blocks(&[previous as u64]))?
                .get(&(previous as u64))
                .map(BlockRow::last_leaf)
                .transpose()?
                .map(|l| l.cursor())
                .ok_or_else(|| mismatch(format!("block {previous} is missing")))?,
            None => Cursor::START,
        };
        let Some(last) = leaves.last() else {
            return Ok(());
        };
        let between = on_tree!(self.store, events_between(before, last.cursor()))?;
        if between != leaves.len() as i64 {
            return Err(mismatch(format!(
                "the log has {between} events where the block has {} leaves",
                leaves.len()
            )));
        }
        Ok(())
    }

    async fn load(&self) -> Result<State, StoreError> {
        let last = self.store.last_block().await?;
        if let Some(block) = &last {
            self.check_last_block(block).await?;
        }
        let (size, after, block) = match last {
            Some(block) => {
                let leaf = block.last_leaf()?;
                let size = leaf.leaf_index as u64 + 1;
                let block = if block.is_full() {
                    BlockRow::new(block.idx + 1)
                } else {
                    block
                };
                (size, leaf.cursor(), block)
            }
            None => (0, Cursor::START, BlockRow::new(0)),
        };
        let frontier = self.store.over_nodes(|n| Frontier::at(n, size)).await?;
        Ok(State {
            frontier,
            after,
            practices: HashMap::new(),
            block,
            legacy_signatures: self.store.has_legacy_signatures().await?,
        })
    }
}
