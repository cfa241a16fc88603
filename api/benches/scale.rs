//! A 10,000,000-event log of 100 practices (issue 13): append latency against the same database
//! when empty, start-up (full replay, then from the snapshot), as-of checks over HTTP and
//! resident memory, with the real `hearth serve` binary.
//!
//!   HEARTH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p hearth-api --bench scale
//!
//! HEARTH_BENCH_PRACTICES (default 100) × HEARTH_BENCH_HOUSEHOLDS_PER_PRACTICE (default 9,100),
//! each household as in the `http` bench (~11 events): 10.0M events. Needs `wrk` on the PATH,
//! ~20 GB of disk for PostgreSQL and the snapshot, and memory for the model (see
//! docs/performance.md).

mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use hearth_application::CommandExecutor;
use hearth_eventstore::{
    testing::TestDatabase, EventStore, ExpectedVersion, LogSigner, Metadata, NewEvent,
};
use rand::Rng;
use serde_json::json;
use support::served::{free_port, owner_token, rss_mib, seed, serve, wait_ready, wrk, Seeded};
use uuid::Uuid;

const WRITERS: usize = 16;
const APPENDS_PER_WRITER: usize = 300;
/// Practices seeded side by side (two cores: more only queue).
const SEEDING_AT_ONCE: usize = 2;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn probe(n: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        // Not a domain event: the read model passes over it.
        event_type: "bench.append_probe".into(),
        schema_version: 1,
        data: json!({ "n": n }),
        metadata: Metadata {
            actor: "bench".into(),
            practice_id: None,
            correlation_id: None,
            causation_id: None,
            occurred_at: Utc::now(),
        },
    }
}

/// Single signed appends from concurrent writers, each to a stream of its own; the p50 and p99
/// of their latencies in ms, and events/s.
async fn append_latency(store: &EventStore) -> (f64, f64, f64) {
    let started = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = format!("probe-{w}-{}", Uuid::new_v4().simple());
                let mut took = Vec::with_capacity(APPENDS_PER_WRITER);
                for i in 0..APPENDS_PER_WRITER {
                    let expected = match i {
                        0 => ExpectedVersion::NoStream,
                        n => ExpectedVersion::Exact(n as i64),
                    };
                    let t = Instant::now();
                    store
                        .append(&stream, expected, vec![probe(i)])
                        .await
                        .expect("append");
                    took.push(t.elapsed().as_secs_f64() * 1e3);
                }
                took
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("writer"));
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let at = |q: f64| all[((all.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99), rate)
}

fn main() {
    let practices = env_number("HEARTH_BENCH_PRACTICES", 100);
    let per_practice = env_number("HEARTH_BENCH_HOUSEHOLDS_PER_PRACTICE", 9_100);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(TestDatabase::create());
    let signer = Arc::new(LogSigner::generate());
    let (empty, full, seeded, events) = rt.block_on(async {
        let store = db.store().await.with_signer(signer.clone());
        let empty = append_latency(&store).await;
        eprintln!("appends on the empty log: {empty:?}");
        let started = Instant::now();
        let mut seeded: Vec<Seeded> = Vec::new();
        for wave in (0..practices).collect::<Vec<_>>().chunks(SEEDING_AT_ONCE) {
            let tasks: Vec<_> = wave
                .iter()
                .map(|_| {
                    let exec = CommandExecutor::new(store.clone());
                    tokio::spawn(async move { seed(&exec, per_practice).await })
                })
                .collect();
            for t in tasks {
                seeded.push(t.await.expect("seeding"));
            }
            let head = store.head().await.unwrap();
            eprintln!(
                "seeded {} practices, log head {} in {:.0?}",
                seeded.len(),
                head.position,
                started.elapsed()
            );
        }
        // Right after a bulk load PostgreSQL's autovacuum works through the new rows and its
        // I/O lands on every commit; measured as found, then as a log in service settles.
        let after_load = append_latency(&store).await;
        eprintln!("appends right after seeding: {after_load:?}");
        let hearth_eventstore::Backend::Postgres(pool) = store.backend() else {
            unreachable!("the bench runs on PostgreSQL")
        };
        let settling = Instant::now();
        sqlx::raw_sql("VACUUM (ANALYZE)")
            .execute(pool)
            .await
            .unwrap();
        sqlx::raw_sql("CHECKPOINT").execute(pool).await.unwrap();
        eprintln!(
            "VACUUM ANALYZE and CHECKPOINT in {:.0?}",
            settling.elapsed()
        );
        let full = append_latency(&store).await;
        eprintln!("appends on the full log: {full:?}");
        let events = store.head().await.unwrap().position;
        (empty, (after_load, full), seeded, events)
    });
    let households = practices * per_practice;

    let data_dir = std::env::temp_dir().join(format!("hearth-scale-{}", Uuid::new_v4()));
    let port = free_port();
    let started = Instant::now();
    let mut service = serve(&db.url, &data_dir, port);
    wait_ready(port, Duration::from_secs(3_600));
    let replay = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let (rss_replayed, _) = rss_mib(service.0.id());
    eprintln!("full replay {replay:.1?}, {rss_replayed:.0} MiB");
    let stopping = Instant::now();
    service.stop_gracefully();
    let stop = stopping.elapsed();
    let snapshot_mib = std::fs::metadata(data_dir.join("snapshots/access-model.snapshot"))
        .expect("a snapshot at shutdown")
        .len() as f64
        / (1024.0 * 1024.0);
    let started = Instant::now();
    let service = serve(&db.url, &data_dir, port);
    wait_ready(port, Duration::from_secs(3_600));
    let from_snapshot = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let (rss_loaded, _) = rss_mib(service.0.id());
    eprintln!("from the snapshot {from_snapshot:.1?}, {rss_loaded:.0} MiB");

    // As-of checks in the first practice, as its owner, at random instants of its year.
    let first = &seeded[0];
    let token = owner_token(first.practice, first.owner);
    let mut rng = rand::thread_rng();
    let span = (first.to - first.from).num_seconds();
    let paths: Vec<String> = (0..20_000)
        .map(|_| {
            let h = first.households[rng.gen_range(0..first.households.len())];
            let s = first.staff[rng.gen_range(0..first.staff.len())];
            let at = first.from + chrono::Duration::seconds(rng.gen_range(0..span));
            format!(
                "/v1/practices/{}/households/{h}/access/{s}?action=view&at={}",
                first.practice,
                at.format("%Y-%m-%dT%H:%M:%SZ")
            )
        })
        .collect();
    let loaded = wrk(port, &token, &paths, "-t2", "32");
    let quiet = wrk(port, &token, &paths, "-t1", "2");
    let (rss_after, hwm) = rss_mib(service.0.id());
    drop(service);
    let _ = std::fs::remove_dir_all(&data_dir);

    println!("| {events}-event log, {practices} practices, {households} households | figure |");
    println!("|---|---|");
    println!(
        "| single signed appends, {WRITERS} writers, empty log: p50 · p99 · rate | {:.2} ms · {:.2} ms · {:.0} events/s |",
        empty.0, empty.1, empty.2
    );
    let (after_load, full) = full;
    println!(
        "| same, right after seeding (autovacuum at work) | {:.2} ms · {:.2} ms · {:.0} events/s — p99 {:.2}× the empty log's |",
        after_load.0,
        after_load.1,
        after_load.2,
        after_load.1 / empty.1
    );
    println!(
        "| same, on the full log after VACUUM ANALYZE and CHECKPOINT | {:.2} ms · {:.2} ms · {:.0} events/s — p99 {:.2}× the empty log's |",
        full.0,
        full.1,
        full.2,
        full.1 / empty.1
    );
    println!(
        "| start-up to ready, full replay | {:.1} s ({:.0} events/s) |",
        replay.as_secs_f64(),
        events as f64 / replay.as_secs_f64()
    );
    println!(
        "| start-up to ready from the shutdown snapshot ({snapshot_mib:.0} MiB; the stop that wrote it {:.1} s) | {:.1} s |",
        stop.as_secs_f64(),
        from_snapshot.as_secs_f64()
    );
    println!(
        "| as-of check, 32 connections | {:.0} req/s, p50 {}, p99 {} |",
        loaded.rps, loaded.p50, loaded.p99
    );
    println!(
        "| as-of check, 2 connections (unqueued) | {:.0} req/s, p50 {}, p99 {} |",
        quiet.rps, quiet.p50, quiet.p99
    );
    println!(
        "| resident memory after replay / after load / under load, peak | {rss_replayed:.0} / {rss_loaded:.0} / {rss_after:.0} MiB, peak {hwm:.0} MiB (target scaled by households: {:.0} MiB) |",
        250.0 * households as f64 / 100_000.0
    );
}
