//! Given/when/then for sync jobs: who may start one, when, and who records its progress.

mod support;

use chrono::Duration;
use hearth_domain::{
    integration::{self, IntegrationCommand, IntegrationEvent, IntegrationState, SyncSummary},
    roles::PracticeRole,
    Actor, CommandContext, DomainError, IntegrationId,
};
use support::{ctx, now, staff, World};
use uuid::Uuid;

fn given(w: &World, commands: &[IntegrationCommand], by: &CommandContext) -> IntegrationState {
    let mut state = IntegrationState::default();
    for c in commands {
        for e in integration::decide(&state, &w.practice, c, by).unwrap() {
            state.apply(&e);
        }
    }
    state
}

fn create(enabled: bool) -> IntegrationCommand {
    IntegrationCommand::CreateIntegration {
        integration_id: IntegrationId::new(),
        name: "XPLAN AU".into(),
        forward_host: "harbour.xplan.iress.com.au".into(),
        enabled,
        ids_loaded_confirmed: true,
        host_policy: Default::default(),
    }
}

fn consent() -> [IntegrationCommand; 2] {
    [
        IntegrationCommand::StartAuthorisation {
            state_digest: "d".into(),
            expires_at: now() + Duration::minutes(15),
        },
        IntegrationCommand::CompleteAuthorisation {
            state_digest: "d".into(),
            access_expires_at: now() + Duration::hours(1),
        },
    ]
}

fn start() -> IntegrationCommand {
    IntegrationCommand::StartSync {
        run_id: Uuid::now_v7(),
        trigger: "api".into(),
    }
}

fn system() -> CommandContext {
    ctx(Actor::System("xplan".into()))
}

#[test]
fn a_manager_or_the_scheduler_starts_a_sync_of_a_connected_enabled_integration() {
    let mut w = World::new(5);
    let owner = ctx(staff(w.owner));
    let [s, c] = consent();
    let state = given(&w, &[create(true), s, c], &owner);
    let events = integration::decide(&state, &w.practice, &start(), &owner).unwrap();
    assert!(
        matches!(&events[..], [IntegrationEvent::SyncStarted(e)] if e.trigger == "api" && e.started_at == now())
    );
    assert!(integration::decide(&state, &w.practice, &start(), &system()).is_ok());
    let adviser = w.active_staff(PracticeRole::Professional);
    assert!(matches!(
        integration::decide(&state, &w.practice, &start(), &ctx(staff(adviser))),
        Err(DomainError::NotPermitted(_))
    ));
}

#[test]
fn a_sync_of_a_disabled_or_unconnected_integration_does_not_start() {
    let w = World::new(5);
    let owner = ctx(staff(w.owner));
    let [s, c] = consent();
    let disabled = given(&w, &[create(false), s, c], &owner);
    assert_eq!(
        integration::decide(&disabled, &w.practice, &start(), &system()),
        Err(DomainError::IntegrationDisabled)
    );
    let unconnected = given(&w, &[create(true)], &owner);
    assert_eq!(
        integration::decide(&unconnected, &w.practice, &start(), &system()),
        Err(DomainError::XplanNotConnected)
    );
}

#[test]
fn only_the_system_records_a_run_s_progress() {
    let w = World::new(5);
    let owner = ctx(staff(w.owner));
    let [s, c] = consent();
    let state = given(&w, &[create(true), s, c], &owner);
    let progress = IntegrationCommand::RecordSyncProgress {
        run_id: Uuid::now_v7(),
        summary: SyncSummary {
            clients_seen: 200,
            ..Default::default()
        },
    };
    assert_eq!(
        integration::decide(&state, &w.practice, &progress, &owner),
        Err(DomainError::SystemOnly)
    );
    assert!(matches!(
        &integration::decide(&state, &w.practice, &progress, &system()).unwrap()[..],
        [IntegrationEvent::SyncProgressed(e)] if e.summary.clients_seen == 200
    ));
}
