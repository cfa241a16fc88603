//! Practice decisions: pure, synchronous, no I/O. Given the state and a command, the events that
//! follow or the rule that forbids it.

use super::{
    commands::{NewStaff, PracticeCommand},
    events::*,
    state::{PracticeState, StaffStatus},
};
use crate::{
    context::{Actor, CommandContext},
    error::DomainError,
    ids::StaffId,
    permissions::Permission,
    roles::PracticeRole,
    validate::{email, non_empty},
};

type Decided = Result<Vec<PracticeEvent>, DomainError>;

pub fn decide(state: &PracticeState, command: &PracticeCommand, ctx: &CommandContext) -> Decided {
    use PracticeCommand::*;
    crate::limits::reason(ctx.reason.as_deref())?;
    if let CreatePractice {
        practice_id,
        name,
        owner,
        licences,
    } = command
    {
        if ctx.actor != Actor::Operator {
            return Err(DomainError::OperatorOnly);
        }
        if state.exists() {
            return Err(DomainError::PracticeAlreadyExists);
        }
        if *licences == 0 || *licences > crate::limits::LICENCES_MAX {
            return Err(DomainError::InvalidLicenceCount);
        }
        return Ok(vec![PracticeEvent::Created(PracticeCreated {
            meta: ctx.meta(),
            practice_id: *practice_id,
            name: non_empty("practice name", name)?,
            owner: profile(owner)?,
            licences: *licences,
        })]);
    }
    if !state.exists() {
        return Err(DomainError::PracticeNotFound);
    }
    let meta = ctx.meta();
    match command {
        CreatePractice { .. } => unreachable!("handled above"),
        InviteStaff {
            staff,
            role,
            branch,
        } => {
            require(state, ctx, Permission::InviteStaff)?;
            if state.member(staff.staff_id).is_some() {
                return Err(DomainError::StaffAlreadyExists(staff.staff_id));
            }
            let profile = profile(staff)?;
            if state
                .staff_by_email(&profile.email)
                .is_some_and(|m| m.status != StaffStatus::Deactivated)
            {
                return Err(DomainError::EmailAlreadyInUse(profile.email));
            }
            if *role == PracticeRole::Owner {
                return Err(DomainError::OwnerRoleViaTransferOnly);
            }
            if let Some(b) = branch {
                if !state.branches.contains_key(b) {
                    return Err(DomainError::BranchNotFound(*b));
                }
            }
            if role.consumes_licence() && state.licences_used() >= state.licences_held {
                return Err(DomainError::LicencesExhausted {
                    held: state.licences_held,
                });
            }
            Ok(vec![PracticeEvent::StaffInvited(StaffInvited {
                meta,
                profile,
                role: *role,
                branch: *branch,
            })])
        }
        ActivateStaff { staff_id } => {
            let m = state
                .member(*staff_id)
                .ok_or(DomainError::StaffNotFound(*staff_id))?;
            // Accepting one's own invitation is the only self-service activation: a member who
            // was deactivated comes back only through someone who manages staff, or an old
            // token would undo the deactivation.
            let own_account_never_deactivated =
                ctx.actor.staff() == Some(*staff_id) && m.status != StaffStatus::Deactivated;
            if !own_account_never_deactivated {
                require(state, ctx, Permission::ManageStaff)?;
            }
            match m.status {
                StaffStatus::Invited => {}
                StaffStatus::Active => return Err(DomainError::NotInvited(*staff_id)),
                // Coming back takes a licence again.
                StaffStatus::Deactivated => {
                    if m.role.consumes_licence() && state.licences_used() >= state.licences_held {
                        return Err(DomainError::LicencesExhausted {
                            held: state.licences_held,
                        });
                    }
                }
            }
            Ok(vec![PracticeEvent::StaffActivated(StaffChanged {
                meta,
                staff_id: *staff_id,
            })])
        }
        DeactivateStaff { staff_id } => {
            require(state, ctx, Permission::ManageStaff)?;
            let m = state
                .member(*staff_id)
                .ok_or(DomainError::StaffNotFound(*staff_id))?;
            if m.role == PracticeRole::Owner {
                return Err(DomainError::OwnerIsFixed);
            }
            if m.status == StaffStatus::Deactivated {
                return Err(DomainError::StaffNotActive(*staff_id));
            }
            let led = state.households_led_by(*staff_id).len();
            if led > 0 {
                return Err(DomainError::StillLeadsHouseholds {
                    staff: *staff_id,
                    households: led,
                });
            }
            Ok(vec![PracticeEvent::StaffDeactivated(StaffChanged {
                meta,
                staff_id: *staff_id,
            })])
        }
        ChangePracticeRole { staff_id, role } => {
            require(state, ctx, Permission::ManageStaff)?;
            let m = state
                .member(*staff_id)
                .ok_or(DomainError::StaffNotFound(*staff_id))?;
            if m.role == PracticeRole::Owner {
                return Err(DomainError::OwnerIsFixed);
            }
            if *role == PracticeRole::Owner {
                return Err(DomainError::OwnerRoleViaTransferOnly);
            }
            if m.role == *role {
                return Err(DomainError::RoleUnchanged(*staff_id));
            }
            if !role.can_lead_households() && !state.households_led_by(*staff_id).is_empty() {
                return Err(DomainError::StillLeadsHouseholds {
                    staff: *staff_id,
                    households: state.households_led_by(*staff_id).len(),
                });
            }
            let needs_seat = role.consumes_licence()
                && !m.role.consumes_licence()
                && m.status != StaffStatus::Deactivated;
            if needs_seat && state.licences_used() >= state.licences_held {
                return Err(DomainError::LicencesExhausted {
                    held: state.licences_held,
                });
            }
            Ok(vec![PracticeEvent::StaffRoleChanged(StaffRoleChanged {
                meta,
                staff_id: *staff_id,
                from: m.role,
                to: *role,
            })])
        }
        SetPermission {
            staff_id,
            permission,
            granted,
        } => {
            require(state, ctx, Permission::ManagePermissions)?;
            let m = state
                .member(*staff_id)
                .ok_or(DomainError::StaffNotFound(*staff_id))?;
            if m.role == PracticeRole::Owner {
                return Err(DomainError::OwnerPermissionsFixed);
            }
            if permission.is_billing() && *granted {
                return Err(DomainError::BillingIsOwnersAlone);
            }
            Ok(vec![PracticeEvent::PermissionSet(PermissionSet {
                meta,
                staff_id: *staff_id,
                permission: *permission,
                granted: *granted,
            })])
        }
        PurchaseLicences { count } => {
            owner_only(state, ctx, "buy licences")?;
            if *count == 0 || *count > crate::limits::LICENCES_MAX {
                return Err(DomainError::InvalidLicenceCount);
            }
            Ok(vec![PracticeEvent::LicencesPurchased(LicencesPurchased {
                meta,
                count: *count,
                total: state.licences_held.saturating_add(*count),
            })])
        }
        MoveStaffToBranch { staff_id, branch } => {
            require(state, ctx, Permission::AssignBranches)?;
            let m = state
                .member(*staff_id)
                .ok_or(DomainError::StaffNotFound(*staff_id))?;
            if m.status == StaffStatus::Deactivated {
                return Err(DomainError::StaffNotActive(*staff_id));
            }
            if let Some(b) = branch {
                if !state.branches.contains_key(b) {
                    return Err(DomainError::BranchNotFound(*b));
                }
            }
            if m.branch == *branch {
                return Err(DomainError::StaffAlreadyInBranch(*staff_id));
            }
            Ok(vec![PracticeEvent::StaffMovedToBranch(
                StaffMovedToBranch {
                    meta,
                    staff_id: *staff_id,
                    from: m.branch,
                    to: *branch,
                },
            )])
        }
        RenamePractice { name } => {
            owner_only(state, ctx, "change the practice's details")?;
            let name = non_empty("practice name", name)?;
            if name == state.name {
                return Ok(vec![]);
            }
            Ok(vec![PracticeEvent::Renamed(PracticeRenamed {
                meta,
                from: state.name.clone(),
                to: name,
            })])
        }
        SetRetentionPolicy {
            years_after_archive,
            auto_erase,
        } => {
            require(state, ctx, Permission::ManageRetention)?;
            if !(1..=RetentionPolicy::MAX_YEARS).contains(years_after_archive) {
                return Err(DomainError::InvalidInput(format!(
                    "the retention period must be 1 to {} years",
                    RetentionPolicy::MAX_YEARS
                )));
            }
            let policy = RetentionPolicy {
                years_after_archive: *years_after_archive,
                auto_erase: *auto_erase,
            };
            if policy == state.retention {
                return Ok(vec![]);
            }
            Ok(vec![PracticeEvent::RetentionPolicySet(
                RetentionPolicySet { meta, policy },
            )])
        }
        CreateBranch { branch_id, name } => {
            require(state, ctx, Permission::ManageBranches)?;
            let name = non_empty("branch name", name)?;
            if state.branches.contains_key(branch_id)
                || state
                    .branches
                    .values()
                    .any(|n| n.eq_ignore_ascii_case(&name))
            {
                return Err(DomainError::BranchAlreadyExists);
            }
            Ok(vec![PracticeEvent::BranchCreated(BranchCreated {
                meta,
                branch_id: *branch_id,
                name,
            })])
        }
        AssignSupportToProfessional {
            support,
            professional,
        }
        | UnassignSupportFromProfessional {
            support,
            professional,
        } => {
            require(state, ctx, Permission::ManageStaff)?;
            let s = active(state, *support)?;
            if s.role != PracticeRole::Support {
                return Err(DomainError::NotSupportStaff(*support));
            }
            let assign = matches!(command, AssignSupportToProfessional { .. });
            link(
                state,
                *support,
                *professional,
                s.assists.contains(professional),
                assign,
                meta,
                PracticeEvent::SupportAssigned,
                PracticeEvent::SupportUnassigned,
            )
        }
        AssignManagerToProfessional {
            manager,
            professional,
        }
        | UnassignManagerFromProfessional {
            manager,
            professional,
        } => {
            require(state, ctx, Permission::ManageStaff)?;
            let m = active(state, *manager)?;
            if m.role != PracticeRole::Manager {
                return Err(DomainError::NotAManager(*manager));
            }
            let assign = matches!(command, AssignManagerToProfessional { .. });
            link(
                state,
                *manager,
                *professional,
                m.manages.contains(professional),
                assign,
                meta,
                PracticeEvent::ManagerAssigned,
                PracticeEvent::ManagerUnassigned,
            )
        }
        TransferOwnership { to } => {
            owner_only(state, ctx, "transfer ownership")?;
            let from = state.owner.ok_or(DomainError::PracticeNotFound)?;
            if *to == from {
                return Err(DomainError::AlreadyOwner);
            }
            let target = active(state, *to)?;
            if !target.role.can_lead_households() {
                return Err(DomainError::SupportCannotLead(*to));
            }
            Ok(vec![PracticeEvent::OwnershipTransferred(
                OwnershipTransferred {
                    meta,
                    from,
                    to: *to,
                    previous_owner_becomes: PracticeRole::SuperAdmin,
                },
            )])
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn link(
    state: &PracticeState,
    staff: StaffId,
    professional: StaffId,
    exists: bool,
    assign: bool,
    meta: crate::context::EventMeta,
    on: fn(Assignment) -> PracticeEvent,
    off: fn(Assignment) -> PracticeEvent,
) -> Decided {
    let p = state
        .member(professional)
        .ok_or(DomainError::StaffNotFound(professional))?;
    if assign && (!p.role.can_lead_households() || professional == staff) {
        return Err(DomainError::SupportCannotLead(professional));
    }
    match (assign, exists) {
        (true, true) => Err(DomainError::AlreadyAssigned),
        (false, false) => Err(DomainError::NotAssigned),
        (true, false) => Ok(vec![on(Assignment {
            meta,
            staff_id: staff,
            professional,
        })]),
        (false, true) => Ok(vec![off(Assignment {
            meta,
            staff_id: staff,
            professional,
        })]),
    }
}

/// The acting staff member must be active in this practice and hold the permission.
pub(crate) fn require(
    state: &PracticeState,
    ctx: &CommandContext,
    permission: Permission,
) -> Result<StaffId, DomainError> {
    let staff = ctx
        .actor
        .staff()
        .ok_or(DomainError::NotPermitted(permission))?;
    // Decided from the log, so a token used in the moment before the read model saw the
    // deactivation gets the same answer the API's own check gives.
    if state
        .member(staff)
        .is_some_and(|m| m.status != StaffStatus::Active)
    {
        return Err(DomainError::ActorNotActive);
    }
    if !state.has_permission(staff, permission) {
        return Err(DomainError::NotPermitted(permission));
    }
    Ok(staff)
}

fn owner_only(
    state: &PracticeState,
    ctx: &CommandContext,
    what: &'static str,
) -> Result<(), DomainError> {
    match ctx.actor.staff() {
        Some(s) if state.owner == Some(s) && state.is_active(s) => Ok(()),
        _ => Err(DomainError::OwnerOnly(what)),
    }
}

pub(crate) fn active(
    state: &PracticeState,
    staff: StaffId,
) -> Result<&super::state::StaffMember, DomainError> {
    let m = state
        .member(staff)
        .ok_or(DomainError::StaffNotFound(staff))?;
    if m.status != StaffStatus::Active {
        return Err(DomainError::StaffNotActive(staff));
    }
    Ok(m)
}

fn profile(s: &NewStaff) -> Result<StaffProfile, DomainError> {
    Ok(StaffProfile {
        staff_id: s.staff_id,
        name: non_empty("name", &s.name)?,
        email: email(&s.email)?,
    })
}
