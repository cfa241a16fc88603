//! Follows the log from its checkpoint and publishes every file-note trigger to the bus. The
//! checkpoint moves only past events the bus has confirmed, so a crash or a broker outage means
//! republishing (absorbed by the worker's deduplication), never losing a note. One instance
//! relays at a time (the others stand by and take over when it stops): two relays would put
//! every note on the bus twice.

use std::{sync::Arc, time::Duration};

use hearth_eventstore::{EventStore, Leadership};
use tokio::sync::watch;

use super::{bus::Publisher, message::NoteMessage};

pub const RELAY_NAME: &str = "file-note-relay";

pub async fn run_relay(
    store: EventStore,
    bus: Arc<dyn Publisher>,
    mut stop: watch::Receiver<bool>,
) {
    let mut pause = Duration::from_millis(200);
    loop {
        let wait = match store.try_lead(RELAY_NAME).await {
            Ok(Some(mut lead)) => {
                let relayed = relay_until_error(&store, bus.as_ref(), &mut stop, &mut lead).await;
                lead.release().await;
                match relayed {
                    Ok(()) => return,
                    Err(error) => {
                        tracing::warn!(%error, "file-note relay interrupted; resuming from its checkpoint");
                        pause = (pause * 2).min(Duration::from_secs(5));
                        pause
                    }
                }
            }
            // Another instance relays; stand by.
            Ok(None) => STANDBY,
            Err(error) => {
                tracing::warn!(%error, "file-note relay cannot reach the log; retrying");
                pause = (pause * 2).min(Duration::from_secs(5));
                pause
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

/// How often a standing-by instance asks whether the relay is free.
const STANDBY: Duration = Duration::from_secs(2);

async fn relay_until_error(
    store: &EventStore,
    bus: &dyn Publisher,
    stop: &mut watch::Receiver<bool>,
    lead: &mut Leadership,
) -> Result<(), String> {
    let from = store
        .load_checkpoint(RELAY_NAME)
        .await
        .map_err(|e| e.to_string())?;
    let mut subscription = store.subscribe(RELAY_NAME, from);
    loop {
        let batch = tokio::select! {
            b = subscription.next_batch() => b.map_err(|e| e.to_string())?,
            _ = stop.changed() => return Ok(()),
        };
        let Some(last) = batch.last().map(|e| e.cursor) else {
            continue;
        };
        if !lead.held().await {
            return Err("lost the relay's lock (its database connection closed)".into());
        }
        let messages: Vec<NoteMessage> = batch.iter().filter_map(NoteMessage::from_event).collect();
        if !messages.is_empty() {
            bus.publish_all(&messages)
                .await
                .map_err(|e| e.to_string())?;
            metrics::counter!("hearth_file_notes_published_total").increment(messages.len() as u64);
        }
        store
            .save_checkpoint(RELAY_NAME, last)
            .await
            .map_err(|e| e.to_string())?;
        let head = store
            .head()
            .await
            .map(|h| h.position)
            .unwrap_or(last.position);
        metrics::gauge!("hearth_file_note_relay_lag_events")
            .set((head - last.position).max(0) as f64);
    }
}
