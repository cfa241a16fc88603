//! The access report: who held which of the practice's households at any moment of [from, to],
//! with who opened and closed each holding and why.

use chrono::{DateTime, Utc};
use hearth_domain::{roles::Holding, HouseholdId, PracticeId, StaffId};
use serde::Serialize;

use std::sync::Arc;

use crate::{model::AccessModel, names::ActorName, queries::QueryError};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReportRow {
    pub household_id: HouseholdId,
    pub household: String,
    pub staff_id: StaffId,
    pub staff: String,
    pub holding: Holding,
    pub from: DateTime<Utc>,
    /// Absent while the holding is still open.
    pub to: Option<DateTime<Utc>>,
    pub granted_by: ActorName,
    pub revoked_by: Option<ActorName>,
    pub reason: Option<Arc<str>>,
    pub end_reason: Option<Arc<str>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccessReport {
    pub practice_id: PracticeId,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub rows: Vec<ReportRow>,
}

impl AccessModel {
    /// Every direct holding (primary, secondary, granted role) that overlapped [from, to]. Access
    /// by practice role or by a manager/assistant link follows from these and the staff list.
    pub fn access_report(
        &self,
        practice: PracticeId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<AccessReport, QueryError> {
        let p = self.practice(practice)?;
        let name_of = |s: StaffId| p.staff.get(&s).map(|v| v.name.clone()).unwrap_or_default();
        let mut rows: Vec<ReportRow> = p
            .households
            .iter()
            .filter_map(|id| self.households.get(id))
            .flat_map(|h| {
                h.intervals
                    .iter()
                    .filter(|i| i.from <= to && i.to.is_none_or(|end| end > from))
                    .filter_map(|i| i.read(&self.history_names))
                    .map(|i| ReportRow {
                        household_id: h.id,
                        household: h.state.name.clone(),
                        staff_id: i.staff_id,
                        staff: name_of(i.staff_id),
                        holding: i.holding,
                        from: i.from,
                        to: i.to,
                        granted_by: i.granted_by,
                        revoked_by: i.revoked_by,
                        reason: i.reason,
                        end_reason: i.end_reason,
                    })
            })
            .collect();
        rows.sort_by(|a, b| {
            (a.household.as_str(), a.household_id, a.from).cmp(&(
                b.household.as_str(),
                b.household_id,
                b.from,
            ))
        });
        Ok(AccessReport {
            practice_id: practice,
            from,
            to,
            rows,
        })
    }
}
