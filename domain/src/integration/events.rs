use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    codec::events,
    context::EventMeta,
    ids::{IntegrationId, PracticeId, StaffId},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationSettings {
    pub name: String,
    /// The XPLAN site's host, without scheme.
    pub forward_host: String,
    pub ids_loaded_confirmed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntegrationCreated {
    pub meta: EventMeta,
    pub integration_id: IntegrationId,
    pub practice_id: PracticeId,
    /// Always "xplan" today; kept so other CRMs can follow.
    pub kind: String,
    /// Always "oauth": XPLAN's authorisation-code flow.
    pub auth_mode: String,
    pub settings: IntegrationSettings,
    pub enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntegrationUpdated {
    pub meta: EventMeta,
    pub settings: IntegrationSettings,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntegrationToggled {
    pub meta: EventMeta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthorisationStarted {
    pub meta: EventMeta,
    pub by: StaffId,
    pub state_digest: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connected {
    pub meta: EventMeta,
    pub by: StaffId,
    pub access_expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokensRefreshed {
    pub meta: EventMeta,
    pub access_expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentExpired {
    pub meta: EventMeta,
    pub reason: String,
}

/// A value the sync did not take, and why (e.g. a title outside Mr/Mrs/Ms/Miss/Dr/Prof).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSkip {
    pub xplan_id: String,
    pub what: String,
    pub reason: String,
}

/// What one sync run did. Readable through the API; one event per run, also when it changed
/// nothing, because "the sync ran and found nothing new" is itself worth knowing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSummary {
    pub clients_seen: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: Vec<SyncSkip>,
    pub errors: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    Completed,
    /// Stopped early (XPLAN unreachable, consent expired); what was applied before stays.
    Failed,
    /// Stopped at a safe point because the service shut down; the scheduler runs it again.
    Interrupted,
}

/// A sync run began as a background job; its `SyncRecorded` follows when it ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncStarted {
    pub meta: EventMeta,
    pub run_id: uuid::Uuid,
    /// "schedule", "api" or "cli".
    pub trigger: String,
    pub started_at: DateTime<Utc>,
}

/// How far a long run has got (recorded between pages of XPLAN clients).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncProgressed {
    pub meta: EventMeta,
    pub run_id: uuid::Uuid,
    pub summary: SyncSummary,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRun {
    pub run_id: uuid::Uuid,
    /// "schedule", "api" or "cli".
    pub trigger: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub outcome: SyncOutcome,
    pub summary: SyncSummary,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncRecorded {
    pub meta: EventMeta,
    pub run: SyncRun,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdsPreloaded {
    pub meta: EventMeta,
    pub rows: usize,
    pub linked: usize,
}

events!(
    /// Events of the `integration-{id}` stream.
    IntegrationEvent / IntegrationEventKind {
        Created(IntegrationCreated) = "integration.created", 1,
        Updated(IntegrationUpdated) = "integration.updated", 1,
        Enabled(IntegrationToggled) = "integration.enabled", 1,
        Disabled(IntegrationToggled) = "integration.disabled", 1,
        AuthorisationStarted(AuthorisationStarted) = "integration.authorisation_started", 1,
        Connected(Connected) = "integration.connected", 1,
        TokensRefreshed(TokensRefreshed) = "integration.tokens_refreshed", 1,
        ConsentExpired(ConsentExpired) = "integration.consent_expired", 1,
        SyncRecorded(SyncRecorded) = "integration.sync_recorded", 1,
        IdsPreloaded(IdsPreloaded) = "integration.ids_preloaded", 1,
        SyncStarted(SyncStarted) = "integration.sync_started", 1,
        SyncProgressed(SyncProgressed) = "integration.sync_progressed", 1,
    }
);
