//! Token refreshes and consent expiry become events of the integration, by the system actor.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hearth_application::CommandExecutor;
use hearth_domain::{integration::IntegrationCommand, IntegrationId, PracticeId};

use crate::{service::XplanService, xplan::ConsentRecorder};

pub(crate) struct LogRecorder {
    pub exec: CommandExecutor,
    pub practice: PracticeId,
}

#[async_trait]
impl ConsentRecorder for LogRecorder {
    async fn tokens_refreshed(&self, integration: IntegrationId, access_expires_at: DateTime<Utc>) {
        let ctx = XplanService::system_context(Utc::now());
        let command = IntegrationCommand::RecordTokenRefresh { access_expires_at };
        if let Err(error) = self
            .exec
            .integration(self.practice, integration, command, &ctx)
            .await
        {
            tracing::warn!(%integration, %error, "token refresh not recorded");
        }
    }

    async fn consent_expired(&self, integration: IntegrationId, reason: &str) {
        let ctx = XplanService::system_context(Utc::now());
        let command = IntegrationCommand::ExpireConsent {
            reason: reason.to_string(),
        };
        match self
            .exec
            .integration(self.practice, integration, command, &ctx)
            .await
        {
            Ok(_) => {
                tracing::warn!(%integration, "XPLAN consent expired; a practice manager must reconnect")
            }
            Err(error) => tracing::error!(%integration, %error, "consent expiry not recorded"),
        }
    }
}
