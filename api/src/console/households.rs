//! Manage household access, as the Lumiant help article walks it: search for the client, open
//! the household, see the team, add access with a role, change a role in place, set the primary
//! and secondary, remove access with a reason. Reads and commands go through the API's own
//! functions (`routes::search`, `routes::may_ask`, `routes::household_command`).

use axum::{
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect},
};
use chrono::Utc;
use hearth_domain::{
    household::HouseholdCommand,
    roles::{Action, Holding},
    HouseholdId, PracticeId, StaffId,
};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    form,
    layout::{page, Ids, PageResult, Params},
    names, nav,
    session::Session,
    words,
};
use crate::{
    consistency::wait_for_position,
    problem::Problem,
    routes::{household_command, may_ask, search as search_households, SearchParams},
    state::AppState,
};

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    q: Option<String>,
    cursor: Option<Uuid>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    primary_id: String,
}

pub async fn search(
    State(state): State<AppState>,
    session: Session,
    Ids(p): Ids<Uuid>,
    Params(q): Params<SearchQuery>,
) -> PageResult {
    let status = match q.status.as_str() {
        "" => None,
        s => Some(
            serde_json::from_value(serde_json::Value::String(s.into()))
                .map_err(|_| Problem::bad_request("invalid_status", "choose a status"))?,
        ),
    };
    let primary_id = match q.primary_id.as_str() {
        "" => None,
        s => Some(
            Uuid::parse_str(s)
                .map_err(|_| Problem::bad_request("invalid_staff", "choose a professional"))?,
        ),
    };
    let params = SearchParams {
        q: q.q.clone(),
        cursor: q.cursor,
        status,
        primary_id,
        ..Default::default()
    };
    let found = search_households(&state, session.caller, PracticeId(p), &params).await?;
    let text = q.q.clone().unwrap_or_default();
    let professionals: Vec<(Uuid, String)> = {
        let model = state.projection.read();
        let mut v: Vec<(Uuid, String)> = model
            .practice(PracticeId(p))
            .map(|pv| {
                pv.staff
                    .values()
                    .filter(|s| s.role.current().is_some_and(|r| r.can_lead_households()))
                    .map(|s| (s.id.0, s.name.clone()))
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    };
    let next_query = serde_urlencoded::to_string([
        ("q", text.as_str()),
        ("status", q.status.as_str()),
        ("primary_id", q.primary_id.as_str()),
    ])
    .unwrap_or_default();
    let body = html! {
        h1 { "Households" }
        form method="get" role="search" .inline {
            label for="q" { "Search for your client" }
            input #q type="search" name="q" value=(text) placeholder="Name, email or XPLAN id";
            label for="status" { "Status" }
            select #status name="status" {
                option value="" { "Any" }
                @for (v, label) in [("prospect", "Prospect"), ("active", "Active"), ("inactive", "Inactive"), ("former", "Former")] {
                    option value=(v) selected[q.status == v] { (label) }
                }
            }
            label for="primary" { "Primary professional" }
            select #primary name="primary_id" {
                option value="" { "Anyone" }
                @for (id, name) in &professionals {
                    option value=(id) selected[q.primary_id == id.to_string()] { (name) }
                }
            }
            button type="submit" { "Search" }
        }
        @if found.households.is_empty() {
            p #no-results { "No household you may see matches." }
        } @else {
            table #results {
                thead { tr { th { "Household" } th { "Email" } th { "XPLAN id" } th { "Primary professional" } th { "Status" } th { span.muted { "Actions" } } } }
                tbody {
                    @for h in &found.households {
                        tr {
                            td { a href={ "/console/practices/" (p) "/households/" (h.household_id) } { (h.name) } }
                            td { (h.emails.join(", ")) }
                            td { (h.xplan_ids.join(", ")) }
                            td { (h.primary_name.clone().unwrap_or_default()) }
                            td { (format!("{:?}", h.status)) @if h.archived { " (archived)" } }
                            td { a href={ "/console/practices/" (p) "/households/" (h.household_id) "#team" } aria-label={ "Manage household access for " (h.name) } { "Manage household access" } }
                        }
                    }
                }
            }
        }
        @if let Some(next) = found.next_cursor {
            p { a rel="next" href={ "?" (next_query) "&cursor=" (next) } { "Next page" } }
        }
    };
    Ok(page("Households", Some(&nav(&state, &session, p)), body).into_response())
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    at_least: Option<String>,
    done: Option<String>,
}

pub async fn page_handler(
    state: &AppState,
    session: &Session,
    p: Uuid,
    h: Uuid,
    notice: Option<&str>,
    refusal: Option<Problem>,
) -> PageResult {
    let (practice, household) = (PracticeId(p), HouseholdId(h));
    let me = may_ask(state, session.caller, practice, household, None).await?;
    let body = team(
        state,
        session,
        practice,
        household,
        me,
        notice,
        refusal.as_ref(),
    )?;
    let status = refusal.map(|r| r.status).unwrap_or(StatusCode::OK);
    Ok((
        status,
        page("Household", Some(&nav(state, session, p)), body),
    )
        .into_response())
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Ids((p, h)): Ids<(Uuid, Uuid)>,
    Params(q): Params<PageQuery>,
) -> PageResult {
    wait_for_position(&state, q.at_least.as_deref()).await?;
    let notice = q.done.as_deref().and_then(done_text);
    page_handler(&state, &session, p, h, notice, None).await
}

fn done_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "granted" => "Access added.",
        "role_changed" => "Role changed.",
        "removed" => "Access removed.",
        "primary" => "Primary professional set.",
        "secondary" => "Secondary professional updated.",
        "erased" => "Personal data erased.",
        _ => return None,
    })
}

fn team(
    state: &AppState,
    session: &Session,
    practice: PracticeId,
    household: HouseholdId,
    me: StaffId,
    notice: Option<&str>,
    refusal: Option<&Problem>,
) -> Result<Markup, Problem> {
    let model = state.projection.read();
    let view = model.household_in(practice, household)?;
    let p = model.practice(practice)?;
    let now = Utc::now();
    // An erased household takes no new access (only ending it, through the API).
    let can_manage = !view.state.is_erased()
        && model
            .check(practice, me, household, Action::ManageAccess, now)?
            .allowed;
    let names = names(state, practice);
    let holders = view.state.holders();
    let mut active: Vec<_> = p.staff.values().filter(|s| s.active_at(now)).collect();
    active.sort_by(|a, b| a.name.cmp(&b.name));
    let leaders: Vec<_> = active
        .iter()
        .filter(|s| s.role.at(now).is_some_and(|r| r.can_lead_households()))
        .collect();
    let base = format!(
        "/console/practices/{}/households/{}",
        practice.0, household.0
    );
    let csrf = &session.csrf;
    Ok(html! {
        h1 { (view.state.name) }
        p.muted {
            "Status: " (format!("{:?}", view.state.status))
            @if view.state.archived { " · archived" }
            " · " a href={ (base) "/access" } { "Access timeline and as-of" }
        }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        @if let Some(r) = refusal { div.refusal role="alert" { strong { (words::refusal_title(r)) ": " } (words::refusal_text(r)) } }
        section.card {
            h2 { "Members" }
            @if view.state.is_erased() { p.muted { "Erased." } }
            ul { @for m in view.state.members.iter().filter(|m| !m.fields.is_empty()) {
                li { (m.fields.get(&hearth_domain::household::ClientField::FirstName).cloned().unwrap_or_default()) " "
                     (m.fields.get(&hearth_domain::household::ClientField::LastName).cloned().unwrap_or_default())
                     @if let Some(e) = m.fields.get(&hearth_domain::household::ClientField::Email) { " · " (e) } }
            } }
        }
        section #team .card aria-labelledby="team-heading" {
            h2 #team-heading { "Team" }
            table {
                thead { tr { th { "Staff member" } th { "Access" } @if can_manage { th { "Change role" } th { "Remove access" } } } }
                tbody {
                    @for (staff, holding) in &holders {
                        @let who = words::name(&names, *staff);
                        tr id={ "team-" (staff.0) } {
                            td { a href={ "/console/practices/" (practice.0) "/staff/" (staff.0) } { (who) } }
                            td.holding { (words::holding(*holding))
                                @if let Some(t) = view.state.grant_expiries.get(staff) { " until " (words::time(*t)) } }
                            @if can_manage {
                                td {
                                    @if let Holding::Role(current) = holding {
                                        form.inline method="post" action={ (base) "/grants/" (staff.0) "/role" } {
                                            input type="hidden" name="csrf" value=(csrf);
                                            label for={ "role-" (staff.0) } { "Role for " (who) }
                                            select id={ "role-" (staff.0) } name="role" {
                                                @for (r, label) in words::HOUSEHOLD_ROLES {
                                                    option value=(words::role_value(r)) selected[r == *current] { (label) }
                                                }
                                            }
                                            button type="submit" { "Change role" }
                                        }
                                    } @else { span.muted { "Set below" } }
                                }
                                td {
                                    form.inline method="post" action={ (base) "/grants/" (staff.0) "/remove" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        label for={ "reason-" (staff.0) } { "Reason" }
                                        input id={ "reason-" (staff.0) } name="reason" type="text" size="18";
                                        button.danger type="submit" aria-label={ "Remove access for " (who) } { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if can_manage {
            section #staff-access .card aria-labelledby="add-heading" {
                h2 #add-heading { "Staff access" }
                form method="post" action={ (base) "/grants" } {
                    input type="hidden" name="csrf" value=(csrf);
                    p.inline {
                        label for="grant-staff" { "Staff member" }
                        select #grant-staff name="staff_id" required {
                            @for s in &active {
                                @if !holders.iter().any(|(h, _)| *h == s.id) {
                                    option value=(s.id.0) { (s.name) }
                                }
                            }
                        }
                        label for="grant-role" { "Role" }
                        select #grant-role name="role" {
                            @for (r, label) in words::HOUSEHOLD_ROLES { option value=(words::role_value(r)) { (label) } }
                        }
                        label for="grant-until" { "Until (UTC, optional)" }
                        input #grant-until name="until" type="datetime-local" step="1";
                        label for="grant-reason" { "Reason" }
                        input #grant-reason name="reason" type="text" size="24";
                        button #grant-save type="submit" { "Save" }
                    }
                }
            }
            section #leads .card aria-labelledby="leads-heading" {
                h2 #leads-heading { "Primary and secondary professional" }
                form method="post" action={ (base) "/primary" } {
                    input type="hidden" name="csrf" value=(csrf);
                    p.inline {
                        label for="primary-staff" { "Primary professional" }
                        select #primary-staff name="staff_id" {
                            @for s in &leaders { option value=(s.id.0) selected[view.state.primary == Some(s.id)] { (s.name) } }
                        }
                        label for="previous-keeps" { "The previous primary keeps" }
                        select #previous-keeps name="previous_keeps" {
                            @for (r, label) in words::HOUSEHOLD_ROLES { option value=(words::role_value(r)) { (label) " access" } }
                            option value="none" { "No access" }
                        }
                        button #primary-save type="submit" { "Set primary" }
                    }
                }
                form method="post" action={ (base) "/secondary" } {
                    input type="hidden" name="csrf" value=(csrf);
                    p.inline {
                        label for="secondary-staff" { "Secondary professional" }
                        select #secondary-staff name="staff_id" {
                            option value="" { "None" }
                            @for s in &leaders { option value=(s.id.0) selected[view.state.secondary == Some(s.id)] { (s.name) } }
                        }
                        button #secondary-save type="submit" { "Set secondary" }
                    }
                }
            }
        } @else {
            p.muted { "You can see this household's team; changing it needs the \u{201c}manage household access\u{201d} permission." }
        }
        (super::erasure::section(p, view, me, csrf))
    })
}

#[derive(Deserialize)]
struct GrantForm {
    csrf: String,
    staff_id: Uuid,
    role: String,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
struct RoleForm {
    csrf: String,
    role: String,
}

#[derive(Deserialize)]
struct RemoveForm {
    csrf: String,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
struct PrimaryForm {
    csrf: String,
    staff_id: Uuid,
    previous_keeps: String,
}

#[derive(Deserialize)]
struct SecondaryForm {
    csrf: String,
    #[serde(default)]
    staff_id: String,
}

fn role(s: &str) -> Result<hearth_domain::roles::HouseholdRole, Problem> {
    words::parse_role(s).ok_or_else(|| {
        Problem::bad_request("invalid_role", format!("{s:?} is not a household role"))
    })
}

/// Runs a household-access command as the API does; shows the household again with the
/// outcome: a notice after a redirect, or the refusal in words with the API's status.
async fn act(
    state: &AppState,
    session: &Session,
    (p, h): (Uuid, Uuid),
    csrf: &str,
    done: &str,
    command: impl FnOnce(&AppState) -> Result<(HouseholdCommand, Option<String>), Problem>,
) -> PageResult {
    let outcome = async {
        session.check_csrf(csrf)?;
        let (cmd, reason) = command(state)?;
        household_command(
            state,
            session.caller,
            p,
            h,
            Action::ManageAccess,
            cmd,
            reason,
        )
        .await
    }
    .await;
    match outcome {
        Ok(accepted) => {
            let at_least = accepted
                .0
                .position
                .map(|pos| format!("&at_least={pos}"))
                .unwrap_or_default();
            Ok(Redirect::to(&format!(
                "/console/practices/{p}/households/{h}?done={done}{at_least}#team"
            ))
            .into_response())
        }
        // Refusals the household page can explain; "not found" stays a plain 404 page.
        Err(problem) if problem.status != StatusCode::NOT_FOUND => {
            page_handler(state, session, p, h, None, Some(problem)).await
        }
        Err(problem) => Err(problem.into()),
    }
}

pub async fn grant(
    State(state): State<AppState>,
    session: Session,
    Ids(ids): Ids<(Uuid, Uuid)>,
    body: Bytes,
) -> PageResult {
    let f: GrantForm = form(&body)?;
    act(&state, &session, ids, &f.csrf.clone(), "granted", |_| {
        let (staff_id, role) = (StaffId(f.staff_id), role(&f.role)?);
        let until = f.until.as_deref().filter(|u| !u.trim().is_empty());
        let cmd = match until {
            None => HouseholdCommand::GrantStaffAccess { staff_id, role },
            Some(u) => HouseholdCommand::GrantTemporaryAccess {
                staff_id,
                role,
                expires_at: words::parse_time(u)?,
            },
        };
        Ok((cmd, f.reason))
    })
    .await
}

pub async fn change_role(
    State(state): State<AppState>,
    session: Session,
    Ids((p, h, s)): Ids<(Uuid, Uuid, Uuid)>,
    body: Bytes,
) -> PageResult {
    let f: RoleForm = form(&body)?;
    act(&state, &session, (p, h), &f.csrf, "role_changed", |_| {
        Ok((
            HouseholdCommand::ChangeStaffRole {
                staff_id: StaffId(s),
                role: role(&f.role)?,
            },
            None,
        ))
    })
    .await
}

pub async fn remove(
    State(state): State<AppState>,
    session: Session,
    Ids((p, h, s)): Ids<(Uuid, Uuid, Uuid)>,
    body: Bytes,
) -> PageResult {
    let f: RemoveForm = form(&body)?;
    act(
        &state,
        &session,
        (p, h),
        &f.csrf.clone(),
        "removed",
        |state| {
            let staff = StaffId(s);
            let is_secondary = state
                .projection
                .read()
                .household_in(PracticeId(p), HouseholdId(h))
                .is_ok_and(|v| v.state.secondary == Some(staff));
            let cmd = if is_secondary {
                HouseholdCommand::ClearSecondaryProfessional
            } else {
                HouseholdCommand::RevokeStaffAccess { staff_id: staff }
            };
            Ok((cmd, f.reason))
        },
    )
    .await
}

pub async fn primary(
    State(state): State<AppState>,
    session: Session,
    Ids(ids): Ids<(Uuid, Uuid)>,
    body: Bytes,
) -> PageResult {
    let f: PrimaryForm = form(&body)?;
    act(&state, &session, ids, &f.csrf.clone(), "primary", |_| {
        let previous_keeps = match f.previous_keeps.as_str() {
            "none" => None,
            r => Some(role(r)?),
        };
        Ok((
            HouseholdCommand::AssignPrimaryProfessional {
                staff_id: StaffId(f.staff_id),
                previous_keeps,
            },
            None,
        ))
    })
    .await
}

pub async fn secondary(
    State(state): State<AppState>,
    session: Session,
    Ids(ids): Ids<(Uuid, Uuid)>,
    body: Bytes,
) -> PageResult {
    let f: SecondaryForm = form(&body)?;
    act(&state, &session, ids, &f.csrf.clone(), "secondary", |_| {
        if f.staff_id.trim().is_empty() {
            return Ok((HouseholdCommand::ClearSecondaryProfessional, None));
        }
        let id = Uuid::parse_str(f.staff_id.trim())
            .map_err(|_| Problem::bad_request("invalid_staff", "choose a staff member"))?;
        Ok((
            HouseholdCommand::SetSecondaryProfessional {
                staff_id: StaffId(id),
            },
            None,
        ))
    })
    .await
}
