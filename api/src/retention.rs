//! Automatic erasure: in practices that chose it, Hearth erases each archived household once the
//! practice's retention period for it has passed, as the system, with the reason recorded.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hearth_application::ExecError;
use hearth_domain::{household::HouseholdCommand, Actor, CommandContext, DomainError};

use crate::state::AppState;

/// Retention is counted in years: an hourly look is prompt enough.
const TICK: Duration = Duration::from_secs(3600);

pub const ACTOR: &str = "retention";
pub const REASON: &str = "the practice's retention period ended (automatic erasure)";

pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(TICK);
    loop {
        tick.tick().await;
        erase_due(&state, Utc::now()).await;
    }
}

/// Erases every household past retention at `now` in the practices that erase automatically;
/// returns how many this call erased.
pub async fn erase_due(state: &AppState, now: DateTime<Utc>) -> usize {
    let due: Vec<_> = {
        let model = state.projection.read();
        model
            .auto_erasing_practices()
            .into_iter()
            .flat_map(|p| {
                model
                    .past_retention(p, now)
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |h| (p, h.household_id))
            })
            .collect()
    };
    let mut erased = 0;
    for (practice, household) in due {
        let ctx = CommandContext::new(Actor::System(ACTOR.into()), now).with_reason(REASON);
        let command = HouseholdCommand::EraseHousehold {
            override_retention: false,
        };
        match state
            .exec
            .household(practice, household, command, &ctx)
            .await
        {
            Ok(_) => match state.store.erase_subject(household.0, ctx.now).await {
                Ok(_) => erased += 1,
                // The projection destroys it when it reads the erasure (on any instance).
                Err(error) => {
                    tracing::warn!(%error, household = %household.0, "destroying an erased household's key failed; the projection will")
                }
            },
            // Another instance erased it first, or the policy changed meanwhile.
            Err(ExecError::Domain(
                DomainError::HouseholdErased
                | DomainError::RetentionNotPassed { .. }
                | DomainError::NotPermitted(_),
            ))
            | Err(ExecError::Contended) => {}
            Err(error) => {
                tracing::warn!(%error, household = %household.0, "automatic erasure failed; will retry")
            }
        }
    }
    erased
}
