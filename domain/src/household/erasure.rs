//! Erasing a household's personal data: who may, and when the practice's retention allows it.

use super::{
    decide::Events,
    events::{HouseholdErased, HouseholdEvent},
    state::HouseholdState,
};
use crate::{
    context::{Actor, CommandContext},
    error::DomainError,
    permissions::Permission,
    practice::PracticeState,
};

pub(super) fn erase(
    h: &HouseholdState,
    p: &PracticeState,
    override_retention: bool,
    ctx: &CommandContext,
) -> Events {
    // Hearth itself erases only where the practice chose automatic erasure, and never early.
    let automatic = matches!(ctx.actor, Actor::System(_));
    if automatic {
        if !p.retention.auto_erase {
            return Err(DomainError::NotPermitted(Permission::EraseHouseholds));
        }
    } else {
        crate::practice::require(p, ctx, Permission::EraseHouseholds)?;
    }
    if h.is_erased() {
        return Err(DomainError::HouseholdErased);
    }
    if ctx.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(DomainError::ReasonRequired("erase a household"));
    }
    // Retention counts from archiving: a household still served is never past it.
    let retention_ended = h.archived_at.map(|at| p.retention.ends(at));
    let past = retention_ended.is_some_and(|end| ctx.now >= end);
    if !past {
        if !override_retention || automatic {
            return Err(DomainError::RetentionNotPassed {
                until: retention_ended,
            });
        }
        crate::practice::require(p, ctx, Permission::OverrideRetention)?;
    }
    Ok(vec![HouseholdEvent::Erased(HouseholdErased {
        meta: ctx.meta(),
        retention_ended,
        retention_overridden: !past,
    })])
}

/// After erasure a household takes only what cannot bring personal data back: access may still
/// end (revoked, expired) and file notes still pending are recorded as skipped.
pub(super) fn allowed_after_erasure(command: &super::HouseholdCommand) -> bool {
    use super::HouseholdCommand::*;
    matches!(
        command,
        RevokeStaffAccess { .. }
            | ExpireStaffAccess { .. }
            | RecordXplanFileNoteSkipped { .. }
            | RecordXplanFileNoteFailed { .. }
    )
}
