//! Loading the latest snapshot at start and writing new ones while the projection runs.

use std::{
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use hearth_eventstore::EventStore;

use super::{check_against_log, decode_body, encode_to, read_header_from, Discard, SnapshotDir};
use crate::model::AccessModel;

/// When the projection writes snapshots: once ready, whenever `every_events` events or
/// `interval` (with at least one new event) have passed since the last one, and at shutdown
/// ([`crate::Projection::write_snapshot`]).
#[derive(Clone, Debug)]
pub struct SnapshotPolicy {
    pub dir: SnapshotDir,
    /// 0: never by count.
    pub every_events: u64,
    /// Zero: never by time.
    pub interval: Duration,
}

/// What the runner keeps about snapshots between batches.
pub(crate) struct Keeper {
    policy: SnapshotPolicy,
    /// (events covered by the newest snapshot on disk, when it was written). Also serialises
    /// writers: the follower and a shutdown may both want one.
    last: Mutex<(u64, Instant)>,
}

impl Keeper {
    pub(crate) fn new(policy: SnapshotPolicy) -> Self {
        Self {
            policy,
            last: Mutex::new((0, Instant::now())),
        }
    }

    /// The latest snapshot if it belongs to this log, else `None` (logged with the reason).
    pub(crate) async fn load(&self, store: &EventStore) -> Option<AccessModel> {
        let started = Instant::now();
        let dir = self.policy.dir.clone();
        let opened = tokio::task::spawn_blocking(move || {
            dir.open()
                .map(|file| file.map(|mut r| (read_header_from(&mut r), r)))
        })
        .await;
        let (header, mut input) = match opened {
            Ok(Ok(Some(opened))) => opened,
            Ok(Ok(None)) => {
                tracing::info!("no projection snapshot; replaying the whole log");
                return None;
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the projection snapshot cannot be read; replaying the whole log");
                return None;
            }
            Err(_) => return None,
        };
        let checked = match header {
            Ok(header) => match store.anchor(header.cursor).await {
                Ok(found) => check_against_log(&header, found).map(|()| header),
                Err(e) => {
                    tracing::warn!(error = %e, "checking the projection snapshot against the log failed; replaying the whole log");
                    return None;
                }
            },
            Err(d) => Err(d),
        };
        let decoded = match checked {
            Ok(header) => tokio::task::spawn_blocking(move || {
                decode_body(&header, &mut input).map(|model| (header, model))
            })
            .await
            .unwrap_or_else(|e| Err(Discard::Unreadable(e.to_string()))),
            Err(d) => Err(d),
        };
        match decoded {
            Ok((header, model)) => {
                *self.last.lock().unwrap_or_else(|p| p.into_inner()) =
                    (header.anchor.events, Instant::now());
                tracing::info!(
                    events = header.anchor.events,
                    position = header.cursor.position,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "loaded the projection snapshot; catching up from its cursor"
                );
                Some(model)
            }
            Err(reason) => {
                tracing::warn!(%reason, "projection snapshot discarded; replaying the whole log");
                None
            }
        }
    }

    pub(crate) fn due(&self, applied: u64) -> bool {
        let (covered, at) = *self.last.lock().unwrap_or_else(|p| p.into_inner());
        let new = applied.saturating_sub(covered);
        (self.policy.every_events > 0 && new >= self.policy.every_events)
            || (!self.policy.interval.is_zero() && new > 0 && at.elapsed() >= self.policy.interval)
    }

    /// Writes a snapshot of the model. Skipped when nothing changed since the last snapshot.
    /// Blocking: run it off the async threads.
    pub(crate) fn write(&self, model: &RwLock<AccessModel>) -> std::io::Result<Option<u64>> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let started = Instant::now();
        // Encoded and written part by part under the read lock (readers go on; the follower,
        // the only writer, waits): the encoded snapshot is never held whole beside the model.
        let m = model.read().unwrap_or_else(|p| p.into_inner());
        let events = m.events_applied();
        if events == last.0 {
            return Ok(None);
        }
        let sizes = self.policy.dir.write_with(|out| encode_to(&m, out))?;
        drop(m);
        *last = (events, Instant::now());
        tracing::info!(
            events,
            model_bytes = sizes.rest,
            household_bytes = sizes.households,
            change_bytes = sizes.changes,
            total_ms = started.elapsed().as_millis() as u64,
            "wrote a projection snapshot"
        );
        Ok(Some(events))
    }
}

impl Keeper {
    /// Removes the snapshot on disk: a household was erased, and the snapshot still holds its
    /// personal data in clear. The next one is due at once.
    pub(crate) fn forget(&self) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match self.policy.dir.remove() {
            Ok(()) => tracing::info!("a household was erased: removed the projection snapshot"),
            Err(e) => {
                tracing::error!(error = %e, "a household was erased but the projection snapshot could not be removed")
            }
        }
        *last = (0, Instant::now());
    }
}

pub(crate) async fn write_off_thread(keeper: Arc<Keeper>, model: Arc<RwLock<AccessModel>>) {
    match tokio::task::spawn_blocking(move || keeper.write(&model)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "writing the projection snapshot failed"),
        Err(e) => tracing::warn!(error = %e, "the projection snapshot writer panicked"),
    }
}
