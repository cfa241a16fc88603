//! For auditors: roster (JSON and CSV) and the log's integrity.

use axum::{extract::State, http::header, response::IntoResponse};
use hearth_domain::{permissions::Permission, BranchId, PracticeId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::Caller,
    authz::{require_permission, staff_of},
    consistency::wait_for_position,
    extract::{Path, Query},
    problem::{ApiResult, Problem},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(roster))
        .routes(routes!(roster_csv))
        .routes(routes!(verify))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RosterParams {
    pub branch_id: Option<Uuid>,
    /// A position a command answered: the read waits until the read model has applied it.
    #[param(example = "42")]
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
    let mut out = crate::csv_out::CsvOut::default();
    let opt = |v: Option<String>| v.unwrap_or_default();
    let write = |out: &mut crate::csv_out::CsvOut, row: &[String]| {
        out.row(row).map_err(|e| Problem::internal(&e))
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
    let body = out.into_bytes().map_err(|e| Problem::internal(&e))?;
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

/// Audits the practice's own history: its events' hashes, chains, append signatures and
/// inclusion in a checkpoint signed now, exactly as the offline auditor would. Nothing about
/// other practices is walked or reported. Needs "manage household access". Its cost grows with
/// the practice's events (about 3.5 s at 100,000): a large practice starts a verification job
/// instead (`POST …/log/verifications`).
#[utoipa::path(get, path = "/v1/practices/{practice_id}/log/verify", responses((status = 200, body = Object)), security(("bearer" = [])))]
async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
) -> ApiResult<axum::Json<Integrity>> {
    Ok(axum::Json(integrity(&state, caller, PracticeId(p)).await?))
}

/// The log's integrity, for whoever may manage household access (the API and the console).
/// The practice's own history audited as the offline auditor would (shared by the API and the
/// console): nothing about other practices is walked or reported.
#[derive(serde::Serialize)]
pub(crate) struct Integrity {
    pub intact: bool,
    pub events_checked: u64,
    /// Events appended since the newest checkpoint (proven by their signatures and chains).
    pub pending_events: u64,
    pub problem: Option<String>,
    pub problem_detail: Option<serde_json::Value>,
}

pub(crate) async fn integrity(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
) -> ApiResult<Integrity> {
    let me = staff_of(state, caller, practice).await?;
    require_permission(state, practice, me, Permission::ManageHouseholdAccess)?;
    audit_practice(state, practice).await
}

/// The audit itself, for a caller already authorised (the route above, or a verification job).
pub(crate) async fn audit_practice(state: &AppState, practice: PracticeId) -> ApiResult<Integrity> {
    let signer = super::log::signer(state)?;
    let request = hearth_eventstore::ExportRequest {
        practice: practice.0,
        ..Default::default()
    };
    let bundle = state
        .store
        .export_practice(&signer, &request, chrono::Utc::now())
        .await?;
    let outcome = hearth_eventstore::audit::audit_bundle(&bundle, signer.public_key(), None);
    Ok(match outcome {
        Ok(report) => Integrity {
            intact: true,
            events_checked: report.events_checked,
            pending_events: report.pending_events,
            problem: None,
            problem_detail: None,
        },
        Err(problem) => Integrity {
            intact: false,
            events_checked: (bundle.leaves.len() + bundle.pending.len()) as u64,
            pending_events: bundle.pending.len() as u64,
            problem: Some(problem.to_string()),
            problem_detail: serde_json::to_value(&problem).ok(),
        },
    })
}
