//! Webhook endpoints of the change feed: registration (the signing secret is shown once),
//! secret rotation with an overlap, removal, the delivery record (failures, dead letters,
//! redeliveries) and manual redelivery. All need "manage integrations".

use axum::{extract::State, http::StatusCode};
use chrono::{DateTime, Duration, Utc};
use hearth_domain::{
    access_changes::ChangeKind,
    permissions::Permission,
    webhook::{webhook_url, WebhookCommand},
    PracticeId, StaffId, WebhookId,
};
use hearth_projections::WebhookView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{accepted, ctx, Accepted};
use crate::{
    auth::Caller,
    authz::{require_permission, staff_of},
    consistency::wait_for_cursor,
    extract::{Json, Path},
    problem::{ApiResult, Problem},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register, list))
        .routes(routes!(one, remove))
        .routes(routes!(rotate))
        .routes(routes!(redeliver))
}

/// How long a rotated-out secret still signs by default, and at most.
const DEFAULT_OVERLAP_SECS: u32 = 24 * 3600;
const MAX_OVERLAP_SECS: u32 = 7 * 24 * 3600;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// `https://` on a DNS name; internal addresses are refused (also when delivering).
    pub url: String,
    /// The change kinds to deliver; left out or empty: every kind.
    #[serde(default)]
    pub kinds: Vec<ChangeKind>,
}

#[derive(Serialize, ToSchema)]
pub struct Registered {
    pub id: Uuid,
    pub position: Option<String>,
    /// The signing secret: shown this once; Hearth keeps it encrypted.
    pub secret: String,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// Seconds the previous secret still signs (default one day, at most seven).
    #[schema(minimum = 0, maximum = 604800)]
    #[serde(default, deserialize_with = "hearth_domain::optional_whole_number")]
    pub overlap_secs: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct Rotated {
    pub position: Option<String>,
    /// The new signing secret: shown this once.
    pub secret: String,
    pub secret_version: u32,
    /// Deliveries carry a signature with each secret until then.
    pub previous_valid_until: DateTime<Utc>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Redelivery {
    /// The change to deliver again (`{position}.{index}`), e.g. a dead letter.
    #[schema(pattern = r"^[1-9][0-9]{0,17}\.[0-9]{1,9}$")]
    pub change_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct FailureOut {
    pub change_id: String,
    pub household_id: Uuid,
    pub attempt: u32,
    pub error: String,
    pub dead_lettered: bool,
    pub at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct RedeliveryOut {
    pub change_id: String,
    pub requested_by: String,
    pub at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct EndpointOut {
    pub id: Uuid,
    pub url: String,
    pub kinds: Vec<ChangeKind>,
    pub removed: bool,
    pub registered_at: DateTime<Utc>,
    pub registered_by: String,
    pub secret_version: u32,
    pub secret_rotated_at: Option<DateTime<Utc>>,
    pub failures_total: u64,
    /// The latest failed attempts (up to 100; the log keeps them all).
    pub recent_failures: Vec<FailureOut>,
    /// Changes set aside after their last attempt, until redelivered.
    pub dead_letters: Vec<String>,
    pub redeliveries: Vec<RedeliveryOut>,
}

pub(crate) fn endpoint_out(id: WebhookId, w: &WebhookView) -> EndpointOut {
    EndpointOut {
        id: id.0,
        url: w.state.url.clone(),
        kinds: w.state.kinds.clone(),
        removed: w.state.removed,
        registered_at: w.registered_at,
        registered_by: w.registered_by.clone(),
        secret_version: w.state.secret_version,
        secret_rotated_at: w.secret_rotated_at,
        failures_total: w.failures_total,
        recent_failures: w
            .failures
            .iter()
            .map(|f| FailureOut {
                change_id: f.change_id.clone(),
                household_id: f.household_id.0,
                attempt: f.attempt,
                error: f.error.clone(),
                dead_lettered: f.dead_lettered,
                at: f.at,
            })
            .collect(),
        dead_letters: w.state.dead_letters.iter().cloned().collect(),
        redeliveries: w
            .redeliveries
            .iter()
            .map(|r| RedeliveryOut {
                change_id: r.change_id.clone(),
                requested_by: r.requested_by.clone(),
                at: r.at,
                delivered_at: r.delivered_at,
            })
            .collect(),
    }
}

/// The caller, active staff of the practice with "manage integrations".
pub(crate) async fn manager(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
) -> ApiResult<StaffId> {
    let me = staff_of(state, caller, practice).await?;
    require_permission(state, practice, me, Permission::ManageIntegrations)?;
    Ok(me)
}

/// Register an endpoint: changes after this registration are posted to it, signed (see the
/// README's "Verifying a webhook"). The answer carries the signing secret, once.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/webhooks", request_body = NewEndpoint,
    responses((status = 201, body = Registered), (status = 422, description = "the URL is refused (not https, an IP address, an internal name) or a kind is unknown", body = Problem)),
    security(("bearer" = [])))]
async fn register(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
    Json(body): Json<NewEndpoint>,
) -> ApiResult<(StatusCode, axum::Json<Registered>)> {
    let practice = PracticeId(p);
    let me = manager(&state, caller, practice).await?;
    // Refused before a secret is made for it.
    let url = webhook_url(&body.url, &state.webhooks.policy)?;
    let id = WebhookId::new();
    let now = Utc::now();
    let secret = state
        .webhooks
        .vault
        .add(id, 1, now, now)
        .await
        .map_err(|e| Problem::internal(&e))?;
    let existing = state
        .projection
        .read()
        .webhooks_of(practice)
        .iter()
        .filter(|(_, w)| !w.state.removed)
        .count();
    let command = WebhookCommand::Register {
        endpoint_id: id,
        url,
        kinds: body.kinds,
        policy: state.webhooks.policy,
        existing,
    };
    let done = state
        .exec
        .webhook(practice, id, command, &ctx(me, None))
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Registered {
            id: id.0,
            position: done.position.map(|p| p.to_string()),
            secret,
        }),
    ))
}

/// The practice's endpoints with their delivery record.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/webhooks", responses((status = 200, body = Vec<EndpointOut>)), security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
) -> ApiResult<axum::Json<Vec<EndpointOut>>> {
    Ok(axum::Json(endpoints(&state, caller, PracticeId(p)).await?))
}

/// The practice's endpoints with their delivery record (the API and the console).
pub(crate) async fn endpoints(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
) -> ApiResult<Vec<EndpointOut>> {
    manager(state, caller, practice).await?;
    let model = state.projection.read();
    Ok(model
        .webhooks_of(practice)
        .into_iter()
        .map(|(id, w)| endpoint_out(id, w))
        .collect())
}

async fn found(state: &AppState, practice: PracticeId, id: WebhookId) -> ApiResult<()> {
    if state.projection.read().webhook_in(practice, id).is_none() {
        crate::consistency::catch_up(state).await?;
    }
    match state.projection.read().webhook_in(practice, id) {
        Some(_) => Ok(()),
        None => Err(Problem::not_found("the webhook endpoint")),
    }
}

/// One endpoint: its registration, failures, dead letters and redeliveries.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/webhooks/{webhook_id}", responses((status = 200, body = EndpointOut)), security(("bearer" = [])))]
async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, w)): Path<(Uuid, Uuid)>,
) -> ApiResult<axum::Json<EndpointOut>> {
    let (practice, id) = (PracticeId(p), WebhookId(w));
    manager(&state, caller, practice).await?;
    found(&state, practice, id).await?;
    let model = state.projection.read();
    let view = model
        .webhook_in(practice, id)
        .ok_or_else(|| Problem::not_found("the webhook endpoint"))?;
    Ok(axum::Json(endpoint_out(id, view)))
}

/// Stop delivering to this endpoint (its record stays).
#[utoipa::path(delete, path = "/v1/practices/{practice_id}/webhooks/{webhook_id}", responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, w)): Path<(Uuid, Uuid)>,
) -> ApiResult<axum::Json<Accepted>> {
    let (practice, id) = (PracticeId(p), WebhookId(w));
    let me = manager(&state, caller, practice).await?;
    let done = state
        .exec
        .webhook(practice, id, WebhookCommand::Remove, &ctx(me, None))
        .await?;
    Ok(accepted(done, None))
}

/// A new signing secret. The previous one keeps signing until `previous_valid_until` — each
/// delivery carries a `v1=` signature per valid secret — so receivers switch without a gap.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/webhooks/{webhook_id}/secret", request_body = Rotation, responses((status = 200, body = Rotated)), security(("bearer" = [])))]
async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, w)): Path<(Uuid, Uuid)>,
    Json(body): Json<Rotation>,
) -> ApiResult<axum::Json<Rotated>> {
    let (practice, id) = (PracticeId(p), WebhookId(w));
    let me = manager(&state, caller, practice).await?;
    let overlap = body.overlap_secs.unwrap_or(DEFAULT_OVERLAP_SECS);
    if overlap > MAX_OVERLAP_SECS {
        return Err(Problem::unprocessable(
            "invalid_input",
            format!("overlap_secs must be at most {MAX_OVERLAP_SECS}"),
        ));
    }
    let (current, _) = state.exec.webhook_state(id).await?;
    if current.practice_id != Some(practice) || current.removed {
        return Err(Problem::not_found("the webhook endpoint"));
    }
    let now = Utc::now();
    let until = now + Duration::seconds(overlap.into());
    let version = current.secret_version + 1;
    // Sealed first: a rotation the log then refuses leaves a spare secret, never a missing one.
    let secret = state
        .webhooks
        .vault
        .add(id, version, until, now)
        .await
        .map_err(|e| Problem::internal(&e))?;
    let command = WebhookCommand::RotateSecret {
        previous_valid_until: until,
    };
    let done = state
        .exec
        .webhook(practice, id, command, &ctx(me, None))
        .await?;
    Ok(axum::Json(Rotated {
        position: done.position.map(|p| p.to_string()),
        secret,
        secret_version: version,
        previous_valid_until: until,
    }))
}

/// Deliver a change again (a dead letter, or one the receiver lost). Recorded, then made by
/// the delivery worker; the endpoint's record shows when it was delivered.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/webhooks/{webhook_id}/redeliveries", request_body = Redelivery, responses((status = 202, body = Accepted)), security(("bearer" = [])))]
async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, w)): Path<(Uuid, Uuid)>,
    Json(body): Json<Redelivery>,
) -> ApiResult<(StatusCode, axum::Json<Accepted>)> {
    let done =
        request_redelivery(&state, caller, PracticeId(p), WebhookId(w), body.change_id).await?;
    Ok((StatusCode::ACCEPTED, accepted(done, None)))
}

/// Records a redelivery request once the read model shows it (the API and the console).
pub(crate) async fn request_redelivery(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
    id: WebhookId,
    change_id: String,
) -> ApiResult<hearth_application::Executed> {
    let me = manager(state, caller, practice).await?;
    found(state, practice, id).await?;
    if state
        .projection
        .read()
        .change_by_id(practice, &change_id)
        .is_none()
    {
        return Err(Problem::not_found("the change"));
    }
    let command = WebhookCommand::RequestRedelivery { change_id };
    let done = state
        .exec
        .webhook(practice, id, command, &ctx(me, None))
        .await?;
    if let Some(cursor) = done.cursor {
        wait_for_cursor(state, cursor).await?;
    }
    Ok(done)
}
