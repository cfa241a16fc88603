//! Operations: liveness, readiness, metrics, the OpenAPI document and a docs page.

use axum::{
    extract::State,
    http::StatusCode,
    response::{Html, IntoResponse},
    routing::get,
    Router,
};
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use crate::{problem::Problem, state::AppState};

#[derive(OpenApi)]
#[openapi(
    info(title = "Hearth", description = "Who may see which client household — decided, recorded, audited."),
    paths(
        super::practices::create_practice,
        super::practices::invite_staff,
        super::practices::activate_staff,
        super::practices::deactivate_staff,
        super::practices::change_role,
        super::practices::set_permission,
        super::practices::purchase_licences,
        super::practices::create_branch,
        super::practices::assign_assistant,
        super::practices::unassign_assistant,
        super::practices::assign_manager,
        super::practices::unassign_manager,
        super::practices::transfer_ownership,
        super::practices::reassign_households,
        super::households::create_household,
        super::households::assign_primary,
        super::households::set_secondary,
        super::households::clear_secondary,
        super::households::grant,
        super::households::change_grant,
        super::households::revoke,
        super::households::archive,
        super::households::restore,
        super::households::change_status,
        super::households::assign_branch,
        super::households::edit_member,
        super::queries::check,
        super::queries::explain,
        super::queries::staff_with_access,
        super::queries::households_of_staff,
        super::queries::history,
        super::queries::household_details,
        super::audit::roster,
        super::audit::roster_csv,
        super::audit::verify,
        super::integrations::create_integration,
        super::integrations::list_integrations,
        super::integrations::integration,
        super::integrations::update_integration,
        super::integrations::enable,
        super::integrations::disable,
        super::integrations::start_oauth,
        super::integrations::oauth_callback,
        super::integrations::preload_ids,
        super::integrations::sync_now,
        super::integrations::sync_runs,
        super::surveys::your_life_survey,
        super::surveys::values_session,
        super::surveys::best_life_plan,
        super::surveys::investment_preferences,
        super::surveys::export_investment_preferences,
        super::surveys::document,
        super::surveys::failed_notes,
        super::surveys::retry_note,
        super::directory::search_households,
        super::directory::list_staff,
        super::directory::practice_details,
        super::reports::report,
        super::reports::report_csv,
        super::reports::report_pdf,
        super::practice_admin::update_practice,
        super::practice_admin::move_staff,
    ),
    components(schemas(Problem, super::Accepted, super::directory::PracticeDetails)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/docs", get(docs))
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers and the read model has caught up with the log.
async fn readyz(State(state): State<AppState>) -> Result<axum::Json<serde_json::Value>, Problem> {
    state
        .store
        .head()
        .await
        .map_err(|e| Problem::unavailable("database_unreachable", e.to_string()))?;
    if !state.projection.ready() {
        return Err(Problem::unavailable(
            "projection_catching_up",
            "the read model is still replaying the log",
        ));
    }
    Ok(axum::Json(
        serde_json::json!({ "status": "ready", "cursor": state.projection.cursor() }),
    ))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    if let Ok(head) = state.store.head().await {
        metrics::gauge!("hearth_projection_lag_positions")
            .set((head.position - state.projection.cursor().position).max(0) as f64);
    }
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        crate::metrics::handle().render(),
    )
}

async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

/// A self-contained page (no CDN): every path with its methods and summary, from the same spec.
async fn docs() -> Html<String> {
    let spec = ApiDoc::openapi();
    let mut rows = String::new();
    for (path, item) in &spec.paths.paths {
        let ops = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, op) in ops {
            if let Some(op) = op {
                let summary = op
                    .description
                    .clone()
                    .or(op.summary.clone())
                    .unwrap_or_default();
                rows.push_str(&format!(
                    "<tr><td><code>{method}</code></td><td><code>{}</code></td><td>{}</td></tr>\n",
                    escape(path),
                    escape(&summary)
                ));
            }
        }
    }
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Hearth API</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td{{padding:4px 10px;border-bottom:1px solid #ddd;vertical-align:top}}</style></head>\
         <body><h1>Hearth API</h1><p>Every request carries <code>Authorization: Bearer &lt;JWT&gt;</code>. Errors are \
         <code>application/problem+json</code>. Machine-readable spec: <a href=\"/openapi.json\">/openapi.json</a>.</p>\
         <table>{rows}</table></body></html>"
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
