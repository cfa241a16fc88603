//! Given/when/then for XPLAN integration set-up, consent and run records (PRODUCT.md §4).

mod support;

use chrono::Duration;
use hearth_domain::{
    integration::{
        self, Consent, IntegrationCommand, IntegrationEvent, IntegrationState, SyncOutcome,
        SyncRun, SyncSummary,
    },
    roles::PracticeRole,
    Actor, CommandContext, DomainError, IntegrationId, StaffId,
};
use support::{ctx, now, staff, World};

fn create(enabled: bool, confirmed: bool) -> IntegrationCommand {
    IntegrationCommand::CreateIntegration {
        integration_id: IntegrationId::new(),
        name: "XPLAN AU".into(),
        forward_host: "Harbour.xplan.iress.com.au".into(),
        enabled,
        ids_loaded_confirmed: confirmed,
        host_policy: Default::default(),
    }
}

fn given(w: &World, commands: &[(IntegrationCommand, CommandContext)]) -> IntegrationState {
    let mut state = IntegrationState::default();
    for (c, ctx) in commands {
        for e in integration::decide(&state, &w.practice, c, ctx).unwrap() {
            state.apply(&e);
        }
    }
    state
}

/// When `actor` sets up a new integration.
fn created_by(
    w: &World,
    actor: StaffId,
    enabled: bool,
    confirmed: bool,
) -> Result<Vec<IntegrationEvent>, DomainError> {
    integration::decide(
        &IntegrationState::default(),
        &w.practice,
        &create(enabled, confirmed),
        &ctx(staff(actor)),
    )
}

fn system() -> CommandContext {
    ctx(Actor::System("xplan".into()))
}

#[test]
fn a_manager_creates_an_integration_with_a_normalised_forward_host() {
    let mut w = World::new(5);
    let pm = w.active_staff(PracticeRole::PracticeManager);
    let events = created_by(&w, pm, false, false).unwrap();
    let [IntegrationEvent::Created(e)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(
        (
            e.settings.forward_host.as_str(),
            e.kind.as_str(),
            e.auth_mode.as_str(),
            e.enabled
        ),
        ("harbour.xplan.iress.com.au", "xplan", "oauth", false)
    );
}

#[test]
fn only_holders_of_manage_integrations_set_it_up() {
    let mut w = World::new(5);
    let adviser = w.active_staff(PracticeRole::Professional);
    let r = created_by(&w, adviser, false, false);
    assert!(matches!(r, Err(DomainError::NotPermitted(_))), "{r:?}");
}

#[test]
fn enabling_needs_the_confirmation_that_xplan_ids_are_loaded() {
    let w = World::new(5);
    let owner = ctx(staff(w.owner));
    assert_eq!(
        created_by(&w, w.owner, true, false),
        Err(DomainError::XplanIdsNotConfirmed)
    );
    let state = given(&w, &[(create(false, false), owner.clone())]);
    assert_eq!(
        integration::decide(
            &state,
            &w.practice,
            &IntegrationCommand::EnableIntegration,
            &owner
        ),
        Err(DomainError::XplanIdsNotConfirmed)
    );
    let state = given(&w, &[(create(true, true), owner.clone())]);
    let withdraw = IntegrationCommand::UpdateIntegration {
        name: None,
        forward_host: None,
        ids_loaded_confirmed: Some(false),
        host_policy: Default::default(),
    };
    assert_eq!(
        integration::decide(&state, &w.practice, &withdraw, &owner),
        Err(DomainError::XplanIdsNotConfirmed),
        "not while enabled"
    );
    assert_eq!(
        integration::decide(
            &state,
            &w.practice,
            &IntegrationCommand::EnableIntegration,
            &owner
        ),
        Ok(vec![]),
        "enabling twice changes nothing"
    );
}

#[test]
fn an_update_that_changes_nothing_records_nothing() {
    let w = World::new(5);
    let owner = ctx(staff(w.owner));
    let state = given(&w, &[(create(false, true), owner.clone())]);
    let same = IntegrationCommand::UpdateIntegration {
        name: Some("XPLAN AU".into()),
        forward_host: Some("harbour.xplan.iress.com.au".into()),
        ids_loaded_confirmed: None,
        host_policy: Default::default(),
    };
    assert_eq!(
        integration::decide(&state, &w.practice, &same, &owner),
        Ok(vec![])
    );
    let bad = IntegrationCommand::UpdateIntegration {
        name: None,
        forward_host: Some("https://x.example".into()),
        ids_loaded_confirmed: None,
        host_policy: Default::default(),
    };
    assert!(matches!(
        integration::decide(&state, &w.practice, &bad, &owner),
        Err(DomainError::InvalidInput(_))
    ));
}

#[test]
fn consent_completes_only_with_the_pending_state_by_the_same_person_in_time() {
    let mut w = World::new(5);
    let owner = ctx(staff(w.owner));
    let pm = w.active_staff(PracticeRole::PracticeManager);
    let start = IntegrationCommand::StartAuthorisation {
        state_digest: "d1".into(),
        expires_at: now() + Duration::minutes(15),
    };
    let state = given(
        &w,
        &[(create(true, true), owner.clone()), (start, owner.clone())],
    );
    let complete = |digest: &str| IntegrationCommand::CompleteAuthorisation {
        state_digest: digest.into(),
        access_expires_at: now() + Duration::hours(1),
    };
    let decide =
        |c: &IntegrationCommand, x: &CommandContext| integration::decide(&state, &w.practice, c, x);
    assert_eq!(
        decide(&complete("other"), &owner),
        Err(DomainError::OAuthStateInvalid),
        "a different state"
    );
    assert_eq!(
        decide(&complete("d1"), &ctx(staff(pm))),
        Err(DomainError::OAuthStateInvalid),
        "someone else"
    );
    let late = CommandContext::new(owner.actor.clone(), now() + Duration::minutes(16));
    assert_eq!(
        decide(&complete("d1"), &late),
        Err(DomainError::OAuthStateInvalid),
        "too late"
    );
    let events = decide(&complete("d1"), &owner).unwrap();
    let mut connected = state.clone();
    connected.apply(&events[0]);
    assert!(
        matches!(connected.consent, Some(Consent::Connected { by, .. }) if Some(by) == owner.actor.staff())
    );
    assert_eq!(
        integration::decide(&connected, &w.practice, &complete("d1"), &owner),
        Err(DomainError::OAuthStateInvalid),
        "a state works once"
    );
}

#[test]
fn refreshes_expiry_and_runs_are_recorded_by_the_system_only() {
    let w = World::new(5);
    let owner = ctx(staff(w.owner));
    let start = IntegrationCommand::StartAuthorisation {
        state_digest: "d".into(),
        expires_at: now() + Duration::minutes(15),
    };
    let complete = IntegrationCommand::CompleteAuthorisation {
        state_digest: "d".into(),
        access_expires_at: now() + Duration::hours(1),
    };
    let state = given(
        &w,
        &[
            (create(true, true), owner.clone()),
            (start, owner.clone()),
            (complete, owner.clone()),
        ],
    );
    let run = SyncRun {
        run_id: uuid::Uuid::nil(),
        trigger: "schedule".into(),
        started_at: now(),
        finished_at: now(),
        outcome: SyncOutcome::Completed,
        summary: SyncSummary::default(),
    };
    let record = IntegrationCommand::RecordSync { run };
    assert_eq!(
        integration::decide(&state, &w.practice, &record, &owner),
        Err(DomainError::SystemOnly)
    );
    assert_eq!(
        integration::decide(&state, &w.practice, &record, &system())
            .unwrap()
            .len(),
        1
    );
    let expire = IntegrationCommand::ExpireConsent {
        reason: "401 after refresh".into(),
    };
    let expired = given(&w, &[]);
    let mut s = state.clone();
    for e in integration::decide(&s, &w.practice, &expire, &system()).unwrap() {
        s.apply(&e);
    }
    assert!(matches!(s.consent, Some(Consent::Expired { .. })));
    assert_eq!(
        integration::decide(&s, &w.practice, &expire, &system()),
        Ok(vec![]),
        "expiring twice records nothing"
    );
    let refresh = IntegrationCommand::RecordTokenRefresh {
        access_expires_at: now(),
    };
    assert_eq!(
        integration::decide(&s, &w.practice, &refresh, &system()),
        Err(DomainError::XplanNotConnected)
    );
    assert_eq!(
        integration::decide(&expired, &w.practice, &refresh, &system()),
        Err(DomainError::IntegrationNotFound)
    );
}

#[test]
fn another_practices_integration_is_not_found() {
    let w = World::new(5);
    let other = World::new(5);
    let state = given(&w, &[(create(false, true), ctx(staff(w.owner)))]);
    let r = integration::decide(
        &state,
        &other.practice,
        &IntegrationCommand::DisableIntegration,
        &ctx(staff(other.owner)),
    );
    assert_eq!(r, Err(DomainError::IntegrationNotFound));
}
