//! The offline auditor: checks a bundle with nothing but the log's public key (and, optionally,
//! a checkpoint the auditor saved earlier). No database, no network. Names the first problem.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use crate::{
    bundle::{Bundle, BundleAppend, BundleEvent, BUNDLE_FORMAT},
    checkpoint::Checkpoint,
    hashing::{event_hash, HashInput, GENESIS},
    merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash},
    model::Cursor,
    signing::LogPublicKey,
    tree::{practice_fold, PRACTICE_FOLD_START},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditProblem {
    UnknownFormat {
        format: String,
    },
    /// The bundle's checkpoint is not signed by the trusted key.
    CheckpointSignature,
    /// The saved checkpoint is not signed by the trusted key.
    TrustedCheckpointSignature,
    /// The bundle's checkpoint does not speak for the exported practice.
    WrongPractice,
    /// The log is smaller than when the saved checkpoint was taken: events were removed or an
    /// older backup was restored.
    LogShrank {
        trusted_size: u64,
        size: u64,
    },
    /// No valid proof that the current tree extends the saved one: history was rewritten.
    NotConsistent {
        trusted_size: u64,
        size: u64,
    },
    /// The practice's own history no longer starts with what the saved checkpoint committed to.
    PracticeHistoryRewritten {
        trusted_events: u64,
        events: u64,
    },
    /// The listed leaves do not fold to what the checkpoint signed for the practice.
    PracticeFoldMismatch,
    LeafOrder {
        leaf_index: u64,
    },
    /// The tree holds this event but the log lost it.
    Missing {
        leaf_index: u64,
    },
    /// The event's content no longer matches its hash.
    Altered {
        stream: String,
        version: i64,
    },
    /// The event is not in the checkpoint's tree at its leaf.
    NotInTree {
        stream: String,
        version: i64,
    },
    /// No valid append signature covers the event: it was written around the service.
    Unsigned {
        stream: String,
        version: i64,
    },
    /// A stream skips or repeats a version, or its chain is broken.
    ChainBroken {
        stream: String,
        version: i64,
    },
    /// The log delivers the event out of the tree's order.
    Reordered {
        stream: String,
        version: i64,
    },
    /// An event of another practice was listed.
    ForeignEvent {
        stream: String,
        version: i64,
    },
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use AuditProblem::*;
        match self {
            UnknownFormat { format } => write!(f, "not a Hearth audit bundle (format {format:?})"),
            CheckpointSignature => write!(f, "the bundle's checkpoint is not signed by the given public key"),
            TrustedCheckpointSignature => write!(f, "the trusted checkpoint is not signed by the given public key"),
            WrongPractice => write!(f, "the bundle's checkpoint does not commit to the exported practice"),
            LogShrank { trusted_size, size } => write!(f, "the log has {size} events but the trusted checkpoint saw {trusted_size}: events were removed or an older backup restored"),
            NotConsistent { trusted_size, size } => write!(f, "the log of {size} events is not an append-only extension of the trusted checkpoint ({trusted_size} events): history was rewritten"),
            PracticeHistoryRewritten { trusted_events, events } => write!(f, "the practice's first {trusted_events} events no longer match the trusted checkpoint (the log now lists {events}): events were removed, altered or reordered"),
            PracticeFoldMismatch => write!(f, "the practice's listed events do not match what the checkpoint signed: events were removed, added or reordered"),
            LeafOrder { leaf_index } => write!(f, "leaf {leaf_index} is listed out of order or beyond the tree"),
            Missing { leaf_index } => write!(f, "the event at leaf {leaf_index} is missing from the log"),
            Altered { stream, version } => write!(f, "event {stream}@{version} was altered: its content no longer matches its hash"),
            NotInTree { stream, version } => write!(f, "event {stream}@{version} is not in the signed tree where the bundle says"),
            Unsigned { stream, version } => write!(f, "event {stream}@{version} has no valid append signature: it was not written by this service"),
            ChainBroken { stream, version } => write!(f, "stream {stream} breaks at version {version}: a version is missing, repeated or re-chained"),
            Reordered { stream, version } => write!(f, "event {stream}@{version} is delivered out of the signed order: the log was reordered"),
            ForeignEvent { stream, version } => write!(f, "event {stream}@{version} belongs to another practice"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    pub tree_size: u64,
    pub practice_events: u64,
    pub events_checked: u64,
    pub pending_events: u64,
    pub trusted_size: Option<u64>,
}

/// Checks a bundle: every signature, every inclusion proof, every per-stream chain, and — given
/// a checkpoint saved earlier — that today's log is an append-only extension of it.
pub fn audit_bundle(
    bundle: &Bundle,
    key: &LogPublicKey,
    trusted: Option<&Checkpoint>,
) -> Result<AuditReport, AuditProblem> {
    use AuditProblem::*;
    if bundle.format != BUNDLE_FORMAT {
        return Err(UnknownFormat {
            format: bundle.format.clone(),
        });
    }
    let cp = &bundle.checkpoint;
    if !cp.verify(key) {
        return Err(CheckpointSignature);
    }
    let Some(head) = cp
        .practice
        .as_ref()
        .filter(|h| h.practice_id == bundle.practice_id)
    else {
        return Err(WrongPractice);
    };
    if let Some(t) = trusted {
        check_trusted(bundle, key, t)?;
    }

    // The practice's leaves, in order, fold to what the checkpoint signed.
    let mut fold = PRACTICE_FOLD_START;
    let mut last_leaf: Option<u64> = None;
    for leaf in &bundle.leaves {
        if leaf.leaf_index >= cp.tree_size || last_leaf.is_some_and(|l| leaf.leaf_index <= l) {
            return Err(LeafOrder {
                leaf_index: leaf.leaf_index,
            });
        }
        last_leaf = Some(leaf.leaf_index);
        fold = practice_fold(&fold, &leaf.event_hash);
    }
    if bundle.leaves.len() as u64 != head.events || fold != head.fold {
        return Err(PracticeFoldMismatch);
    }

    let signed = SignedAppends::new(&bundle.appends, key);
    let mut chains = Chains::default();
    let mut checked = 0u64;
    for leaf in &bundle.leaves {
        if leaf.missing {
            return Err(Missing {
                leaf_index: leaf.leaf_index,
            });
        }
        let Some(e) = &leaf.event else {
            chains.skip();
            continue;
        };
        check_event(bundle.practice_id, e)?;
        if e.hash != leaf.event_hash {
            return Err(Altered {
                stream: e.stream.clone(),
                version: e.version,
            });
        }
        if !verify_inclusion(
            &leaf_hash(&e.hash),
            leaf.leaf_index,
            cp.tree_size,
            &leaf.inclusion,
            &cp.root,
        ) {
            return Err(NotInTree {
                stream: e.stream.clone(),
                version: e.version,
            });
        }
        if !signed.covers_leaf(leaf.leaf_index, &e.hash) {
            return Err(Unsigned {
                stream: e.stream.clone(),
                version: e.version,
            });
        }
        chains.follow(e)?;
        checked += 1;
    }
    for e in &bundle.pending {
        check_event(bundle.practice_id, e)?;
        if !signed.covers_pending(&e.hash) {
            return Err(Unsigned {
                stream: e.stream.clone(),
                version: e.version,
            });
        }
        chains.follow(e)?;
        checked += 1;
    }
    Ok(AuditReport {
        tree_size: cp.tree_size,
        practice_events: head.events,
        events_checked: checked,
        pending_events: bundle.pending.len() as u64,
        trusted_size: trusted.map(|t| t.tree_size),
    })
}

fn check_trusted(bundle: &Bundle, key: &LogPublicKey, t: &Checkpoint) -> Result<(), AuditProblem> {
    use AuditProblem::*;
    let cp = &bundle.checkpoint;
    if !t.verify(key) {
        return Err(TrustedCheckpointSignature);
    }
    if t.tree_size > cp.tree_size {
        return Err(LogShrank {
            trusted_size: t.tree_size,
            size: cp.tree_size,
        });
    }
    let consistent = bundle
        .consistency
        .iter()
        .filter(|p| p.from_size == t.tree_size && p.to_size == cp.tree_size)
        .any(|p| verify_consistency(t.tree_size, &t.root, cp.tree_size, &cp.root, &p.path))
        || (t.tree_size == cp.tree_size && t.root == cp.root);
    if !consistent {
        return Err(NotConsistent {
            trusted_size: t.tree_size,
            size: cp.tree_size,
        });
    }
    if let Some(th) = t.practice.as_ref() {
        if th.practice_id != bundle.practice_id {
            return Err(WrongPractice);
        }
        let listed = bundle.leaves.len() as u64;
        let prefix = bundle
            .leaves
            .iter()
            .take(th.events as usize)
            .fold(PRACTICE_FOLD_START, |acc, l| {
                practice_fold(&acc, &l.event_hash)
            });
        if listed < th.events || prefix != th.fold {
            return Err(PracticeHistoryRewritten {
                trusted_events: th.events,
                events: listed,
            });
        }
    }
    Ok(())
}

fn check_event(practice: Uuid, e: &BundleEvent) -> Result<(), AuditProblem> {
    if e.metadata.practice_id != Some(practice) {
        return Err(AuditProblem::ForeignEvent {
            stream: e.stream.clone(),
            version: e.version,
        });
    }
    let input = HashInput {
        stream: &e.stream,
        version: e.version,
        event_id: e.event_id,
        event_type: &e.event_type,
        schema_version: e.schema_version,
        data: &e.data,
        metadata: &e.metadata,
        recorded_at: e.recorded_at,
    };
    if event_hash(&input, &e.prev_hash) != e.hash {
        return Err(AuditProblem::Altered {
            stream: e.stream.clone(),
            version: e.version,
        });
    }
    Ok(())
}

/// Per-stream chains and the log's delivery order, followed along the tree's order.
#[derive(Default)]
struct Chains {
    streams: HashMap<String, (i64, Hash)>,
    last_position: Option<Cursor>,
}

impl Chains {
    /// An event outside the exported range: its neighbours' positions are not compared across it.
    fn skip(&mut self) {
        self.last_position = None;
    }

    fn follow(&mut self, e: &BundleEvent) -> Result<(), AuditProblem> {
        let at = (e.stream.clone(), e.version);
        if self.last_position.is_some_and(|p| e.log_position <= p) {
            return Err(AuditProblem::Reordered {
                stream: at.0,
                version: at.1,
            });
        }
        self.last_position = Some(e.log_position);
        let chained = match self.streams.get(&e.stream) {
            Some((version, hash)) => e.version == version + 1 && e.prev_hash == *hash,
            // The first event seen of a stream: version 1 starts from nothing; a later version
            // (outside the range's start) carries its predecessor's hash, covered by its own.
            None => e.version > 1 || e.prev_hash == GENESIS,
        };
        if !chained {
            return Err(AuditProblem::ChainBroken {
                stream: at.0,
                version: at.1,
            });
        }
        self.streams.insert(e.stream.clone(), (e.version, e.hash));
        Ok(())
    }
}

/// The bundle's appends whose signatures verify.
struct SignedAppends<'a> {
    valid: Vec<&'a BundleAppend>,
}

impl<'a> SignedAppends<'a> {
    fn new(appends: &'a [BundleAppend], key: &LogPublicKey) -> Self {
        SignedAppends {
            valid: appends
                .iter()
                .filter(|a| a.key_id == key.key_id() && key.verify_append(&a.hashes, &a.signature))
                .collect(),
        }
    }

    fn covers_leaf(&self, leaf_index: u64, hash: &Hash) -> bool {
        self.valid.iter().any(|a| {
            a.first_leaf.is_some_and(|first| {
                leaf_index >= first && a.hashes.get((leaf_index - first) as usize) == Some(hash)
            })
        })
    }

    fn covers_pending(&self, hash: &Hash) -> bool {
        self.valid
            .iter()
            .any(|a| a.first_leaf.is_none() && a.hashes.contains(hash))
    }
}
