//! For auditors and compliance: a household's access timeline with an "as of" picker and the
//! path that decided each person's access, a staff member's households now or as of a time, the
//! practice's access report (with CSV and PDF) and the log's integrity.

use std::collections::BTreeMap;

use axum::{extract::State, response::IntoResponse};
use chrono::{DateTime, Utc};
use hearth_domain::{HouseholdId, PracticeId, StaffId};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    layout::{page, Ids, PageResult, Params},
    names, nav,
    session::Session,
    words,
};
use crate::{
    problem::Problem,
    routes::{
        access_report, csv_of, download, households_of, integrity as verify_log, may_ask, pdf_of,
        ReportParams,
    },
    state::AppState,
};

#[derive(Deserialize, Default)]
pub struct AsOf {
    at: Option<String>,
}

fn as_of(q: &AsOf) -> Result<Option<DateTime<Utc>>, Problem> {
    q.at.as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(words::parse_time)
        .transpose()
}

fn as_of_form(at: Option<DateTime<Utc>>, what: &str) -> Markup {
    html! {
        form method="get" .inline aria-label="As of" {
            label for="at" { "As of (UTC)" }
            input #at type="datetime-local" step="1" name="at" value=(at.map(words::input_time).unwrap_or_default());
            button #as-of type="submit" { (what) }
            @if at.is_some() { a href="?" { "Now" } }
        }
    }
}

pub async fn household_access(
    State(state): State<AppState>,
    session: Session,
    Ids((p, h)): Ids<(Uuid, Uuid)>,
    Params(q): Params<AsOf>,
) -> PageResult {
    let (practice, household) = (PracticeId(p), HouseholdId(h));
    may_ask(&state, session.caller, practice, household, None).await?;
    let asked = as_of(&q)?;
    let at = asked.unwrap_or_else(Utc::now);
    let names = names(&state, practice);
    let (title, who, history, created) = {
        let model = state.projection.read();
        let view = model.household_in(practice, household)?;
        (
            view.state.name.clone(),
            model.staff_with_access(practice, household, at)?,
            model.history(practice, household)?,
            view.created_at,
        )
    };
    let now = Utc::now();
    let span = (now - created).num_milliseconds().max(1) as f64;
    let pct = |t: DateTime<Utc>| {
        ((t - created).num_milliseconds() as f64 / span * 100.0).clamp(0.0, 100.0)
    };
    let mut by_staff: BTreeMap<String, Vec<&hearth_projections::AccessInterval>> = BTreeMap::new();
    for i in &history.intervals {
        by_staff
            .entry(words::name(&names, i.staff_id))
            .or_default()
            .push(i);
    }
    let body = html! {
        h1 { "Access to " (title) }
        p { a href={ "/console/practices/" (p) "/households/" (h) } { "Back to the household" } }
        section.card aria-labelledby="asof-heading" {
            h2 #asof-heading { "Who had access " @if asked.is_some() { "at " (words::time(at)) } @else { "now" } }
            (as_of_form(asked, "Show"))
            table #who {
                thead { tr { th { "Staff member" } th { "Practice role" } th { "Decided by" } th { "May" } } }
                tbody {
                    @for s in &who {
                        tr id={ "who-" (s.staff_id.0) } {
                            td { a href={ "/console/practices/" (p) "/staff/" (s.staff_id.0) } { (s.name) } }
                            td { (s.role.map(words::practice_role).unwrap_or("")) }
                            td.path { (s.path.as_ref().map(|x| words::path(&names, x)).unwrap_or_default()) }
                            td { (words::actions(&s.actions)) }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="timeline-heading" {
            h2 #timeline-heading { "Timeline" }
            p.legend.muted { "From " (words::time(created)) " to now. "
                span.h-primary { "Primary" } span.h-secondary { "Secondary" } span.h-role { "Role" } }
            table #timeline {
                thead { tr { th { "Staff member" } th { "Held" } } }
                tbody {
                    @for (who, spans) in &by_staff {
                        tr {
                            th scope="row" { (who) }
                            td { div.bar role="img" aria-label={ (who) ": " (spans.iter().map(|i| format!("{} from {} to {}", words::holding(i.holding), words::time(i.from), i.to.map(words::time).unwrap_or_else(|| "now".into()))).collect::<Vec<_>>().join("; ")) } {
                                @for i in spans {
                                    @let (a, b) = (pct(i.from), pct(i.to.unwrap_or(now)));
                                    div class={ "seg " (words::holding_class(i.holding)) } style={ "left:" (format!("{a:.2}")) "%;width:" (format!("{:.2}", (b - a).max(0.6))) "%" } title=(words::holding(i.holding)) { (words::holding(i.holding)) }
                                }
                            } }
                        }
                    }
                }
            }
            h3 { "Every change" }
            table #history {
                thead { tr { th { "Staff member" } th { "Access" } th { "From" } th { "To" } th { "Granted by" } th { "Ended by" } th { "Reason" } } }
                tbody {
                    @for i in &history.intervals {
                        tr {
                            td { (words::name(&names, i.staff_id)) }
                            td { (words::holding(i.holding)) }
                            td { (words::time(i.from)) }
                            td { (i.to.map(words::time).unwrap_or_else(|| "—".into())) }
                            td { (words::actor(&names, &i.granted_by.to_string())) }
                            td { (i.revoked_by.as_ref().map(|a| words::actor(&names, &a.to_string())).unwrap_or_default()) }
                            td { (i.reason.clone().unwrap_or_default())
                                 @if let Some(e) = &i.end_reason { @if i.reason.is_some() { " · ended: " } (e) } }
                        }
                    }
                }
            }
        }
    };
    Ok(page("Access timeline", Some(&nav(&state, &session, p)), body).into_response())
}

pub async fn staff_member(
    State(state): State<AppState>,
    session: Session,
    Ids((p, s)): Ids<(Uuid, Uuid)>,
    Params(q): Params<AsOf>,
) -> PageResult {
    let practice = PracticeId(p);
    let asked = as_of(&q)?;
    let at = asked.unwrap_or_else(Utc::now);
    let list = households_of(&state, session.caller, practice, StaffId(s), at).await?;
    let names = names(&state, practice);
    let who = words::name(&names, StaffId(s));
    let body = html! {
        h1 { (who) }
        h2 { "Households " (who) " can access " @if asked.is_some() { "at " (words::time(at)) } @else { "now" } }
        (as_of_form(asked, "Show"))
        table #households {
            thead { tr { th { "Household" } th { "Decided by" } th { "May" } } }
            tbody {
                @for h in &list {
                    tr {
                        td { a href={ "/console/practices/" (p) "/households/" (h.household_id.0) } { (h.name) } }
                        td { (h.path.as_ref().map(|x| words::path(&names, x)).unwrap_or_default()) }
                        td { (words::actions(&h.actions)) }
                    }
                }
            }
        }
        @if list.is_empty() { p { "None." } }
    };
    Ok(page(&who, Some(&nav(&state, &session, p)), body).into_response())
}

#[derive(Deserialize, Default)]
pub struct Period {
    from: Option<String>,
    to: Option<String>,
}

fn period(q: &Period) -> Result<Option<ReportParams>, Problem> {
    match (q.from.as_deref(), q.to.as_deref()) {
        (Some(f), Some(t)) if !f.trim().is_empty() && !t.trim().is_empty() => {
            Ok(Some(ReportParams {
                from: words::parse_time(f)?,
                to: words::parse_time(t)?,
                at_least: None,
            }))
        }
        _ => Ok(None),
    }
}

pub async fn report(
    State(state): State<AppState>,
    session: Session,
    Ids(p): Ids<Uuid>,
    Params(q): Params<Period>,
) -> PageResult {
    let practice = PracticeId(p);
    let chosen = period(&q)?;
    // The default period ends at the next whole second: the form and the download links carry
    // whole seconds, and a period cut at the current second would drop what happened within it.
    let shown = chosen.clone().unwrap_or_else(|| {
        let to = next_whole_second(Utc::now());
        ReportParams {
            from: to - chrono::Duration::days(30),
            to,
            at_least: None,
        }
    });
    let report = access_report(&state, session.caller, practice, &shown).await?;
    let names = names(&state, practice);
    let query = format!(
        "from={}&to={}",
        words::input_time(shown.from),
        words::input_time(shown.to)
    );
    let body = html! {
        h1 { "Access report" }
        p { "Who held which household — as primary, secondary or with a role — at any moment of the period." }
        form method="get" .inline {
            label for="from" { "From (UTC)" }
            input #from type="datetime-local" step="1" name="from" value=(words::input_time(shown.from));
            label for="to" { "To (UTC)" }
            input #to type="datetime-local" step="1" name="to" value=(words::input_time(shown.to));
            button #report-show type="submit" { "Show" }
        }
        p { a #csv href={ "/console/practices/" (p) "/report.csv?" (query) } download { "Download CSV" }
            " · " a #pdf href={ "/console/practices/" (p) "/report.pdf?" (query) } download { "Download PDF" } }
        table #report {
            thead { tr { th { "Household" } th { "Staff member" } th { "Access" } th { "From" } th { "To" } th { "Granted by" } th { "Ended by" } th { "Reason" } } }
            tbody {
                @for r in &report.rows {
                    tr {
                        td { (r.household) }
                        td { (r.staff) }
                        td { (words::holding(r.holding)) }
                        td { (words::time(r.from)) }
                        td { (r.to.map(words::time).unwrap_or_else(|| "—".into())) }
                        td { (words::actor(&names, &r.granted_by.to_string())) }
                        td { (r.revoked_by.as_ref().map(|a| words::actor(&names, &a.to_string())).unwrap_or_default()) }
                        td { (r.end_reason.clone().or(r.reason.clone()).unwrap_or_default()) }
                    }
                }
            }
        }
        p.muted { (report.rows.len()) " holdings." }
    };
    Ok(page("Access report", Some(&nav(&state, &session, p)), body).into_response())
}

async fn report_file(
    state: &AppState,
    session: &Session,
    p: Uuid,
    q: &Period,
) -> Result<hearth_projections::AccessReport, Problem> {
    let params = period(q)?.ok_or_else(|| {
        Problem::bad_request("invalid_period", "choose the period's start and end")
    })?;
    access_report(state, session.caller, PracticeId(p), &params).await
}

pub async fn report_csv(
    State(state): State<AppState>,
    session: Session,
    Ids(p): Ids<Uuid>,
    Params(q): Params<Period>,
) -> PageResult {
    let r = report_file(&state, &session, p, &q).await?;
    Ok(download(
        "text/csv; charset=utf-8",
        "access-report.csv",
        csv_of(&r)?,
    ))
}

pub async fn report_pdf(
    State(state): State<AppState>,
    session: Session,
    Ids(p): Ids<Uuid>,
    Params(q): Params<Period>,
) -> PageResult {
    let r = report_file(&state, &session, p, &q).await?;
    Ok(download(
        "application/pdf",
        "access-report.pdf",
        pdf_of(&r)?,
    ))
}

pub async fn integrity(
    State(state): State<AppState>,
    session: Session,
    Ids(p): Ids<Uuid>,
) -> PageResult {
    let report = verify_log(&state, session.caller, PracticeId(p)).await?;
    let body = html! {
        h1 { "Log integrity" }
        @if report.intact {
            p.notice #intact role="status" { "The practice's history is intact: every event's hash, signature, chain and proof against a checkpoint signed now checked out." }
        } @else {
            p.refusal #broken role="alert" { "The log has been altered: " (report.problem.clone().unwrap_or_default()) }
        }
        table {
            tbody {
                tr { th scope="row" { "Events checked" } td { (report.events_checked) } }
                tr { th scope="row" { "Of them, since the last checkpoint" } td { (report.pending_events) } }
                tr { th scope="row" { "Checked at" } td { (words::time(Utc::now())) } }
            }
        }
    };
    Ok(page("Log integrity", Some(&nav(&state, &session, p)), body).into_response())
}

fn next_whole_second(t: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    use chrono::{DurationRound, TimeDelta};
    let floor = t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t);
    if floor == t {
        t
    } else {
        floor + TimeDelta::seconds(1)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_default_period_ends_at_or_after_now_on_a_whole_second() {
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 15, 32, 37).unwrap();
        let later = t + chrono::TimeDelta::milliseconds(69);
        assert_eq!(next_whole_second(later), t + chrono::TimeDelta::seconds(1));
        assert_eq!(next_whole_second(t), t);
    }
}
