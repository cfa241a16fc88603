//! Verifiable-log figures on PostgreSQL: append throughput with signing, the tree builder and
//! checkpoints running against the same workload without them; tree build rate; checkpoint time;
//! proof sizes; offline audit throughput.
//!
//!   HEARTH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p hearth-eventstore --bench audit
//!
//! HEARTH_BENCH_TREE_EVENTS sets the size of the log for the tree figures (default 100,000;
//! the brief's 1,000,000 takes a few minutes more).

use std::{sync::Arc, time::Instant};

use chrono::Utc;
use hearth_eventstore::{
    audit::audit_bundle,
    testing::{machine_busy_seconds, TestDatabase},
    Cursor, EventStore, ExpectedVersion, ExportRequest, LogSigner, Metadata, NewEvent, TreeBuilder,
};
use serde_json::json;
use uuid::Uuid;

const WRITERS: usize = 8;
/// The service's defaults (api::transparency): follow every 500 ms, sign every 1,000 events.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(500);
const CHECKPOINT_EVERY_EVENTS: u64 = 1_000;

/// HEARTH_BENCH_FOLLOW_MS overrides the builder's tick (to study it: a longer tick moves the
/// builder's work past the end of a round, so rounds must then be longer too).
fn follow_every() -> std::time::Duration {
    std::env::var("HEARTH_BENCH_FOLLOW_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis)
        .unwrap_or(FOLLOW_EVERY)
}
const PRACTICE: Uuid = Uuid::from_u128(0xbe4c_0000_0000_4000_8000_0000_0000_0001);

fn event(n: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "household.staff_access_granted".into(),
        schema_version: 2,
        data: json!({"staff_id": Uuid::nil(), "role": "paraplanner", "n": n}),
        metadata: Metadata {
            actor: "bench".into(),
            practice_id: Some(PRACTICE),
            correlation_id: None,
            causation_id: None,
            occurred_at: Utc::now(),
        },
    }
}

/// Single-event appends from concurrent writers, each to streams of its own; events/s.
async fn append_rate(store: &EventStore, per_writer: usize) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let stream = format!("w{w}-{}-{}", i % 50, Uuid::new_v4().simple());
                store
                    .append(&stream, ExpectedVersion::Any, vec![event(i)])
                    .await
                    .expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    (WRITERS * per_writer) as f64 / started.elapsed().as_secs_f64()
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

/// One round of setup `setup` (0 plain, 1 signed, 2 + tree builder, 3 + checkpoints) on a fresh
/// database. The builder follows and checkpoints are signed as the service does by default.
async fn append_round(setup: usize, signer: &LogSigner, per_writer: usize) -> (f64, f64) {
    let db = TestDatabase::create().await;
    let mut store = db.store().await;
    if setup >= 1 {
        store = store.with_signer(Arc::new(signer.clone()));
    }
    let follower = (setup >= 2).then(|| {
        let (store, signer) = (store.clone(), signer.clone());
        tokio::spawn(async move {
            let mut builder = TreeBuilder::new(store.clone(), signer.public_key().clone());
            let tick = follow_every();
            let mut signed = 0;
            loop {
                let size = builder.follow().await.unwrap_or(0);
                if setup >= 3 && size >= signed + CHECKPOINT_EVERY_EVENTS {
                    signed = size;
                    let _ = builder.sign_checkpoint(&signer, Utc::now()).await;
                }
                tokio::time::sleep(tick).await;
            }
        })
    });
    // HEARTH_BENCH_FOLLOWER=1: in every setup, a subscription reads each event as it commits,
    // as the service's projections do. It is the first reader of each new row, so it pays
    // PostgreSQL's first-read costs (commit-status lookups, hint bits) that otherwise fall to
    // the tree builder, the only reader in a bare setup.
    let reader = std::env::var_os("HEARTH_BENCH_FOLLOWER")
        .is_some()
        .then(|| {
            let mut subscription = store.subscribe("bench-projections", Cursor::START);
            tokio::spawn(async move {
                loop {
                    if subscription.next_batch().await.is_err() {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            })
        });
    let busy = machine_busy_seconds();
    let rate = append_rate(&store, per_writer).await;
    // The builder's work for these events counts too: let it reach the end before reading CPU.
    if setup >= 2 {
        let mut builder = TreeBuilder::new(store.clone(), signer.public_key().clone());
        let _ = builder.catch_up().await;
    }
    let cpu = machine_busy_seconds() - busy;
    for task in [follower, reader].into_iter().flatten() {
        task.abort();
    }
    if setup == 1 {
        // What the builder costs per event of this log, measured alone after the writers.
        if std::env::var_os("HEARTH_BENCH_PROFILE_PAUSE").is_some() {
            println!("builder starts in 3 s");
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        }
        let (busy, started) = (machine_busy_seconds(), Instant::now());
        let size = TreeBuilder::new(store.clone(), signer.public_key().clone())
            .catch_up()
            .await
            .expect("tree");
        println!(
            "    tree builder alone over {size} single-event appends: {:.0} events/s, machine CPU {:.0} µs/event",
            size as f64 / started.elapsed().as_secs_f64(),
            (machine_busy_seconds() - busy) * 1e6 / size as f64
        );
    }
    (rate, cpu * 1e6 / (WRITERS * per_writer) as f64)
}

async fn fill(store: &EventStore, events: usize) {
    let mut written = 0;
    let mut stream = 0;
    while written < events {
        let n = 1000.min(events - written);
        store
            .append(
                &format!("bulk-{stream}"),
                ExpectedVersion::NoStream,
                (0..n).map(event).collect(),
            )
            .await
            .expect("bulk append");
        written += n;
        stream += 1;
    }
}

#[tokio::main]
async fn main() {
    let tree_events = env_number("HEARTH_BENCH_TREE_EVENTS", 100_000);
    let signer = LogSigner::generate();

    // 1. Appends: the plain store against signing alone, signing with the tree builder, and
    // signing with the builder and checkpoints at the service's defaults, in alternating
    // rounds (this machine drifts between rounds; medians of rounds run side by side).
    let rounds: usize = env_number("HEARTH_BENCH_ROUNDS", 5);
    let per_writer: usize = env_number("HEARTH_BENCH_APPENDS_PER_WRITER", 500);
    // HEARTH_BENCH_SETUPS=1,2 runs only those setups (for profiling one of them).
    let only: Option<Vec<usize>> = std::env::var("HEARTH_BENCH_SETUPS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect());
    let setups = [
        "plain",
        "signed",
        "signed + tree",
        "signed + tree + checkpoints",
    ];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); setups.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); setups.len()];
    for _ in 0..rounds {
        for (i, (rate, cpu)) in rates.iter_mut().zip(cpu.iter_mut()).enumerate() {
            if !only.as_ref().is_none_or(|o| o.contains(&i)) {
                continue;
            }
            let (r, c) = append_round(i, &signer, per_writer).await;
            rate.push(r);
            cpu.push(c);
        }
    }
    if only.is_some() {
        println!("rates {rates:?}, CPU µs/event {cpu:?}");
        return;
    }
    let plain = median(&mut rates[0].clone());
    let plain_cpu = median(&mut cpu[0].clone());
    println!("single-event appends, {WRITERS} writers, medians of {rounds} rounds:");
    for ((name, rate), cpu) in setups.iter().zip(&rates).zip(&cpu) {
        let m = median(&mut rate.clone());
        let c = median(&mut cpu.clone());
        println!(
            "  {name:<28} {m:>7.0} events/s ({:5.1}% of plain); machine CPU {c:>5.0} µs/event ({:5.1}% of plain's)  rounds: {:?}",
            100.0 * m / plain,
            100.0 * plain_cpu / c,
            rate.iter().map(|r| r.round() as i64).collect::<Vec<_>>()
        );
    }

    // 2. The tree over a larger log (HEARTH_BENCH_TREE_EVENTS=0 stops after the appends).
    if tree_events == 0 {
        return;
    }
    let db = TestDatabase::create().await;
    let store = db.store().await.with_signer(Arc::new(signer.clone()));
    fill(&store, tree_events).await;
    let started = Instant::now();
    let size = TreeBuilder::new(store.clone(), signer.public_key().clone())
        .catch_up()
        .await
        .expect("tree");
    let build = started.elapsed();
    println!(
        "tree build: {size} events in {:.1} s ({:.0} events/s)",
        build.as_secs_f64(),
        size as f64 / build.as_secs_f64()
    );
    let started = Instant::now();
    let checkpoint = store
        .sign_checkpoint(&signer, Utc::now())
        .await
        .expect("checkpoint");
    println!(
        "checkpoint at {} events: {:.2} ms",
        checkpoint.tree_size,
        started.elapsed().as_secs_f64() * 1000.0
    );
    let some_event = store
        .read_all(hearth_eventstore::Cursor::START, 1)
        .await
        .expect("read")[0]
        .event_id;
    let started = Instant::now();
    let proof = store
        .inclusion_proof(some_event, size)
        .await
        .expect("proof")
        .expect("in tree");
    println!(
        "inclusion proof at {size}: {} hashes ({} bytes), {:.2} ms",
        proof.path.len(),
        proof.path.len() * 32,
        started.elapsed().as_secs_f64() * 1000.0
    );
    let consistency = store
        .consistency_proof(size / 2 + 1, size)
        .await
        .expect("consistency")
        .expect("sizes");
    println!(
        "consistency proof {} -> {size}: {} hashes ({} bytes)",
        size / 2 + 1,
        consistency.len(),
        consistency.len() * 32
    );

    // 3. Export and the offline audit of every event of the practice.
    let started = Instant::now();
    let bundle = store
        .export_practice(
            &signer,
            &ExportRequest {
                practice: PRACTICE,
                ..ExportRequest::default()
            },
            Utc::now(),
        )
        .await
        .expect("export");
    let export = started.elapsed();
    let bytes = serde_json::to_vec(&bundle).expect("json").len();
    let started = Instant::now();
    let report = audit_bundle(&bundle, signer.public_key(), None).expect("an intact log audits");
    let audit = started.elapsed();
    println!(
        "export of {} events: {:.1} s ({:.0} MB); audit: {:.2} s ({:.0} events/s)",
        report.events_checked,
        export.as_secs_f64(),
        bytes as f64 / 1e6,
        audit.as_secs_f64(),
        report.events_checked as f64 / audit.as_secs_f64()
    );
}
