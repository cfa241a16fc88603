//! Many household commands decided in order and appended as one atomic write: the XPLAN ID
//! pre-load commits all of its rows or none, and bulk loads avoid a round trip per command.

use std::{collections::HashMap, sync::Arc};

use hearth_domain::{
    household::{self, HouseholdCommand, HouseholdState},
    streams, CommandContext, HouseholdId, PracticeId,
};

use hearth_eventstore::{NewEvent, StreamAppend};

use crate::{
    executor::{expected, new_event, new_events, CommandExecutor},
    ExecError, Executed,
};

/// One command of a batch. `guard` names a stream that must not be claimed yet and is claimed with
/// the batch (with that event type), as in [`CommandExecutor::household_guarded`].
#[derive(Clone, Debug)]
pub struct BatchItem {
    pub household: HouseholdId,
    pub command: HouseholdCommand,
    pub ctx: CommandContext,
    pub guard: Option<(String, String)>,
}

impl CommandExecutor {
    /// Decides every item against the state the earlier items left, then appends everything at
    /// once. A rule broken by item i fails the whole batch with `ExecError::Rejected { index: i }`
    /// and writes nothing.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn household_batch(
        &self,
        practice_id: PracticeId,
        items: &[BatchItem],
    ) -> Result<Executed, ExecError> {
        self.retrying(|_| async {
            let (practice, practice_version) = self.practice_state(practice_id).await?;
            // The batch applies its own decisions to it as it goes: a copy of its own.
            let mut practice = Arc::unwrap_or_clone(practice);
            let mut states: HashMap<HouseholdId, (HouseholdState, Option<i64>)> = HashMap::new();
            let mut order = Vec::new();
            let mut practice_new: Vec<NewEvent> = Vec::new();
            let mut household_new: HashMap<HouseholdId, Vec<NewEvent>> = HashMap::new();
            let mut guards = Vec::new();
            for (index, item) in items.iter().enumerate() {
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    states.entry(item.household)
                {
                    slot.insert(self.owned_household(item.household).await?);
                    order.push(item.household);
                }
                let state = &states[&item.household].0;
                let decision =
                    household::decide(state, &practice, item.household, &item.command, &item.ctx)
                        .map_err(|error| ExecError::Rejected { index, error })?;
                for e in &decision.practice {
                    practice.apply(e);
                }
                practice_new.extend(new_events(&decision.practice, practice_id, &item.ctx));
                for (h, events) in &decision.households {
                    if !states.contains_key(h) {
                        states.insert(*h, self.owned_household(*h).await?);
                        order.push(*h);
                    }
                    let state = &mut states.get_mut(h).expect("loaded above").0;
                    for e in events {
                        state.apply(e);
                    }
                    household_new.entry(*h).or_default().extend(new_events(
                        events,
                        practice_id,
                        &item.ctx,
                    ));
                }
                if let Some((stream, event_type)) = &item.guard {
                    let data = serde_json::json!({ "household_id": item.household });
                    let expected =
                        crate::claims::free_claim(self.store(), stream, event_type).await?;
                    guards.push(StreamAppend {
                        stream: stream.clone(),
                        expected,
                        events: vec![new_event(event_type, 1, data, practice_id, &item.ctx)],
                    });
                }
            }
            let mut appends = vec![StreamAppend {
                stream: streams::practice(practice_id),
                expected: expected(practice_version),
                events: practice_new,
            }];
            for h in order {
                appends.push(StreamAppend {
                    stream: streams::household(h),
                    expected: expected(states[&h].1),
                    events: household_new.remove(&h).unwrap_or_default(),
                });
            }
            appends.extend(guards);
            Ok(appends)
        })
        .await
    }
}
