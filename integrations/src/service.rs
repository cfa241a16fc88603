//! Everything the API, the CLI and the scheduler do with XPLAN integrations, in one place:
//! set-up commands, the OAuth dance, ID pre-load and sync runs.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use base64::Engine;
use chrono::{DateTime, Utc};
use hearth_application::{CommandExecutor, ExecError, Executed};
use hearth_domain::{
    integration::{IntegrationCommand, IntegrationState},
    Actor, CommandContext, IntegrationId, PracticeId,
};
use sha2::{Digest, Sha256};

use crate::{
    recorder::LogRecorder,
    token_vault::DbVault,
    xplan::{ConsentRecorder, TokenVault, XplanClient, XplanError, XplanSession},
};

/// How long a practice manager has to finish XPLAN's consent screen.
const AUTHORISATION_WINDOW: chrono::Duration = chrono::Duration::minutes(15);
pub const SYSTEM_ACTOR: &str = "xplan";

#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error(transparent)]
    Xplan(#[from] XplanError),
    #[error("a sync of this integration is already running")]
    SyncRunning,
    #[error("the integration is disabled")]
    Disabled,
    #[error("{0}")]
    BadRequest(String),
}

#[derive(Clone)]
pub struct XplanService {
    pub(crate) exec: CommandExecutor,
    pub(crate) client: XplanClient,
    pub(crate) vault: Arc<DbVault>,
    running: Arc<Mutex<HashSet<IntegrationId>>>,
    pub(crate) page_size: usize,
    pub(crate) jobs: crate::jobs::Jobs,
}

/// Held while a sync runs; releases the integration when dropped (also on panic or cancel).
pub(crate) struct SyncLease {
    running: Arc<Mutex<HashSet<IntegrationId>>>,
    id: IntegrationId,
}

impl Drop for SyncLease {
    fn drop(&mut self) {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

pub fn state_digest(state: &str) -> String {
    let d = Sha256::digest(state.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl XplanService {
    pub fn client(&self) -> &XplanClient {
        &self.client
    }

    pub fn new(exec: CommandExecutor, client: XplanClient, vault: Arc<DbVault>) -> Self {
        Self {
            exec,
            client,
            vault,
            running: Arc::default(),
            page_size: 200,
            jobs: crate::jobs::Jobs::default(),
        }
    }

    /// Background jobs (sync runs): stopped at a safe point at shutdown.
    pub fn jobs(&self) -> &crate::jobs::Jobs {
        &self.jobs
    }

    pub fn executor(&self) -> &CommandExecutor {
        &self.exec
    }

    pub(crate) fn lease(&self, id: IntegrationId) -> Result<SyncLease, IntegrationError> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if !running.insert(id) {
            return Err(IntegrationError::SyncRunning);
        }
        Ok(SyncLease {
            running: self.running.clone(),
            id,
        })
    }

    pub async fn state(&self, id: IntegrationId) -> Result<IntegrationState, IntegrationError> {
        Ok(self.exec.integration_state(id).await?.0)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn command(
        &self,
        practice: PracticeId,
        id: IntegrationId,
        command: IntegrationCommand,
        ctx: &CommandContext,
    ) -> Result<Executed, IntegrationError> {
        Ok(self.exec.integration(practice, id, command, ctx).await?)
    }

    pub(crate) fn recorder(&self, practice: PracticeId) -> Arc<dyn ConsentRecorder> {
        Arc::new(LogRecorder {
            exec: self.exec.clone(),
            practice,
        })
    }

    pub(crate) fn session(
        &self,
        state: &IntegrationState,
    ) -> Result<XplanSession, IntegrationError> {
        let (Some(id), Some(practice), Some(settings)) =
            (state.id, state.practice_id, &state.settings)
        else {
            return Err(ExecError::Domain(hearth_domain::DomainError::IntegrationNotFound).into());
        };
        let vault: Arc<dyn TokenVault> = self.vault.clone();
        Ok(self
            .client
            .session(&settings.forward_host, id, vault, self.recorder(practice)))
    }

    /// Step 1 of OAuth: the URL to send the practice manager to. The `state` names the
    /// integration and carries 256 random bits; only its digest is recorded.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn start_authorisation(
        &self,
        practice: PracticeId,
        id: IntegrationId,
        ctx: &CommandContext,
    ) -> Result<(String, Executed), IntegrationError> {
        let nonce =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let state = format!("{id}.{nonce}");
        let command = IntegrationCommand::StartAuthorisation {
            state_digest: state_digest(&state),
            expires_at: ctx.now + AUTHORISATION_WINDOW,
        };
        let executed = self.command(practice, id, command, ctx).await?;
        let integration = self.state(id).await?;
        let host = integration
            .settings
            .map(|s| s.forward_host)
            .unwrap_or_default();
        Ok((self.client.authorisation_url(&host, &state), executed))
    }

    /// Step 2: XPLAN sent the browser back with `code` and our `state`. The state is the proof
    /// of who asked (the callback carries no bearer token): it must match a pending,
    /// unexpired authorisation, and the consent is recorded as that staff member's.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn complete_authorisation(
        &self,
        state: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<(PracticeId, IntegrationId, Executed), IntegrationError> {
        let invalid = || {
            IntegrationError::Exec(ExecError::Domain(
                hearth_domain::DomainError::OAuthStateInvalid,
            ))
        };
        let id = state
            .split_once('.')
            .and_then(|(id, _)| uuid::Uuid::parse_str(id).ok())
            .map(IntegrationId)
            .ok_or_else(invalid)?;
        let integration = self.state(id).await?;
        let digest = state_digest(state);
        let (Some(practice), Some(settings), Some(pending)) = (
            integration.practice_id,
            &integration.settings,
            &integration.pending,
        ) else {
            return Err(invalid());
        };
        if pending.state_digest != digest || now > pending.expires_at {
            return Err(invalid());
        }
        let tokens = self
            .client
            .exchange_code(&settings.forward_host, code, now)
            .await?;
        self.vault.store_new(id, &tokens).await?;
        let ctx = CommandContext::new(Actor::Staff(pending.by), now);
        let command = IntegrationCommand::CompleteAuthorisation {
            state_digest: digest,
            access_expires_at: tokens.expires_at,
        };
        let executed = self.command(practice, id, command, &ctx).await?;
        Ok((practice, id, executed))
    }

    pub fn system_context(now: DateTime<Utc>) -> CommandContext {
        CommandContext::new(Actor::System(SYSTEM_ACTOR.into()), now)
    }
}
