//! Changing the practice's details and moving staff between branches; the domain checks the
//! owner's and the "assign branches" rights.

use axum::extract::State;
use hearth_application::Executed;
use hearth_domain::{practice::PracticeCommand, BranchId, PracticeId, StaffId};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{accepted, ctx, Accepted};
use crate::{
    auth::Caller,
    authz::staff_of,
    extract::{Json, Path},
    problem::{ApiResult, Problem},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_practice))
        .routes(routes!(move_staff))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePractice {
    /// The practice's name.
    pub name: Option<String>,
}

/// Change the practice's details (owner only). Fields left out stay as they are.
#[utoipa::path(patch, path = "/v1/practices/{practice_id}", request_body = UpdatePractice, responses((status = 200, body = Accepted), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn update_practice(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
    Json(body): Json<UpdatePractice>,
) -> ApiResult<axum::Json<Accepted>> {
    let done = update(&state, caller, PracticeId(p), body).await?;
    Ok(accepted(done, None))
}

/// Applies the practice's new details (the API and the console).
pub(crate) async fn update(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
    body: UpdatePractice,
) -> ApiResult<Executed> {
    let me = staff_of(state, caller, practice).await?;
    let Some(name) = body.name else {
        return Ok(Executed {
            position: None,
            cursor: None,
            events: 0,
        });
    };
    Ok(state
        .exec
        .practice(
            practice,
            PracticeCommand::RenamePractice { name },
            &ctx(me, None),
        )
        .await?)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveStaff {
    /// `null` takes the staff member out of any branch.
    pub branch_id: Option<Uuid>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Move an existing staff member (e.g. a clinician) to another branch. Needs "assign branches".
#[utoipa::path(put, path = "/v1/practices/{practice_id}/staff/{staff_id}/branch", request_body = MoveStaff, responses((status = 200, body = Accepted), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn move_staff(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, s)): Path<(Uuid, Uuid)>,
    Json(body): Json<MoveStaff>,
) -> ApiResult<axum::Json<Accepted>> {
    let done = move_to_branch(&state, caller, PracticeId(p), StaffId(s), body).await?;
    Ok(accepted(done, None))
}

/// Moves a staff member to a branch (the API and the console).
pub(crate) async fn move_to_branch(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
    staff: StaffId,
    body: MoveStaff,
) -> ApiResult<Executed> {
    let me = staff_of(state, caller, practice).await?;
    let cmd = PracticeCommand::MoveStaffToBranch {
        staff_id: staff,
        branch: body.branch_id.map(BranchId),
    };
    Ok(state
        .exec
        .practice(practice, cmd, &ctx(me, body.reason))
        .await?)
}
