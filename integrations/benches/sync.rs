//! An XPLAN sync of many clients against the fake XPLAN on loopback, on PostgreSQL: the first
//! run (creates every household) and a run with nothing changed.
//!
//!   HEARTH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p hearth-integrations --bench sync
//!
//! HEARTH_BENCH_CLIENTS sets the number of clients (default 10,000), each with two policies.

use std::{sync::Arc, time::Instant};

use chrono::Utc;
use hearth_application::CommandExecutor;
use hearth_eventstore::testing::TestDatabase;
use hearth_integrations::{
    crypto::Cipher,
    fake::{FakeSettings, FakeXplan},
    service::XplanService,
    token_vault::DbVault,
    xplan::{RetryPolicy, Secret, XplanClient, XplanConfig},
};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

#[tokio::main]
async fn main() {
    let clients: usize = std::env::var("HEARTH_BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let db = TestDatabase::create().await;
    let store = db.store().await;
    let exec = CommandExecutor::new(store.clone());
    let xplan = FakeXplan::start("127.0.0.1:0".parse().unwrap(), FakeSettings::default())
        .await
        .unwrap();
    xplan.seed(clients, 2);

    let settings = FakeSettings::default();
    let client = XplanClient::new(XplanConfig {
        scheme: "http".into(),
        app_id: settings.app_id,
        client_id: settings.client_id,
        client_secret: Secret::new(settings.client_secret),
        redirect_uri: "http://127.0.0.1:1/callback".into(),
        timeout: std::time::Duration::from_secs(30),
        retry: RetryPolicy::default(),
        site_suffixes: vec![],
    })
    .unwrap();
    let vault = Arc::new(DbVault::new(
        store.clone(),
        Cipher::from_base64(&Cipher::generate_key()).unwrap(),
    ));
    let svc = XplanService::new(exec, client, vault);
    let id = hearth_integrations::testing::connected_practice(&svc, &xplan)
        .await
        .integration;

    let mut rows = Vec::new();
    for label in [
        "first run (creates every household)",
        "second run (nothing changed)",
    ] {
        let before = store.head().await.unwrap().position;
        let started = Instant::now();
        let run = svc.sync(id, "bench", Utc::now()).await.unwrap();
        let secs = started.elapsed().as_secs_f64();
        let appended = store.head().await.unwrap().position - before;
        assert!(run.summary.errors.is_empty(), "{:?}", run.summary.errors);
        eprintln!(
            "{label}: {secs:.1} s, {appended} events, {:?}",
            (
                run.summary.created,
                run.summary.updated,
                run.summary.unchanged
            )
        );
        rows.push(format!("| {label} | {secs:.1} s ({:.0} clients/s) | {appended} | created {}, updated {}, unchanged {} |", clients as f64 / secs, run.summary.created, run.summary.updated, run.summary.unchanged));
    }
    println!("| sync of {clients} clients × 2 policies | wall time | events appended | summary |");
    println!("|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    println!("peak resident memory of the process (Hearth's sync and the in-process fake XPLAN): {:.0} MiB", peak_rss_mib());
}
