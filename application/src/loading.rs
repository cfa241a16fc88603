//! Folding streams into domain state. Practice and household states are cached per process and
//! brought up to date with only the events appended since: every household decision needs its
//! practice, and workers read one household per message.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use hearth_domain::{
    household::{HouseholdEvent, HouseholdState},
    practice::PracticeEvent,
    practice::PracticeState,
    streams, HouseholdId, PracticeId, Stored,
};

use hearth_eventstore::EventStore;

use crate::ExecError;

/// A state folded from one stream per id: which stream, and how an event applies.
pub(crate) trait Folded: Clone + Default + Send + Sync + 'static {
    type Id: Copy + Eq + std::hash::Hash;
    type Event: Stored;
    fn stream(id: Self::Id) -> String;
    fn apply(&mut self, event: &Self::Event);
}

impl Folded for PracticeState {
    type Id = PracticeId;
    type Event = PracticeEvent;
    fn stream(id: PracticeId) -> String {
        streams::practice(id)
    }
    fn apply(&mut self, event: &PracticeEvent) {
        PracticeState::apply(self, event)
    }
}

impl Folded for HouseholdState {
    type Id = HouseholdId;
    type Event = HouseholdEvent;
    fn stream(id: HouseholdId) -> String {
        streams::household(id)
    }
    fn apply(&mut self, event: &HouseholdEvent) {
        HouseholdState::apply(self, event)
    }
}

/// States as this process last wrote or read them, each with the version it is at. A command
/// can decide on a copy without reading first (its append names the version, so a copy another
/// writer made stale fails it and is reloaded), and a load reads only the events since the
/// copy. Shared, not copied: a practice's state holds every household's leads, so a copy per
/// command would cost time in proportion to the practice's size; a state is copied only when
/// new events must be applied while a command still holds the previous one.
pub(crate) struct StateCache<S: Folded> {
    states: Mutex<HashMap<S::Id, Held<S>>>,
    /// One whole-stream read at a time: commands that find a state missing wait (briefly) for
    /// the read under way and then read only what it did not, instead of each reading the whole
    /// stream (at start-up, sixteen commands each read a 20,000-event practice, for seconds).
    reading: Mutex<HashMap<S::Id, Arc<tokio::sync::Mutex<()>>>>,
}

/// A held state and the version it is at.
type Held<S> = (i64, Arc<S>);

impl<S: Folded> Default for StateCache<S> {
    fn default() -> Self {
        Self {
            states: Mutex::default(),
            reading: Mutex::default(),
        }
    }
}

pub(crate) type PracticeCache = StateCache<PracticeState>;
pub(crate) type HouseholdCache = StateCache<HouseholdState>;

const CACHE_LIMIT: usize = 10_000;

/// How long a load waits for another's read of the same whole stream before reading itself.
const WAIT_FOR_READ: Duration = Duration::from_secs(3);

/// A place in the queue for reading one stream whole; leaves the map when its last holder
/// goes, also when a load is cancelled midway.
struct Turn<'a, Id: Copy + Eq + std::hash::Hash> {
    map: &'a Mutex<HashMap<Id, Arc<tokio::sync::Mutex<()>>>>,
    id: Id,
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl<'a, Id: Copy + Eq + std::hash::Hash> Turn<'a, Id> {
    fn take(map: &'a Mutex<HashMap<Id, Arc<tokio::sync::Mutex<()>>>>, id: Id) -> Self {
        let gate = map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id)
            .or_default()
            .clone();
        Self { map, id, gate }
    }

    /// Waits for a whole-stream read under way, but not for long: if the database is down, the
    /// one under way fails only at the pool's acquire timeout, and a queue of waiters each
    /// waiting for the one before would answer after the request's own timeout. Holds the gate
    /// from then on; `None` when the wait ran out (the caller then reads beside the other).
    async fn wait(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        tokio::time::timeout(WAIT_FOR_READ, self.gate.lock())
            .await
            .ok()
    }
}

impl<Id: Copy + Eq + std::hash::Hash> Drop for Turn<'_, Id> {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        // Clones are taken under the same lock, so two holders (the map and this) means none
        // other is waiting.
        if Arc::strong_count(&self.gate) == 2 {
            map.remove(&self.id);
        }
    }
}

impl<S: Folded> StateCache<S> {
    pub fn get(&self, id: S::Id) -> Option<(Arc<S>, i64)> {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states.get(&id).map(|(v, s)| (s.clone(), *v))
    }

    /// Never back: another command may have cached a newer version meanwhile.
    pub fn put(&self, id: S::Id, version: i64, state: Arc<S>) {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        if states.len() >= CACHE_LIMIT {
            states.clear();
        }
        if states.get(&id).is_none_or(|(known, _)| *known < version) {
            states.insert(id, (version, state));
        }
    }

    /// As held, without asking the log, when there is a copy: for decisions whose append
    /// guards the version (a stale copy then fails the append and is reloaded).
    pub async fn cached_or_load(
        &self,
        store: &EventStore,
        id: S::Id,
    ) -> Result<(Arc<S>, Option<i64>), ExecError> {
        match self.get(id) {
            Some((state, version)) => Ok((state, Some(version))),
            None => self.load(store, id).await,
        }
    }

    /// The state now and the version it was read at (None: no such stream): the copy held
    /// brought up to date with only the events written since (by anyone), or the whole stream.
    pub async fn load(
        &self,
        store: &EventStore,
        id: S::Id,
    ) -> Result<(Arc<S>, Option<i64>), ExecError> {
        // With a copy held, a read is of the few events since: cheap, and run side by side.
        if self.get(id).is_some() {
            return self.read_since_held(store, id).await;
        }
        let turn = Turn::take(&self.reading, id);
        let reading = turn.wait().await;
        if self.get(id).is_some() {
            // The read waited for is done: what is left to read is the few events since.
            drop(reading);
        }
        self.read_since_held(store, id).await
    }

    async fn read_since_held(
        &self,
        store: &EventStore,
        id: S::Id,
    ) -> Result<(Arc<S>, Option<i64>), ExecError> {
        let (mut state, mut version) = self.get(id).unwrap_or_default();
        let newer = store.read_stream(&S::stream(id), version + 1).await?;
        if newer.is_empty() {
            return Ok((state, (version > 0).then_some(version)));
        }
        let fresh = Arc::make_mut(&mut state);
        for e in newer {
            fresh.apply(&S::Event::from_stored(
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

#[cfg(test)]
mod tests {
    use super::*;

    type Gates = Mutex<HashMap<u32, Arc<tokio::sync::Mutex<()>>>>;

    fn queued(gates: &Gates) -> usize {
        gates.lock().unwrap().len()
    }

    #[test]
    fn a_turn_leaves_the_queue_with_its_last_holder() {
        let gates = Gates::default();
        let first = Turn::take(&gates, 7);
        let second = Turn::take(&gates, 7);
        assert!(Arc::ptr_eq(&first.gate, &second.gate));
        drop(first);
        assert_eq!(queued(&gates), 1);
        drop(second);
        assert_eq!(queued(&gates), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_load_cancelled_while_it_waits_leaves_nothing_behind() {
        let gates = Gates::default();
        let reader = Turn::take(&gates, 7);
        let reading = reader.wait().await.expect("nobody else reads");
        let waiting = async {
            let turn = Turn::take(&gates, 7);
            let got = turn.wait().await.is_some();
            got
        };
        // The request is dropped (its timeout, a closed connection) before the wait runs out.
        assert!(tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .is_err());
        assert_eq!(queued(&gates), 1);
        drop(reading);
        drop(reader);
        assert_eq!(queued(&gates), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_takes_over_when_the_read_ends_and_gives_up_at_the_bound() {
        let gates = Gates::default();
        let reader = Turn::take(&gates, 7);
        let reading = reader.wait().await.expect("nobody else reads");
        let waiter = Turn::take(&gates, 7);
        let started = tokio::time::Instant::now();
        let ((), got) = tokio::join!(
            async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                drop(reading);
            },
            waiter.wait()
        );
        assert!(got.is_some());
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        drop(got);

        // A read that outlasts the bound (the database is down): the waiter stops waiting.
        let _still_reading = reader.wait().await.expect("the gate is free again");
        let started = tokio::time::Instant::now();
        assert!(waiter.wait().await.is_none());
        assert_eq!(started.elapsed(), WAIT_FOR_READ);
    }
}
