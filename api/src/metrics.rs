//! Prometheus metrics. The recorder is process-global, so it is installed once and shared by
//! every `Application` in the process (tests start several).

use std::{
    collections::HashMap,
    sync::{OnceLock, RwLock},
    time::Duration,
};

use axum::{extract::MatchedPath, extract::Request, http::StatusCode};
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

/// A request's metric labels: its matched route (never the raw path: ids would explode the
/// label set) and method. Taken on the way in; [`Self::record`] counts the request and its
/// latency with the status on the way out.
pub struct RequestLabels {
    method: &'static str,
    route: &'static str,
}

impl RequestLabels {
    pub fn of(req: &Request) -> Self {
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
        RequestLabels { method, route }
    }

    pub fn record(&self, status: StatusCode, latency: Duration) {
        let labels = [
            ("method", self.method),
            ("route", self.route),
            ("status", interned(status.as_str())),
        ];
        metrics::counter!("hearth_http_requests_total", &labels).increment(1);
        metrics::histogram!("hearth_http_request_duration_seconds", &labels)
            .record(latency.as_secs_f64());
    }
}
