use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use tokio::sync::{oneshot, watch, Notify};

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

/// A queued message: whether it was delivered before, and whom to tell once it is settled.
type Queued = (NoteMessage, bool, oneshot::Sender<()>);

/// The embedded default: an in-process queue with the same contract (ack, requeue, dead
/// letter), so `cargo run` creates file notes without a broker. Memory is not durable, so a
/// publish is confirmed only once the message is settled: the relay's checkpoint never passes a
/// message a crash could lose, and after a restart it publishes that message again.
#[derive(Clone, Default)]
pub struct MemoryBus {
    queue: Arc<Mutex<VecDeque<Queued>>>,
    ready: Arc<Notify>,
}

#[async_trait]
impl Publisher for MemoryBus {
    async fn publish(&self, message: &NoteMessage) -> Result<(), BusError> {
        let (settled, confirm) = oneshot::channel();
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back((message.clone(), false, settled));
        self.ready.notify_one();
        confirm
            .await
            .map_err(|_| BusError::Unreachable("the in-process worker stopped".into()))
    }
}

impl MemoryBus {
    /// Delivers messages one at a time to `handler` until `stop` turns true.
    pub async fn consume(&self, handler: Arc<dyn Handler>, mut stop: watch::Receiver<bool>) {
        loop {
            let next = self
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop_front();
            let Some((message, redelivered, settled)) = next else {
                tokio::select! {
                    _ = self.ready.notified() => continue,
                    _ = tokio::time::sleep(Duration::from_millis(500)) => continue,
                    _ = stop.changed() => return,
                }
            };
            match handler.handle(&message, redelivered).await {
                Disposition::Ack => {
                    let _ = settled.send(());
                }
                Disposition::Requeue(pause) => {
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.changed() => return,
                    }
                    self.queue
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_front((message, true, settled));
                }
                // The worker has recorded the failure in the log (listed and retried through
                // the API), which is all a dead-letter queue would keep in process memory.
                Disposition::DeadLetter(_) => {
                    let _ = settled.send(());
                }
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}
