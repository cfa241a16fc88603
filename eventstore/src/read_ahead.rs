//! Reading the log ahead of its reader, in three stages that overlap: the database sends the
//! batch after next, the one after this is opened (its sealed personal values decrypted, then
//! upcast), and the caller applies this one. Opening used to wait for its own read and delay the
//! next, so a sealed log rebuilt slower than a plain one by the whole cost of its decryption;
//! now that cost runs beside the database's work on the other core.

use tokio::{sync::mpsc, task::JoinHandle};

use crate::{
    error::StoreError,
    model::{Cursor, RecordedEvent},
    raw::RawEvent,
    store::EventStore,
};

type Batch<T> = Result<Vec<T>, StoreError>;

/// Batches of the log after a cursor, read and opened ahead of the caller. It ends after the
/// first batch shorter than the batch size (the head, when it was read) or the first error.
pub struct ReadAhead {
    opened: mpsc::Receiver<Batch<RecordedEvent>>,
    tasks: [JoinHandle<()>; 2],
    after: Cursor,
    batch: usize,
    ended: bool,
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl EventStore {
    /// Reads the log after `after`, `batch` events at a time, ahead of the caller: at most four
    /// batches beyond the one it holds (one being read, one waiting to be opened, one being
    /// opened, one waiting for the caller).
    pub fn read_ahead(&self, after: Cursor, batch: usize) -> ReadAhead {
        let batch = batch.max(1);
        let (raw_tx, raw_rx) = mpsc::channel(1);
        let (opened_tx, opened) = mpsc::channel(1);
        let fetch = tokio::spawn(fetch(self.clone(), after, batch, raw_tx));
        let open = tokio::spawn(open(self.clone(), raw_rx, opened_tx));
        ReadAhead {
            opened,
            tasks: [fetch, open],
            after,
            batch,
            ended: false,
        }
    }
}

impl ReadAhead {
    /// Where the next batch starts: after this cursor.
    pub fn after(&self) -> Cursor {
        self.after
    }

    /// The next batch in log order; `None` once the read has ended.
    pub async fn next_batch(&mut self) -> Option<Batch<RecordedEvent>> {
        if self.ended {
            return None;
        }
        // Both stages end only after handing over a short batch or an error; a closed channel
        // before that means one of them panicked, which is a bug to surface, not an end of log.
        let next = self
            .opened
            .recv()
            .await
            .expect("reading the log ahead does not panic");
        match &next {
            Ok(events) => {
                if let Some(last) = events.last() {
                    self.after = last.cursor;
                }
                self.ended = events.len() < self.batch;
            }
            Err(_) => self.ended = true,
        }
        Some(next)
    }
}

async fn fetch(
    store: EventStore,
    mut after: Cursor,
    batch: usize,
    out: mpsc::Sender<Batch<RawEvent>>,
) {
    loop {
        let read = store.read_all_raw(after, batch).await;
        let more = match &read {
            Ok(rows) if rows.len() == batch => rows.last().map(RawEvent::cursor),
            _ => None,
        };
        if out.send(read).await.is_err() {
            return;
        }
        match more {
            Some(last) => after = last,
            None => return,
        }
    }
}

async fn open(
    store: EventStore,
    mut raw: mpsc::Receiver<Batch<RawEvent>>,
    out: mpsc::Sender<Batch<RecordedEvent>>,
) {
    while let Some(read) = raw.recv().await {
        let opened = match read {
            Ok(rows) => store.open_all(rows).await,
            Err(e) => Err(e),
        };
        let failed = opened.is_err();
        if out.send(opened).await.is_err() || failed {
            return;
        }
    }
}
