//! For auditors: roster (JSON and CSV) and the log's integrity.

use axum::{extract::State, http::header, response::IntoResponse, routing::get, Router};
use hearth_domain::{permissions::Permission, BranchId, PracticeId};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::{
    auth::Caller,
    authz::{require_permission, staff_of},
    consistency::wait_for_position,
    extract::{Path, Query},
    problem::{ApiResult, Problem},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/practices/{practice_id}/roster", get(roster))
        .route("/v1/practices/{practice_id}/roster.csv", get(roster_csv))
        .route("/v1/practices/{practice_id}/log/verify", get(verify))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RosterParams {
    pub branch_id: Option<Uuid>,
    pub at_least: Option<String>,
}

async fn load(
    state: &AppState,
    caller: Caller,
    p: Uuid,
    q: &RosterParams,
) -> ApiResult<hearth_projections::Roster> {
    wait_for_position(state, q.at_least.as_deref()).await?;
    let practice = PracticeId(p);
    let me = staff_of(state, caller, practice).await?;
    require_permission(state, practice, me, Permission::ExportRoster)?;
    Ok(state
        .projection
        .read()
        .roster(practice, q.branch_id.map(BranchId))?)
}

/// The practice's (or a branch's) staff and households. Needs "export roster".
#[utoipa::path(get, path = "/v1/practices/{practice_id}/roster", params(RosterParams), responses((status = 200, body = Object), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn roster(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
    Query(q): Query<RosterParams>,
) -> ApiResult<axum::Json<hearth_projections::Roster>> {
    Ok(axum::Json(load(&state, caller, p, &q).await?))
}

/// The household roster as CSV (Luminello's "Export Roster"). Needs "export roster".
#[utoipa::path(get, path = "/v1/practices/{practice_id}/roster.csv", params(RosterParams), responses((status = 200, content_type = "text/csv", body = String)), security(("bearer" = [])))]
async fn roster_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
    Query(q): Query<RosterParams>,
) -> ApiResult<impl IntoResponse> {
    let roster = load(&state, caller, p, &q).await?;
    let names: std::collections::HashMap<_, _> = roster
        .staff
        .iter()
        .map(|s| (s.staff_id, s.name.clone()))
        .collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    let opt = |v: Option<String>| v.unwrap_or_default();
    let write = |out: &mut csv::Writer<Vec<u8>>, row: &[String]| {
        out.write_record(row).map_err(|e| Problem::internal(&e))
    };
    write(
        &mut out,
        &[
            "household_id",
            "name",
            "status",
            "archived",
            "branch_id",
            "primary_id",
            "primary_name",
            "secondary_id",
            "secondary_name",
        ]
        .map(String::from),
    )?;
    for h in &roster.households {
        let status = serde_json::to_value(h.status)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        write(
            &mut out,
            &[
                h.household_id.to_string(),
                h.name.clone(),
                status,
                h.archived.to_string(),
                opt(h.branch.map(|b| b.to_string())),
                opt(h.primary.map(|s| s.to_string())),
                opt(h.primary.and_then(|s| names.get(&s).cloned())),
                opt(h.secondary.map(|s| s.to_string())),
                opt(h.secondary.and_then(|s| names.get(&s).cloned())),
            ],
        )?;
    }
    let body = out.into_inner().map_err(|e| Problem::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"roster.csv\"",
            ),
        ],
        body,
    ))
}

/// Walks the whole log: every event's hash, every stream's chain, every seal. Needs "manage
/// household access".
#[utoipa::path(get, path = "/v1/practices/{practice_id}/log/verify", responses((status = 200, body = Object)), security(("bearer" = [])))]
async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let report = integrity(&state, caller, PracticeId(p)).await?;
    Ok(axum::Json(serde_json::json!({
        "intact": report.is_intact(),
        "events_checked": report.events_checked,
        "streams_checked": report.streams_checked,
        "seals_checked": report.seals_checked,
        "problem": report.problem.as_ref().map(|p| p.to_string()),
        "problem_detail": report.problem,
    })))
}

/// The log's integrity, for whoever may manage household access (the API and the console).
pub(crate) async fn integrity(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
) -> ApiResult<hearth_eventstore::VerifyReport> {
    let me = staff_of(state, caller, practice).await?;
    require_permission(state, practice, me, Permission::ManageHouseholdAccess)?;
    Ok(state.store.verify().await?)
}
