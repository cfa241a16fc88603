use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    codec::events,
    context::EventMeta,
    ids::{BranchId, HouseholdId, PracticeId, StaffId},
    permissions::Permission,
    roles::PracticeRole,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffProfile {
    pub staff_id: StaffId,
    pub name: String,
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PracticeCreated {
    pub meta: EventMeta,
    pub practice_id: PracticeId,
    pub name: String,
    /// The owner is active from the start.
    pub owner: StaffProfile,
    pub licences: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffInvited {
    pub meta: EventMeta,
    pub profile: StaffProfile,
    pub role: PracticeRole,
    #[serde(default)]
    pub branch: Option<BranchId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffChanged {
    pub meta: EventMeta,
    pub staff_id: StaffId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffRoleChanged {
    pub meta: EventMeta,
    pub staff_id: StaffId,
    pub from: PracticeRole,
    pub to: PracticeRole,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PermissionSet {
    pub meta: EventMeta,
    pub staff_id: StaffId,
    pub permission: Permission,
    pub granted: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LicencesPurchased {
    pub meta: EventMeta,
    pub count: u32,
    /// Licences held after the purchase.
    pub total: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BranchCreated {
    pub meta: EventMeta,
    pub branch_id: BranchId,
    pub name: String,
}

/// A support↔professional or manager↔professional link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub meta: EventMeta,
    /// The assistant or the manager.
    pub staff_id: StaffId,
    pub professional: StaffId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OwnershipTransferred {
    pub meta: EventMeta,
    pub from: StaffId,
    pub to: StaffId,
    /// The previous owner's role from now on.
    pub previous_owner_becomes: PracticeRole,
}

/// Mirrors a household's primary/secondary on the practice stream, so practice decisions
/// (deactivation, role changes) see who leads what without reading every household.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HouseholdLeadsChanged {
    pub meta: EventMeta,
    pub household_id: HouseholdId,
    pub primary: StaffId,
    #[serde(default)]
    pub secondary: Option<StaffId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffMovedToBranch {
    pub meta: EventMeta,
    pub staff_id: StaffId,
    pub from: Option<BranchId>,
    pub to: Option<BranchId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PracticeRenamed {
    pub meta: EventMeta,
    pub from: String,
    pub to: String,
}

/// Records kept for `years_after_archive` years after a household is archived (seven by default:
/// the usual term for financial-advice records).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    pub years_after_archive: u16,
    /// Hearth erases households past retention by itself.
    pub auto_erase: bool,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            years_after_archive: 7,
            auto_erase: false,
        }
    }
}

impl RetentionPolicy {
    pub const MAX_YEARS: u16 = 100;

    /// When the retention period of a household archived at `archived_at` ends.
    pub fn ends(&self, archived_at: DateTime<Utc>) -> DateTime<Utc> {
        archived_at
            .checked_add_months(chrono::Months::new(
                u32::from(self.years_after_archive) * 12,
            ))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetentionPolicySet {
    pub meta: EventMeta,
    pub policy: RetentionPolicy,
}

events!(
    /// Events of the `practice-{id}` stream.
    PracticeEvent / PracticeEventKind {
        Created(PracticeCreated) = "practice.created", 1,
        StaffInvited(StaffInvited) = "practice.staff_invited", 1,
        StaffActivated(StaffChanged) = "practice.staff_activated", 1,
        StaffDeactivated(StaffChanged) = "practice.staff_deactivated", 1,
        StaffRoleChanged(StaffRoleChanged) = "practice.staff_role_changed", 1,
        PermissionSet(PermissionSet) = "practice.permission_set", 1,
        LicencesPurchased(LicencesPurchased) = "practice.licences_purchased", 1,
        BranchCreated(BranchCreated) = "practice.branch_created", 1,
        SupportAssigned(Assignment) = "practice.support_assigned", 1,
        SupportUnassigned(Assignment) = "practice.support_unassigned", 1,
        ManagerAssigned(Assignment) = "practice.manager_assigned", 1,
        ManagerUnassigned(Assignment) = "practice.manager_unassigned", 1,
        OwnershipTransferred(OwnershipTransferred) = "practice.ownership_transferred", 1,
        HouseholdLeadsChanged(HouseholdLeadsChanged) = "practice.household_leads_changed", 1,
        StaffMovedToBranch(StaffMovedToBranch) = "practice.staff_moved_to_branch", 1,
        Renamed(PracticeRenamed) = "practice.renamed", 1,
        RetentionPolicySet(RetentionPolicySet) = "practice.retention_policy_set", 1,
    }
);
