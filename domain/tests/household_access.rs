//! Given/when/then for household access (seed: lumiant-manage-household-access, PRODUCT.md §2).

mod support;

use hearth_domain::{
    access::{check, AccessPath, DenyReason},
    household::{reassign_households, HouseholdCommand, HouseholdEvent, HouseholdStatus},
    permissions::Permission,
    practice::{PracticeCommand, PracticeEvent},
    roles::{Action, Holding, HouseholdRole, PracticeRole},
    Actor, BranchId, DomainError, HouseholdId,
};
use support::{ctx, staff, World};

fn create(w: &mut World, actor: Actor) -> Result<HouseholdId, DomainError> {
    w.create_household(actor).map(|(id, _)| id)
}

#[test]
fn the_creating_professional_becomes_primary() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    let h = create(&mut w, staff(pro)).unwrap();
    assert_eq!(w.household(h).primary, Some(pro));
    assert_eq!(
        w.practice.leads.get(&h),
        Some(&(pro, None)),
        "the practice stream records the lead"
    );
}

#[test]
fn a_household_created_by_support_staff_goes_to_the_first_professional() {
    let mut w = World::new(5);
    let first = w.active_staff(PracticeRole::Professional);
    let _second = w.active_staff(PracticeRole::Professional);
    let assistant = w.active_staff(PracticeRole::Support);
    let h = create(&mut w, staff(assistant)).unwrap();
    assert_eq!(w.household(h).primary, Some(first));
}

#[test]
fn support_staff_cannot_create_a_household_when_the_practice_has_no_professional() {
    let mut w = World::new(5);
    let assistant = w.active_staff(PracticeRole::Support);
    assert_eq!(
        create(&mut w, staff(assistant)),
        Err(DomainError::NoProfessionalInPractice)
    );
}

#[test]
fn a_deactivated_first_professional_is_passed_over() {
    let mut w = World::new(5);
    let first = w.active_staff(PracticeRole::Professional);
    let second = w.active_staff(PracticeRole::Professional);
    w.deactivate(first);
    let assistant = w.active_staff(PracticeRole::Support);
    let h = create(&mut w, staff(assistant)).unwrap();
    assert_eq!(w.household(h).primary, Some(second));
}

#[test]
fn assigning_a_primary_replaces_the_previous_one_who_keeps_ordinary_access() {
    let mut w = World::new(5);
    let [a, b] = w.professionals();
    let h = w.household_by(a);
    let d = w
        .owner_household_cmd(
            h,
            HouseholdCommand::AssignPrimaryProfessional {
                staff_id: b,
                previous_keeps: Some(HouseholdRole::Professional),
            },
        )
        .unwrap();
    assert!(
        matches!(d.household_events(h), [HouseholdEvent::PrimaryAssigned(e)] if e.staff_id == b && e.previous == a)
    );
    assert!(matches!(&d.practice[..], [PracticeEvent::HouseholdLeadsChanged(e)] if e.primary == b));
    assert_eq!(w.household(h).primary, Some(b));
    assert_eq!(
        w.household(h).grants.get(&a),
        Some(&HouseholdRole::Professional)
    );
    w.assert_invariants();
}

#[test]
fn the_previous_primary_can_be_told_to_drop_access() {
    let mut w = World::new(5);
    let [a, b] = w.professionals();
    let h = w.household_by(a);
    w.owner_household_cmd(
        h,
        HouseholdCommand::AssignPrimaryProfessional {
            staff_id: b,
            previous_keeps: None,
        },
    )
    .unwrap();
    assert_eq!(w.household(h).holding(a), None);
}

#[test]
fn support_staff_can_be_neither_primary_nor_secondary() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    let assistant = w.active_staff(PracticeRole::Support);
    let h = w.household_by(pro);
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::AssignPrimaryProfessional {
                staff_id: assistant,
                previous_keeps: None
            }
        ),
        Err(DomainError::SupportCannotLead(assistant))
    );
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::SetSecondaryProfessional {
                staff_id: assistant
            }
        ),
        Err(DomainError::SupportCannotLead(assistant))
    );
}

#[test]
fn the_primary_cannot_be_revoked_or_demoted() {
    let mut w = World::new(5);
    let (pro, h) = w.led_household();
    assert_eq!(
        w.owner_household_cmd(h, HouseholdCommand::RevokeStaffAccess { staff_id: pro }),
        Err(DomainError::CannotRemovePrimary)
    );
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::ChangeStaffRole {
                staff_id: pro,
                role: HouseholdRole::ReadOnly
            }
        ),
        Err(DomainError::CannotRemovePrimary)
    );
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::AssignPrimaryProfessional {
                staff_id: pro,
                previous_keeps: None
            }
        ),
        Err(DomainError::AlreadyPrimary(pro))
    );
}

#[test]
fn a_secondary_is_set_and_cleared_and_is_never_the_primary() {
    let mut w = World::new(5);
    let [a, b] = w.professionals();
    let h = w.household_by(a);
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::SetSecondaryProfessional { staff_id: a }
        ),
        Err(DomainError::PrimaryCannotBeSecondary)
    );
    w.owner_household_cmd(
        h,
        HouseholdCommand::SetSecondaryProfessional { staff_id: b },
    )
    .unwrap();
    assert_eq!(w.practice.leads.get(&h), Some(&(a, Some(b))));
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::SetSecondaryProfessional { staff_id: b }
        ),
        Err(DomainError::AlreadySecondary(b))
    );
    assert_eq!(
        w.owner_household_cmd_twice(h, HouseholdCommand::ClearSecondaryProfessional),
        Err(DomainError::NoSecondary)
    );
    w.assert_invariants();
}

#[test]
fn promoting_the_secondary_to_primary_clears_the_secondary() {
    let mut w = World::new(5);
    let [a, b] = w.professionals();
    let h = w.household_by(a);
    w.owner_household_cmd(
        h,
        HouseholdCommand::SetSecondaryProfessional { staff_id: b },
    )
    .unwrap();
    w.owner_household_cmd(
        h,
        HouseholdCommand::AssignPrimaryProfessional {
            staff_id: b,
            previous_keeps: None,
        },
    )
    .unwrap();
    assert_eq!(
        (w.household(h).primary, w.household(h).secondary),
        (Some(b), None)
    );
    w.assert_invariants();
}

#[test]
fn staff_are_granted_a_role_and_it_changes_in_place() {
    let mut w = World::new(5);
    let [pro, para] = w.professionals();
    let h = w.household_by(pro);
    w.owner_household_cmd(
        h,
        HouseholdCommand::GrantStaffAccess {
            staff_id: para,
            role: HouseholdRole::Paraplanner,
        },
    )
    .unwrap();
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::GrantStaffAccess {
                staff_id: para,
                role: HouseholdRole::ReadOnly
            }
        ),
        Err(DomainError::AlreadyHasAccess(para))
    );
    let d = w
        .owner_household_cmd(
            h,
            HouseholdCommand::ChangeStaffRole {
                staff_id: para,
                role: HouseholdRole::ReadOnly,
            },
        )
        .unwrap();
    assert!(
        matches!(d.household_events(h), [HouseholdEvent::RoleChanged(e)] if e.from == HouseholdRole::Paraplanner && e.to == HouseholdRole::ReadOnly)
    );
    assert!(d.practice.is_empty(), "a role change touches no lead");
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::ChangeStaffRole {
                staff_id: para,
                role: HouseholdRole::ReadOnly
            }
        ),
        Err(DomainError::RoleUnchanged(para))
    );
    assert_eq!(
        w.owner_household_cmd_twice(h, HouseholdCommand::RevokeStaffAccess { staff_id: para }),
        Err(DomainError::NoAccessToRemove(para))
    );
}

#[test]
fn access_goes_only_to_active_staff_of_the_same_practice() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    let leaver = w.active_staff(PracticeRole::Professional);
    w.deactivate(leaver);
    let h = w.household_by(pro);
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::GrantStaffAccess {
                staff_id: leaver,
                role: HouseholdRole::ReadOnly
            }
        ),
        Err(DomainError::StaffNotActive(leaver))
    );

    let mut other = World::new(5);
    let stranger = other.active_staff(PracticeRole::Professional);
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::GrantStaffAccess {
                staff_id: stranger,
                role: HouseholdRole::ReadOnly
            }
        ),
        Err(DomainError::StaffNotFound(stranger))
    );
}

#[test]
fn changing_access_needs_the_manage_household_access_permission() {
    let mut w = World::new(5);
    let [pro, other] = w.professionals();
    let h = w.household_by(pro);
    let grant = HouseholdCommand::GrantStaffAccess {
        staff_id: other,
        role: HouseholdRole::ReadOnly,
    };
    assert_eq!(
        w.household_cmd(staff(pro), h, grant.clone()),
        Err(DomainError::NotPermitted(Permission::ManageHouseholdAccess))
    );
    let manager = w.active_staff(PracticeRole::PracticeManager);
    w.household_cmd(staff(manager), h, grant).unwrap();
}

#[test]
fn another_practices_staff_cannot_act_on_a_household() {
    let mut w = World::new(5);
    let (_, h) = w.led_household();
    let other = World::new(5);
    let cmd = HouseholdCommand::ArchiveHousehold;
    let household = w.household(h).clone();
    assert_eq!(
        hearth_domain::household::decide(
            &household,
            &other.practice,
            h,
            &cmd,
            &ctx(staff(other.owner))
        ),
        Err(DomainError::HouseholdNotFound)
    );
}

#[test]
fn an_archived_household_refuses_access_changes_until_restored() {
    let mut w = World::new(5);
    let [pro, other] = w.professionals();
    let h = w.household_by(pro);
    assert_eq!(
        w.household_cmd(staff(pro), h, HouseholdCommand::ArchiveHousehold),
        Err(DomainError::NotPermitted(Permission::ArchiveHouseholds))
    );
    assert_eq!(
        w.owner_household_cmd_twice(h, HouseholdCommand::ArchiveHousehold),
        Err(DomainError::HouseholdArchived)
    );
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::GrantStaffAccess {
                staff_id: other,
                role: HouseholdRole::ReadOnly
            }
        ),
        Err(DomainError::HouseholdArchived)
    );
    assert_eq!(
        check(&w.practice, w.household(h), pro, Action::View).deny_reason,
        Some(DenyReason::HouseholdArchived)
    );
    assert_eq!(
        w.owner_household_cmd_twice(h, HouseholdCommand::RestoreHousehold),
        Err(DomainError::HouseholdNotArchived)
    );
    assert!(check(&w.practice, w.household(h), pro, Action::View).allowed);
}

#[test]
fn status_and_branch_changes_are_checked() {
    let mut w = World::new(5);
    let (_, h) = w.led_household();
    assert_eq!(
        w.owner_household_cmd_twice(
            h,
            HouseholdCommand::ChangeHouseholdStatus {
                status: HouseholdStatus::Inactive,
            },
        ),
        Err(DomainError::StatusUnchanged)
    );
    let unknown = BranchId::new();
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::AssignHouseholdBranch {
                branch: Some(unknown)
            }
        ),
        Err(DomainError::BranchNotFound(unknown))
    );
    let north = BranchId::new();
    w.owner_cmd(PracticeCommand::CreateBranch {
        branch_id: north,
        name: "North".into(),
    })
    .unwrap();
    w.owner_household_cmd(
        h,
        HouseholdCommand::AssignHouseholdBranch {
            branch: Some(north),
        },
    )
    .unwrap();
    assert_eq!(w.household(h).branch, Some(north));
    assert_eq!(
        w.owner_household_cmd(
            h,
            HouseholdCommand::AssignHouseholdBranch {
                branch: Some(north)
            }
        ),
        Err(DomainError::BranchUnchanged)
    );
}

#[test]
fn a_departing_adviser_hands_over_every_household_and_can_then_be_deactivated() {
    let mut w = World::new(10);
    let [leaver, successor, colleague] = w.professionals();
    let led: Vec<HouseholdId> = (0..3).map(|_| w.household_by(leaver)).collect();
    let seconded = w.household_by(colleague);
    w.owner_household_cmd(
        seconded,
        HouseholdCommand::SetSecondaryProfessional { staff_id: leaver },
    )
    .unwrap();
    let states: Vec<_> = w
        .households
        .iter()
        .map(|(id, h)| (*id, h.clone()))
        .collect();
    let decision = reassign_households(
        &w.practice,
        &states,
        leaver,
        successor,
        &ctx(staff(w.owner)),
    )
    .unwrap();
    assert_eq!(decision.households.len(), 4);
    w.apply(&decision);
    for h in &led {
        assert_eq!(w.household(*h).primary, Some(successor));
        assert_eq!(w.household(*h).holding(leaver), None);
    }
    assert_eq!(w.household(seconded).secondary, Some(successor));
    w.assert_invariants();
    w.deactivate(leaver);
    assert!(matches!(
        reassign_households(
            &w.practice,
            &states,
            successor,
            successor,
            &ctx(staff(w.owner))
        ),
        Err(DomainError::AlreadyPrimary(_))
    ));
}

#[test]
fn access_paths_are_direct_practice_wide_manager_and_assistant() {
    let mut w = World::new(10);
    let pro = w.active_staff(PracticeRole::Professional);
    let manager = w.active_staff(PracticeRole::Manager);
    let assistant = w.active_staff(PracticeRole::Support);
    let outsider = w.active_staff(PracticeRole::Professional);
    let pm = w.active_staff(PracticeRole::PracticeManager);
    w.owner_cmd(PracticeCommand::AssignManagerToProfessional {
        manager,
        professional: pro,
    })
    .unwrap();
    w.owner_cmd(PracticeCommand::AssignSupportToProfessional {
        support: assistant,
        professional: pro,
    })
    .unwrap();
    let h = w.household_by(pro);
    let hh = w.household(h).clone();
    let path = |s| check(&w.practice, &hh, s, Action::View).path;
    assert_eq!(
        path(pro),
        Some(AccessPath::Direct {
            holding: Holding::Primary
        })
    );
    assert_eq!(
        path(pm),
        Some(AccessPath::PracticeWide {
            role: PracticeRole::PracticeManager
        })
    );
    assert_eq!(
        path(manager),
        Some(AccessPath::ManagerOf {
            professional: pro,
            capped_by: Holding::Primary
        })
    );
    assert_eq!(
        path(assistant),
        Some(AccessPath::AssistantOf {
            professional: pro,
            capped_by: Holding::Primary
        })
    );
    assert_eq!(
        check(&w.practice, &hh, outsider, Action::View).deny_reason,
        Some(DenyReason::NoAccess)
    );
    assert!(
        !check(&w.practice, &hh, assistant, Action::Export).allowed,
        "assistants do not export"
    );
    assert!(
        !check(&w.practice, &hh, pro, Action::ManageAccess).allowed,
        "a primary does not manage access without the permission"
    );
    assert!(check(&w.practice, &hh, pm, Action::ManageAccess).allowed);
}

#[test]
fn a_deactivated_member_loses_all_access_at_once() {
    let mut w = World::new(5);
    let [pro, reader] = w.professionals();
    let h = w.household_by(pro);
    w.owner_household_cmd(
        h,
        HouseholdCommand::GrantStaffAccess {
            staff_id: reader,
            role: HouseholdRole::ReadOnly,
        },
    )
    .unwrap();
    assert!(check(&w.practice, w.household(h), reader, Action::View).allowed);
    w.deactivate(reader);
    assert_eq!(
        check(&w.practice, w.household(h), reader, Action::View).deny_reason,
        Some(DenyReason::StaffNotActive)
    );
}

#[test]
fn replaying_the_events_rebuilds_the_same_household() {
    let mut w = World::new(5);
    let [a, b] = w.professionals();
    let h = HouseholdId::new();
    let client = w.new_member();
    let mut history = w
        .household_cmd(
            staff(a),
            h,
            HouseholdCommand::CreateHousehold {
                client,
                partner: None,
                branch: None,
                status: None,
            },
        )
        .unwrap()
        .household_events(h)
        .to_vec();
    for cmd in [
        HouseholdCommand::GrantStaffAccess {
            staff_id: b,
            role: HouseholdRole::Paraplanner,
        },
        HouseholdCommand::ChangeStaffRole {
            staff_id: b,
            role: HouseholdRole::Professional,
        },
        HouseholdCommand::AssignPrimaryProfessional {
            staff_id: b,
            previous_keeps: Some(HouseholdRole::ReadOnly),
        },
        HouseholdCommand::ArchiveHousehold,
    ] {
        history.extend(
            w.owner_household_cmd(h, cmd)
                .unwrap()
                .household_events(h)
                .to_vec(),
        );
    }
    // Through the stored form, as the log returns it.
    let decoded: Vec<HouseholdEvent> = history
        .iter()
        .map(|e| {
            HouseholdEvent::from_stored(e.event_type(), e.schema_version(), e.to_data()).unwrap()
        })
        .collect();
    assert_eq!(
        decoded, history,
        "every event survives a round trip through its stored form"
    );
    let fold = |events: &[HouseholdEvent]| {
        let mut state = hearth_domain::household::HouseholdState::default();
        for e in events {
            state.apply(e);
        }
        state
    };
    assert_eq!(
        fold(&decoded),
        *w.household(h),
        "replay rebuilds the live state"
    );
    assert_eq!(fold(&decoded), fold(&decoded), "apply is deterministic");
}
