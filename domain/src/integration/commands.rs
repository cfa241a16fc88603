use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    events::{SyncRun, SyncSummary},
    host::HostPolicy,
};
use crate::ids::IntegrationId;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum IntegrationCommand {
    CreateIntegration {
        integration_id: IntegrationId,
        name: String,
        forward_host: String,
        enabled: bool,
        /// The practice confirms that existing clients' XPLAN IDs are loaded (or none exist), so
        /// the first sync cannot duplicate households. Enabling needs it.
        ids_loaded_confirmed: bool,
        /// Which forward hosts the deployment accepts (configuration, passed in).
        #[serde(default)]
        host_policy: HostPolicy,
    },
    UpdateIntegration {
        name: Option<String>,
        forward_host: Option<String>,
        ids_loaded_confirmed: Option<bool>,
        #[serde(default)]
        host_policy: HostPolicy,
    },
    EnableIntegration,
    DisableIntegration,
    /// `state_digest` is a digest of the random OAuth `state` handed to the browser; the state
    /// itself never enters the log.
    StartAuthorisation {
        state_digest: String,
        expires_at: DateTime<Utc>,
    },
    CompleteAuthorisation {
        state_digest: String,
        access_expires_at: DateTime<Utc>,
    },
    RecordTokenRefresh {
        access_expires_at: DateTime<Utc>,
    },
    /// XPLAN refused the tokens even after a refresh: a practice manager must consent again.
    ExpireConsent {
        reason: String,
    },
    /// A sync job begins (the worker, or staff who manage integrations, through the API).
    StartSync {
        run_id: uuid::Uuid,
        trigger: String,
    },
    RecordSyncProgress {
        run_id: uuid::Uuid,
        summary: SyncSummary,
    },
    RecordSync {
        run: SyncRun,
    },
    RecordIdPreload {
        rows: usize,
        linked: usize,
    },
}
