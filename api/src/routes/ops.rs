//! Operations: liveness, readiness, metrics, the OpenAPI document and a docs page.

use axum::{
    extract::State,
    http::StatusCode,
    response::{Html, IntoResponse},
};
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{problem::Problem, state::AppState};

#[derive(OpenApi)]
#[openapi(
    info(title = "Hearth", description = "Who may see which client household — decided, recorded, audited."),
    components(schemas(
        Problem,
        super::Accepted,
        hearth_domain::permissions::Permission,
        hearth_domain::roles::Action,
        hearth_domain::roles::HouseholdRole,
        hearth_domain::roles::PracticeRole,
        hearth_domain::household::HouseholdStatus,
        hearth_domain::practice::StaffStatus,
        super::directory::PracticeDetails,
    )),
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

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
        .routes(routes!(docs))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers and the read model has caught up with the log.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = Object), (status = 503, body = Problem, content_type = "application/problem+json")))]
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

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, body = String, content_type = "text/plain")))]
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

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, body = Object)))]
async fn openapi() -> axum::Json<&'static utoipa::openapi::OpenApi> {
    axum::Json(super::openapi())
}

/// A self-contained page (no CDN): every path with its methods and summary, from the same spec.
#[utoipa::path(get, path = "/docs", tag = "operations", responses((status = 200, body = String, content_type = "text/html")))]
async fn docs() -> Html<String> {
    let spec = super::openapi();
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
