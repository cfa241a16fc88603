//! Errors and operations of issue 11: every error a problem (also from layers), counted; short
//! JWT leeway; a database outage is a 503 and the service recovers; sync runs are jobs that a
//! shutdown interrupts at a safe point and the scheduler runs again.

use std::time::Duration;

use hearth_api::auth::Caller;
use hearth_eventstore::EventStore;
use hearth_integrations::fake::{Fault, Route};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{problem_code, spawn_app, spawn_with, Backend},
    on_both_backends,
    xplan::{connected, fake},
};

on_both_backends!(
    errors_made_by_layers_are_problems_and_are_counted,
    a_token_past_its_expiry_beyond_the_leeway_is_refused,
);

async fn problem_of(r: reqwest::Response) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let (status, headers) = (r.status(), r.headers().clone());
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{status}"
    );
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

async fn errors_made_by_layers_are_problems_and_are_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;

    let r = app
        .client
        .put(app.url("/v1/practices"))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    let (status, headers, body) = problem_of(r).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
    assert!(headers.contains_key("allow"), "the Allow header is kept");

    let r = app
        .client
        .get(app.url(&format!("/v1/practices/{p}/roster")))
        .bearer_auth(&owner)
        .header("x-filler", "f".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    let (status, _, body) = problem_of(r).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Some("request_header_fields_too_large")
        )
    );

    // Over the test body limit (64 KiB), announced by Content-Length. The service answers before
    // reading the body and closes the connection, so this goes on a connection of its own.
    let r = reqwest::Client::new()
        .post(app.url(&format!("/v1/practices/{p}/staff")))
        .bearer_auth(&owner)
        .header("content-type", "application/json")
        .body(vec![b' '; 100 * 1024])
        .send()
        .await
        .unwrap();
    let (status, _, body) = problem_of(r).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );

    let metrics = app.call(Method::GET, "/metrics", None, None).await.text;
    for status in ["405", "413", "431"] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("hearth_http_requests_total")
                    && l.contains(&format!("status=\"{status}\""))),
            "{status} is counted"
        );
    }
}

async fn a_token_past_its_expiry_beyond_the_leeway_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, owner, _) = app.practice().await;
    let stale = app
        .keys
        .mint(
            Caller::Staff {
                practice: p,
                staff: owner,
            },
            chrono::Utc::now() - chrono::Duration::seconds(70),
            chrono::Duration::seconds(60),
        )
        .unwrap();
    let r = app.get(&format!("/v1/practices/{p}/roster"), &stale).await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::UNAUTHORIZED, "unauthenticated"),
        "ten seconds past expiry"
    );
}

fn database_name(url: &str) -> String {
    let path = url.rsplit('/').next().unwrap_or_default();
    path.split('?').next().unwrap_or_default().to_string()
}

async fn admin() -> sqlx::PgConnection {
    use sqlx::Connection;
    let url = std::env::var("HEARTH_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!("HEARTH_TEST_DATABASE_URL is not set: point it at a PostgreSQL admin URL")
    });
    sqlx::PgConnection::connect(&url)
        .await
        .expect("PostgreSQL at HEARTH_TEST_DATABASE_URL answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_with_retry_after_and_the_service_recovers() {
    let app = spawn_app(Backend::Postgres).await;
    let (p, _, owner) = app.practice().await;
    let name = database_name(&app.database_url);
    let mut admin = admin().await;
    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
        .bind(&name)
        .execute(&mut admin)
        .await
        .unwrap();

    let create = || {
        app.client
            .post(app.url(&format!("/v1/practices/{p}/households")))
            .bearer_auth(&owner)
            .json(&json!({"client": {"first_name": "Casey", "last_name": "Outage"}}))
            .send()
    };
    for _ in 0..3 {
        let (status, headers, body) = problem_of(create().await.unwrap()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")),
            "{body}"
        );
        assert!(headers.contains_key("retry-after"), "{headers:?}");
    }

    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut last = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..40 {
        last = create().await.unwrap().status();
        if last == StatusCode::CREATED {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(last, StatusCode::CREATED, "the service recovers on its own");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_job_answers_at_once_is_interrupted_at_shutdown_and_rerun_by_the_scheduler() {
    let db = std::sync::Arc::new(hearth_eventstore::testing::TestDatabase::create().await);
    // Both instances must decrypt the stored XPLAN tokens: one encryption key.
    let key = hearth_integrations::crypto::Cipher::generate_key();
    let settings = || {
        let mut s = crate::helpers::settings(
            &db.url,
            &std::env::temp_dir().join(format!("hearth-test-{}", Uuid::new_v4())),
        );
        s.xplan.encryption_key = Some(key.clone());
        s
    };
    let mut app = spawn_with(settings()).await;
    let xplan = fake().await;
    xplan.seed(40, 1);
    let c = connected(&app, &xplan).await;
    // Every sub-list answers slowly: the run takes seconds, the request does not.
    xplan.inject_after(
        Route::ClientList,
        0,
        Fault::Latency(Duration::from_millis(200)),
        100_000,
    );

    let started = std::time::Instant::now();
    let r = app
        .post(&format!("{}/sync", c.base), &c.owner_token, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered before the run ends"
    );
    let run_id = r.body["run_id"].as_str().unwrap().to_string();
    let status_url = r.body["status_url"].as_str().unwrap().to_string();
    let r = app.get(&status_url, &c.owner_token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "running", "{}", r.text);
    let r = app
        .get(
            &format!("{}/sync-runs/{}", c.base, Uuid::now_v7()),
            &c.owner_token,
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::NOT_FOUND, "not_found")
    );

    app.stop();
    app.server.take().unwrap().await.unwrap().unwrap();
    let store = EventStore::connect(&db.url).await.unwrap();
    let recorded: Vec<Value> = store
        .read_stream(&format!("integration-{}", c.integration), 1)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == "integration.sync_recorded")
        .map(|e| e.data)
        .collect();
    assert_eq!(recorded.len(), 1, "the interrupted run is recorded");
    let run = &recorded[0]["run"];
    assert_eq!(
        (run["run_id"].as_str(), run["outcome"].as_str()),
        (Some(run_id.as_str()), Some("interrupted")),
        "{run}"
    );
    assert!(run["summary"]["created"].as_u64().unwrap() < 40, "{run}");

    // After the restart the scheduler runs it again at once (the interval is an hour).
    xplan.clear_faults();
    let again = spawn_with(settings()).await;
    let mut runs = Value::Null;
    for _ in 0..300 {
        runs = again
            .get(&format!("{}/sync-runs", c.base), &c.owner_token)
            .await
            .body;
        if runs[0]["trigger"] == "schedule" && runs[0]["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        (runs[0]["trigger"].as_str(), runs[0]["status"].as_str()),
        (Some("schedule"), Some("completed")),
        "{runs}"
    );
    assert_eq!(runs[1]["status"], "interrupted", "{runs}");
    let r = again
        .get(
            &format!(
                "/v1/practices/{}/roster?at_least={}",
                c.p,
                runs[0]["position"].as_str().unwrap()
            ),
            &c.owner_token,
        )
        .await;
    assert_eq!(
        r.body["households"].as_array().map(Vec::len),
        Some(40),
        "every client exactly once"
    );
}
