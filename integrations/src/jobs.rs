//! Long work that runs outside any request: sync runs started through the API (and the
//! scheduler's). At shutdown every job is told to stop; each stops at its next safe point (between
//! two clients, each applied atomically), records itself as interrupted, and is awaited for a
//! bounded time.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::{
    sync::{watch, Mutex},
    task::JoinSet,
};

#[derive(Clone)]
pub struct Jobs {
    stop: Arc<watch::Sender<bool>>,
    running: Arc<Mutex<JoinSet<()>>>,
}

impl Default for Jobs {
    fn default() -> Self {
        Self {
            stop: Arc::new(watch::channel(false).0),
            running: Arc::default(),
        }
    }
}

impl Jobs {
    /// What a job watches to know it must stop at its next safe point.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    pub async fn spawn(&self, job: impl Future<Output = ()> + Send + 'static) {
        let mut running = self.running.lock().await;
        // Reap finished jobs so the set does not grow with every run.
        while running.try_join_next().is_some() {}
        running.spawn(job);
    }

    /// Tells every job to stop and waits up to `grace` for them to record how far they got.
    pub async fn shut_down(&self, grace: Duration) {
        self.stop.send_replace(true);
        let mut running = self.running.lock().await;
        let all = async { while running.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("background jobs did not stop within the grace period");
        }
    }
}
