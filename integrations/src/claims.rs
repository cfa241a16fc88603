//! Which household holds an XPLAN client: the newest claim on the client's stream, unless a
//! release followed it. A client is released only once its household was erased, so the practice
//! decides explicitly that the next sync may create it afresh.

use hearth_application::{claim_of, CommandExecutor, ExecError, Executed};
use hearth_domain::{streams, CommandContext, DomainError, HouseholdId, IntegrationId, PracticeId};
use hearth_eventstore::EventStore;

/// The event type that claims an XPLAN client for a household.
pub const CLAIM_EVENT: &str = "xplan.client_claimed";
/// The event type that ends a claim (of an erased household).
pub const RELEASE_EVENT: &str = "xplan.client_released";

/// The household that holds this XPLAN client now, if any.
pub async fn claimed_household(
    store: &EventStore,
    integration: IntegrationId,
    xplan_id: &str,
) -> Result<Option<HouseholdId>, ExecError> {
    let stream = streams::xplan_client(integration, xplan_id);
    Ok(claim_of(store, &stream, CLAIM_EVENT)
        .await?
        .and_then(|c| c.holder))
}

/// Releases the client of an erased household of this practice: the next sync creates it as a
/// new household (with a new key). Refused while that household's data is not erased.
pub async fn release_erased(
    exec: &CommandExecutor,
    practice: PracticeId,
    integration: IntegrationId,
    xplan_id: &str,
    ctx: &CommandContext,
) -> Result<Executed, ExecError> {
    let stream = streams::xplan_client(integration, xplan_id);
    let claim = claim_of(exec.store(), &stream, CLAIM_EVENT).await?;
    let (claim, household) = claim
        .and_then(|c| Some((c, c.holder?)))
        .ok_or(ExecError::Domain(DomainError::NotLinkedToXplan))?;
    let (state, _) = exec.household_state(household).await?;
    if state.practice != Some(practice) {
        return Err(ExecError::Domain(DomainError::NotLinkedToXplan));
    }
    if !state.is_erased() {
        return Err(ExecError::Domain(DomainError::ClientNotErased));
    }
    exec.release_claim(practice, &stream, claim, RELEASE_EVENT, ctx)
        .await
}
