//! Access checks over HTTP with a large practice loaded, beside a bare axum route, with wrk on
//! loopback; plus the projection's rebuild time and resident memory at that size.
//!
//!   HEARTH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p hearth-api --bench http
//!
//! HEARTH_BENCH_HOUSEHOLDS (default 100,000): each household gets a creation, six grants, two
//! role changes and one revocation (five grants stay), about 11 events with the practice mirror,
//! so the default makes a log of about 1.1M events. Needs `wrk` on the PATH.

mod support;

use std::time::{Duration, Instant};

use hearth_application::CommandExecutor;
use hearth_eventstore::testing::TestDatabase;
use rand::Rng;
use support::served::{bare_axum, free_port, owner_token, rss_mib, seed, serve, wait_ready, wrk};

const WRK_CONNECTIONS: &str = "32";

fn main() {
    let households: usize = std::env::var("HEARTH_BENCH_HOUSEHOLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(TestDatabase::create());
    let (seeded, events) = rt.block_on(async {
        let store = db.store().await;
        let started = Instant::now();
        let seeded = seed(&CommandExecutor::new(store.clone()), households).await;
        let head = store.head().await.unwrap();
        eprintln!(
            "seeded {} households, log head {} in {:.1?}",
            households,
            head.position,
            started.elapsed()
        );
        (seeded, head.position)
    });

    // A fresh data dir: the first start finds no snapshot and replays the whole log; its
    // graceful shutdown writes one, and the second start loads it (issue 13).
    let data_dir = std::env::temp_dir().join(format!("hearth-bench-{}", uuid::Uuid::new_v4()));
    let port = free_port();
    let serve = || serve(&db.url, &data_dir, port);
    let started = Instant::now();
    let mut service = serve();
    wait_ready(port, Duration::from_secs(900));
    let rebuild = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let (rss, _) = rss_mib(service.0.id());
    let stopping = Instant::now();
    service.stop_gracefully();
    let stop = stopping.elapsed();
    let snapshot = data_dir.join("snapshots/access-model.snapshot");
    let snapshot_mib = std::fs::metadata(&snapshot)
        .expect("a snapshot at shutdown")
        .len() as f64
        / (1024.0 * 1024.0);
    let started = Instant::now();
    service = serve();
    wait_ready(port, Duration::from_secs(900));
    let from_snapshot = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let (rss_loaded, _) = rss_mib(service.0.id());
    eprintln!(
        "start-up: replay {rebuild:.1?} (resident {rss:.0} MiB), graceful stop with snapshot {stop:.1?} ({snapshot_mib:.0} MiB), from the snapshot {from_snapshot:.1?} (resident {rss_loaded:.0} MiB)"
    );
    if std::env::var("HEARTH_BENCH_STARTUP_ONLY").is_ok() {
        let _ = std::fs::remove_dir_all(&data_dir);
        return;
    }

    let token = owner_token(seeded.practice, seeded.owner);
    let mut rng = rand::thread_rng();
    let p = seeded.practice;
    let now_paths: Vec<String> = (0..20_000)
        .map(|_| {
            let h = seeded.households[rng.gen_range(0..seeded.households.len())];
            let s = seeded.staff[rng.gen_range(0..seeded.staff.len())];
            format!("/v1/practices/{p}/households/{h}/access/{s}?action=view")
        })
        .collect();
    let span = (seeded.to - seeded.from).num_seconds();
    let asof_paths: Vec<String> = now_paths
        .iter()
        .map(|path| {
            let at = seeded.from + chrono::Duration::seconds(rng.gen_range(0..span));
            format!("{path}&at={}", at.format("%Y-%m-%dT%H:%M:%SZ"))
        })
        .collect();

    let bare_port = free_port();
    bare_axum(bare_port);
    std::thread::sleep(Duration::from_millis(300));
    let bare = wrk(bare_port, &token, &now_paths, "-t2", WRK_CONNECTIONS);
    let now = wrk(port, &token, &now_paths, "-t2", WRK_CONNECTIONS);
    let asof = wrk(port, &token, &asof_paths, "-t2", WRK_CONNECTIONS);
    let asof_quiet = wrk(port, &token, &asof_paths, "-t1", "2");
    let (rss_after, hwm) = rss_mib(service.0.id());

    println!("| measurement ({households} households × 5 grants, {events}-event log) | figure |");
    println!("|---|---|");
    println!(
        "| bare axum route (constant JSON, no auth) | {:.0} req/s, p50 {}, p99 {} |",
        bare.rps, bare.p50, bare.p99
    );
    println!("| access check now (JWT + authorisation + check) | {:.0} req/s, p50 {}, p99 {} — {:.0}% of bare |", now.rps, now.p50, now.p99, 100.0 * now.rps / bare.rps);
    println!(
        "| access check as of a random past instant | {:.0} req/s, p50 {}, p99 {} |",
        asof.rps, asof.p50, asof.p99
    );
    println!(
        "| access check as of a random past instant, 2 connections (unqueued latency) | {:.0} req/s, p50 {}, p99 {} |",
        asof_quiet.rps, asof_quiet.p50, asof_quiet.p99
    );
    println!(
        "| start-up to ready (projection rebuilt from the whole log) | {:.1} s ({:.0} events/s) |",
        rebuild.as_secs_f64(),
        events as f64 / rebuild.as_secs_f64()
    );
    println!(
        "| start-up to ready from the shutdown snapshot ({snapshot_mib:.0} MiB; stop that wrote it {:.1} s) | {:.2} s |",
        stop.as_secs_f64(),
        from_snapshot.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&data_dir);
    println!("| resident memory after rebuild / after load / peak | {rss:.0} MiB / {rss_after:.0} MiB / {hwm:.0} MiB |");
}
