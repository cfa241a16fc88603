//! What a decision produces, per stream.

use crate::{household::HouseholdEvent, ids::HouseholdId, practice::PracticeEvent};

/// Events for the practice stream and for household streams, to be appended atomically.
///
/// Concurrency contract for the caller: append with the expected versions of the practice stream
/// and of every household stream the decision was made from (also when a stream gets no events:
/// a version check), so that a concurrent decision on the same facts conflicts and is retried.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    pub practice: Vec<PracticeEvent>,
    pub households: Vec<(HouseholdId, Vec<HouseholdEvent>)>,
}

impl Decision {
    pub fn is_empty(&self) -> bool {
        self.practice.is_empty() && self.households.iter().all(|(_, e)| e.is_empty())
    }

    pub fn practice_only(events: Vec<PracticeEvent>) -> Self {
        Self {
            practice: events,
            households: vec![],
        }
    }

    pub fn merge(&mut self, other: Decision) {
        self.practice.extend(other.practice);
        self.households.extend(other.households);
    }

    pub fn household_events(&self, id: HouseholdId) -> &[HouseholdEvent] {
        self.households
            .iter()
            .find(|(h, _)| *h == id)
            .map(|(_, e)| e.as_slice())
            .unwrap_or(&[])
    }
}
