//! HTTP routes, one module per family.

mod audit;
mod changes;
mod contract;
mod directory;
mod erasure;
mod households;
mod integrations;
mod log;
mod ops;
mod practice_admin;
mod practices;
mod queries;
mod reports;
mod surveys;
mod verifications;
mod webhooks;

use std::sync::OnceLock;

use axum::{http::StatusCode, Router};
use chrono::Utc;
use hearth_application::Executed;
use hearth_domain::{Actor, CommandContext, StaffId};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::{problem::Problem, state::AppState};

pub(crate) use audit::integrity;
pub use changes::ChangeOut;
pub(crate) use directory::{details, search, staff, SearchParams};
pub(crate) use erasure::erase as erase_household;
pub(crate) use households::run as household_command;
pub use ops::ApiDoc;
pub(crate) use practice_admin::{
    move_to_branch, update as update_practice, MoveStaff, UpdatePractice,
};
pub(crate) use queries::{households_of, may_ask};
pub(crate) use reports::{csv_of, download, load as access_report, pdf_of, ReportParams};
pub(crate) use webhooks::{endpoints as webhook_endpoints, request_redelivery};

/// The one route table: every route is registered here with its `#[utoipa::path]`, so the
/// router and the OpenAPI document are built from the same list and cannot disagree.
pub fn table() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::router())
        .merge(practices::router())
        .merge(households::router())
        .merge(queries::router())
        .merge(audit::router())
        .merge(verifications::router())
        .merge(changes::router())
        .merge(webhooks::router())
        .merge(log::router())
        .merge(integrations::router())
        .merge(surveys::router())
        .merge(directory::router())
        .merge(reports::router())
        .merge(practice_admin::router())
        .merge(erasure::router())
}

pub fn router() -> Router<AppState> {
    table().split_for_parts().0
}

/// The OpenAPI document of [`table`], built once.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = table().split_for_parts().1;
        utoipa::Modify::modify(&contract::ProblemResponses, &mut doc);
        utoipa::Modify::modify(&contract::FieldRules, &mut doc);
        doc
    })
}

/// What a command answers: the position to pass as `at_least` to see its effect, and the id
/// of what it created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// Absent when the command changed nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
}

pub(crate) fn accepted(done: Executed, id: Option<Uuid>) -> axum::Json<Accepted> {
    axum::Json(Accepted {
        position: done.position.map(|p| p.to_string()),
        id,
    })
}

pub(crate) fn created(done: Executed, id: Uuid) -> (StatusCode, axum::Json<Accepted>) {
    (StatusCode::CREATED, accepted(done, Some(id)))
}

pub(crate) fn ctx(staff: StaffId, reason: Option<String>) -> CommandContext {
    CommandContext {
        actor: Actor::Staff(staff),
        now: Utc::now(),
        reason: reason.filter(|r| !r.trim().is_empty()),
    }
}

pub fn fallback_problem() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        "no route matches this method and path; see /docs",
    )
}
