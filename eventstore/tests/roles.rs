//! PostgreSQL least privilege: a login role in `hearth_service` (what the service runs as) can
//! append and prove, but cannot UPDATE, DELETE, TRUNCATE or ALTER any log table, nor roll a
//! stream head back.

use std::sync::Arc;

use chrono::Utc;
use hearth_eventstore::{
    audit::audit_bundle, testing::TestDatabase, EventStore, ExpectedVersion, ExportRequest,
    LogSigner, Metadata, NewEvent, TreeBuilder,
};
use serde_json::json;
use sqlx::Connection;
use uuid::Uuid;

const LOG_TABLES: &[(&str, &str)] = &[
    ("events", "version = version"),
    ("streams", "stream = stream"),
    ("seals", "event_count = event_count"),
    ("append_signatures", "event_count = event_count"),
    ("merkle_nodes", "hash = hash"),
    ("merkle_blocks", "leaves = leaves"),
    ("merkle_practice_runs", "events = events"),
    ("merkle_steps", "leaves = leaves"),
    ("tree_checkpoints", "key_id = key_id"),
    ("blobs", "mimetype = mimetype"),
];

fn event(practice: Uuid) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "access_granted".into(),
        schema_version: 1,
        data: json!({"staff": "s-1"}),
        metadata: Metadata {
            actor: "staff-1".into(),
            practice_id: Some(practice),
            correlation_id: None,
            causation_id: None,
            occurred_at: Utc::now(),
        },
    }
}

/// A login role of its own in `hearth_service`, dropped at the end of the test.
struct ServiceLogin {
    name: String,
    url: String,
    admin: String,
}

impl ServiceLogin {
    async fn create(db: &TestDatabase) -> ServiceLogin {
        let admin =
            std::env::var(hearth_eventstore::testing::PG_VAR).expect("HEARTH_TEST_DATABASE_URL");
        let name = format!("hearth_svc_{}", Uuid::new_v4().simple());
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query(&format!(
            "CREATE ROLE {name} LOGIN PASSWORD 'service' IN ROLE hearth_service"
        ))
        .execute(&mut c)
        .await
        .unwrap();
        let mut url = url::Url::parse(&db.url).unwrap();
        url.set_username(&name).unwrap();
        url.set_password(Some("service")).unwrap();
        ServiceLogin {
            name,
            url: url.to_string(),
            admin,
        }
    }

    async fn drop_role(self, db: TestDatabase) {
        drop(db);
        let mut c = sqlx::PgConnection::connect(&self.admin).await.unwrap();
        sqlx::query(&format!("DROP ROLE IF EXISTS {}", self.name))
            .execute(&mut c)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_role_appends_and_proves_but_cannot_rewrite_the_log() {
    let db = TestDatabase::create().await;
    let owner_store = db.store().await; // migrates as the owner
    drop(owner_store);
    let login = ServiceLogin::create(&db).await;

    // The service as the restricted role: appends, builds the tree, checkpoints, exports.
    let signer = LogSigner::generate();
    let store = EventStore::connect_migrated_by(&login.url, &db.url)
        .await
        .expect("the service starts as the restricted role")
        .with_signer(Arc::new(signer.clone()));
    let practice = Uuid::new_v4();
    store
        .append(
            "s",
            ExpectedVersion::NoStream,
            vec![event(practice), event(practice)],
        )
        .await
        .unwrap();
    let last = store
        .append("s", ExpectedVersion::Exact(2), vec![event(practice)])
        .await
        .unwrap();
    while store.head().await.unwrap() < last.cursor {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    TreeBuilder::new(store.clone(), signer.public_key().clone())
        .catch_up()
        .await
        .unwrap();
    store.seal().await.unwrap();
    let bundle = store
        .export_practice(
            &signer,
            &ExportRequest {
                practice,
                ..ExportRequest::default()
            },
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(
        audit_bundle(&bundle, signer.public_key(), None)
            .unwrap()
            .events_checked,
        3
    );

    let mut service = sqlx::PgConnection::connect(&login.url).await.unwrap();
    for (table, set) in LOG_TABLES {
        for statement in [
            format!("UPDATE {table} SET {set}"),
            format!("DELETE FROM {table}"),
            format!("TRUNCATE {table}"),
            format!("ALTER TABLE {table} DISABLE TRIGGER USER"),
            format!("ALTER TABLE {table} OWNER TO CURRENT_USER"),
        ] {
            let error = sqlx::query(&statement)
                .execute(&mut service)
                .await
                .expect_err(&statement);
            let code = error
                .as_database_error()
                .and_then(|d| d.code().map(|c| c.to_string()));
            assert_eq!(code.as_deref(), Some("42501"), "{statement}: {error}");
        }
    }
    // The one UPDATE it has — stream heads — cannot roll a head back.
    let error = sqlx::query(
        "UPDATE streams SET version = 2, hash = (SELECT hash FROM events WHERE stream = 's' AND version = 2) WHERE stream = 's'",
    )
    .execute(&mut service)
    .await
    .expect_err("a head rolled back");
    assert!(
        error.to_string().contains("must name its newest event"),
        "{error}"
    );
    // The tree's one block so far (three leaves) cannot be rewritten by a longer row.
    let error = sqlx::query(
        "INSERT INTO merkle_blocks (idx, leaves, first_tx, first_position, event_hashes, event_ids, cursors, group_starts) \
         SELECT idx, 4, first_tx, first_position, decode(repeat('00', 128), 'hex'), event_ids || substring(event_ids FROM 1 FOR 16), \
                cursors || substring(cursors FROM 1 FOR 16), group_starts || substring(group_starts FROM 1 FOR 8) \
           FROM merkle_blocks WHERE idx = 0 AND leaves = 3",
    )
    .execute(&mut service)
    .await
    .expect_err("a block row that rewrites stored leaves");
    assert!(
        error.to_string().contains("does not extend the stored one"),
        "{error}"
    );
    // Signatures live in the event rows now: the old table takes no claims from the service.
    let error = sqlx::query(
        "INSERT INTO append_signatures SELECT event_id, 1, 'k', '\\x00' FROM events LIMIT 1",
    )
    .execute(&mut service)
    .await
    .expect_err("a claim added to append_signatures");
    assert_eq!(
        error
            .as_database_error()
            .and_then(|d| d.code().map(|c| c.to_string()))
            .as_deref(),
        Some("42501"),
        "{error}"
    );
    drop(service);
    drop(store);
    login.drop_role(db).await;
}
