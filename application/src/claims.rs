//! Guard streams such as an XPLAN client's claim: held by one household at a time. The claim is
//! the stream's newest event when that event is of the claim's type; any other newest event (a
//! release) leaves the stream free to be claimed again.

use hearth_domain::{CommandContext, HouseholdId, PracticeId};
use hearth_eventstore::{EventStore, ExpectedVersion, StoreError};

use crate::{
    executor::{new_event, CommandExecutor, Executed},
    ExecError,
};

/// A guard stream as read: its version, and the household holding it (`None`: released).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    pub version: i64,
    pub holder: Option<HouseholdId>,
}

/// The stream's claim, `None` when it was never claimed.
pub async fn claim_of(
    store: &EventStore,
    stream: &str,
    claim_type: &str,
) -> Result<Option<Claim>, ExecError> {
    let events = store.read_stream(stream, 1).await?;
    Ok(events.last().map(|e| Claim {
        version: e.version,
        holder: (e.event_type == claim_type)
            .then(|| e.data.get("household_id"))
            .flatten()
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
    }))
}

/// The version a new claim must find the stream at, or `Contended` when it is claimed.
pub(crate) async fn free_claim(
    store: &EventStore,
    stream: &str,
    claim_type: &str,
) -> Result<ExpectedVersion, ExecError> {
    match claim_of(store, stream, claim_type).await? {
        None => Ok(ExpectedVersion::NoStream),
        Some(Claim {
            holder: Some(_), ..
        }) => Err(ExecError::Contended),
        Some(Claim { version, .. }) => Ok(ExpectedVersion::Exact(version)),
    }
}

impl CommandExecutor {
    /// Ends the claim on `stream` (as read: `claim`) with a `release_type` event, so the next
    /// claim (e.g. the next sync creating the client afresh) may take it. `Contended` when the
    /// stream moved since it was read.
    pub async fn release_claim(
        &self,
        practice_id: PracticeId,
        stream: &str,
        claim: Claim,
        release_type: &str,
        ctx: &CommandContext,
    ) -> Result<Executed, ExecError> {
        let data = serde_json::json!({ "household_id": claim.holder });
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
