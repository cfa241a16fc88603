//! Wiring of the XPLAN integration into the service: the client from configuration, and the
//! scheduler's view of which integrations to sync.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use hearth_application::CommandExecutor;
use hearth_domain::integration::SyncOutcome;
use hearth_integrations::{
    crypto::Cipher,
    scheduler::{Due, ListIntegrations},
    service::XplanService,
    token_vault::DbVault,
    xplan::{RetryPolicy, Secret, XplanClient, XplanConfig},
};
use hearth_projections::Projection;

use crate::config::XplanSettings;

pub const CALLBACK_PATH: &str = "/v1/xplan/oauth/callback";

pub fn service(
    settings: &XplanSettings,
    bound: SocketAddr,
    exec: CommandExecutor,
    cipher: Cipher,
) -> anyhow::Result<XplanService> {
    let config = XplanConfig {
        scheme: settings.xplan_scheme.clone(),
        app_id: settings.xplan_app_id.clone(),
        client_id: settings.xplan_client_id.clone(),
        client_secret: Secret::new(settings.xplan_client_secret.clone()),
        redirect_uri: settings
            .xplan_redirect_uri
            .clone()
            .unwrap_or_else(|| format!("http://{bound}{CALLBACK_PATH}")),
        timeout: Duration::from_secs(settings.xplan_timeout_secs.max(1)),
        retry: RetryPolicy::default(),
        site_suffixes: settings.xplan_site_suffixes.clone(),
    };
    let client = XplanClient::new(config)?;
    let vault = Arc::new(DbVault::new(exec.store().clone(), cipher));
    Ok(XplanService::new(exec, client, vault))
}

/// Enabled and connected integrations, with when their last sync started.
pub fn due_integrations(projection: Projection) -> ListIntegrations {
    Arc::new(move || {
        projection
            .read()
            .integrations
            .iter()
            .filter(|(_, s)| s.enabled && s.is_connected())
            .map(|(id, s)| Due {
                integration: *id,
                last_started: s.last_sync.as_ref().map(|r| r.started_at),
                last_interrupted: s
                    .last_sync
                    .as_ref()
                    .is_some_and(|r| r.outcome == SyncOutcome::Interrupted),
            })
            .collect()
    })
}
