//! How a snapshot keeps each integration's state. The domain hides a pending OAuth
//! authorisation from every serialised form (it must never reach an API answer), but a snapshot
//! must carry it, or a model loaded from one would answer differently from a replayed one.

use std::collections::HashMap;

use hearth_domain::{
    integration::{IntegrationState, PendingAuthorisation},
    IntegrationId,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub fn serialize<S: Serializer>(
    map: &HashMap<IntegrationId, IntegrationState>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let entries: Vec<(
        &IntegrationId,
        &IntegrationState,
        &Option<PendingAuthorisation>,
    )> = map.iter().map(|(id, st)| (id, st, &st.pending)).collect();
    entries.serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<HashMap<IntegrationId, IntegrationState>, D::Error> {
    let entries: Vec<(
        IntegrationId,
        IntegrationState,
        Option<PendingAuthorisation>,
    )> = Vec::deserialize(d)?;
    Ok(entries
        .into_iter()
        .map(|(id, mut st, pending)| {
            st.pending = pending;
            (id, st)
        })
        .collect())
}
