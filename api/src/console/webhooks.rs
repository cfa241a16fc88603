//! For practice managers: the practice's webhook endpoints — registration, failed deliveries,
//! dead letters — and redelivery, read and made through the API's own functions
//! (`routes::webhook_endpoints`, `routes::request_redelivery`).

use axum::{
    body::Bytes,
    extract::State,
    response::{IntoResponse, Redirect},
};
use hearth_domain::{PracticeId, WebhookId};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    form,
    layout::{page, Ids, PageResult, Params},
    nav,
    session::Session,
};
use crate::{
    routes::{request_redelivery, webhook_endpoints},
    state::AppState,
};

#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Ids(p): Ids<Uuid>,
    Params(q): Params<Done>,
) -> PageResult {
    let endpoints = webhook_endpoints(&state, session.caller, PracticeId(p)).await?;
    let kinds = |k: &[hearth_domain::access_changes::ChangeKind]| {
        if k.is_empty() {
            "every change".to_string()
        } else {
            k.iter()
                .filter_map(|k| serde_json::to_value(k).ok())
                .filter_map(|v| v.as_str().map(|s| s.replace('_', " ")))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let body = html! {
        h1 { "Webhooks" }
        @if q.done.as_deref() == Some("redelivery") { p.notice role="status" { "Redelivery requested." } }
        @if endpoints.is_empty() { p { "No webhook endpoints are registered (see the README: the change feed)." } }
        @for e in &endpoints {
            section id={ "webhook-" (e.id) } {
                h2 { (e.url) @if e.removed { " (removed)" } }
                p {
                    "Delivers " (kinds(&e.kinds)) ". Registered " (e.registered_at.format("%Y-%m-%d %H:%M:%S UTC"))
                    "; signing secret version " (e.secret_version)
                    "; " (e.failures_total) " failed attempt(s) in all."
                }
                h3 { "Dead letters" }
                @if e.dead_letters.is_empty() { p { "None." } }
                ul {
                    @for c in &e.dead_letters {
                        li {
                            form.inline method="post" action={ "/console/practices/" (p) "/webhooks/" (e.id) "/redeliver" } {
                                input type="hidden" name="csrf" value=(session.csrf);
                                input type="hidden" name="change_id" value=(c);
                                "Change " (c) " "
                                button type="submit" aria-label={ "Deliver change " (c) " again" } { "Deliver again" }
                            }
                        }
                    }
                }
                h3 { "Recent failed deliveries" }
                @if e.recent_failures.is_empty() { p { "None." } } @else {
                    table {
                        thead { tr { th { "When" } th { "Change" } th { "Attempt" } th { "What happened" } } }
                        tbody {
                            @for f in e.recent_failures.iter().rev() {
                                tr {
                                    td { (f.at.format("%Y-%m-%d %H:%M:%S")) }
                                    td { (f.change_id) }
                                    td { (f.attempt) @if f.dead_lettered { " (set aside)" } }
                                    td { (f.error) }
                                }
                            }
                        }
                    }
                }
                h3 { "Redeliveries" }
                @if e.redeliveries.is_empty() { p { "None." } }
                ul {
                    @for r in &e.redeliveries {
                        li {
                            "Change " (r.change_id) ", asked " (r.at.format("%Y-%m-%d %H:%M:%S")) ": "
                            @match r.delivered_at { Some(t) => { "delivered " (t.format("%H:%M:%S")) }, None => { "waiting" } }
                        }
                    }
                }
            }
        }
    };
    Ok(page("Webhooks", Some(&nav(&state, &session, p)), body).into_response())
}

#[derive(Deserialize)]
struct RedeliverForm {
    csrf: String,
    change_id: String,
}

pub async fn redeliver(
    State(state): State<AppState>,
    session: Session,
    Ids((p, w)): Ids<(Uuid, Uuid)>,
    body: Bytes,
) -> PageResult {
    let f: RedeliverForm = form(&body)?;
    session.check_csrf(&f.csrf)?;
    request_redelivery(
        &state,
        session.caller,
        PracticeId(p),
        WebhookId(w),
        f.change_id,
    )
    .await?;
    Ok(Redirect::to(&format!("/console/practices/{p}/webhooks?done=redelivery")).into_response())
}
