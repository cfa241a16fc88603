//! Personal data in the log, crypto-shredded. The log can never change, yet a household's
//! personal data must be destroyable: so its personal values are stored sealed with a key of
//! their subject (the household), and erasure destroys that key. Hashes, signatures and Merkle
//! proofs cover the stored (sealed) bytes, so they hold before and after.
//!
//! Which values are personal, and whose they are, is the application's knowledge
//! ([`PersonalDataPolicy`]); sealing on append and opening on read happen here, so no reader can
//! forget it and raw readers (verify, export, the tree) see exactly what is stored.

mod envelope;
mod keys;
mod master;

use std::sync::Arc;

use rayon::prelude::*;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use envelope::ERASED;
pub use keys::WrappedKey;
pub use master::{MasterKey, MasterKeyError, MasterKeys};

use crate::{error::StoreError, model::StreamAppend, raw::RawEvent, store::Backend};
use envelope::DataKey;
use keys::{Slot, SubjectKeys};

/// Batches at least this large are opened on every core (handing work to rayon's threads costs
/// some microseconds; an event ~1–3 µs to open).
const PARALLEL_FROM: usize = 256;

/// What in the log is personal, and whose.
pub trait PersonalDataPolicy: Send + Sync {
    /// The subject whose key seals this stream's personal values (`None`: nothing personal).
    fn subject(&self, stream: &str) -> Option<Uuid>;
    /// Where an event of this type and schema version holds personal values (see
    /// [`envelope`](self) for the path syntax).
    fn personal_paths(&self, event_type: &str, schema_version: i32) -> &'static [&'static str];
    /// Whether an event of this type records its subject's erasure. Reading one destroys the
    /// key if it still exists (an erasure interrupted between its event and the key).
    fn erases_subject(&self, event_type: &str) -> bool;
}

pub(crate) struct PersonalData {
    policy: Arc<dyn PersonalDataPolicy>,
    keys: SubjectKeys,
}

impl PersonalData {
    pub(crate) fn new(
        backend: Backend,
        policy: Arc<dyn PersonalDataPolicy>,
        master: MasterKeys,
    ) -> Self {
        Self {
            policy,
            keys: SubjectKeys::new(backend, master),
        }
    }

    pub(crate) fn keys(&self) -> &SubjectKeys {
        &self.keys
    }

    /// The appends with every personal value sealed, or `None` when none has any.
    pub(crate) async fn seal(
        &self,
        appends: &[StreamAppend],
    ) -> Result<Option<Vec<StreamAppend>>, StoreError> {
        let personal = |a: &StreamAppend| {
            a.events
                .iter()
                .any(|e| !self.paths(&e.event_type, e.schema_version).is_empty())
        };
        if !appends.iter().any(personal) {
            return Ok(None);
        }
        let mut sealed = appends.to_vec();
        for a in &mut sealed {
            let Some(subject) = self.policy.subject(&a.stream) else {
                continue;
            };
            for e in &mut a.events {
                let paths = self.paths(&e.event_type, e.schema_version);
                if paths.is_empty() {
                    continue;
                }
                let key = self.keys.for_writing(subject).await?;
                envelope::seal(&mut e.data, paths, &key, subject, e.event_id);
            }
        }
        Ok(Some(sealed))
    }

    fn paths(&self, event_type: &str, schema_version: i32) -> &'static [&'static str] {
        self.policy.personal_paths(event_type, schema_version)
    }

    /// Opens the personal values of stored rows (erased ones become placeholders). A large batch
    /// is opened on the blocking pool, so an async worker (which may be driving the next read) is
    /// never held by the decryption.
    pub(crate) async fn open(
        self: Arc<Self>,
        mut rows: Vec<RawEvent>,
    ) -> Result<Vec<RawEvent>, StoreError> {
        let plan = self.plan(&mut rows).await?;
        if plan.len() < PARALLEL_FROM {
            self.open_planned(&mut rows, &plan)?;
            return Ok(rows);
        }
        tokio::task::spawn_blocking(move || {
            self.open_planned(&mut rows, &plan)?;
            Ok(rows)
        })
        .await
        .expect("opening sealed values does not panic")
    }

    /// Which rows to open and with what key (`None`: erased or never keyed), after loading the
    /// keys the rows need and carrying out any erasure they record — the part that may touch the
    /// database.
    async fn plan(&self, rows: &mut [RawEvent]) -> Result<Vec<Opening>, StoreError> {
        // Each row's personal paths, whether it records an erasure, and its subject when it holds
        // or erases personal values; looked up once per row.
        let found: Vec<(&'static [&'static str], bool, Option<Uuid>)> = rows
            .iter()
            .map(|r| {
                let paths = self.paths(&r.event_type, r.schema_version);
                let erases = self.policy.erases_subject(&r.event_type);
                let subject = (erases || !paths.is_empty())
                    .then(|| self.policy.subject(&r.stream))
                    .flatten();
                (paths, erases, subject)
            })
            .collect();
        let wanted: Vec<Uuid> = found.iter().filter_map(|(_, _, s)| *s).collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        self.keys.load(&wanted).await?;
        let mut plan = Vec::with_capacity(wanted.len());
        for (row, (r, (paths, erases, subject))) in rows.iter_mut().zip(found).enumerate() {
            let Some(subject) = subject else {
                continue;
            };
            if erases {
                if !matches!(self.keys.cached(subject), Some(Slot::Erased)) {
                    self.keys.erase(subject, r.recorded_at).await?;
                }
                continue;
            }
            let key = match self.keys.cached(subject) {
                Some(Slot::Live(k)) => Some(k),
                Some(Slot::Erased) => None,
                // No key row: values written before sealing existed (read as they are), or a
                // key row lost from the database.
                None => {
                    if envelope::any_sealed(&mut r.data, paths) {
                        tracing::error!(%subject, position = r.position, "a sealed value has no key in subject_keys: shown as erased");
                    }
                    None
                }
            };
            plan.push(Opening {
                row,
                paths,
                subject,
                key,
            });
        }
        Ok(plan)
    }

    /// The pure part of opening: no I/O, and for a rebuild's large batches spread over rayon's
    /// threads. Those live on, and so do their allocator heaps: a thread started per batch left
    /// every value it parsed on a heap that other threads then had to reclaim.
    fn open_planned(&self, rows: &mut [RawEvent], plan: &[Opening]) -> Result<(), StoreError> {
        let mut work: Vec<(&mut RawEvent, &Opening)> = Vec::with_capacity(plan.len());
        let mut planned = plan.iter().peekable();
        for (i, r) in rows.iter_mut().enumerate() {
            if let Some(o) = planned.next_if(|o| o.row == i) {
                work.push((r, o));
            }
        }
        let open_one = |(r, o): &mut (&mut RawEvent, &Opening)| {
            envelope::open(&mut r.data, o.paths, o.key.as_ref(), o.subject, r.event_id).map_err(
                |reason| StoreError::Corrupt {
                    position: r.position,
                    reason,
                },
            )
        };
        if work.len() < PARALLEL_FROM {
            return work.iter_mut().try_for_each(open_one);
        }
        // The first failure in log order, whichever thread met it.
        match work
            .par_iter_mut()
            .with_min_len(64)
            .map(open_one)
            .find_map_first(Result::err)
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// A document's bytes sealed with its subject's key (bound to its address).
    pub(crate) async fn seal_document(
        &self,
        subject: Uuid,
        sha256: &str,
        content: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let key = self.keys.for_writing(subject).await?;
        Ok(envelope::seal_bytes(
            &key,
            content,
            &document_binding(subject, sha256),
        ))
    }

    /// `None` when the subject was erased.
    pub(crate) async fn open_document(
        &self,
        subject: Uuid,
        sha256: &str,
        sealed: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.keys.load(&[subject]).await?;
        let Some(Slot::Live(key)) = self.keys.cached(subject) else {
            return Ok(None);
        };
        envelope::open_bytes(&key, sealed, &document_binding(subject, sha256))
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt {
                position: 0,
                reason: format!("document {sha256} does not open with its household's key"),
            })
    }

    pub(crate) async fn erase(&self, subject: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.keys.erase(subject, at).await
    }
}

/// One row to open: its index in the batch, its personal paths, its subject, and the subject's
/// key unless erased.
struct Opening {
    row: usize,
    paths: &'static [&'static str],
    subject: Uuid,
    key: Option<DataKey>,
}

fn document_binding(subject: Uuid, sha256: &str) -> Vec<u8> {
    let mut aad = subject.as_bytes().to_vec();
    aad.extend_from_slice(sha256.as_bytes());
    aad
}
