//! The practice's directories and details: household search, the staff list, and the practice
//! itself. Each handler is a thin wrapper over a function the console calls too, so a page and
//! its JSON answer go through the same authorisation and the same read-model query.

use axum::extract::State;
use chrono::{DateTime, Utc};
use hearth_domain::{
    household::HouseholdStatus, permissions::Permission, BranchId, HouseholdId, PracticeId, StaffId,
};
use hearth_projections::{HouseholdFilter, HouseholdPage, StaffEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::Caller,
    authz::staff_of,
    consistency::wait_for_position,
    extract::{Path, Query},
    problem::{ApiResult, Problem},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_households))
        .routes(routes!(list_staff))
        .routes(routes!(practice_details))
}

/// Default page size of the household search.
pub const DEFAULT_PAGE_SIZE: usize = 25;

#[derive(Deserialize, IntoParams, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Name, email or XPLAN client id (names and emails match in part, ignoring case).
    pub q: Option<String>,
    /// Only households with this primary professional.
    pub primary_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    /// prospect, active, inactive or former.
    #[param(inline)]
    pub status: Option<HouseholdStatus>,
    /// Include archived households (default false).
    pub archived: Option<bool>,
    /// Households per page: default 25, 1 to 100.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
    pub at_least: Option<String>,
}

/// The households the caller may view, searched and filtered (the engine of the console's search).
pub(crate) async fn search(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
    q: &SearchParams,
) -> ApiResult<HouseholdPage> {
    wait_for_position(state, q.at_least.as_deref()).await?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=hearth_projections::MAX_PAGE_SIZE).contains(&limit) {
        return Err(Problem::bad_request(
            "invalid_limit",
            format!("limit must be 1 to {}", hearth_projections::MAX_PAGE_SIZE),
        ));
    }
    let me = staff_of(state, caller, practice).await?;
    let filter = HouseholdFilter {
        text: q.q.clone(),
        primary: q.primary_id.map(StaffId),
        branch: q.branch_id.map(BranchId),
        status: q.status,
        include_archived: q.archived.unwrap_or(false),
    };
    Ok(state.projection.read().search_households(
        practice,
        me,
        &filter,
        q.cursor.map(HouseholdId),
        limit,
        Utc::now(),
    )?)
}

/// Search the practice's households by name, email or XPLAN id; filter by primary professional,
/// branch and status. Only households the caller may view are listed (others are not counted
/// either). Cursor-paged in name order: at most 100 per page.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/households", params(SearchParams), responses((status = 200, body = Object), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn search_households(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
    Query(q): Query<SearchParams>,
) -> ApiResult<axum::Json<HouseholdPage>> {
    Ok(axum::Json(search(&state, caller, PracticeId(p), &q).await?))
}

/// The practice's staff with role, status, branch and effective permissions; any active member
/// of the practice may read it (it is who they can hand a household to).
pub(crate) async fn staff(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
) -> ApiResult<Vec<StaffEntry>> {
    staff_of(state, caller, practice).await?;
    Ok(state.projection.read().staff_list(practice, Utc::now())?)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Consistent {
    /// A position returned by a command: answer only once its effect is visible.
    pub at_least: Option<String>,
}

/// The practice's staff: role, status, branch and effective permissions.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/staff", params(Consistent), responses((status = 200, body = Object), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_staff(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
    Query(q): Query<Consistent>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    wait_for_position(&state, q.at_least.as_deref()).await?;
    let list = staff(&state, caller, PracticeId(p)).await?;
    Ok(axum::Json(serde_json::json!({ "staff": list })))
}

#[derive(Serialize, ToSchema)]
pub struct Branch {
    pub id: Uuid,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct Licences {
    pub held: u32,
    pub used: u32,
}

#[derive(Serialize, ToSchema)]
pub struct PracticeDetails {
    pub id: Uuid,
    pub name: String,
    pub created_at: Option<DateTime<Utc>>,
    pub owner_id: Option<Uuid>,
    pub branches: Vec<Branch>,
    pub households: usize,
    /// Billing: shown only to those who may view billing (the owner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licences: Option<Licences>,
}

pub(crate) async fn details(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
) -> ApiResult<PracticeDetails> {
    let me = staff_of(state, caller, practice).await?;
    let model = state.projection.read();
    let p = model.practice(practice)?;
    let billing = p
        .staff
        .get(&me)
        .is_some_and(|s| s.has_permission_at(Permission::ViewBilling, Utc::now()));
    Ok(PracticeDetails {
        id: practice.0,
        name: p.name.clone(),
        created_at: p.created_at,
        owner_id: p.state.owner.map(|o| o.0),
        branches: p
            .branches
            .iter()
            .map(|(id, name)| Branch {
                id: id.0,
                name: name.clone(),
            })
            .collect(),
        households: p.households.len(),
        licences: billing.then(|| Licences {
            held: p.state.licences_held,
            used: p.state.licences_used(),
        }),
    })
}

/// The practice: name, owner, branches, household count and (for the owner) licences.
#[utoipa::path(get, path = "/v1/practices/{practice_id}", params(Consistent), responses((status = 200, body = PracticeDetails), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn practice_details(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
    Query(q): Query<Consistent>,
) -> ApiResult<axum::Json<PracticeDetails>> {
    wait_for_position(&state, q.at_least.as_deref()).await?;
    Ok(axum::Json(details(&state, caller, PracticeId(p)).await?))
}
