//! Catch-up subscriptions: replay from a cursor, then follow live. Wake-ups come from appends in
//! this process and, on PostgreSQL, from LISTEN/NOTIFY; a poll covers anything missed (a
//! notification lost with a dropped connection, or a long transaction that finally ended).

use std::{collections::VecDeque, time::Duration};

use sqlx::postgres::PgListener;
use tokio::sync::watch;

use crate::{
    error::StoreError,
    model::{Cursor, RecordedEvent},
    postgres::NOTIFY_CHANNEL,
    read_ahead::ReadAhead,
    store::{Backend, EventStore},
};

pub const DEFAULT_BATCH: usize = 2_000;
pub const DEFAULT_POLL: Duration = Duration::from_millis(250);

pub struct Subscription {
    store: EventStore,
    name: String,
    cursor: Cursor,
    buffer: VecDeque<RecordedEvent>,
    local: watch::Receiver<i64>,
    listener: Option<PgListener>,
    listener_failed: bool,
    batch: usize,
    poll: Duration,
    /// While catching up (the last read was a full batch), the next batches are read and
    /// opened in the background as the caller applies this one.
    ahead: Option<ReadAhead>,
}

impl EventStore {
    /// Follows the log from just after `from`. `name` labels the subscriber in logs.
    pub fn subscribe(&self, name: &str, from: Cursor) -> Subscription {
        Subscription {
            store: self.clone(),
            name: name.to_string(),
            cursor: from,
            buffer: VecDeque::new(),
            local: self.appended.subscribe(),
            listener: None,
            listener_failed: false,
            batch: DEFAULT_BATCH,
            poll: DEFAULT_POLL,
            ahead: None,
        }
    }
}

impl Subscription {
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    pub fn with_poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// The cursor of the last event handed out.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// The next event, waiting for one to be appended if the subscriber is caught up.
    pub async fn next(&mut self) -> Result<RecordedEvent, StoreError> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.cursor = event.cursor;
                return Ok(event);
            }
            self.fill_or_wait().await?;
        }
    }

    /// Every event available now (at least one), in order: lets a projection apply a whole batch
    /// under one lock.
    pub async fn next_batch(&mut self) -> Result<Vec<RecordedEvent>, StoreError> {
        while self.buffer.is_empty() {
            self.fill_or_wait().await?;
        }
        let batch: Vec<RecordedEvent> = self.buffer.drain(..).collect();
        if let Some(last) = batch.last() {
            self.cursor = last.cursor;
        }
        Ok(batch)
    }

    /// Events available right now, without waiting (empty when caught up).
    pub async fn poll_now(&mut self) -> Result<Vec<RecordedEvent>, StoreError> {
        if self.buffer.is_empty() {
            self.fill().await?;
        }
        let batch: Vec<RecordedEvent> = self.buffer.drain(..).collect();
        if let Some(last) = batch.last() {
            self.cursor = last.cursor;
        }
        Ok(batch)
    }

    async fn fill(&mut self) -> Result<bool, StoreError> {
        let after = self.buffer.back().map(|e| e.cursor).unwrap_or(self.cursor);
        let ahead = self.ahead.take().filter(|a| a.after() == after);
        let (events, ahead) = match ahead {
            Some(mut ahead) => match ahead.next_batch().await {
                Some(Ok(events)) => (events, Some(ahead)),
                Some(Err(e)) => return Err(e),
                None => (self.store.read_all(after, self.batch).await?, None),
            },
            None => {
                let events = self.store.read_all(after, self.batch).await?;
                let ahead = events
                    .last()
                    .filter(|_| events.len() == self.batch)
                    .map(|last| self.store.read_ahead(last.cursor, self.batch));
                (events, ahead)
            }
        };
        // A short batch was the head: the read-ahead has ended with it.
        self.ahead = ahead.filter(|_| events.len() == self.batch);
        let got = !events.is_empty();
        self.buffer.extend(events);
        Ok(got)
    }

    async fn fill_or_wait(&mut self) -> Result<(), StoreError> {
        // Listen before reading, so an append between the read and the wait still wakes us.
        self.ensure_listener().await;
        if self.fill().await? {
            return Ok(());
        }
        self.wait().await;
        Ok(())
    }

    async fn ensure_listener(&mut self) {
        if self.listener.is_some() || self.listener_failed {
            return;
        }
        if let Backend::Postgres(pool) = self.store.backend() {
            match PgListener::connect_with(pool).await {
                Ok(mut l) => match l.listen(NOTIFY_CHANNEL).await {
                    Ok(()) => self.listener = Some(l),
                    Err(e) => self.listener_disabled(e),
                },
                Err(e) => self.listener_disabled(e),
            }
        }
    }

    fn listener_disabled(&mut self, e: sqlx::Error) {
        tracing::warn!(subscriber = %self.name, error = %e, "LISTEN unavailable; following the log by polling");
        self.listener_failed = true;
    }

    async fn wait(&mut self) {
        let poll = tokio::time::sleep(self.poll);
        let local = self.local.changed();
        match self.listener.as_mut() {
            Some(listener) => {
                let lost = tokio::select! {
                    _ = poll => false,
                    _ = local => false,
                    n = listener.recv() => n.is_err(),
                };
                if lost {
                    self.listener = None;
                }
            }
            None => {
                tokio::select! {
                    _ = poll => {}
                    _ = local => {}
                }
            }
        }
    }
}
