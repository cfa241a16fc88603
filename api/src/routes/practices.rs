//! Practices and staff (PRODUCT.md §1): the operator creates practices; staff with the right
//! permissions run the rest. The domain re-checks every permission.

use axum::extract::State;
use chrono::Utc;
use hearth_domain::{
    permissions::Permission,
    practice::{NewStaff, PracticeCommand},
    roles::PracticeRole,
    Actor, BranchId, CommandContext, PracticeId, StaffId,
};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{accepted, created, ctx, Accepted};
use crate::{
    auth::Caller,
    authz::staff_of,
    extract::{Json, Path},
    problem::{ApiResult, Problem},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_practice))
        .routes(routes!(invite_staff))
        .routes(routes!(activate_staff))
        .routes(routes!(deactivate_staff))
        .routes(routes!(change_role))
        .routes(routes!(set_permission))
        .routes(routes!(purchase_licences))
        .routes(routes!(create_branch))
        .routes(routes!(assign_assistant))
        .routes(routes!(unassign_assistant))
        .routes(routes!(assign_manager))
        .routes(routes!(unassign_manager))
        .routes(routes!(transfer_ownership))
        .routes(routes!(reassign_households))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub name: String,
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePractice {
    pub name: String,
    pub owner: Person,
    /// Licences bought with the practice (the owner occupies one).
    #[schema(minimum = 1, maximum = 100000)]
    #[serde(deserialize_with = "hearth_domain::whole_number")]
    pub licences: u32,
}

/// Create a practice (platform operator only). Answers the practice id; the owner's staff id is
/// `owner_staff_id`.
#[utoipa::path(post, path = "/v1/practices", request_body = CreatePractice, responses((status = 201, body = Accepted), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn create_practice(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreatePractice>,
) -> ApiResult<(axum::http::StatusCode, axum::Json<serde_json::Value>)> {
    if caller != Caller::Operator {
        return Err(Problem::forbidden(
            "operator_only",
            "only the platform operator can create practices",
        ));
    }
    let (practice_id, owner) = (PracticeId::new(), StaffId::new());
    let cmd = PracticeCommand::CreatePractice {
        practice_id,
        name: body.name,
        owner: NewStaff {
            staff_id: owner,
            name: body.owner.name,
            email: body.owner.email,
        },
        licences: body.licences,
    };
    let done = state
        .exec
        .practice(
            practice_id,
            cmd,
            &CommandContext::new(Actor::Operator, Utc::now()),
        )
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(
            serde_json::json!({ "id": practice_id, "owner_staff_id": owner, "position": done.position.map(|p| p.to_string()) }),
        ),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteStaff {
    pub name: String,
    pub email: String,
    /// owner is not allowed here: use ownership transfer.
    pub role: PracticeRole,
    #[serde(default)]
    pub branch_id: Option<Uuid>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/practices/{practice_id}/staff", request_body = InviteStaff, responses((status = 201, body = Accepted), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn invite_staff(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<Uuid>,
    Json(body): Json<InviteStaff>,
) -> ApiResult<(axum::http::StatusCode, axum::Json<Accepted>)> {
    let practice = PracticeId(practice);
    let me = staff_of(&state, caller, practice).await?;
    let staff_id = StaffId::new();
    let cmd = PracticeCommand::InviteStaff {
        staff: NewStaff {
            staff_id,
            name: body.name,
            email: body.email,
        },
        role: body.role,
        branch: body.branch_id.map(BranchId),
    };
    let done = state
        .exec
        .practice(practice, cmd, &ctx(me, body.reason))
        .await?;
    Ok(created(done, staff_id.0))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    #[serde(default)]
    pub reason: Option<String>,
}

async fn practice_command(
    state: &AppState,
    caller: Caller,
    practice: Uuid,
    cmd: PracticeCommand,
    reason: Option<String>,
) -> ApiResult<axum::Json<Accepted>> {
    let practice = PracticeId(practice);
    let me = staff_of(state, caller, practice).await?;
    let done = state.exec.practice(practice, cmd, &ctx(me, reason)).await?;
    Ok(accepted(done, None))
}

/// Optional JSON body: commands without parameters may be sent with no body at all.
pub(crate) fn reason_of(body: &[u8]) -> Result<Option<String>, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice::<Reason>(body)
        .map(|r| r.reason)
        .map_err(|e| Problem::bad_request("malformed_json", e.to_string()))
}

#[utoipa::path(post, path = "/v1/practices/{practice_id}/staff/{staff_id}/activate", responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn activate_staff(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, staff)): Path<(Uuid, Uuid)>,
) -> ApiResult<axum::Json<Accepted>> {
    // The invitee activates their own account, so they are not yet "active staff".
    let (token_practice, me) = match caller {
        Caller::Staff { practice, staff } => (practice, StaffId(staff)),
        Caller::Operator => {
            return Err(Problem::forbidden(
                "staff_only",
                "staff accept their own invitations",
            ))
        }
    };
    if token_practice != practice {
        return Err(Problem::not_found("the practice"));
    }
    let done = state
        .exec
        .practice(
            PracticeId(practice),
            PracticeCommand::ActivateStaff {
                staff_id: StaffId(staff),
            },
            &ctx(me, None),
        )
        .await?;
    Ok(accepted(done, None))
}

#[utoipa::path(post, path = "/v1/practices/{practice_id}/staff/{staff_id}/deactivate", request_body(content = Reason, description = "optional"), responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn deactivate_staff(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, staff)): Path<(Uuid, Uuid)>,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<Accepted>> {
    let reason = reason_of(&body)?;
    practice_command(
        &state,
        caller,
        practice,
        PracticeCommand::DeactivateStaff {
            staff_id: StaffId(staff),
        },
        reason,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    pub role: PracticeRole,
    #[serde(default)]
    pub reason: Option<String>,
}

#[utoipa::path(put, path = "/v1/practices/{practice_id}/staff/{staff_id}/role", request_body = ChangeRole, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn change_role(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, staff)): Path<(Uuid, Uuid)>,
    Json(body): Json<ChangeRole>,
) -> ApiResult<axum::Json<Accepted>> {
    practice_command(
        &state,
        caller,
        practice,
        PracticeCommand::ChangePracticeRole {
            staff_id: StaffId(staff),
            role: body.role,
        },
        body.reason,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPermission {
    pub granted: bool,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Grant or withdraw one permission of a staff member (billing ones are the owner's alone).
#[utoipa::path(put, path = "/v1/practices/{practice_id}/staff/{staff_id}/permissions/{permission}", params(("practice_id" = Uuid, Path), ("staff_id" = Uuid, Path), ("permission" = Permission, Path)), request_body = SetPermission, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn set_permission(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, staff, permission)): Path<(Uuid, Uuid, Permission)>,
    Json(body): Json<SetPermission>,
) -> ApiResult<axum::Json<Accepted>> {
    practice_command(
        &state,
        caller,
        practice,
        PracticeCommand::SetPermission {
            staff_id: StaffId(staff),
            permission,
            granted: body.granted,
        },
        body.reason,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseLicences {
    #[schema(minimum = 1, maximum = 100000)]
    #[serde(deserialize_with = "hearth_domain::whole_number")]
    pub count: u32,
}

#[utoipa::path(post, path = "/v1/practices/{practice_id}/licences", request_body = PurchaseLicences, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn purchase_licences(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<Uuid>,
    Json(body): Json<PurchaseLicences>,
) -> ApiResult<axum::Json<Accepted>> {
    practice_command(
        &state,
        caller,
        practice,
        PracticeCommand::PurchaseLicences { count: body.count },
        None,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBranch {
    pub name: String,
}

#[utoipa::path(post, path = "/v1/practices/{practice_id}/branches", request_body = CreateBranch, responses((status = 201, body = Accepted)), security(("bearer" = [])))]
async fn create_branch(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<Uuid>,
    Json(body): Json<CreateBranch>,
) -> ApiResult<(axum::http::StatusCode, axum::Json<Accepted>)> {
    let practice = PracticeId(practice);
    let me = staff_of(&state, caller, practice).await?;
    let branch_id = BranchId::new();
    let done = state
        .exec
        .practice(
            practice,
            PracticeCommand::CreateBranch {
                branch_id,
                name: body.name,
            },
            &ctx(me, None),
        )
        .await?;
    Ok(created(done, branch_id.0))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignAssistant {
    pub support_id: Uuid,
    pub professional_id: Uuid,
}

#[utoipa::path(post, path = "/v1/practices/{practice_id}/assistants", request_body = AssignAssistant, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn assign_assistant(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<Uuid>,
    Json(b): Json<AssignAssistant>,
) -> ApiResult<axum::Json<Accepted>> {
    practice_command(
        &state,
        caller,
        practice,
        PracticeCommand::AssignSupportToProfessional {
            support: StaffId(b.support_id),
            professional: StaffId(b.professional_id),
        },
        None,
    )
    .await
}

#[utoipa::path(delete, path = "/v1/practices/{practice_id}/assistants/{support_id}/{professional_id}", responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn unassign_assistant(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, support, professional)): Path<(Uuid, Uuid, Uuid)>,
) -> ApiResult<axum::Json<Accepted>> {
    practice_command(
        &state,
        caller,
        practice,
        PracticeCommand::UnassignSupportFromProfessional {
            support: StaffId(support),
            professional: StaffId(professional),
        },
        None,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignManager {
    pub manager_id: Uuid,
    pub professional_id: Uuid,
}

#[utoipa::path(post, path = "/v1/practices/{practice_id}/managers", request_body = AssignManager, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn assign_manager(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<Uuid>,
    Json(b): Json<AssignManager>,
) -> ApiResult<axum::Json<Accepted>> {
    practice_command(
        &state,
        caller,
        practice,
        PracticeCommand::AssignManagerToProfessional {
            manager: StaffId(b.manager_id),
            professional: StaffId(b.professional_id),
        },
        None,
    )
    .await
}

#[utoipa::path(delete, path = "/v1/practices/{practice_id}/managers/{manager_id}/{professional_id}", responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn unassign_manager(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, manager, professional)): Path<(Uuid, Uuid, Uuid)>,
) -> ApiResult<axum::Json<Accepted>> {
    practice_command(
        &state,
        caller,
        practice,
        PracticeCommand::UnassignManagerFromProfessional {
            manager: StaffId(manager),
            professional: StaffId(professional),
        },
        None,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferOwnership {
    pub to: Uuid,
}

#[utoipa::path(post, path = "/v1/practices/{practice_id}/ownership", request_body = TransferOwnership, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn transfer_ownership(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<Uuid>,
    Json(b): Json<TransferOwnership>,
) -> ApiResult<axum::Json<Accepted>> {
    practice_command(
        &state,
        caller,
        practice,
        PracticeCommand::TransferOwnership { to: StaffId(b.to) },
        None,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reassign {
    pub from: Uuid,
    pub to: Uuid,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Hands every household the departing professional leads (primary or secondary) to another.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/reassignments", request_body = Reassign, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn reassign_households(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<Uuid>,
    Json(b): Json<Reassign>,
) -> ApiResult<axum::Json<Accepted>> {
    let practice = PracticeId(practice);
    let me = staff_of(&state, caller, practice).await?;
    let done = state
        .exec
        .reassign_households(practice, StaffId(b.from), StaffId(b.to), &ctx(me, b.reason))
        .await?;
    Ok(accepted(done, None))
}
