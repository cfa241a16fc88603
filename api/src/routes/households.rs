//! Households and their access (PRODUCT.md §2). Access changes need "manage household access";
//! the read model authorises first (another practice's household is "not found"), the domain
//! decides.

use std::collections::BTreeMap;
use utoipa_axum::{router::OpenApiRouter, routes};

use axum::extract::State;
use hearth_domain::{
    household::{ClientField, HouseholdCommand, HouseholdStatus, NewMember, DEFAULT_PREVIOUS_ROLE},
    roles::{Action, HouseholdRole},
    BranchId, HouseholdId, MemberId, PracticeId, StaffId,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{accepted, created, ctx, Accepted};
use crate::{
    auth::Caller,
    authz::{self, staff_of},
    extract::{Json, Path},
    problem::{ApiResult, Problem},
    reason::Reason,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_household))
        .routes(routes!(assign_primary))
        .routes(routes!(set_secondary, clear_secondary))
        .routes(routes!(grant))
        .routes(routes!(change_grant, revoke))
        .routes(routes!(archive))
        .routes(routes!(restore))
        .routes(routes!(change_status))
        .routes(routes!(assign_branch))
        .routes(routes!(edit_member))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHousehold {
    pub client: Client,
    #[serde(default)]
    pub partner: Option<Client>,
    #[serde(default)]
    pub branch_id: Option<Uuid>,
    #[serde(default)]
    pub status: Option<HouseholdStatus>,
}

fn member(c: Client) -> NewMember {
    NewMember {
        member_id: MemberId::new(),
        first_name: c.first_name,
        last_name: c.last_name,
        email: c.email,
        title: c.title,
    }
}

/// Create a household. The creating professional becomes primary; when support staff create it,
/// the practice's first professional does.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/households", request_body = CreateHousehold, responses((status = 201, body = Accepted), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn create_household(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<Uuid>,
    Json(body): Json<CreateHousehold>,
) -> ApiResult<(axum::http::StatusCode, axum::Json<Accepted>)> {
    let practice = PracticeId(practice);
    let me = staff_of(&state, caller, practice).await?;
    let id = HouseholdId::new();
    let cmd = HouseholdCommand::CreateHousehold {
        client: member(body.client),
        partner: body.partner.map(member),
        branch: body.branch_id.map(BranchId),
        status: body.status,
    };
    let done = state
        .exec
        .household(practice, id, cmd, &ctx(me, None))
        .await?;
    Ok(created(done, id.0))
}

/// Runs a household command after the read model authorised the caller for `action`.
pub(crate) async fn run(
    state: &AppState,
    caller: Caller,
    practice: Uuid,
    household: Uuid,
    action: Action,
    cmd: HouseholdCommand,
    reason: Option<String>,
) -> ApiResult<axum::Json<Accepted>> {
    let (practice, household) = (PracticeId(practice), HouseholdId(household));
    let me = staff_of(state, caller, practice).await?;
    authz::household(state, practice, me, household, action).await?;
    let done = state
        .exec
        .household(practice, household, cmd, &ctx(me, reason))
        .await?;
    Ok(accepted(done, None))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignPrimary {
    pub staff_id: Uuid,
    /// The previous primary's role from now on; `null` removes their access. Default: professional.
    #[serde(default = "keep_professional")]
    pub previous_keeps: Option<HouseholdRole>,
    #[serde(default)]
    pub reason: Option<String>,
}

fn keep_professional() -> Option<HouseholdRole> {
    Some(DEFAULT_PREVIOUS_ROLE)
}

#[utoipa::path(put, path = "/v1/practices/{practice_id}/households/{household_id}/primary", request_body = AssignPrimary, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn assign_primary(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Json(b): Json<AssignPrimary>,
) -> ApiResult<axum::Json<Accepted>> {
    let cmd = HouseholdCommand::AssignPrimaryProfessional {
        staff_id: StaffId(b.staff_id),
        previous_keeps: b.previous_keeps,
    };
    run(&state, caller, p, h, Action::ManageAccess, cmd, b.reason).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffRef {
    pub staff_id: Uuid,
    #[serde(default)]
    pub reason: Option<String>,
}

#[utoipa::path(put, path = "/v1/practices/{practice_id}/households/{household_id}/secondary", request_body = StaffRef, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn set_secondary(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Json(b): Json<StaffRef>,
) -> ApiResult<axum::Json<Accepted>> {
    run(
        &state,
        caller,
        p,
        h,
        Action::ManageAccess,
        HouseholdCommand::SetSecondaryProfessional {
            staff_id: StaffId(b.staff_id),
        },
        b.reason,
    )
    .await
}

#[utoipa::path(delete, path = "/v1/practices/{practice_id}/households/{household_id}/secondary", params(crate::reason::ReasonQuery), responses((status = 200, body = Accepted), (status = 422, description = "reason over 1,000 characters or with control characters", body = Problem)), security(("bearer" = [])))]
async fn clear_secondary(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Reason(reason): Reason,
) -> ApiResult<axum::Json<Accepted>> {
    run(
        &state,
        caller,
        p,
        h,
        Action::ManageAccess,
        HouseholdCommand::ClearSecondaryProfessional,
        reason,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub staff_id: Uuid,
    pub role: HouseholdRole,
    /// Temporary access (RFC 3339, in the future): it ends by itself at this instant, recorded in
    /// the history as `household.grant_expired`.
    #[serde(default)]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/practices/{practice_id}/households/{household_id}/grants", request_body = Grant, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Json(b): Json<Grant>,
) -> ApiResult<axum::Json<Accepted>> {
    let (staff_id, role) = (StaffId(b.staff_id), b.role);
    let cmd = match b.expires_at {
        None => HouseholdCommand::GrantStaffAccess { staff_id, role },
        Some(expires_at) => HouseholdCommand::GrantTemporaryAccess {
            staff_id,
            role,
            expires_at,
        },
    };
    run(&state, caller, p, h, Action::ManageAccess, cmd, b.reason).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub role: HouseholdRole,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Change a staff member's household role in place.
#[utoipa::path(put, path = "/v1/practices/{practice_id}/households/{household_id}/grants/{staff_id}", request_body = RoleChange, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn change_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h, s)): Path<(Uuid, Uuid, Uuid)>,
    Json(b): Json<RoleChange>,
) -> ApiResult<axum::Json<Accepted>> {
    run(
        &state,
        caller,
        p,
        h,
        Action::ManageAccess,
        HouseholdCommand::ChangeStaffRole {
            staff_id: StaffId(s),
            role: b.role,
        },
        b.reason,
    )
    .await
}

#[utoipa::path(delete, path = "/v1/practices/{practice_id}/households/{household_id}/grants/{staff_id}", params(crate::reason::ReasonQuery), responses((status = 200, body = Accepted), (status = 422, description = "reason over 1,000 characters or with control characters", body = Problem)), security(("bearer" = [])))]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h, s)): Path<(Uuid, Uuid, Uuid)>,
    Reason(reason): Reason,
) -> ApiResult<axum::Json<Accepted>> {
    run(
        &state,
        caller,
        p,
        h,
        Action::ManageAccess,
        HouseholdCommand::RevokeStaffAccess {
            staff_id: StaffId(s),
        },
        reason,
    )
    .await
}

#[utoipa::path(post, path = "/v1/practices/{practice_id}/households/{household_id}/archive", request_body(content = crate::reason::ReasonBody, description = "optional", content_type = "application/json"), responses((status = 200, body = Accepted), (status = 415, body = Problem), (status = 422, description = "reason over 1,000 characters or with control characters", body = Problem)), security(("bearer" = [])))]
async fn archive(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Reason(reason): Reason,
) -> ApiResult<axum::Json<Accepted>> {
    run(
        &state,
        caller,
        p,
        h,
        Action::View,
        HouseholdCommand::ArchiveHousehold,
        reason,
    )
    .await
}

#[utoipa::path(post, path = "/v1/practices/{practice_id}/households/{household_id}/restore", request_body(content = crate::reason::ReasonBody, description = "optional", content_type = "application/json"), responses((status = 200, body = Accepted), (status = 415, body = Problem), (status = 422, description = "reason over 1,000 characters or with control characters", body = Problem)), security(("bearer" = [])))]
async fn restore(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Reason(reason): Reason,
) -> ApiResult<axum::Json<Accepted>> {
    run(
        &state,
        caller,
        p,
        h,
        Action::View,
        HouseholdCommand::RestoreHousehold,
        reason,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeStatus {
    pub status: HouseholdStatus,
    #[serde(default)]
    pub reason: Option<String>,
}

#[utoipa::path(put, path = "/v1/practices/{practice_id}/households/{household_id}/status", request_body = ChangeStatus, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn change_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Json(b): Json<ChangeStatus>,
) -> ApiResult<axum::Json<Accepted>> {
    run(
        &state,
        caller,
        p,
        h,
        Action::View,
        HouseholdCommand::ChangeHouseholdStatus { status: b.status },
        b.reason,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBranch {
    /// `null` removes the household from its branch.
    pub branch_id: Option<Uuid>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[utoipa::path(put, path = "/v1/practices/{practice_id}/households/{household_id}/branch", request_body = AssignBranch, responses((status = 200, body = Accepted)), security(("bearer" = [])))]
async fn assign_branch(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Json(b): Json<AssignBranch>,
) -> ApiResult<axum::Json<Accepted>> {
    run(
        &state,
        caller,
        p,
        h,
        Action::View,
        HouseholdCommand::AssignHouseholdBranch {
            branch: b.branch_id.map(BranchId),
        },
        b.reason,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMember {
    /// Field name → new value (`null` clears it). XPLAN-mastered fields are overwritten at the next sync.
    #[schema(schema_with = super::contract::member_fields)]
    pub fields: BTreeMap<ClientField, Option<String>>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[utoipa::path(patch, path = "/v1/practices/{practice_id}/households/{household_id}/members/{member_id}", request_body = EditMember, responses((status = 200, body = Accepted), (status = 422, description = "a value fails the member-field rules or limits", body = Problem)), security(("bearer" = [])))]
async fn edit_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h, m)): Path<(Uuid, Uuid, Uuid)>,
    Json(b): Json<EditMember>,
) -> ApiResult<axum::Json<Accepted>> {
    run(
        &state,
        caller,
        p,
        h,
        Action::Edit,
        HouseholdCommand::EditClientDetails {
            member_id: MemberId(m),
            fields: b.fields,
        },
        b.reason,
    )
    .await
}
