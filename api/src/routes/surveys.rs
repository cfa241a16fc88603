//! Surveys completed and documents exported (PRODUCT.md §4): each is an event in the log, and
//! each becomes an XPLAN file note through the relay and the file-note worker. Failed notes are
//! listed and can be retried once their cause is fixed.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::IntoResponse,
};
use chrono::Utc;
use hearth_documents as documents;
use hearth_domain::{
    household::{
        BlobRef, Dimension, HouseholdCommand, MemberValuesInput, QuestionAnswer, SurveyCommand,
    },
    permissions::Permission,
    roles::Action,
    HouseholdId, MemberId, PracticeId,
};
use hearth_integrations::notes::NoteMessage;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{ctx, households::run, Accepted};
use crate::{
    auth::Caller,
    authz::{self, require_permission, staff_of},
    extract::{Json, Path},
    problem::{ApiResult, Problem},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(your_life_survey))
        .routes(routes!(values_session))
        .routes(routes!(best_life_plan))
        .routes(routes!(investment_preferences))
        .routes(routes!(export_investment_preferences))
        .routes(routes!(document))
        .routes(routes!(failed_notes))
        .routes(routes!(retry_note))
}

fn created(done: axum::Json<Accepted>, id: Uuid) -> (StatusCode, axum::Json<Accepted>) {
    let mut a = done.0;
    a.id = Some(id);
    (StatusCode::CREATED, axum::Json(a))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YourLifeSurvey {
    pub member_id: Uuid,
    #[schema(minimum = 0, maximum = 100)]
    #[serde(deserialize_with = "hearth_domain::whole_number")]
    pub your_life_score_pct: u8,
    #[serde(default)]
    pub goals: Vec<String>,
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
}

/// A client completed the Your Life Survey.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/households/{household_id}/your-life-surveys", request_body = YourLifeSurvey, responses((status = 201, body = Accepted)), security(("bearer" = [])))]
pub(crate) async fn your_life_survey(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Json(b): Json<YourLifeSurvey>,
) -> ApiResult<(StatusCode, axum::Json<Accepted>)> {
    let id = Uuid::now_v7();
    let cmd = HouseholdCommand::Survey(SurveyCommand::CompleteYourLifeSurvey {
        survey_id: id,
        member_id: MemberId(b.member_id),
        your_life_score_pct: b.your_life_score_pct,
        goals: b.goals,
        dimensions: b.dimensions,
    });
    Ok(created(
        run(&state, caller, p, h, Action::Edit, cmd, None).await?,
        id,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberValues {
    pub member_id: Uuid,
    /// Most important first; one to five.
    pub top_values: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValuesSession {
    pub values: Vec<MemberValues>,
    #[schema(minimum = 0, maximum = 100)]
    #[serde(deserialize_with = "hearth_domain::whole_number")]
    pub progress_score: u8,
}

/// A values session was completed (client, and partner when present).
#[utoipa::path(post, path = "/v1/practices/{practice_id}/households/{household_id}/values-sessions", request_body = ValuesSession, responses((status = 201, body = Accepted)), security(("bearer" = [])))]
pub(crate) async fn values_session(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Json(b): Json<ValuesSession>,
) -> ApiResult<(StatusCode, axum::Json<Accepted>)> {
    let id = Uuid::now_v7();
    let values = b
        .values
        .into_iter()
        .map(|v| MemberValuesInput {
            member_id: MemberId(v.member_id),
            top_values: v.top_values,
        })
        .collect();
    let cmd = HouseholdCommand::Survey(SurveyCommand::CompleteValuesSession {
        session_id: id,
        values,
        progress_score: b.progress_score,
    });
    Ok(created(
        run(&state, caller, p, h, Action::Edit, cmd, None).await?,
        id,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PlanExport {
    /// Goals printed on the plan.
    #[serde(default)]
    pub goals: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Exported {
    pub id: Uuid,
    pub position: Option<String>,
    #[schema(value_type = Object)]
    pub document: BlobRef,
}

/// Names and the primary's name for a document, after checking the caller may export.
async fn for_export(
    state: &AppState,
    caller: Caller,
    p: Uuid,
    h: Uuid,
) -> ApiResult<(
    PracticeId,
    HouseholdId,
    hearth_domain::StaffId,
    String,
    String,
)> {
    let (practice, household) = (PracticeId(p), HouseholdId(h));
    let me = staff_of(state, caller, practice).await?;
    authz::household(state, practice, me, household, Action::Export).await?;
    let (name, adviser) = state.projection.read().export_names(practice, household)?;
    Ok((practice, household, me, name, adviser))
}

async fn export(
    state: &AppState,
    practice: PracticeId,
    household: HouseholdId,
    me: hearth_domain::StaffId,
    bytes: Vec<u8>,
    filename: &str,
    plan: bool,
) -> ApiResult<(StatusCode, axum::Json<Exported>)> {
    let sha256 = state
        .store
        .put_blob(household.0, &bytes, "application/pdf")
        .await?;
    let document = BlobRef {
        sha256,
        size: bytes.len() as u64,
        filename: filename.into(),
        mimetype: "application/pdf".into(),
    };
    let id = Uuid::now_v7();
    let cmd = if plan {
        HouseholdCommand::Survey(SurveyCommand::ExportBestLifePlan {
            export_id: id,
            document: document.clone(),
        })
    } else {
        HouseholdCommand::Survey(SurveyCommand::ExportInvestmentPreferences {
            export_id: id,
            document: document.clone(),
        })
    };
    let done = state
        .exec
        .household(practice, household, cmd, &ctx(me, None))
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Exported {
            id,
            position: done.position.map(|p| p.to_string()),
            document,
        }),
    ))
}

/// Export the Best Life Plan: a PDF naming the household's primary professional as adviser.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/households/{household_id}/best-life-plans", request_body = PlanExport, responses((status = 201, body = Exported)), security(("bearer" = [])))]
pub(crate) async fn best_life_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Json(b): Json<PlanExport>,
) -> ApiResult<(StatusCode, axum::Json<Exported>)> {
    let (practice, household, me, name, adviser) = for_export(&state, caller, p, h).await?;
    let bytes = documents::best_life_plan(&name, &adviser, Utc::now().date_naive(), &b.goals)
        .map_err(|e| Problem::internal(&e))?;
    export(
        &state,
        practice,
        household,
        me,
        bytes,
        "best-life-plan.pdf",
        true,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvestmentPreferences {
    pub member_id: Uuid,
    pub answers: Vec<QuestionAnswer>,
}

/// A client completed the Investment Preferences questionnaire.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/households/{household_id}/investment-preferences", request_body = InvestmentPreferences, responses((status = 201, body = Accepted)), security(("bearer" = [])))]
pub(crate) async fn investment_preferences(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Json(b): Json<InvestmentPreferences>,
) -> ApiResult<(StatusCode, axum::Json<Accepted>)> {
    let id = Uuid::now_v7();
    let cmd = HouseholdCommand::Survey(SurveyCommand::CompleteInvestmentPreferences {
        questionnaire_id: id,
        member_id: MemberId(b.member_id),
        answers: b.answers,
    });
    Ok(created(
        run(&state, caller, p, h, Action::Edit, cmd, None).await?,
        id,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PreferencesExport {
    #[serde(default)]
    pub answers: Vec<QuestionAnswer>,
}

/// Export the Investment Preferences document (PDF).
#[utoipa::path(post, path = "/v1/practices/{practice_id}/households/{household_id}/investment-preferences/exports", request_body = PreferencesExport, responses((status = 201, body = Exported)), security(("bearer" = [])))]
pub(crate) async fn export_investment_preferences(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h)): Path<(Uuid, Uuid)>,
    Json(b): Json<PreferencesExport>,
) -> ApiResult<(StatusCode, axum::Json<Exported>)> {
    let (practice, household, me, name, _) = for_export(&state, caller, p, h).await?;
    let answers: Vec<(String, String)> = b
        .answers
        .into_iter()
        .map(|qa| (qa.question, qa.answer))
        .collect();
    let bytes = documents::investment_preferences(&name, Utc::now().date_naive(), &answers)
        .map_err(|e| Problem::internal(&e))?;
    export(
        &state,
        practice,
        household,
        me,
        bytes,
        "investment-preferences.pdf",
        false,
    )
    .await
}

/// A document a household event refers to (e.g. the Best Life Plan PDF).
#[utoipa::path(get, path = "/v1/practices/{practice_id}/households/{household_id}/documents/{sha256}", responses((status = 200, content_type = "application/pdf")), security(("bearer" = [])))]
pub(crate) async fn document(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, h, sha)): Path<(Uuid, Uuid, String)>,
) -> ApiResult<axum::response::Response> {
    let (practice, household) = (PracticeId(p), HouseholdId(h));
    let me = staff_of(&state, caller, practice).await?;
    authz::household(&state, practice, me, household, Action::View).await?;
    // Only documents this household's own events refer to.
    if !state
        .projection
        .read()
        .has_document(practice, household, &sha)?
    {
        return Err(Problem::not_found("the document"));
    }
    let bytes = state
        .store
        .blob(household.0, &sha)
        .await?
        .ok_or_else(|| Problem::not_found("the document"))?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct FailedNote {
    pub household_id: Uuid,
    pub source_event_id: Uuid,
    pub reason: String,
}

/// File notes XPLAN refused for good (dead-lettered), with the reason.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/file-notes/failed", responses((status = 200, body = [FailedNote])), security(("bearer" = [])))]
pub(crate) async fn failed_notes(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
) -> ApiResult<axum::Json<Vec<FailedNote>>> {
    let practice = PracticeId(p);
    let me = staff_of(&state, caller, practice).await?;
    require_permission(&state, practice, me, Permission::ManageIntegrations)?;
    let model = state.projection.read();
    let practice_view = model.practice(practice)?;
    let mut out: Vec<FailedNote> = practice_view
        .households
        .iter()
        .filter_map(|h| model.households.get(h))
        .flat_map(|h| {
            h.state
                .file_note_failures
                .iter()
                .map(move |(e, r)| FailedNote {
                    household_id: h.id.0,
                    source_event_id: *e,
                    reason: r.clone(),
                })
        })
        .collect();
    out.sort_by_key(|f| f.source_event_id);
    Ok(axum::Json(out))
}

/// Publish a failed note's event again (after reconnecting XPLAN, say). The worker still
/// creates at most one note per event.
#[utoipa::path(post, path = "/v1/practices/{practice_id}/file-notes/{event_id}/retry", responses((status = 202), (status = 404, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn retry_note(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, event_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let practice = PracticeId(p);
    let me = staff_of(&state, caller, practice).await?;
    require_permission(&state, practice, me, Permission::ManageIntegrations)?;
    let event = state.store.event_by_id(event_id).await?;
    let message = event
        .as_ref()
        .and_then(NoteMessage::from_event)
        .filter(|m| m.practice_id == practice)
        .ok_or_else(|| Problem::not_found("the survey or export event"))?;
    state
        .notes
        .publish(&message)
        .await
        .map_err(|e| Problem::unavailable("bus_unavailable", e.to_string()))?;
    Ok(StatusCode::ACCEPTED)
}
