//! The sync-runs view: a job is readable while it runs (with its progress) and once it ends; an
//! integration event that cannot be decoded makes the runs answer an error, never a short list.

use chrono::{TimeZone, Utc};
use hearth_domain::{
    integration::{
        IntegrationEvent, SyncOutcome, SyncProgressed, SyncRecorded, SyncRun, SyncStarted,
        SyncSummary,
    },
    Actor, EventMeta, IntegrationId,
};
use hearth_eventstore::{Cursor, Metadata, RecordedEvent};
use hearth_projections::{AccessModel, RunStatus};
use uuid::Uuid;

fn meta() -> EventMeta {
    EventMeta {
        actor: Actor::System("xplan".into()),
        at: Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap(),
        reason: None,
    }
}

fn recorded(
    id: IntegrationId,
    position: i64,
    event_type: &str,
    data: serde_json::Value,
) -> RecordedEvent {
    RecordedEvent {
        position,
        cursor: Cursor {
            tx: position,
            position,
        },
        stream: format!("integration-{}", id.0),
        version: position,
        event_id: Uuid::new_v4(),
        event_type: event_type.into(),
        schema_version: 1,
        data,
        metadata: Metadata {
            actor: "system:xplan".into(),
            practice_id: None,
            correlation_id: None,
            causation_id: None,
            occurred_at: meta().at,
        },
        recorded_at: meta().at,
        hash: [0; 32],
    }
}

fn event(id: IntegrationId, position: i64, e: IntegrationEvent) -> RecordedEvent {
    recorded(id, position, e.event_type(), e.to_data())
}

#[test]
fn a_run_is_readable_while_it_runs_with_its_progress_and_once_it_ends() {
    let (id, run_id) = (IntegrationId::new(), Uuid::now_v7());
    let mut model = AccessModel::default();
    let started_at = meta().at;
    model.apply_owned(event(
        id,
        1,
        IntegrationEvent::SyncStarted(SyncStarted {
            meta: meta(),
            run_id,
            trigger: "api".into(),
            started_at,
        }),
    ));
    let run = model.sync_runs.run(id, run_id).unwrap().unwrap();
    assert_eq!((run.status, run.outcome), (RunStatus::Running, None));

    let progress = SyncSummary {
        clients_seen: 200,
        created: 200,
        ..Default::default()
    };
    model.apply_owned(event(
        id,
        2,
        IntegrationEvent::SyncProgressed(SyncProgressed {
            meta: meta(),
            run_id,
            summary: progress.clone(),
        }),
    ));
    let run = model.sync_runs.run(id, run_id).unwrap().unwrap();
    assert_eq!((run.status, run.summary), (RunStatus::Running, progress));

    model.apply_owned(event(
        id,
        3,
        IntegrationEvent::SyncRecorded(SyncRecorded {
            meta: meta(),
            run: SyncRun {
                run_id,
                trigger: "api".into(),
                started_at,
                finished_at: started_at,
                outcome: SyncOutcome::Interrupted,
                summary: SyncSummary {
                    clients_seen: 250,
                    ..Default::default()
                },
            },
        }),
    ));
    let runs = model.sync_runs.runs(id).unwrap();
    assert_eq!(runs.len(), 1, "the start and the record are one run");
    assert_eq!(
        (
            runs[0].status,
            runs[0].summary.clients_seen,
            runs[0].position
        ),
        (RunStatus::Interrupted, 250, 3)
    );
}

#[test]
fn an_unreadable_integration_event_makes_its_runs_an_error_not_a_short_list() {
    let id = IntegrationId::new();
    let mut model = AccessModel::default();
    model.apply_owned(recorded(
        id,
        1,
        "integration.sync_recorded",
        serde_json::json!({"run": "not a run"}),
    ));
    let err = model.sync_runs.runs(id).unwrap_err();
    assert_eq!(err.position, 1);
    assert!(model.sync_runs.run(id, Uuid::now_v7()).is_err());
    assert!(
        model
            .sync_runs
            .runs(IntegrationId::new())
            .unwrap()
            .is_empty(),
        "other integrations are unaffected"
    );
}
