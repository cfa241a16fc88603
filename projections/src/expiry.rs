//! Temporary grants whose time has come: what Hearth's expiry worker must record as ended.

use chrono::{DateTime, Utc};
use hearth_domain::{HouseholdId, PracticeId, StaffId};

use crate::model::AccessModel;

impl AccessModel {
    /// Every (practice, household, staff) whose temporary grant ended at or before `now` and has
    /// no `grant_expired` event yet.
    pub fn due_expiries(&self, now: DateTime<Utc>) -> Vec<(PracticeId, HouseholdId, StaffId)> {
        self.households
            .values()
            .flat_map(|h| {
                h.state
                    .grant_expiries
                    .iter()
                    .filter(move |(_, t)| **t <= now)
                    .map(move |(s, _)| (h.practice, h.id, *s))
            })
            .collect()
    }
}
