//! Migration 0013 replaces the tree's per-event leaf rows with block rows. It removes the old
//! tree (rows and all, past the append-only triggers) and the builder builds it again from the
//! log: the new tree must have the root the old one had, so a checkpoint signed before the
//! migration stays valid and the tree after it is provably an extension of it.

mod support;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use hearth_eventstore::{
    merkle::{leaf_hash, verify_consistency, Frontier},
    testing::{open_unmigrated, store_checkpoint, TestDatabase},
    Checkpoint, Cursor, EventStore, ExpectedVersion, LogSigner, TreeBuilder,
};
use sqlx::migrate::Migrator;
use support::{deliverable, events, sql};
use uuid::Uuid;

/// The migrations up to (and with) `last`.
fn up_to(mut migrator: Migrator, last: i64) -> Migrator {
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= last)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    migrator
}

/// Runs the test on a log at schema 12 with an old tree's rows in place, then on the same
/// database migrated to the newest schema.
async fn an_old_tree_is_rebuilt_with_the_same_root(
    url: &str,
    before: impl std::future::Future<Output = ()>,
) {
    before.await;
    let signer = LogSigner::generate();
    let old = open_unmigrated(url)
        .await
        .unwrap()
        .with_signer(Arc::new(signer.clone()));
    let mut last = None;
    for n in 0..4 {
        last = Some(
            old.append(
                &format!("s{n}"),
                ExpectedVersion::NoStream,
                events("granted", 5),
            )
            .await
            .unwrap(),
        );
    }
    deliverable(&old, last.unwrap().cursor).await;
    // The old tree's root, computed in memory over the log's order, signed as a checkpoint.
    let mut frontier = Frontier::default();
    for e in old.read_all(Cursor::START, 100).await.unwrap() {
        frontier.push(leaf_hash(&e.hash));
    }
    assert_eq!(frontier.size(), 20);
    let before = Checkpoint::sign(
        &signer,
        20,
        frontier.root(),
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
        None,
    );
    store_checkpoint(&old, &before).await.unwrap();
    // Rows of the old layout: leaves, an old block, and a node the rebuilt tree has too.
    let tx = if old.is_postgres() {
        "tx::text::bigint"
    } else {
        "position"
    };
    sql(&old, &format!(
        "INSERT INTO merkle_leaves SELECT row_number() OVER (ORDER BY position) - 1, event_id, {tx}, position, hash, 0, NULL, NULL, NULL FROM events"
    )).await;
    sql(&old, "INSERT INTO merkle_blocks (idx, leaves, event_hashes) SELECT 0, 1, hash FROM events ORDER BY position LIMIT 1").await;
    sql(&old, "INSERT INTO merkle_nodes (level, idx, hash) SELECT 4, 0, hash FROM events ORDER BY position LIMIT 1").await;
    drop(old);

    let store = EventStore::connect(url)
        .await
        .unwrap()
        .with_signer(Arc::new(signer.clone()));
    let size = TreeBuilder::new(store.clone(), signer.public_key().clone())
        .catch_up()
        .await
        .unwrap();
    assert_eq!(size, 20);
    assert_eq!(store.tree_root(20).await.unwrap(), before.root);
    let kept = store.checkpoint_at(20).await.unwrap().unwrap();
    assert_eq!(kept, before);
    assert!(kept.verify(signer.public_key()));
    // The log grows; the tree after is an append-only extension of the one signed before.
    let more = store
        .append("s9", ExpectedVersion::NoStream, events("granted", 3))
        .await
        .unwrap();
    deliverable(&store, more.cursor).await;
    let mut builder = TreeBuilder::new(store.clone(), signer.public_key().clone());
    assert_eq!(builder.catch_up().await.unwrap(), 23);
    let after = builder.sign_checkpoint(&signer, Utc::now()).await.unwrap();
    let path = store.consistency_proof(20, 23).await.unwrap().unwrap();
    assert!(verify_consistency(20, &before.root, 23, &after.root, &path));
}

#[tokio::test]
async fn postgres_old_tree_is_rebuilt_with_the_same_root() {
    let db = TestDatabase::create().await;
    let url = db.url.clone();
    let migrate = async {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        up_to(sqlx::migrate!("../migrations/postgres"), 12)
            .run(&pool)
            .await
            .unwrap();
    };
    an_old_tree_is_rebuilt_with_the_same_root(&db.url, migrate).await;
}

#[tokio::test]
async fn sqlite_old_tree_is_rebuilt_with_the_same_root() {
    let path = std::env::temp_dir().join(format!("hearth-tree-migration-{}.db", Uuid::new_v4()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let migrate = async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        up_to(sqlx::migrate!("../migrations/sqlite"), 12)
            .run(&pool)
            .await
            .unwrap();
    };
    an_old_tree_is_rebuilt_with_the_same_root(&url, migrate).await;
    let _ = std::fs::remove_file(&path);
}
