//! XPLAN integrations (PRODUCT.md §4): set-up, OAuth consent, XPLAN ID pre-load, on-demand
//! sync and sync summaries. Everything but the OAuth callback needs "manage integrations";
//! the callback is authenticated by its single-use `state`.

use std::collections::HashMap;
use utoipa_axum::{router::OpenApiRouter, routes};

use axum::{body::Bytes, extract::State};
use chrono::Utc;
use hearth_domain::{
    integration::{IntegrationCommand, IntegrationState},
    permissions::Permission,
    IntegrationId, PracticeId,
};
use hearth_integrations::preload::{Candidate, PreloadReport};
use hearth_projections::SyncRunView;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{accepted, created, ctx, Accepted};
use crate::{
    auth::Caller,
    authz::{require_permission, staff_of},
    consistency::{catch_up, wait_for_position},
    extract::{Json, Path, Query},
    problem::{ApiResult, Problem},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_integration, list_integrations))
        .routes(routes!(integration, update_integration))
        .routes(routes!(enable))
        .routes(routes!(disable))
        .routes(routes!(start_oauth))
        .routes(routes!(preload_ids))
        .routes(routes!(sync_now))
        .routes(routes!(sync_runs))
        .routes(routes!(sync_run))
        .routes(routes!(oauth_callback))
}

/// The caller, who must hold "manage integrations" in this practice.
async fn manager(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
) -> ApiResult<hearth_domain::StaffId> {
    let me = staff_of(state, caller, practice).await?;
    require_permission(state, practice, me, Permission::ManageIntegrations)?;
    Ok(me)
}

/// The integration, only if it belongs to this practice (another practice's is "not found").
async fn owned(
    state: &AppState,
    practice: PracticeId,
    id: IntegrationId,
) -> ApiResult<IntegrationState> {
    let integration = state.xplan.state(id).await?;
    if integration.practice_id != Some(practice) {
        return Err(Problem::not_found("the integration"));
    }
    Ok(integration)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntegration {
    pub name: String,
    /// The XPLAN site's address without scheme, e.g. `harbour.xplan.iress.com.au`.
    pub forward_host: String,
    #[serde(default)]
    pub enabled: bool,
    /// Existing clients' XPLAN IDs are loaded (or there are none). Needed to enable.
    #[serde(default)]
    pub ids_loaded_confirmed: bool,
    /// Must be "xplan" when given (any case).
    #[serde(default)]
    #[schema(pattern = "^[Xx][Pp][Ll][Aa][Nn]$")]
    pub kind: Option<String>,
    /// Must be "oauth" when given (any case).
    #[serde(default)]
    #[schema(pattern = "^[Oo][Aa][Uu][Tt][Hh]$")]
    pub auth_mode: Option<String>,
}

/// Connect a practice to an XPLAN site. Several per practice are allowed.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/integrations", request_body = NewIntegration, responses((status = 201, body = Accepted), (status = 403, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn create_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<Uuid>,
    Json(body): Json<NewIntegration>,
) -> ApiResult<(axum::http::StatusCode, axum::Json<Accepted>)> {
    let practice = PracticeId(practice);
    let me = manager(&state, caller, practice).await?;
    if body
        .kind
        .as_deref()
        .is_some_and(|k| !k.eq_ignore_ascii_case("xplan"))
    {
        return Err(Problem::unprocessable(
            "invalid_input",
            "only \"xplan\" integrations are supported",
        ));
    }
    if body
        .auth_mode
        .as_deref()
        .is_some_and(|m| !m.eq_ignore_ascii_case("oauth"))
    {
        return Err(Problem::unprocessable(
            "invalid_input",
            "XPLAN integrations authenticate with OAuth (\"oauth\")",
        ));
    }
    let id = IntegrationId::new();
    let command = IntegrationCommand::CreateIntegration {
        integration_id: id,
        name: body.name,
        forward_host: body.forward_host,
        enabled: body.enabled,
        ids_loaded_confirmed: body.ids_loaded_confirmed,
        host_policy: state.xplan.client().config().host_policy(),
    };
    let done = state
        .xplan
        .command(practice, id, command, &ctx(me, None))
        .await?;
    Ok(created(done, id.0))
}

#[derive(Serialize, ToSchema)]
pub struct IntegrationView {
    pub id: Uuid,
    pub kind: &'static str,
    pub auth_mode: &'static str,
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub state: IntegrationState,
}

fn view(id: IntegrationId, state: IntegrationState) -> IntegrationView {
    IntegrationView {
        id: id.0,
        kind: "xplan",
        auth_mode: "oauth",
        state,
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AtLeast {
    /// A position a command answered: the read waits until the read model has applied it.
    #[param(example = "42")]
    pub at_least: Option<String>,
}

/// The practice's integrations: settings, consent state and last sync (never tokens).
#[utoipa::path(get, path = "/v1/practices/{practice_id}/integrations", params(AtLeast), responses((status = 200, body = [IntegrationView])), security(("bearer" = [])))]
pub(crate) async fn list_integrations(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<Uuid>,
    Query(q): Query<AtLeast>,
) -> ApiResult<axum::Json<Vec<IntegrationView>>> {
    let practice = PracticeId(practice);
    manager(&state, caller, practice).await?;
    wait_for_position(&state, q.at_least.as_deref()).await?;
    let model = state.projection.read();
    let mut list: Vec<IntegrationView> = model
        .integrations
        .iter()
        .filter(|(_, s)| s.practice_id == Some(practice))
        .map(|(id, s)| view(*id, s.clone()))
        .collect();
    list.sort_by_key(|v| v.id);
    Ok(axum::Json(list))
}

#[utoipa::path(get, path = "/v1/practices/{practice_id}/integrations/{integration_id}", responses((status = 200, body = IntegrationView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn integration(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, id)): Path<(Uuid, Uuid)>,
) -> ApiResult<axum::Json<IntegrationView>> {
    let practice = PracticeId(practice);
    manager(&state, caller, practice).await?;
    let id = IntegrationId(id);
    Ok(axum::Json(view(id, owned(&state, practice, id).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationChange {
    pub name: Option<String>,
    pub forward_host: Option<String>,
    pub ids_loaded_confirmed: Option<bool>,
    pub enabled: Option<bool>,
}

/// Change name, forward host, the IDs-loaded confirmation or the enabled flag.
#[utoipa::path(patch, path = "/v1/practices/{practice_id}/integrations/{integration_id}", request_body = IntegrationChange, responses((status = 200, body = Accepted), (status = 409, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn update_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, id)): Path<(Uuid, Uuid)>,
    Json(body): Json<IntegrationChange>,
) -> ApiResult<axum::Json<Accepted>> {
    let practice = PracticeId(practice);
    let me = manager(&state, caller, practice).await?;
    let id = IntegrationId(id);
    owned(&state, practice, id).await?;
    let c = ctx(me, None);
    let mut last = state
        .xplan
        .command(
            practice,
            id,
            IntegrationCommand::UpdateIntegration {
                name: body.name,
                forward_host: body.forward_host,
                ids_loaded_confirmed: body.ids_loaded_confirmed,
                host_policy: state.xplan.client().config().host_policy(),
            },
            &c,
        )
        .await?;
    if let Some(enabled) = body.enabled {
        let toggle = if enabled {
            IntegrationCommand::EnableIntegration
        } else {
            IntegrationCommand::DisableIntegration
        };
        let done = state.xplan.command(practice, id, toggle, &c).await?;
        if done.position.is_some() {
            last = done;
        }
    }
    Ok(accepted(last, Some(id.0)))
}

async fn toggle(
    state: AppState,
    caller: Caller,
    practice: Uuid,
    id: Uuid,
    command: IntegrationCommand,
) -> ApiResult<axum::Json<Accepted>> {
    let practice = PracticeId(practice);
    let me = manager(&state, caller, practice).await?;
    let id = IntegrationId(id);
    owned(&state, practice, id).await?;
    let done = state
        .xplan
        .command(practice, id, command, &ctx(me, None))
        .await?;
    Ok(accepted(done, Some(id.0)))
}

/// Enable scheduled syncs (needs the IDs-loaded confirmation).
#[utoipa::path(post, path = "/v1/practices/{practice_id}/integrations/{integration_id}/enable", responses((status = 200, body = Accepted), (status = 409, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, i)): Path<(Uuid, Uuid)>,
) -> ApiResult<axum::Json<Accepted>> {
    toggle(state, caller, p, i, IntegrationCommand::EnableIntegration).await
}

#[utoipa::path(post, path = "/v1/practices/{practice_id}/integrations/{integration_id}/disable", responses((status = 200, body = Accepted)), security(("bearer" = [])))]
pub(crate) async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, i)): Path<(Uuid, Uuid)>,
) -> ApiResult<axum::Json<Accepted>> {
    toggle(state, caller, p, i, IntegrationCommand::DisableIntegration).await
}

#[derive(Serialize, ToSchema)]
pub struct AuthorisationStart {
    /// Send the practice manager's browser here; XPLAN returns it to the callback.
    pub authorisation_url: String,
    pub position: Option<String>,
}

/// Step 1 of the OAuth authorisation-code flow.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/integrations/{integration_id}/oauth/start", responses((status = 200, body = AuthorisationStart)), security(("bearer" = [])))]
pub(crate) async fn start_oauth(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, id)): Path<(Uuid, Uuid)>,
) -> ApiResult<axum::Json<AuthorisationStart>> {
    let practice = PracticeId(practice);
    let me = manager(&state, caller, practice).await?;
    let id = IntegrationId(id);
    owned(&state, practice, id).await?;
    let (url, done) = state
        .xplan
        .start_authorisation(practice, id, &ctx(me, None))
        .await?;
    Ok(axum::Json(AuthorisationStart {
        authorisation_url: url,
        position: done.position.map(|p| p.to_string()),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct CallbackParams {
    /// The one-time code; absent when consent was refused.
    pub code: Option<String>,
    /// The state Hearth sent with the authorisation request (OAuth returns it in both cases).
    pub state: String,
    /// Why XPLAN did not grant access, when it did not.
    pub error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Connected {
    pub connected: bool,
    pub integration_id: Uuid,
    pub position: Option<String>,
}

/// Step 2: XPLAN returns the browser here with a one-time code.
#[utoipa::path(get, path = "/v1/xplan/oauth/callback", params(CallbackParams), responses((status = 200, body = Connected), (status = 409, body = Problem)))]
pub(crate) async fn oauth_callback(
    State(state): State<AppState>,
    Query(q): Query<CallbackParams>,
) -> ApiResult<axum::Json<Connected>> {
    // Both refusals are about the state of the consent, not a malformed request: 409.
    if let Some(error) = q.error {
        return Err(Problem::conflict(
            "xplan_consent_refused",
            format!("XPLAN did not grant access: {error}"),
        ));
    }
    let Some(code) = q.code else {
        return Err(Problem::conflict(
            "xplan_consent_incomplete",
            "XPLAN sent neither a code nor an error; start the connection again",
        ));
    };
    let oauth_state = q.state;
    let (_, id, done) = state
        .xplan
        .complete_authorisation(&oauth_state, &code, Utc::now())
        .await?;
    Ok(axum::Json(Connected {
        connected: true,
        integration_id: id.0,
        position: done.position.map(|p| p.to_string()),
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PreloadParams {
    /// Report what would happen without linking anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// The XPLAN ID list as XPLAN's export writes it: a header row naming at least the email and
/// XPLAN ID columns, then one client per row. (Other spellings and orders of the header are
/// read too — case, spaces, underscores and hyphens do not matter — but these are the contract.)
#[derive(ToSchema)]
#[schema(value_type = String, pattern = r"^(First name,Last name,)?Email,XPLAN ID(\r?\n(.|\r|\n)*)?$")]
pub struct XplanIdsCsv(#[allow(dead_code)] String);

/// Upload the XPLAN ID list (CSV: first name, last name, email, XPLAN ID). Every row is
/// reported; all linkable rows are applied together, or none.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/integrations/{integration_id}/xplan-ids", params(PreloadParams), request_body(content = XplanIdsCsv, content_type = "text/csv"), responses((status = 200, body = Object)), security(("bearer" = [])))]
pub(crate) async fn preload_ids(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, id)): Path<(Uuid, Uuid)>,
    Query(q): Query<PreloadParams>,
    body: Bytes,
) -> ApiResult<axum::Json<PreloadReport>> {
    let practice = PracticeId(practice);
    let me = manager(&state, caller, practice).await?;
    let id = IntegrationId(id);
    owned(&state, practice, id).await?;
    if body.is_empty() {
        return Err(Problem::bad_request(
            "invalid_input",
            "the request body must be the CSV file",
        ));
    }
    catch_up(&state).await?;
    let index = email_index(&state, practice);
    let report = state
        .xplan
        .preload(practice, id, &body, &index, q.dry_run, &ctx(me, None))
        .await?;
    Ok(axum::Json(report))
}

/// The pre-load's candidates: the read model's members of the practice by lower-case e-mail.
fn email_index(state: &AppState, practice: PracticeId) -> HashMap<String, Vec<Candidate>> {
    state
        .projection
        .read()
        .members_by_email(practice)
        .into_iter()
        .map(|(email, members)| {
            let candidates = members
                .into_iter()
                .map(|(household, m)| Candidate {
                    household,
                    member: m.member_id,
                    xplan: m.xplan,
                })
                .collect();
            (email, candidates)
        })
        .collect()
}

/// Start a sync job now. Answers 202 at once with the run's id and its status URL; the run
/// goes on in the background (progress and summary at the status URL). 409 when a run of this
/// integration is already going on this instance, or it is disabled or not connected.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/integrations/{integration_id}/sync", responses((status = 202, body = SyncJob), (status = 409, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn sync_now(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, id)): Path<(Uuid, Uuid)>,
) -> ApiResult<impl axum::response::IntoResponse> {
    let practice = PracticeId(practice);
    let me = manager(&state, caller, practice).await?;
    let id = IntegrationId(id);
    owned(&state, practice, id).await?;
    let (run_id, started) = state.xplan.start_sync(id, "api", &ctx(me, None)).await?;
    let status_url = format!(
        "/v1/practices/{}/integrations/{}/sync-runs/{run_id}",
        practice.0, id.0
    );
    Ok((
        axum::http::StatusCode::ACCEPTED,
        [(axum::http::header::LOCATION, status_url.clone())],
        axum::Json(SyncJob {
            run_id,
            status_url,
            position: started.position.map(|p| p.to_string()),
        }),
    ))
}

/// A started sync job: where to follow it.
#[derive(Serialize, ToSchema)]
pub struct SyncJob {
    pub run_id: Uuid,
    /// `GET` it for the run's status, progress and summary.
    pub status_url: String,
    /// Where the run's start was recorded (for `at_least`).
    pub position: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RunsParams {
    /// Newest first; at most this many (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Sync runs with their status and summaries (progress so far for a running one), newest first.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/integrations/{integration_id}/sync-runs", params(RunsParams), responses((status = 200, body = [Object])), security(("bearer" = [])))]
pub(crate) async fn sync_runs(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, id)): Path<(Uuid, Uuid)>,
    Query(q): Query<RunsParams>,
) -> ApiResult<axum::Json<Vec<SyncRunView>>> {
    let practice = PracticeId(practice);
    manager(&state, caller, practice).await?;
    let id = IntegrationId(id);
    owned(&state, practice, id).await?;
    let mut runs = state
        .projection
        .read()
        .sync_runs
        .runs(id)
        .map_err(|e| Problem::internal(&e))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(Problem::bad_request(
            "invalid_query",
            "limit must be between 1 and 1000",
        ));
    }
    runs.truncate(limit as usize);
    Ok(axum::Json(runs))
}

/// One sync run: `running` with its progress so far, or how it ended (completed, failed,
/// interrupted by a shutdown — then the scheduler runs it again) with its summary.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/integrations/{integration_id}/sync-runs/{run_id}", responses((status = 200, body = Object), (status = 404, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn sync_run(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, id, run_id)): Path<(Uuid, Uuid, Uuid)>,
) -> ApiResult<axum::Json<SyncRunView>> {
    let practice = PracticeId(practice);
    manager(&state, caller, practice).await?;
    let id = IntegrationId(id);
    owned(&state, practice, id).await?;
    let find = |state: &AppState| {
        state
            .projection
            .read()
            .sync_runs
            .run(id, run_id)
            .map_err(|e| Problem::internal(&e))
    };
    if let Some(run) = find(&state)? {
        return Ok(axum::Json(run));
    }
    // Just started through another path: let the read model catch up before "not found".
    catch_up(&state).await?;
    find(&state)?
        .map(axum::Json)
        .ok_or_else(|| Problem::not_found("the sync run"))
}
