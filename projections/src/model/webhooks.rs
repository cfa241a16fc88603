//! Each practice's webhook endpoints as the log tells them: registration, secret version,
//! recent failed deliveries, dead letters and redeliveries — what the practice sees (API and
//! console) and what the delivery worker follows.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use hearth_domain::{
    webhook::{WebhookEvent, WebhookState},
    HouseholdId, PracticeId, WebhookId,
};
use hearth_eventstore::Cursor;
use serde::{Deserialize, Serialize};

use super::AccessModel;

/// Failed attempts and redeliveries kept per endpoint (the log keeps them all).
const RECENT: usize = 100;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailureView {
    pub change_id: String,
    pub household_id: HouseholdId,
    pub attempt: u32,
    pub error: String,
    pub dead_lettered: bool,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RedeliveryView {
    pub change_id: String,
    pub requested_by: String,
    pub at: DateTime<Utc>,
    /// `None` while it waits for the delivery worker.
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookView {
    pub state: WebhookState,
    /// Where delivery starts: changes after the registration.
    pub registered_cursor: Cursor,
    pub registered_at: DateTime<Utc>,
    pub registered_by: String,
    pub secret_rotated_at: Option<DateTime<Utc>>,
    pub failures_total: u64,
    pub failures: VecDeque<FailureView>,
    pub redeliveries: VecDeque<RedeliveryView>,
}

impl AccessModel {
    pub(super) fn apply_webhook(&mut self, stream: &str, event: &WebhookEvent, cursor: Cursor) {
        let Some(id) = super::stream_id(stream, "webhook-").map(WebhookId) else {
            return;
        };
        let meta = event.meta();
        let view = self.webhooks.entry(id).or_insert_with(|| WebhookView {
            state: WebhookState::default(),
            registered_cursor: cursor,
            registered_at: meta.at,
            registered_by: meta.actor.to_string(),
            secret_rotated_at: None,
            failures_total: 0,
            failures: VecDeque::new(),
            redeliveries: VecDeque::new(),
        });
        view.state.apply(event);
        match event {
            WebhookEvent::SecretRotated(_) => view.secret_rotated_at = Some(meta.at),
            WebhookEvent::DeliveryFailed(e) => {
                view.failures_total += 1;
                push(
                    &mut view.failures,
                    FailureView {
                        change_id: e.change_id.clone(),
                        household_id: e.household_id,
                        attempt: e.attempt,
                        error: e.error.clone(),
                        dead_lettered: e.dead_lettered,
                        at: meta.at,
                    },
                );
            }
            WebhookEvent::RedeliveryRequested(e) => push(
                &mut view.redeliveries,
                RedeliveryView {
                    change_id: e.change_id.clone(),
                    requested_by: meta.actor.to_string(),
                    at: meta.at,
                    delivered_at: None,
                },
            ),
            WebhookEvent::Redelivered(e) => {
                if let Some(r) = view
                    .redeliveries
                    .iter_mut()
                    .rev()
                    .find(|r| r.change_id == e.change_id && r.delivered_at.is_none())
                {
                    r.delivered_at = Some(meta.at);
                }
            }
            WebhookEvent::Registered(_) | WebhookEvent::Removed(_) => {}
        }
    }

    /// The practice's endpoints (removed ones too, for the record), oldest first.
    pub fn webhooks_of(&self, practice: PracticeId) -> Vec<(WebhookId, &WebhookView)> {
        let mut out: Vec<(WebhookId, &WebhookView)> = self
            .webhooks
            .iter()
            .filter(|(_, w)| w.state.practice_id == Some(practice))
            .map(|(id, w)| (*id, w))
            .collect();
        out.sort_by_key(|(id, w)| (w.registered_cursor, *id));
        out
    }

    /// One endpoint, only if it belongs to this practice.
    pub fn webhook_in(&self, practice: PracticeId, id: WebhookId) -> Option<&WebhookView> {
        self.webhooks
            .get(&id)
            .filter(|w| w.state.practice_id == Some(practice))
    }

    /// A change of the practice's feed by its id (`{position}.{index}`).
    pub fn change_by_id(&self, practice: PracticeId, id: &str) -> Option<super::AccessChange> {
        let (position, index) = id.split_once('.')?;
        let (position, index): (i64, u32) = (position.parse().ok()?, index.parse().ok()?);
        self.practices.get(&practice)?.changes.find(position, index)
    }
}

fn push<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() == RECENT {
        list.pop_front();
    }
    list.push_back(item);
}
