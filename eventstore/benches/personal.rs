//! The cost of sealing personal data (issue 15), side by side in one run on PostgreSQL: appends
//! of household events with and without sealing, a rebuild (reading the whole log) of a sealed
//! log against a plain one, and the time to erase one household.
//!
//!   HEARTH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p hearth-eventstore --bench personal

use std::{sync::Arc, time::Instant};

use chrono::Utc;
use hearth_eventstore::{
    personal::{MasterKey, MasterKeys, PersonalDataPolicy},
    testing::TestDatabase,
    Cursor, EventStore, ExpectedVersion, Metadata, NewEvent,
};
use serde_json::json;
use uuid::Uuid;

const WRITERS: usize = 8;
const HOUSEHOLDS_PER_WRITER: usize = 50;
const EDITS_PER_HOUSEHOLD: usize = 10;
const ROUNDS: usize = 3;

/// The domain's paths for these two event types (domain/src/household/personal.rs).
struct Households;

impl PersonalDataPolicy for Households {
    fn subject(&self, stream: &str) -> Option<Uuid> {
        stream
            .strip_prefix("household-")
            .and_then(|s| s.parse().ok())
    }
    fn personal_paths(&self, event_type: &str, _: i32) -> &'static [&'static str] {
        match event_type {
            "household.created" => &["name", "members.*.fields"],
            "household.client_details_edited" => &["changes.*.from", "changes.*.to"],
            _ => &[],
        }
    }
    fn erases_subject(&self, event_type: &str) -> bool {
        event_type == "household.erased"
    }
}

fn meta() -> Metadata {
    Metadata {
        actor: "bench".into(),
        practice_id: Some(Uuid::nil()),
        correlation_id: None,
        causation_id: None,
        occurred_at: Utc::now(),
    }
}

fn created(h: Uuid, n: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "household.created".into(),
        schema_version: 1,
        data: json!({
            "household_id": h, "practice_id": Uuid::nil(), "name": format!("Client{n} Family{n}"),
            "primary": Uuid::nil(), "status": "active",
            "members": [{"member_id": Uuid::new_v4(), "kind": "client", "fields": {
                "first_name": format!("Client{n}"), "last_name": format!("Family{n}"),
                "email": format!("client{n}@example.com"), "mobile": "+61 400 000 000",
                "address_line1": "1 Harbour St", "suburb": "Sydney", "postcode": "2000",
                "date_of_birth": "1970-01-01"}}],
        }),
        metadata: meta(),
    }
}

fn edited(n: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "household.client_details_edited".into(),
        schema_version: 1,
        data: json!({"member_id": Uuid::nil(), "changes": [
            {"field": "mobile", "from": "+61 400 000 000", "to": format!("+61 400 000 {n:03}")},
            {"field": "suburb", "from": "Sydney", "to": "Manly"}]}),
        metadata: meta(),
    }
}

/// Every writer creates its households, then edits them; events/s of the whole.
async fn append_rate(store: &EventStore) -> (f64, usize) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let ids: Vec<Uuid> = (0..HOUSEHOLDS_PER_WRITER).map(|_| Uuid::new_v4()).collect();
            for (i, h) in ids.iter().enumerate() {
                let stream = format!("household-{h}");
                store
                    .append(
                        &stream,
                        ExpectedVersion::NoStream,
                        vec![created(*h, w * 1000 + i)],
                    )
                    .await
                    .expect("append");
            }
            for e in 0..EDITS_PER_HOUSEHOLD {
                for h in &ids {
                    let stream = format!("household-{h}");
                    store
                        .append(&stream, ExpectedVersion::Any, vec![edited(e)])
                        .await
                        .expect("append");
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    let n = WRITERS * HOUSEHOLDS_PER_WRITER * (1 + EDITS_PER_HOUSEHOLD);
    (n as f64 / started.elapsed().as_secs_f64(), n)
}

/// Reads the whole log as the projection's rebuild does; events/s.
async fn read_rate(store: &EventStore) -> f64 {
    let started = Instant::now();
    let (mut after, mut n) = (Cursor::START, 0usize);
    loop {
        let batch = store.read_all(after, 10_000).await.expect("read");
        let Some(last) = batch.last() else { break };
        after = last.cursor;
        n += batch.len();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (plain_db, sealed_db) = (TestDatabase::create().await, TestDatabase::create().await);
        let plain = EventStore::connect(&plain_db.url).await.unwrap();
        let master = MasterKeys::new(MasterKey::from_bytes(&[7; 32]), vec![]);
        let sealed = EventStore::connect(&sealed_db.url)
            .await
            .unwrap()
            .with_personal_data(Arc::new(Households), master.clone());
        let (mut p, mut s) = (Vec::new(), Vec::new());
        // Alternating, so drift in the machine's load falls on both alike.
        for _ in 0..ROUNDS {
            p.push(append_rate(&plain).await.0);
            s.push(append_rate(&sealed).await.0);
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (ap, as_) = (mean(&p), mean(&s));
        println!("appends (8 writers, 1 event each; 1 household created per 10 edits):");
        println!("  plain  {ap:>9.0} events/s");
        println!(
            "  sealed {as_:>9.0} events/s  ({:.1}% of plain)",
            100.0 * as_ / ap
        );
        // A fresh process: no key cached, as at start-up.
        let cold = EventStore::connect(&sealed_db.url)
            .await
            .unwrap()
            .with_personal_data(Arc::new(Households), master.clone());
        let (rp, rs) = (read_rate(&plain).await, read_rate(&cold).await);
        // The sealed log read without opening: what the larger payloads alone cost.
        let unopened = read_rate(&EventStore::connect(&sealed_db.url).await.unwrap()).await;
        let events = ROUNDS * WRITERS * HOUSEHOLDS_PER_WRITER * (1 + EDITS_PER_HOUSEHOLD);
        println!("rebuild (read the whole log, {events} events, keys not cached):");
        println!("  plain  {rp:>9.0} events/s");
        println!(
            "  sealed {rs:>9.0} events/s  ({:.1}% of plain)",
            100.0 * rs / rp
        );
        println!(
            "  sealed, not opened {unopened:>9.0} events/s  ({:.1}% of plain)",
            100.0 * unopened / rp
        );
        let subjects: Vec<Uuid> = {
            let all = sealed.read_all(Cursor::START, 100_000).await.unwrap();
            let mut s: Vec<Uuid> = all
                .iter()
                .filter_map(|e| e.stream.strip_prefix("household-")?.parse().ok())
                .collect();
            s.sort();
            s.dedup();
            s.truncate(200);
            s
        };
        let started = Instant::now();
        for h in &subjects {
            sealed.erase_subject(*h, Utc::now()).await.unwrap();
        }
        let per = started.elapsed().as_secs_f64() * 1000.0 / subjects.len() as f64;
        println!(
            "erase one household (key destroyed, documents deleted): {per:.2} ms (mean of {})",
            subjects.len()
        );
    });
}
