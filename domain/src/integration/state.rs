use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::events::{IntegrationEvent, IntegrationSettings, SyncRun};
use crate::ids::{IntegrationId, PracticeId, StaffId};

/// Where the OAuth consent stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Consent {
    NotConnected,
    Connected {
        by: StaffId,
        since: DateTime<Utc>,
        access_expires_at: DateTime<Utc>,
    },
    /// XPLAN refused the tokens: a practice manager must authorise again.
    Expired {
        since: DateTime<Utc>,
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorisation {
    pub by: StaffId,
    pub state_digest: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IntegrationState {
    pub id: Option<IntegrationId>,
    pub practice_id: Option<PracticeId>,
    pub settings: Option<IntegrationSettings>,
    pub enabled: bool,
    pub consent: Option<Consent>,
    #[serde(skip)]
    pub pending: Option<PendingAuthorisation>,
    pub last_sync: Option<SyncRun>,
}

impl IntegrationState {
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.consent, Some(Consent::Connected { .. }))
    }

    pub fn apply(&mut self, event: &IntegrationEvent) {
        use IntegrationEvent::*;
        match event {
            Created(e) => {
                self.id = Some(e.integration_id);
                self.practice_id = Some(e.practice_id);
                self.settings = Some(e.settings.clone());
                self.enabled = e.enabled;
                self.consent = Some(Consent::NotConnected);
            }
            Updated(e) => self.settings = Some(e.settings.clone()),
            Enabled(_) => self.enabled = true,
            Disabled(_) => self.enabled = false,
            AuthorisationStarted(e) => {
                self.pending = Some(PendingAuthorisation {
                    by: e.by,
                    state_digest: e.state_digest.clone(),
                    expires_at: e.expires_at,
                })
            }
            Connected(e) => {
                self.pending = None;
                self.consent = Some(Consent::Connected {
                    by: e.by,
                    since: e.meta.at,
                    access_expires_at: e.access_expires_at,
                });
            }
            TokensRefreshed(e) => {
                if let Some(Consent::Connected {
                    access_expires_at, ..
                }) = &mut self.consent
                {
                    *access_expires_at = e.access_expires_at;
                }
            }
            ConsentExpired(e) => {
                self.consent = Some(Consent::Expired {
                    since: e.meta.at,
                    reason: e.reason.clone(),
                })
            }
            SyncRecorded(e) => self.last_sync = Some(e.run.clone()),
            IdsPreloaded(_) | SyncStarted(_) | SyncProgressed(_) => {}
        }
    }
}
