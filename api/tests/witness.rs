//! The checkpoint witness over real HTTP: a witness that is down for a while still receives
//! every checkpoint the service signed, once each, in order, signed by the log's key and sent
//! with the configured bearer token.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{http::HeaderMap, http::StatusCode, routing::post, Json, Router};
use hearth_api::transparency::{self, CheckpointPolicy, WitnessSettings};
use hearth_eventstore::{
    testing::TestSqlite, Checkpoint, ExpectedVersion, LogSigner, Metadata, NewEvent,
};
use serde_json::json;

#[derive(Default)]
struct Receiver {
    /// How many requests to refuse (503) before accepting.
    refuse: usize,
    seen_auth: Vec<Option<String>>,
    accepted: Vec<Checkpoint>,
}

async fn witness(receiver: Arc<Mutex<Receiver>>) -> reqwest::Url {
    let app = Router::new().route(
        "/witness",
        post(move |headers: HeaderMap, Json(c): Json<Checkpoint>| {
            let receiver = receiver.clone();
            async move {
                let mut r = receiver.lock().unwrap();
                r.seen_auth.push(
                    headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(String::from),
                );
                if r.refuse > 0 {
                    r.refuse -= 1;
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                r.accepted.push(c);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    reqwest::Url::parse(&format!("http://{addr}/witness")).unwrap()
}

fn event(n: i64) -> Vec<NewEvent> {
    vec![NewEvent {
        event_id: uuid::Uuid::new_v4(),
        event_type: "counted".into(),
        schema_version: 1,
        data: json!({ "n": n }),
        metadata: Metadata {
            actor: "witness-test".into(),
            practice_id: None,
            correlation_id: None,
            causation_id: None,
            occurred_at: chrono::Utc::now(),
        },
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_that_was_down_receives_every_checkpoint_in_order() {
    let receiver = Arc::new(Mutex::new(Receiver {
        refuse: 3,
        ..Receiver::default()
    }));
    let url = witness(receiver.clone()).await;
    let db = TestSqlite::new();
    let signer = LogSigner::generate();
    let key = signer.public_key().clone();
    let store = db.store().await.unwrap().with_signer(Arc::new(signer));
    let policy = CheckpointPolicy {
        every_events: 1,
        interval: Duration::from_millis(100),
        witness: WitnessSettings {
            file: None,
            url: Some(url),
            token: Some("witness-secret".into()),
        },
        witness_retry: Duration::from_millis(100),
    };
    let task = tokio::spawn(transparency::run(store.clone(), policy));
    for n in 1..=4 {
        store
            .append("counter", expected(n), event(n))
            .await
            .unwrap();
        wait_until(|| async { store.checkpoints().await.unwrap().len() as i64 >= n }).await;
    }
    let signed = store.checkpoints().await.unwrap();
    wait_until(|| async { receiver.lock().unwrap().accepted.len() >= signed.len() }).await;
    task.abort();

    let r = receiver.lock().unwrap();
    let sizes = |list: &[Checkpoint]| list.iter().map(|c| c.tree_size).collect::<Vec<_>>();
    assert_eq!(sizes(&r.accepted), sizes(&signed), "each once, in order");
    assert!(r.accepted.iter().all(|c| c.verify(&key)));
    assert!(
        r.seen_auth.len() > r.accepted.len(),
        "the refusals were retried"
    );
    assert!(r
        .seen_auth
        .iter()
        .all(|a| a.as_deref() == Some("Bearer witness-secret")));
}

#[test]
fn a_witness_url_with_credentials_or_another_scheme_is_refused() {
    for bad in [
        "ftp://witness.example/",
        "https://user:pass@witness.example/",
        "not a url",
        "file:///etc/passwd",
    ] {
        assert!(transparency::witness_url(bad).is_err(), "{bad}");
    }
    assert!(transparency::witness_url("https://witness.example/checkpoints").is_ok());
}

fn expected(n: i64) -> ExpectedVersion {
    if n == 1 {
        ExpectedVersion::NoStream
    } else {
        ExpectedVersion::Exact(n - 1)
    }
}

async fn wait_until<F, Fut>(mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out after 10 s");
}
