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
    audit::audit_bundle, testing::TestDatabase, EventStore, ExpectedVersion, ExportRequest,
    LogSigner, Metadata, NewEvent, TreeBuilder,
};
use serde_json::json;
use uuid::Uuid;

const WRITERS: usize = 8;
const APPENDS_PER_WRITER: usize = 500;
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
async fn append_rate(store: &EventStore) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..APPENDS_PER_WRITER {
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
    (WRITERS * APPENDS_PER_WRITER) as f64 / started.elapsed().as_secs_f64()
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
    let tree_events: usize = std::env::var("HEARTH_BENCH_TREE_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let signer = LogSigner::generate();

    // 1. Appends: plain store, then signed with the builder and checkpoints running alongside.
    let plain_db = TestDatabase::create().await;
    let plain = append_rate(&plain_db.store().await).await;
    let signed_db = TestDatabase::create().await;
    let store = signed_db
        .store()
        .await
        .with_signer(Arc::new(signer.clone()));
    let follower = {
        let (store, signer) = (store.clone(), signer.clone());
        tokio::spawn(async move {
            let mut builder = TreeBuilder::new(store.clone(), signer.public_key().clone());
            loop {
                let _ = builder.catch_up().await;
                let _ = store.sign_checkpoint(&signer, Utc::now()).await;
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
    };
    let signed = append_rate(&store).await;
    follower.abort();
    println!(
        "single-event appends, {WRITERS} writers: plain {plain:.0} events/s, signed + tree + checkpoints {signed:.0} events/s ({:.1}%)",
        100.0 * signed / plain
    );

    // 2. The tree over a larger log.
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
