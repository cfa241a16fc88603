//! Erasing a household's personal data, and the practice's retention policy that says when it
//! may be erased. The domain decides who may and when; here the key is destroyed once the
//! erasure is recorded (and every instance's projection destroys it too when it reads the event,
//! so a crash in between cannot leave it alive).

use axum::extract::State;
use chrono::{DateTime, Utc};
use hearth_application::Executed;
use hearth_domain::{
    household::HouseholdCommand, permissions::Permission, practice::PracticeCommand,
    practice::RetentionPolicy, roles::Action, HouseholdId, IntegrationId, PracticeId,
};
use hearth_projections::PastRetention;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{accepted, ctx, Accepted};
use crate::{
    auth::Caller,
    authz::{self, require_permission, staff_of},
    extract::{Json, Path},
    problem::{ApiResult, Problem},
    reason::Reason,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(erase_household))
        .routes(routes!(retention_policy, set_retention_policy))
        .routes(routes!(past_retention))
        .routes(routes!(release_xplan_client))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseHousehold {
    /// Why (required; recorded with the erasure); at most 1,000 characters.
    pub reason: String,
    /// Erase before the retention period has passed: needs "override retention", and is
    /// recorded as such.
    #[serde(default)]
    pub override_retention: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Erased {
    pub household_id: Uuid,
    /// The log position of the erasure (read-your-writes token).
    pub position: Option<String>,
    pub erased_at: DateTime<Utc>,
}

/// Erase a household's personal data for good: names, dates of birth, addresses, contact
/// details, insurance, survey answers and documents become unreadable everywhere (the log keeps
/// them only sealed with a key that no longer exists). Who had access, when and why stays, and
/// so do verification and proofs. Needs "erase households"; refused before the practice's
/// retention period has passed unless `override_retention` (and that permission).
#[utoipa::path(post, path = "/v1/practices/{practice_id}/households/{household_id}/erasure", request_body = EraseHousehold, responses((status = 200, body = Erased), (status = 403, body = Problem), (status = 409, description = "retention not passed, or already erased", body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn erase_household(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Json(body): Json<EraseHousehold>,
) -> ApiResult<axum::Json<Erased>> {
    let (practice, household) = (PracticeId(p), HouseholdId(h));
    let (done, erased_at) = erase(
        &state,
        caller,
        practice,
        household,
        body.reason,
        body.override_retention,
    )
    .await?;
    Ok(axum::Json(Erased {
        household_id: h,
        position: done.position.map(|p| p.to_string()),
        erased_at,
    }))
}

/// Decides the erasure, records it, then destroys the household's key (the API and the console).
pub(crate) async fn erase(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
    household: HouseholdId,
    reason: String,
    override_retention: bool,
) -> ApiResult<(Executed, DateTime<Utc>)> {
    let me = staff_of(state, caller, practice).await?;
    authz::household(state, practice, me, household, Action::View).await?;
    let command = HouseholdCommand::EraseHousehold { override_retention };
    let context = ctx(me, Some(reason));
    let done = state
        .exec
        .household(practice, household, command, &context)
        .await?;
    state.store.erase_subject(household.0, context.now).await?;
    metrics::counter!("hearth_households_erased_total").increment(1);
    Ok((done, context.now))
}

/// How long the practice keeps archived households, and whether Hearth erases them itself.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/retention", responses((status = 200, body = RetentionPolicy)), security(("bearer" = [])))]
async fn retention_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
) -> ApiResult<axum::Json<RetentionPolicy>> {
    let practice = PracticeId(p);
    staff_of(&state, caller, practice).await?;
    let model = state.projection.read();
    Ok(axum::Json(model.practice(practice)?.state.retention))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRetention {
    /// Years an archived household is kept before it may be erased: 1 to 100.
    #[schema(minimum = 1, maximum = 100)]
    #[serde(deserialize_with = "hearth_domain::whole_number")]
    pub years_after_archive: u16,
    /// Erase households by themselves once their retention has passed.
    #[serde(default)]
    pub auto_erase: bool,
}

/// Set the retention policy. Needs "manage retention" (the owner's by default).
#[utoipa::path(put, path = "/v1/practices/{practice_id}/retention", request_body = SetRetention, responses((status = 200, body = Accepted), (status = 403, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn set_retention_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
    Json(body): Json<SetRetention>,
) -> ApiResult<axum::Json<Accepted>> {
    let practice = PracticeId(p);
    let me = staff_of(&state, caller, practice).await?;
    let command = PracticeCommand::SetRetentionPolicy {
        years_after_archive: body.years_after_archive,
        auto_erase: body.auto_erase,
    };
    let done = state
        .exec
        .practice(practice, command, &ctx(me, None))
        .await?;
    Ok(accepted(done, None))
}

/// Archived households whose retention period has passed and whose personal data is still
/// held, longest past first. Needs "erase households" or "manage retention".
#[utoipa::path(get, path = "/v1/practices/{practice_id}/reports/past-retention", responses((status = 200, body = [Object]), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn past_retention(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
) -> ApiResult<axum::Json<Vec<PastRetention>>> {
    let practice = PracticeId(p);
    let me = staff_of(&state, caller, practice).await?;
    require_permission(&state, practice, me, Permission::EraseHouseholds)
        .or_else(|_| require_permission(&state, practice, me, Permission::ManageRetention))?;
    let model = state.projection.read();
    Ok(axum::Json(model.past_retention(practice, Utc::now())?))
}

/// Release the XPLAN client of an erased household, so the next sync creates it afresh as a new
/// household (the sync never brings an erased client back by itself). Needs "manage
/// integrations"; refused (409 `client_not_erased`) while the household holding it is not erased.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/integrations/{integration_id}/xplan-clients/{xplan_id}/release", request_body(content = crate::reason::ReasonBody, description = "optional", content_type = "application/json"), responses((status = 200, body = Accepted), (status = 403, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn release_xplan_client(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, i, xplan_id)): Path<(Uuid, Uuid, String)>,
    Reason(reason): Reason,
) -> ApiResult<axum::Json<Accepted>> {
    let practice = PracticeId(p);
    let me = staff_of(&state, caller, practice).await?;
    require_permission(&state, practice, me, Permission::ManageIntegrations)?;
    let done = hearth_integrations::claims::release_erased(
        &state.exec,
        practice,
        IntegrationId(i),
        &xplan_id,
        &ctx(me, reason),
    )
    .await?;
    Ok(accepted(done, None))
}
