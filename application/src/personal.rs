//! Which values in the log are personal and whose they are, told to the log crate (which seals
//! and opens them): a household's values are sealed with that household's key.

use std::sync::OnceLock;

use hearth_domain::household::{personal::personal_paths, HouseholdEventKind};
use hearth_eventstore::personal::PersonalDataPolicy;
use rustc_hash::FxHashMap;
use strum::IntoEnumIterator;
use uuid::Uuid;

pub struct HouseholdPersonalData;

// Fx: looked up once per event a rebuild reads, and the keys are our own event types.
fn paths_by_type() -> &'static FxHashMap<&'static str, &'static [&'static str]> {
    static TABLE: OnceLock<FxHashMap<&'static str, &'static [&'static str]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        HouseholdEventKind::iter()
            .map(|k| (k.event_type(), personal_paths(k)))
            .filter(|(_, paths)| !paths.is_empty())
            .collect()
    })
}

impl PersonalDataPolicy for HouseholdPersonalData {
    fn subject(&self, stream: &str) -> Option<Uuid> {
        stream
            .strip_prefix("household-")
            .and_then(|id| Uuid::parse_str(id).ok())
    }

    // Every schema version so far has the same personal paths.
    fn personal_paths(&self, event_type: &str, _schema_version: i32) -> &'static [&'static str] {
        paths_by_type().get(event_type).copied().unwrap_or(&[])
    }

    fn erases_subject(&self, event_type: &str) -> bool {
        event_type == HouseholdEventKind::Erased.event_type()
    }
}

/// The policy, for [`hearth_eventstore::EventStore::with_personal_data`].
pub fn personal_data_policy() -> std::sync::Arc<dyn PersonalDataPolicy> {
    std::sync::Arc::new(HouseholdPersonalData)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn household_streams_are_their_households_subjects_and_others_have_none() {
        let id = Uuid::new_v4();
        let p = HouseholdPersonalData;
        assert_eq!(p.subject(&format!("household-{id}")), Some(id));
        assert_eq!(p.subject(&format!("practice-{id}")), None);
        assert_eq!(p.subject("household-not-a-uuid"), None);
        assert!(p.personal_paths("household.created", 1).contains(&"name"));
        assert!(p
            .personal_paths("household.staff_access_granted", 2)
            .is_empty());
        assert!(p.erases_subject("household.erased"));
    }
}
