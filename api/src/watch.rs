//! Following a practice's change feed live: one [`Follower`] per open stream. It holds its
//! cursor, a small buffer and a permit from the bounded pool of streams — no copy of the feed —
//! and wakes when the read model moves.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use chrono::Utc;
use hearth_domain::{permissions::Permission, PracticeId, StaffId};
use hearth_eventstore::Cursor;
use hearth_projections::{AccessChange, AccessModel, FeedCursor};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::state::AppState;

/// How long a stream waits for news before re-checking that its reader may still follow it.
const RECHECK: Duration = Duration::from_secs(15);

/// Changes read from the model per wake-up.
const BATCH: usize = 256;

/// The bound on open streams and their keep-alive interval (settings `watch`).
#[derive(Clone)]
pub struct WatchLimits {
    pub streams: Arc<Semaphore>,
    pub keep_alive: Duration,
}

impl WatchLimits {
    pub fn new(max_streams: usize, keep_alive: Duration) -> Self {
        Self {
            streams: Arc::new(Semaphore::new(max_streams)),
            keep_alive,
        }
    }
}

/// What the staff member may follow: `Some(None)` the whole practice (a practice-wide access
/// permission), `Some(Some(me))` their own changes, `None` nothing (not an active member).
pub fn scope(model: &AccessModel, practice: PracticeId, me: StaffId) -> Option<Option<StaffId>> {
    let now = Utc::now();
    let staff = model.practices.get(&practice)?.staff.get(&me)?;
    if !staff.active_at(now) {
        return None;
    }
    let whole = staff.has_permission_at(Permission::ManageHouseholdAccess, now)
        || staff.has_permission_at(Permission::ExportRoster, now);
    Some((!whole).then_some(me))
}

pub struct Follower {
    state: AppState,
    practice: PracticeId,
    me: StaffId,
    only: Option<StaffId>,
    at: FeedCursor,
    buffer: VecDeque<AccessChange>,
    moved: watch::Receiver<Cursor>,
    _permit: OwnedSemaphorePermit,
}

impl Follower {
    pub fn new(
        state: AppState,
        practice: PracticeId,
        me: StaffId,
        only: Option<StaffId>,
        from: FeedCursor,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        let moved = state.projection.cursor_watch();
        metrics::gauge!("hearth_watch_streams_open").increment(1.0);
        Self {
            state,
            practice,
            me,
            only,
            at: from,
            buffer: VecDeque::new(),
            moved,
            _permit: permit,
        }
    }

    /// The next change, waiting for one; `None` ends the stream (the reader lost the right to
    /// follow it, or the service is stopping).
    pub async fn next(&mut self) -> Option<AccessChange> {
        loop {
            if let Some(c) = self.buffer.pop_front() {
                return Some(c);
            }
            // Marked seen before reading, so a move during the read still wakes the wait below.
            self.moved.borrow_and_update();
            let page = {
                let model = self.state.projection.read();
                // Whole-practice readers who lose their permission stop; nobody is upgraded
                // silently either (they reconnect to widen).
                if scope(&model, self.practice, self.me) != Some(self.only) {
                    return None;
                }
                model
                    .changes_after(self.practice, self.at, BATCH, self.only)
                    .ok()?
            };
            if let Some(last) = page.last_seen {
                self.at = last;
            }
            self.buffer.extend(page.changes);
            if self.buffer.is_empty() && page.caught_up {
                if let Ok(Err(_)) = tokio::time::timeout(RECHECK, self.moved.changed()).await {
                    return None;
                }
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        metrics::gauge!("hearth_watch_streams_open").decrement(1.0);
    }
}
