//! Event-log figures on PostgreSQL, each beside the same rows written in the same run by a plain
//! INSERT (a copy of the events table without triggers, locks, hashing or version checks: the
//! physical limit) and by the published peer, cqrs-es' `postgres-es`.
//!
//!   HEARTH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p hearth-eventstore --bench log
//!
//! HEARTH_BENCH_APPEND_EVENTS sets the events per write measurement (default 100,000),
//! HEARTH_BENCH_REPLAY_EVENTS the size of the replay log (default 1,000,000; 0 skips replay).

#[path = "support/postgres_es.rs"]
mod postgres_es;

use std::{sync::Arc, time::Instant};

use chrono::Utc;
use hearth_eventstore::{
    testing::TestDatabase, Backend, Cursor, EventStore, ExpectedVersion, LogSigner, Metadata,
    NewEvent,
};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

const WRITERS: usize = 16;
const BATCH: usize = 100;
/// Streams each writer spreads its single-event appends over.
const STREAMS_PER_WRITER: usize = 50;
const LATENCY_SAMPLES: usize = 2_000;

fn event(n: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "household.staff_access_granted".into(),
        schema_version: 2,
        data: json!({"meta": {"actor": {"kind": "staff", "id": Uuid::nil()}, "at": "2026-11-24T09:00:00Z"}, "staff_id": Uuid::nil(), "role": "paraplanner", "n": n}),
        metadata: Metadata {
            actor: "bench".into(),
            practice_id: Some(Uuid::nil()),
            correlation_id: None,
            causation_id: None,
            occurred_at: Utc::now(),
        },
    }
}

fn pool(store: &EventStore) -> PgPool {
    match store.backend() {
        Backend::Postgres(p) => p.clone(),
        Backend::Sqlite(_) => unreachable!("the benchmark runs on PostgreSQL"),
    }
}

/// The same row shape, inserted with one plain multi-row INSERT per transaction.
async fn plain_insert(pool: &PgPool, rows: &[NewEvent], stream: &str) {
    let n = rows.len();
    let streams = vec![stream.to_string(); n];
    let versions: Vec<i64> = (1..=n as i64).collect();
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let types: Vec<&str> = rows.iter().map(|r| r.event_type.as_str()).collect();
    let schema: Vec<i32> = rows.iter().map(|r| r.schema_version).collect();
    let data: Vec<&serde_json::Value> = rows.iter().map(|r| &r.data).collect();
    let meta: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::to_value(&r.metadata).unwrap())
        .collect();
    let at: Vec<chrono::DateTime<Utc>> = vec![Utc::now(); n];
    let hashes: Vec<Vec<u8>> = vec![vec![7u8; 32]; n];
    sqlx::query(
        "INSERT INTO plain_events (stream, version, event_id, event_type, schema_version, data, metadata, recorded_at, hash) \
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[], $8::timestamptz[], $9::bytea[])",
    )
    .bind(&streams)
    .bind(&versions)
    .bind(&ids)
    .bind(&types)
    .bind(&schema)
    .bind(&data)
    .bind(&meta)
    .bind(&at)
    .bind(&hashes)
    .execute(pool)
    .await
    .unwrap();
}

async fn timed<F, Fut>(
    label: &str,
    writers: usize,
    per_writer: usize,
    events_per_call: usize,
    f: F,
) -> f64
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                f(w, i).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rate = (writers * per_writer * events_per_call) as f64 / started.elapsed().as_secs_f64();
    eprintln!("{label}: {rate:.0} events/s");
    rate
}

async fn latencies(store: &EventStore, label: &str) -> (f64, f64) {
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let started = Instant::now();
        store
            .append(
                &format!("latency-{label}-{}", i % 100),
                ExpectedVersion::Any,
                vec![event(i)],
            )
            .await
            .unwrap();
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    (
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
    )
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What each writer's appends look like in one write measurement.
#[derive(Clone, Copy)]
struct Shape {
    /// How the rows of the table name it: "1 event", "100-event batches".
    what: &'static str,
    /// Keeps the stream names of one shape apart from another's.
    tag: &'static str,
    per_call: usize,
    /// Streams each writer spreads its appends over; `None`: a new stream for every append.
    streams: Option<usize>,
}

impl Shape {
    /// Which of the writer's streams its `i`th append goes to, and how many events that stream
    /// held before.
    fn slot(self, i: usize) -> (usize, usize) {
        match self.streams {
            Some(n) => (i % n, i / n * self.per_call),
            None => (i, 0),
        }
    }

    fn events(self, i: usize) -> Vec<NewEvent> {
        match self.per_call {
            1 => vec![event(i)],
            n => (0..n).map(event).collect(),
        }
    }
}

const SINGLES: Shape = Shape {
    what: "1 event",
    tag: "single",
    per_call: 1,
    streams: Some(STREAMS_PER_WRITER),
};
const BATCHES: Shape = Shape {
    what: "100-event batches",
    tag: "batch",
    per_call: BATCH,
    streams: None,
};

/// Appends of one shape from 16 writers, each over streams of its own (one rate per store).
struct Rates {
    plain: f64,
    peer: f64,
    unsigned: f64,
    signed: f64,
}

async fn rates(
    pg: &PgPool,
    unsigned: &EventStore,
    signed: &EventStore,
    events: usize,
    shape: Shape,
) -> Rates {
    let Shape {
        what,
        tag,
        per_call,
        ..
    } = shape;
    let per_writer = (events / per_call / WRITERS).max(1);
    let p = pg.clone();
    // A plain INSERT writes versions from 1: every append goes to a new stream.
    let plain = timed(
        &format!("plain INSERT, {what}"),
        WRITERS,
        per_writer,
        per_call,
        move |w, i| {
            let p = p.clone();
            async move { plain_insert(&p, &shape.events(i), &format!("plain-{tag}-{w}-{i}")).await }
        },
    )
    .await;
    let repo = Arc::new(postgres_es::repository(pg));
    let peer = timed(
        &format!("postgres-es, {what}"),
        WRITERS,
        per_writer,
        per_call,
        move |w, i| {
            let repo = repo.clone();
            async move {
                let (stream, before) = shape.slot(i);
                postgres_es::persist(
                    &repo,
                    &format!("{tag}-{w}-{stream}"),
                    before,
                    &shape.events(i),
                )
                .await
            }
        },
    )
    .await;
    let mut rates = Vec::new();
    for (store_label, store) in [("Hearth unsigned", unsigned), ("Hearth signed", signed)] {
        let label = format!("{store_label}, {what}");
        let s = store.clone();
        let l = label.clone();
        rates.push(
            timed(&label, WRITERS, per_writer, per_call, move |w, i| {
                let (s, l) = (s.clone(), l.clone());
                async move {
                    let (stream, _) = shape.slot(i);
                    let expected = match shape.streams {
                        Some(_) => ExpectedVersion::Any,
                        None => ExpectedVersion::NoStream,
                    };
                    s.append(&format!("{l}-{w}-{stream}"), expected, shape.events(i))
                        .await
                        .unwrap();
                }
            })
            .await,
        );
    }
    Rates {
        plain,
        peer,
        unsigned: rates[0],
        signed: rates[1],
    }
}

fn row(label: &str, r: &Rates) {
    println!(
        "| {label} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} |",
        r.plain,
        r.peer,
        r.unsigned,
        r.signed,
        r.signed / r.plain,
        r.signed / r.peer,
        r.signed / r.unsigned,
    );
}

#[tokio::main]
async fn main() {
    let append_events = env_usize("HEARTH_BENCH_APPEND_EVENTS", 100_000);
    let replay_events = env_usize("HEARTH_BENCH_REPLAY_EVENTS", 1_000_000);
    let db = TestDatabase::create().await;
    let store = db.store().await;
    let signed = store.clone().with_signer(Arc::new(LogSigner::generate()));
    let pg = pool(&store);
    sqlx::query("CREATE TABLE plain_events (LIKE events INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING INDEXES)").execute(&pg).await.unwrap();
    sqlx::raw_sql(postgres_es::TABLES)
        .execute(&pg)
        .await
        .unwrap();

    let (p50_empty, p99_empty) = latencies(&signed, "empty").await;
    let single = rates(&pg, &store, &signed, append_events, SINGLES).await;
    let batched = rates(&pg, &store, &signed, append_events, BATCHES).await;

    println!("| events/s, {WRITERS} writers | plain INSERT | postgres-es | Hearth unsigned | Hearth signed | signed/INSERT | signed/postgres-es | signed/unsigned |");
    println!("|---|---|---|---|---|---|---|---|");
    row("one event per append", &single);
    row("100-event batches", &batched);
    println!("| append latency, empty log (signed, 1 writer) | p50 {p50_empty:.2} ms, p99 {p99_empty:.2} ms | | | | | | |");
    if replay_events == 0 {
        return;
    }

    // Fill to the replay size with 1000-event appends, then replay everything.
    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pg)
        .await
        .unwrap();
    let mut remaining = replay_events.saturating_sub(have as usize);
    let mut n = 0;
    while remaining > 0 {
        let size = remaining.min(1000);
        let events: Vec<NewEvent> = (0..size).map(event).collect();
        signed
            .append(&format!("fill-{n}"), ExpectedVersion::NoStream, events)
            .await
            .unwrap();
        remaining -= size;
        n += 1;
    }
    let head = store.head().await.unwrap();
    let started = Instant::now();
    let (mut after, mut replayed) = (Cursor::START, 0usize);
    loop {
        let batch = store.read_all(after, 10_000).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = last.cursor;
        replayed += batch.len();
    }
    let replay_rate = replayed as f64 / started.elapsed().as_secs_f64();
    assert!(after >= head);
    let (p50_full, p99_full) = latencies(&signed, "full").await;
    println!("| replay (read_all, 10k batches) over {replayed} events | {replay_rate:.0} events/s | | | | | | |");
    println!("| append latency, {replayed}-event log (signed, 1 writer) | p50 {p50_full:.2} ms, p99 {p99_full:.2} ms | | | | | | |");
}
