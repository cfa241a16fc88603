//! Given/when/then for every practice command and each rule it enforces.

mod support;

use hearth_domain::{
    permissions::Permission,
    practice::{self, NewStaff, PracticeCommand, PracticeEvent, PracticeState, StaffStatus},
    roles::PracticeRole,
    Actor, BranchId, DomainError, PracticeId, StaffId,
};
use support::{create_practice, ctx, staff, World};

/// The operator's command creating another practice, with an owner of its own.
fn another_practice(practice_id: PracticeId, licences: u32) -> PracticeCommand {
    let owner = NewStaff {
        staff_id: StaffId::new(),
        name: "O".into(),
        email: "o@example.com".into(),
    };
    create_practice(practice_id, owner, licences)
}

#[test]
fn the_operator_creates_a_practice_whose_owner_is_active() {
    let w = World::new(3);
    assert!(w.practice.is_active(w.owner));
    assert_eq!(w.practice.role_of(w.owner), Some(PracticeRole::Owner));
    assert_eq!(w.practice.licences_held, 3);
    assert_eq!(
        w.practice.licences_used(),
        1,
        "the owner occupies a licence"
    );
}

#[test]
fn only_the_operator_can_create_a_practice() {
    let cmd = another_practice(PracticeId::new(), 1);
    assert_eq!(
        practice::decide(
            &PracticeState::default(),
            &cmd,
            &ctx(Actor::Staff(StaffId::new()))
        ),
        Err(DomainError::OperatorOnly)
    );
}

#[test]
fn a_practice_cannot_be_created_twice_or_without_licences() {
    let w = World::new(1);
    let again = another_practice(w.practice_id, 1);
    assert_eq!(
        practice::decide(&w.practice, &again, &ctx(Actor::Operator)),
        Err(DomainError::PracticeAlreadyExists)
    );
    let none = another_practice(PracticeId::new(), 0);
    assert_eq!(
        practice::decide(&PracticeState::default(), &none, &ctx(Actor::Operator)),
        Err(DomainError::InvalidLicenceCount)
    );
}

#[test]
fn commands_on_a_practice_that_does_not_exist_are_refused() {
    let cmd = PracticeCommand::PurchaseLicences { count: 1 };
    assert_eq!(
        practice::decide(&PracticeState::default(), &cmd, &ctx(staff(StaffId::new()))),
        Err(DomainError::PracticeNotFound)
    );
}

#[test]
fn inviting_a_professional_beyond_the_licences_held_is_refused() {
    let mut w = World::new(2);
    let (_, first) = w.invitation(PracticeRole::Professional);
    w.owner_cmd(first).unwrap();
    let (_, second) = w.invitation(PracticeRole::Professional);
    assert_eq!(
        w.owner_cmd(second),
        Err(DomainError::LicencesExhausted { held: 2 })
    );
}

#[test]
fn support_staff_take_no_licence() {
    let mut w = World::new(1);
    let (_, cmd) = w.invitation(PracticeRole::Support);
    w.owner_cmd(cmd).unwrap();
    assert_eq!(w.practice.licences_used(), 1);
}

#[test]
fn inviting_needs_the_invite_staff_permission() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    let (_, cmd) = w.invitation(PracticeRole::Support);
    assert_eq!(
        w.practice_cmd(pro, cmd),
        Err(DomainError::NotPermitted(Permission::InviteStaff))
    );
}

#[test]
fn an_email_already_in_use_cannot_be_invited_again() {
    let mut w = World::new(5);
    let cmd = PracticeCommand::InviteStaff {
        staff: NewStaff {
            staff_id: StaffId::new(),
            name: "Dup".into(),
            email: "OLIVE@example.com".into(),
        },
        role: PracticeRole::Professional,
        branch: None,
    };
    assert_eq!(
        w.owner_cmd(cmd),
        Err(DomainError::EmailAlreadyInUse("olive@example.com".into()))
    );
}

#[test]
fn nobody_is_invited_as_owner() {
    let mut w = World::new(5);
    let (_, cmd) = w.invitation(PracticeRole::Owner);
    assert_eq!(w.owner_cmd(cmd), Err(DomainError::OwnerRoleViaTransferOnly));
}

#[test]
fn an_invited_member_activates_once() {
    let mut w = World::new(5);
    let (id, cmd) = w.invitation(PracticeRole::Professional);
    w.owner_cmd(cmd).unwrap();
    assert_eq!(w.practice.member(id).unwrap().status, StaffStatus::Invited);
    let events = w
        .practice_cmd(id, PracticeCommand::ActivateStaff { staff_id: id })
        .unwrap();
    assert!(matches!(&events[..], [PracticeEvent::StaffActivated(e)] if e.staff_id == id));
    assert_eq!(
        w.practice_cmd(id, PracticeCommand::ActivateStaff { staff_id: id }),
        Err(DomainError::NotInvited(id))
    );
}

#[test]
fn a_primary_professional_cannot_be_deactivated_until_reassigned() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    w.household_by(pro);
    assert_eq!(
        w.owner_cmd(PracticeCommand::DeactivateStaff { staff_id: pro }),
        Err(DomainError::StillLeadsHouseholds {
            staff: pro,
            households: 1
        })
    );
}

#[test]
fn deactivating_a_member_frees_their_licence() {
    let mut w = World::new(2);
    let pro = w.active_staff(PracticeRole::Professional);
    assert_eq!(w.practice.licences_used(), 2);
    w.deactivate(pro);
    assert_eq!(w.practice.licences_used(), 1);
    assert!(!w.practice.is_active(pro));
}

#[test]
fn the_owner_cannot_be_deactivated_nor_change_role() {
    let mut w = World::new(2);
    let admin = w.active_staff(PracticeRole::SuperAdmin);
    assert_eq!(
        w.practice_cmd(
            admin,
            PracticeCommand::DeactivateStaff { staff_id: w.owner }
        ),
        Err(DomainError::OwnerIsFixed)
    );
    assert_eq!(
        w.practice_cmd(
            admin,
            PracticeCommand::ChangePracticeRole {
                staff_id: w.owner,
                role: PracticeRole::Manager
            }
        ),
        Err(DomainError::OwnerIsFixed)
    );
}

#[test]
fn a_role_changes_in_place_and_needs_a_licence_when_it_takes_a_seat() {
    let mut w = World::new(1);
    let assistant = w.active_staff(PracticeRole::Support);
    assert_eq!(
        w.owner_cmd(PracticeCommand::ChangePracticeRole {
            staff_id: assistant,
            role: PracticeRole::Professional
        }),
        Err(DomainError::LicencesExhausted { held: 1 })
    );
    w.owner_cmd(PracticeCommand::PurchaseLicences { count: 1 })
        .unwrap();
    let events = w
        .practice_cmd(
            w.owner,
            PracticeCommand::ChangePracticeRole {
                staff_id: assistant,
                role: PracticeRole::Professional,
            },
        )
        .unwrap();
    assert!(
        matches!(&events[..], [PracticeEvent::StaffRoleChanged(e)] if e.from == PracticeRole::Support && e.to == PracticeRole::Professional)
    );
    assert_eq!(
        w.owner_cmd(PracticeCommand::ChangePracticeRole {
            staff_id: assistant,
            role: PracticeRole::Professional
        }),
        Err(DomainError::RoleUnchanged(assistant))
    );
    assert_eq!(
        w.owner_cmd(PracticeCommand::ChangePracticeRole {
            staff_id: assistant,
            role: PracticeRole::Owner
        }),
        Err(DomainError::OwnerRoleViaTransferOnly)
    );
}

#[test]
fn a_professional_who_leads_households_cannot_become_support() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    w.household_by(pro);
    assert!(matches!(
        w.owner_cmd(PracticeCommand::ChangePracticeRole {
            staff_id: pro,
            role: PracticeRole::Support
        }),
        Err(DomainError::StillLeadsHouseholds { .. })
    ));
}

#[test]
fn the_owner_sets_permissions_but_never_grants_billing() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    assert!(!w.practice.has_permission(pro, Permission::ExportRoster));
    w.owner_cmd(PracticeCommand::SetPermission {
        staff_id: pro,
        permission: Permission::ExportRoster,
        granted: true,
    })
    .unwrap();
    assert!(w.practice.has_permission(pro, Permission::ExportRoster));
    assert_eq!(
        w.owner_cmd(PracticeCommand::SetPermission {
            staff_id: pro,
            permission: Permission::ViewBilling,
            granted: true
        }),
        Err(DomainError::BillingIsOwnersAlone)
    );
    assert_eq!(
        w.owner_cmd(PracticeCommand::SetPermission {
            staff_id: w.owner,
            permission: Permission::ExportRoster,
            granted: false
        }),
        Err(DomainError::OwnerPermissionsFixed)
    );
}

#[test]
fn a_super_admin_sets_permissions_only_when_the_owner_delegates_it() {
    let mut w = World::new(5);
    let admin = w.active_staff(PracticeRole::SuperAdmin);
    let pro = w.active_staff(PracticeRole::Professional);
    let cmd = PracticeCommand::SetPermission {
        staff_id: pro,
        permission: Permission::ExportRoster,
        granted: true,
    };
    assert_eq!(
        w.practice_cmd(admin, cmd.clone()),
        Err(DomainError::NotPermitted(Permission::ManagePermissions))
    );
    w.owner_cmd(PracticeCommand::SetPermission {
        staff_id: admin,
        permission: Permission::ManagePermissions,
        granted: true,
    })
    .unwrap();
    w.practice_cmd(admin, cmd).unwrap();
    assert!(
        !w.practice.has_permission(admin, Permission::ViewBilling),
        "a super admin never sees billing"
    );
}

#[test]
fn only_the_owner_buys_licences() {
    let mut w = World::new(5);
    let admin = w.active_staff(PracticeRole::SuperAdmin);
    assert_eq!(
        w.practice_cmd(admin, PracticeCommand::PurchaseLicences { count: 2 }),
        Err(DomainError::OwnerOnly("buy licences"))
    );
    assert_eq!(
        w.owner_cmd(PracticeCommand::PurchaseLicences { count: 0 }),
        Err(DomainError::InvalidLicenceCount)
    );
    assert_eq!(
        w.owner_cmd(PracticeCommand::PurchaseLicences {
            count: hearth_domain::limits::LICENCES_MAX + 1
        }),
        Err(DomainError::InvalidLicenceCount),
        "an order over the documented limit is a typo, refused"
    );
    w.owner_cmd(PracticeCommand::PurchaseLicences { count: 2 })
        .unwrap();
    assert_eq!(w.practice.licences_held, 7);
}

#[test]
fn branches_have_unique_names() {
    let mut w = World::new(5);
    w.owner_cmd(PracticeCommand::CreateBranch {
        branch_id: BranchId::new(),
        name: "North".into(),
    })
    .unwrap();
    assert_eq!(
        w.owner_cmd(PracticeCommand::CreateBranch {
            branch_id: BranchId::new(),
            name: "north".into()
        }),
        Err(DomainError::BranchAlreadyExists)
    );
}

#[test]
fn support_staff_are_assigned_to_professionals_and_only_support_staff() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    let assistant = w.active_staff(PracticeRole::Support);
    w.owner_cmd(PracticeCommand::AssignSupportToProfessional {
        support: assistant,
        professional: pro,
    })
    .unwrap();
    assert_eq!(
        w.practice.assistants_of(pro).collect::<Vec<_>>(),
        vec![assistant]
    );
    assert_eq!(
        w.owner_cmd(PracticeCommand::AssignSupportToProfessional {
            support: assistant,
            professional: pro
        }),
        Err(DomainError::AlreadyAssigned)
    );
    assert_eq!(
        w.owner_cmd(PracticeCommand::AssignSupportToProfessional {
            support: pro,
            professional: pro
        }),
        Err(DomainError::NotSupportStaff(pro))
    );
    w.owner_cmd(PracticeCommand::UnassignSupportFromProfessional {
        support: assistant,
        professional: pro,
    })
    .unwrap();
    assert_eq!(
        w.owner_cmd(PracticeCommand::UnassignSupportFromProfessional {
            support: assistant,
            professional: pro
        }),
        Err(DomainError::NotAssigned)
    );
}

#[test]
fn managers_are_assigned_to_professionals_and_only_managers() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    let manager = w.active_staff(PracticeRole::Manager);
    w.owner_cmd(PracticeCommand::AssignManagerToProfessional {
        manager,
        professional: pro,
    })
    .unwrap();
    assert_eq!(
        w.practice
            .managed_professionals(manager)
            .collect::<Vec<_>>(),
        vec![pro]
    );
    assert_eq!(
        w.owner_cmd(PracticeCommand::AssignManagerToProfessional {
            manager: pro,
            professional: manager
        }),
        Err(DomainError::NotAManager(pro))
    );
}

#[test]
fn ownership_is_transferred_by_the_owner_alone() {
    let mut w = World::new(5);
    let admin = w.active_staff(PracticeRole::SuperAdmin);
    let pro = w.active_staff(PracticeRole::Professional);
    assert_eq!(
        w.practice_cmd(admin, PracticeCommand::TransferOwnership { to: admin }),
        Err(DomainError::OwnerOnly("transfer ownership"))
    );
    let old = w.owner;
    w.practice_cmd(old, PracticeCommand::TransferOwnership { to: pro })
        .unwrap();
    assert_eq!(w.practice.owner, Some(pro));
    assert_eq!(w.practice.role_of(old), Some(PracticeRole::SuperAdmin));
    assert!(!w.practice.has_permission(old, Permission::ViewBilling));
    assert!(w.practice.has_permission(pro, Permission::ViewBilling));
}

#[test]
fn a_deactivated_member_cannot_reactivate_themselves() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    w.deactivate(pro);
    assert_eq!(
        w.practice_cmd(pro, PracticeCommand::ActivateStaff { staff_id: pro }),
        Err(DomainError::ActorNotActive)
    );
    // Nor act in any other way, whatever the read model had seen when the request was let in.
    assert_eq!(
        w.practice_cmd(pro, PracticeCommand::DeactivateStaff { staff_id: w.owner }),
        Err(DomainError::ActorNotActive)
    );
    assert_eq!(
        w.practice.member(pro).unwrap().status,
        StaffStatus::Deactivated
    );
}

#[test]
fn a_deactivated_member_is_reactivated_by_someone_who_manages_staff() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    w.deactivate(pro);
    let events = w
        .practice_cmd(w.owner, PracticeCommand::ActivateStaff { staff_id: pro })
        .unwrap();
    assert!(matches!(&events[..], [PracticeEvent::StaffActivated(e)] if e.staff_id == pro));
}
