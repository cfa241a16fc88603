//! XPLAN → Hearth: creating, linking and updating households from XPLAN clients. XPLAN is master
//! of the synced fields; a sync that finds nothing different decides nothing.
//!
//! Adviser rule: when XPLAN's adviser email *changes* and names an active staff member who can
//! lead households, that member becomes primary (the previous primary keeps professional access).
//! When the email matches nobody, the primary stays and only the adviser fields change. A primary
//! reassigned in Hearth is not undone by later syncs while XPLAN's adviser stays the same.

use chrono::NaiveDate;

use super::{
    decide::{household_name, Events},
    events::*,
    fields::{diff, ClientField},
    state::HouseholdState,
    xplan::{normalise, policies, XplanClientData},
};
use crate::{
    context::CommandContext,
    error::DomainError,
    ids::{HouseholdId, IntegrationId, MemberId, StaffId},
    practice::PracticeState,
    roles::HouseholdRole,
};

fn xplan_id(data: &XplanClientData) -> Result<String, DomainError> {
    let id = checked_xplan_id(&data.xplan_id)?;
    if id.is_empty() {
        return Err(DomainError::InvalidInput(
            "the XPLAN client id is empty".into(),
        ));
    }
    Ok(id.to_string())
}

/// The staff member XPLAN names as adviser, if they can lead households here.
fn adviser_staff(p: &PracticeState, adviser_email: Option<&String>) -> Option<StaffId> {
    let m = p.staff_by_email(adviser_email?)?;
    (p.is_active(m.id) && m.role.can_lead_households()).then_some(m.id)
}

pub(crate) fn create_from_xplan(
    p: &PracticeState,
    id: HouseholdId,
    integration_id: IntegrationId,
    member_id: MemberId,
    data: &XplanClientData,
    synced_on: NaiveDate,
    ctx: &CommandContext,
) -> Events {
    let link = XplanLink {
        integration_id,
        xplan_id: xplan_id(data)?,
    };
    let (fields, skipped) = normalise(data);
    let primary = adviser_staff(p, fields.get(&ClientField::AdviserEmail))
        .or_else(|| p.first_professional())
        .ok_or(DomainError::NoProfessionalInPractice)?;
    let mut events = vec![HouseholdEvent::Created(HouseholdCreated {
        meta: ctx.meta(),
        household_id: id,
        practice_id: p.id.ok_or(DomainError::PracticeNotFound)?,
        name: household_name(&fields),
        members: vec![Member {
            member_id,
            kind: MemberKind::Client,
            fields,
            xplan: Some(link.clone()),
        }],
        primary,
        branch: None,
        status: HouseholdStatus::Active,
    })];
    if !skipped.is_empty() {
        events.push(HouseholdEvent::XplanClientSynced(XplanClientSynced {
            meta: ctx.meta(),
            member_id,
            link,
            changes: vec![],
            skipped,
        }));
    }
    let policies = policies(data, synced_on);
    if !policies.is_empty() {
        events.push(HouseholdEvent::PoliciesSynced(PoliciesSynced {
            meta: ctx.meta(),
            integration_id,
            policies,
        }));
    }
    Ok(events)
}

/// An XPLAN client id within the limits, trimmed.
fn checked_xplan_id(raw: &str) -> Result<&str, DomainError> {
    crate::limits::text(
        "the XPLAN client id",
        raw,
        crate::limits::IDENTIFIER_MAX,
        crate::limits::Lines::Single,
    )
}

pub(crate) fn link_xplan_id(
    h: &HouseholdState,
    integration_id: IntegrationId,
    member_id: MemberId,
    xplan_id: &str,
    ctx: &CommandContext,
) -> Events {
    let xplan_id = checked_xplan_id(xplan_id)?;
    if xplan_id.is_empty() {
        return Err(DomainError::InvalidInput(
            "the XPLAN client id is empty".into(),
        ));
    }
    let member = h
        .member(member_id)
        .ok_or(DomainError::MemberNotFound(member_id))?;
    let link = XplanLink {
        integration_id,
        xplan_id: xplan_id.to_string(),
    };
    match &member.xplan {
        Some(existing) if *existing == link => Ok(vec![]),
        Some(existing) => Err(DomainError::ConflictingXplanId {
            existing: existing.xplan_id.clone(),
            requested: link.xplan_id,
        }),
        None => Ok(vec![HouseholdEvent::XplanIdLinked(XplanIdLinked {
            meta: ctx.meta(),
            member_id,
            link,
        })]),
    }
}

pub(crate) fn sync_client(
    h: &HouseholdState,
    p: &PracticeState,
    integration_id: IntegrationId,
    data: &XplanClientData,
    synced_on: NaiveDate,
    ctx: &CommandContext,
) -> Events {
    let link = XplanLink {
        integration_id,
        xplan_id: xplan_id(data)?,
    };
    let member = match h.members.iter().find(|m| m.xplan.as_ref() == Some(&link)) {
        Some(m) => m,
        None => match h.members.iter().find_map(|m| {
            m.xplan
                .as_ref()
                .filter(|l| l.integration_id == integration_id)
        }) {
            Some(other) => {
                return Err(DomainError::ConflictingXplanId {
                    existing: other.xplan_id.clone(),
                    requested: link.xplan_id,
                })
            }
            None => h.members.first().ok_or(DomainError::HouseholdNotFound)?,
        },
    };
    let (mut wanted, skipped) = normalise(data);
    // A skipped value is not synchronised: the field keeps what Hearth has.
    for s in &skipped {
        match member.fields.get(&s.field) {
            Some(current) => wanted.insert(s.field, current.clone()),
            None => wanted.remove(&s.field),
        };
    }
    let changes = diff(&member.fields, &wanted, &ClientField::SYNCED);
    let mut events = Vec::new();
    if !changes.is_empty() || skipped != h.xplan_skipped || member.xplan.as_ref() != Some(&link) {
        events.push(HouseholdEvent::XplanClientSynced(XplanClientSynced {
            meta: ctx.meta(),
            member_id: member.member_id,
            link,
            changes: changes.clone(),
            skipped,
        }));
    }
    let policies = policies(data, synced_on);
    if policies != h.policies {
        events.push(HouseholdEvent::PoliciesSynced(PoliciesSynced {
            meta: ctx.meta(),
            integration_id,
            policies,
        }));
    }
    let adviser_changed = changes
        .iter()
        .find(|c| c.field == ClientField::AdviserEmail)
        .and_then(|c| c.to.as_ref());
    if let (Some(new_adviser), Some(previous)) = (adviser_staff(p, adviser_changed), h.primary) {
        if new_adviser != previous {
            let mut meta = ctx.meta();
            meta.reason = Some("XPLAN adviser changed".into());
            events.push(HouseholdEvent::PrimaryAssigned(PrimaryAssigned {
                meta,
                staff_id: new_adviser,
                previous,
                previous_keeps: Some(HouseholdRole::Professional),
            }));
        }
    }
    Ok(events)
}
