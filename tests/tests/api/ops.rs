//! Operations: health, readiness, metrics, the OpenAPI document, docs, verify, shutdown.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{
    helpers::{spawn_app, Backend},
    on_both_backends,
};

on_both_backends!(
    operations_endpoints_answer,
    the_verify_endpoint_vouches_for_the_log
);

/// The router and the OpenAPI document come from one table: every documented operation is
/// served (no "no such route"), so neither can drift from the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_routed() {
    let app = spawn_app(Backend::Sqlite).await;
    let spec = app.call(Method::GET, "/openapi.json", None, None).await;
    let paths = spec.body["paths"].as_object().expect("paths");
    assert!(paths.len() >= 50, "only {} paths documented", paths.len());
    assert!(paths.contains_key(hearth_api::xplan::CALLBACK_PATH));
    let mut checked = 0;
    for (template, item) in paths {
        let path = fill_parameters(template);
        for (method, _) in item.as_object().expect("path item") {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            let r = app.call(method.clone(), &path, None, None).await;
            assert_ne!(
                r.body["code"],
                json!("no_such_route"),
                "{method} {template} is documented but not routed"
            );
            checked += 1;
        }
    }
    let unknown = app.call(Method::GET, "/v1/no-such-thing", None, None).await;
    assert_eq!(unknown.body["code"], json!("no_such_route"));
    assert!(checked >= 55, "only {checked} operations checked");
}

fn fill_parameters(template: &str) -> String {
    template
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                uuid::Uuid::new_v4().to_string()
            } else {
                seg.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn operations_endpoints_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((r.status, r.text.as_str()), (StatusCode::OK, "ok"));
    let mut ready = app.call(Method::GET, "/readyz", None, None).await;
    for _ in 0..50 {
        if ready.status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        ready = app.call(Method::GET, "/readyz", None, None).await;
    }
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    app.practice().await;
    let metrics = app.call(Method::GET, "/metrics", None, None).await;
    assert!(
        metrics.text.contains("hearth_http_requests_total"),
        "{}",
        metrics.text
    );
    let spec = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(
        spec.body["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    assert!(spec.body["paths"]
        ["/v1/practices/{practice_id}/households/{household_id}/access/{staff_id}"]["get"]
        .is_object());
    let docs = app.call(Method::GET, "/docs", None, None).await;
    assert!(docs.text.contains("/v1/practices/{practice_id}/households"));
    let id = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(id.headers().contains_key("x-request-id"));
}

async fn the_verify_endpoint_vouches_for_the_log(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let r = app
        .get(&format!("/v1/practices/{p}/log/verify"), &owner)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["intact"], json!(true));
    assert!(r.body["events_checked"].as_u64().unwrap() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_an_in_flight_request_finish() {
    let mut app = spawn_app(Backend::Sqlite).await;
    let (p, _, owner) = app.practice().await;
    // A read that has to wait (at_least for a position not yet written) is in flight when the
    // stop arrives; it must still get its answer, not a dropped connection.
    let client = app.client.clone();
    let url = app.url(&format!("/v1/practices/{p}/roster"));
    let in_flight = tokio::spawn(async move {
        client
            .get(url)
            .bearer_auth(owner)
            .send()
            .await
            .map(|r| r.status())
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    app.stop();
    let status = in_flight
        .await
        .unwrap()
        .expect("the in-flight request was answered");
    assert_eq!(status, StatusCode::OK);
    let server = app.server.take().unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}
