//! What every handler shares.

use std::{sync::Arc, time::Duration};

use hearth_application::CommandExecutor;
use hearth_eventstore::EventStore;
use hearth_integrations::service::XplanService;
use hearth_projections::Projection;

use crate::auth::{HasJwtKeys, JwtKeys};

/// Shared by every handler; cloned per request, so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub store: EventStore,
    pub exec: CommandExecutor,
    pub projection: Projection,
    pub keys: Arc<JwtKeys>,
    pub xplan: XplanService,
    /// Where file-note triggers are published (RabbitMQ, or the in-process queue).
    pub notes: std::sync::Arc<dyn hearth_integrations::notes::Publisher>,
    /// How long a read with `at_least` (or a command on a just-created record) waits for the
    /// read model before answering 503.
    pub read_wait: Duration,
    /// The bound on open change streams and their keep-alive.
    pub watch: crate::watch::WatchLimits,
    /// Webhook secrets, the guarded sender and the delivery policy.
    pub webhooks: crate::webhook_relay::Webhooks,
}

impl HasJwtKeys for AppState {
    fn jwt_keys(&self) -> &Arc<JwtKeys> {
        &self.keys
    }
}
