//! Many writers on PostgreSQL — including transactions that take their id early and commit late,
//! and ones that roll back — while a subscriber follows live: it must see every committed event
//! exactly once, in strictly increasing cursor order, and never a rolled-back one.

mod support;

use std::{collections::HashSet, sync::Arc, time::Duration};

use hearth_eventstore::{testing::TestDatabase, Backend, Cursor, ExpectedVersion, StreamAppend};
use support::events;
use tokio::sync::Mutex;
use uuid::Uuid;

const FAST_WRITERS: usize = 8;
const APPENDS_PER_WRITER: usize = 40;
const SLOW_ROUNDS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_live_subscriber_sees_every_committed_event_exactly_once() {
    let db = TestDatabase::create().await;
    let store = db.store().await;
    let committed = Arc::new(Mutex::new(HashSet::<Uuid>::new()));
    let rolled_back = Arc::new(Mutex::new(HashSet::<Uuid>::new()));

    let subscriber = {
        let mut sub = store
            .subscribe("concurrency", Cursor::START)
            .with_poll_interval(Duration::from_millis(50));
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut last = Cursor::START;
            loop {
                match tokio::time::timeout(Duration::from_secs(5), sub.next()).await {
                    Ok(event) => {
                        let event = event.expect("subscription read");
                        assert!(
                            event.cursor > last,
                            "cursor went backwards: {:?} after {last:?}",
                            event.cursor
                        );
                        last = event.cursor;
                        seen.push(event.event_id);
                    }
                    Err(_) => return seen, // quiet for 5 s after the writers stopped
                }
            }
        })
    };

    let mut writers = Vec::new();
    for w in 0..FAST_WRITERS {
        let (store, committed) = (store.clone(), committed.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..APPENDS_PER_WRITER {
                let batch = events("t", 1 + (i % 3) as i64);
                let ids: Vec<Uuid> = batch.iter().map(|e| e.event_id).collect();
                store
                    .append(&format!("w{w}-{}", i % 5), ExpectedVersion::Any, batch)
                    .await
                    .expect("fast append");
                committed.lock().await.extend(ids);
            }
        }));
    }
    for s in 0..2 {
        let (store, committed, rolled_back) =
            (store.clone(), committed.clone(), rolled_back.clone());
        writers.push(tokio::spawn(async move {
            let Backend::Postgres(pool) = store.backend().clone() else {
                unreachable!()
            };
            for round in 0..SLOW_ROUNDS {
                let mut tx = pool.begin().await.unwrap();
                // Take a transaction id now, commit much later: positions and commit order disagree.
                let _: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(150 + 50 * (round as u64 % 3))).await;
                let batch = events("slow", 2);
                let ids: Vec<Uuid> = batch.iter().map(|e| e.event_id).collect();
                let append = StreamAppend {
                    stream: format!("slow{s}-{round}"),
                    expected: ExpectedVersion::NoStream,
                    events: batch,
                };
                store
                    .append_in_transaction(&mut tx, vec![append])
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(100)).await;
                if round % 2 == 0 {
                    tx.commit().await.unwrap();
                    committed.lock().await.extend(ids);
                } else {
                    tx.rollback().await.unwrap();
                    rolled_back.lock().await.extend(ids);
                }
            }
        }));
    }
    for w in writers {
        w.await.expect("writer");
    }

    let seen = subscriber.await.expect("subscriber");
    let unique: HashSet<Uuid> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "an event was delivered twice");
    let committed = committed.lock().await;
    assert!(
        unique.is_disjoint(&*rolled_back.lock().await),
        "a rolled-back event was delivered"
    );
    let missing: Vec<_> = committed.difference(&unique).collect();
    assert!(
        missing.is_empty(),
        "{} committed events were skipped",
        missing.len()
    );
    assert_eq!(unique.len(), committed.len());
}
