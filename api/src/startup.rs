//! Building and running the service, in one place so tests start it exactly as `main` does.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{extract::DefaultBodyLimit, middleware, Router};
use hearth_application::{domain_upcaster, CommandExecutor};
use hearth_eventstore::EventStore;
use hearth_projections::Projection;
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer, limit::RequestBodyLimitLayer, timeout::TimeoutLayer,
};

use crate::{config::Settings, keys, problem::Problem, routes, state::AppState};

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    grace: Duration,
    sync_interval: Duration,
    bus: NotesBus,
    checkpoints: crate::transparency::CheckpointPolicy,
}

/// The file-note bus: RabbitMQ when configured, else the in-process queue.
#[derive(Clone)]
enum NotesBus {
    Amqp(hearth_integrations::notes::AmqpBus),
    Memory(hearth_integrations::notes::MemoryBus),
}

impl NotesBus {
    fn publisher(&self) -> Arc<dyn hearth_integrations::notes::Publisher> {
        match self {
            NotesBus::Amqp(b) => Arc::new(b.clone()),
            NotesBus::Memory(b) => Arc::new(b.clone()),
        }
    }

    async fn consume(
        self,
        handler: Arc<dyn hearth_integrations::notes::Handler>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) {
        match self {
            NotesBus::Amqp(b) => b.consume(handler, stop).await,
            NotesBus::Memory(b) => b.consume(handler, stop).await,
        }
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let database_url = settings.store.database_url();
        keys::ensure_sqlite_dir(&database_url).map_err(anyhow::Error::msg)?;
        // Install the metrics recorder before anything is counted.
        crate::metrics::handle();
        let signer =
            Arc::new(keys::log_signer(settings.store.data_dir()).map_err(anyhow::Error::msg)?);
        let checkpoints =
            crate::transparency::CheckpointPolicy::from_env().map_err(anyhow::Error::msg)?;
        // With HEARTH_MIGRATION_DATABASE_URL the tables' owner migrates and the service itself
        // runs as the restricted role of HEARTH_DATABASE_URL (see docs/ARCHITECTURE.md).
        let store = match std::env::var("HEARTH_MIGRATION_DATABASE_URL") {
            Ok(owner) if !owner.trim().is_empty() && !settings.store.is_sqlite() => {
                EventStore::connect_migrated_by(&database_url, &owner).await?
            }
            _ => EventStore::connect(&database_url).await?,
        }
        .with_upcaster(domain_upcaster())
        .with_signer(signer);
        let store = keys::with_personal_data(store, &settings.store).map_err(anyhow::Error::msg)?;
        // Started with the wrong master key, every household would read as erased.
        store.check_master_keys().await?;
        tracing::info!(log = %settings.store.describe(), "opened the log");
        let data_dir = settings.store.data_dir();
        let projection =
            Projection::start_with(store.clone(), settings.snapshots.policy(data_dir)).await?;
        let keys = Arc::new(keys::jwt_keys(&settings.auth, data_dir).map_err(anyhow::Error::msg)?);
        let cipher = keys::token_cipher(&settings.xplan, data_dir).map_err(anyhow::Error::msg)?;
        let listener = TcpListener::bind(settings.http.bind).await?;
        let exec = CommandExecutor::new(store.clone());
        let webhooks = crate::webhook_relay::Webhooks::new(
            &settings.webhook,
            hearth_integrations::webhooks::SecretVault::new(store.clone(), cipher.clone()),
        )
        .map_err(anyhow::Error::msg)?;
        let xplan = crate::xplan::service(
            &settings.xplan,
            listener.local_addr()?,
            exec.clone(),
            cipher,
        )?;
        let bus = match &settings.bus.amqp_url {
            Some(url) => NotesBus::Amqp(hearth_integrations::notes::AmqpBus::new(
                url,
                hearth_integrations::notes::AmqpNames::with_prefix(&settings.bus.amqp_prefix),
            )),
            None => NotesBus::Memory(hearth_integrations::notes::MemoryBus::default()),
        };
        let state = AppState::new(crate::state::Services {
            exec,
            store,
            projection,
            keys,
            xplan,
            notes: bus.publisher(),
            read_wait: settings.http.read_wait(),
            watch: crate::watch::WatchLimits::new(
                settings.watch.watch_max_streams,
                Duration::from_secs(settings.watch.watch_keep_alive_secs.max(1)),
            ),
            webhooks,
        });
        let router = router(state.clone(), settings.http.body_limit);
        Ok(Application {
            listener,
            router,
            state,
            grace: Duration::from_secs(settings.http.shutdown_grace_secs),
            sync_interval: Duration::from_secs(settings.xplan.xplan_sync_interval_secs.max(1)),
            bus,
            checkpoints,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.address().port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests (bounded by the grace
    /// period) and returns.
    pub async fn run_until<F>(self, shutdown: F) -> anyhow::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let sealer = tokio::spawn(seal_periodically(self.state.store.clone()));
        let expirer = tokio::spawn(crate::expiry::run(self.state.clone()));
        let retention = tokio::spawn(crate::retention::run(self.state.clone()));
        let tree = tokio::spawn(crate::transparency::run(
            self.state.store.clone(),
            self.checkpoints.clone(),
        ));
        let (workers_stop, workers_stopping) = tokio::sync::watch::channel(false);
        let (projection, xplan) = (self.state.projection.clone(), self.state.xplan.clone());
        let (sync_interval, scheduler_stopping) = (self.sync_interval, workers_stopping.clone());
        let scheduler = tokio::spawn(async move {
            // Its first pass must see the whole log, e.g. a run the last shutdown interrupted.
            projection.wait_ready(Duration::from_secs(60)).await;
            hearth_integrations::scheduler::run(
                xplan,
                crate::xplan::due_integrations(projection),
                sync_interval,
                scheduler_stopping,
            )
            .await
        });
        let relay = tokio::spawn(hearth_integrations::notes::run_relay(
            self.state.store.clone(),
            self.state.notes.clone(),
            workers_stopping.clone(),
        ));
        let deliveries = tokio::spawn(crate::webhook_relay::run(
            self.state.clone(),
            workers_stopping.clone(),
        ));
        let worker = Arc::new(hearth_integrations::notes::FileNoteWorker::new(
            self.state.xplan.clone(),
        ));
        let consumer = tokio::spawn(self.bus.clone().consume(worker, workers_stopping));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let serve = axum::serve(self.listener, self.router).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(());
        });
        let grace = self.grace;
        let result = tokio::select! {
            r = serve => r.map_err(anyhow::Error::from),
            _ = async { let _ = stop_rx.await; tokio::time::sleep(grace).await } => {
                tracing::warn!("in-flight requests did not finish within the grace period");
                Ok(())
            }
        };
        sealer.abort();
        tree.abort();
        expirer.abort();
        retention.abort();
        let _ = workers_stop.send(true);
        // Running sync jobs (and the scheduler's run) stop at a safe point and record themselves
        // as interrupted, so the scheduler runs them again after the restart.
        self.state.xplan.jobs().shut_down(grace).await;
        let mut scheduler = scheduler;
        if tokio::time::timeout(grace, &mut scheduler).await.is_err() {
            scheduler.abort();
        }
        relay.abort();
        deliveries.abort();
        consumer.abort();
        // The next start loads this and replays nothing (or only what other instances wrote).
        self.state.projection.write_snapshot().await;
        result
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(crate::shutdown::signal()).await
    }
}

pub fn router(state: AppState, body_limit: usize) -> Router {
    routes::router()
        .merge(crate::console::router())
        .fallback(routes_fallback)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(Problem::internal(&"a handler panicked"))
        }))
        // Outside every layer that can answer on its own, so each such answer is a problem, is
        // counted and carries the request's id.
        .layer(middleware::from_fn_with_state(
            crate::request_id::Sequential::default(),
            crate::frame::frame,
        ))
        .with_state(state)
}

async fn routes_fallback() -> Problem {
    routes::fallback_problem()
}

/// Seals the log every minute, so removing whole streams later is detectable.
async fn seal_periodically(store: EventStore) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = store.seal().await {
            tracing::warn!(error = %e, "sealing the log failed; will retry");
        }
    }
}
