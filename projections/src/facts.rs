//! The read model as the domain's access facts at an instant, so checks — now or as of any past
//! time — run the domain's one access rule.

use chrono::{DateTime, Utc};
use hearth_domain::{
    access::AccessFacts,
    permissions::Permission,
    roles::{Holding, PracticeRole},
    StaffId,
};

use crate::model::{HouseholdView, PracticeView};

pub struct FactsAt<'a> {
    pub practice: &'a PracticeView,
    pub household: &'a HouseholdView,
    pub at: DateTime<Utc>,
}

impl AccessFacts for FactsAt<'_> {
    fn staff_active(&self, staff: StaffId) -> bool {
        self.practice
            .staff
            .get(&staff)
            .is_some_and(|s| s.active_at(self.at))
    }

    fn role_of(&self, staff: StaffId) -> Option<PracticeRole> {
        self.practice
            .staff
            .get(&staff)
            .and_then(|s| s.role.at(self.at))
            .copied()
    }

    fn has_permission(&self, staff: StaffId, permission: Permission) -> bool {
        self.practice
            .staff
            .get(&staff)
            .is_some_and(|s| s.has_permission_at(permission, self.at))
    }

    fn household_archived(&self) -> bool {
        self.household.archived.at(self.at) == Some(&true)
    }

    fn holding(&self, staff: StaffId) -> Option<Holding> {
        self.household.holding_at(staff, self.at)
    }

    fn managed_holders(&self, manager: StaffId) -> Vec<StaffId> {
        let Some(m) = self.practice.staff.get(&manager) else {
            return vec![];
        };
        self.household
            .holders_at(self.at)
            .map(|(s, _)| s)
            .filter(|s| m.manages_at(*s, self.at))
            .collect()
    }

    fn assisted_holders(&self, support: StaffId) -> Vec<StaffId> {
        let Some(m) = self.practice.staff.get(&support) else {
            return vec![];
        };
        self.household
            .holders_at(self.at)
            .map(|(s, _)| s)
            .filter(|s| m.assists_at(*s, self.at))
            .collect()
    }
}
