//! The questions of PRODUCT.md §3, answered from the model — now or as of any instant.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hearth_domain::{
    access::{evaluate, AccessDecision, AccessPath},
    household::{HouseholdStatus, Member},
    practice::StaffStatus,
    roles::{Action, PracticeRole},
    BranchId, HouseholdId, PracticeId, StaffId,
};
use serde::Serialize;
use strum::IntoEnumIterator;

use crate::{
    facts::FactsAt,
    model::{AccessInterval, AccessModel, AuditEntry, HouseholdView, PracticeView},
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("practice not found")]
    PracticeNotFound,
    #[error("household not found")]
    HouseholdNotFound,
    #[error("staff member not found")]
    StaffNotFound,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StaffAccess {
    pub staff_id: StaffId,
    pub name: String,
    pub role: Option<PracticeRole>,
    pub path: Option<AccessPath>,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HouseholdAccess {
    pub household_id: HouseholdId,
    pub name: String,
    pub path: Option<AccessPath>,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RosterStaff {
    pub staff_id: StaffId,
    pub name: String,
    pub email: String,
    pub role: Option<PracticeRole>,
    pub status: Option<StaffStatus>,
    pub branch: Option<BranchId>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RosterHousehold {
    pub household_id: HouseholdId,
    pub name: String,
    pub primary: Option<StaffId>,
    pub secondary: Option<StaffId>,
    pub status: HouseholdStatus,
    pub archived: bool,
    pub branch: Option<BranchId>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Roster {
    pub staff: Vec<RosterStaff>,
    pub households: Vec<RosterHousehold>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct History {
    pub household_id: HouseholdId,
    pub intervals: Vec<AccessInterval>,
    pub events: Vec<AuditEntry>,
}

impl AccessModel {
    pub fn practice(&self, id: PracticeId) -> Result<&PracticeView, QueryError> {
        self.practices.get(&id).ok_or(QueryError::PracticeNotFound)
    }

    /// The household, only if it belongs to this practice: another practice's household is
    /// "not found", never "forbidden".
    pub fn household_in(
        &self,
        practice: PracticeId,
        id: HouseholdId,
    ) -> Result<&HouseholdView, QueryError> {
        self.households
            .get(&id)
            .map(|h| &**h)
            .filter(|h| h.practice == practice)
            .ok_or(QueryError::HouseholdNotFound)
    }

    pub fn check(
        &self,
        practice: PracticeId,
        staff: StaffId,
        household: HouseholdId,
        action: Action,
        at: DateTime<Utc>,
    ) -> Result<AccessDecision, QueryError> {
        let p = self.practice(practice)?;
        let h = self.household_in(practice, household)?;
        Ok(decide(p, h, staff, action, at))
    }

    pub fn staff_with_access(
        &self,
        practice: PracticeId,
        household: HouseholdId,
        at: DateTime<Utc>,
    ) -> Result<Vec<StaffAccess>, QueryError> {
        let p = self.practice(practice)?;
        let h = self.household_in(practice, household)?;
        let mut out: Vec<StaffAccess> = p
            .staff
            .values()
            .filter_map(|s| {
                let view = decide(p, h, s.id, Action::View, at);
                view.allowed.then(|| StaffAccess {
                    staff_id: s.id,
                    name: s.name.clone(),
                    role: s.role.at(at).copied(),
                    path: view.path,
                    actions: allowed_actions(p, h, s.id, at),
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.staff_id.cmp(&b.staff_id)));
        Ok(out)
    }

    pub fn households_for_staff(
        &self,
        practice: PracticeId,
        staff: StaffId,
        at: DateTime<Utc>,
    ) -> Result<Vec<HouseholdAccess>, QueryError> {
        let p = self.practice(practice)?;
        if !p.staff.contains_key(&staff) {
            return Err(QueryError::StaffNotFound);
        }
        let mut out: Vec<HouseholdAccess> = p
            .households
            .iter()
            .filter_map(|id| self.households.get(id))
            .filter_map(|h| {
                let view = decide(p, h, staff, Action::View, at);
                view.allowed.then(|| HouseholdAccess {
                    household_id: h.id,
                    name: h.state.name.clone(),
                    path: view.path,
                    actions: allowed_actions(p, h, staff, at),
                })
            })
            .collect();
        out.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then(a.household_id.cmp(&b.household_id))
        });
        Ok(out)
    }

    /// The current roster of a practice, or of one branch.
    pub fn roster(
        &self,
        practice: PracticeId,
        branch: Option<BranchId>,
    ) -> Result<Roster, QueryError> {
        let p = self.practice(practice)?;
        let mut staff: Vec<RosterStaff> = p
            .staff
            .values()
            .filter(|s| branch.is_none() || s.branch == branch)
            .map(|s| RosterStaff {
                staff_id: s.id,
                name: s.name.clone(),
                email: s.email.clone(),
                role: s.role.current().copied(),
                status: s.status.current().copied(),
                branch: s.branch,
            })
            .collect();
        staff.sort_by(|a, b| a.name.cmp(&b.name).then(a.staff_id.cmp(&b.staff_id)));
        let households = p
            .households
            .iter()
            .filter_map(|id| self.households.get(id))
            .filter(|h| branch.is_none() || h.state.branch == branch)
            .map(|h| RosterHousehold {
                household_id: h.id,
                name: h.state.name.clone(),
                primary: h.state.primary,
                secondary: h.state.secondary,
                status: h.state.status,
                archived: h.state.archived,
                branch: h.state.branch,
            })
            .collect();
        Ok(Roster { staff, households })
    }

    pub fn history(
        &self,
        practice: PracticeId,
        household: HouseholdId,
    ) -> Result<History, QueryError> {
        let h = self.household_in(practice, household)?;
        Ok(History {
            household_id: h.id,
            intervals: h
                .intervals
                .iter()
                .filter_map(|i| i.read(&self.history_names))
                .collect(),
            events: h
                .trail
                .iter()
                .filter_map(|t| t.read(&self.history_names))
                .collect(),
        })
    }

    /// This practice's household members by lower-case e-mail (for the XPLAN ID pre-load,
    /// which matches every CSV row against it).
    pub fn members_by_email(
        &self,
        practice: PracticeId,
    ) -> HashMap<String, Vec<(HouseholdId, Member)>> {
        let mut index: HashMap<String, Vec<(HouseholdId, Member)>> = HashMap::new();
        let Ok(p) = self.practice(practice) else {
            return index;
        };
        for h in p.households.iter().filter_map(|id| self.households.get(id)) {
            for m in &h.state.members {
                if let Some(email) = m.fields.get(&hearth_domain::household::ClientField::Email) {
                    index
                        .entry(email.trim().to_lowercase())
                        .or_default()
                        .push((h.id, m.clone()));
                }
            }
        }
        index
    }

    /// Whether one of this household's events refers to the document `sha256`.
    pub fn has_document(
        &self,
        practice: PracticeId,
        household: HouseholdId,
        sha256: &str,
    ) -> Result<bool, QueryError> {
        Ok(self
            .household_in(practice, household)?
            .documents
            .contains(sha256))
    }

    /// What an export names: the household's name and its primary professional's.
    pub fn export_names(
        &self,
        practice: PracticeId,
        household: HouseholdId,
    ) -> Result<(String, String), QueryError> {
        let h = self.household_in(practice, household)?;
        let adviser = h
            .state
            .primary
            .and_then(|s| {
                self.practice(practice)
                    .ok()?
                    .staff
                    .get(&s)
                    .map(|m| m.name.clone())
            })
            .unwrap_or_default();
        Ok((h.state.name.clone(), adviser))
    }
}

pub(crate) fn decide(
    p: &PracticeView,
    h: &HouseholdView,
    staff: StaffId,
    action: Action,
    at: DateTime<Utc>,
) -> AccessDecision {
    if !h.exists_at(at) {
        return AccessDecision {
            allowed: false,
            path: None,
            deny_reason: Some(hearth_domain::access::DenyReason::NoAccess),
        };
    }
    evaluate(
        &FactsAt {
            practice: p,
            household: h,
            at,
        },
        staff,
        action,
    )
}

fn allowed_actions(
    p: &PracticeView,
    h: &HouseholdView,
    staff: StaffId,
    at: DateTime<Utc>,
) -> Vec<Action> {
    Action::iter()
        .filter(|a| decide(p, h, staff, *a, at).allowed)
        .collect()
}
