//! Given/when/then for moving staff between branches and changing the practice's details
//! (Luminello: Owner > Account, Staff > branch).

mod support;

use hearth_domain::{
    practice::{PracticeCommand, PracticeEvent},
    roles::PracticeRole,
    BranchId, DomainError,
};
use support::World;

fn branch(w: &mut World, name: &str) -> BranchId {
    let id = BranchId::new();
    w.owner_cmd(PracticeCommand::CreateBranch {
        branch_id: id,
        name: name.into(),
    })
    .unwrap();
    id
}

#[test]
fn an_existing_clinician_moves_to_a_branch_and_back_out() {
    let mut w = World::new(5);
    let north = branch(&mut w, "North");
    let south = branch(&mut w, "South");
    let clinician = w.active_staff(PracticeRole::Professional);
    let e = w
        .practice_cmd(
            w.owner,
            PracticeCommand::MoveStaffToBranch {
                staff_id: clinician,
                branch: Some(north),
            },
        )
        .unwrap();
    assert!(
        matches!(&e[..], [PracticeEvent::StaffMovedToBranch(m)] if m.from.is_none() && m.to == Some(north))
    );
    w.owner_cmd(PracticeCommand::MoveStaffToBranch {
        staff_id: clinician,
        branch: Some(south),
    })
    .unwrap();
    assert_eq!(w.practice.member(clinician).unwrap().branch, Some(south));
    w.owner_cmd(PracticeCommand::MoveStaffToBranch {
        staff_id: clinician,
        branch: None,
    })
    .unwrap();
    assert_eq!(w.practice.member(clinician).unwrap().branch, None);
}

#[test]
fn moving_staff_needs_the_assign_branches_permission() {
    let mut w = World::new(5);
    let north = branch(&mut w, "North");
    let clinician = w.active_staff(PracticeRole::Professional);
    let other = w.active_staff(PracticeRole::Professional);
    assert!(matches!(
        w.practice_cmd(
            other,
            PracticeCommand::MoveStaffToBranch {
                staff_id: clinician,
                branch: Some(north)
            }
        ),
        Err(DomainError::NotPermitted(_))
    ));
    let pm = w.active_staff(PracticeRole::PracticeManager);
    assert!(w
        .practice_cmd(
            pm,
            PracticeCommand::MoveStaffToBranch {
                staff_id: clinician,
                branch: Some(north)
            }
        )
        .is_ok());
}

#[test]
fn staff_move_only_to_a_branch_that_exists_and_not_to_the_one_they_are_in() {
    let mut w = World::new(5);
    let north = branch(&mut w, "North");
    let clinician = w.active_staff(PracticeRole::Professional);
    let nowhere = BranchId::new();
    assert_eq!(
        w.owner_cmd(PracticeCommand::MoveStaffToBranch {
            staff_id: clinician,
            branch: Some(nowhere)
        }),
        Err(DomainError::BranchNotFound(nowhere))
    );
    w.owner_cmd(PracticeCommand::MoveStaffToBranch {
        staff_id: clinician,
        branch: Some(north),
    })
    .unwrap();
    assert_eq!(
        w.owner_cmd(PracticeCommand::MoveStaffToBranch {
            staff_id: clinician,
            branch: Some(north)
        }),
        Err(DomainError::StaffAlreadyInBranch(clinician))
    );
}

#[test]
fn an_unknown_or_deactivated_staff_member_is_not_moved() {
    let mut w = World::new(5);
    let north = branch(&mut w, "North");
    let stranger = hearth_domain::StaffId::new();
    assert_eq!(
        w.owner_cmd(PracticeCommand::MoveStaffToBranch {
            staff_id: stranger,
            branch: Some(north)
        }),
        Err(DomainError::StaffNotFound(stranger))
    );
    let leaver = w.active_staff(PracticeRole::Professional);
    w.deactivate(leaver);
    assert_eq!(
        w.owner_cmd(PracticeCommand::MoveStaffToBranch {
            staff_id: leaver,
            branch: Some(north)
        }),
        Err(DomainError::StaffNotActive(leaver))
    );
}

#[test]
fn only_the_owner_renames_the_practice_and_the_same_name_changes_nothing() {
    let mut w = World::new(5);
    let pm = w.active_staff(PracticeRole::PracticeManager);
    assert!(matches!(
        w.practice_cmd(
            pm,
            PracticeCommand::RenamePractice {
                name: "Elsewhere".into()
            }
        ),
        Err(DomainError::OwnerOnly(_))
    ));
    let e = w
        .practice_cmd(
            w.owner,
            PracticeCommand::RenamePractice {
                name: "Hearth Wealth".into(),
            },
        )
        .unwrap();
    assert!(
        matches!(&e[..], [PracticeEvent::Renamed(r)] if r.from == "Hearth Advice" && r.to == "Hearth Wealth")
    );
    assert_eq!(w.practice.name, "Hearth Wealth");
    assert!(w
        .practice_cmd(
            w.owner,
            PracticeCommand::RenamePractice {
                name: "Hearth Wealth".into()
            }
        )
        .unwrap()
        .is_empty());
    assert!(matches!(
        w.owner_cmd(PracticeCommand::RenamePractice { name: "  ".into() }),
        Err(DomainError::InvalidInput(_))
    ));
}
