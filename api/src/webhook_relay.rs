//! Delivers the change feed to each registered webhook endpoint, riding the file-note relay's
//! pattern: follow from a checkpoint shared by all instances (`webhook-{id}` in the log's
//! checkpoints), move it only past events whose changes were all delivered (or dead-lettered),
//! so a crash or an outage means delivering again — at least once, never lost. Each endpoint
//! takes its changes one at a time in log order, so they arrive in order per household; a change
//! that keeps failing is retried with doubling delays and then set aside (dead letter) for a
//! manual redelivery. One instance delivers at a time (a PostgreSQL advisory lock), so two
//! instances do not post everything twice.

use std::{collections::HashMap, time::Duration};

use chrono::Utc;
use hearth_domain::{webhook::WebhookCommand, Actor, CommandContext, PracticeId, WebhookId};
use hearth_eventstore::{Cursor, Leadership};
use hearth_integrations::webhooks::{sign, DeliveryError, SecretVault, Sender};
use hearth_projections::{AccessChange, FeedCursor};
use tokio::{sync::watch, task::JoinHandle};

use crate::{config::WebhookSettings, routes::ChangeOut, state::AppState};

const ACTOR: &str = "webhook-delivery";

/// Secrets, the guarded sender and the delivery policy, shared by the API and the relay.
#[derive(Clone)]
pub struct Webhooks {
    pub vault: SecretVault,
    pub sender: Sender,
    pub policy: hearth_domain::webhook::UrlPolicy,
    retry_base: Duration,
    retry_max: Duration,
    max_attempts: u32,
}

impl Webhooks {
    pub fn new(settings: &WebhookSettings, vault: SecretVault) -> Result<Self, String> {
        Ok(Self {
            sender: Sender::new(
                Duration::from_secs(settings.webhook_timeout_secs.max(1)),
                settings.webhook_allow_loopback,
            )?,
            vault,
            policy: hearth_domain::webhook::UrlPolicy {
                loopback_allowed: settings.webhook_allow_loopback,
            },
            retry_base: Duration::from_millis(settings.webhook_retry_base_ms.max(1)),
            retry_max: Duration::from_millis(settings.webhook_retry_max_ms.max(1)),
            max_attempts: settings.webhook_max_attempts.max(1),
        })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        (self.retry_base * factor).min(self.retry_max)
    }
}

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    state.projection.wait_ready(Duration::from_secs(60)).await;
    loop {
        if *stop.borrow() {
            return;
        }
        match state.store.try_lead(ACTOR).await.ok().flatten() {
            Some(leader) => {
                deliver_while_leading(&state, leader, &mut stop).await;
            }
            None => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }
}

async fn deliver_while_leading(
    state: &AppState,
    mut leader: Leadership,
    stop: &mut watch::Receiver<bool>,
) {
    let mut running: HashMap<WebhookId, JoinHandle<()>> = HashMap::new();
    loop {
        let wanted: Vec<(WebhookId, PracticeId)> = {
            let model = state.projection.read();
            model
                .webhooks
                .iter()
                .filter(|(_, w)| !w.state.removed)
                .filter_map(|(id, w)| Some((*id, w.state.practice_id?)))
                .collect()
        };
        running.retain(|id, task| {
            let keep = wanted.iter().any(|(w, _)| w == id) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for (id, practice) in wanted {
            running
                .entry(id)
                .or_insert_with(|| tokio::spawn(endpoint(state.clone(), practice, id)));
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => break,
        }
        if !leader.held().await {
            tracing::warn!("webhook delivery lost its database lock; another instance takes over");
            break;
        }
    }
    for task in running.into_values() {
        task.abort();
    }
    leader.release().await;
}

fn checkpoint_name(id: WebhookId) -> String {
    format!("webhook-{id}")
}

/// One endpoint's delivery loop; ends when the endpoint is removed (or the task is aborted).
async fn endpoint(state: AppState, practice: PracticeId, id: WebhookId) {
    let name = checkpoint_name(id);
    let Some(registered) = state
        .projection
        .read()
        .webhook_in(practice, id)
        .map(|w| w.registered_cursor)
    else {
        return;
    };
    let saved = loop {
        match state.store.load_checkpoint(&name).await {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!(webhook = %id, error = %e, "loading the delivery checkpoint failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut at = FeedCursor {
        cursor: saved.max(registered),
        index: None,
    };
    let mut saved_at = at.cursor;
    let mut moved = state.projection.cursor_watch();
    loop {
        redeliver_requested(&state, practice, id).await;
        moved.borrow_and_update();
        let (page, kinds) = {
            let model = state.projection.read();
            let Some(view) = model.webhook_in(practice, id) else {
                return;
            };
            if view.state.removed {
                return;
            }
            let Ok(page) = model.changes_after(practice, at, 100, None) else {
                return;
            };
            (page, view.state.clone())
        };
        // The newest event all of whose changes were handled; the checkpoint may move to it.
        let mut complete = at.index.is_none().then_some(at.cursor);
        for change in &page.changes {
            if change.at_cursor != at.cursor {
                complete = Some(at.cursor);
            }
            if kinds.wants(change.kind) {
                deliver(&state, practice, id, change, false).await;
            }
            at = FeedCursor {
                cursor: change.at_cursor,
                index: Some(change.index),
            };
        }
        if page.caught_up {
            // The model applies an event's changes together: the last one seen is complete.
            complete = Some(at.cursor);
        }
        if let Some(c) = complete.filter(|c| *c > saved_at) {
            if save(&state, &name, c).await {
                saved_at = c;
            }
        }
        if page.caught_up {
            let _ = tokio::time::timeout(Duration::from_secs(1), moved.changed()).await;
        }
    }
}

async fn save(state: &AppState, name: &str, at: Cursor) -> bool {
    match state.store.save_checkpoint(name, at).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(checkpoint = name, error = %e, "saving the delivery checkpoint failed");
            false
        }
    }
}

/// Makes the redeliveries the practice asked for, oldest first.
async fn redeliver_requested(state: &AppState, practice: PracticeId, id: WebhookId) {
    let asked: Vec<AccessChange> = {
        let model = state.projection.read();
        let Some(view) = model.webhook_in(practice, id) else {
            return;
        };
        view.state
            .redeliveries
            .iter()
            .filter_map(|c| model.change_by_id(practice, c))
            .collect()
    };
    for change in asked {
        if deliver(state, practice, id, &change, true).await {
            record(
                state,
                practice,
                id,
                WebhookCommand::RecordRedelivered {
                    change_id: change.id(),
                },
            )
            .await;
        }
    }
}

/// Delivers one change, retrying with doubling delays; `false` when it was dead-lettered.
async fn deliver(
    state: &AppState,
    practice: PracticeId,
    id: WebhookId,
    change: &AccessChange,
    redelivery: bool,
) -> bool {
    let hooks = &state.webhooks;
    let body = serde_json::to_vec(&ChangeOut::from(change)).unwrap_or_default();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let url = match state.projection.read().webhook_in(practice, id) {
            Some(w) if !w.state.removed => w.state.url.clone(),
            _ => return false,
        };
        let outcome = send(hooks, id, &url, change, &body).await;
        match outcome {
            Ok(()) => {
                metrics::counter!("hearth_webhook_deliveries_total", "outcome" => "delivered")
                    .increment(1);
                return true;
            }
            Err(error) => {
                metrics::counter!("hearth_webhook_deliveries_total", "outcome" => "failed")
                    .increment(1);
                let dead = attempt >= hooks.max_attempts;
                record(
                    state,
                    practice,
                    id,
                    WebhookCommand::RecordFailure {
                        change_id: change.id(),
                        household_id: change.household,
                        attempt,
                        error: if redelivery {
                            format!("redelivery: {error}")
                        } else {
                            error.to_string()
                        },
                        dead_lettered: dead,
                    },
                )
                .await;
                if dead {
                    return false;
                }
                tokio::time::sleep(hooks.backoff(attempt)).await;
            }
        }
    }
}

async fn send(
    hooks: &Webhooks,
    id: WebhookId,
    url: &str,
    change: &AccessChange,
    body: &[u8],
) -> Result<(), String> {
    let now = Utc::now();
    let secrets = hooks
        .vault
        .signing(id, now)
        .await
        .map_err(|e| e.to_string())?;
    let keys: Vec<&[u8]> = secrets.iter().map(|s| s.secret.as_bytes()).collect();
    let signature = sign(&keys, now.timestamp(), body);
    hooks
        .sender
        .send(url, &change.id(), &signature, body.to_vec())
        .await
        .map_err(|e: DeliveryError| e.to_string())
}

/// Records a delivery outcome in the endpoint's stream; a failure to record is logged (the
/// delivery itself is what matters, and a lost record is never retried into a loop).
async fn record(state: &AppState, practice: PracticeId, id: WebhookId, command: WebhookCommand) {
    let ctx = CommandContext::new(Actor::System(ACTOR.into()), Utc::now());
    match state.exec.webhook(practice, id, command, &ctx).await {
        // The loop reads the endpoint's state from the model next: let it see this record, so
        // a redelivery made is not made again.
        Ok(done) => {
            if let Some(cursor) = done.cursor {
                let _ = state.projection.wait_for(cursor, state.read_wait).await;
            }
        }
        Err(e) => {
            tracing::warn!(webhook = %id, error = %e, "recording a webhook delivery outcome failed")
        }
    }
}
