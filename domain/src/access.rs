//! The one access rule: may staff S do action A on a household? Written against [`AccessFacts`]
//! so the same rule answers from current state (decisions, live checks) and from the read side's
//! history at a past instant (as-of checks).

use serde::{Deserialize, Serialize};

use crate::{
    household::HouseholdState,
    ids::StaffId,
    permissions::Permission,
    practice::{PracticeState, StaffStatus},
    roles::{
        assistant_allows, holding_allows, manager_allows, practice_wide_allows, Action, Holding,
        PracticeRole,
    },
};

/// What the rule needs to know about one practice and one household at one instant.
pub trait AccessFacts {
    fn staff_active(&self, staff: StaffId) -> bool;
    /// None when the staff member is not part of this practice.
    fn role_of(&self, staff: StaffId) -> Option<PracticeRole>;
    fn has_permission(&self, staff: StaffId, permission: Permission) -> bool;
    fn household_archived(&self) -> bool;
    fn holding(&self, staff: StaffId) -> Option<Holding>;
    /// Holders of the household that `staff` manages (as a manager).
    fn managed_holders(&self, manager: StaffId) -> Vec<StaffId>;
    /// Holders of the household that `staff` assists (as an administrative assistant).
    fn assisted_holders(&self, support: StaffId) -> Vec<StaffId>;
}

/// Why access was allowed (or the closest reason it was not).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "path", rename_all = "snake_case")]
pub enum AccessPath {
    /// Primary, secondary or a granted household role.
    Direct { holding: Holding },
    /// Owner, super admin or practice manager: every household.
    PracticeWide { role: PracticeRole },
    /// Through a clinician the staff member manages; `capped_by` is that clinician's own
    /// holding, which bounds what flows through them.
    ManagerOf {
        professional: StaffId,
        capped_by: Holding,
    },
    /// Through a clinician the staff member assists, capped by the clinician's own holding.
    AssistantOf {
        professional: StaffId,
        capped_by: Holding,
    },
    /// Changing access comes from the "manage household access" permission.
    Permission { permission: Permission },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    NotStaffOfPractice,
    StaffNotActive,
    HouseholdArchived,
    NoAccess,
    MissingPermission,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDecision {
    pub allowed: bool,
    pub path: Option<AccessPath>,
    pub deny_reason: Option<DenyReason>,
}

impl AccessDecision {
    fn allow(path: AccessPath) -> Self {
        Self {
            allowed: true,
            path: Some(path),
            deny_reason: None,
        }
    }
    fn deny(reason: DenyReason) -> Self {
        Self {
            allowed: false,
            path: None,
            deny_reason: Some(reason),
        }
    }
}

/// The rule (PRODUCT.md §1–§3):
/// - only active staff of the household's practice have any access;
/// - changing access needs the "manage household access" permission;
/// - an archived household can be viewed only by holders of "archive households" (to restore
///   it); nobody edits or exports it;
/// - otherwise a direct holding, a practice-wide role, managing a holder, or assisting a holder
///   allows what [`crate::roles`] says, checked in that order;
/// - access that flows through a clinician (as their manager or assistant) never exceeds that
///   clinician's own: the clinician must be active and their holding must allow the action too.
pub fn evaluate<F: AccessFacts + ?Sized>(
    facts: &F,
    staff: StaffId,
    action: Action,
) -> AccessDecision {
    let Some(role) = facts.role_of(staff) else {
        return AccessDecision::deny(DenyReason::NotStaffOfPractice);
    };
    if !facts.staff_active(staff) {
        return AccessDecision::deny(DenyReason::StaffNotActive);
    }
    if action == Action::ManageAccess {
        return if facts.has_permission(staff, Permission::ManageHouseholdAccess) {
            AccessDecision::allow(AccessPath::Permission {
                permission: Permission::ManageHouseholdAccess,
            })
        } else {
            AccessDecision::deny(DenyReason::MissingPermission)
        };
    }
    if facts.household_archived() {
        return if action == Action::View
            && facts.has_permission(staff, Permission::ArchiveHouseholds)
        {
            AccessDecision::allow(AccessPath::Permission {
                permission: Permission::ArchiveHouseholds,
            })
        } else {
            AccessDecision::deny(DenyReason::HouseholdArchived)
        };
    }
    if let Some(holding) = facts.holding(staff) {
        if holding_allows(holding, action) {
            return AccessDecision::allow(AccessPath::Direct { holding });
        }
    }
    if role.sees_all_households() && practice_wide_allows(action) {
        return AccessDecision::allow(AccessPath::PracticeWide { role });
    }
    if role == PracticeRole::Manager && manager_allows(action) {
        if let Some((professional, capped_by)) =
            through_clinician(facts, facts.managed_holders(staff), action)
        {
            return AccessDecision::allow(AccessPath::ManagerOf {
                professional,
                capped_by,
            });
        }
    }
    if role == PracticeRole::Support && assistant_allows(action) {
        if let Some((professional, capped_by)) =
            through_clinician(facts, facts.assisted_holders(staff), action)
        {
            return AccessDecision::allow(AccessPath::AssistantOf {
                professional,
                capped_by,
            });
        }
    }
    AccessDecision::deny(DenyReason::NoAccess)
}

/// The first clinician among `holders` whose own access allows `action`, with their holding.
fn through_clinician<F: AccessFacts + ?Sized>(
    facts: &F,
    holders: Vec<StaffId>,
    action: Action,
) -> Option<(StaffId, Holding)> {
    holders.into_iter().find_map(|clinician| {
        let holding = facts.holding(clinician)?;
        (facts.staff_active(clinician) && holding_allows(holding, action))
            .then_some((clinician, holding))
    })
}

/// Current state as access facts.
pub struct CurrentFacts<'a> {
    pub practice: &'a PracticeState,
    pub household: &'a HouseholdState,
}

impl AccessFacts for CurrentFacts<'_> {
    fn staff_active(&self, staff: StaffId) -> bool {
        self.practice
            .member(staff)
            .is_some_and(|m| m.status == StaffStatus::Active)
    }
    fn role_of(&self, staff: StaffId) -> Option<PracticeRole> {
        self.practice.role_of(staff)
    }
    fn has_permission(&self, staff: StaffId, permission: Permission) -> bool {
        self.practice.has_permission(staff, permission)
    }
    fn household_archived(&self) -> bool {
        self.household.archived
    }
    fn holding(&self, staff: StaffId) -> Option<Holding> {
        self.household.holding(staff)
    }
    fn managed_holders(&self, manager: StaffId) -> Vec<StaffId> {
        let managed: Vec<StaffId> = self.practice.managed_professionals(manager).collect();
        self.household
            .holders()
            .into_iter()
            .map(|(s, _)| s)
            .filter(|s| managed.contains(s))
            .collect()
    }
    fn assisted_holders(&self, support: StaffId) -> Vec<StaffId> {
        let Some(m) = self.practice.member(support) else {
            return vec![];
        };
        self.household
            .holders()
            .into_iter()
            .map(|(s, _)| s)
            .filter(|s| m.assists.contains(s))
            .collect()
    }
}

pub fn check(
    practice: &PracticeState,
    household: &HouseholdState,
    staff: StaffId,
    action: Action,
) -> AccessDecision {
    evaluate(
        &CurrentFacts {
            practice,
            household,
        },
        staff,
        action,
    )
}
