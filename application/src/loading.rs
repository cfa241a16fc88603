//! Folding streams into domain state. Practice states are cached per process and brought up to
//! date with only the events appended since, because every household decision needs one.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use hearth_domain::{
    household::{HouseholdEvent, HouseholdState},
    practice::PracticeEvent,
    practice::PracticeState,
    streams, HouseholdId, PracticeId, Stored,
};

use hearth_eventstore::EventStore;

use crate::ExecError;

#[derive(Default)]
pub(crate) struct PracticeCache {
    /// Shared, not copied: a practice's state holds every household's leads, so a copy per
    /// command would cost time in proportion to the practice's size. It is copied only when
    /// new events must be applied while a command still holds the previous state.
    states: Mutex<HashMap<PracticeId, (i64, Arc<PracticeState>)>>,
}

const CACHE_LIMIT: usize = 10_000;

impl PracticeCache {
    fn cached(&self, id: PracticeId) -> Result<Option<(i64, Arc<PracticeState>)>, ExecError> {
        let states = self.states.lock().map_err(|_| ExecError::Poisoned)?;
        Ok(states.get(&id).cloned())
    }

    /// As cached, without asking the log, when there is a copy: for decisions whose append
    /// guards the practice's version (a stale copy then fails the append and is reloaded).
    pub async fn cached_or_load(
        &self,
        store: &EventStore,
        id: PracticeId,
    ) -> Result<(Arc<PracticeState>, Option<i64>), ExecError> {
        match self.cached(id)? {
            Some((version, state)) => Ok((state, Some(version))),
            None => self.load(store, id).await,
        }
    }

    /// The practice's state and the version it was read at (None: no such stream).
    pub async fn load(
        &self,
        store: &EventStore,
        id: PracticeId,
    ) -> Result<(Arc<PracticeState>, Option<i64>), ExecError> {
        let (mut version, mut state) = self.cached(id)?.unwrap_or_default();
        let newer = store
            .read_stream(&streams::practice(id), version + 1)
            .await?;
        if newer.is_empty() {
            return Ok((state, (version > 0).then_some(version)));
        }
        let fresh = Arc::make_mut(&mut state);
        for e in newer {
            fresh.apply(&PracticeEvent::from_stored(
                &e.event_type,
                e.schema_version,
                e.data,
            )?);
            version = e.version;
        }
        let mut states = self.states.lock().map_err(|_| ExecError::Poisoned)?;
        if states.len() >= CACHE_LIMIT {
            states.clear();
        }
        // Never back: another command may have cached a newer version meanwhile.
        if states.get(&id).is_none_or(|(known, _)| *known < version) {
            states.insert(id, (version, state.clone()));
        }
        Ok((state, Some(version)))
    }
}

/// Households' states as this process last wrote or read them, so a command on a household
/// needs no read before its append: the append names the version the state is at, and a copy
/// made stale by another writer fails it and is reloaded.
#[derive(Default)]
pub(crate) struct HouseholdCache {
    states: Mutex<HashMap<HouseholdId, (i64, Arc<HouseholdState>)>>,
}

impl HouseholdCache {
    pub fn get(&self, id: HouseholdId) -> Option<(Arc<HouseholdState>, i64)> {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states.get(&id).map(|(v, s)| (s.clone(), *v))
    }

    pub fn put(&self, id: HouseholdId, version: i64, state: Arc<HouseholdState>) {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        if states.len() >= CACHE_LIMIT {
            states.clear();
        }
        if states.get(&id).is_none_or(|(known, _)| *known < version) {
            states.insert(id, (version, state));
        }
    }
}

pub(crate) async fn load_household(
    store: &EventStore,
    id: HouseholdId,
) -> Result<(HouseholdState, Option<i64>), ExecError> {
    fold_stream(store, &streams::household(id), HouseholdState::apply).await
}

impl HouseholdCache {
    /// The household's state now: the copy this process holds brought up to date with only the
    /// events written since (by anyone), or the whole stream when there is no copy. A worker
    /// that reads one household per message (file notes) then does not re-read its history.
    pub async fn load(
        &self,
        store: &EventStore,
        id: HouseholdId,
    ) -> Result<(Arc<HouseholdState>, Option<i64>), ExecError> {
        let Some((mut state, mut version)) = self.get(id) else {
            let (state, version) = load_household(store, id).await?;
            let state = Arc::new(state);
            if let Some(v) = version {
                self.put(id, v, state.clone());
            }
            return Ok((state, version));
        };
        let newer = store
            .read_stream(&streams::household(id), version + 1)
            .await?;
        if newer.is_empty() {
            return Ok((state, Some(version)));
        }
        let fresh = Arc::make_mut(&mut state);
        for e in newer {
            fresh.apply(&HouseholdEvent::from_stored(
                &e.event_type,
                e.schema_version,
                e.data,
            )?);
            version = e.version;
        }
        self.put(id, version, state.clone());
        Ok((state, Some(version)))
    }
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
