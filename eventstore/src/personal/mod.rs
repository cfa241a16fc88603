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

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use envelope::ERASED;
pub use keys::WrappedKey;
pub use master::{MasterKey, MasterKeyError, MasterKeys};

use crate::{error::StoreError, model::StreamAppend, raw::RawEvent, store::Backend};
use envelope::DataKey;
use keys::{Slot, SubjectKeys};

/// Batches at least this large are opened on every core (a thread costs ~10 µs to start; an
/// event ~3 µs to open).
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

    /// Opens the personal values of stored rows in place (erased ones become placeholders).
    pub(crate) async fn open(&self, rows: &mut [RawEvent]) -> Result<(), StoreError> {
        // Each row's subject when the row holds (or erases) personal values; parsed once.
        let subjects: Vec<Option<Uuid>> = rows
            .iter()
            .map(|r| {
                let personal = self.policy.erases_subject(&r.event_type)
                    || !self.paths(&r.event_type, r.schema_version).is_empty();
                personal.then(|| self.policy.subject(&r.stream)).flatten()
            })
            .collect();
        let wanted: Vec<Uuid> = subjects.iter().flatten().copied().collect();
        if wanted.is_empty() {
            return Ok(());
        }
        self.keys.load(&wanted).await?;
        // Erasures first (they may touch the database); then the opening itself, which is pure
        // and, for a rebuild's large batches, split across the cores.
        let mut work: Vec<(&mut RawEvent, Uuid, Option<DataKey>)> = Vec::new();
        for (r, subject) in rows.iter_mut().zip(subjects) {
            let Some(subject) = subject else {
                continue;
            };
            if self.policy.erases_subject(&r.event_type) {
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
                    let paths = self.paths(&r.event_type, r.schema_version);
                    if envelope::any_sealed(&mut r.data, paths) {
                        tracing::error!(%subject, position = r.position, "a sealed value has no key in subject_keys: shown as erased");
                    }
                    None
                }
            };
            work.push((r, subject, key));
        }
        let open_part = |part: &mut [(&mut RawEvent, Uuid, Option<DataKey>)]| {
            part.iter_mut().try_for_each(|(r, subject, key)| {
                let paths = self.paths(&r.event_type, r.schema_version);
                envelope::open(&mut r.data, paths, key.as_ref(), *subject, r.event_id).map_err(
                    |reason| StoreError::Corrupt {
                        position: r.position,
                        reason,
                    },
                )
            })
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cores < 2 || work.len() < PARALLEL_FROM {
            return open_part(&mut work);
        }
        let per = work.len().div_ceil(cores);
        std::thread::scope(|scope| {
            let parts: Vec<_> = work
                .chunks_mut(per)
                .map(|part| scope.spawn(|| open_part(part)))
                .collect();
            parts
                .into_iter()
                .try_for_each(|p| p.join().expect("opening sealed values does not panic"))
        })
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

fn document_binding(subject: Uuid, sha256: &str) -> Vec<u8> {
    let mut aad = subject.as_bytes().to_vec();
    aad.extend_from_slice(sha256.as_bytes());
    aad
}
