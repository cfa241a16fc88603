//! Tamper evidence: with the append-only triggers switched off (as an attacker with database
//! access could), every kind of rewrite is named by `verify`.

mod support;

use hearth_eventstore::on_both_backends;

use hearth_eventstore::{Cursor, EventStore, ExpectedVersion, IntegrityProblem};
use support::{deliverable, edit_payload_of_b2, events, tamper};

on_both_backends!(
    an_untouched_log_verifies,
    an_altered_event_is_named,
    an_event_deleted_mid_stream_is_named,
    a_whole_stream_deleted_is_caught_by_the_seal,
    the_last_event_of_a_stream_deleted_is_caught_by_its_head,
    two_events_swapped_are_named_as_reordered,
);

/// Three streams of four events, sealed.
async fn sealed_log(store: &EventStore) {
    let mut last = Cursor::START;
    for s in ["a", "b", "c"] {
        last = store
            .append(s, ExpectedVersion::NoStream, events("t", 4))
            .await
            .unwrap()
            .cursor;
    }
    deliverable(store, last).await;
    let seal = store.seal().await.unwrap().expect("a first seal");
    assert_eq!(seal.event_count, 12);
    assert!(store.seal().await.unwrap().is_none(), "nothing new to seal");
}

/// What `verify` names after the statements run on the unguarded events table.
async fn problem_after(store: &EventStore, statements: &[&str]) -> Option<IntegrityProblem> {
    tamper(store, &["events"], statements).await;
    store.verify().await.unwrap().problem
}

async fn an_untouched_log_verifies(store: EventStore) {
    sealed_log(&store).await;
    let more = store
        .append("a", ExpectedVersion::Exact(4), events("t", 2))
        .await
        .unwrap();
    deliverable(&store, more.cursor).await;
    let report = store.verify().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        (
            report.events_checked,
            report.streams_checked,
            report.seals_checked
        ),
        (14, 3, 1)
    );
}

async fn an_altered_event_is_named(store: EventStore) {
    sealed_log(&store).await;
    let problem = problem_after(&store, &[&edit_payload_of_b2(&store)]).await;
    assert!(
        matches!(problem, Some(IntegrityProblem::Altered { ref stream, version: 2, .. }) if stream == "b"),
        "{problem:?}"
    );
}

async fn an_event_deleted_mid_stream_is_named(store: EventStore) {
    sealed_log(&store).await;
    let problem = problem_after(
        &store,
        &["DELETE FROM events WHERE stream = 'c' AND version = 3"],
    )
    .await;
    assert!(
        matches!(problem, Some(IntegrityProblem::Missing { ref stream, expected_version: 3, found_version: Some(4) }) if stream == "c"),
        "{problem:?}"
    );
}

async fn a_whole_stream_deleted_is_caught_by_the_seal(store: EventStore) {
    sealed_log(&store).await;
    // A careful attacker removes the stream's head too, so only the seal can tell.
    let problem = problem_after(
        &store,
        &[
            "DELETE FROM events WHERE stream = 'b'",
            "DELETE FROM streams WHERE stream = 'b'",
        ],
    )
    .await;
    assert!(
        matches!(
            problem,
            Some(IntegrityProblem::SealMismatch { seal: 1, .. })
        ),
        "{problem:?}"
    );
}

async fn the_last_event_of_a_stream_deleted_is_caught_by_its_head(store: EventStore) {
    let written = store
        .append("a", ExpectedVersion::NoStream, events("t", 3))
        .await
        .unwrap();
    deliverable(&store, written.cursor).await;
    let problem = problem_after(
        &store,
        &["DELETE FROM events WHERE stream = 'a' AND version = 3"],
    )
    .await;
    assert!(
        matches!(problem, Some(IntegrityProblem::Missing { ref stream, expected_version: 3, found_version: None }) if stream == "a"),
        "{problem:?}"
    );
}

async fn two_events_swapped_are_named_as_reordered(store: EventStore) {
    sealed_log(&store).await;
    let problem = problem_after(
        &store,
        &[
            "UPDATE events SET version = -1 WHERE stream = 'a' AND version = 2",
            "UPDATE events SET version = 2 WHERE stream = 'a' AND version = 3",
            "UPDATE events SET version = 3 WHERE stream = 'a' AND version = -1",
        ],
    )
    .await;
    assert!(
        matches!(problem, Some(IntegrityProblem::Missing { ref stream, expected_version: 2, found_version: Some(3) }) | Some(IntegrityProblem::Reordered { ref stream, .. }) if stream == "a"),
        "{problem:?}"
    );
}
