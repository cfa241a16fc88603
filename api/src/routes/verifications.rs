//! A practice's log audit as a job: the same audit as `GET …/log/verify`, whose cost grows with
//! the practice's history, started with 202 and followed at a status URL any instance answers
//! (the run's record is kept beside the log).

use axum::{extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use hearth_domain::{permissions::Permission, PracticeId};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::Caller,
    authz::{require_permission, staff_of},
    extract::Path,
    problem::{ApiResult, Problem},
    state::AppState,
};

/// A run with no outcome after this long was cut off (the instance stopped mid-run).
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::minutes(30);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(status))
}

/// A started verification: where to follow it.
#[derive(Serialize, ToSchema)]
pub struct VerificationJob {
    pub id: Uuid,
    /// `GET` it for the run's status and, once it has ended, its outcome.
    pub status_url: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    Running,
    Finished,
    /// No outcome was recorded: the instance running it stopped. Start another.
    Abandoned,
}

#[derive(Serialize, ToSchema)]
pub struct Verification {
    pub id: Uuid,
    pub status: VerificationStatus,
    pub requested_by: Uuid,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// As `GET …/log/verify` answers: `intact`, `events_checked`, `pending_events`, `problem`.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

async fn authorised(state: &AppState, caller: Caller, practice: PracticeId) -> ApiResult<Uuid> {
    let me = staff_of(state, caller, practice).await?;
    require_permission(state, practice, me, Permission::ManageHouseholdAccess)?;
    Ok(me.0)
}

/// Start an audit of the practice's own history (as `GET …/log/verify`, off the request path).
/// Needs "manage household access".
#[utoipa::path(post, path = "/v1/practices/{practice_id}/log/verifications", responses((status = 202, body = VerificationJob)), security(("bearer" = [])))]
async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
) -> ApiResult<impl axum::response::IntoResponse> {
    let practice = PracticeId(p);
    let me = authorised(&state, caller, practice).await?;
    let id = Uuid::now_v7();
    state
        .store
        .start_verification(id, p, me, Utc::now())
        .await?;
    let job_state = state.clone();
    state
        .xplan
        .jobs()
        .spawn(async move { run(job_state, practice, id).await })
        .await;
    let status_url = format!("/v1/practices/{p}/log/verifications/{id}");
    Ok((
        StatusCode::ACCEPTED,
        [(axum::http::header::LOCATION, status_url.clone())],
        axum::Json(VerificationJob { id, status_url }),
    ))
}

async fn run(state: AppState, practice: PracticeId, id: Uuid) {
    // A run that could not audit (the database went away) says so instead of an outcome.
    let value = match super::audit::audit_practice(&state, practice).await {
        Ok(integrity) => serde_json::to_value(&integrity)
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() })),
        Err(problem) => serde_json::json!({ "error": problem.detail }),
    };
    if let Err(error) = state
        .store
        .finish_verification(id, Utc::now(), &value)
        .await
    {
        tracing::error!(%error, verification = %id, "a verification job could not record its outcome");
    }
}

/// A verification job's status and, once it has ended, its outcome.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/log/verifications/{verification_id}", responses((status = 200, body = Verification)), security(("bearer" = [])))]
async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, verification_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<axum::Json<Verification>> {
    authorised(&state, caller, PracticeId(p)).await?;
    let run = state
        .store
        .verification(p, verification_id)
        .await?
        .ok_or_else(|| Problem::not_found("the verification"))?;
    let status = match run.finished_at {
        Some(_) => VerificationStatus::Finished,
        None if Utc::now() - run.started_at > ABANDONED_AFTER => VerificationStatus::Abandoned,
        None => VerificationStatus::Running,
    };
    Ok(axum::Json(Verification {
        id: run.id,
        status,
        requested_by: run.requested_by,
        started_at: run.started_at,
        finished_at: run.finished_at,
        result: run.result,
    }))
}
