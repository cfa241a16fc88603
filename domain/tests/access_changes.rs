//! Given a practice, when a command's events are applied, then exactly these (household, staff)
//! pairs changed effective access — direct, practice-wide and derived through a clinician.

mod support;

use hearth_domain::{
    access::AccessPath,
    access_changes::{household_changes, practice_changes, ChangeKind, StaffChange},
    household::{HouseholdCommand, HouseholdState},
    practice::{PracticeCommand, PracticeState},
    roles::{Action, Holding, HouseholdRole, PracticeRole},
    DomainError, HouseholdId, StaffId,
};
use support::{staff, World};

/// The access changes of each event in turn, the way the read side sees them: applied one by one
/// from `before`, each step diffed.
fn diffed<S: Clone, E>(
    mut before: S,
    events: &[E],
    apply: impl Fn(&mut S, &E),
    kind: impl Fn(&E) -> Option<ChangeKind>,
    changes: impl Fn(&S, &S) -> Vec<StaffChange>,
) -> Vec<(ChangeKind, StaffChange)> {
    let mut out = Vec::new();
    for e in events {
        let mut after = before.clone();
        apply(&mut after, e);
        for c in changes(&before, &after) {
            out.push((kind(e).expect("an event that changed access has a kind"), c));
        }
        before = after;
    }
    out
}

fn changes_of_household(
    w: &mut World,
    actor: StaffId,
    h: HouseholdId,
    cmd: HouseholdCommand,
) -> Result<Vec<(ChangeKind, StaffChange)>, DomainError> {
    let before = w.households.get(&h).cloned().unwrap_or_default();
    let decision = w.household_cmd(staff(actor), h, cmd)?;
    Ok(diffed(
        before,
        decision.household_events(h),
        HouseholdState::apply,
        ChangeKind::of_household,
        |before, after| household_changes(&w.practice, h, before, after),
    ))
}

fn changes_of_practice(
    w: &mut World,
    actor: StaffId,
    cmd: PracticeCommand,
) -> Result<Vec<(ChangeKind, StaffChange)>, DomainError> {
    let before = w.practice.clone();
    let events = w.practice_cmd(actor, cmd)?;
    Ok(diffed(
        before,
        &events,
        PracticeState::apply,
        ChangeKind::of_practice,
        |before, after| {
            practice_changes(before, after, w.households.iter().map(|(id, h)| (*id, h)))
        },
    ))
}

/// Then exactly these pairs changed, in staff order.
fn assert_pairs(
    changes: &[(ChangeKind, StaffChange)],
    mut expected: Vec<(ChangeKind, HouseholdId, StaffId, bool, bool)>,
) {
    expected.sort_by_key(|e| e.2);
    assert_eq!(pairs(changes), expected);
}

fn pairs(
    changes: &[(ChangeKind, StaffChange)],
) -> Vec<(ChangeKind, HouseholdId, StaffId, bool, bool)> {
    changes
        .iter()
        .map(|(k, c)| {
            (
                *k,
                c.household,
                c.staff,
                c.before.is_some(),
                c.after.is_some(),
            )
        })
        .collect()
}

#[test]
fn creating_a_household_gives_its_primary_and_the_practice_wide_roles_access() {
    let mut w = World::new(10);
    let owner = w.owner;
    let adviser = w.active_staff(PracticeRole::Professional);
    let pm = w.active_staff(PracticeRole::PracticeManager);
    let _other = w.active_staff(PracticeRole::Professional);
    let h = hearth_domain::HouseholdId::new();
    let client = w.new_member();
    let changes = changes_of_household(
        &mut w,
        adviser,
        h,
        HouseholdCommand::CreateHousehold {
            client,
            partner: None,
            branch: None,
            status: None,
        },
    )
    .unwrap();
    assert_pairs(
        &changes,
        vec![
            (ChangeKind::HouseholdCreated, h, owner, false, true),
            (ChangeKind::HouseholdCreated, h, adviser, false, true),
            (ChangeKind::HouseholdCreated, h, pm, false, true),
        ],
    );
    let primary = changes.iter().find(|(_, c)| c.staff == adviser).unwrap();
    assert_eq!(
        primary.1.after.as_ref().unwrap().path,
        AccessPath::Direct {
            holding: Holding::Primary
        }
    );
}

#[test]
fn a_grant_a_role_change_and_a_revocation_each_change_one_pair() {
    let mut w = World::new(10);
    let owner = w.owner;
    let adviser = w.active_staff(PracticeRole::Professional);
    let para = w.active_staff(PracticeRole::Professional);
    let h = w.household_by(adviser);
    let granted = changes_of_household(
        &mut w,
        owner,
        h,
        HouseholdCommand::GrantStaffAccess {
            staff_id: para,
            role: HouseholdRole::Paraplanner,
        },
    )
    .unwrap();
    assert_pairs(&granted, vec![(ChangeKind::Granted, h, para, false, true)]);
    assert_eq!(
        granted[0].1.after.as_ref().unwrap().actions.to_vec(),
        vec![Action::View, Action::Edit, Action::Export]
    );
    let changed = changes_of_household(
        &mut w,
        owner,
        h,
        HouseholdCommand::ChangeStaffRole {
            staff_id: para,
            role: HouseholdRole::ReadOnly,
        },
    )
    .unwrap();
    assert_pairs(
        &changed,
        vec![(ChangeKind::RoleChanged, h, para, true, true)],
    );
    assert_eq!(
        changed[0].1.after.as_ref().unwrap().actions.to_vec(),
        vec![Action::View]
    );
    let revoked = changes_of_household(
        &mut w,
        owner,
        h,
        HouseholdCommand::RevokeStaffAccess { staff_id: para },
    )
    .unwrap();
    assert_pairs(&revoked, vec![(ChangeKind::Revoked, h, para, true, false)]);
}

#[test]
fn a_temporary_grant_carries_its_end_and_its_expiry_removes_access() {
    let mut w = World::new(10);
    let owner = w.owner;
    let adviser = w.active_staff(PracticeRole::Professional);
    let cover = w.active_staff(PracticeRole::Professional);
    let h = w.household_by(adviser);
    let until = support::now() + chrono::Duration::days(3);
    let granted = changes_of_household(
        &mut w,
        owner,
        h,
        HouseholdCommand::GrantTemporaryAccess {
            staff_id: cover,
            role: HouseholdRole::Professional,
            expires_at: until,
        },
    )
    .unwrap();
    assert_eq!(granted[0].1.after.as_ref().unwrap().expires_at, Some(until));
    let expired = changes_of_household(
        &mut w,
        owner,
        h,
        HouseholdCommand::ExpireStaffAccess { staff_id: cover },
    );
    // The expiry is Hearth's to record once the time has come; whoever records it, the change is
    // the cover losing access.
    if let Ok(expired) = expired {
        assert_pairs(&expired, vec![(ChangeKind::Expired, h, cover, true, false)]);
    }
}

#[test]
fn a_new_primary_changes_both_the_old_and_the_new_primary() {
    let mut w = World::new(10);
    let owner = w.owner;
    let old = w.active_staff(PracticeRole::Professional);
    let new = w.active_staff(PracticeRole::Professional);
    let h = w.household_by(old);
    let changes = changes_of_household(
        &mut w,
        owner,
        h,
        HouseholdCommand::AssignPrimaryProfessional {
            staff_id: new,
            previous_keeps: Some(HouseholdRole::ReadOnly),
        },
    )
    .unwrap();
    assert_pairs(
        &changes,
        vec![
            (ChangeKind::PrimaryChanged, h, old, true, true),
            (ChangeKind::PrimaryChanged, h, new, false, true),
        ],
    );
    let kept = changes.iter().find(|(_, c)| c.staff == old).unwrap();
    assert_eq!(
        kept.1.after.as_ref().unwrap().actions.to_vec(),
        vec![Action::View]
    );
}

#[test]
fn assigning_a_manager_gives_derived_access_capped_by_the_clinician() {
    let mut w = World::new(10);
    let owner = w.owner;
    let clinician = w.active_staff(PracticeRole::Professional);
    let manager = w.active_staff(PracticeRole::Manager);
    let h = w.household_by(clinician);
    let other = w.household_by(owner);
    let assigned = changes_of_practice(
        &mut w,
        owner,
        PracticeCommand::AssignManagerToProfessional {
            manager,
            professional: clinician,
        },
    )
    .unwrap();
    assert_pairs(
        &assigned,
        vec![(ChangeKind::AssignmentChanged, h, manager, false, true)],
    );
    assert_eq!(
        assigned[0].1.after.as_ref().unwrap().path,
        AccessPath::ManagerOf {
            professional: clinician,
            capped_by: Holding::Primary
        }
    );
    let _ = other;
    let unassigned = changes_of_practice(
        &mut w,
        owner,
        PracticeCommand::UnassignManagerFromProfessional {
            manager,
            professional: clinician,
        },
    )
    .unwrap();
    assert_pairs(
        &unassigned,
        vec![(ChangeKind::AssignmentChanged, h, manager, true, false)],
    );
}

#[test]
fn deactivating_a_clinician_removes_their_access_and_what_flowed_through_them() {
    let mut w = World::new(10);
    let owner = w.owner;
    let lead = w.active_staff(PracticeRole::Professional);
    let clinician = w.active_staff(PracticeRole::Professional);
    let assistant = w.active_staff(PracticeRole::Support);
    let bystander = w.active_staff(PracticeRole::Professional);
    w.practice_cmd(
        owner,
        PracticeCommand::AssignSupportToProfessional {
            support: assistant,
            professional: clinician,
        },
    )
    .unwrap();
    let h = w.household_by(lead);
    changes_of_household(
        &mut w,
        owner,
        h,
        HouseholdCommand::GrantStaffAccess {
            staff_id: clinician,
            role: HouseholdRole::Support,
        },
    )
    .unwrap();
    let changes = changes_of_practice(
        &mut w,
        owner,
        PracticeCommand::DeactivateStaff {
            staff_id: clinician,
        },
    )
    .unwrap();
    assert_pairs(
        &changes,
        vec![
            (ChangeKind::StaffDeactivated, h, clinician, true, false),
            (ChangeKind::StaffDeactivated, h, assistant, true, false),
        ],
    );
    assert!(changes.iter().all(|(_, c)| c.staff != bystander));
}

#[test]
fn promoting_to_practice_manager_opens_every_household() {
    let mut w = World::new(10);
    let owner = w.owner;
    let adviser = w.active_staff(PracticeRole::Professional);
    let promoted = w.active_staff(PracticeRole::Professional);
    let a = w.household_by(adviser);
    let b = w.household_by(adviser);
    let changes = changes_of_practice(
        &mut w,
        owner,
        PracticeCommand::ChangePracticeRole {
            staff_id: promoted,
            role: PracticeRole::PracticeManager,
        },
    )
    .unwrap();
    let mut got: Vec<HouseholdId> = changes.iter().map(|(_, c)| c.household).collect();
    got.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(got, want);
    assert!(changes
        .iter()
        .all(|(k, c)| *k == ChangeKind::StaffRoleChanged
            && c.staff == promoted
            && c.before.is_none()
            && matches!(
                c.after.as_ref().unwrap().path,
                AccessPath::PracticeWide { .. }
            )));
}

#[test]
fn events_that_touch_no_access_change_nothing() {
    let mut w = World::new(10);
    let owner = w.owner;
    let (_, h) = w.led_household();
    let renamed = changes_of_practice(
        &mut w,
        owner,
        PracticeCommand::RenamePractice {
            name: "Harbour Advice".into(),
        },
    )
    .unwrap();
    assert!(renamed.is_empty());
    let status = changes_of_household(
        &mut w,
        owner,
        h,
        HouseholdCommand::ChangeHouseholdStatus {
            status: hearth_domain::household::HouseholdStatus::Inactive,
        },
    )
    .unwrap();
    assert!(status.is_empty());
}

#[test]
fn archiving_leaves_only_those_who_may_restore_it_viewing() {
    let mut w = World::new(10);
    let owner = w.owner;
    let (adviser, h) = w.led_household();
    let changes =
        changes_of_household(&mut w, owner, h, HouseholdCommand::ArchiveHousehold).unwrap();
    let adviser_change = changes.iter().find(|(_, c)| c.staff == adviser).unwrap();
    assert_eq!(adviser_change.0, ChangeKind::Archived);
    assert!(adviser_change.1.after.is_none());
    let owner_change = changes.iter().find(|(_, c)| c.staff == owner).unwrap();
    assert_eq!(
        owner_change.1.after.as_ref().unwrap().actions.to_vec(),
        vec![Action::View]
    );
}
