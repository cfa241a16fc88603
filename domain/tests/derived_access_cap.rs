//! Access that flows through a clinician — to their manager or assistant — never exceeds the
//! clinician's own on that household, and the explanation names the cap.

mod support;

use hearth_domain::{
    access::{check, AccessPath},
    household::HouseholdCommand,
    practice::PracticeCommand,
    roles::{Action, Holding, HouseholdRole, PracticeRole},
    HouseholdId, StaffId,
};
use support::{staff, World};

/// Given: a household led by someone else, on which `clinician` holds only read-only, and a
/// manager and an assistant of that clinician.
fn read_only_clinician() -> (World, HouseholdId, StaffId, StaffId, StaffId) {
    let mut w = World::new(10);
    let lead = w.active_staff(PracticeRole::Professional);
    let clinician = w.active_staff(PracticeRole::Professional);
    let manager = w.active_staff(PracticeRole::Manager);
    let assistant = w.active_staff(PracticeRole::Support);
    w.owner_cmd(PracticeCommand::AssignManagerToProfessional {
        manager,
        professional: clinician,
    })
    .unwrap();
    w.owner_cmd(PracticeCommand::AssignSupportToProfessional {
        support: assistant,
        professional: clinician,
    })
    .unwrap();
    let h = w.household_by(lead);
    w.owner_household_cmd(
        h,
        HouseholdCommand::GrantStaffAccess {
            staff_id: clinician,
            role: HouseholdRole::ReadOnly,
        },
    )
    .unwrap();
    (w, h, clinician, manager, assistant)
}

#[test]
fn an_assistant_of_a_read_only_clinician_views_but_cannot_edit() {
    let (w, h, clinician, _, assistant) = read_only_clinician();
    let hh = w.household(h);
    assert!(!check(&w.practice, hh, assistant, Action::Edit).allowed);
    assert_eq!(
        check(&w.practice, hh, assistant, Action::View).path,
        Some(AccessPath::AssistantOf {
            professional: clinician,
            capped_by: Holding::Role(HouseholdRole::ReadOnly)
        })
    );
}

#[test]
fn a_manager_of_a_read_only_clinician_can_neither_edit_nor_export() {
    let (w, h, clinician, manager, _) = read_only_clinician();
    let hh = w.household(h);
    assert!(!check(&w.practice, hh, manager, Action::Edit).allowed);
    assert!(!check(&w.practice, hh, manager, Action::Export).allowed);
    assert_eq!(
        check(&w.practice, hh, manager, Action::View).path,
        Some(AccessPath::ManagerOf {
            professional: clinician,
            capped_by: Holding::Role(HouseholdRole::ReadOnly)
        })
    );
}

#[test]
fn an_assistant_of_a_read_only_clinician_cannot_edit_a_member() {
    let (mut w, h, _, _, assistant) = read_only_clinician();
    let member = w.household(h).members[0].member_id;
    let edit = HouseholdCommand::EditClientDetails {
        member_id: member,
        fields: [(
            hearth_domain::household::ClientField::MiddleName,
            Some("Lee".to_string()),
        )]
        .into(),
    };
    assert!(w.household_cmd(staff(assistant), h, edit).is_err());
}

#[test]
fn when_the_clinician_is_raised_to_paraplanner_the_manager_may_export_through_them() {
    let (mut w, h, clinician, manager, _) = read_only_clinician();
    w.owner_household_cmd(
        h,
        HouseholdCommand::ChangeStaffRole {
            staff_id: clinician,
            role: HouseholdRole::Paraplanner,
        },
    )
    .unwrap();
    assert_eq!(
        check(&w.practice, w.household(h), manager, Action::Export).path,
        Some(AccessPath::ManagerOf {
            professional: clinician,
            capped_by: Holding::Role(HouseholdRole::Paraplanner)
        })
    );
}
