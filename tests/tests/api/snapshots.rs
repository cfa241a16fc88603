//! A service restarted on a projection snapshot (written at its graceful shutdown) starts from it
//! and still serves read-your-writes with `at_least`, for its own writes and another instance's.

use std::time::Duration;

use hearth_eventstore::testing::{TestDatabase, TestSqlite};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{settings, spawn_on, spawn_with, TestApp};

const SNAPSHOT: &str = "snapshots/access-model.snapshot";

fn scratch() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("hearth-test-{}", Uuid::new_v4()))
}

async fn until_ready(app: &TestApp) {
    for _ in 0..200 {
        if app.call(Method::GET, "/readyz", None, None).await.status == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service did not become ready");
}

async fn restarted_on_a_snapshot_serves_read_your_writes(url: &str) {
    let dir = scratch();
    let mut first = spawn_with(settings(url, &dir)).await;
    let (p, _, owner) = first.practice().await;
    let (adviser, adviser_token) = first.staff(p, &owner, "professional", "adviser").await;
    let (before, _) = first.household(p, &adviser_token, "Before").await;
    first.stop();
    first.server.take().unwrap().await.unwrap().unwrap();
    // The first instance's data dir goes with it; keep its snapshot for the next one.
    let kept = scratch();
    std::fs::create_dir_all(kept.join("snapshots")).unwrap();
    std::fs::copy(dir.join(SNAPSHOT), kept.join(SNAPSHOT)).expect("a snapshot at shutdown");
    drop(first);

    let second = spawn_with(settings(url, &kept)).await;
    until_ready(&second).await;
    let metrics = second.call(Method::GET, "/metrics", None, None).await.text;
    assert!(
        metrics.contains("hearth_projection_snapshot_loaded_position"),
        "started from the snapshot"
    );
    let other = spawn_on(url).await;
    for (round, writer) in [&second, &other, &second].into_iter().enumerate() {
        let (h, position) = writer
            .household(p, &adviser_token, &format!("After{round}"))
            .await;
        let r = second
            .get(
                &format!("/v1/practices/{p}/households/{h}/access/{adviser}?at_least={position}"),
                &adviser_token,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["allowed"], json!(true), "round {round}: {}", r.text);
    }
    let r = second
        .get(
            &format!("/v1/practices/{p}/households/{before}/access/{adviser}"),
            &adviser_token,
        )
        .await;
    assert_eq!(r.body["allowed"], json!(true), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_started_on_a_snapshot_serves_read_your_writes_on_postgres() {
    let db = TestDatabase::create().await;
    restarted_on_a_snapshot_serves_read_your_writes(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_started_on_a_snapshot_serves_read_your_writes_on_sqlite() {
    let file = TestSqlite::new();
    restarted_on_a_snapshot_serves_read_your_writes(&file.url).await;
}
