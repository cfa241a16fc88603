//! The console: server-rendered pages for practice managers, auditors and owners at `/console`.
//! Every page authorises and reads through the same functions as the JSON API (one code path), so
//! a page shows exactly what the API would answer, and another practice's ids are "not found".

mod audit;
mod erasure;
mod households;
mod layout;
mod owner;
mod session;
mod sign_in;
mod webhooks;
mod words;

use axum::{
    routing::{get, post},
    Router,
};
use serde::de::DeserializeOwned;

use crate::{problem::Problem, state::AppState};

pub use session::{csrf_for, COOKIE};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(sign_in::home))
        .route(
            "/console/sign-in",
            get(sign_in::form_page).post(sign_in::sign_in),
        )
        .route("/console/sign-out", post(sign_in::sign_out))
        .route(
            "/console/practices/{practice_id}/households",
            get(households::search),
        )
        .route(
            "/console/practices/{practice_id}/households/{household_id}",
            get(households::show),
        )
        .route(
            "/console/practices/{practice_id}/households/{household_id}/grants",
            post(households::grant),
        )
        .route(
            "/console/practices/{practice_id}/households/{household_id}/erasure",
            post(erasure::erase),
        )
        .route(
            "/console/practices/{practice_id}/households/{household_id}/grants/{staff_id}/role",
            post(households::change_role),
        )
        .route(
            "/console/practices/{practice_id}/households/{household_id}/grants/{staff_id}/remove",
            post(households::remove),
        )
        .route(
            "/console/practices/{practice_id}/households/{household_id}/primary",
            post(households::primary),
        )
        .route(
            "/console/practices/{practice_id}/households/{household_id}/secondary",
            post(households::secondary),
        )
        .route(
            "/console/practices/{practice_id}/households/{household_id}/access",
            get(audit::household_access),
        )
        .route(
            "/console/practices/{practice_id}/staff/{staff_id}",
            get(audit::staff_member),
        )
        .route(
            "/console/practices/{practice_id}/report",
            get(audit::report),
        )
        .route(
            "/console/practices/{practice_id}/report.csv",
            get(audit::report_csv),
        )
        .route(
            "/console/practices/{practice_id}/report.pdf",
            get(audit::report_pdf),
        )
        .route(
            "/console/practices/{practice_id}/integrity",
            get(audit::integrity),
        )
        .route("/console/practices/{practice_id}/staff", get(owner::staff))
        .route(
            "/console/practices/{practice_id}/staff/{staff_id}/branch",
            post(owner::move_staff),
        )
        .route(
            "/console/practices/{practice_id}/practice",
            get(owner::practice).post(owner::rename),
        )
        .route(
            "/console/practices/{practice_id}/webhooks",
            get(webhooks::list),
        )
        .route(
            "/console/practices/{practice_id}/webhooks/{webhook_id}/redeliver",
            post(webhooks::redeliver),
        )
}

/// A form body (`application/x-www-form-urlencoded`); a malformed one is a 400 page.
pub(crate) fn form<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| Problem::bad_request("invalid_form", format!("the form was not valid: {e}")))
}

/// The navigation for a signed-in member of `practice`.
pub(crate) fn nav(state: &AppState, s: &session::Session, practice: uuid::Uuid) -> layout::Nav {
    let user = match s.caller {
        crate::auth::Caller::Staff { staff, .. } => state
            .projection
            .read()
            .practices
            .get(&hearth_domain::PracticeId(practice))
            .and_then(|p| p.staff.get(&hearth_domain::StaffId(staff)))
            .map(|v| v.name.clone())
            .unwrap_or_default(),
        crate::auth::Caller::Operator => String::new(),
    };
    layout::Nav {
        practice,
        user,
        csrf: s.csrf.clone(),
    }
}

/// Staff names of a practice, for actors and paths.
pub(crate) fn names(state: &AppState, practice: hearth_domain::PracticeId) -> words::Names {
    state
        .projection
        .read()
        .practices
        .get(&practice)
        .map(|p| p.staff.values().map(|s| (s.id, s.name.clone())).collect())
        .unwrap_or_default()
}
