//! The verifiable log on real databases: signed appends, the tree builder, proofs against stored
//! checkpoints, and the tamper suite — each tampering done as the strongest attacker it names
//! (someone who can write the database but does not hold the signing key), and each named by the
//! offline audit of a bundle against a checkpoint saved before the tampering.

mod support;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use hearth_eventstore::{
    audit::{audit_bundle, AuditProblem, AuditReport},
    merkle::{leaf_hash, verify_consistency, verify_inclusion, Frontier},
    on_both_backends, Bundle, Checkpoint, EventStore, ExpectedVersion, ExportRequest,
    IntegrityProblem, LogSigner, Metadata, NewEvent, TreeBuilder, TreeError,
};
use serde_json::json;
use support::{deliverable, edit_payload_of_b2, raw_sql, sql, tamper};
use uuid::Uuid;

on_both_backends!(
    proofs_verify_for_first_middle_and_last_events_at_every_shape,
    an_append_without_the_key_stops_the_tree_builder,
    a_copied_signature_stops_the_builder_of_the_process_that_made_it,
    appends_signed_in_the_old_table_are_still_the_services,
    a_builders_checkpoint_signs_the_stored_tree,
    stored_leaves_cannot_be_rewritten_by_a_longer_block_row,
    low_levels_live_in_blocks_and_a_restarted_builder_continues_them,
    a_follower_covers_what_the_log_holds_over_several_batches,
    a_builder_that_loses_a_race_says_so_and_follows_on_from_the_winner,
    an_untouched_log_audits_clean_against_an_earlier_checkpoint,
    a_payload_edited_is_named,
    a_middle_event_deleted_is_named,
    a_tail_event_deleted_with_its_head_and_leaf_rolled_back_is_named,
    events_reordered_within_a_stream_are_named,
    events_reordered_across_streams_are_named,
    a_forged_event_with_recomputed_hashes_and_heads_is_named,
    a_forged_event_with_forged_signature_and_tree_rows_is_named,
    a_whole_stream_removed_is_named,
    an_older_backup_is_named,
    a_checkpoint_signed_by_another_key_is_refused,
    a_bundle_edited_after_export_is_named,
);

const PRACTICE: Uuid = Uuid::from_u128(0x7e57_0000_0000_4000_8000_0000_0000_0001);
const OTHER_PRACTICE: Uuid = Uuid::from_u128(0x7e57_0000_0000_4000_8000_0000_0000_0002);

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn events_of(practice: Uuid, count: i64) -> Vec<NewEvent> {
    (1..=count)
        .map(|n| NewEvent {
            event_id: Uuid::new_v4(),
            event_type: "access_granted".into(),
            schema_version: 1,
            data: json!({"n": n, "staff": "s-1"}),
            metadata: Metadata {
                actor: "staff-1".into(),
                practice_id: Some(practice),
                correlation_id: None,
                causation_id: None,
                occurred_at: now(),
            },
        })
        .collect()
}

struct Log {
    /// Appends through this one are signed by the service's key.
    store: EventStore,
    /// The same database without the key: what an attacker with database access can do.
    unsigned: EventStore,
    signer: LogSigner,
    /// A practice checkpoint the auditor saved before any tampering.
    trusted: Checkpoint,
}

/// Streams a, b, c (4 events each) of the practice and one stream of another practice; the
/// auditor saves a checkpoint; then stream a grows by two more events.
async fn audited_log(unsigned: EventStore) -> Log {
    let signer = LogSigner::generate();
    let store = unsigned.clone().with_signer(Arc::new(signer.clone()));
    for s in ["a", "b", "c"] {
        store
            .append(s, ExpectedVersion::NoStream, events_of(PRACTICE, 4))
            .await
            .unwrap();
    }
    let last = store
        .append(
            "other",
            ExpectedVersion::NoStream,
            events_of(OTHER_PRACTICE, 2),
        )
        .await
        .unwrap();
    deliverable(&store, last.cursor).await;
    let size = TreeBuilder::new(store.clone(), signer.public_key().clone())
        .catch_up()
        .await
        .unwrap();
    assert_eq!(size, 14);
    let trusted = store
        .sign_practice_checkpoint(&signer, PRACTICE, now())
        .await
        .unwrap();
    let more = store
        .append("a", ExpectedVersion::Exact(4), events_of(PRACTICE, 2))
        .await
        .unwrap();
    deliverable(&store, more.cursor).await;
    Log {
        store,
        unsigned,
        signer,
        trusted,
    }
}

async fn export(log: &Log) -> Bundle {
    let request = ExportRequest {
        practice: PRACTICE,
        consistent_with: vec![log.trusted.tree_size],
        ..ExportRequest::default()
    };
    let bundle = log
        .store
        .export_practice(&log.signer, &request, now())
        .await
        .unwrap();
    // Through JSON, as the file an auditor receives.
    serde_json::from_str(&serde_json::to_string(&bundle).unwrap()).unwrap()
}

async fn audit(log: &Log) -> Result<AuditReport, AuditProblem> {
    let bundle = export(log).await;
    audit_bundle(&bundle, log.signer.public_key(), Some(&log.trusted))
}

/// Every table with append-only triggers: the tamper suite's attacker switches them all off.
const GUARDED: [&str; 9] = [
    "events",
    "streams",
    "seals",
    "append_signatures",
    "merkle_nodes",
    "merkle_blocks",
    "merkle_practice_runs",
    "merkle_steps",
    "tree_checkpoints",
];

/// The attacker removes the whole tree (every leaf, node and practice run; the signed
/// checkpoints stay), so the next export builds it again from the log as they left it.
const TREE_REMOVED: [&str; 4] = [
    "DELETE FROM merkle_blocks",
    "DELETE FROM merkle_nodes",
    "DELETE FROM merkle_practice_runs",
    "DELETE FROM merkle_steps",
];

/// What the audit names once the statements have run on an audited log.
async fn audit_after(store: EventStore, statements: &[&str]) -> AuditProblem {
    let log = audited_log(store).await;
    tamper(&log.store, &GUARDED, statements).await;
    audit(&log).await.unwrap_err()
}

/// A forged event is named by the audit and by the signed walk, though the keyless walk
/// cannot tell it from the service's.
async fn assert_forged_is_named(log: &Log, stream: &str, version: i64) {
    assert_eq!(
        audit(log).await.unwrap_err(),
        AuditProblem::Unsigned {
            stream: stream.into(),
            version
        }
    );
    let keyless = log.store.verify().await.unwrap();
    assert!(keyless.is_intact(), "{keyless:?}");
    let problem = log
        .store
        .verify_signed(log.signer.public_key())
        .await
        .unwrap()
        .problem;
    assert!(
        matches!(&problem, Some(IntegrityProblem::Unsigned { stream: s, version: v, .. }) if s == stream && *v == version),
        "{problem:?}"
    );
}

async fn proofs_verify_for_first_middle_and_last_events_at_every_shape(unsigned: EventStore) {
    let signer = LogSigner::generate();
    let store = unsigned.with_signer(Arc::new(signer.clone()));
    let mut builder = TreeBuilder::new(store.clone(), signer.public_key().clone());
    let mut ids = Vec::new();
    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    for size in 1..=17u64 {
        let event = events_of(PRACTICE, 1);
        ids.push(event[0].event_id);
        let written = store
            .append(&format!("s{}", size % 3), ExpectedVersion::Any, event)
            .await
            .unwrap();
        deliverable(&store, written.cursor).await;
        assert_eq!(builder.catch_up().await.unwrap(), size);
        if ![1, 2, 3, 4, 5, 8, 9, 16, 17].contains(&size) {
            continue;
        }
        let cp = store.sign_checkpoint(&signer, now()).await.unwrap();
        assert!(cp.verify(signer.public_key()));
        assert_eq!(cp.tree_size, size);
        for pick in [0, (size / 2) as usize, size as usize - 1] {
            let proof = store
                .inclusion_proof(ids[pick], size)
                .await
                .unwrap()
                .expect("an event in the tree has a proof");
            assert_eq!(proof.leaf_index, pick as u64);
            assert!(proof.path.len() <= 5, "O(log n) hashes");
            assert!(
                verify_inclusion(
                    &leaf_hash(&proof.event_hash),
                    proof.leaf_index,
                    size,
                    &proof.path,
                    &cp.root
                ),
                "event {pick} at size {size}"
            );
        }
        for old in &checkpoints {
            let path = store
                .consistency_proof(old.tree_size, size)
                .await
                .unwrap()
                .unwrap();
            assert!(
                verify_consistency(old.tree_size, &old.root, size, &cp.root, &path),
                "{} -> {size}",
                old.tree_size
            );
        }
        checkpoints.push(cp);
    }
    assert_eq!(
        store.checkpoints().await.unwrap(),
        checkpoints,
        "every checkpoint is kept, in order"
    );
    assert!(
        store.consistency_proof(5, 18).await.unwrap().is_none(),
        "no proof beyond the tree"
    );
}

/// `follow` (the service's tick) stops at the end it read, but only there: a log longer than
/// one batch is covered whole, as `catch_up` covers it, and the tree proves events either side
/// of where its steps ended. (That it does not chase a growing log is a matter of cost, not of
/// what it stores: measured by the audit bench.)
async fn a_follower_covers_what_the_log_holds_over_several_batches(unsigned: EventStore) {
    let signer = LogSigner::generate();
    let store = unsigned.with_signer(Arc::new(signer.clone()));
    let mut last = None;
    for stream in 0..5 {
        let written = store
            .append(
                &format!("bulk-{stream}"),
                ExpectedVersion::NoStream,
                events_of(PRACTICE, 1_000),
            )
            .await
            .unwrap();
        last = Some(written.cursor);
    }
    deliverable(&store, last.unwrap()).await;
    let mut follower = TreeBuilder::new(store.clone(), signer.public_key().clone());
    assert_eq!(follower.follow().await.unwrap(), 5_000);
    assert_eq!(
        follower.follow().await.unwrap(),
        5_000,
        "nothing new, nothing added"
    );
    let written = store
        .append("late", ExpectedVersion::NoStream, events_of(PRACTICE, 3))
        .await
        .unwrap();
    deliverable(&store, written.cursor).await;
    assert_eq!(follower.follow().await.unwrap(), 5_003);
    let events = store
        .read_all(hearth_eventstore::Cursor::START, 10_000)
        .await
        .unwrap();
    let mut expected = Frontier::default();
    for e in &events {
        expected.push(leaf_hash(&e.hash));
    }
    let cp = store.sign_checkpoint(&signer, now()).await.unwrap();
    assert_eq!((cp.tree_size, cp.root), (5_003, expected.root()));
    // Either side of where the first step ended (whole appends: 4,000 of a 4,096 batch), and
    // the ends.
    for index in [0, 3_999, 4_000, 4_999, 5_002] {
        let e = &events[index];
        let proof = store
            .inclusion_proof(e.event_id, 5_003)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(proof.leaf_index, index as u64);
        assert!(verify_inclusion(
            &leaf_hash(&e.hash),
            proof.leaf_index,
            5_003,
            &proof.path,
            &cp.root
        ));
    }
}

/// Two builders over one log (two instances, or an export beside the service): the one whose
/// leaves were stored first by the other is told it lost a race — not that the tree is broken —
/// and its next step continues from what the other stored.
async fn a_builder_that_loses_a_race_says_so_and_follows_on_from_the_winner(unsigned: EventStore) {
    let signer = LogSigner::generate();
    let store = unsigned.with_signer(Arc::new(signer.clone()));
    let append = |name: &'static str| {
        let store = store.clone();
        async move {
            let written = store
                .append(name, ExpectedVersion::NoStream, events_of(PRACTICE, 3))
                .await
                .unwrap();
            deliverable(&store, written.cursor).await;
        }
    };
    append("first").await;
    let mut slow = TreeBuilder::new(store.clone(), signer.public_key().clone());
    assert_eq!(slow.follow().await.unwrap(), 3);
    append("second").await;
    let mut fast = TreeBuilder::new(store.clone(), signer.public_key().clone());
    assert_eq!(fast.follow().await.unwrap(), 6);
    let lost = slow.step().await.unwrap_err();
    assert!(lost.is_lost_race(), "{lost}");
    assert_eq!(slow.follow().await.unwrap(), 6);
    append("third").await;
    assert_eq!(slow.follow().await.unwrap(), 9);
    // A row someone else put where the next leaf goes is no race: it is named as the error it is.
    append("fourth").await;
    sql(&store, "INSERT INTO merkle_steps VALUES (9, 1)").await;
    let refused = slow.step().await.unwrap_err();
    assert!(!refused.is_lost_race(), "{refused}");
}

/// The tree keeps its lowest four levels as blocks of 16 event hashes (a block still filling is
/// written again, longer, at each step), not as node rows: appends of five events, read by a
/// builder that is replaced every other step, cross blocks mid-append; the stored tree must give
/// the root an in-memory tree of the same events gives, and a proof for every event.
async fn low_levels_live_in_blocks_and_a_restarted_builder_continues_them(unsigned: EventStore) {
    let signer = LogSigner::generate();
    let store = unsigned.with_signer(Arc::new(signer.clone()));
    let mut builder = TreeBuilder::new(store.clone(), signer.public_key().clone());
    for step in 0..9u64 {
        let written = store
            .append(
                &format!("s{}", step % 2),
                ExpectedVersion::Any,
                events_of(PRACTICE, 5),
            )
            .await
            .unwrap();
        deliverable(&store, written.cursor).await;
        if step % 2 == 0 {
            builder = TreeBuilder::new(store.clone(), signer.public_key().clone());
        }
        assert_eq!(builder.catch_up().await.unwrap(), 5 * (step + 1));
    }
    let (events, cp) = proves_every_event(&store, &signer, 45).await;
    assert_eq!(events.len(), 45);
    for old in [1, 15, 16, 17, 33] {
        let path = store.consistency_proof(old, 45).await.unwrap().unwrap();
        let old_root = store.tree_root(old).await.unwrap();
        assert!(
            verify_consistency(old, &old_root, 45, &cp.root, &path),
            "{old} -> 45"
        );
    }
    let count = |sql: &'static str| {
        let store = store.clone();
        async move {
            match store.backend() {
                hearth_eventstore::Backend::Postgres(pool) => {
                    sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await
                }
                hearth_eventstore::Backend::Sqlite(pool) => {
                    sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await
                }
            }
            .unwrap()
        }
    };
    assert_eq!(
        count("SELECT count(*) FROM merkle_nodes WHERE level < 4").await,
        0
    );
    // Blocks 0 and 1 full, block 2 as far as it goes (13 leaves), each written when a step
    // added to it: 0 at 5, 10, 15, 16; 1 at 4, 9, 14, 16; 2 at 3, 8, 13.
    assert_eq!(
        count("SELECT count(*) FROM merkle_blocks WHERE leaves = 16").await,
        2
    );
    assert_eq!(
        count("SELECT CAST(max(leaves) AS BIGINT) FROM merkle_blocks WHERE idx = 2").await,
        13
    );
    // One step of 16 leaves: block 2 fills and block 3 is left as long as block 2 was (13).
    let written = store
        .append("s2", ExpectedVersion::Any, events_of(PRACTICE, 16))
        .await
        .unwrap();
    deliverable(&store, written.cursor).await;
    assert_eq!(builder.catch_up().await.unwrap(), 61);
    proves_every_event(&store, &signer, 61).await;
}

/// Signs a checkpoint of `size` leaves, checks its root against an in-memory tree of the log's
/// events and every event's inclusion proof against it; returns the events and the checkpoint.
async fn proves_every_event(
    store: &EventStore,
    signer: &LogSigner,
    size: u64,
) -> (Vec<hearth_eventstore::RecordedEvent>, Checkpoint) {
    let events = store
        .read_all(hearth_eventstore::Cursor::START, 1_000)
        .await
        .unwrap();
    let mut expected = Frontier::default();
    for e in &events {
        expected.push(leaf_hash(&e.hash));
    }
    let cp = store.sign_checkpoint(signer, now()).await.unwrap();
    assert_eq!(cp.tree_size, size);
    assert_eq!(cp.root, expected.root(), "the stored tree's root at {size}");
    for (index, e) in events.iter().enumerate() {
        let proof = store
            .inclusion_proof(e.event_id, size)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(proof.leaf_index, index as u64);
        assert!(
            verify_inclusion(
                &leaf_hash(&e.hash),
                proof.leaf_index,
                size,
                &proof.path,
                &cp.root
            ),
            "event {index} at size {size}"
        );
    }
    (events, cp)
}

/// Three events of stream "a" appended by a signing store, then a fourth written around it
/// (by the same database without the key); the signing store and its key, once the fourth is
/// deliverable.
async fn signed_then_forged(unsigned: EventStore) -> (EventStore, LogSigner) {
    let signer = LogSigner::generate();
    let store = unsigned.clone().with_signer(Arc::new(signer.clone()));
    store
        .append("a", ExpectedVersion::NoStream, events_of(PRACTICE, 3))
        .await
        .unwrap();
    let forged = unsigned
        .append("a", ExpectedVersion::Exact(3), events_of(PRACTICE, 1))
        .await
        .unwrap();
    deliverable(&store, forged.cursor).await;
    (store, signer)
}

fn assert_stopped_at_the_forged_event(error: TreeError) {
    assert!(
        matches!(error, TreeError::Unauthenticated { ref stream, version: 4, .. } if stream == "a"),
        "{error}"
    );
}

async fn an_append_without_the_key_stops_the_tree_builder(unsigned: EventStore) {
    let (store, signer) = signed_then_forged(unsigned).await;
    let mut builder = TreeBuilder::new(store.clone(), signer.public_key().clone());
    // The signed append becomes leaves; the forged row stops the builder, now and on retry.
    assert_eq!(builder.step().await.unwrap(), 3);
    for _ in 0..2 {
        assert_stopped_at_the_forged_event(builder.catch_up().await.unwrap_err());
    }
    assert_eq!(store.tree_size().await.unwrap(), 3);
}

/// The signing process's builder takes its own appends on memory rather than by verifying them
/// again (signed_here.rs); a row that carries a copy of one of its signatures is still refused.
async fn a_copied_signature_stops_the_builder_of_the_process_that_made_it(unsigned: EventStore) {
    let (store, signer) = signed_then_forged(unsigned).await;
    sql(
        &store,
        "INSERT INTO append_signatures (first_event_id, event_count, key_id, signature) \
         SELECT e.event_id, 1, s.sig_key_id, s.signature FROM events e, events s \
         WHERE e.stream = 'a' AND e.version = 4 AND s.signature IS NOT NULL",
    )
    .await;
    let mut builder = TreeBuilder::new(store.clone(), signer.public_key().clone());
    assert_stopped_at_the_forged_event(builder.catch_up().await.unwrap_err());
    assert_eq!(store.tree_size().await.unwrap(), 3);
}

/// The builder signs from its own frontier, without reading the tree back: what it signs must be
/// the root of the stored tree at that size, stored once however often it is asked.
async fn a_builders_checkpoint_signs_the_stored_tree(unsigned: EventStore) {
    let signer = LogSigner::generate();
    let store = unsigned.with_signer(Arc::new(signer.clone()));
    let mut builder = TreeBuilder::new(store.clone(), signer.public_key().clone());
    // Before any step it holds no tree, and signs through the store.
    let empty = builder.sign_checkpoint(&signer, now()).await.unwrap();
    assert_eq!(empty.tree_size, 0);
    for (stream, count) in [("a", 5), ("b", 17), ("c", 1)] {
        let done = store
            .append(
                stream,
                ExpectedVersion::NoStream,
                events_of(PRACTICE, count),
            )
            .await
            .unwrap();
        deliverable(&store, done.cursor).await;
        let size = builder.follow().await.unwrap();
        let (checkpoint, signed_here) = builder
            .sign_or_take_checkpoint(&signer, now())
            .await
            .unwrap();
        assert!(
            signed_here,
            "a tree not signed before is signed by this call"
        );
        assert_eq!(checkpoint.tree_size, size);
        assert_eq!(checkpoint.root, store.tree_root(size).await.unwrap());
        assert!(checkpoint.verify(signer.public_key()), "{checkpoint:?}");
        let again = builder
            .sign_or_take_checkpoint(&signer, now())
            .await
            .unwrap();
        assert_eq!(again, (checkpoint, false));
    }
    // A builder behind another does not sign a smaller tree than the one already signed.
    let mut behind = TreeBuilder::new(store.clone(), signer.public_key().clone());
    assert_eq!(behind.follow().await.unwrap(), 23);
    let more = store
        .append("d", ExpectedVersion::NoStream, events_of(PRACTICE, 2))
        .await
        .unwrap();
    deliverable(&store, more.cursor).await;
    assert_eq!(builder.follow().await.unwrap(), 25);
    let ahead = builder.sign_checkpoint(&signer, now()).await.unwrap();
    assert_eq!(behind.sign_checkpoint(&signer, now()).await.unwrap(), ahead);
    // Neither the builder behind nor another at the same size signed it: not theirs to publish.
    assert_eq!(
        behind
            .sign_or_take_checkpoint(&signer, now())
            .await
            .unwrap(),
        (ahead.clone(), false)
    );
    let mut level = TreeBuilder::new(store.clone(), signer.public_key().clone());
    assert_eq!(level.follow().await.unwrap(), 25);
    assert_eq!(
        level.sign_or_take_checkpoint(&signer, now()).await.unwrap(),
        (ahead, false)
    );
    let sizes: Vec<u64> = store
        .checkpoints()
        .await
        .unwrap()
        .iter()
        .map(|c| c.tree_size)
        .collect();
    assert_eq!(sizes, vec![0, 5, 22, 23, 25]);
}

/// A block is stored again, longer, as it fills, and the longest row is read: a row that does
/// not extend the stored one (here: three stored leaves rewritten, one added) is refused, also
/// to whoever may insert.
async fn stored_leaves_cannot_be_rewritten_by_a_longer_block_row(unsigned: EventStore) {
    let signer = LogSigner::generate();
    let store = unsigned.with_signer(Arc::new(signer.clone()));
    let done = store
        .append("a", ExpectedVersion::NoStream, events_of(PRACTICE, 3))
        .await
        .unwrap();
    deliverable(&store, done.cursor).await;
    let mut builder = TreeBuilder::new(store.clone(), signer.public_key().clone());
    assert_eq!(builder.catch_up().await.unwrap(), 3);
    let root = store.tree_root(3).await.unwrap();
    let (zeros, first) = if store.is_postgres() {
        (
            "decode(repeat('00', 128), 'hex')",
            "substring({} FROM 1 FOR {})",
        )
    } else {
        ("zeroblob(128)", "substr({}, 1, {})")
    };
    // SQLite's || makes text of blobs: cast back, so the rows hold what PostgreSQL's would.
    let cat = |a: &str, b: &str| {
        if store.is_postgres() {
            format!("{a} || {b}")
        } else {
            format!("CAST({a} || {b} AS BLOB)")
        }
    };
    let one_more = |column: &str, width: usize| {
        cat(
            column,
            &first
                .replacen("{}", column, 1)
                .replacen("{}", &width.to_string(), 1),
        )
    };
    let forged = format!(
        "INSERT INTO merkle_blocks (idx, leaves, first_tx, first_position, event_hashes, event_ids, cursors, group_starts) \
         SELECT idx, 4, first_tx, first_position, {zeros}, {}, {}, {} FROM merkle_blocks WHERE idx = 0 AND leaves = 3",
        one_more("event_ids", 16),
        one_more("cursors", 16),
        one_more("group_starts", 8),
    );
    let refused = raw_sql(&store, &forged).await.expect_err(&forged);
    assert!(
        refused.to_string().contains("extend the stored one"),
        "{refused}"
    );
    assert_eq!(store.tree_size().await.unwrap(), 3);
    assert_eq!(store.tree_root(3).await.unwrap(), root);

    // A row that does extend it, with a leaf for an event the log does not have: stored, but a
    // builder that starts from it refuses to go on.
    let (leaf_hash_bytes, id_bytes) = if store.is_postgres() {
        (
            "decode(repeat('11', 32), 'hex')",
            "decode(repeat('22', 16), 'hex')",
        )
    } else {
        ("randomblob(32)", "randomblob(16)")
    };
    let extended = format!(
        "INSERT INTO merkle_blocks (idx, leaves, first_tx, first_position, event_hashes, event_ids, cursors, group_starts) \
         SELECT idx, 4, first_tx, first_position, {}, {}, {}, {} FROM merkle_blocks WHERE idx = 0 AND leaves = 3",
        cat("event_hashes", leaf_hash_bytes),
        cat("event_ids", id_bytes),
        one_more("cursors", 16),
        one_more("group_starts", 8),
    );
    raw_sql(&store, &extended)
        .await
        .expect("a row that extends the block");
    let refused = TreeBuilder::new(store.clone(), signer.public_key().clone())
        .catch_up()
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("does not match the log"),
        "{refused}"
    );
}

/// A bytes literal in the store's SQL dialect.
fn bytes_literal(store: &EventStore, bytes: &[u8]) -> String {
    if store.is_postgres() {
        format!("decode('{}', 'hex')", hex::encode(bytes))
    } else {
        format!("X'{}'", hex::encode(bytes))
    }
}

/// Before migration 0012 an append's signature was a row of `append_signatures`; logs written
/// then keep it there. The builder, the signed walk and the audit still take such appends as the
/// service's, and a claim added there for an append signed in its own row changes nothing.
async fn appends_signed_in_the_old_table_are_still_the_services(unsigned: EventStore) {
    let signer = LogSigner::generate();
    let store = unsigned.clone().with_signer(Arc::new(signer.clone()));
    unsigned
        .append("a", ExpectedVersion::NoStream, events_of(PRACTICE, 3))
        .await
        .unwrap();
    let old = store.read_stream("a", 0).await.unwrap();
    let hashes: Vec<[u8; 32]> = old.iter().map(|e| e.hash).collect();
    // A signer of the same key that has not signed it itself: the builder must verify it.
    let elsewhere = LogSigner::from_base64(&signer.secret_base64()).unwrap();
    let legacy_row = |event: Uuid, count: usize, signature: &[u8]| {
        format!(
            "INSERT INTO append_signatures (first_event_id, event_count, key_id, signature) \
             VALUES ({}, {count}, '{}', {})",
            if store.is_postgres() {
                format!("'{event}'")
            } else {
                bytes_literal(&store, event.as_bytes())
            },
            signer.key_id(),
            bytes_literal(&store, signature)
        )
    };
    sql(
        &store,
        &legacy_row(old[0].event_id, 3, &elsewhere.sign_append(&hashes)),
    )
    .await;
    let new = store
        .append("b", ExpectedVersion::NoStream, events_of(PRACTICE, 2))
        .await
        .unwrap();
    deliverable(&store, new.cursor).await;
    let first_new = store.read_stream("b", 0).await.unwrap()[0].event_id;
    sql(&store, &legacy_row(first_new, 2, &[0; 64])).await;

    let size = TreeBuilder::new(store.clone(), signer.public_key().clone())
        .catch_up()
        .await
        .unwrap();
    assert_eq!(size, 5);
    let signed = store.verify_signed(signer.public_key()).await.unwrap();
    assert!(signed.is_intact(), "{signed:?}");
    let log = Log {
        trusted: store
            .sign_practice_checkpoint(&signer, PRACTICE, now())
            .await
            .unwrap(),
        store,
        unsigned,
        signer,
    };
    let report = audit(&log).await.unwrap();
    assert_eq!(report.events_checked, 5);
}

async fn an_untouched_log_audits_clean_against_an_earlier_checkpoint(store: EventStore) {
    let log = audited_log(store).await;
    let signed = log
        .store
        .verify_signed(log.signer.public_key())
        .await
        .unwrap();
    assert!(signed.is_intact(), "{signed:?}");
    assert_eq!(signed.events_checked, 16);
    let report = audit(&log).await.unwrap();
    assert_eq!(report.tree_size, 16);
    assert_eq!(report.practice_events, 14);
    assert_eq!(report.events_checked, 14);
    assert_eq!(report.trusted_size, Some(14));
    let bundle = export(&log).await;
    // Nothing of the other practice but hashes: no event of it is listed.
    let text = serde_json::to_string(&bundle).unwrap();
    assert!(!text.contains(&OTHER_PRACTICE.to_string()));
    assert!(bundle.leaves.iter().all(|l| l.event.is_some()));
}

async fn a_payload_edited_is_named(store: EventStore) {
    let edit = edit_payload_of_b2(&store);
    let problem = audit_after(store, &[&edit]).await;
    assert_eq!(
        problem,
        AuditProblem::Altered {
            stream: "b".into(),
            version: 2
        }
    );
}

async fn a_middle_event_deleted_is_named(store: EventStore) {
    let problem = audit_after(
        store,
        &["DELETE FROM events WHERE stream = 'c' AND version = 3"],
    )
    .await;
    // a, b, c: c@3 is the practice's eleventh event, leaf 10.
    assert_eq!(problem, AuditProblem::Missing { leaf_index: 10 });
}

async fn a_tail_event_deleted_with_its_head_and_leaf_rolled_back_is_named(store: EventStore) {
    let problem = audit_after(
        store,
        &[
            TREE_REMOVED.as_slice(),
            &[
                "DELETE FROM events WHERE stream = 'c' AND version = 4",
                "UPDATE streams SET version = 3, hash = (SELECT hash FROM events WHERE stream = 'c' AND version = 3) WHERE stream = 'c'",
            ],
        ]
        .concat(),
    )
    .await;
    // Rebuilt from what is left, the tree stops at stream c, whose one signed append lost an
    // event: 8 leaves where the auditor's checkpoint saw 14.
    assert_shrank(problem, 8);
}

/// The tree was built again from what the attacker left, and is shorter than the auditor's.
fn assert_shrank(problem: AuditProblem, size: u64) {
    assert_eq!(
        problem,
        AuditProblem::LogShrank {
            trusted_size: 14,
            size
        }
    );
}

async fn events_reordered_within_a_stream_are_named(store: EventStore) {
    let problem = audit_after(
        store,
        &[
            "UPDATE events SET version = -1 WHERE stream = 'a' AND version = 2",
            "UPDATE events SET version = 2 WHERE stream = 'a' AND version = 3",
            "UPDATE events SET version = 3 WHERE stream = 'a' AND version = -1",
        ],
    )
    .await;
    assert!(
        matches!(problem, AuditProblem::Altered { ref stream, .. } if stream == "a"),
        "{problem}"
    );
}

async fn events_reordered_across_streams_are_named(store: EventStore) {
    // Stream b's first append is moved before stream a's: subscribers would now apply them in
    // the other order.
    let swap: Vec<&str> = if store.is_postgres() {
        vec!["UPDATE events SET tx = CASE WHEN stream = 'a' THEN (SELECT tx FROM events WHERE stream = 'b' AND version = 1) \
              ELSE (SELECT tx FROM events WHERE stream = 'a' AND version = 1) END \
              WHERE stream IN ('a', 'b') AND version <= 4"]
    } else {
        vec![
            "UPDATE events SET position = -position WHERE stream IN ('a', 'b') AND version <= 4",
            "UPDATE events SET position = CASE WHEN stream = 'a' THEN 4 - position ELSE -position - 4 END WHERE position < 0",
        ]
    };
    let problem = audit_after(store, &swap).await;
    assert!(
        matches!(problem, AuditProblem::Reordered { .. }),
        "{problem}"
    );
}

async fn a_forged_event_with_recomputed_hashes_and_heads_is_named(store: EventStore) {
    // What the service's own database role can do: INSERT rows whose hashes chain correctly and
    // move the stream's head — everything but sign.
    let log = audited_log(store).await;
    let forged = log
        .unsigned
        .append("a", ExpectedVersion::Exact(6), events_of(PRACTICE, 1))
        .await
        .unwrap();
    deliverable(&log.unsigned, forged.cursor).await;
    log.unsigned.seal().await.unwrap();
    assert_forged_is_named(&log, "a", 7).await;
}

async fn a_forged_event_with_forged_signature_and_tree_rows_is_named(store: EventStore) {
    // A superuser writes every table: the event, an append signature by a key of their own, and
    // tree leaves and nodes built from it. Only the service's key is missing.
    let log = audited_log(store).await;
    TreeBuilder::new(log.store.clone(), log.signer.public_key().clone())
        .catch_up()
        .await
        .unwrap();
    let attacker = LogSigner::generate();
    let forger = log.unsigned.clone().with_signer(Arc::new(attacker.clone()));
    let forged = forger
        .append("b", ExpectedVersion::Exact(4), events_of(PRACTICE, 1))
        .await
        .unwrap();
    deliverable(&forger, forged.cursor).await;
    TreeBuilder::new(forger.clone(), attacker.public_key().clone())
        .catch_up()
        .await
        .unwrap();
    assert_forged_is_named(&log, "b", 5).await;
}

async fn a_whole_stream_removed_is_named(store: EventStore) {
    let problem = audit_after(
        store,
        &[
            TREE_REMOVED.as_slice(),
            &[
                "DELETE FROM events WHERE stream = 'b'",
                "DELETE FROM streams WHERE stream = 'b'",
            ],
        ]
        .concat(),
    )
    .await;
    // 16 events less stream b's 4.
    assert_shrank(problem, 12);
}

async fn an_older_backup_is_named(store: EventStore) {
    let log = audited_log(store).await;
    // The auditor saves a checkpoint that covers the two newest events too.
    TreeBuilder::new(log.store.clone(), log.signer.public_key().clone())
        .catch_up()
        .await
        .unwrap();
    let later = log
        .store
        .sign_practice_checkpoint(&log.signer, PRACTICE, now())
        .await
        .unwrap();
    assert_eq!(later.tree_size, 16);
    // The database is put back to how it was before them: a restored backup.
    tamper(
        &log.store,
        &GUARDED,
        &[
            "DELETE FROM events WHERE stream = 'a' AND version > 4",
            "DELETE FROM merkle_steps WHERE first_leaf >= 14",
            "DELETE FROM merkle_practice_runs WHERE first_leaf >= 14",
            "DELETE FROM merkle_nodes WHERE ((idx + 1) << level) > 14",
            "DELETE FROM merkle_blocks WHERE idx * 16 + leaves > 14",
            "DELETE FROM tree_checkpoints WHERE tree_size > 14",
            "DELETE FROM append_signatures WHERE first_event_id NOT IN (SELECT event_id FROM events)",
            "UPDATE streams SET version = 4, hash = (SELECT hash FROM events WHERE stream = 'a' AND version = 4) WHERE stream = 'a'",
        ],
    )
    .await;
    let log = Log {
        trusted: later,
        ..log
    };
    let problem = audit(&log).await.unwrap_err();
    assert_eq!(
        problem,
        AuditProblem::LogShrank {
            trusted_size: 16,
            size: 14
        }
    );
}

async fn a_checkpoint_signed_by_another_key_is_refused(store: EventStore) {
    let log = audited_log(store).await;
    let attacker = LogSigner::generate();
    let mut bundle = export(&log).await;
    let key = log.signer.public_key();
    assert!(audit_bundle(&bundle, key, Some(&log.trusted)).is_ok());

    let cp = bundle.checkpoint.clone();
    bundle.checkpoint = Checkpoint::sign(
        &attacker,
        cp.tree_size,
        cp.root,
        cp.signed_at,
        cp.practice.clone(),
    );
    assert_eq!(
        audit_bundle(&bundle, key, Some(&log.trusted)).unwrap_err(),
        AuditProblem::CheckpointSignature
    );
    // The same checkpoint with the right key id but another key's signature.
    bundle.checkpoint.key_id = cp.key_id.clone();
    assert_eq!(
        audit_bundle(&bundle, key, Some(&log.trusted)).unwrap_err(),
        AuditProblem::CheckpointSignature
    );
    bundle.checkpoint = cp;
    let t = &log.trusted;
    let forged_trusted = Checkpoint::sign(
        &attacker,
        t.tree_size,
        t.root,
        t.signed_at,
        t.practice.clone(),
    );
    assert_eq!(
        audit_bundle(&bundle, key, Some(&forged_trusted)).unwrap_err(),
        AuditProblem::TrustedCheckpointSignature
    );
}

async fn a_bundle_edited_after_export_is_named(store: EventStore) {
    let log = audited_log(store).await;
    let bundle = export(&log).await;
    let key = log.signer.public_key();

    let mut edited = bundle.clone();
    let event = edited.leaves[5].event.as_mut().unwrap();
    event.data = json!({"n": 2, "staff": "s-2"});
    assert_eq!(
        audit_bundle(&edited, key, Some(&log.trusted)).unwrap_err(),
        AuditProblem::Altered {
            stream: "b".into(),
            version: 2
        }
    );

    let mut dropped = bundle.clone();
    dropped.leaves.remove(5);
    assert_eq!(
        audit_bundle(&dropped, key, Some(&log.trusted)).unwrap_err(),
        AuditProblem::PracticeHistoryRewritten {
            trusted_events: 12,
            events: 13
        }
    );

    let mut no_proof = bundle.clone();
    no_proof.consistency.clear();
    assert!(matches!(
        audit_bundle(&no_proof, key, Some(&log.trusted)).unwrap_err(),
        AuditProblem::NotConsistent { .. }
    ));

    let mut rehashed = bundle;
    // Recomputing the event's hash does not help: the tree holds the original.
    let leaf = &mut rehashed.leaves[0];
    leaf.event.as_mut().unwrap().hash = [7; 32];
    assert!(audit_bundle(&rehashed, key, Some(&log.trusted)).is_err());
}
