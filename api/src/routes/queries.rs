//! The questions of PRODUCT.md §3: checks with the deciding path, lists, as-of answers (`at`),
//! and read-your-writes (`at_least`).

use axum::extract::State;
use chrono::{DateTime, Utc};
use hearth_domain::{roles::Action, HouseholdId, PracticeId, StaffId};
use serde::{Deserialize, Serialize};
use strum::IntoEnumIterator;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::Caller,
    authz::{self, staff_of},
    consistency::wait_for_position,
    extract::{Path, Query},
    problem::{ApiResult, Problem},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(household_details))
        .routes(routes!(check))
        .routes(routes!(explain))
        .routes(routes!(staff_with_access))
        .routes(routes!(households_of_staff))
        .routes(routes!(history))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReadParams {
    /// Answer as of this instant (RFC 3339). Default: now.
    pub at: Option<DateTime<Utc>>,
    /// A position returned by a command: answer only once its effect is visible.
    /// A position a command answered: the read waits until the read model has applied it.
    #[param(example = "42")]
    pub at_least: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CheckParams {
    /// What the staff member wants to do (default: view).
    #[param(inline)]
    pub action: Option<Action>,
    pub at: Option<DateTime<Utc>>,
    /// A position a command answered: the read waits until the read model has applied it.
    #[param(example = "42")]
    pub at_least: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CheckAnswer {
    pub allowed: bool,
    pub action: Action,
    /// The path that decided: direct (primary/secondary/role), practice_wide, manager_of, assistant_of, permission.
    #[schema(value_type = Option<Object>)]
    pub path: Option<hearth_domain::access::AccessPath>,
    #[schema(value_type = Option<String>)]
    pub deny_reason: Option<hearth_domain::access::DenyReason>,
    pub at: DateTime<Utc>,
}

/// The caller may ask about a household they can view, or about themselves.
pub(crate) async fn may_ask(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
    household: HouseholdId,
    about: Option<StaffId>,
) -> ApiResult<StaffId> {
    if let Some(me) =
        authz::may_ask_at_once(&state.projection.read(), caller, practice, household, about)
    {
        return Ok(me);
    }
    // Slow path: catches up with the log before "not found" and words each refusal.
    let me = staff_of(state, caller, practice).await?;
    if about != Some(me) {
        authz::household(state, practice, me, household, Action::View).await?;
    } else if state
        .projection
        .read()
        .household_in(practice, household)
        .is_err()
    {
        crate::consistency::catch_up(state).await?;
        state.projection.read().household_in(practice, household)?;
    }
    Ok(me)
}

/// May staff S do this to household H — now, or as of `at`? With the path that decided.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/households/{household_id}/access/{staff_id}", params(CheckParams), responses((status = 200, body = CheckAnswer), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn check(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h, s)): Path<(Uuid, Uuid, Uuid)>,
    Query(q): Query<CheckParams>,
) -> ApiResult<axum::Json<CheckAnswer>> {
    wait_for_position(&state, q.at_least.as_deref()).await?;
    let (practice, household, staff) = (PracticeId(p), HouseholdId(h), StaffId(s));
    let (action, at) = (
        q.action.unwrap_or(Action::View),
        q.at.unwrap_or_else(Utc::now),
    );
    // The common case answers under one read of the model.
    {
        let model = state.projection.read();
        if authz::may_ask_at_once(&model, caller, practice, household, Some(staff)).is_some() {
            let decision = model.check(practice, staff, household, action, at)?;
            return Ok(axum::Json(CheckAnswer {
                allowed: decision.allowed,
                action,
                path: decision.path,
                deny_reason: decision.deny_reason,
                at,
            }));
        }
    }
    may_ask(&state, caller, practice, household, Some(staff)).await?;
    let decision = state
        .projection
        .read()
        .check(practice, staff, household, action, at)?;
    Ok(axum::Json(CheckAnswer {
        allowed: decision.allowed,
        action,
        path: decision.path,
        deny_reason: decision.deny_reason,
        at,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Explanation {
    pub staff_id: Uuid,
    pub at: DateTime<Utc>,
    pub answers: Vec<CheckAnswer>,
}

/// Every action for one staff member on one household, each with its deciding path.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/households/{household_id}/explain/{staff_id}", params(ReadParams), responses((status = 200, body = Explanation)), security(("bearer" = [])))]
async fn explain(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h, s)): Path<(Uuid, Uuid, Uuid)>,
    Query(q): Query<ReadParams>,
) -> ApiResult<axum::Json<Explanation>> {
    wait_for_position(&state, q.at_least.as_deref()).await?;
    let (practice, household, staff) = (PracticeId(p), HouseholdId(h), StaffId(s));
    may_ask(&state, caller, practice, household, Some(staff)).await?;
    let at = q.at.unwrap_or_else(Utc::now);
    let model = state.projection.read();
    let mut answers = Vec::new();
    for action in Action::iter() {
        let d = model.check(practice, staff, household, action, at)?;
        answers.push(CheckAnswer {
            allowed: d.allowed,
            action,
            path: d.path,
            deny_reason: d.deny_reason,
            at,
        });
    }
    Ok(axum::Json(Explanation {
        staff_id: s,
        at,
        answers,
    }))
}

/// Who can access household H (now or as of `at`), with path and allowed actions.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/households/{household_id}/staff", params(ReadParams), responses((status = 200, body = Object)), security(("bearer" = [])))]
async fn staff_with_access(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Query(q): Query<ReadParams>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    wait_for_position(&state, q.at_least.as_deref()).await?;
    let (practice, household) = (PracticeId(p), HouseholdId(h));
    may_ask(&state, caller, practice, household, None).await?;
    let at = q.at.unwrap_or_else(Utc::now);
    let list = state
        .projection
        .read()
        .staff_with_access(practice, household, at)?;
    Ok(axum::Json(
        serde_json::json!({ "household_id": h, "at": at, "staff": list }),
    ))
}

/// Which households staff S can access (now or as of `at`). Ask about yourself, or hold
/// "manage household access".
#[utoipa::path(get, path = "/v1/practices/{practice_id}/staff/{staff_id}/households", params(ReadParams), responses((status = 200, body = Object)), security(("bearer" = [])))]
async fn households_of_staff(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, s)): Path<(Uuid, Uuid)>,
    Query(q): Query<ReadParams>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    wait_for_position(&state, q.at_least.as_deref()).await?;
    let at = q.at.unwrap_or_else(Utc::now);
    let list = households_of(&state, caller, PracticeId(p), StaffId(s), at).await?;
    Ok(axum::Json(
        serde_json::json!({ "staff_id": s, "at": at, "households": list }),
    ))
}

/// The households `staff` can access at `at`: the caller asks about themselves, or holds "manage
/// household access" (the API and the console).
pub(crate) async fn households_of(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
    staff: StaffId,
    at: DateTime<Utc>,
) -> ApiResult<Vec<hearth_projections::HouseholdAccess>> {
    let me = staff_of(state, caller, practice).await?;
    if me != staff {
        authz::require_permission(
            state,
            practice,
            me,
            hearth_domain::permissions::Permission::ManageHouseholdAccess,
        )?;
    }
    Ok(state
        .projection
        .read()
        .households_for_staff(practice, staff, at)?)
}

/// The access intervals of household H: staff, holding, from, to, granted by, revoked by, reason.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/households/{household_id}/history", params(ReadParams), responses((status = 200, body = Object)), security(("bearer" = [])))]
async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Query(q): Query<ReadParams>,
) -> ApiResult<axum::Json<hearth_projections::History>> {
    wait_for_position(&state, q.at_least.as_deref()).await?;
    let (practice, household) = (PracticeId(p), HouseholdId(h));
    may_ask(&state, caller, practice, household, None).await?;
    Ok(axum::Json(
        state.projection.read().history(practice, household)?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DetailsParams {
    /// A position a command answered: the read waits until the read model has applied it.
    #[param(example = "42")]
    pub at_least: Option<String>,
}

/// The household: members and their fields, primary, secondary, grants, status, branch, policies.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/households/{household_id}", params(DetailsParams), responses((status = 200, body = Object)), security(("bearer" = [])))]
pub(crate) async fn household_details(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Query(q): Query<DetailsParams>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    wait_for_position(&state, q.at_least.as_deref()).await?;
    let (practice, household) = (PracticeId(p), HouseholdId(h));
    may_ask(&state, caller, practice, household, None).await?;
    let model = state.projection.read();
    let view = model.household_in(practice, household)?;
    let s = &view.state;
    Ok(axum::Json(serde_json::json!({
        "id": h,
        "name": s.name,
        "members": s.members,
        "primary": s.primary,
        "secondary": s.secondary,
        "grants": s.grants,
        "status": s.status,
        "archived": s.archived,
        "archived_at": s.archived_at,
        "erased_at": s.erased_at,
        "branch": s.branch,
        "policies": s.policies,
        "xplan_skipped": s.xplan_skipped,
    })))
}
