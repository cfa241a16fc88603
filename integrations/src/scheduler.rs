//! The hourly sync: every enabled, connected integration whose last run started more than one
//! interval ago — or whose last run was interrupted by a shutdown — is synced, one at a time,
//! until shutdown.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use hearth_domain::IntegrationId;
use tokio::sync::watch;

use crate::service::{IntegrationError, XplanService};

/// An integration the scheduler may run, and when its last run started.
#[derive(Clone, Debug)]
pub struct Due {
    pub integration: IntegrationId,
    pub last_started: Option<DateTime<Utc>>,
    /// The last run stopped at a shutdown: it is run again at once.
    pub last_interrupted: bool,
}

/// Lists the enabled and connected integrations (the API reads them from its read model).
pub type ListIntegrations = Arc<dyn Fn() -> Vec<Due> + Send + Sync>;

pub fn is_due(due: &Due, interval: Duration, now: DateTime<Utc>) -> bool {
    let interval = chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::hours(1));
    due.last_interrupted || due.last_started.is_none_or(|t| t + interval <= now)
}

/// Runs until `stop` turns true. Checks at least once a minute, so a changed interval or a
/// newly connected integration is picked up soon.
pub async fn run(
    svc: XplanService,
    list: ListIntegrations,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let tick = interval
        .min(Duration::from_secs(60))
        .max(Duration::from_millis(100));
    loop {
        for due in list()
            .into_iter()
            .filter(|d| is_due(d, interval, Utc::now()))
        {
            if *stop.borrow() {
                return;
            }
            if svc.jobs().is_stopping() {
                return;
            }
            match svc.sync(due.integration, "schedule", Utc::now()).await {
                Ok(_) | Err(IntegrationError::SyncRunning) => {}
                Err(error) => {
                    tracing::warn!(integration = %due.integration, %error, "scheduled XPLAN sync did not run")
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_integration_is_due_once_an_interval_has_passed_since_its_last_run() {
        let now = Utc::now();
        let hour = Duration::from_secs(3600);
        let due = |mins: i64| Due {
            integration: IntegrationId::new(),
            last_started: Some(now - chrono::Duration::minutes(mins)),
            last_interrupted: false,
        };
        assert!(is_due(
            &Due {
                integration: IntegrationId::new(),
                last_started: None,
                last_interrupted: false,
            },
            hour,
            now
        ));
        assert!(!is_due(&due(59), hour, now));
        assert!(is_due(&due(60), hour, now));
    }

    #[test]
    fn an_interrupted_run_is_due_again_at_once() {
        let now = Utc::now();
        let interrupted = Due {
            integration: IntegrationId::new(),
            last_started: Some(now - chrono::Duration::minutes(1)),
            last_interrupted: true,
        };
        assert!(is_due(&interrupted, Duration::from_secs(3600), now));
    }
}
