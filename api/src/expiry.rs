//! Hearth's expiry worker: records the end of every temporary grant whose time has come, as a
//! `household.grant_expired` event by the system, so history and as-of answers show who ended
//! it and when. Checks already deny from the expiry instant; this makes the log say so.

use std::time::Duration;

use chrono::Utc;
use hearth_application::ExecError;
use hearth_domain::{household::HouseholdCommand, Actor, CommandContext, DomainError};

use crate::state::AppState;

/// How often the read model is asked for grants past their expiry.
const TICK: Duration = Duration::from_secs(1);

pub const ACTOR: &str = "grant-expiry";

pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(TICK);
    loop {
        tick.tick().await;
        expire_due(&state).await;
    }
}

pub async fn expire_due(state: &AppState) {
    let due = state.projection.read().due_expiries(Utc::now());
    for (practice, household, staff_id) in due {
        let ctx = CommandContext::new(Actor::System(ACTOR.into()), Utc::now());
        match state
            .exec
            .household(
                practice,
                household,
                HouseholdCommand::ExpireStaffAccess { staff_id },
                &ctx,
            )
            .await
        {
            Ok(_) => {}
            // Another instance (or this one, before the read model caught up) recorded it.
            Err(ExecError::Domain(DomainError::GrantNotExpired(_))) | Err(ExecError::Contended) => {
            }
            Err(error) => {
                tracing::warn!(%error, household = %household.0, "recording an expired grant failed; will retry")
            }
        }
    }
}
