//! Errors made outside the handlers — by tower-http layers (413 body too large, 408 timeout),
//! by axum's method router (405) and by the header check here (431) — leave as problem+json too,
//! with a stable code per status. One place, so no plain-text or empty error body gets out.

use axum::{
    extract::Request,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use crate::problem::Problem;

/// Bytes of request header names and values accepted in all (431 beyond). Well under hyper's
/// own buffer, so Hearth answers before hyper would with a bare 431.
pub const HEADER_LIMIT: usize = 16 * 1024;

/// The stable code of a status when the error did not come with one.
pub fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        408 => "request_timeout",
        409 => "conflict",
        411 => "length_required",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "unprocessable",
        429 => "too_many_requests",
        431 => "request_header_fields_too_large",
        503 => "unavailable",
        504 => "gateway_timeout",
        s if s >= 500 => "internal",
        _ => "client_error",
    }
}

fn detail_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        405 => "this route does not take this method; the Allow header lists those it takes",
        408 => "the request took longer than the service allows; long work runs as a job",
        413 => "the request body is larger than the service accepts",
        431 => "the request headers are larger than the service accepts",
        s if s >= 500 => "an internal error occurred; it has been logged",
        _ => "the request could not be handled",
    }
}

/// Whether the response already says what went wrong in a form meant for its reader: a
/// problem, or a page (the console answers refusals as HTML pages with the API's status). Only
/// the bare answers of layers (empty or plain text) are rewritten.
fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json") || v.starts_with("text/html"))
}

/// Turns any error answer that is not yet problem+json into one, keeping `Allow`,
/// `Retry-After` and `Connection`.
pub fn as_problem_answer(mut response: Response) -> Response {
    let status = response.status();
    // A body refused for its size was not read to its end, so the connection cannot carry
    // another request: say so, or a client reusing it gets a broken answer to the next one.
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    if !(status.is_client_error() || status.is_server_error()) || is_problem(response.headers()) {
        return response;
    }
    let kept: Vec<_> = [header::ALLOW, header::RETRY_AFTER, header::CONNECTION]
        .into_iter()
        .filter_map(|h| response.headers().get(&h).cloned().map(|v| (h, v)))
        .collect();
    let mut problem = Problem::new(status, code_for(status), detail_for(status)).into_response();
    problem.headers_mut().extend(kept);
    problem
}

/// The 431 answer for a request whose headers together exceed [`HEADER_LIMIT`].
pub fn headers_too_large(req: &Request) -> Option<Response> {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    (size > HEADER_LIMIT).then(|| {
        Problem::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            code_for(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
            format!("the request headers are {size} bytes; at most {HEADER_LIMIT} are accepted"),
        )
        .into_response()
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::{body::Body, http::Request, middleware, routing::get, Router};
    use tower::ServiceExt;
    use tower_http::timeout::TimeoutLayer;

    use super::*;
    use crate::{frame::frame, request_id::Sequential};

    /// The router behind the service's request frame, as `startup::router` puts it.
    fn framed(router: Router) -> Router {
        router.layer(middleware::from_fn_with_state(Sequential::default(), frame))
    }

    async fn problem(
        router: Router,
        req: Request<Body>,
    ) -> (StatusCode, HeaderMap, serde_json::Value) {
        let r = router.oneshot(req).await.unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        (
            status,
            headers,
            serde_json::from_slice(&body).unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn a_timeout_answers_a_408_problem() {
        let router = framed(
            Router::new()
                .route(
                    "/slow",
                    get(|| async {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        "late"
                    }),
                )
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_millis(20),
                )),
        );
        let req = Request::get("/slow").body(Body::empty()).unwrap();
        let (status, headers, body) = problem(router, req).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(body["code"], "request_timeout");
    }

    #[tokio::test]
    async fn a_wrong_method_answers_a_405_problem_that_keeps_allow() {
        let router = framed(Router::new().route("/only-get", get(|| async { "ok" })));
        let req = Request::delete("/only-get").body(Body::empty()).unwrap();
        let (status, headers, body) = problem(router, req).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(headers.contains_key(header::ALLOW));
        assert_eq!(body["code"], "method_not_allowed");
    }

    #[tokio::test]
    async fn a_problem_from_a_handler_passes_unchanged() {
        let router = framed(Router::new().route(
            "/conflict",
            get(|| async { Problem::conflict("rule_named", "why") }),
        ));
        let req = Request::get("/conflict").body(Body::empty()).unwrap();
        let (status, _, body) = problem(router, req).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("rule_named"))
        );
    }

    #[tokio::test]
    async fn a_console_page_refusal_passes_unchanged() {
        let router = framed(Router::new().route(
            "/page",
            get(|| async {
                (
                    StatusCode::FORBIDDEN,
                    axum::response::Html("<p class=\"refusal\">Not permitted</p>"),
                )
            }),
        ));
        let r = router
            .oneshot(Request::get("/page").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("Not permitted"));
    }

    #[tokio::test]
    async fn headers_over_the_limit_answer_a_431_problem_and_every_answer_carries_a_request_id() {
        let router = framed(Router::new().route("/ok", get(|| async { "ok" })));
        let big = "x".repeat(HEADER_LIMIT + 1);
        let req = Request::get("/ok")
            .header("x-big", big.as_str())
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = problem(router.clone(), req).await;
        assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        assert_eq!(body["code"], "request_header_fields_too_large");
        assert!(headers.contains_key("x-request-id"));
        // The client's id is kept; without one, each request gets its own.
        let mine = Request::get("/ok")
            .header("x-request-id", "client-chosen")
            .body(Body::empty())
            .unwrap();
        let r = router.clone().oneshot(mine).await.unwrap();
        assert_eq!(r.headers()["x-request-id"], "client-chosen");
        let mut ids = Vec::new();
        for _ in 0..2 {
            let r = router
                .clone()
                .oneshot(Request::get("/ok").body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            ids.push(r.headers()["x-request-id"].clone());
        }
        assert_ne!(ids[0], ids[1]);
    }
}
