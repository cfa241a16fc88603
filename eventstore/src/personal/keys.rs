//! Each subject's data key: created with the subject's first sealed value, kept in
//! `subject_keys` wrapped by the master key, cached here unwrapped, destroyed on erasure.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    RwLock,
};

use rustc_hash::FxHashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{envelope::DataKey, master::MasterKeys};
use crate::{
    error::StoreError,
    store::{with_pool, Backend},
};

#[derive(Clone)]
pub(crate) enum Slot {
    Live(DataKey),
    Erased,
}

/// One row of `subject_keys` as a backup holds it: useless without the master key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    pub subject: Uuid,
    pub key_id: String,
    /// Base64 of nonce ‖ ciphertext; `None` once erased.
    pub wrapped: Option<String>,
    pub erased_at: Option<DateTime<Utc>>,
}

type Row = (Uuid, String, Option<Vec<u8>>, Option<DateTime<Utc>>);

pub(crate) struct SubjectKeys {
    backend: Backend,
    master: MasterKeys,
    // Fx: keys are random UUIDs, and a rebuild looks one up per personal event.
    cache: RwLock<FxHashMap<Uuid, Slot>>,
    whole_table_read: AtomicBool,
}

/// A batch missing at least this many keys (a rebuild meets about a thousand households per
/// batch) reads the whole table, once: a scan costs far less per key than as many index probes.
const WHOLE_TABLE_FROM: usize = 256;

impl SubjectKeys {
    pub(crate) fn new(backend: Backend, master: MasterKeys) -> Self {
        Self {
            backend,
            master,
            cache: RwLock::default(),
            whole_table_read: AtomicBool::new(false),
        }
    }

    pub(crate) fn cached(&self, subject: Uuid) -> Option<Slot> {
        self.cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&subject)
            .cloned()
    }

    fn remember(&self, subject: Uuid, slot: Slot) {
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(subject, slot);
    }

    fn slot_of(&self, (subject, key_id, wrapped, _): &Row) -> Result<Slot, StoreError> {
        match wrapped {
            None => Ok(Slot::Erased),
            Some(w) => Ok(Slot::Live(DataKey::new(
                &self.unwrap_row(*subject, key_id, w)?,
            ))),
        }
    }

    /// A stored data key in clear, with whichever configured master key wrapped it.
    fn unwrap_row(
        &self,
        subject: Uuid,
        key_id: &str,
        wrapped: &[u8],
    ) -> Result<[u8; 32], StoreError> {
        let unreadable = |reason: String| StoreError::KeyUnavailable { subject, reason };
        let master = self.master.by_id(key_id).ok_or_else(|| {
            unreadable(format!(
                "it is wrapped by master key {key_id}, which is not configured"
            ))
        })?;
        master
            .unwrap(subject, wrapped)
            .ok_or_else(|| unreadable("its wrapped key does not open".into()))
    }

    /// Loads the keys of these subjects that are not cached yet. A subject without a row has
    /// never had a sealed value: nothing is cached for it.
    pub(crate) async fn load(&self, subjects: &[Uuid]) -> Result<(), StoreError> {
        let missing: Vec<Uuid> = {
            let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
            let mut m: Vec<Uuid> = subjects
                .iter()
                .filter(|s| !cache.contains_key(s))
                .copied()
                .collect();
            m.sort_unstable();
            m.dedup();
            m
        };
        if missing.is_empty() {
            return Ok(());
        }
        let rows = if missing.len() >= WHOLE_TABLE_FROM
            && !self.whole_table_read.swap(true, Ordering::AcqRel)
        {
            self.all_rows().await.inspect_err(|_| {
                self.whole_table_read.store(false, Ordering::Release);
            })?
        } else {
            self.rows(&missing).await?
        };
        let slots = rows
            .iter()
            .map(|row| Ok((row.0, self.slot_of(row)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        for (subject, slot) in slots {
            // Never over what this process already knows: a scan that began before an erasure
            // here committed must not bring the key back into the cache.
            cache.entry(subject).or_insert(slot);
        }
        Ok(())
    }

    async fn all_rows(&self) -> Result<Vec<Row>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT subject, key_id, wrapped, erased_at FROM subject_keys ORDER BY subject",
            )
            .fetch_all(pool)
            .await
        })?)
    }

    async fn rows(&self, subjects: &[Uuid]) -> Result<Vec<Row>, StoreError> {
        const COLUMNS: &str = "SELECT subject, key_id, wrapped, erased_at FROM subject_keys";
        match &self.backend {
            // One statement for a whole batch, whatever its size: a rebuild meets a thousand
            // households per batch.
            Backend::Postgres(pool) => Ok(sqlx::query_as(&format!(
                "{COLUMNS} WHERE subject = ANY($1)"
            ))
            .bind(subjects)
            .fetch_all(pool)
            .await?),
            // In process: statements are cheap, and bind parameters are limited.
            Backend::Sqlite(pool) => {
                let mut rows = Vec::new();
                for chunk in subjects.chunks(500) {
                    let placeholders = vec!["?"; chunk.len()].join(", ");
                    let sql = format!("{COLUMNS} WHERE subject IN ({placeholders})");
                    let mut q = sqlx::query_as(&sql);
                    for s in chunk {
                        q = q.bind(*s);
                    }
                    rows.extend(q.fetch_all(pool).await?);
                }
                Ok(rows)
            }
        }
    }

    /// The key new values of `subject` are sealed with, created (and stored, before anything
    /// is sealed with it) when the subject has none. An erased subject gets no new key.
    pub(crate) async fn for_writing(&self, subject: Uuid) -> Result<DataKey, StoreError> {
        match self.cached(subject) {
            Some(Slot::Live(k)) => return Ok(k),
            Some(Slot::Erased) => return Err(StoreError::SubjectErased(subject)),
            None => {}
        }
        // Not known here: most often a new household, so the key is offered first (one round
        // trip). Another instance may create the subject's key at the same moment, or it may
        // exist already (or be erased): whichever row landed first is the key, and it is read.
        let bytes: [u8; 32] = rand::random();
        let master = self.master.current();
        let wrapped = master.wrap(subject, &bytes);
        let created = with_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO subject_keys (subject, key_id, wrapped) VALUES ($1, $2, $3) ON CONFLICT (subject) DO NOTHING"
        )
        .bind(subject)
        .bind(master.id())
        .bind(&wrapped)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })? == 1;
        if created {
            let key = DataKey::new(&bytes);
            self.remember(subject, Slot::Live(key.clone()));
            return Ok(key);
        }
        self.load(&[subject]).await?;
        match self.cached(subject) {
            Some(Slot::Live(k)) => Ok(k),
            Some(Slot::Erased) => Err(StoreError::SubjectErased(subject)),
            None => Err(StoreError::KeyUnavailable {
                subject,
                reason: "its key was not stored".into(),
            }),
        }
    }

    /// Destroys the subject's key for good (a subject that never had one gets an erased row, so
    /// none can be created later). Returns whether a live key was destroyed now.
    pub(crate) async fn erase(&self, subject: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let master = self.master.current();
        let inserted = with_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO subject_keys (subject, key_id, wrapped, erased_at) VALUES ($1, $2, NULL, $3) ON CONFLICT (subject) DO NOTHING"
        )
        .bind(subject)
        .bind(master.id())
        .bind(at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        let destroyed = if inserted == 0 {
            with_pool!(self, |pool| {
                sqlx::query(
                "UPDATE subject_keys SET wrapped = NULL, erased_at = $2 WHERE subject = $1 AND erased_at IS NULL"
            )
            .bind(subject)
            .bind(at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            })? > 0
        } else {
            false
        };
        self.remember(subject, Slot::Erased);
        Ok(destroyed)
    }

    /// Every row, for a backup (wrapped keys only; erased rows stay erased).
    pub(crate) async fn all(&self) -> Result<Vec<WrappedKey>, StoreError> {
        use base64::Engine;
        Ok(self
            .all_rows()
            .await?
            .into_iter()
            .map(|(subject, key_id, wrapped, erased_at)| WrappedKey {
                subject,
                key_id,
                wrapped: wrapped.map(|w| base64::engine::general_purpose::STANDARD.encode(w)),
                erased_at,
            })
            .collect())
    }

    /// Re-wraps every live key not yet under the current master key. Returns how many.
    pub(crate) async fn rewrap(&self) -> Result<u64, StoreError> {
        let current = self.master.current();
        let rows: Vec<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT subject, key_id, wrapped, erased_at FROM subject_keys WHERE wrapped IS NOT NULL AND key_id <> $1"
        )
        .bind(current.id())
        .fetch_all(pool)
        .await
        })?;
        let mut done = 0;
        for row in rows {
            let (subject, old_id, Some(old), _) = &row else {
                continue;
            };
            let bytes = self.unwrap_row(*subject, old_id, old)?;
            let wrapped = current.wrap(*subject, &bytes);
            // Only if still as read: an erasure in between wins.
            done += with_pool!(self, |pool| {
                sqlx::query(
                "UPDATE subject_keys SET key_id = $2, wrapped = $3 WHERE subject = $1 AND key_id = $4 AND wrapped IS NOT NULL"
            )
            .bind(*subject)
            .bind(current.id())
            .bind(&wrapped)
            .bind(old_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        Ok(done)
    }

    /// Fails when some live key is wrapped by a master key that is not configured: started
    /// that way, the service would show those households as erased.
    pub(crate) async fn check_openable(&self) -> Result<(), StoreError> {
        let ids: Vec<(String, i64)> = with_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT key_id, COUNT(*) FROM subject_keys WHERE wrapped IS NOT NULL GROUP BY key_id"
        )
        .fetch_all(pool)
        .await
        })?;
        match ids.iter().find(|(id, _)| self.master.by_id(id).is_none()) {
            Some((id, n)) => Err(StoreError::MasterKeyMissing {
                key_id: id.clone(),
                keys: *n,
            }),
            None => Ok(()),
        }
    }
}
