use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::events::WebhookEvent;
use crate::{
    access_changes::ChangeKind,
    ids::{PracticeId, WebhookId},
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookState {
    pub id: Option<WebhookId>,
    pub practice_id: Option<PracticeId>,
    pub url: String,
    pub kinds: Vec<ChangeKind>,
    pub removed: bool,
    pub secret_version: u32,
    /// Changes whose delivery was given up, until redelivered.
    pub dead_letters: BTreeSet<String>,
    /// Redeliveries asked for and not yet made.
    pub redeliveries: BTreeSet<String>,
}

impl WebhookState {
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }

    /// Whether this endpoint takes changes of this kind.
    pub fn wants(&self, kind: ChangeKind) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&kind)
    }

    pub fn apply(&mut self, event: &WebhookEvent) {
        match event {
            WebhookEvent::Registered(e) => {
                self.id = Some(e.endpoint_id);
                self.practice_id = Some(e.practice_id);
                self.url = e.url.clone();
                self.kinds = e.kinds.clone();
                self.secret_version = 1;
            }
            WebhookEvent::SecretRotated(e) => self.secret_version = e.secret_version,
            WebhookEvent::Removed(_) => self.removed = true,
            WebhookEvent::DeliveryFailed(e) => {
                if e.dead_lettered {
                    self.dead_letters.insert(e.change_id.clone());
                }
                self.redeliveries.remove(&e.change_id);
            }
            WebhookEvent::RedeliveryRequested(e) => {
                self.redeliveries.insert(e.change_id.clone());
            }
            WebhookEvent::Redelivered(e) => {
                self.redeliveries.remove(&e.change_id);
                self.dead_letters.remove(&e.change_id);
            }
        }
    }
}
