//! RabbitMQ transport: a durable topic exchange (routing key = `{event type}.{partition}`) with
//! publisher confirms; one durable classic queue per partition, each with a single active
//! consumer (so two instances never work the same household's notes at once, and one takes
//! over when the other stops); a dead-letter queue. Connections are re-established after a
//! broker restart.
//!
//! Partition 0's queue keeps the name the one queue had before partitions
//! (`{prefix}.file-notes`), so messages a previous version left there are still worked.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use futures::StreamExt;
use lapin::{
    options::*,
    publisher_confirm::Confirmation,
    types::{AMQPValue, FieldTable, LongString, ShortString},
    BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind,
};
use tokio::sync::{watch, Mutex};

use super::{
    bus::{BusError, Disposition, Handler, Publisher},
    message::{NoteMessage, PARTITIONS},
};

/// Names of the exchanges and queues, under one prefix so several deployments (or tests) can
/// share a broker.
#[derive(Clone, Debug)]
pub struct AmqpNames {
    pub events: String,
    pub dead: String,
    pub queue: String,
    pub dead_queue: String,
}

impl AmqpNames {
    /// The queue of one partition.
    pub fn partition(&self, k: usize) -> String {
        match k {
            0 => self.queue.clone(),
            k => format!("{}.{k}", self.queue),
        }
    }

    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            events: format!("{prefix}.events"),
            dead: format!("{prefix}.dead"),
            queue: format!("{prefix}.file-notes"),
            dead_queue: format!("{prefix}.file-notes.dead"),
        }
    }
}

#[derive(Clone)]
pub struct AmqpBus {
    url: String,
    names: AmqpNames,
    publishing: Arc<Mutex<Option<(Connection, Channel)>>>,
}

fn unreachable(e: impl std::fmt::Display) -> BusError {
    BusError::Unreachable(e.to_string())
}

impl AmqpBus {
    pub fn new(url: &str, names: AmqpNames) -> Self {
        Self {
            url: url.to_string(),
            names,
            publishing: Arc::default(),
        }
    }

    async fn connect(&self) -> Result<(Connection, Channel), BusError> {
        let connection = Connection::connect(&self.url, ConnectionProperties::default())
            .await
            .map_err(unreachable)?;
        let channel = connection.create_channel().await.map_err(unreachable)?;
        self.declare(&channel).await?;
        Ok((connection, channel))
    }

    /// Declares the topology; idempotent, so every (re)connection can do it.
    async fn declare(&self, ch: &Channel) -> Result<(), BusError> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        ch.exchange_declare(
            &self.names.events,
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await
        .map_err(unreachable)?;
        ch.exchange_declare(
            &self.names.dead,
            ExchangeKind::Fanout,
            durable,
            FieldTable::default(),
        )
        .await
        .map_err(unreachable)?;
        let mut args = FieldTable::default();
        args.insert(
            ShortString::from("x-dead-letter-exchange"),
            AMQPValue::LongString(LongString::from(self.names.dead.as_str())),
        );
        args.insert(
            ShortString::from("x-single-active-consumer"),
            AMQPValue::Boolean(true),
        );
        let queue = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        for k in 0..PARTITIONS {
            let name = self.names.partition(k);
            ch.queue_declare(&name, queue, args.clone())
                .await
                .map_err(unreachable)?;
            // `#` so the event type may have any number of dotted words before the partition.
            ch.queue_bind(
                &name,
                &self.names.events,
                &format!("#.{k}"),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(unreachable)?;
        }
        ch.queue_declare(&self.names.dead_queue, queue, FieldTable::default())
            .await
            .map_err(unreachable)?;
        ch.queue_bind(
            &self.names.dead_queue,
            &self.names.dead,
            "",
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(unreachable)?;
        Ok(())
    }

    /// Messages parked on the dead-letter queue right now.
    pub async fn dead_letter_count(&self) -> Result<u32, BusError> {
        let (_c, ch) = self.connect().await?;
        let q = ch
            .queue_declare(
                &self.names.dead_queue,
                QueueDeclareOptions {
                    durable: true,
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(unreachable)?;
        Ok(q.message_count())
    }

    /// Works the file-note queues with `handler` until `stop`, reconnecting after broker
    /// failures. Each partition one message at a time (the next is not delivered before this
    /// one is settled), the partitions side by side.
    pub async fn consume(&self, handler: Arc<dyn Handler>, mut stop: watch::Receiver<bool>) {
        let mut pause = Duration::from_millis(200);
        loop {
            match self.consume_once(&handler, &stop).await {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, "file-note consumer lost the broker; reconnecting");
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.changed() => return,
                    }
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn consume_once(
        &self,
        handler: &Arc<dyn Handler>,
        stop: &watch::Receiver<bool>,
    ) -> Result<(), BusError> {
        let (connection, _declared) = self.connect().await?;
        // Closed however this ends (return, error, or the task aborted mid-message), so the
        // broker redelivers an unsettled message at once instead of when the socket times out.
        let guard = CloseOnDrop(Some(connection));
        let connection = guard.0.as_ref().expect("set above");
        let mut channels = Vec::with_capacity(PARTITIONS);
        for _ in 0..PARTITIONS {
            channels.push(connection.create_channel().await.map_err(unreachable)?);
        }
        // The partitions stop between messages, never in one: on the caller's stop, or when a
        // sibling lost the broker (a handler cut off mid-call could leave a note being made
        // while its message is redelivered elsewhere).
        let (halt, halting) = watch::channel(false);
        let mut partitions = tokio::task::JoinSet::new();
        for (k, ch) in channels.into_iter().enumerate() {
            let (queue, handler, halting) =
                (self.names.partition(k), handler.clone(), halting.clone());
            partitions
                .spawn(async move { consume_partition(ch, k, &queue, &handler, halting).await });
        }
        let mut stop = stop.clone();
        let mut failure = None;
        let mut halted = false;
        loop {
            tokio::select! {
                done = partitions.join_next() => {
                    let error = match done {
                        None => break,
                        Some(Ok(Ok(()))) => continue,
                        Some(Ok(Err(e))) => e,
                        Some(Err(e)) => BusError::Unreachable(format!("a consumer task failed: {e}")),
                    };
                    failure.get_or_insert(error);
                    halted = true;
                    let _ = halt.send(true);
                }
                _ = stop.changed(), if !halted => {
                    halted = true;
                    let _ = halt.send(true);
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

/// Works one partition's queue until `stop` or a broker failure.
async fn consume_partition(
    ch: Channel,
    k: usize,
    queue: &str,
    handler: &Arc<dyn Handler>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), BusError> {
    ch.basic_qos(1, BasicQosOptions::default())
        .await
        .map_err(unreachable)?;
    let mut deliveries = ch
        .basic_consume(
            queue,
            &format!("hearth-file-notes-{k}"),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(unreachable)?;
    loop {
        let delivery = tokio::select! {
            d = deliveries.next() => d,
            _ = stop.changed() => return Ok(()),
        };
        let delivery = match delivery {
            Some(Ok(d)) => d,
            Some(Err(e)) => return Err(unreachable(e)),
            None => return Err(BusError::Unreachable("the consumer was cancelled".into())),
        };
        let message: NoteMessage = match serde_json::from_slice(&delivery.data) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "an unreadable message was dead-lettered");
                delivery
                    .reject(BasicRejectOptions { requeue: false })
                    .await
                    .map_err(unreachable)?;
                continue;
            }
        };
        match handler.handle(&message, delivery.redelivered).await {
            Disposition::Ack => delivery
                .ack(BasicAckOptions::default())
                .await
                .map_err(unreachable)?,
            Disposition::Requeue(pause) => {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => return Ok(()),
                }
                delivery
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    })
                    .await
                    .map_err(unreachable)?
            }
            Disposition::DeadLetter(_) => delivery
                .reject(BasicRejectOptions { requeue: false })
                .await
                .map_err(unreachable)?,
        }
    }
}

/// The message as it goes on the wire: routing key, body, properties.
fn wire(m: &NoteMessage) -> Result<(String, Vec<u8>, BasicProperties), BusError> {
    let mut headers = FieldTable::default();
    for (k, v) in [
        ("event_id", m.event_id.to_string()),
        ("event_type", m.event_type.clone()),
        ("practice_id", m.practice_id.to_string()),
        ("household_id", m.household_id.to_string()),
    ] {
        headers.insert(
            ShortString::from(k),
            AMQPValue::LongString(LongString::from(v)),
        );
    }
    headers.insert(
        ShortString::from("position"),
        AMQPValue::LongLongInt(m.position),
    );
    let properties = BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type(ShortString::from("application/json"))
        .with_message_id(ShortString::from(m.event_id.to_string()))
        .with_headers(headers);
    let payload = serde_json::to_vec(m).map_err(|e| BusError::Refused(e.to_string()))?;
    Ok((
        format!("{}.{}", m.event_type, m.partition()),
        payload,
        properties,
    ))
}

#[async_trait]
impl Publisher for AmqpBus {
    async fn publish(&self, m: &NoteMessage) -> Result<(), BusError> {
        self.publish_all(std::slice::from_ref(m)).await
    }

    /// Every message is sent before any confirm is awaited: one round trip for the lot, and
    /// the channel keeps their order.
    async fn publish_all(&self, messages: &[NoteMessage]) -> Result<(), BusError> {
        let mut publishing = self.publishing.lock().await;
        if publishing
            .as_ref()
            .is_none_or(|(c, _)| !c.status().connected())
        {
            let (c, ch) = self.connect().await?;
            ch.confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(unreachable)?;
            *publishing = Some((c, ch));
        }
        let (_, ch) = publishing.as_ref().expect("connected above");
        let outcome = async {
            let mut confirms = Vec::with_capacity(messages.len());
            for m in messages {
                let (routing_key, payload, properties) = wire(m)?;
                let confirm = ch
                    .basic_publish(
                        &self.names.events,
                        &routing_key,
                        BasicPublishOptions {
                            mandatory: true,
                            ..Default::default()
                        },
                        &payload,
                        properties,
                    )
                    .await
                    .map_err(unreachable)?;
                confirms.push(confirm);
            }
            for confirm in confirms {
                // An ack with the message returned means no queue took it (mandatory routing).
                if !matches!(confirm.await.map_err(unreachable)?, Confirmation::Ack(None)) {
                    return Err(BusError::Refused(
                        "the broker did not take the message".into(),
                    ));
                }
            }
            Ok(())
        }
        .await;
        if matches!(outcome, Err(BusError::Unreachable(_))) {
            *publishing = None;
        }
        outcome
    }
}

struct CloseOnDrop(Option<Connection>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let (Some(c), Ok(rt)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            rt.spawn(async move {
                let _ = c.close(320, "consumer stopped").await;
            });
        }
    }
}
