//! What every request passes through on its way in and out, in one middleware: its id (the
//! client's when it sent one, made here otherwise, and echoed on the answer), its tracing span,
//! the header-size limit, a problem body for any bare error answer, and its metrics. They were
//! six tower layers, each with a future and a service clone of its own per request; an access
//! check spent more in them than in the check (ARCHITECTURE.md, docs/performance.md).

use std::time::Instant;

use axum::{
    extract::{Request, State},
    http::HeaderName,
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use crate::{metrics::RequestLabels, problem_layer, request_id::Sequential};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn frame(State(ids): State<Sequential>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = match req.headers().get(&REQUEST_ID) {
        Some(id) => id.clone(),
        None => {
            let id = ids.next_id();
            req.headers_mut().insert(REQUEST_ID, id.clone());
            id
        }
    };
    let labels = RequestLabels::of(&req);
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %id.to_str().unwrap_or("-"),
    );
    let response = match problem_layer::headers_too_large(&req) {
        Some(refused) => refused,
        None => next.run(req).instrument(span.clone()).await,
    };
    let mut response = problem_layer::as_problem_answer(response);
    let status = response.status();
    if status.is_server_error() {
        span.in_scope(|| {
            tracing::error!(
                status = status.as_u16(),
                latency_ms = started.elapsed().as_secs_f64() * 1e3,
                "response failed"
            )
        });
    }
    labels.record(status, started.elapsed());
    response.headers_mut().entry(REQUEST_ID).or_insert(id);
    response
}
