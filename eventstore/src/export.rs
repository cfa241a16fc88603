//! Writing an audit bundle for one practice. Runs where the signing key is (the service's host):
//! it brings the tree up to date, signs a practice checkpoint, and lists the practice's leaves
//! with their events and proofs. Whatever it finds wrong is left in the bundle for the auditor
//! to name, never papered over.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    bundle::{Bundle, BundleAppend, BundleEvent, BundleLeaf, ConsistencyProof, BUNDLE_FORMAT},
    error::StoreError,
    hashing::GENESIS,
    merkle::{self, Hash},
    model::Cursor,
    raw::RawEvent,
    signing::LogSigner,
    store::EventStore,
    tree::{groups, LeafRow, TreeBuilder},
};

#[derive(Clone, Debug, Default)]
pub struct ExportRequest {
    pub practice: Uuid,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Tree sizes of checkpoints the auditor may hold; a consistency proof from each is included.
    pub consistent_with: Vec<u64>,
}

const READ_BATCH: usize = 1_000;
/// Leaves whose inclusion proofs are read in one query.
const PROOF_BATCH: usize = 512;

impl EventStore {
    pub async fn export_practice(
        &self,
        signer: &LogSigner,
        request: &ExportRequest,
        now: DateTime<Utc>,
    ) -> Result<Bundle, StoreError> {
        // Rows written around the service stop the builder; they are listed as pending below and
        // the auditor names them.
        let mut builder = TreeBuilder::new(self.clone(), signer.public_key().clone());
        if let Err(e) = builder.catch_up().await {
            tracing::warn!(error = %e, "the tree could not take every event");
        }
        self.sign_checkpoint(signer, now).await?;
        let checkpoint = self
            .sign_practice_checkpoint(signer, request.practice, now)
            .await?;
        let size = checkpoint.tree_size;

        let rows = self.practice_leaves(request.practice, size).await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.event_id).collect();
        let mut events: HashMap<Uuid, RawEvent> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(READ_BATCH) {
            for e in self.raw_events_by_id(chunk).await? {
                events.insert(e.event_id, e);
            }
        }
        let in_range = |e: &RawEvent| {
            request.from.is_none_or(|f| e.recorded_at >= f)
                && request.to.is_none_or(|t| e.recorded_at < t)
        };
        let mut prevs = Prevs::default();
        let mut leaves = Vec::with_capacity(rows.len());
        let mut group_starts = Vec::new();
        let mut proven = Vec::new();
        for row in &rows {
            let event_hash = row.event_hash;
            let raw = events.get(&row.event_id);
            let mut leaf = BundleLeaf {
                leaf_index: row.leaf_index as u64,
                event_hash,
                event: None,
                missing: raw.is_none(),
                inclusion: vec![],
            };
            if let Some(raw) = raw {
                let event = prevs.bundle_event(self, raw).await?;
                if in_range(raw) {
                    leaf.event = Some(event);
                    proven.push(leaves.len());
                    group_starts.push(row.group_start as u64);
                }
            }
            leaves.push(leaf);
        }
        // One read of stored nodes per chunk of leaves, not one per leaf.
        for chunk in proven.chunks(PROOF_BATCH) {
            let indexes: Vec<u64> = chunk.iter().map(|&i| leaves[i].leaf_index).collect();
            let paths = self
                .over_nodes(|n| {
                    indexes
                        .iter()
                        .map(|&index| merkle::inclusion_path(n, index, size))
                        .collect::<Vec<_>>()
                })
                .await?;
            for (&i, path) in chunk.iter().zip(paths) {
                leaves[i].inclusion = path;
            }
        }
        let known: HashMap<u64, &LeafRow> = rows.iter().map(|r| (r.leaf_index as u64, r)).collect();
        let mut appends = self.signed_groups(&group_starts, &known).await?;

        // Pending events start right after the tree's last leaf.
        let after = self
            .leaves_between(size.saturating_sub(1), size)
            .await?
            .first()
            .map(|l| Cursor {
                tx: l.tx,
                position: l.position,
            })
            .unwrap_or(Cursor::START);
        let pending = self
            .pending(request, after, &mut prevs, &mut appends)
            .await?;

        let mut consistency = Vec::new();
        for &old in request.consistent_with.iter().collect::<HashSet<_>>() {
            if let Some(path) = self.consistency_proof(old, size).await? {
                consistency.push(ConsistencyProof {
                    from_size: old,
                    to_size: size,
                    path,
                });
            }
        }
        consistency.sort_by_key(|p| p.from_size);
        Ok(Bundle {
            format: BUNDLE_FORMAT.into(),
            practice_id: request.practice,
            from: request.from,
            to: request.to,
            checkpoint,
            consistency,
            leaves,
            pending,
            appends,
        })
    }

    /// The appends that begin at these leaves, with every hash they signed. Leaves already read
    /// (`known`, the practice's own) are not read again; signatures are read in batches.
    async fn signed_groups(
        &self,
        starts: &[u64],
        known: &HashMap<u64, &LeafRow>,
    ) -> Result<Vec<BundleAppend>, StoreError> {
        let mut seen = HashSet::new();
        let mut firsts: Vec<(u64, Uuid)> = Vec::new();
        for &start in starts {
            if !seen.insert(start) {
                continue;
            }
            let first = match known.get(&start) {
                Some(row) => row.event_id,
                None => match self.leaves_between(start, start + 1).await?.pop() {
                    Some(row) => row.event_id,
                    None => continue,
                },
            };
            firsts.push((start, first));
        }
        let mut out = Vec::with_capacity(firsts.len());
        for chunk in firsts.chunks(READ_BATCH) {
            let ids: Vec<Uuid> = chunk.iter().map(|(_, id)| *id).collect();
            let signatures = self.append_signatures(&ids).await?;
            for (start, first) in chunk {
                let Some((count, key_id, signature)) = signatures.get(first) else {
                    continue;
                };
                let end = start + (*count).max(1) as u64;
                let hashes = match (*start..end)
                    .map(|i| known.get(&i).map(|r| r.event_hash))
                    .collect::<Option<Vec<Hash>>>()
                {
                    Some(hashes) => hashes,
                    None => self
                        .leaves_between(*start, end)
                        .await?
                        .iter()
                        .map(|l| l.event_hash)
                        .collect(),
                };
                out.push(BundleAppend {
                    first_leaf: Some(*start),
                    key_id: key_id.clone(),
                    signature: signature.clone(),
                    hashes,
                });
            }
        }
        Ok(out)
    }

    /// The practice's events past the tree, with the appends that claim them.
    async fn pending(
        &self,
        request: &ExportRequest,
        mut after: Cursor,
        prevs: &mut Prevs,
        appends: &mut Vec<BundleAppend>,
    ) -> Result<Vec<BundleEvent>, StoreError> {
        let mut out = Vec::new();
        loop {
            let batch = self.read_all_raw(after, READ_BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = last.cursor();
            let ids: Vec<Uuid> = batch.iter().map(|e| e.event_id).collect();
            let signatures = self.append_signatures(&ids).await?;
            // Appends cut off at the batch end are read again whole from the next cursor.
            let (found, covered) = groups(&batch, &signatures, batch.len() < READ_BATCH);
            if covered < batch.len() && covered > 0 {
                after = batch[covered - 1].cursor();
            }
            for group in found {
                let ours: Vec<&RawEvent> = group
                    .events
                    .iter()
                    .filter(|e| {
                        e.metadata()
                            .is_ok_and(|m| m.practice_id == Some(request.practice))
                    })
                    .collect();
                if ours.is_empty() {
                    continue;
                }
                if let Some((key_id, signature)) = &group.signature {
                    appends.push(BundleAppend {
                        first_leaf: None,
                        key_id: key_id.clone(),
                        signature: signature.clone(),
                        hashes: group
                            .events
                            .iter()
                            .map(|e| e.stored_hash())
                            .collect::<Result<_, _>>()?,
                    });
                }
                for e in ours {
                    out.push(prevs.bundle_event(self, e).await?);
                }
            }
            if covered == 0 {
                break;
            }
        }
        Ok(out)
    }

    pub(crate) async fn raw_events_by_id(&self, ids: &[Uuid]) -> Result<Vec<RawEvent>, StoreError> {
        match &self.backend {
            crate::store::Backend::Postgres(pool) => crate::postgres::events_by_id(pool, ids).await,
            crate::store::Backend::Sqlite(pool) => crate::sqlite::events_by_id(pool, ids).await,
        }
    }
}

/// The hash before each event of a stream, from the events already seen or from the log.
#[derive(Default)]
struct Prevs {
    last: HashMap<String, (i64, Hash)>,
}

impl Prevs {
    async fn bundle_event(
        &mut self,
        store: &EventStore,
        e: &RawEvent,
    ) -> Result<BundleEvent, StoreError> {
        let prev_hash = match self.last.get(&e.stream) {
            Some((v, h)) if *v == e.version - 1 => *h,
            _ if e.version <= 1 => GENESIS,
            _ => store
                .hash_of(&e.stream, e.version - 1)
                .await?
                .unwrap_or(GENESIS),
        };
        let hash = e.stored_hash()?;
        self.last.insert(e.stream.clone(), (e.version, hash));
        Ok(BundleEvent {
            stream: e.stream.clone(),
            version: e.version,
            event_id: e.event_id,
            event_type: e.event_type.clone(),
            schema_version: e.schema_version,
            data: e.data.clone(),
            metadata: e.metadata()?,
            recorded_at: e.recorded_at,
            hash,
            prev_hash,
            log_position: e.cursor(),
        })
    }
}

impl EventStore {
    async fn hash_of(&self, stream: &str, version: i64) -> Result<Option<Hash>, StoreError> {
        let raw = match &self.backend {
            crate::store::Backend::Postgres(pool) => {
                crate::postgres::read_stream(pool, stream, version).await?
            }
            crate::store::Backend::Sqlite(pool) => {
                crate::sqlite::read_stream(pool, stream, version).await?
            }
        };
        raw.into_iter()
            .find(|e| e.version == version)
            .map(|e| e.stored_hash())
            .transpose()
    }
}
