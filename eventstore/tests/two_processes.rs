//! Two stores on one PostgreSQL database stand for two service processes: each plans appends from
//! the stream heads it has seen, and wakes the other's subscribers without a NOTIFY in the append.

mod support;

use std::time::Duration;

use hearth_eventstore::{testing::TestDatabase, Cursor, ExpectedVersion, StoreError};
use support::events;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_moved_by_the_other_process_is_a_conflict_or_a_retry_never_a_fork() {
    let db = TestDatabase::create().await;
    let (a, b) = (db.store().await, db.store().await);
    a.append("s", ExpectedVersion::NoStream, events("t", 1))
        .await
        .unwrap();
    assert_eq!(a.read_stream("s", 1).await.unwrap().len(), 1); // a knows the head at 1
    b.append("s", ExpectedVersion::Any, events("t", 1))
        .await
        .unwrap(); // b moves it to 2
    assert_eq!(b.read_stream("s", 1).await.unwrap().len(), 2);

    // a still believes version 1: the exact expectation fails, naming the actual version.
    let err = a
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
    // Any is planned from the stale head, refused by the database, re-planned and written.
    let r = a
        .append("s", ExpectedVersion::Any, events("t", 2))
        .await
        .unwrap();
    assert_eq!(r.versions, vec![("s".to_string(), 4)]);
    // A stream the other process created is not "no stream" to this one.
    b.append("fresh", ExpectedVersion::NoStream, events("t", 1))
        .await
        .unwrap();
    let r = a
        .append("fresh", ExpectedVersion::Any, events("t", 1))
        .await
        .unwrap();
    assert_eq!(r.versions, vec![("fresh".to_string(), 2)]);

    support::deliverable(&a, r.cursor).await;
    let report = a.verify().await.unwrap();
    assert!(report.problem.is_none(), "{:?}", report.problem);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_of_the_other_process_is_woken_without_waiting_for_its_poll() {
    let db = TestDatabase::create().await;
    let (writer, reader) = (db.store().await, db.store().await);
    let mut sub = reader
        .subscribe("other-process", Cursor::START)
        .with_poll_interval(Duration::from_secs(60));
    // Let the subscriber find the log empty and start waiting (LISTEN is set up before that).
    assert!(tokio::time::timeout(Duration::from_millis(300), sub.next())
        .await
        .is_err());
    // An event is readable once every older transaction in the cluster has ended (other tests run
    // alongside), so the writer keeps appending: each append is followed by a NOTIFY.
    let appending = tokio::spawn(async move {
        for _ in 0..50 {
            writer
                .append("s", ExpectedVersion::Any, events("t", 1))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let event = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("woken by the other process's NOTIFY, well before the 60 s poll")
        .unwrap();
    assert_eq!(event.stream, "s");
    appending.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_leads_at_a_time_and_another_takes_over_when_it_lets_go() {
    let db = TestDatabase::create().await;
    let (a, b) = (db.store().await, db.store().await);
    let name = format!("lead-{}", uuid::Uuid::new_v4());
    let mut led = a.try_lead(&name).await.unwrap().expect("nobody leads yet");
    assert!(led.held().await);
    assert!(
        b.try_lead(&name).await.unwrap().is_none(),
        "a second leader while the first holds on"
    );
    assert!(
        a.try_lead(&name).await.unwrap().is_none(),
        "not twice from one process either"
    );
    assert!(
        b.try_lead(&format!("{name}-other"))
            .await
            .unwrap()
            .is_some(),
        "other work leads apart"
    );
    drop(led);
    // The server releases the lock once it sees the connection closed.
    let mut next = None;
    for _ in 0..100 {
        next = b.try_lead(&name).await.unwrap();
        if next.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(next.is_some(), "the lock outlived its leader");
}
