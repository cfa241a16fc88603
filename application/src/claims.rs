//! Guard streams such as an XPLAN client's claim: held by one household at a time. The claim is
//! the stream's newest event when that event is of the claim's type; any other newest event (a
//! release) leaves the stream free to be claimed again.

use hearth_domain::{CommandContext, DomainError, HouseholdId, PracticeId};
use hearth_eventstore::{EventStore, ExpectedVersion, StoreError};

use crate::{
    executor::{new_event, CommandExecutor, Executed},
    ExecError,
};

/// The version a new claim must find the stream at, or `Contended` when it is claimed.
pub(crate) async fn free_claim(
    store: &EventStore,
    stream: &str,
    claim_type: &str,
) -> Result<ExpectedVersion, ExecError> {
    let events = store.read_stream(stream, 1).await?;
    match events.last() {
        None => Ok(ExpectedVersion::NoStream),
        Some(e) if e.event_type == claim_type => Err(ExecError::Contended),
        Some(e) => Ok(ExpectedVersion::Exact(e.version)),
    }
}

impl CommandExecutor {
    /// Ends `household`'s claim on `stream` with a `release_type` event, so the next claim (e.g.
    /// the next sync creating the client afresh) may take it.
    pub async fn release_claim(
        &self,
        practice_id: PracticeId,
        stream: &str,
        claim_type: &str,
        release_type: &str,
        household: HouseholdId,
        ctx: &CommandContext,
    ) -> Result<Executed, ExecError> {
        let events = self.store().read_stream(stream, 1).await?;
        let claim = events
            .last()
            .filter(|e| {
                e.event_type == claim_type
                    && e.data.get("household_id") == Some(&serde_json::json!(household))
            })
            .ok_or(ExecError::Domain(DomainError::NotLinkedToXplan))?;
        let data = serde_json::json!({ "household_id": household });
        let event = new_event(release_type, 1, data, practice_id, ctx);
        match self
            .store()
            .append(stream, ExpectedVersion::Exact(claim.version), vec![event])
            .await
        {
            Ok(done) => Ok(Executed {
                position: Some(done.last_position),
                cursor: Some(done.cursor),
                events: 1,
            }),
            Err(StoreError::Conflict { .. }) => Err(ExecError::Contended),
            Err(e) => Err(e.into()),
        }
    }
}
