//! The change feed's figures (issue 16), against the real service on PostgreSQL over HTTP:
//! - how long after a command's answer its change shows on an open watch stream (p50/p99);
//! - webhook deliveries per second to a local receiver, draining a backlog;
//! - memory per open (idle) watch stream.
//!
//! ```sh
//! HEARTH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench -p hearth-api --bench feed
//! ```
//!
//! HEARTH_BENCH_FEED_COMMANDS (default 1,000), HEARTH_BENCH_FEED_DELIVERIES (default 2,000),
//! HEARTH_BENCH_FEED_STREAMS (default 500) set the sizes.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use clap::Parser;
use hearth_api::{auth::Caller, cli::ServeArgs, startup::Application, state::AppState};
use hearth_eventstore::testing::TestDatabase;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Bench {
    base: String,
    http: reqwest::Client,
    state: AppState,
    practice: Uuid,
    owner: String,
    para: Uuid,
    households: Vec<Uuid>,
}

impl Bench {
    fn token(&self, practice: Uuid, staff: Uuid) -> String {
        self.state
            .keys
            .mint(
                Caller::Staff { practice, staff },
                Utc::now(),
                chrono::Duration::hours(2),
            )
            .unwrap()
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// The `n`-th command of a churn: grant on even rounds, revoke on odd, over the households.
    async fn churn(&self, n: usize) -> String {
        let h = self.households[n % self.households.len()];
        let round = n / self.households.len();
        let path = format!(
            "{}/v1/practices/{}/households/{h}/grants",
            self.base, self.practice
        );
        let req = if round & 1 == 0 {
            self.http
                .post(&path)
                .json(&json!({"staff_id": self.para, "role": "paraplanner"}))
        } else {
            self.http.delete(format!("{path}/{}", self.para))
        };
        let r = req.bearer_auth(&self.owner).send().await.unwrap();
        assert!(r.status().is_success());
        let body: Value = r.json().await.unwrap();
        body["position"].as_str().unwrap().to_string()
    }
}

async fn start(db: &TestDatabase) -> Bench {
    let dir = std::env::temp_dir().join(format!("hearth-bench-{}", Uuid::new_v4()));
    let args = [
        "hearth",
        "--database-url",
        &db.url,
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        &dir.display().to_string(),
        "--jwt-secret",
        "a-bench-secret-that-is-long-enough-for-hs256",
        "--webhook-allow-loopback",
        "--webhook-retry-base-ms",
        "20",
        "--webhook-retry-max-ms",
        "100",
        "--webhook-max-attempts",
        "100000",
        "--watch-max-streams",
        "100000",
    ];
    let app = Application::build(ServeArgs::parse_from(args).settings)
        .await
        .unwrap();
    let state = app.state().clone();
    let base = format!("http://{}", app.address());
    tokio::spawn(app.run_until(std::future::pending()));
    let mut b = Bench {
        base,
        http: reqwest::Client::new(),
        state,
        practice: Uuid::nil(),
        owner: String::new(),
        para: Uuid::nil(),
        households: vec![],
    };
    let operator = b
        .state
        .keys
        .mint(Caller::Operator, Utc::now(), chrono::Duration::hours(2))
        .unwrap();
    let r = b.post("/v1/practices", &operator, json!({"name": "Bench Advice", "owner": {"name": "Olive Owner", "email": "olive@bench.example.com"}, "licences": 20})).await;
    b.practice = Uuid::parse_str(r["id"].as_str().unwrap()).unwrap();
    let owner = Uuid::parse_str(r["owner_staff_id"].as_str().unwrap()).unwrap();
    b.owner = b.token(b.practice, owner);
    let p = b.practice;
    let mut staff = Vec::new();
    for name in ["ada", "pat"] {
        let r = b.post(&format!("/v1/practices/{p}/staff"), &b.owner, json!({"name": name, "email": format!("{name}@bench.example.com"), "role": "professional"})).await;
        let id = Uuid::parse_str(r["id"].as_str().unwrap()).unwrap();
        b.post(
            &format!("/v1/practices/{p}/staff/{id}/activate"),
            &b.token(p, id),
            json!({}),
        )
        .await;
        staff.push(id);
    }
    b.para = staff[1];
    let adviser = b.token(p, staff[0]);
    for i in 0..20 {
        let r = b.post(&format!("/v1/practices/{p}/households"), &adviser, json!({"client": {"first_name": "Casey", "last_name": format!("Family{i}"), "email": format!("f{i}@clients.example.com")}})).await;
        b.households
            .push(Uuid::parse_str(r["id"].as_str().unwrap()).unwrap());
    }
    b
}

/// Reads SSE events from a response, sending each change's position and arrival instant.
async fn follow(mut response: reqwest::Response, seen: Arc<Mutex<HashMap<String, Instant>>>) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                let v: Value = serde_json::from_str(data.trim()).unwrap();
                let position = v["position"].as_str().unwrap().to_string();
                seen.lock().unwrap().insert(position, Instant::now());
            }
        }
    }
}

async fn stream_latency(b: &Bench, commands: usize) -> String {
    let url = format!("{}/v1/practices/{}/changes?after={}", b.base, b.practice, {
        let head = b.state.store.committed_head().await.unwrap();
        head.position
    });
    let response = b
        .http
        .get(url)
        .bearer_auth(&b.owner)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(HashMap::new()));
    tokio::spawn(follow(response, seen.clone()));
    let mut latencies = Vec::new();
    for n in 0..commands {
        let position = b.churn(n).await;
        let answered = Instant::now();
        let arrived = loop {
            if let Some(t) = seen.lock().unwrap().get(&position) {
                break *t;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        // Arrival before the answer was read counts as zero.
        latencies.push(arrived.saturating_duration_since(answered).as_secs_f64() * 1e3);
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    format!(
        "| change on the watch stream after the command's answer | {commands} commands, one at a time | p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms |",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 99 / 100],
        latencies[latencies.len() - 1]
    )
}

/// A receiver that refuses (503) until told to accept, then counts deliveries.
async fn receiver(open: Arc<AtomicBool>, got: Arc<AtomicUsize>) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let (open, got) = (open.clone(), got.clone());
            async move {
                if open.load(Ordering::Acquire) {
                    got.fetch_add(1, Ordering::AcqRel);
                    axum::http::StatusCode::OK
                } else {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn delivery_rate(b: &Bench, deliveries: usize) -> String {
    let (open, got) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let url = receiver(open.clone(), got.clone()).await;
    b.post(
        &format!("/v1/practices/{}/webhooks", b.practice),
        &b.owner,
        json!({"url": url, "kinds": ["granted", "revoked"]}),
    )
    .await;
    // A backlog: the receiver refuses while the changes are made.
    let start_n = 1_000_000; // rounds past the latency run, same alternation
    let offset = start_n - start_n % (2 * b.households.len());
    for n in 0..deliveries {
        b.churn(offset + n).await;
    }
    let started = Instant::now();
    open.store(true, Ordering::Release);
    while got.load(Ordering::Acquire) < deliveries {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    format!(
        "| webhook deliveries to a local receiver (signed, one endpoint, a backlog drained in log order) | {deliveries} | {:.0} deliveries/s |",
        deliveries as f64 / secs
    )
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn stream_memory(b: &Bench, streams: usize) -> String {
    let addr = b.base.trim_start_matches("http://").to_string();
    let request = format!(
        "GET /v1/practices/{}/changes?after={} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\naccept: text/event-stream\r\n\r\n",
        b.practice,
        b.state.store.committed_head().await.unwrap().position,
        b.owner
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib();
    let mut open = Vec::new();
    for _ in 0..streams {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut head = [0u8; 512];
        let n = s.read(&mut head).await.unwrap();
        assert!(String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"));
        open.push(s);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib();
    format!(
        "| memory per open watch stream (idle, caught up; includes the bench's own socket) | {streams} streams | {:.1} KiB |",
        (after.saturating_sub(before)) as f64 / streams as f64
    )
}

#[tokio::main]
async fn main() {
    let db = TestDatabase::create().await;
    let b = start(&db).await;
    let rows = vec![
        stream_latency(&b, size("HEARTH_BENCH_FEED_COMMANDS", 1_000)).await,
        delivery_rate(&b, size("HEARTH_BENCH_FEED_DELIVERIES", 2_000)).await,
        stream_memory(&b, size("HEARTH_BENCH_FEED_STREAMS", 500)).await,
    ];
    println!("| figure | size | result |");
    println!("|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
