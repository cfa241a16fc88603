//! Crypto-shredding in the log (issue 15), on both backends: personal values are stored sealed,
//! read back opened, read as erased once their subject's key is destroyed — with the log still
//! verifying — and a master key rotation keeps every subject readable without rewriting the log.

mod support;

use std::sync::Arc;

use hearth_eventstore::{
    personal::{MasterKey, MasterKeys, PersonalDataPolicy, ERASED},
    testing::{TestDatabase, TestSqlite},
    Cursor, EventStore, ExpectedVersion, StoreError,
};
use serde_json::json;
use support::{event, raw_sql};
use uuid::Uuid;

struct Policy;

impl PersonalDataPolicy for Policy {
    fn subject(&self, stream: &str) -> Option<Uuid> {
        stream.strip_prefix("client-").and_then(|s| s.parse().ok())
    }
    fn personal_paths(&self, event_type: &str, _: i32) -> &'static [&'static str] {
        if event_type == "client.named" {
            &["name"]
        } else {
            &[]
        }
    }
    fn erases_subject(&self, event_type: &str) -> bool {
        event_type == "client.erased"
    }
}

async fn open(url: &str, current: &MasterKey, previous: &[MasterKey]) -> EventStore {
    EventStore::connect(url).await.unwrap().with_personal_data(
        Arc::new(Policy),
        MasterKeys::new(current.clone(), previous.to_vec()),
    )
}

async fn name_a_client(store: &EventStore, name: &str) -> Uuid {
    let subject = Uuid::new_v4();
    let mut e = event("client.named", 1);
    e.data = json!({"name": name, "id": subject});
    store
        .append(
            &format!("client-{subject}"),
            ExpectedVersion::NoStream,
            vec![e],
        )
        .await
        .unwrap();
    subject
}

async fn name_of(store: &EventStore, subject: Uuid) -> serde_json::Value {
    store
        .read_stream(&format!("client-{subject}"), 1)
        .await
        .unwrap()[0]
        .data["name"]
        .clone()
}

async fn stored_text(store: &EventStore) -> String {
    let sql = "SELECT CAST(data AS TEXT) FROM events";
    let rows: Vec<String> = match store.backend() {
        hearth_eventstore::Backend::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        hearth_eventstore::Backend::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
    }
    .unwrap();
    rows.join("\n")
}

async fn sealed_erased_and_rotated(url: &str) {
    let (old, new) = (
        MasterKey::from_bytes(&[1; 32]),
        MasterKey::from_bytes(&[2; 32]),
    );
    let store = open(url, &old, &[]).await;
    let kept = name_a_client(&store, "Quokka Kept").await;
    let gone = name_a_client(&store, "Wombat Gone").await;
    assert!(
        !stored_text(&store).await.contains("Quokka Kept"),
        "stored sealed"
    );
    assert_eq!(name_of(&store, kept).await, "Quokka Kept", "read opened");

    // Erased: reads as erased on this process and any other, nothing personal can be added, and
    // the log (hashes, chain) still verifies.
    store.erase_subject(gone, chrono::Utc::now()).await.unwrap();
    assert_eq!(name_of(&store, gone).await, ERASED);
    assert_eq!(name_of(&open(url, &old, &[]).await, gone).await, ERASED);
    let mut again = event("client.named", 2);
    again.data = json!({"name": "Wombat Back"});
    let refused = store
        .append(&format!("client-{gone}"), ExpectedVersion::Any, vec![again])
        .await;
    assert!(
        matches!(refused, Err(StoreError::SubjectErased(s)) if s == gone),
        "{refused:?}"
    );
    assert!(store.verify().await.unwrap().is_intact());
    // The same statement on a live row is accepted, so only the erasure's finality can refuse it.
    let copy_a_live_key = |target: &str| {
        format!(
            "UPDATE subject_keys SET wrapped = (SELECT wrapped FROM subject_keys WHERE erased_at IS NULL LIMIT 1), \
             erased_at = NULL WHERE {target}"
        )
    };
    raw_sql(&store, &copy_a_live_key("erased_at IS NULL"))
        .await
        .expect("a live key may be re-written");
    assert!(
        raw_sql(&store, &copy_a_live_key("erased_at IS NOT NULL"))
            .await
            .is_err(),
        "an erased key stays erased"
    );
    assert!(
        raw_sql(
            &store,
            "DELETE FROM subject_keys WHERE erased_at IS NOT NULL"
        )
        .await
        .is_err(),
        "nor can its row be removed (a new key would then be created)"
    );

    // Rotation: the new key with the old one still accepted re-wraps every live key; then the
    // new key alone reads everything, and the old one alone is refused by name.
    let rotating = open(url, &new, std::slice::from_ref(&old)).await;
    assert_eq!(rotating.rewrap_subject_keys().await.unwrap(), 1);
    let rotated = open(url, &new, &[]).await;
    rotated.check_master_keys().await.unwrap();
    assert_eq!(name_of(&rotated, kept).await, "Quokka Kept");
    assert_eq!(name_of(&rotated, gone).await, ERASED);
    let stale = open(url, &old, &[]).await;
    assert!(matches!(
        stale.check_master_keys().await,
        Err(StoreError::MasterKeyMissing { key_id, keys: 1 }) if key_id == new.id()
    ));
}

#[tokio::test]
async fn postgres_seals_erases_and_rotates() {
    let db = TestDatabase::create().await;
    sealed_erased_and_rotated(&db.url).await;
}

#[tokio::test]
async fn sqlite_seals_erases_and_rotates() {
    let db = TestSqlite::new();
    sealed_erased_and_rotated(&db.url).await;
}

/// A rebuild's batches meet hundreds of subjects at once: their keys are read in one go and the
/// values opened on every core, each with its own key, erased ones as erased.
async fn many_subjects_in_one_batch(url: &str) {
    let master = MasterKey::from_bytes(&[1; 32]);
    let writer = open(url, &master, &[]).await;
    let mut named = Vec::new();
    for n in 0..300 {
        let name = format!("Client {n}");
        named.push((name_a_client(&writer, &name).await, name));
    }
    let (erased, _) = named[150].clone();
    writer
        .erase_subject(erased, chrono::Utc::now())
        .await
        .unwrap();
    let reader = open(url, &master, &[]).await;
    // Other tests' transactions on the cluster can hold back what read_all may deliver.
    support::deliverable(&reader, reader.committed_head().await.unwrap()).await;
    let read = reader.read_all(Cursor::START, 1_000).await.unwrap();
    assert_eq!(read.len(), named.len());
    for ((subject, name), event) in named.iter().zip(&read) {
        let expected = if *subject == erased { ERASED } else { name };
        assert_eq!(event.stream, format!("client-{subject}"));
        assert_eq!(event.data["name"], expected);
    }

    // Read ahead, a batch being opened while the next is read: the same events, opened, in the
    // same order, whether the log ends inside a batch (280) or on a batch's end (100).
    for size in [280, 100] {
        let reader = open(url, &master, &[]).await;
        let mut ahead = reader.read_ahead(Cursor::START, size);
        let mut got = Vec::new();
        let mut batches = 0;
        while let Some(batch) = ahead.next_batch().await {
            got.extend(batch.unwrap());
            batches += 1;
        }
        assert_eq!(batches, 300 / size + 1, "batches of {size}");
        assert_eq!(ahead.after(), read.last().unwrap().cursor);
        let names =
            |events: &[hearth_eventstore::RecordedEvent]| -> Vec<(Uuid, serde_json::Value)> {
                events
                    .iter()
                    .map(|e| (e.event_id, e.data["name"].clone()))
                    .collect()
            };
        assert_eq!(names(&got), names(&read), "batches of {size}");
    }

    // A batch that does not open ends the read with its error: nothing after it is handed out.
    raw_sql(
        &reader,
        "UPDATE subject_keys SET wrapped = (SELECT wrapped FROM subject_keys WHERE erased_at IS NULL \
         ORDER BY created_at, subject LIMIT 1) WHERE erased_at IS NULL",
    )
    .await
    .unwrap();
    let mut ahead = open(url, &master, &[]).await.read_ahead(Cursor::START, 100);
    assert!(matches!(ahead.next_batch().await, Some(Err(_))));
    assert!(ahead.next_batch().await.is_none());
}

#[tokio::test]
async fn postgres_opens_a_batch_of_many_subjects() {
    let db = TestDatabase::create().await;
    many_subjects_in_one_batch(&db.url).await;
}

#[tokio::test]
async fn sqlite_opens_a_batch_of_many_subjects() {
    let db = TestSqlite::new();
    many_subjects_in_one_batch(&db.url).await;
}
