//! Verification of the whole log: every event's hash, every stream's chain and heads, and every
//! seal over the log in subscription order. Names the first problem found.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use uuid::Uuid;

use crate::{
    error::StoreError,
    hashing::{event_hash, seal_step, GENESIS},
    model::Cursor,
    raw::{RawEvent, Seal},
    signing::LogPublicKey,
    store::EventStore,
    tree::{group_is_signed, groups},
};

const SCAN_BATCH: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IntegrityProblem {
    /// The event's content no longer matches its hash.
    Altered {
        position: i64,
        stream: String,
        version: i64,
    },
    /// A stream skips versions, or ends before its recorded head.
    Missing {
        stream: String,
        expected_version: i64,
        found_version: Option<i64>,
    },
    /// A stream's versions appear out of order in the log.
    Reordered {
        position: i64,
        stream: String,
        version: i64,
    },
    /// The log no longer folds to what a seal recorded: events before it were removed,
    /// added or reordered.
    SealMismatch { seal: i64, up_to_position: i64 },
    /// No append signature of the log's key covers the event: it was written around the
    /// service, by whoever could write the database.
    Unsigned {
        position: i64,
        stream: String,
        version: i64,
    },
}

impl std::fmt::Display for IntegrityProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Altered {
                position,
                stream,
                version,
            } => write!(
                f,
                "event {stream}@{version} (position {position}) was altered"
            ),
            Self::Missing {
                stream,
                expected_version,
                found_version: Some(found),
            } => {
                write!(
                    f,
                    "stream {stream} is missing version {expected_version} (next found: {found})"
                )
            }
            Self::Missing {
                stream,
                expected_version,
                found_version: None,
            } => {
                write!(f, "stream {stream} is missing version {expected_version} and later (its head says so)")
            }
            Self::Reordered {
                position,
                stream,
                version,
            } => write!(
                f,
                "event {stream}@{version} at position {position} is out of order"
            ),
            Self::Unsigned {
                position,
                stream,
                version,
            } => write!(
                f,
                "event {stream}@{version} (position {position}) carries no valid append signature: it was not written by this service"
            ),
            Self::SealMismatch {
                seal,
                up_to_position,
            } => {
                write!(f, "the log up to position {up_to_position} no longer matches seal {seal}: events were removed, added or reordered")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub events_checked: u64,
    pub streams_checked: u64,
    pub seals_checked: u64,
    /// The first problem in log order; `None` means the log is intact.
    pub problem: Option<IntegrityProblem>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

const UNDELIVERABLE_POLL: std::time::Duration = std::time::Duration::from_millis(20);
const UNDELIVERABLE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

impl EventStore {
    /// Hashes, chains, heads and seals only: what anyone holding the database can recompute.
    /// Prefer [`EventStore::verify_signed`] wherever the log's public key is known.
    pub async fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.verify_with(None).await
    }

    /// Also checks that every event is covered by an append signature of `key`, so rows written
    /// around the service (with recomputed hashes, heads and seals) are found.
    pub async fn verify_signed(&self, key: &LogPublicKey) -> Result<VerifyReport, StoreError> {
        self.verify_with(Some(key)).await
    }

    async fn verify_with(&self, key: Option<&LogPublicKey>) -> Result<VerifyReport, StoreError> {
        // The heads are compared with the walk, so they are read first, with the newest event
        // committed by then: the walk goes at least that far, and heads moved by appends made
        // while it runs are not mistaken for missing events.
        let heads = self.heads().await?;
        let committed = self.committed_head().await?;
        let mut waited = std::time::Duration::ZERO;
        let seals = self.seals().await?;
        let mut walk = Walk::new(seals);
        let mut after = Cursor::START;
        let mut limit = SCAN_BATCH;
        loop {
            let read = self.read_all_raw(after, limit).await?;
            if read.is_empty() {
                if after >= committed {
                    break;
                }
                // Committed but not yet deliverable: an older transaction is still open.
                if waited >= UNDELIVERABLE_WAIT {
                    return Err(StoreError::HeldBack {
                        position: committed.position,
                        secs: UNDELIVERABLE_WAIT.as_secs(),
                    });
                }
                tokio::time::sleep(UNDELIVERABLE_POLL).await;
                waited += UNDELIVERABLE_POLL;
                continue;
            }
            let (covered, unsigned) = match key {
                None => (read.len(), HashSet::new()),
                Some(key) => match self.signed_stretch(&read, limit, key).await? {
                    Some(stretch) => stretch,
                    None => {
                        // One append larger than the batch: read it whole.
                        limit *= 2;
                        continue;
                    }
                },
            };
            let batch = &read[..covered];
            after = batch[covered - 1].cursor();
            for (index, raw) in batch.iter().enumerate() {
                let metadata = raw.metadata()?;
                let stored = raw.stored_hash()?;
                let (expected_version, prev) = walk
                    .streams
                    .get(&raw.stream)
                    .map(|(v, h)| (v + 1, *h))
                    .unwrap_or((1, GENESIS));
                if raw.version < expected_version {
                    return Ok(walk.report(IntegrityProblem::Reordered {
                        position: raw.position,
                        stream: raw.stream.clone(),
                        version: raw.version,
                    }));
                }
                if raw.version > expected_version {
                    let problem = IntegrityProblem::Missing {
                        stream: raw.stream.clone(),
                        expected_version,
                        found_version: Some(raw.version),
                    };
                    return Ok(walk.report(problem));
                }
                if event_hash(&raw.hash_input(&metadata), &prev) != stored {
                    return Ok(walk.report(IntegrityProblem::Altered {
                        position: raw.position,
                        stream: raw.stream.clone(),
                        version: raw.version,
                    }));
                }
                if unsigned.contains(&index) {
                    return Ok(walk.report(IntegrityProblem::Unsigned {
                        position: raw.position,
                        stream: raw.stream.clone(),
                        version: raw.version,
                    }));
                }
                walk.streams
                    .insert(raw.stream.clone(), (raw.version, stored));
                if let Some(problem) = walk.fold(raw.cursor(), &stored) {
                    return Ok(walk.report(problem));
                }
            }
        }
        if let Some(problem) = walk.finish() {
            return Ok(walk.report(problem));
        }
        for (stream, version, _) in heads {
            let last = walk.streams.get(&stream).map(|(v, _)| *v).unwrap_or(0);
            if last < version {
                return Ok(walk.report(IntegrityProblem::Missing {
                    stream,
                    expected_version: last + 1,
                    found_version: None,
                }));
            }
        }
        Ok(walk.report_ok())
    }

    /// Seals everything deliverable since the last seal. Returns `None` when there was nothing new
    /// (or another process sealed the same stretch first).
    pub async fn seal(&self) -> Result<Option<Seal>, StoreError> {
        let last = self.seals().await?.pop();
        let (prev_seq, mut after, mut count, mut running) = match &last {
            Some(s) => (s.seq, s.up_to, s.event_count, s.running_hash),
            None => (0, Cursor::START, 0, GENESIS),
        };
        let start = after;
        loop {
            let batch = self.read_all_raw(after, SCAN_BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = last.cursor();
            for raw in &batch {
                running = seal_step(&running, &raw.stored_hash()?);
                count += 1;
            }
        }
        if after == start || !self.insert_seal(prev_seq, after, count, &running).await? {
            return Ok(None);
        }
        Ok(self.seals().await?.pop())
    }
}

impl EventStore {
    /// How many events of `read` form whole appends, and the indexes of events that start an
    /// append no signature of `key` covers. `None` when the first append does not fit in `read`.
    async fn signed_stretch(
        &self,
        read: &[RawEvent],
        limit: usize,
        key: &LogPublicKey,
    ) -> Result<Option<(usize, HashSet<usize>)>, StoreError> {
        let ids: Vec<Uuid> = read.iter().map(|e| e.event_id).collect();
        let signatures = self.append_signatures(&ids).await?;
        let (groups, covered) = groups(read, &signatures, read.len() < limit);
        if groups.is_empty() {
            return Ok(None);
        }
        let mut unsigned = HashSet::new();
        let mut start = 0;
        for group in &groups {
            if !group_is_signed(group, key) {
                unsigned.insert(start);
            }
            start += group.events.len();
        }
        Ok(Some((covered, unsigned)))
    }
}

struct Walk {
    streams: HashMap<String, (i64, [u8; 32])>,
    seals: std::vec::IntoIter<Seal>,
    next_seal: Option<Seal>,
    running: [u8; 32],
    count: i64,
    events: u64,
    seals_checked: u64,
}

impl Walk {
    fn new(seals: Vec<Seal>) -> Self {
        let mut seals = seals.into_iter();
        let next_seal = seals.next();
        Walk {
            streams: HashMap::new(),
            seals,
            next_seal,
            running: GENESIS,
            count: 0,
            events: 0,
            seals_checked: 0,
        }
    }

    /// Folds one event into the running seal hash and checks any seal that ends at or before it.
    fn fold(&mut self, at: Cursor, hash: &[u8; 32]) -> Option<IntegrityProblem> {
        if let Some(seal) = &self.next_seal {
            if seal.up_to < at {
                return Some(self.mismatch());
            }
        }
        self.running = seal_step(&self.running, hash);
        self.count += 1;
        self.events += 1;
        if let Some(seal) = &self.next_seal {
            if seal.up_to == at {
                if seal.event_count != self.count || seal.running_hash != self.running {
                    return Some(self.mismatch());
                }
                self.seals_checked += 1;
                self.next_seal = self.seals.next();
            }
        }
        None
    }

    fn finish(&mut self) -> Option<IntegrityProblem> {
        self.next_seal.as_ref().map(|_| self.mismatch())
    }

    fn mismatch(&self) -> IntegrityProblem {
        let seal = self
            .next_seal
            .as_ref()
            .map(|s| (s.seq, s.up_to.position))
            .unwrap_or((0, 0));
        IntegrityProblem::SealMismatch {
            seal: seal.0,
            up_to_position: seal.1,
        }
    }

    fn report(&self, problem: IntegrityProblem) -> VerifyReport {
        VerifyReport {
            events_checked: self.events,
            streams_checked: self.streams.len() as u64,
            seals_checked: self.seals_checked,
            problem: Some(problem),
        }
    }

    fn report_ok(&self) -> VerifyReport {
        VerifyReport {
            events_checked: self.events,
            streams_checked: self.streams.len() as u64,
            seals_checked: self.seals_checked,
            problem: None,
        }
    }
}
