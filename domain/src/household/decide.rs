//! Household decisions: pure, synchronous, no I/O. They need the practice's state (who is staff,
//! active, allowed) and return a [`Decision`] that may also touch the practice stream: whenever
//! the primary or secondary changes, the practice stream records it, so a concurrent
//! deactivation of that professional conflicts instead of leaving a household without a primary.

use super::{
    commands::{HouseholdCommand, NewMember},
    events::*,
    field_rules,
    fields::{ClientField, Fields},
    state::HouseholdState,
    surveys,
    sync::{create_from_xplan, link_xplan_id, sync_client},
};
use crate::{
    access::check,
    context::{Actor, CommandContext},
    decision::Decision,
    error::DomainError,
    ids::{HouseholdId, StaffId},
    permissions::Permission,
    practice::{active, require, HouseholdLeadsChanged, PracticeEvent, PracticeState},
    roles::{Action, HouseholdRole},
    validate::non_empty,
};

pub(crate) type Events = Result<Vec<HouseholdEvent>, DomainError>;

pub fn decide(
    household: &HouseholdState,
    practice: &PracticeState,
    id: HouseholdId,
    command: &HouseholdCommand,
    ctx: &CommandContext,
) -> Result<Decision, DomainError> {
    if !practice.exists() {
        return Err(DomainError::PracticeNotFound);
    }
    crate::limits::reason(ctx.reason.as_deref())?;
    let events = decide_events(household, practice, id, command, ctx)?;
    Ok(with_lead_mirror(household, id, events, ctx))
}

fn decide_events(
    h: &HouseholdState,
    p: &PracticeState,
    id: HouseholdId,
    command: &HouseholdCommand,
    ctx: &CommandContext,
) -> Events {
    use HouseholdCommand::*;
    match command {
        CreateHousehold {
            client,
            partner,
            branch,
            status,
        } => create(h, p, id, client, partner.as_ref(), *branch, *status, ctx),
        CreateHouseholdFromXplan {
            integration_id,
            member_id,
            data,
            synced_on,
        } => {
            if h.exists() {
                return Err(DomainError::HouseholdAlreadyExists);
            }
            integration_actor(p, ctx)?;
            create_from_xplan(p, id, *integration_id, *member_id, data, *synced_on, ctx)
        }
        _ => {
            if !h.exists() || h.practice != p.id {
                return Err(DomainError::HouseholdNotFound);
            }
            if h.is_erased() && !super::erasure::allowed_after_erasure(command) {
                return Err(DomainError::HouseholdErased);
            }
            decide_existing(h, p, command, ctx)
        }
    }
}

fn decide_existing(
    h: &HouseholdState,
    p: &PracticeState,
    command: &HouseholdCommand,
    ctx: &CommandContext,
) -> Events {
    use HouseholdCommand::*;
    let meta = ctx.meta();
    match command {
        CreateHousehold { .. } | CreateHouseholdFromXplan { .. } => {
            Err(DomainError::HouseholdAlreadyExists)
        }
        AssignPrimaryProfessional {
            staff_id,
            previous_keeps,
        } => {
            manage_access(h, p, ctx)?;
            can_lead(p, *staff_id)?;
            let previous = h.primary.ok_or(DomainError::HouseholdNotFound)?;
            if previous == *staff_id {
                return Err(DomainError::AlreadyPrimary(*staff_id));
            }
            Ok(vec![HouseholdEvent::PrimaryAssigned(PrimaryAssigned {
                meta,
                staff_id: *staff_id,
                previous,
                previous_keeps: *previous_keeps,
            })])
        }
        SetSecondaryProfessional { staff_id } => {
            manage_access(h, p, ctx)?;
            can_lead(p, *staff_id)?;
            if h.primary == Some(*staff_id) {
                return Err(DomainError::PrimaryCannotBeSecondary);
            }
            if h.secondary == Some(*staff_id) {
                return Err(DomainError::AlreadySecondary(*staff_id));
            }
            Ok(vec![HouseholdEvent::SecondarySet(SecondarySet {
                meta,
                staff_id: *staff_id,
                previous: h.secondary,
            })])
        }
        ClearSecondaryProfessional => {
            manage_access(h, p, ctx)?;
            let previous = h.secondary.ok_or(DomainError::NoSecondary)?;
            Ok(vec![HouseholdEvent::SecondaryCleared(SecondaryCleared {
                meta,
                previous,
            })])
        }
        GrantStaffAccess { staff_id, role } => {
            manage_access(h, p, ctx)?;
            active(p, *staff_id)?;
            if h.holding(*staff_id).is_some() {
                return Err(DomainError::AlreadyHasAccess(*staff_id));
            }
            Ok(vec![HouseholdEvent::AccessGranted(AccessGranted {
                meta,
                staff_id: *staff_id,
                role: *role,
                expires_at: None,
            })])
        }
        GrantTemporaryAccess {
            staff_id,
            role,
            expires_at,
        } => {
            manage_access(h, p, ctx)?;
            active(p, *staff_id)?;
            if h.holding(*staff_id).is_some() {
                return Err(DomainError::AlreadyHasAccess(*staff_id));
            }
            if *expires_at <= ctx.now {
                return Err(DomainError::InvalidInput(
                    "a temporary grant must end in the future".into(),
                ));
            }
            Ok(vec![HouseholdEvent::AccessGranted(AccessGranted {
                meta,
                staff_id: *staff_id,
                role: *role,
                expires_at: Some(*expires_at),
            })])
        }
        ExpireStaffAccess { staff_id } => {
            if !matches!(ctx.actor, Actor::System(_)) {
                return Err(DomainError::SystemOnly);
            }
            let expired_at = h
                .grant_expiries
                .get(staff_id)
                .copied()
                .filter(|t| *t <= ctx.now)
                .ok_or(DomainError::GrantNotExpired(*staff_id))?;
            let role = *h
                .grants
                .get(staff_id)
                .ok_or(DomainError::GrantNotExpired(*staff_id))?;
            Ok(vec![HouseholdEvent::GrantExpired(GrantExpired {
                meta,
                staff_id: *staff_id,
                role,
                expired_at,
            })])
        }
        ChangeStaffRole { staff_id, role } => {
            manage_access(h, p, ctx)?;
            active(p, *staff_id)?;
            if h.primary == Some(*staff_id) {
                return Err(DomainError::CannotRemovePrimary);
            }
            if h.secondary == Some(*staff_id) {
                // Stepping down from secondary to an ordinary role, in one decision.
                return Ok(vec![
                    HouseholdEvent::SecondaryCleared(SecondaryCleared {
                        meta: meta.clone(),
                        previous: *staff_id,
                    }),
                    HouseholdEvent::AccessGranted(AccessGranted {
                        meta,
                        staff_id: *staff_id,
                        role: *role,
                        expires_at: None,
                    }),
                ]);
            }
            let from = *h
                .grants
                .get(staff_id)
                .ok_or(DomainError::NoAccessToRemove(*staff_id))?;
            if from == *role {
                return Err(DomainError::RoleUnchanged(*staff_id));
            }
            Ok(vec![HouseholdEvent::RoleChanged(RoleChanged {
                meta,
                staff_id: *staff_id,
                from,
                to: *role,
            })])
        }
        RevokeStaffAccess { staff_id } => {
            manage_access(h, p, ctx)?;
            if h.primary == Some(*staff_id) {
                return Err(DomainError::CannotRemovePrimary);
            }
            if h.secondary == Some(*staff_id) {
                return Ok(vec![HouseholdEvent::SecondaryCleared(SecondaryCleared {
                    meta,
                    previous: *staff_id,
                })]);
            }
            let role = *h
                .grants
                .get(staff_id)
                .ok_or(DomainError::NoAccessToRemove(*staff_id))?;
            Ok(vec![HouseholdEvent::AccessRevoked(AccessRevoked {
                meta,
                staff_id: *staff_id,
                role,
            })])
        }
        ArchiveHousehold | RestoreHousehold => {
            require(p, ctx, Permission::ArchiveHouseholds)?;
            match (command, h.archived) {
                (ArchiveHousehold, true) => Err(DomainError::HouseholdArchived),
                (RestoreHousehold, false) => Err(DomainError::HouseholdNotArchived),
                (ArchiveHousehold, false) => Ok(vec![HouseholdEvent::Archived(Marked { meta })]),
                _ => Ok(vec![HouseholdEvent::Restored(Marked { meta })]),
            }
        }
        EraseHousehold { override_retention } => {
            super::erasure::erase(h, p, *override_retention, ctx)
        }
        ChangeHouseholdStatus { status } => {
            require(p, ctx, Permission::ArchiveHouseholds)?;
            if h.status == *status {
                return Err(DomainError::StatusUnchanged);
            }
            Ok(vec![HouseholdEvent::StatusChanged(StatusChanged {
                meta,
                from: h.status,
                to: *status,
            })])
        }
        AssignHouseholdBranch { branch } => {
            require(p, ctx, Permission::AssignBranches)?;
            if let Some(b) = branch {
                if !p.branches.contains_key(b) {
                    return Err(DomainError::BranchNotFound(*b));
                }
            }
            if h.branch == *branch {
                return Err(DomainError::BranchUnchanged);
            }
            Ok(vec![HouseholdEvent::BranchAssigned(BranchAssigned {
                meta,
                branch: *branch,
            })])
        }
        EditClientDetails { member_id, fields } => {
            may(h, p, ctx, Action::Edit)?;
            let member = h
                .member(*member_id)
                .ok_or(DomainError::MemberNotFound(*member_id))?;
            let mut wanted = member.fields.clone();
            for (field, value) in fields {
                match field_rules::check_optional(*field, value.as_deref())? {
                    Some(v) => wanted.insert(*field, v),
                    None => {
                        field_rules::clear(*field)?;
                        wanted.remove(field)
                    }
                };
            }
            let keys: Vec<ClientField> = fields.keys().copied().collect();
            let changes = super::fields::diff(&member.fields, &wanted, &keys);
            if changes.is_empty() {
                return Ok(vec![]);
            }
            Ok(vec![HouseholdEvent::DetailsEdited(DetailsEdited {
                meta,
                member_id: *member_id,
                changes,
            })])
        }
        LinkXplanId {
            integration_id,
            member_id,
            xplan_id,
        } => {
            integration_actor(p, ctx)?;
            link_xplan_id(h, *integration_id, *member_id, xplan_id, ctx)
        }
        SyncXplanClient {
            integration_id,
            data,
            synced_on,
        } => {
            integration_actor(p, ctx)?;
            sync_client(h, p, *integration_id, data, *synced_on, ctx)
        }
        RecordXplanFileNote {
            source_event_id,
            integration_id,
            docid,
            subject,
        } => {
            integration_actor(p, ctx)?;
            if h.file_notes.contains(source_event_id) {
                return Ok(vec![]); // exactly once: a second record of the same note is a no-op
            }
            Ok(vec![HouseholdEvent::FileNoteCreated(FileNoteCreated {
                meta,
                source_event_id: *source_event_id,
                integration_id: *integration_id,
                docid: non_empty("XPLAN docid", docid)?,
                subject: subject.clone(),
            })])
        }
        RecordXplanFileNoteSkipped {
            source_event_id,
            reason,
        } => {
            integration_actor(p, ctx)?;
            if h.file_notes.contains(source_event_id) {
                return Ok(vec![]);
            }
            Ok(vec![HouseholdEvent::FileNoteSkipped(FileNoteSkipped {
                meta,
                source_event_id: *source_event_id,
                reason: reason.clone(),
            })])
        }
        RecordXplanFileNoteFailed {
            source_event_id,
            reason,
        } => {
            integration_actor(p, ctx)?;
            let repeated = h.file_note_failures.get(source_event_id) == Some(reason);
            if h.file_notes.contains(source_event_id) || repeated {
                return Ok(vec![]);
            }
            Ok(vec![HouseholdEvent::FileNoteFailed(FileNoteSkipped {
                meta,
                source_event_id: *source_event_id,
                reason: reason.clone(),
            })])
        }
        Survey(survey) => {
            if !matches!(ctx.actor, Actor::System(_)) {
                may(h, p, ctx, survey.action())?;
            }
            surveys::decide(h, p, survey, ctx)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn create(
    h: &HouseholdState,
    p: &PracticeState,
    id: HouseholdId,
    client: &NewMember,
    partner: Option<&NewMember>,
    branch: Option<crate::ids::BranchId>,
    status: Option<HouseholdStatus>,
    ctx: &CommandContext,
) -> Events {
    if h.exists() {
        return Err(DomainError::HouseholdAlreadyExists);
    }
    let creator = require(p, ctx, Permission::AddHouseholds)?;
    let role = p
        .role_of(creator)
        .ok_or(DomainError::StaffNotFound(creator))?;
    // Seed (lumiant-manage-household-access): the creating professional becomes primary; when
    // support staff create the client, the practice's first adviser does.
    let primary = if role.can_lead_households() {
        creator
    } else {
        p.first_professional()
            .ok_or(DomainError::NoProfessionalInPractice)?
    };
    if let Some(b) = branch {
        if !p.branches.contains_key(&b) {
            return Err(DomainError::BranchNotFound(b));
        }
    }
    let mut members = vec![new_member(client, MemberKind::Client)?];
    if let Some(partner) = partner {
        if partner.member_id == client.member_id {
            return Err(DomainError::InvalidInput(
                "the partner needs a member id of their own".into(),
            ));
        }
        members.push(new_member(partner, MemberKind::Partner)?);
    }
    Ok(vec![HouseholdEvent::Created(HouseholdCreated {
        meta: ctx.meta(),
        household_id: id,
        practice_id: p.id.ok_or(DomainError::PracticeNotFound)?,
        name: household_name(&members[0].fields),
        members,
        primary,
        branch,
        status: status.unwrap_or_default(),
    })])
}

fn new_member(m: &NewMember, kind: MemberKind) -> Result<Member, DomainError> {
    let mut fields = Fields::new();
    for (field, value) in [
        (ClientField::FirstName, Some(m.first_name.as_str())),
        (ClientField::LastName, Some(m.last_name.as_str())),
        (ClientField::Email, m.email.as_deref()),
        (ClientField::Title, m.title.as_deref()),
    ] {
        match field_rules::check_optional(field, value)? {
            Some(v) => {
                fields.insert(field, v);
            }
            None => field_rules::clear(field)?,
        }
    }
    Ok(Member {
        member_id: m.member_id,
        kind,
        fields,
        xplan: None,
    })
}

pub(crate) fn household_name(fields: &Fields) -> String {
    let part = |f| fields.get(&f).map(String::as_str).unwrap_or("");
    format!(
        "{} {}",
        part(ClientField::FirstName),
        part(ClientField::LastName)
    )
    .trim()
    .to_string()
}

fn manage_access(
    h: &HouseholdState,
    p: &PracticeState,
    ctx: &CommandContext,
) -> Result<(), DomainError> {
    require(p, ctx, Permission::ManageHouseholdAccess)?;
    if h.archived {
        return Err(DomainError::HouseholdArchived);
    }
    Ok(())
}

fn can_lead(p: &PracticeState, staff: StaffId) -> Result<(), DomainError> {
    let m = active(p, staff)?;
    if !m.role.can_lead_households() {
        return Err(DomainError::SupportCannotLead(staff));
    }
    Ok(())
}

/// The acting staff member must be allowed `action` on this household by the access rule.
fn may(
    h: &HouseholdState,
    p: &PracticeState,
    ctx: &CommandContext,
    action: Action,
) -> Result<(), DomainError> {
    let staff = ctx
        .actor
        .staff()
        .ok_or(DomainError::NotPermitted(Permission::ManageHouseholdAccess))?;
    if check(p, h, staff, action).allowed {
        Ok(())
    } else {
        Err(DomainError::NotPermitted(Permission::ManageHouseholdAccess))
    }
}

/// XPLAN work is done by the sync worker, or by staff who manage integrations.
fn integration_actor(p: &PracticeState, ctx: &CommandContext) -> Result<(), DomainError> {
    match &ctx.actor {
        Actor::System(_) => Ok(()),
        _ => require(p, ctx, Permission::ManageIntegrations).map(|_| ()),
    }
}

/// Adds the practice-stream mirror of a primary/secondary change.
pub(crate) fn with_lead_mirror(
    before: &HouseholdState,
    id: HouseholdId,
    events: Vec<HouseholdEvent>,
    ctx: &CommandContext,
) -> Decision {
    let mut after = before.clone();
    for e in &events {
        after.apply(e);
    }
    let mut practice = Vec::new();
    if let Some(primary) = after.primary {
        if (after.primary, after.secondary) != (before.primary, before.secondary) {
            practice.push(PracticeEvent::HouseholdLeadsChanged(
                HouseholdLeadsChanged {
                    meta: ctx.meta(),
                    household_id: id,
                    primary,
                    secondary: after.secondary,
                },
            ));
        }
    }
    let households = if events.is_empty() {
        vec![]
    } else {
        vec![(id, events)]
    };
    Decision {
        practice,
        households,
    }
}

/// Allowed household roles for the bulk reassignment's "previous keeps" default.
pub const DEFAULT_PREVIOUS_ROLE: HouseholdRole = HouseholdRole::Professional;
