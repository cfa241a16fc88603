//! Prometheus metrics. The recorder is process-global, so it is installed once and shared by
//! every `Application` in the process (tests start several).

use std::{
    collections::HashMap,
    sync::{OnceLock, RwLock},
    time::Instant,
};

use axum::{extract::MatchedPath, extract::Request, middleware::Next, response::Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .install_recorder()
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder().handle())
        })
        .clone()
}

/// A label value for one of a bounded set of strings (route templates, status codes), leaked
/// once so that labelling a request allocates nothing.
fn interned(value: &str) -> &'static str {
    static VALUES: OnceLock<RwLock<HashMap<String, &'static str>>> = OnceLock::new();
    let values = VALUES.get_or_init(Default::default);
    if let Some(v) = values.read().ok().and_then(|m| m.get(value).copied()) {
        return v;
    }
    let mut m = values.write().unwrap_or_else(|p| p.into_inner());
    m.entry(value.to_owned())
        .or_insert_with(|| Box::leak(value.to_owned().into_boxed_str()))
}

/// Counts requests and records latency per matched route (never the raw path: ids would explode
/// the label set) and status.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| interned(p.as_str()))
        .unwrap_or("unmatched");
    // Methods are the client's to choose: only the known ones become labels.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => interned(m),
        _ => "other",
    };
    let started = Instant::now();
    let response = next.run(req).await;
    let status = interned(response.status().as_str());
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("hearth_http_requests_total", &labels).increment(1);
    metrics::histogram!("hearth_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
