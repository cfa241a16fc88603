//! Keeps the access model up to date: loads the latest snapshot that still matches the log (or
//! starts empty), replays the log from there (the model lives in memory), then follows it live.
//! Readers wait for a cursor to get read-your-writes.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, RwLock, RwLockReadGuard,
    },
    time::Duration,
};

use hearth_domain::household::HouseholdEventKind;
use hearth_eventstore::{Cursor, EventStore, StoreError};
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    model::AccessModel,
    snapshot::{write_off_thread, Keeper, SnapshotPolicy},
};

/// The projection did not reach the wanted cursor in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the read model is at {reached:?}, behind the requested {wanted:?}")]
pub struct Lagging {
    pub wanted: Cursor,
    pub reached: Cursor,
}

#[derive(Clone)]
pub struct Projection {
    model: Arc<RwLock<AccessModel>>,
    cursor: watch::Receiver<Cursor>,
    ready: Arc<AtomicBool>,
    task: Arc<JoinHandle<()>>,
    snapshots: Option<Arc<Keeper>>,
    loaded: Arc<std::sync::OnceLock<Cursor>>,
}

impl Projection {
    /// Starts following the log. `ready()` turns true once the model has caught up with the log
    /// as it stood at start.
    pub async fn start(store: EventStore) -> Result<Self, StoreError> {
        Self::start_with(store, None).await
    }

    /// As [`Self::start`], starting from the latest snapshot that matches the log and writing
    /// new ones as `snapshots` says. The snapshot is loaded by the follower, so this returns at
    /// once and `ready()` turns true when the model has caught up.
    pub async fn start_with(
        store: EventStore,
        snapshots: Option<SnapshotPolicy>,
    ) -> Result<Self, StoreError> {
        let head = store.head().await?;
        let model = Arc::new(RwLock::new(AccessModel::default()));
        let (tx, rx) = watch::channel(Cursor::START);
        let ready = Arc::new(AtomicBool::new(head == Cursor::START));
        let snapshots = snapshots.map(|p| Arc::new(Keeper::new(p)));
        let loaded = Arc::new(std::sync::OnceLock::new());
        let follower = Follower {
            store,
            model: model.clone(),
            cursor: tx,
            ready: ready.clone(),
            head,
            snapshots: snapshots.clone(),
            loaded: loaded.clone(),
        };
        let task = tokio::spawn(follower.run());
        Ok(Self {
            model,
            cursor: rx,
            ready,
            task: Arc::new(task),
            snapshots,
            loaded,
        })
    }

    /// The cursor of the snapshot this projection started from; `None` when it replayed the
    /// whole log (no snapshot, or one that was discarded) or is still loading.
    pub fn started_from_snapshot(&self) -> Option<Cursor> {
        self.loaded.get().copied()
    }

    /// Writes a snapshot now (at graceful shutdown) unless the newest one already covers the
    /// model. Does nothing without a snapshot policy or before the model is ready (a partly
    /// replayed model is worth less than the replay it would save).
    pub async fn write_snapshot(&self) {
        if let (Some(keeper), true) = (&self.snapshots, self.ready()) {
            write_off_thread(keeper.clone(), self.model.clone()).await;
        }
    }

    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn cursor(&self) -> Cursor {
        *self.cursor.borrow()
    }

    /// Changes whenever the model applies events: followers of the change feed wait on it.
    pub fn cursor_watch(&self) -> watch::Receiver<Cursor> {
        self.cursor.clone()
    }

    /// A read lock on the model. Hold it briefly and never across an await.
    pub fn read(&self) -> RwLockReadGuard<'_, AccessModel> {
        self.model
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until the model has applied the event at `wanted` (and everything before it).
    pub async fn wait_for(&self, wanted: Cursor, timeout: Duration) -> Result<(), Lagging> {
        let mut rx = self.cursor.clone();
        let reached = tokio::time::timeout(timeout, rx.wait_for(|c| *c >= wanted)).await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            _ => Err(Lagging {
                wanted,
                reached: self.cursor(),
            }),
        }
    }

    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.ready() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

impl Drop for Projection {
    fn drop(&mut self) {
        // The last handle stops the follower.
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

struct Follower {
    store: EventStore,
    model: Arc<RwLock<AccessModel>>,
    cursor: watch::Sender<Cursor>,
    ready: Arc<AtomicBool>,
    head: Cursor,
    snapshots: Option<Arc<Keeper>>,
    loaded: Arc<std::sync::OnceLock<Cursor>>,
}

impl Follower {
    async fn run(self) {
        if let Some(keeper) = &self.snapshots {
            if let Some(loaded) = keeper.load(&self.store).await {
                let at = loaded.cursor();
                *self.model.write().unwrap_or_else(|p| p.into_inner()) = loaded;
                let _ = self.loaded.set(at);
                metrics::gauge!("hearth_projection_snapshot_loaded_position")
                    .set(at.position as f64);
                self.moved_to(at);
            }
        }
        loop {
            let from = self.model.read().map(|m| m.cursor()).unwrap_or_default();
            // From the model's own cursor, so nothing between the snapshot and the live log is
            // skipped or applied twice.
            let mut sub = self.store.subscribe("access-model", from);
            loop {
                match sub.next_batch().await {
                    Ok(batch) => {
                        let applied = batch.len() as u64;
                        // After an erasure the snapshot on disk holds personal data that no
                        // longer exists anywhere else.
                        let erased = HouseholdEventKind::Erased.event_type();
                        let erasure = batch.iter().any(|e| e.event_type == erased);
                        let (last, total) = {
                            let mut m = self.model.write().unwrap_or_else(|p| p.into_inner());
                            for e in batch {
                                m.apply_owned(e);
                            }
                            (m.cursor(), m.events_applied())
                        };
                        metrics::counter!("hearth_projection_events_applied_total")
                            .increment(applied);
                        self.moved_to(last);
                        if let (Some(keeper), true) = (&self.snapshots, erasure) {
                            keeper.forget();
                        }
                        if let Some(keeper) = &self.snapshots {
                            if self.ready.load(Ordering::Acquire) && keeper.due(total) {
                                write_off_thread(keeper.clone(), self.model.clone()).await;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "access model: reading the log failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break;
                    }
                }
            }
        }
    }

    fn moved_to(&self, at: Cursor) {
        self.cursor.send_replace(at);
        if at >= self.head {
            self.ready.store(true, Ordering::Release);
        }
    }
}

/// Builds a model from the log alone, up to its current head (for `hearth replay` and rebuild
/// checks): no subscription, no live state. The next batches are read and opened while the
/// current one is applied, so the three overlap on separate cores.
pub async fn build_from_log(store: &EventStore) -> Result<AccessModel, StoreError> {
    let mut model = AccessModel::default();
    let mut batches = store.read_ahead(Cursor::START, 10_000);
    while let Some(batch) = batches.next_batch().await {
        for e in batch? {
            model.apply_owned(e);
        }
    }
    Ok(model)
}
