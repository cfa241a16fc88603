//! Fine-grained permissions: defaults per role, overrides per staff member set by the owner.

use serde::{Deserialize, Serialize};

use crate::roles::PracticeRole;

/// `Permission::iter()` lists them all; their snake_case names are the API's.
#[derive(
    Copy,
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumIter,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ManageHouseholdAccess,
    ManageIntegrations,
    InviteStaff,
    /// Activate, deactivate, change roles, assign assistants and managers.
    ManageStaff,
    ManagePermissions,
    ManageBranches,
    AssignBranches,
    ArchiveHouseholds,
    ExportRoster,
    AddHouseholds,
    /// Billing: the owner's alone, never grantable.
    ViewBilling,
    /// Buying licences is billing too.
    ManageLicences,
    /// Erase a household's personal data once its retention period has passed (owner by default).
    EraseHouseholds,
    /// Erase before the retention period has passed (recorded on the erasure).
    OverrideRetention,
    /// Set how long archived households are kept, and whether they are erased when that ends.
    ManageRetention,
}

impl Permission {
    pub fn is_billing(self) -> bool {
        matches!(self, Permission::ViewBilling | Permission::ManageLicences)
    }
}

/// Defaults per role. The owner has everything; a super admin everything but billing and
/// permissions and erasure (the owner may delegate those); a practice manager runs households, staff and
/// integrations (Lumiant); managers, professionals and support add households.
pub fn role_default(role: PracticeRole, p: Permission) -> bool {
    use Permission::*;
    match role {
        PracticeRole::Owner => true,
        // Erasure and retention are the owner's until delegated: they destroy data for good.
        PracticeRole::SuperAdmin => {
            !p.is_billing()
                && !matches!(
                    p,
                    ManagePermissions | EraseHouseholds | OverrideRetention | ManageRetention
                )
        }
        PracticeRole::PracticeManager => matches!(
            p,
            ManageHouseholdAccess
                | ManageIntegrations
                | InviteStaff
                | ManageStaff
                | ManageBranches
                | AssignBranches
                | ArchiveHouseholds
                | ExportRoster
                | AddHouseholds
        ),
        PracticeRole::Manager | PracticeRole::Professional | PracticeRole::Support => {
            p == AddHouseholds
        }
    }
}
