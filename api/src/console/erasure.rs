//! Erasing a household's personal data from its console page: shown to whoever may erase (the
//! owner, or those the owner gave the permission), with the practice's retention period spelled
//! out; the same decision and key destruction as the API.

use axum::{
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect},
};
use chrono::Utc;
use hearth_domain::{permissions::Permission, HouseholdId, PracticeId, StaffId};
use hearth_projections::model::{HouseholdView, PracticeView};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    form,
    households::page_handler,
    layout::{Ids, PageResult},
    session::Session,
    words,
};
use crate::{routes::erase_household, state::AppState};

/// The "Personal data" card of the household page (which has looked both views up already):
/// the erasure form, or when it was erased.
pub fn section(p: &PracticeView, view: &HouseholdView, me: StaffId, csrf: &str) -> Markup {
    if let Some(at) = view.state.erased_at {
        return html! {
            section #personal-data .card {
                h2 { "Personal data" }
                p #erased { "Erased on " (words::time(at)) ". Who had access, and when, stays in the history." }
            }
        };
    }
    let now = Utc::now();
    let may = p
        .staff
        .get(&me)
        .is_some_and(|s| s.has_permission_at(Permission::EraseHouseholds, now));
    if !may {
        return html! {};
    }
    let years = p.state.retention.years_after_archive;
    let action = format!(
        "/console/practices/{}/households/{}/erasure",
        p.id.0, view.id.0
    );
    html! {
        section #personal-data .card aria-labelledby="erase-heading" {
            h2 #erase-heading { "Erase personal data" }
            p { "Destroys this household's names, contact details, insurance, survey answers and documents for good. "
                "Who had access, and when, stays. The practice keeps archived households for " (years) " years; "
                "erasing earlier needs the \"override retention\" permission and is recorded." }
            form method="post" action=(action) {
                input type="hidden" name="csrf" value=(csrf);
                label for="erase-reason" { "Reason (required)" }
                textarea #erase-reason name="reason" required maxlength="1000" {}
                label { input #erase-override type="checkbox" name="override_retention" value="true"; " Before the retention period has passed" }
                button #erase-submit type="submit" { "Erase personal data" }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct EraseForm {
    csrf: String,
    reason: String,
    override_retention: Option<String>,
}

pub async fn erase(
    State(state): State<AppState>,
    session: Session,
    Ids((p, h)): Ids<(Uuid, Uuid)>,
    body: Bytes,
) -> PageResult {
    let f: EraseForm = form(&body)?;
    let outcome = async {
        session.check_csrf(&f.csrf)?;
        let override_retention = f.override_retention.as_deref() == Some("true");
        erase_household(
            &state,
            session.caller,
            PracticeId(p),
            HouseholdId(h),
            f.reason,
            override_retention,
        )
        .await
        .map(|(done, _)| done)
    }
    .await;
    match outcome {
        Ok(done) => {
            let at_least = done
                .position
                .map(|pos| format!("&at_least={pos}"))
                .unwrap_or_default();
            Ok(Redirect::to(&format!(
                "/console/practices/{p}/households/{h}?done=erased{at_least}#personal-data"
            ))
            .into_response())
        }
        Err(problem) if problem.status != StatusCode::NOT_FOUND => {
            page_handler(&state, &session, p, h, None, Some(problem)).await
        }
        Err(problem) => Err(problem.into()),
    }
}
