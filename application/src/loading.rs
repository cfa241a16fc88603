//! Folding streams into domain state. Practice states are cached per process and brought up to
//! date with only the events appended since, because every household decision needs one.

use std::{collections::HashMap, sync::Mutex};

use hearth_domain::{
    household::HouseholdState, practice::PracticeEvent, practice::PracticeState, streams,
    HouseholdId, PracticeId, Stored,
};

use hearth_eventstore::EventStore;

use crate::ExecError;

#[derive(Default)]
pub(crate) struct PracticeCache {
    states: Mutex<HashMap<PracticeId, (i64, PracticeState)>>,
}

const CACHE_LIMIT: usize = 10_000;

impl PracticeCache {
    /// The practice's state and the version it was read at (None: no such stream).
    pub async fn load(
        &self,
        store: &EventStore,
        id: PracticeId,
    ) -> Result<(PracticeState, Option<i64>), ExecError> {
        let cached = self
            .states
            .lock()
            .map_err(|_| ExecError::Poisoned)?
            .get(&id)
            .cloned();
        let (mut version, mut state) = cached.unwrap_or((0, PracticeState::default()));
        for e in store
            .read_stream(&streams::practice(id), version + 1)
            .await?
        {
            state.apply(&PracticeEvent::from_stored(
                &e.event_type,
                e.schema_version,
                e.data,
            )?);
            version = e.version;
        }
        if version > 0 {
            let mut states = self.states.lock().map_err(|_| ExecError::Poisoned)?;
            if states.len() >= CACHE_LIMIT {
                states.clear();
            }
            states.insert(id, (version, state.clone()));
        }
        Ok((state, (version > 0).then_some(version)))
    }
}

pub(crate) async fn load_household(
    store: &EventStore,
    id: HouseholdId,
) -> Result<(HouseholdState, Option<i64>), ExecError> {
    fold_stream(store, &streams::household(id), HouseholdState::apply).await
}

/// A stream's state from its first event, and the version it was read at (None: no stream).
pub(crate) async fn fold_stream<E: Stored, S: Default>(
    store: &EventStore,
    stream: &str,
    apply: impl Fn(&mut S, &E),
) -> Result<(S, Option<i64>), ExecError> {
    let mut state = S::default();
    let mut version = None;
    for e in store.read_stream(stream, 1).await? {
        apply(
            &mut state,
            &E::from_stored(&e.event_type, e.schema_version, e.data)?,
        );
        version = Some(e.version);
    }
    Ok((state, version))
}
