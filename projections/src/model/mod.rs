//! The in-memory access read model: every practice and household with its facts over time.
//! Built by applying the log in order; answers checks in microseconds and as-of checks by
//! binary search in the timelines.

mod change_list;
mod changes;
mod history;
mod household_view;
mod integrations;
mod interned;
mod practice_view;
mod sync_runs;
mod webhooks;

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use hearth_domain::{
    access_changes::{household_changes, practice_changes, ChangeKind},
    household::HouseholdEvent,
    integration::IntegrationState,
    practice::PracticeEvent,
    DomainEvent, HouseholdId, IntegrationId, PracticeId, StaffId,
};
use hearth_eventstore::{Cursor, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use change_list::{ChangeList, ChangeRow};
pub use changes::{AccessChange, ChangePage, FeedCursor};
pub use history::{AccessInterval, AuditEntry, HistoryNames, IntervalRow, TrailRow};
pub use household_view::HouseholdView;
pub use practice_view::{PracticeView, StaffView};
pub use sync_runs::{RunStatus, SyncRunView, SyncRuns, Unreadable};
pub use webhooks::{FailureView, RedeliveryView, WebhookView};

// Serialised whole into snapshots (crate::snapshot): a field added here changes the snapshot's
// shape, which its format test catches.
#[derive(Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessModel {
    pub practices: HashMap<PracticeId, PracticeView>,
    /// Not serialised with the model: a snapshot keeps the households in parts of their own
    /// that encode and decode on every core (snapshot::format), as it does the practices'
    /// change lists.
    /// Each view boxed: the map keeps spare slots as it grows, and a slot holding a pointer
    /// rather than a whole view (~600 bytes) keeps that slack small.
    #[serde(skip_serializing, default)]
    pub households: HashMap<HouseholdId, Box<HouseholdView>>,
    /// Each XPLAN connection's settings, consent and last sync (never its secrets).
    #[serde(with = "integrations")]
    pub integrations: HashMap<IntegrationId, IntegrationState>,
    /// Every sync job of every integration, with its progress or summary.
    pub sync_runs: SyncRuns,
    /// Every pending temporary grant by its expiry, so the expiry worker reads only what is due.
    pub(crate) expiries: BTreeSet<(DateTime<Utc>, HouseholdId, StaffId)>,
    /// Every practice's webhook endpoints with their delivery record.
    pub webhooks: HashMap<hearth_domain::WebhookId, WebhookView>,
    /// The actors and event types households' history rows name.
    pub history_names: HistoryNames,
    cursor: Cursor,
    /// The stored hash of the event at `cursor`: what a snapshot is bound to.
    last_hash: [u8; 32],
    applied: u64,
    skipped: u64,
}

impl AccessModel {
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    pub fn last_hash(&self) -> [u8; 32] {
        self.last_hash
    }

    pub fn events_applied(&self) -> u64 {
        self.applied
    }

    /// Applies one event from the log. Idempotent: events at or before the model's cursor are
    /// ignored, so a replayed batch cannot double-count.
    pub fn apply(&mut self, event: &RecordedEvent) {
        if event.cursor > self.cursor {
            self.apply_owned(event.clone());
        }
    }

    /// As [`Self::apply`], taking the event so its JSON is decoded without a copy (replay).
    pub fn apply_owned(&mut self, mut event: RecordedEvent) {
        if event.cursor <= self.cursor {
            return;
        }
        self.cursor = event.cursor;
        self.last_hash = event.hash;
        let data = std::mem::take(&mut event.data);
        match DomainEvent::from_stored(&event.event_type, event.schema_version, data) {
            Ok(Some(DomainEvent::Practice(e))) => {
                self.apply_practice(&event.stream, &e, event.cursor)
            }
            Ok(Some(DomainEvent::Household(e))) => {
                self.apply_household(&event.stream, &e, event.cursor)
            }
            Ok(Some(DomainEvent::Integration(e))) => {
                if let Some(id) = stream_id(&event.stream, "integration-").map(IntegrationId) {
                    self.integrations.entry(id).or_default().apply(&e);
                    self.sync_runs.apply(id, &e, event.position);
                }
            }
            Ok(Some(DomainEvent::Webhook(e))) => {
                self.apply_webhook(&event.stream, &e, event.cursor)
            }
            Ok(None) => {}
            Err(error) => {
                // A stored event this build cannot read must not stop the read model; it is counted
                // and logged so an operator sees it (and `hearth verify` vouches for the log itself).
                self.skipped += 1;
                if let Some(id) = stream_id(&event.stream, "integration-").map(IntegrationId) {
                    self.sync_runs
                        .unreadable(id, event.position, error.to_string());
                }
                tracing::error!(position = event.position, event_type = %event.event_type, %error, "event not applied to the access model");
            }
        }
        self.applied += 1;
    }

    fn apply_practice(&mut self, stream: &str, event: &PracticeEvent, cursor: Cursor) {
        let Some(id) = stream_id(stream, "practice-").map(PracticeId) else {
            return;
        };
        if matches!(event, PracticeEvent::HouseholdLeadsChanged(_)) {
            // The household stream carries the same change; the practice mirror is for decisions.
            return;
        }
        let at = event.meta().at;
        let view = self.practices.entry(id).or_insert_with(|| PracticeView {
            id,
            created_at: Some(at),
            ..Default::default()
        });
        let before = view.state.clone();
        view.state.apply(event);
        view.record_changes(&before, at);
        if let Some(kind) = ChangeKind::of_practice(event) {
            let households = &self.households;
            let found = practice_changes(
                &before,
                &view.state,
                view.households
                    .iter()
                    .filter_map(|h| households.get(h).map(|v| (*h, &v.state))),
            );
            let (event_type, meta) = (event.event_type(), event.meta());
            changes::record(&mut view.changes, cursor, kind, event_type, meta, found);
        }
    }

    fn apply_household(&mut self, stream: &str, event: &HouseholdEvent, cursor: Cursor) {
        let position = cursor.position;
        let Some(id) = stream_id(stream, "household-").map(HouseholdId) else {
            return;
        };
        if let HouseholdEvent::Created(created) = event {
            self.households.entry(id).or_insert_with(|| {
                Box::new(HouseholdView::new(id, created.practice_id, created.meta.at))
            });
            if let Some(p) = self.practices.get_mut(&created.practice_id) {
                p.households.push(id);
            }
        }
        let Some(view) = self.households.get_mut(&id) else {
            return;
        };
        let before = view.state.name.to_lowercase();
        let access_before = view.apply(event, position, &mut self.history_names);
        let after = view.state.name.to_lowercase();
        if view.state.grant_expiries != access_before.grant_expiries {
            for (staff, t) in &access_before.grant_expiries {
                self.expiries.remove(&(*t, id, *staff));
            }
            for (staff, t) in &view.state.grant_expiries {
                self.expiries.insert((*t, id, *staff));
            }
        }
        let created = matches!(event, HouseholdEvent::Created(_));
        let Some(p) = self.practices.get_mut(&view.practice) else {
            return;
        };
        if let Some(kind) = ChangeKind::of_household(event) {
            let found = household_changes(&p.state, id, &access_before, &view.state);
            let (event_type, meta) = (event.event_type(), event.meta());
            changes::record(&mut p.changes, cursor, kind, event_type, meta, found);
        }
        if created || before != after {
            p.by_name.remove(&(before, id));
            p.by_name.insert((after, id));
        }
        // The practice keeps a contiguous copy for scanning; refreshed only when it changed.
        match p.search_slot.get(&id) {
            Some(&slot) => {
                let entry = &mut p.search[slot];
                if entry.1 != view.search_text || entry.2 != view.search_xplan {
                    entry.1.clone_from(&view.search_text);
                    entry.2.clone_from(&view.search_xplan);
                }
            }
            None => {
                p.search_slot.insert(id, p.search.len());
                p.search
                    .push((id, view.search_text.clone(), view.search_xplan.clone()));
            }
        }
    }

    pub fn unreadable_events(&self) -> u64 {
        self.skipped
    }
}

fn stream_id(stream: &str, prefix: &str) -> Option<Uuid> {
    stream
        .strip_prefix(prefix)
        .and_then(|s| Uuid::parse_str(s).ok())
}
