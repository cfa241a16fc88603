//! Each practice's access changes in log order: the change feed's read model. Positions are log
//! positions, so a cursor handed out by one instance means the same on every other (they all
//! fold the same log in the same commit-safe order).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hearth_domain::{
    access_changes::{ChangeKind, EffectiveAccess, StaffChange},
    EventMeta, HouseholdId, PracticeId, StaffId,
};
use hearth_eventstore::Cursor;
use serde::{Deserialize, Serialize};

use super::{AccessModel, ChangeList};
use crate::{
    names::{ActorName, EventType},
    QueryError,
};

/// One (household, staff) pair whose effective access an event changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessChange {
    pub at_cursor: Cursor,
    /// Which of the event's changes this is (an event can change many pairs).
    pub index: u32,
    pub kind: ChangeKind,
    pub event_type: EventType,
    pub household: HouseholdId,
    pub staff: StaffId,
    pub before: Option<EffectiveAccess>,
    pub after: Option<EffectiveAccess>,
    pub actor: ActorName,
    pub reason: Option<Arc<str>>,
    pub at: DateTime<Utc>,
}

impl AccessChange {
    pub fn position(&self) -> i64 {
        self.at_cursor.position
    }

    /// `{position}.{index}`: the change's id, and the cursor to resume just after it.
    pub fn id(&self) -> String {
        format!("{}.{}", self.at_cursor.position, self.index)
    }
}

/// Where a reader of the feed stands: after the change `index` of the event at `cursor`, or
/// after all of that event's changes (`index: None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedCursor {
    pub cursor: Cursor,
    pub index: Option<u32>,
}

impl FeedCursor {
    pub const START: FeedCursor = FeedCursor {
        cursor: Cursor::START,
        index: None,
    };

    fn key(&self) -> (Cursor, u32) {
        (self.cursor, self.index.unwrap_or(u32::MAX))
    }
}

/// A page of changes and the cursor to continue from.
#[derive(Clone, Debug)]
pub struct ChangePage {
    pub changes: Vec<AccessChange>,
    /// The last change looked at (also one the reader was not shown): pass it back to continue
    /// without re-reading; `None` when nothing lay past the reader's cursor.
    pub last_seen: Option<FeedCursor>,
    /// Whether the page reached the end of what the model holds now.
    pub caught_up: bool,
}

pub(super) fn record(
    into: &mut ChangeList,
    at_cursor: Cursor,
    kind: ChangeKind,
    event_type: &'static str,
    meta: &EventMeta,
    changes: Vec<StaffChange>,
) {
    if changes.is_empty() {
        return;
    }
    let actor = ActorName::from(&meta.actor);
    let reason: Option<Arc<str>> = meta.reason.as_deref().map(Arc::from);
    for (index, c) in changes.into_iter().enumerate() {
        into.push(&AccessChange {
            at_cursor,
            index: index as u32,
            kind,
            event_type: EventType(event_type),
            household: c.household,
            staff: c.staff,
            before: c.before,
            after: c.after,
            actor: actor.clone(),
            reason: reason.clone(),
            at: meta.at,
        });
    }
}

impl AccessModel {
    /// The practice's changes after `after`, at most `limit` of them; with `only`, just those of
    /// that staff member (the others are passed over, and count towards `scan` only).
    pub fn changes_after(
        &self,
        practice: PracticeId,
        after: FeedCursor,
        limit: usize,
        only: Option<StaffId>,
    ) -> Result<ChangePage, QueryError> {
        // A filtered reader looks at no more than this many changes per page, so a page's cost
        // is bounded whatever the practice's size; the cursor still moves past what was looked at.
        const SCAN: usize = 50_000;
        let all = &self.practice(practice)?.changes;
        let start = all.count_through(after.key());
        let mut changes = Vec::new();
        let mut last_seen = None;
        let mut looked = 0;
        for i in start..all.len() {
            if changes.len() >= limit || looked >= SCAN {
                break;
            }
            looked += 1;
            let Some((cursor, index)) = all.key_at(i) else {
                break;
            };
            last_seen = Some(FeedCursor {
                cursor,
                index: Some(index),
            });
            if only.is_none_or(|s| all.staff_at(i) == Some(s)) {
                changes.extend(all.get(i));
            }
        }
        Ok(ChangePage {
            changes,
            last_seen,
            caught_up: start + looked >= all.len(),
        })
    }

    /// How many changes the practice's feed holds (for figures and the console).
    pub fn change_count(&self, practice: PracticeId) -> usize {
        self.practices.get(&practice).map_or(0, |p| p.changes.len())
    }
}
