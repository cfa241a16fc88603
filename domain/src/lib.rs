#![forbid(unsafe_code)]
//! Hearth's rules as pure code: commands in, events out. No I/O, no async, no clock — time comes
//! in with the [`CommandContext`]. See `domain/README.md` for every command, event and rule.

pub mod access;
pub mod access_changes;
pub mod action_set;
mod codec;
pub use codec::Stored;
pub use codec::{optional_whole_number, whole_number};
pub mod context;
pub mod decision;
pub mod error;
pub mod household;
pub mod ids;
pub mod integration;
pub mod limits;
pub mod permissions;
pub mod practice;
pub mod roles;
pub mod upcast;
mod validate;
pub mod webhook;

pub use context::{Actor, CommandContext, EventMeta};
pub use decision::Decision;
pub use error::{DomainError, EventDecodeError};
pub use ids::*;

/// Stream names: one place, so the log and the read side agree.
pub mod streams {
    use crate::ids::{HouseholdId, IntegrationId, PracticeId};

    pub fn practice(id: PracticeId) -> String {
        format!("practice-{id}")
    }
    pub fn household(id: HouseholdId) -> String {
        format!("household-{id}")
    }
    pub fn integration(id: IntegrationId) -> String {
        format!("integration-{id}")
    }
    pub fn webhook(id: crate::ids::WebhookId) -> String {
        format!("webhook-{id}")
    }
    /// Exists once per (integration, XPLAN client): creating it with "no stream" expected is what
    /// makes a duplicate household impossible, also across overlapping syncs.
    pub fn xplan_client(integration: IntegrationId, xplan_id: &str) -> String {
        format!("xplan-client-{integration}-{xplan_id}")
    }
}

/// Any domain event, decoded from the log by its stored type name.
#[derive(Clone, Debug, PartialEq)]
pub enum DomainEvent {
    Practice(practice::PracticeEvent),
    Household(household::HouseholdEvent),
    Integration(integration::IntegrationEvent),
    Webhook(webhook::WebhookEvent),
}

impl DomainEvent {
    /// `Ok(None)` for event types that are not practice or household events (e.g. integration
    /// bookkeeping), which readers may skip.
    pub fn from_stored(
        event_type: &str,
        schema_version: i32,
        data: serde_json::Value,
    ) -> Result<Option<Self>, EventDecodeError> {
        if event_type.starts_with("practice.") {
            practice::PracticeEvent::from_stored(event_type, schema_version, data)
                .map(|e| Some(Self::Practice(e)))
        } else if event_type.starts_with("household.") {
            household::HouseholdEvent::from_stored(event_type, schema_version, data)
                .map(|e| Some(Self::Household(e)))
        } else if event_type.starts_with("integration.") {
            integration::IntegrationEvent::from_stored(event_type, schema_version, data)
                .map(|e| Some(Self::Integration(e)))
        } else if event_type.starts_with("webhook.") {
            webhook::WebhookEvent::from_stored(event_type, schema_version, data)
                .map(|e| Some(Self::Webhook(e)))
        } else {
            Ok(None)
        }
    }
}
