//! Which households have outlived the practice's retention period: archived long enough that
//! their personal data may (or, with automatic erasure, will) be erased.

use chrono::{DateTime, Utc};
use hearth_domain::{HouseholdId, PracticeId};
use serde::Serialize;

use crate::{model::AccessModel, QueryError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PastRetention {
    pub household_id: HouseholdId,
    pub name: String,
    pub archived_at: DateTime<Utc>,
    pub retention_ended: DateTime<Utc>,
}

impl AccessModel {
    /// The practice's archived, not yet erased households whose retention ended by `now`,
    /// longest past first.
    pub fn past_retention(
        &self,
        practice: PracticeId,
        now: DateTime<Utc>,
    ) -> Result<Vec<PastRetention>, QueryError> {
        let p = self.practice(practice)?;
        let policy = p.state.retention;
        let mut due: Vec<PastRetention> = p
            .households
            .iter()
            .filter_map(|id| self.households.get(id))
            .filter(|h| h.state.archived && !h.state.is_erased())
            .filter_map(|h| {
                let archived_at = h.state.archived_at?;
                let retention_ended = policy.ends(archived_at);
                (retention_ended <= now).then(|| PastRetention {
                    household_id: h.id,
                    name: h.state.name.clone(),
                    archived_at,
                    retention_ended,
                })
            })
            .collect();
        due.sort_by_key(|d| (d.retention_ended, d.household_id.0));
        Ok(due)
    }

    /// Practices that erase households past retention by themselves.
    pub fn auto_erasing_practices(&self) -> Vec<PracticeId> {
        self.practices
            .values()
            .filter(|p| p.state.retention.auto_erase)
            .map(|p| p.id)
            .collect()
    }
}
