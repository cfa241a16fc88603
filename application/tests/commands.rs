//! Commands through the log: decisions land atomically with expected versions, and concurrent
//! commands cannot break a cross-stream rule (the last primary is never removed).

use chrono::Utc;
use hearth_application::{BatchItem, CommandExecutor, ExecError};
use hearth_domain::{
    household::{HouseholdCommand, NewMember},
    practice::{NewStaff, PracticeCommand},
    roles::{HouseholdRole, PracticeRole},
    Actor, CommandContext, DomainError, HouseholdId, MemberId, PracticeId, StaffId,
};
use hearth_eventstore::{on_both_backends, EventStore};

on_both_backends!(
    a_practice_flow_round_trips_through_the_log,
    a_batch_lands_whole_or_not_at_all_and_its_guards_refuse_a_second_claim,
    deactivation_and_promotion_racing_never_leave_an_inactive_primary,
    an_instance_deciding_on_its_own_copy_never_acts_on_what_another_changed,
    commands_that_find_a_state_missing_together_read_its_stream_once
);

fn ctx(actor: Actor) -> CommandContext {
    CommandContext::new(actor, Utc::now())
}

async fn practice_with_adviser(exec: &CommandExecutor) -> (PracticeId, StaffId, StaffId) {
    let (p, owner, adviser) = (PracticeId::new(), StaffId::new(), StaffId::new());
    let create = PracticeCommand::CreatePractice {
        practice_id: p,
        name: "P".into(),
        owner: NewStaff {
            staff_id: owner,
            name: "O".into(),
            email: "o@example.com".into(),
        },
        licences: 50,
    };
    exec.practice(p, create, &ctx(Actor::Operator))
        .await
        .unwrap();
    invite(exec, p, owner, adviser, "a@example.com").await;
    (p, owner, adviser)
}

async fn invite(exec: &CommandExecutor, p: PracticeId, owner: StaffId, id: StaffId, email: &str) {
    let cmd = PracticeCommand::InviteStaff {
        staff: NewStaff {
            staff_id: id,
            name: email.into(),
            email: email.into(),
        },
        role: PracticeRole::Professional,
        branch: None,
    };
    exec.practice(p, cmd, &ctx(Actor::Staff(owner)))
        .await
        .unwrap();
    exec.practice(
        p,
        PracticeCommand::ActivateStaff { staff_id: id },
        &ctx(Actor::Staff(id)),
    )
    .await
    .unwrap();
}

async fn household(exec: &CommandExecutor, p: PracticeId, creator: StaffId) -> HouseholdId {
    let h = HouseholdId::new();
    let client = NewMember {
        member_id: MemberId::new(),
        first_name: "C".into(),
        last_name: "L".into(),
        email: None,
        title: None,
    };
    exec.household(
        p,
        h,
        HouseholdCommand::CreateHousehold {
            client,
            partner: None,
            branch: None,
            status: None,
        },
        &ctx(Actor::Staff(creator)),
    )
    .await
    .unwrap();
    h
}

async fn a_practice_flow_round_trips_through_the_log(store: EventStore) {
    let exec = CommandExecutor::new(store.clone());
    let (p, owner, adviser) = practice_with_adviser(&exec).await;
    let h = household(&exec, p, adviser).await;
    let para = StaffId::new();
    invite(&exec, p, owner, para, "para@example.com").await;
    let grant = exec
        .household(
            p,
            h,
            HouseholdCommand::GrantStaffAccess {
                staff_id: para,
                role: HouseholdRole::Paraplanner,
            },
            &ctx(Actor::Staff(owner)),
        )
        .await
        .unwrap();
    assert!(grant.position.is_some());
    let err = exec
        .household(
            p,
            h,
            HouseholdCommand::RevokeStaffAccess { staff_id: adviser },
            &ctx(Actor::Staff(owner)),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ExecError::Domain(DomainError::CannotRemovePrimary)
    ));

    // A fresh executor (no cache) reads the same state back from the log.
    let fresh = CommandExecutor::new(store);
    let (state, _) = fresh.household_state(h).await.unwrap();
    assert_eq!(state.primary, Some(adviser));
    assert_eq!(state.grants.get(&para), Some(&HouseholdRole::Paraplanner));
    let (practice, _) = fresh.practice_state(p).await.unwrap();
    assert_eq!(practice.leads.get(&h), Some(&(adviser, None)));
    let (cached, _) = exec.practice_state(p).await.unwrap();
    assert_eq!(cached, practice, "the cache and the log agree");
}

async fn deactivation_and_promotion_racing_never_leave_an_inactive_primary(store: EventStore) {
    let exec = CommandExecutor::new(store.clone());
    let (p, owner, adviser) = practice_with_adviser(&exec).await;
    let mut races = Vec::new();
    for i in 0..8 {
        let candidate = StaffId::new();
        invite(&exec, p, owner, candidate, &format!("c{i}@example.com")).await;
        let h = household(&exec, p, adviser).await;
        let (e1, e2) = (
            CommandExecutor::new(store.clone()),
            CommandExecutor::new(store.clone()),
        );
        let promote = tokio::spawn(async move {
            e1.household(
                p,
                h,
                HouseholdCommand::AssignPrimaryProfessional {
                    staff_id: candidate,
                    previous_keeps: None,
                },
                &ctx(Actor::Staff(owner)),
            )
            .await
        });
        let deactivate = tokio::spawn(async move {
            e2.practice(
                p,
                PracticeCommand::DeactivateStaff {
                    staff_id: candidate,
                },
                &ctx(Actor::Staff(owner)),
            )
            .await
        });
        races.push((h, candidate, promote, deactivate));
    }
    for (h, candidate, promote, deactivate) in races {
        let (promoted, deactivated) = (promote.await.unwrap(), deactivate.await.unwrap());
        assert!(
            !(promoted.is_ok() && deactivated.is_ok()),
            "both a promotion and a deactivation of the same person succeeded"
        );
        let fresh = CommandExecutor::new(store.clone());
        let (practice, _) = fresh.practice_state(p).await.unwrap();
        let (household, _) = fresh.household_state(h).await.unwrap();
        let primary = household.primary.unwrap();
        assert!(
            practice.is_active(primary),
            "household {h} is led by an inactive member"
        );
        assert_eq!(promoted.is_ok(), primary == candidate);
    }
}

async fn a_batch_lands_whole_or_not_at_all_and_its_guards_refuse_a_second_claim(store: EventStore) {
    let exec = CommandExecutor::new(store.clone());
    let (p, owner, adviser) = practice_with_adviser(&exec).await;
    let (h1, h2) = (
        household(&exec, p, adviser).await,
        household(&exec, p, adviser).await,
    );
    let para = StaffId::new();
    invite(&exec, p, owner, para, "para@example.com").await;
    let item = |h: HouseholdId, command: HouseholdCommand, guard: Option<&str>| BatchItem {
        household: h,
        command,
        ctx: ctx(Actor::Staff(owner)),
        guard: guard.map(|g| (g.to_string(), "test.claimed".to_string())),
    };
    let grant = |role| HouseholdCommand::GrantStaffAccess {
        staff_id: para,
        role,
    };
    // Stream versions, not the log's head: on PostgreSQL the head may still be catching up
    // with this test's own earlier commits while other tests hold transactions open.
    let versions = || async {
        let mut v = Vec::new();
        for h in [h1, h2] {
            v.push(
                store
                    .stream_version(&hearth_domain::streams::household(h))
                    .await
                    .unwrap(),
            );
        }
        v
    };
    let before = versions().await;

    // Item 2 breaks a rule (granting twice): nothing of the batch is written.
    let items = [
        item(h1, grant(HouseholdRole::Paraplanner), Some("claim-1")),
        item(h2, grant(HouseholdRole::ReadOnly), None),
        item(h2, grant(HouseholdRole::Support), None),
    ];
    let err = exec.household_batch(p, &items).await.unwrap_err();
    assert!(
        matches!(
            err,
            ExecError::Rejected {
                index: 2,
                error: DomainError::AlreadyHasAccess(_)
            }
        ),
        "{err:?}"
    );
    assert_eq!(versions().await, before, "nothing was written");
    assert!(store.read_stream("claim-1", 1).await.unwrap().is_empty());

    // Later items see what earlier items decided: grant then change role in one batch.
    let items = [
        item(h1, grant(HouseholdRole::Paraplanner), Some("claim-1")),
        item(
            h1,
            HouseholdCommand::ChangeStaffRole {
                staff_id: para,
                role: HouseholdRole::ReadOnly,
            },
            None,
        ),
        item(h2, grant(HouseholdRole::Support), None),
    ];
    let done = exec.household_batch(p, &items).await.unwrap();
    assert_eq!(done.events, 4, "three household events and the claim");
    let (s1, _) = exec.household_state(h1).await.unwrap();
    assert_eq!(s1.grants.get(&para), Some(&HouseholdRole::ReadOnly));

    // A guard stream can be created once: a second batch claiming it conflicts and writes nothing.
    // Committed, not deliverable: other tests' transactions on the cluster may hold the latter back.
    let head = store.committed_head().await.unwrap();
    let again = [item(
        h2,
        HouseholdCommand::RevokeStaffAccess { staff_id: para },
        Some("claim-1"),
    )];
    assert!(matches!(
        exec.household_batch(p, &again).await,
        Err(ExecError::Contended)
    ));
    assert_eq!(store.committed_head().await.unwrap(), head);
}

/// Each instance decides on the household and practice states it holds without reading the log
/// first; what another instance wrote meanwhile must still decide every answer: a grant the other
/// made is refused as already there, not written twice, a revocation of it is not refused, and a staff member the other
/// deactivated is not granted access.
async fn an_instance_deciding_on_its_own_copy_never_acts_on_what_another_changed(
    store: EventStore,
) {
    let (a, b) = (
        CommandExecutor::new(store.clone()),
        CommandExecutor::new(store.clone()),
    );
    let (p, owner, adviser) = practice_with_adviser(&a).await;
    let colleague = StaffId::new();
    invite(&a, p, owner, colleague, "c@example.com").await;
    let h = household(&a, p, adviser).await;
    let as_owner = ctx(Actor::Staff(owner));
    let grant = HouseholdCommand::GrantStaffAccess {
        staff_id: colleague,
        role: HouseholdRole::Paraplanner,
    };
    let revoke = HouseholdCommand::RevokeStaffAccess {
        staff_id: colleague,
    };
    // A holds the household (it created it); B grants behind its back.
    assert_eq!(
        b.household(p, h, grant.clone(), &as_owner)
            .await
            .unwrap()
            .events,
        1
    );
    let twice = a.household(p, h, grant.clone(), &as_owner).await;
    assert!(
        matches!(twice, Err(ExecError::Domain(DomainError::AlreadyHasAccess(s))) if s == colleague),
        "already granted by the other instance: refused, not written twice ({twice:?})"
    );
    // B revokes, then A (whose copy is now current, with the grant) is asked to revoke again.
    assert_eq!(
        b.household(p, h, revoke.clone(), &as_owner)
            .await
            .unwrap()
            .events,
        1
    );
    let again = a.household(p, h, revoke.clone(), &as_owner).await;
    assert!(
        matches!(again, Err(ExecError::Domain(_))) || again.as_ref().is_ok_and(|d| d.events == 0),
        "revoked by the other instance: not revoked twice ({again:?})"
    );
    // A revocation A's copy does not know the grant of is not refused.
    assert_eq!(
        b.household(p, h, grant.clone(), &as_owner)
            .await
            .unwrap()
            .events,
        1
    );
    assert_eq!(
        a.household(p, h, revoke, &as_owner).await.unwrap().events,
        1
    );
    // B deactivates the colleague; A's copy of the practice still has them active.
    b.practice(
        p,
        PracticeCommand::DeactivateStaff {
            staff_id: colleague,
        },
        &as_owner,
    )
    .await
    .unwrap();
    let refused = a.household(p, h, grant, &as_owner).await;
    assert!(
        matches!(refused, Err(ExecError::Domain(_))),
        "an inactive staff member is not granted access: {refused:?}"
    );
    let events = store
        .read_stream(&format!("household-{}", h.0), 1)
        .await
        .unwrap();
    let grants = events
        .iter()
        .filter(|e| e.event_type == "household.staff_access_granted")
        .count();
    assert_eq!(grants, 2, "exactly the two grants B made");
}

/// Sixteen commands arriving at a fresh instance each need the practice: one reads its stream,
/// the others wait for that read and share what it folded.
async fn commands_that_find_a_state_missing_together_read_its_stream_once(store: EventStore) {
    let writer = CommandExecutor::new(store.clone());
    let (p, owner, _) = practice_with_adviser(&writer).await;
    for n in 0..20 {
        invite(
            &writer,
            p,
            owner,
            StaffId::new(),
            &format!("s{n}@example.com"),
        )
        .await;
    }
    let fresh = CommandExecutor::new(store.clone());
    let loads: Vec<_> = (0..16)
        .map(|_| {
            let fresh = fresh.clone();
            tokio::spawn(async move { fresh.practice_state(p).await.unwrap() })
        })
        .collect();
    let mut states = Vec::new();
    for l in loads {
        states.push(l.await.unwrap());
    }
    let (first, version) = &states[0];
    assert_eq!(first.staff.len(), 22);
    for (state, v) in &states {
        assert_eq!(v, version);
        assert!(
            std::sync::Arc::ptr_eq(state, first),
            "each load folded the stream itself"
        );
    }
}
