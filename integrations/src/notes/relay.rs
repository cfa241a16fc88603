//! Follows the log from its checkpoint and publishes every file-note trigger to the bus. The
//! checkpoint moves only past events the bus has confirmed, so a crash or a broker outage means
//! republishing (absorbed by the worker's deduplication), never losing a note.

use std::{sync::Arc, time::Duration};

use hearth_eventstore::EventStore;
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
        match relay_until_error(&store, bus.as_ref(), &mut stop).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "file-note relay interrupted; resuming from its checkpoint");
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => return,
                }
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

async fn relay_until_error(
    store: &EventStore,
    bus: &dyn Publisher,
    stop: &mut watch::Receiver<bool>,
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
        for event in &batch {
            if let Some(message) = NoteMessage::from_event(event) {
                bus.publish(&message).await.map_err(|e| e.to_string())?;
                metrics::counter!("hearth_file_notes_published_total").increment(1);
            }
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
