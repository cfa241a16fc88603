//! Group commit on PostgreSQL: concurrent appends of one process share `hearth_append` calls,
//! yet each caller gets exactly the answer it would have got alone — its own positions,
//! versions and conflicts — and the log stays signed and verifiable.

mod support;

use std::{collections::HashMap, sync::Arc};

use hearth_eventstore::{
    testing::TestDatabase, AppendResult, Backend, EventStore, ExpectedVersion, LogSigner,
    StoreError, StreamAppend, TreeBuilder,
};
use support::events;

const WRITERS: usize = 24;
const APPENDS_PER_WRITER: usize = 12;

async fn signed_store(db: &TestDatabase) -> (EventStore, LogSigner) {
    let signer = LogSigner::generate();
    let store = db.store().await.with_signer(Arc::new(signer.clone()));
    (store, signer)
}

async fn scalar(store: &EventStore, sql: &str) -> i64 {
    let Backend::Postgres(pool) = store.backend() else {
        panic!("PostgreSQL only")
    };
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_share_calls_and_each_gets_its_own_result() {
    let db = TestDatabase::create().await;
    let (store, signer) = signed_store(&db).await;
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let mut results: Vec<(Vec<uuid::Uuid>, AppendResult)> = Vec::new();
            for i in 0..APPENDS_PER_WRITER {
                let batch = events("t", 1 + (i % 3) as i64);
                let ids = batch.iter().map(|e| e.event_id).collect();
                let expected = match i {
                    0 => ExpectedVersion::NoStream,
                    _ => ExpectedVersion::Exact(
                        results
                            .iter()
                            .map(|(ids, _): &(Vec<_>, _)| ids.len() as i64)
                            .sum(),
                    ),
                };
                let result = store
                    .append(&format!("w{w}"), expected, batch)
                    .await
                    .expect("append");
                results.push((ids, result));
            }
            results
        }));
    }
    let mut results = Vec::new();
    for w in writers {
        results.extend(w.await.unwrap());
    }
    if let Some(newest) = results.iter().map(|(_, r)| r.cursor).max() {
        support::deliverable(&store, newest).await;
    }
    let read = store
        .read_all(hearth_eventstore::Cursor::START, 100_000)
        .await
        .unwrap();
    let mut positions_seen = HashMap::new();
    let mut appends = 0;
    {
        for (ids, result) in results {
            appends += 1;
            // The result names this append's own events, as the log holds them.
            let mine: Vec<_> = read.iter().filter(|e| ids.contains(&e.event_id)).collect();
            assert_eq!(mine.len(), ids.len());
            assert_eq!(mine[0].position, result.first_position);
            assert_eq!(mine[mine.len() - 1].position, result.last_position);
            assert_eq!(result.cursor.position, result.last_position);
            assert_eq!(result.cursor.tx, mine[0].cursor.tx);
            assert_eq!(
                result.versions,
                vec![(mine[0].stream.clone(), mine[mine.len() - 1].version)]
            );
            for e in mine {
                assert!(positions_seen.insert(e.position, e.event_id).is_none());
            }
        }
    }
    let calls = scalar(
        &store,
        "SELECT count(*) FROM events WHERE signature IS NOT NULL",
    )
    .await;
    assert!(
        calls < appends,
        "{appends} appends from {WRITERS} concurrent writers took {calls} calls: none was grouped"
    );
    // Every group's one signature covers all its events: the tree takes the whole log.
    let size = TreeBuilder::new(store.clone(), signer.public_key().clone())
        .catch_up()
        .await
        .unwrap();
    assert_eq!(size as usize, positions_seen.len());
    let report = store.verify_signed(signer.public_key()).await.unwrap();
    assert!(report.problem.is_none(), "{:?}", report.problem);
}

/// Appends that conflict, re-send stored events, or write to the same stream wait in the same
/// queue as appends that succeed: the ones that fail get their own error and write nothing,
/// the others are written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_append_does_not_take_its_group_down() {
    let db = TestDatabase::create().await;
    let (store, _) = signed_store(&db).await;
    let resent = events("t", 2);
    store
        .append("resent", ExpectedVersion::NoStream, resent.clone())
        .await
        .unwrap();
    for round in 0..10 {
        // Two appends that both create a stream meet as a conflict (as outside a group): the
        // shared stream exists before its writers race.
        store
            .append(
                &format!("shared{round}"),
                ExpectedVersion::NoStream,
                events("t", 1),
            )
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for w in 0..16 {
            let store = store.clone();
            let resent = resent.clone();
            tasks.push(tokio::spawn(async move {
                match w % 4 {
                    // A stale expectation: a conflict, nothing written.
                    0 => (
                        w,
                        store
                            .append(
                                &format!("c{round}-{w}"),
                                ExpectedVersion::Exact(7),
                                events("t", 1),
                            )
                            .await,
                    ),
                    // A re-send of stored events: the original answer, nothing written.
                    1 => (
                        w,
                        store
                            .append("resent", ExpectedVersion::NoStream, resent)
                            .await,
                    ),
                    // Two streams at once, one of them shared by every such writer: all or nothing.
                    2 => (
                        w,
                        store
                            .append_many(vec![
                                StreamAppend {
                                    stream: format!("m{round}-{w}"),
                                    expected: ExpectedVersion::NoStream,
                                    events: events("t", 1),
                                },
                                StreamAppend {
                                    stream: format!("shared{round}"),
                                    expected: ExpectedVersion::Any,
                                    events: events("t", 1),
                                },
                            ])
                            .await,
                    ),
                    _ => (
                        w,
                        store
                            .append(
                                &format!("ok{round}-{w}"),
                                ExpectedVersion::NoStream,
                                events("t", 2),
                            )
                            .await,
                    ),
                }
            }));
        }
        for t in tasks {
            let (w, outcome) = t.await.unwrap();
            match w % 4 {
                0 => assert!(
                    matches!(outcome, Err(StoreError::Conflict { ref stream, actual: None, .. }) if *stream == format!("c{round}-{w}")),
                    "{outcome:?}"
                ),
                1 => assert_eq!(outcome.unwrap().versions, vec![("resent".to_string(), 2)]),
                2 => assert_eq!(outcome.unwrap().versions.len(), 2),
                _ => assert_eq!(
                    outcome.unwrap().versions,
                    vec![(format!("ok{round}-{w}"), 2)]
                ),
            }
        }
        assert_eq!(
            store
                .stream_version(&format!("shared{round}"))
                .await
                .unwrap(),
            Some(5),
            "the four two-stream appends of round {round} each wrote the shared stream once"
        );
    }
    assert_eq!(
        scalar(&store, "SELECT count(*) FROM events WHERE stream LIKE 'c%'").await,
        0,
        "no conflicting append wrote anything"
    );
    assert_eq!(
        scalar(
            &store,
            "SELECT count(*) FROM events WHERE stream = 'resent'"
        )
        .await,
        2
    );
    let report = store.verify().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
}
