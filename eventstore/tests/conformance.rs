//! The same behaviour, asserted on PostgreSQL and on SQLite.

mod support;

use hearth_eventstore::on_both_backends;

use std::{sync::Arc, time::Duration};

use chrono::{TimeZone, Utc};
use hearth_eventstore::{
    Cursor, EventStore, ExpectedVersion, StoreError, StreamAppend, VerificationRun,
};
use serde_json::json;
use support::{deliverable, event, events, raw_sql};
use uuid::Uuid;

on_both_backends!(
    appended_events_read_back_exactly,
    reading_a_stream_from_a_version_skips_earlier_events,
    a_wrong_expected_version_is_a_typed_conflict,
    re_sending_the_same_events_is_idempotent,
    re_sending_an_event_id_with_other_content_is_refused,
    a_failed_multi_stream_append_writes_nothing,
    a_pure_version_check_guards_an_append,
    older_schema_versions_are_upcast_on_read,
    read_all_returns_every_event_in_order_in_batches,
    a_subscription_resumes_from_its_checkpoint_and_follows_live,
    the_database_refuses_updates_and_deletes_of_events,
    cursor_of_a_position_is_the_one_the_subscription_reports,
    a_verification_run_is_its_practices_alone_and_finishes_once,
    a_sealed_record_reads_back_at_its_version,
);

async fn appended_events_read_back_exactly(store: EventStore) {
    let sent = events("thing.happened", 3);
    let result = store
        .append("household-1", ExpectedVersion::NoStream, sent.clone())
        .await
        .unwrap();
    assert_eq!(result.versions, vec![("household-1".to_string(), 3)]);
    assert_eq!(result.last_position - result.first_position, 2);

    let read = store.read_stream("household-1", 1).await.unwrap();
    assert_eq!(read.len(), 3);
    for (i, (got, want)) in read.iter().zip(&sent).enumerate() {
        assert_eq!(got.version, i as i64 + 1);
        assert_eq!(got.event_id, want.event_id);
        assert_eq!(got.event_type, want.event_type);
        assert_eq!(got.data, want.data);
        assert_eq!(got.metadata, want.metadata);
        assert_eq!(got.stream, "household-1");
    }
    assert_eq!(store.stream_version("household-1").await.unwrap(), Some(3));
    assert_eq!(store.stream_version("household-2").await.unwrap(), None);
}

async fn reading_a_stream_from_a_version_skips_earlier_events(store: EventStore) {
    store
        .append("s", ExpectedVersion::Any, events("t", 5))
        .await
        .unwrap();
    let tail = store.read_stream("s", 4).await.unwrap();
    assert_eq!(
        tail.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![4, 5]
    );
}

async fn a_wrong_expected_version_is_a_typed_conflict(store: EventStore) {
    store
        .append("s", ExpectedVersion::NoStream, events("t", 2))
        .await
        .unwrap();

    let err = store
        .append("s", ExpectedVersion::NoStream, events("t", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { ref stream, expected: ExpectedVersion::NoStream, actual: Some(2) } if stream == "s"),
        "{err:?}"
    );
    let err = store
        .append("s", ExpectedVersion::Exact(1), events("t", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                actual: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .append("new", ExpectedVersion::Exact(0), events("t", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { actual: None, .. }),
        "{err:?}"
    );

    store
        .append("s", ExpectedVersion::Exact(2), events("t", 1))
        .await
        .unwrap();
    store
        .append("s", ExpectedVersion::Any, events("t", 1))
        .await
        .unwrap();
    assert_eq!(
        store.read_stream("s", 1).await.unwrap().len(),
        4,
        "conflicting appends wrote nothing"
    );
}

async fn re_sending_the_same_events_is_idempotent(store: EventStore) {
    let batch = events("t", 3);
    let first = store
        .append("s", ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    let again = store
        .append("s", ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    assert_eq!(first, again);
    let any = store
        .append("s", ExpectedVersion::Any, batch)
        .await
        .unwrap();
    assert_eq!(first, any);
    assert_eq!(store.read_stream("s", 1).await.unwrap().len(), 3);
}

async fn re_sending_an_event_id_with_other_content_is_refused(store: EventStore) {
    let original = event("t", 1);
    store
        .append("s", ExpectedVersion::NoStream, vec![original.clone()])
        .await
        .unwrap();
    let mut altered = original.clone();
    altered.data = json!({"n": 2});
    let err = store
        .append("s", ExpectedVersion::Any, vec![altered])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::DuplicateEventId(id) if id == original.event_id),
        "{err:?}"
    );
    let err = store
        .append("other", ExpectedVersion::Any, vec![original.clone()])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DuplicateEventId(_)), "{err:?}");
    assert_eq!(store.read_stream("s", 1).await.unwrap().len(), 1);
    assert!(store.read_stream("other", 1).await.unwrap().is_empty());
}

async fn a_failed_multi_stream_append_writes_nothing(store: EventStore) {
    store
        .append("b", ExpectedVersion::NoStream, events("t", 1))
        .await
        .unwrap();
    let err = store
        .append_many(vec![
            StreamAppend {
                stream: "a".into(),
                expected: ExpectedVersion::NoStream,
                events: events("t", 3),
            },
            StreamAppend {
                stream: "b".into(),
                expected: ExpectedVersion::NoStream,
                events: events("t", 1),
            },
        ])
        .await
        .unwrap_err();
    assert!(err.is_conflict());
    assert!(
        store.read_stream("a", 1).await.unwrap().is_empty(),
        "no event of a failed append is kept"
    );
    assert_eq!(store.read_stream("b", 1).await.unwrap().len(), 1);

    let ok = store
        .append_many(vec![
            StreamAppend {
                stream: "a".into(),
                expected: ExpectedVersion::NoStream,
                events: events("t", 3),
            },
            StreamAppend {
                stream: "b".into(),
                expected: ExpectedVersion::Exact(1),
                events: events("t", 1),
            },
        ])
        .await
        .unwrap();
    assert_eq!(ok.versions.len(), 2);
    deliverable(&store, ok.cursor).await;
    assert_eq!(store.read_all(Cursor::START, 100).await.unwrap().len(), 5);
}

async fn a_pure_version_check_guards_an_append(store: EventStore) {
    store
        .append("practice", ExpectedVersion::NoStream, events("t", 2))
        .await
        .unwrap();
    let check = |v| StreamAppend {
        stream: "practice".into(),
        expected: ExpectedVersion::Exact(v),
        events: vec![],
    };
    let write = || StreamAppend {
        stream: "household".into(),
        expected: ExpectedVersion::Any,
        events: events("t", 1),
    };
    let err = store
        .append_many(vec![check(1), write()])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { ref stream, .. } if stream == "practice"),
        "{err:?}"
    );
    assert!(store.read_stream("household", 1).await.unwrap().is_empty());
    store.append_many(vec![check(2), write()]).await.unwrap();
    assert_eq!(
        store.stream_version("practice").await.unwrap(),
        Some(2),
        "a check writes nothing to its stream"
    );
    assert_eq!(store.stream_version("household").await.unwrap(), Some(1));
}

async fn older_schema_versions_are_upcast_on_read(store: EventStore) {
    let mut old = event("staff.granted", 1);
    old.data = json!({"staff": "s1"});
    store
        .append("s", ExpectedVersion::NoStream, vec![old])
        .await
        .unwrap();
    let upcaster = |kind: &str,
                    version: i32,
                    mut data: serde_json::Value|
     -> Result<(i32, serde_json::Value), String> {
        if kind == "staff.granted" && version == 1 {
            data["role"] = json!("professional");
            return Ok((2, data));
        }
        Ok((version, data))
    };
    let store = store.with_upcaster(Arc::new(upcaster));
    deliverable(&store, store.cursor_of(1).await.unwrap().unwrap()).await;
    for e in [
        store.read_stream("s", 1).await.unwrap(),
        store.read_all(Cursor::START, 10).await.unwrap(),
    ]
    .concat()
    {
        assert_eq!(e.schema_version, 2);
        assert_eq!(e.data, json!({"staff": "s1", "role": "professional"}));
    }
}

async fn read_all_returns_every_event_in_order_in_batches(store: EventStore) {
    let mut last = Cursor::START;
    for s in 0..10 {
        last = store
            .append(&format!("s{s}"), ExpectedVersion::NoStream, events("t", 7))
            .await
            .unwrap()
            .cursor;
    }
    deliverable(&store, last).await;
    let (mut after, mut seen) = (Cursor::START, Vec::new());
    loop {
        let batch = store.read_all(after, 8).await.unwrap();
        assert!(batch.len() <= 8);
        let Some(last) = batch.last() else { break };
        after = last.cursor;
        seen.extend(batch);
    }
    assert_eq!(seen.len(), 70);
    assert!(
        seen.windows(2).all(|w| w[0].cursor < w[1].cursor),
        "strictly increasing cursors"
    );
    assert_eq!(store.head().await.unwrap(), seen.last().unwrap().cursor);
}

async fn a_subscription_resumes_from_its_checkpoint_and_follows_live(store: EventStore) {
    store
        .append("s", ExpectedVersion::NoStream, events("t", 5))
        .await
        .unwrap();
    let mut sub = store.subscribe("test", Cursor::START);
    for n in 1..=3 {
        assert_eq!(sub.next().await.unwrap().data["n"], json!(n));
    }
    store.save_checkpoint("test", sub.cursor()).await.unwrap();
    drop(sub);

    let from = store.load_checkpoint("test").await.unwrap();
    let mut resumed = store.subscribe("test", from);
    assert_eq!(resumed.next().await.unwrap().data["n"], json!(4));
    assert_eq!(resumed.next().await.unwrap().data["n"], json!(5));

    let writer = store.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        writer
            .append("s", ExpectedVersion::Exact(5), vec![event("t", 6)])
            .await
            .unwrap();
    });
    let live = tokio::time::timeout(Duration::from_secs(10), resumed.next())
        .await
        .expect("live event arrives")
        .unwrap();
    assert_eq!(live.version, 6);
    assert_eq!(
        store.load_checkpoint("never-saved").await.unwrap(),
        Cursor::START
    );
}

async fn the_database_refuses_updates_and_deletes_of_events(store: EventStore) {
    store
        .append("s", ExpectedVersion::NoStream, events("t", 2))
        .await
        .unwrap();
    assert!(raw_sql(&store, "UPDATE events SET event_type = 'forged'")
        .await
        .is_err());
    assert!(raw_sql(&store, "DELETE FROM events").await.is_err());
    if store.is_postgres() {
        assert!(raw_sql(&store, "TRUNCATE events").await.is_err());
    }
    let read = store.read_stream("s", 1).await.unwrap();
    assert_eq!(read.len(), 2);
    assert!(read.iter().all(|e| e.event_type == "t"));
}

async fn cursor_of_a_position_is_the_one_the_subscription_reports(store: EventStore) {
    let written = store
        .append("s", ExpectedVersion::NoStream, events("t", 2))
        .await
        .unwrap();
    assert_eq!(
        store.cursor_of(written.last_position).await.unwrap(),
        Some(written.cursor)
    );
    deliverable(&store, written.cursor).await;
    let all = store.read_all(Cursor::START, 10).await.unwrap();
    assert_eq!(all.last().unwrap().cursor, written.cursor);
    assert_eq!(store.cursor_of(999_999).await.unwrap(), None);
}

async fn a_verification_run_is_its_practices_alone_and_finishes_once(store: EventStore) {
    let (id, practice, by) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let started = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    store
        .start_verification(id, practice, by, started)
        .await
        .unwrap();
    let mut run = VerificationRun {
        id,
        practice_id: practice,
        requested_by: by,
        started_at: started,
        finished_at: None,
        result: None,
    };
    assert_eq!(
        store.verification(practice, id).await.unwrap(),
        Some(run.clone())
    );
    assert_eq!(store.verification(Uuid::new_v4(), id).await.unwrap(), None);

    let finished = started + chrono::Duration::minutes(1);
    let result = json!({"intact": true, "events": 3});
    store
        .finish_verification(id, finished, &result)
        .await
        .unwrap();
    let later = finished + chrono::Duration::minutes(1);
    store
        .finish_verification(id, later, &json!({"intact": false}))
        .await
        .unwrap();
    (run.finished_at, run.result) = (Some(finished), Some(result));
    assert_eq!(store.verification(practice, id).await.unwrap(), Some(run));
}

async fn a_sealed_record_reads_back_at_its_version(store: EventStore) {
    let owner = Uuid::new_v4();
    assert_eq!(store.sealed_record(owner).await.unwrap(), None);
    assert_eq!(
        store
            .replace_sealed_record(owner, None, b"one")
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        store.sealed_record(owner).await.unwrap(),
        Some((1, b"one".to_vec()))
    );
    assert_eq!(
        store
            .replace_sealed_record(owner, None, b"two")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .replace_sealed_record(owner, Some(1), b"two")
            .await
            .unwrap(),
        Some(2)
    );
    assert_eq!(
        store.sealed_record(owner).await.unwrap(),
        Some((2, b"two".to_vec()))
    );
}
