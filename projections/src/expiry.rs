//! Temporary grants whose time has come: what Hearth's expiry worker must record as ended.

use chrono::{DateTime, Utc};
use hearth_domain::{HouseholdId, PracticeId, StaffId};

use crate::model::AccessModel;

impl AccessModel {
    /// Every (practice, household, staff) whose temporary grant ended at or before `now` and has
    /// no `grant_expired` event yet. Reads only the due part of the expiry index, so a worker
    /// asking every second costs nothing while nothing is due.
    pub fn due_expiries(&self, now: DateTime<Utc>) -> Vec<(PracticeId, HouseholdId, StaffId)> {
        self.expiries
            .iter()
            .take_while(|(t, _, _)| *t <= now)
            .filter_map(|(_, h, s)| self.households.get(h).map(|v| (v.practice, *h, *s)))
            .collect()
    }
}
