#![allow(dead_code)]
use chrono::{TimeZone, Utc};
use hearth_eventstore::{EventStore, Metadata, NewEvent};
use serde_json::json;
use uuid::Uuid;

pub fn event(kind: &str, n: i64) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: kind.to_string(),
        schema_version: 1,
        data: json!({"n": n, "nested": {"b": [1, 2.5, "x"], "a": null}}),
        metadata: Metadata {
            actor: "staff-1".into(),
            practice_id: Some(Uuid::nil()),
            correlation_id: Some(Uuid::new_v4()),
            causation_id: None,
            occurred_at: Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
        },
    }
}

pub fn events(kind: &str, count: i64) -> Vec<NewEvent> {
    (1..=count).map(|n| event(kind, n)).collect()
}

/// Runs raw SQL against whichever database the store uses (for tampering and trigger tests).
pub async fn raw_sql(store: &EventStore, sql: &str) -> Result<u64, sqlx::Error> {
    match store.backend() {
        hearth_eventstore::Backend::Postgres(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        hearth_eventstore::Backend::Sqlite(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
}

/// On PostgreSQL an event becomes readable by `read_all` once every older transaction in the
/// cluster has ended (other tests run in parallel); wait for that instead of assuming it.
pub async fn deliverable(store: &EventStore, cursor: hearth_eventstore::Cursor) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while store.head().await.expect("head") < cursor {
        assert!(
            std::time::Instant::now() < deadline,
            "event at {cursor:?} never became deliverable"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

pub async fn sql(store: &EventStore, statement: &str) {
    raw_sql(store, statement)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// Runs the statements with the append-only triggers of `tables` switched off, as a superuser
/// (or a table owner) can.
pub async fn tamper(store: &EventStore, tables: &[&str], statements: &[&str]) {
    for t in tables {
        if store.is_postgres() {
            sql(store, &format!("ALTER TABLE {t} DISABLE TRIGGER USER")).await;
        } else {
            for suffix in ["no_update", "no_delete"] {
                sql(store, &format!("DROP TRIGGER IF EXISTS {t}_{suffix}")).await;
            }
        }
    }
    for s in statements {
        sql(store, s).await;
    }
}

/// Rewrites the payload of stream b's second event, in the store's own JSON type.
pub fn edit_payload_of_b2(store: &EventStore) -> String {
    let data = if store.is_postgres() {
        "'{\"n\": 99}'::jsonb"
    } else {
        "'{\"n\": 99}'"
    };
    format!("UPDATE events SET data = {data} WHERE stream = 'b' AND version = 2")
}
