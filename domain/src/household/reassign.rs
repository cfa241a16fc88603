//! ReassignHouseholds: everything a departing professional leads goes to another, in one
//! decision across many household streams (appended atomically by the caller).

use super::{events::*, state::HouseholdState};
use crate::{
    context::CommandContext,
    decision::Decision,
    error::DomainError,
    ids::{HouseholdId, StaffId},
    permissions::Permission,
    practice::{active, require, PracticeState},
};

/// `households` must hold the current state of every household `from` leads
/// (`practice.households_led_by(from)`); a missing one is refused rather than half-done.
pub fn reassign_households(
    practice: &PracticeState,
    households: &[(HouseholdId, HouseholdState)],
    from: StaffId,
    to: StaffId,
    ctx: &CommandContext,
) -> Result<Decision, DomainError> {
    if !practice.exists() {
        return Err(DomainError::PracticeNotFound);
    }
    require(practice, ctx, Permission::ManageHouseholdAccess)?;
    practice
        .member(from)
        .ok_or(DomainError::StaffNotFound(from))?;
    let target = active(practice, to)?;
    if !target.role.can_lead_households() {
        return Err(DomainError::SupportCannotLead(to));
    }
    if from == to {
        return Err(DomainError::AlreadyPrimary(to));
    }
    let mut decision = Decision::default();
    for id in practice.households_led_by(from) {
        let (_, h) = households
            .iter()
            .find(|(hid, _)| *hid == id)
            .ok_or_else(|| {
                DomainError::InvalidInput(format!("household {id} must be loaded to reassign it"))
            })?;
        let meta = ctx.meta();
        let mut events = Vec::new();
        if h.primary == Some(from) {
            // The departing professional loses access; the new one takes over as primary.
            events.push(HouseholdEvent::PrimaryAssigned(PrimaryAssigned {
                meta,
                staff_id: to,
                previous: from,
                previous_keeps: None,
            }));
        } else if h.secondary == Some(from) {
            events.push(if h.primary == Some(to) {
                HouseholdEvent::SecondaryCleared(SecondaryCleared {
                    meta,
                    previous: from,
                })
            } else {
                HouseholdEvent::SecondarySet(SecondarySet {
                    meta,
                    staff_id: to,
                    previous: Some(from),
                })
            });
        }
        decision.merge(super::decide::with_lead_mirror(h, id, events, ctx));
    }
    Ok(decision)
}
