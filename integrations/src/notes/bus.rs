use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use tokio::sync::{watch, Notify};

use super::message::NoteMessage;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("the broker is unreachable: {0}")]
    Unreachable(String),
    #[error("the broker refused the message: {0}")]
    Refused(String),
}

#[async_trait]
pub trait Publisher: Send + Sync {
    /// Returns once the bus has taken responsibility for the message (a publisher confirm).
    async fn publish(&self, message: &NoteMessage) -> Result<(), BusError>;
}

/// What to do with a delivered message once handled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    Ack,
    /// Deliver again later (a transient failure), after this pause.
    Requeue(Duration),
    /// Park it on the dead-letter queue: retrying will not help until someone acts.
    DeadLetter(String),
}

#[async_trait]
pub trait Handler: Send + Sync {
    async fn handle(&self, message: &NoteMessage, redelivered: bool) -> Disposition;
}

/// The embedded default: an in-process queue with the same contract (ack, requeue, dead
/// letter), so `cargo run` creates file notes without a broker. Not durable: on restart the
/// relay republishes from its checkpoint, and the worker's deduplication absorbs the repeats.
#[derive(Clone, Default)]
pub struct MemoryBus {
    queue: Arc<Mutex<VecDeque<(NoteMessage, bool)>>>,
    dead: Arc<Mutex<Vec<(NoteMessage, String)>>>,
    ready: Arc<Notify>,
}

#[async_trait]
impl Publisher for MemoryBus {
    async fn publish(&self, message: &NoteMessage) -> Result<(), BusError> {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back((message.clone(), false));
        self.ready.notify_one();
        Ok(())
    }
}

impl MemoryBus {
    pub fn dead_letters(&self) -> Vec<(NoteMessage, String)> {
        self.dead.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn len(&self) -> usize {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Delivers messages one at a time to `handler` until `stop` turns true.
    pub async fn consume(&self, handler: Arc<dyn Handler>, mut stop: watch::Receiver<bool>) {
        loop {
            let next = self
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop_front();
            let Some((message, redelivered)) = next else {
                tokio::select! {
                    _ = self.ready.notified() => continue,
                    _ = tokio::time::sleep(Duration::from_millis(500)) => continue,
                    _ = stop.changed() => return,
                }
            };
            match handler.handle(&message, redelivered).await {
                Disposition::Ack => {}
                Disposition::Requeue(pause) => {
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.changed() => return,
                    }
                    self.queue
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_front((message, true));
                }
                Disposition::DeadLetter(reason) => self
                    .dead
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((message, reason)),
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}
