//! The peer: cqrs-es' published PostgreSQL store (`postgres-es`), driven through its event
//! repository — the write path its framework uses after a command is decided — with its own
//! table layout (`db/init.sql` of the crate), in the benchmark's database.

use cqrs_es::{
    event_sink::EventSink,
    persist::{PersistedEventRepository, SerializedEvent},
    Aggregate, DomainEvent,
};
use postgres_es::PostgresEventRepository;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use hearth_eventstore::NewEvent;

pub const TABLES: &str = "
CREATE TABLE es_events (
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text NOT NULL,
    event_version  text NOT NULL,
    payload        json NOT NULL,
    metadata       json NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE TABLE es_snapshots (
    aggregate_type   text NOT NULL,
    aggregate_id     text NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0) NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
)";

pub fn repository(pool: &PgPool) -> PostgresEventRepository {
    PostgresEventRepository::new(pool.clone()).with_tables("es_events", "es_snapshots")
}

/// Appends `events` to `aggregate`, whose last sequence is `after`.
pub async fn persist(
    repo: &PostgresEventRepository,
    aggregate: &str,
    after: usize,
    events: &[NewEvent],
) {
    let serialized: Vec<SerializedEvent> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            SerializedEvent::new(
                aggregate.to_string(),
                after + i + 1,
                Household::TYPE.to_string(),
                e.event_type.clone(),
                e.schema_version.to_string(),
                e.data.clone(),
                serde_json::to_value(&e.metadata).expect("metadata"),
            )
        })
        .collect();
    repo.persist::<Household>(&serialized, None)
        .await
        .expect("postgres-es append");
}

/// The repository is generic over an aggregate; only its type name reaches the table.
#[derive(Default, Serialize, Deserialize)]
pub struct Household;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Granted;

impl DomainEvent for Granted {
    fn event_type(&self) -> String {
        "household.staff_access_granted".into()
    }
    fn event_version(&self) -> String {
        "2".into()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("never raised")]
pub struct Never;

impl Aggregate for Household {
    const TYPE: &'static str = "household";
    type Command = ();
    type Event = Granted;
    type Error = Never;
    type Services = ();

    async fn handle(&mut self, _: (), _: &(), _: &EventSink<Self>) -> Result<(), Never> {
        Ok(())
    }

    fn apply(&mut self, _: Granted) {}
}
