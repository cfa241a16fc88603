//! For owners: the staff list (roles, permissions, status, branch — and moving someone to
//! another branch) and the practice's details, branches and licences — read and changed through
//! the API's own functions (`routes::staff`, `routes::details`, `routes::move_to_branch`,
//! `routes::update_practice`).

use axum::{
    body::Bytes,
    extract::State,
    response::{IntoResponse, Redirect},
};
use hearth_domain::{PracticeId, StaffId};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    form,
    layout::{page, Ids, PageError, PageResult, Params},
    nav,
    session::Session,
    words,
};
use crate::{
    auth::Caller,
    problem::Problem,
    routes::{
        details, move_to_branch, staff as staff_list, update_practice, MoveStaff, UpdatePractice,
    },
    state::AppState,
};

fn snake(v: impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default()
}

#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
    at_least: Option<String>,
}

pub async fn staff(
    State(state): State<AppState>,
    session: Session,
    Ids(p): Ids<Uuid>,
    Params(q): Params<Done>,
) -> PageResult {
    crate::consistency::wait_for_position(&state, q.at_least.as_deref()).await?;
    let list = staff_list(&state, session.caller, PracticeId(p)).await?;
    let practice = details(&state, session.caller, PracticeId(p)).await?;
    let body = html! {
        h1 { "Staff" }
        @if q.done.as_deref() == Some("moved") { p.notice role="status" { "Branch changed." } }
        table #staff {
            thead { tr { th { "Name" } th { "Email" } th { "Role" } th { "Status" } th { "Branch" } th { "Permissions" } } }
            tbody {
                @for s in &list {
                    tr id={ "staff-" (s.staff_id.0) } {
                        td { a href={ "/console/practices/" (p) "/staff/" (s.staff_id.0) } { (s.name) } }
                        td { (s.email) }
                        td { (s.role.map(words::practice_role).unwrap_or("")) }
                        td { (s.status.map(snake).unwrap_or_default()) }
                        td {
                            @if practice.branches.is_empty() { "—" } @else {
                                form.inline method="post" action={ "/console/practices/" (p) "/staff/" (s.staff_id.0) "/branch" } {
                                    input type="hidden" name="csrf" value=(session.csrf);
                                    label for={ "branch-" (s.staff_id.0) } { "Branch of " (s.name) }
                                    select id={ "branch-" (s.staff_id.0) } name="branch_id" {
                                        option value="" selected[s.branch.is_none()] { "No branch" }
                                        @for b in &practice.branches {
                                            option value=(b.id) selected[s.branch.map(|x| x.0) == Some(b.id)] { (b.name) }
                                        }
                                    }
                                    button type="submit" { "Move" }
                                }
                            }
                        }
                        td { (s.permissions.iter().map(|x| snake(*x)).collect::<Vec<_>>().join(", ")) }
                    }
                }
            }
        }
    };
    Ok(page("Staff", Some(&nav(&state, &session, p)), body).into_response())
}

#[derive(Deserialize)]
struct BranchForm {
    csrf: String,
    #[serde(default)]
    branch_id: String,
}

pub async fn move_staff(
    State(state): State<AppState>,
    session: Session,
    Ids((p, s)): Ids<(Uuid, Uuid)>,
    body: Bytes,
) -> PageResult {
    let f: BranchForm = form(&body)?;
    session.check_csrf(&f.csrf)?;
    let branch_id = match f.branch_id.trim() {
        "" => None,
        b => Some(
            Uuid::parse_str(b)
                .map_err(|_| Problem::bad_request("invalid_branch", "choose a branch"))?,
        ),
    };
    let done = move_to_branch(
        &state,
        session.caller,
        PracticeId(p),
        StaffId(s),
        MoveStaff {
            branch_id,
            reason: None,
        },
    )
    .await?;
    Ok(Redirect::to(&with_position(
        &format!("/console/practices/{p}/staff?done=moved"),
        done.position,
    ))
    .into_response())
}

fn with_position(url: &str, position: Option<i64>) -> String {
    match position {
        Some(pos) => format!("{url}&at_least={pos}"),
        None => url.to_string(),
    }
}

pub async fn practice(
    State(state): State<AppState>,
    session: Session,
    Ids(p): Ids<Uuid>,
    Params(q): Params<Done>,
) -> PageResult {
    crate::consistency::wait_for_position(&state, q.at_least.as_deref()).await?;
    let d = details(&state, session.caller, PracticeId(p)).await?;
    let is_owner =
        matches!(session.caller, Caller::Staff { staff, .. } if d.owner_id == Some(staff));
    let body = html! {
        h1 { (d.name) }
        @if q.done.as_deref() == Some("renamed") { p.notice role="status" { "Practice details saved." } }
        table #practice {
            tbody {
                tr { th scope="row" { "Practice id" } td { code { (d.id) } } }
                tr { th scope="row" { "Created" } td { (d.created_at.map(words::time).unwrap_or_default()) } }
                tr { th scope="row" { "Households" } td { (d.households) } }
                @if let Some(l) = &d.licences {
                    tr { th scope="row" { "Licences" } td #licences { (l.used) " of " (l.held) " in use" } }
                }
            }
        }
        @if is_owner {
            form.inline method="post" action={ "/console/practices/" (p) "/practice" } {
                input type="hidden" name="csrf" value=(session.csrf);
                label for="practice-name" { "Practice name" }
                input #practice-name type="text" name="name" value=(d.name) required;
                button type="submit" { "Save" }
            }
        }
        h2 { "Branches" }
        @if d.branches.is_empty() { p { "No branches." } }
        ul #branches { @for b in &d.branches { li { (b.name) } } }
    };
    Ok(page(&d.name, Some(&nav(&state, &session, p)), body).into_response())
}

#[derive(Deserialize)]
struct RenameForm {
    csrf: String,
    name: String,
}

pub async fn rename(
    State(state): State<AppState>,
    session: Session,
    Ids(p): Ids<Uuid>,
    body: Bytes,
) -> PageResult {
    let f: RenameForm = form(&body)?;
    session.check_csrf(&f.csrf).map_err(PageError)?;
    let done = update_practice(
        &state,
        session.caller,
        PracticeId(p),
        UpdatePractice { name: Some(f.name) },
    )
    .await?;
    Ok(Redirect::to(&with_position(
        &format!("/console/practices/{p}/practice?done=renamed"),
        done.position,
    ))
    .into_response())
}
