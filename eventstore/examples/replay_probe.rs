//! Where replay time goes: the SQL alone, rows decoded, and full `read_all`. A diagnostic, not a
//! benchmark of record (see benches/log.rs).
use std::time::Instant;

use hearth_eventstore::{Backend, Cursor, EventStore, ExpectedVersion, Metadata, NewEvent};
use sqlx::Row;

#[tokio::main]
async fn main() {
    let url = std::env::var("PROBE_URL").expect("PROBE_URL");
    let store = EventStore::connect(&url).await.unwrap();
    let Backend::Postgres(pg) = store.backend() else {
        panic!()
    };
    let have = store.head().await.unwrap().position;
    if have < 200_000 {
        for n in 0..200 {
            let events = (0..1000)
                .map(|i| NewEvent {
                    event_id: uuid::Uuid::now_v7(),
                    event_type: "household.staff_access_granted".into(),
                    schema_version: 2,
                    data: serde_json::json!({"meta": {"actor": {"kind": "staff", "id": uuid::Uuid::nil()}, "at": "2026-11-24T09:00:00Z"}, "staff_id": uuid::Uuid::nil(), "role": "paraplanner", "n": i}),
                    metadata: Metadata { actor: "probe".into(), practice_id: None, correlation_id: None, causation_id: None, occurred_at: chrono::Utc::now() },
                })
                .collect();
            store
                .append(&format!("probe-{n}"), ExpectedVersion::Any, events)
                .await
                .unwrap();
        }
    }
    let t = Instant::now();
    let rows = sqlx::query("SELECT position FROM events ORDER BY tx, position")
        .fetch_all(pg)
        .await
        .unwrap();
    println!("positions only: {} rows in {:?}", rows.len(), t.elapsed());
    let t = Instant::now();
    let rows = sqlx::query(
        "SELECT data::text AS d, metadata::text AS m FROM events ORDER BY tx, position",
    )
    .fetch_all(pg)
    .await
    .unwrap();
    let n: usize = rows.iter().map(|r| r.get::<String, _>("d").len()).sum();
    println!(
        "json as text: {} rows ({n} bytes) in {:?}",
        rows.len(),
        t.elapsed()
    );
    let t = Instant::now();
    let rows = sqlx::query("SELECT data, metadata FROM events ORDER BY tx, position")
        .fetch_all(pg)
        .await
        .unwrap();
    let vals: Vec<serde_json::Value> = rows.iter().map(|r| r.get("data")).collect();
    println!("jsonb as Value: {} rows in {:?}", vals.len(), t.elapsed());
    let t = Instant::now();
    let (mut after, mut n) = (Cursor::START, 0);
    loop {
        let b = store.read_all(after, 10_000).await.unwrap();
        let Some(l) = b.last() else { break };
        after = l.cursor;
        n += b.len();
    }
    println!("read_all: {n} in {:?}", t.elapsed());
}
