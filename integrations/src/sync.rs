//! One sync run of an XPLAN integration: read every client the connected user can see, create
//! the households Hearth lacks, apply XPLAN's fields to the ones it has, and record a summary.
//!
//! No duplicates: each XPLAN client claims a stream `xplan-client-{integration}-{id}` in the
//! same atomic append that creates (or links) its household, so a client can be created once —
//! whether two runs overlap, a run is interrupted and rerun, or IDs were pre-loaded.
//! No noise: the domain decides nothing when nothing differs, so an unchanged run appends only
//! its summary.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::{stream, StreamExt};
use hearth_application::{ExecError, Executed};
use hearth_domain::{
    household::{normalise, HouseholdCommand, XplanClientData},
    integration::{
        IntegrationCommand, IntegrationState, SyncOutcome, SyncRun, SyncSkip, SyncSummary,
    },
    limits::withhold_values,
    streams, CommandContext, DomainError, HouseholdId, IntegrationId, MemberId, PracticeId,
};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::{
    service::{IntegrationError, XplanService},
    xplan::{client_data, shape, XplanError, XplanSession},
};

pub use crate::claims::CLAIM_EVENT;
/// Client detail fetches in flight at once (sub-lists and advisers).
const FETCH_CONCURRENCY: usize = 8;

enum Applied {
    Created,
    Updated,
    Unchanged,
}

struct Run<'a> {
    svc: &'a XplanService,
    practice: PracticeId,
    integration: IntegrationId,
    run_id: uuid::Uuid,
    ctx: CommandContext,
    summary: SyncSummary,
    stop: tokio::sync::watch::Receiver<bool>,
}

/// Why a run ended before reading every client.
enum Stopped {
    Failed(IntegrationError),
    /// Shutdown: stopped at a safe point.
    Interrupted,
}

impl From<IntegrationError> for Stopped {
    fn from(e: IntegrationError) -> Self {
        Stopped::Failed(e)
    }
}

impl From<XplanError> for Stopped {
    fn from(e: XplanError) -> Self {
        Stopped::Failed(e.into())
    }
}

impl From<ExecError> for Stopped {
    fn from(e: ExecError) -> Self {
        Stopped::Failed(e.into())
    }
}

impl XplanService {
    /// Starts a sync job: checks it may run, records its start (who asked, which run), and
    /// returns; the run goes on in the background and records its summary when it ends.
    pub async fn start_sync(
        &self,
        id: IntegrationId,
        trigger: &str,
        ctx: &CommandContext,
    ) -> Result<(uuid::Uuid, Executed), IntegrationError> {
        let lease = self.lease(id)?;
        let (state, practice) = self.ready_to_sync(id).await?;
        let run_id = uuid::Uuid::now_v7();
        let start = IntegrationCommand::StartSync {
            run_id,
            trigger: trigger.to_string(),
        };
        let started = self.command(practice, id, start, ctx).await?;
        let (svc, trigger, started_at) = (self.clone(), trigger.to_string(), ctx.now);
        self.jobs
            .spawn(async move {
                let _lease = lease;
                if let Err(error) = svc
                    .run(&state, practice, run_id, &trigger, started_at)
                    .await
                {
                    tracing::error!(integration = %id, %error, "a sync job could not record its end");
                }
            })
            .await;
        Ok((run_id, started))
    }

    /// Runs a sync to its end in the caller's task (the scheduler, the CLI). Fails at once if the
    /// integration is disabled, not connected, or already syncing; otherwise always records a
    /// run (completed, failed or interrupted) and returns it.
    #[tracing::instrument(level = "debug", skip_all, fields(integration = %id), err(level = "debug"))]
    pub async fn sync(
        &self,
        id: IntegrationId,
        trigger: &str,
        started_at: DateTime<Utc>,
    ) -> Result<SyncRun, IntegrationError> {
        Ok(self.sync_recorded(id, trigger, started_at).await?.0)
    }

    /// As [`Self::sync`], with the log position of the run's record (for `at_least` reads).
    #[tracing::instrument(level = "debug", skip_all, fields(integration = %id), err(level = "debug"))]
    pub async fn sync_recorded(
        &self,
        id: IntegrationId,
        trigger: &str,
        started_at: DateTime<Utc>,
    ) -> Result<(SyncRun, Option<i64>), IntegrationError> {
        let _lease = self.lease(id)?;
        let (state, practice) = self.ready_to_sync(id).await?;
        let run_id = uuid::Uuid::now_v7();
        let start = IntegrationCommand::StartSync {
            run_id,
            trigger: trigger.to_string(),
        };
        self.command(practice, id, start, &Self::system_context(started_at))
            .await?;
        self.run(&state, practice, run_id, trigger, started_at)
            .await
    }

    async fn ready_to_sync(
        &self,
        id: IntegrationId,
    ) -> Result<(IntegrationState, PracticeId), IntegrationError> {
        let state = self.state(id).await?;
        let practice = state.practice_id.ok_or(ExecError::Domain(
            hearth_domain::DomainError::IntegrationNotFound,
        ))?;
        if !state.enabled {
            return Err(IntegrationError::Disabled);
        }
        if !state.is_connected() {
            return Err(ExecError::Domain(hearth_domain::DomainError::XplanNotConnected).into());
        }
        Ok((state, practice))
    }

    async fn run(
        &self,
        state: &IntegrationState,
        practice: PracticeId,
        run_id: uuid::Uuid,
        trigger: &str,
        started_at: DateTime<Utc>,
    ) -> Result<(SyncRun, Option<i64>), IntegrationError> {
        let id = state.id.ok_or(ExecError::Domain(
            hearth_domain::DomainError::IntegrationNotFound,
        ))?;
        let mut run = Run {
            svc: self,
            practice,
            integration: id,
            run_id,
            ctx: Self::system_context(started_at),
            summary: SyncSummary::default(),
            stop: self.jobs.stopping(),
        };
        let outcome = match run.all_clients(state).await {
            Ok(()) => SyncOutcome::Completed,
            Err(Stopped::Interrupted) => {
                tracing::info!(integration = %id, "XPLAN sync interrupted by shutdown at a safe point");
                SyncOutcome::Interrupted
            }
            Err(Stopped::Failed(e)) => {
                tracing::warn!(integration = %id, error = %e, "XPLAN sync stopped early");
                run.summary.errors.push(format!("stopped: {e}"));
                SyncOutcome::Failed
            }
        };
        let record = SyncRun {
            run_id,
            trigger: trigger.to_string(),
            started_at,
            finished_at: Utc::now(),
            outcome,
            summary: run.summary,
        };
        let ctx = Self::system_context(record.finished_at);
        let done = self.record_end(practice, id, &record, &ctx).await?;
        tracing::info!(integration = %id, seen = record.summary.clients_seen, created = record.summary.created, updated = record.summary.updated, "XPLAN sync finished");
        Ok((record, done.position))
    }
}

impl XplanService {
    /// A run's end must be recorded, or its status stays "running" for good. Another instance
    /// syncing the same integration writes to the same stream, so the executor's immediate
    /// retries can all lose the race: keep trying, with a growing pause, for up to about a minute.
    async fn record_end(
        &self,
        practice: PracticeId,
        id: IntegrationId,
        record: &SyncRun,
        ctx: &CommandContext,
    ) -> Result<Executed, IntegrationError> {
        let mut pause = std::time::Duration::from_millis(10);
        for _ in 0..END_ATTEMPTS {
            let command = IntegrationCommand::RecordSync {
                run: record.clone(),
            };
            match self.command(practice, id, command, ctx).await {
                Err(IntegrationError::Exec(ExecError::Contended)) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_secs(2));
                }
                other => return other,
            }
        }
        Err(ExecError::Contended.into())
    }
}

const END_ATTEMPTS: usize = 40;

impl Run<'_> {
    /// A safe point: every client so far is applied atomically; stop here at shutdown.
    fn stopping(&self) -> Result<(), Stopped> {
        if *self.stop.borrow() {
            Err(Stopped::Interrupted)
        } else {
            Ok(())
        }
    }

    async fn all_clients(&mut self, state: &IntegrationState) -> Result<(), Stopped> {
        let session = self.svc.session(state)?;
        let advisers: Mutex<HashMap<String, Option<Value>>> = Mutex::default();
        let mut bookmark: Option<String> = None;
        loop {
            self.stopping()?;
            let page = session
                .clients_page(self.svc.page_size, bookmark.as_deref())
                .await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            bookmark = Some(
                last.get(shape::ITEM_BOOKMARK)
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        XplanError::Unreadable("a client list item has no bookmark".into())
                    })?
                    .to_string(),
            );
            let (session, advisers) = (&session, &advisers);
            // Each client is applied as soon as it is read, so a shutdown waits for one client,
            // not a page.
            let mut fetched = stream::iter(page.iter().cloned())
                .map(|item| async move {
                    let result = fetch(session, &item, advisers).await;
                    (item, result)
                })
                .buffered(FETCH_CONCURRENCY);
            while let Some((item, result)) = fetched.next().await {
                self.summary.clients_seen += 1;
                let data = match result {
                    Ok(data) => data,
                    Err(
                        e @ (XplanError::ConsentExpired
                        | XplanError::Unavailable { .. }
                        | XplanError::NotConnected
                        | XplanError::Forbidden(_)
                        | XplanError::Vault(_)),
                    ) => return Err(e.into()),
                    Err(e) => {
                        let id = item
                            .get(shape::ITEM_ID)
                            .and_then(shape::plain)
                            .unwrap_or_default();
                        let e = withhold_values(&e.to_string());
                        self.summary.errors.push(format!("client {id}: {e}"));
                        continue;
                    }
                };
                for skip in normalise(&data).1 {
                    self.summary.skipped.push(SyncSkip {
                        xplan_id: data.xplan_id.clone(),
                        what: serde_json::to_value(skip.field)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default(),
                        // The value itself is personal: it stays in the household's (sealed)
                        // record, not in the integration's run summary.
                        reason: withhold_values(&skip.reason),
                    });
                }
                match self.apply(&data).await {
                    Ok(Applied::Created) => self.summary.created += 1,
                    Ok(Applied::Updated) => self.summary.updated += 1,
                    Ok(Applied::Unchanged) => self.summary.unchanged += 1,
                    // Its XPLAN id stays claimed by the erased household: never recreated.
                    Err(ExecError::Domain(DomainError::HouseholdErased)) => {
                        self.summary.skipped.push(SyncSkip {
                            xplan_id: data.xplan_id.clone(),
                            what: "client".into(),
                            reason:
                                "its household's personal data was erased; it is not synced again"
                                    .into(),
                        })
                    }
                    Err(ExecError::Domain(e)) => self.summary.errors.push(format!(
                        "client {}: {}",
                        data.xplan_id,
                        withhold_values(&e.to_string())
                    )),
                    Err(e) => return Err(e.into()),
                }
                self.stopping()?;
            }
            if page.len() >= self.svc.page_size {
                // More pages may follow: a long run says how far it has got.
                self.record_progress().await?;
            }
        }
    }

    async fn record_progress(&self) -> Result<(), IntegrationError> {
        let command = IntegrationCommand::RecordSyncProgress {
            run_id: self.run_id,
            summary: self.summary.clone(),
        };
        let ctx = XplanService::system_context(Utc::now());
        self.svc
            .command(self.practice, self.integration, command, &ctx)
            .await?;
        Ok(())
    }

    async fn claimed_household(&self, xplan_id: &str) -> Result<Option<HouseholdId>, ExecError> {
        crate::claims::claimed_household(self.svc.exec.store(), self.integration, xplan_id).await
    }

    async fn apply(&self, data: &XplanClientData) -> Result<Applied, ExecError> {
        let synced_on = self.ctx.now.date_naive();
        // Twice at most: a client claimed by an overlapping run between our look and our write
        // is then updated instead.
        for _ in 0..2 {
            if let Some(h) = self.claimed_household(&data.xplan_id).await? {
                let command = HouseholdCommand::SyncXplanClient {
                    integration_id: self.integration,
                    data: data.clone(),
                    synced_on,
                };
                let done = self
                    .svc
                    .exec
                    .household(self.practice, h, command, &self.ctx)
                    .await?;
                return Ok(if done.events > 0 {
                    Applied::Updated
                } else {
                    Applied::Unchanged
                });
            }
            let h = HouseholdId::new();
            let command = HouseholdCommand::CreateHouseholdFromXplan {
                integration_id: self.integration,
                member_id: MemberId::new(),
                data: data.clone(),
                synced_on,
            };
            let claim = (
                streams::xplan_client(self.integration, &data.xplan_id),
                CLAIM_EVENT.to_string(),
            );
            match self
                .svc
                .exec
                .household_guarded(self.practice, h, command, &self.ctx, Some(claim))
                .await
            {
                Ok(_) => return Ok(Applied::Created),
                Err(ExecError::Contended) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(ExecError::Contended)
    }
}

/// A client's sub-lists and adviser, read into the domain's record.
async fn fetch(
    session: &XplanSession,
    item: &Value,
    advisers: &Mutex<HashMap<String, Option<Value>>>,
) -> Result<XplanClientData, XplanError> {
    let id = item
        .get(shape::ITEM_ID)
        .and_then(shape::plain)
        .ok_or_else(|| XplanError::Unreadable("a client without id".into()))?;
    let contacts = session.client_list(&id, shape::LIST_CONTACT).await?;
    let addresses = session.client_list(&id, shape::LIST_ADDRESS).await?;
    let policies = session.client_list(&id, shape::LIST_INSURANCE).await?;
    let adviser = match item.get("client_adviser").and_then(shape::plain) {
        Some(user) => {
            let cached = advisers.lock().await.get(&user).cloned();
            match cached {
                Some(a) => a,
                None => {
                    let a = match session.user(&user).await {
                        Ok(u) => Some(u),
                        Err(XplanError::Rejected { status: 404, .. }) => None,
                        Err(e) => return Err(e),
                    };
                    advisers.lock().await.insert(user, a.clone());
                    a
                }
            }
        }
        None => None,
    };
    Ok(client_data(
        &id,
        item,
        &contacts,
        &addresses,
        &policies,
        adviser.as_ref(),
    ))
}
