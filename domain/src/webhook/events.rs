use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    access_changes::ChangeKind,
    codec::events,
    context::EventMeta,
    ids::{HouseholdId, PracticeId, WebhookId},
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointRegistered {
    pub meta: EventMeta,
    pub endpoint_id: WebhookId,
    pub practice_id: PracticeId,
    pub url: String,
    /// The change kinds delivered; empty means every kind.
    pub kinds: Vec<ChangeKind>,
}

/// A new signing secret (version `secret_version`); the previous one still signs until
/// `previous_valid_until`, so receivers can switch without missing a delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecretRotated {
    pub meta: EventMeta,
    pub secret_version: u32,
    pub previous_valid_until: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointRemoved {
    pub meta: EventMeta,
}

/// One delivery attempt that did not get a 2xx answer in time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryFailed {
    pub meta: EventMeta,
    /// The change's id in the practice's feed (`{position}.{index}`).
    pub change_id: String,
    pub household_id: HouseholdId,
    pub attempt: u32,
    /// What went wrong, for the practice (status, timeout, refused address) — never a secret.
    pub error: String,
    /// The last attempt: the change is set aside in the dead-letter list and delivery moves on.
    pub dead_lettered: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RedeliveryRequested {
    pub meta: EventMeta,
    pub change_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Redelivered {
    pub meta: EventMeta,
    pub change_id: String,
}

events!(
    /// Events of the `webhook-{id}` stream.
    WebhookEvent / WebhookEventKind {
        Registered(EndpointRegistered) = "webhook.endpoint_registered", 1,
        SecretRotated(SecretRotated) = "webhook.secret_rotated", 1,
        Removed(EndpointRemoved) = "webhook.endpoint_removed", 1,
        DeliveryFailed(DeliveryFailed) = "webhook.delivery_failed", 1,
        RedeliveryRequested(RedeliveryRequested) = "webhook.redelivery_requested", 1,
        Redelivered(Redelivered) = "webhook.redelivered", 1,
    }
);
