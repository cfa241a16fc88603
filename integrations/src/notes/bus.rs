use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use tokio::sync::{oneshot, watch, Notify};

use super::message::{NoteMessage, PARTITIONS};

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

    /// Publishes `messages` in their order, returning once the bus has taken them all. A bus
    /// that can have several in flight overrides this; one at a time is always correct.
    async fn publish_all(&self, messages: &[NoteMessage]) -> Result<(), BusError> {
        for m in messages {
            self.publish(m).await?;
        }
        Ok(())
    }
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

/// The embedded default: in-process queues with the same contract (ack, requeue, dead letter,
/// one queue per partition), so `cargo run` creates file notes without a broker. Memory is not
/// durable, so a publish is confirmed only once the message is settled: the relay's checkpoint
/// never passes a message a crash could lose, and after a restart it publishes that message
/// again.
#[derive(Clone)]
pub struct MemoryBus {
    partitions: Arc<Vec<Partition>>,
}

#[derive(Default)]
struct Partition {
    queue: Mutex<VecDeque<Queued>>,
    ready: Notify,
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self {
            partitions: Arc::new((0..PARTITIONS).map(|_| Partition::default()).collect()),
        }
    }
}

impl MemoryBus {
    /// Queues the message on its partition; the receiver resolves once it is settled.
    fn enqueue(&self, message: &NoteMessage) -> oneshot::Receiver<()> {
        let (settled, confirm) = oneshot::channel();
        let partition = &self.partitions[message.partition()];
        partition
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back((message.clone(), false, settled));
        partition.ready.notify_one();
        confirm
    }
}

fn stopped(_: oneshot::error::RecvError) -> BusError {
    BusError::Unreachable("the in-process worker stopped".into())
}

#[async_trait]
impl Publisher for MemoryBus {
    async fn publish(&self, message: &NoteMessage) -> Result<(), BusError> {
        self.enqueue(message).await.map_err(stopped)
    }

    async fn publish_all(&self, messages: &[NoteMessage]) -> Result<(), BusError> {
        // All queued first (in order), then awaited: the partitions work them side by side.
        let confirms: Vec<_> = messages.iter().map(|m| self.enqueue(m)).collect();
        for confirm in confirms {
            confirm.await.map_err(stopped)?;
        }
        Ok(())
    }
}

impl MemoryBus {
    /// Delivers messages to `handler` until `stop` turns true: each partition one message at a
    /// time, the partitions side by side (as tasks of their own, so on every core).
    pub async fn consume(&self, handler: Arc<dyn Handler>, stop: watch::Receiver<bool>) {
        let mut partitions = tokio::task::JoinSet::new();
        for k in 0..self.partitions.len() {
            let (bus, handler, stop) = (self.clone(), handler.clone(), stop.clone());
            partitions.spawn(async move { bus.consume_partition(k, handler, stop).await });
        }
        while partitions.join_next().await.is_some() {}
    }

    async fn consume_partition(
        self,
        k: usize,
        handler: Arc<dyn Handler>,
        mut stop: watch::Receiver<bool>,
    ) {
        let partition = &self.partitions[k];
        loop {
            let next = partition
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop_front();
            let Some((message, redelivered, settled)) = next else {
                tokio::select! {
                    _ = partition.ready.notified() => continue,
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
                    partition
                        .queue
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

#[cfg(test)]
mod tests {
    use hearth_domain::{HouseholdId, PracticeId};
    use uuid::Uuid;

    use super::*;
    use crate::notes::message::partition_of;

    /// Holds every note of `blocked` until a note of another household has been handled, and
    /// records the order each household's notes were handled in.
    struct Recorder {
        blocked: HouseholdId,
        /// One permit per note of the other household handled.
        other_done: tokio::sync::Semaphore,
        seen: Mutex<Vec<(HouseholdId, i64)>>,
    }

    #[async_trait]
    impl Handler for Recorder {
        async fn handle(&self, m: &NoteMessage, _redelivered: bool) -> Disposition {
            if m.household_id == self.blocked {
                self.other_done
                    .acquire()
                    .await
                    .expect("the semaphore stays open")
                    .forget();
            } else {
                self.other_done.add_permits(1);
            }
            self.seen.lock().unwrap().push((m.household_id, m.position));
            Disposition::Ack
        }
    }

    fn household_in(partition: usize) -> HouseholdId {
        std::iter::repeat_with(|| HouseholdId(Uuid::new_v4()))
            .find(|h| partition_of(*h) == partition)
            .unwrap()
    }

    fn message(household: HouseholdId, position: i64) -> NoteMessage {
        NoteMessage {
            event_id: Uuid::new_v4(),
            event_type: "household.your_life_survey_completed".into(),
            schema_version: 1,
            practice_id: PracticeId(Uuid::nil()),
            household_id: household,
            position,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn households_in_different_partitions_are_worked_side_by_side_each_in_order() {
        let (a, b) = (household_in(3), household_in(11));
        let recorder = Arc::new(Recorder {
            blocked: a,
            other_done: tokio::sync::Semaphore::new(0),
            seen: Mutex::default(),
        });
        let bus = MemoryBus::default();
        let (stop, stopping) = watch::channel(false);
        let consumer = tokio::spawn({
            let (bus, handler) = (bus.clone(), recorder.clone() as Arc<dyn Handler>);
            async move { bus.consume(handler, stopping).await }
        });
        // a's first note waits for b's: one queue worked one at a time would never settle it.
        let messages = [message(a, 1), message(a, 2), message(b, 3), message(b, 4)];
        tokio::time::timeout(Duration::from_secs(30), bus.publish_all(&messages))
            .await
            .expect("household a's note waited for b's, which was never worked beside it")
            .unwrap();
        let seen = recorder.seen.lock().unwrap().clone();
        for h in [a, b] {
            let order: Vec<i64> = seen.iter().filter(|s| s.0 == h).map(|s| s.1).collect();
            assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
            assert_eq!(order.len(), 2);
        }
        stop.send(true).unwrap();
        consumer.await.unwrap();
    }
}
