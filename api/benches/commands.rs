//! A command over HTTP (issue 13): 16 clients grant and revoke household access through the
//! running `hearth serve` (JWT, authorisation, decision, signed append, answer), beside
//! single-event appends by 16 writers straight into the same kind of log (signed, as the service
//! appends), in one run on PostgreSQL.
//!
//!   HEARTH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p hearth-api --bench commands
//!
//! HEARTH_BENCH_COMMANDS (default 250) per client; every command appends one event: each client
//! works on 25 households of its own, granting a professional access and revoking it in turn.
//! HEARTH_BENCH_HOUSEHOLDS (default 20,000): the practice's size (every decision needs the
//! practice's state, which holds each household's leads).

mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use hearth_application::{BatchItem, CommandExecutor};
use hearth_domain::{
    household::{HouseholdCommand, NewMember},
    practice::{NewStaff, PracticeCommand},
    roles::PracticeRole,
    Actor, CommandContext, HouseholdId, MemberId, PracticeId, StaffId,
};
use hearth_eventstore::{
    testing::TestDatabase, EventStore, ExpectedVersion, LogSigner, Metadata, NewEvent,
};
use serde_json::json;
use support::served::{free_port, owner_token, serve_with};
use uuid::Uuid;

const CLIENTS: usize = 16;
const HOUSEHOLDS_PER_CLIENT: usize = 25;

struct Seeded {
    practice: PracticeId,
    owner: StaffId,
    professional: StaffId,
    households: Vec<HouseholdId>,
}

async fn seed(exec: &CommandExecutor, total: usize) -> Seeded {
    let (practice, owner, professional) = (PracticeId::new(), StaffId::new(), StaffId::new());
    let now = Utc::now();
    let staff = |staff_id: StaffId, name: &str| NewStaff {
        staff_id,
        name: name.into(),
        email: format!("{}@bench.test", name.to_lowercase().replace(' ', ".")),
    };
    let create = PracticeCommand::CreatePractice {
        practice_id: practice,
        name: "Bench".into(),
        owner: staff(owner, "Olive Owner"),
        licences: 10,
    };
    let as_owner = CommandContext::new(Actor::Staff(owner), now);
    exec.practice(practice, create, &CommandContext::new(Actor::Operator, now))
        .await
        .expect("practice");
    let invite = PracticeCommand::InviteStaff {
        staff: staff(professional, "Pat Professional"),
        role: PracticeRole::Professional,
        branch: None,
    };
    exec.practice(practice, invite, &as_owner)
        .await
        .expect("invite");
    let activate = PracticeCommand::ActivateStaff {
        staff_id: professional,
    };
    exec.practice(
        practice,
        activate,
        &CommandContext::new(Actor::Staff(professional), now),
    )
    .await
    .expect("activate");
    let households: Vec<HouseholdId> = (0..total.max(CLIENTS * HOUSEHOLDS_PER_CLIENT))
        .map(|_| HouseholdId::new())
        .collect();
    let items: Vec<BatchItem> = households
        .iter()
        .enumerate()
        .map(|(n, h)| BatchItem {
            household: *h,
            command: HouseholdCommand::CreateHousehold {
                client: NewMember {
                    member_id: MemberId::new(),
                    first_name: format!("Client{n}"),
                    last_name: "Bench".into(),
                    email: None,
                    title: None,
                },
                partner: None,
                branch: None,
                status: None,
            },
            ctx: as_owner.clone(),
            guard: None,
        })
        .collect();
    for chunk in items.chunks(500) {
        exec.household_batch(practice, chunk)
            .await
            .expect("households");
    }
    Seeded {
        practice,
        owner,
        professional,
        households,
    }
}

async fn wait_ready(client: &reqwest::Client, port: u16) {
    let started = Instant::now();
    loop {
        let ready = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the service did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

/// Each client grants, then revokes, on its own households in turn; every request one append.
async fn commands_over_http(
    port: u16,
    token: &str,
    seeded: &Seeded,
    per_client: usize,
) -> (f64, Vec<Duration>) {
    let client = reqwest::Client::new();
    let base = format!(
        "http://127.0.0.1:{port}/v1/practices/{}/households",
        seeded.practice.0
    );
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, base, token) = (client.clone(), base.clone(), token.to_string());
        let mine: Vec<HouseholdId> =
            seeded.households[c * HOUSEHOLDS_PER_CLIENT..(c + 1) * HOUSEHOLDS_PER_CLIENT].to_vec();
        let staff = seeded.professional.0;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let h = mine[(i / 2) % mine.len()].0;
                let request = if i % 2 == 0 {
                    client
                        .post(format!("{base}/{h}/grants"))
                        .json(&json!({"staff_id": staff, "role": "paraplanner"}))
                } else {
                    client.delete(format!("{base}/{h}/grants/{staff}"))
                };
                let sent = Instant::now();
                let answer = request.bearer_auth(&token).send().await.expect("answer");
                let status = answer.status();
                let body = answer.text().await.unwrap_or_default();
                latencies.push(sent.elapsed());
                assert!(status.is_success(), "{status}: {body}");
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client"));
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

/// Single-event appends by 16 writers, each to streams of its own, signed like the service's.
async fn single_appends(store: &EventStore, per_writer: usize) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CLIENTS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let stream = format!("household-{}", Uuid::from_u128((w * 1000 + i % 25) as u128));
                let event = NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: "household.staff_access_granted".into(),
                    schema_version: 2,
                    data: json!({"staff_id": Uuid::nil(), "role": "paraplanner", "n": i}),
                    metadata: Metadata {
                        actor: "bench".into(),
                        practice_id: Some(Uuid::nil()),
                        correlation_id: None,
                        causation_id: None,
                        occurred_at: Utc::now(),
                    },
                };
                store
                    .append(&stream, ExpectedVersion::Any, vec![event])
                    .await
                    .expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    (CLIENTS * per_writer) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let per_client: usize = std::env::var("HEARTH_BENCH_COMMANDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250);
    let households: usize = std::env::var("HEARTH_BENCH_HOUSEHOLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let (db, peer_db) = (TestDatabase::create().await, TestDatabase::create().await);
        // Seeded with the service's own key, so its tree builder follows the whole log as in a
        // deployment (a log it did not sign stops the builder at the first event).
        let signer = LogSigner::generate();
        let seeded = seed(
            &CommandExecutor::new(db.store().await.with_signer(Arc::new(signer.clone()))),
            households,
        )
        .await;
        let data_dir = std::env::temp_dir().join(format!("hearth-bench-{}", Uuid::new_v4()));
        let port = free_port();
        let _service = serve_with(
            &db.url,
            &data_dir,
            port,
            &[("HEARTH_SIGNING_KEY", signer.secret_base64())],
        );
        wait_ready(&reqwest::Client::new(), port).await;
        let token = owner_token(seeded.practice, seeded.owner);
        let peer = peer_db
            .store()
            .await
            .with_signer(Arc::new(LogSigner::generate()));
        // Alternating, so drift in the machine's speed falls on both alike.
        let (mut http, mut appends, mut latencies) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..3 {
            let (rate, l) = commands_over_http(port, &token, &seeded, per_client).await;
            http.push(rate);
            latencies.extend(l);
            appends.push(single_appends(&peer, per_client).await);
        }
        latencies.sort();
        let median = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (h, a) = (median(&http), median(&appends));
        println!("{CLIENTS} clients, {per_client} commands each, a practice of {} households, 3 rounds (medians):", seeded.households.len());
        println!("| measurement | figure |");
        println!("|---|---|");
        println!("| single-event appends, {CLIENTS} writers, signed | {a:.0} events/s (runs {appends:.0?}) |");
        println!(
            "| grant/revoke over HTTP, {CLIENTS} clients | {h:.0} commands/s (runs {http:.0?}) — **{:.2} of single appends** |",
            h / a
        );
        println!(
            "| its latency, {} commands | p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms |",
            latencies.len(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
            latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
        );
        let _ = std::fs::remove_dir_all(&data_dir);
    });
}
