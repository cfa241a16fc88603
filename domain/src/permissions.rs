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
}

impl Permission {
    pub fn is_billing(self) -> bool {
        matches!(self, Permission::ViewBilling | Permission::ManageLicences)
    }
}

/// Defaults per role. The owner has everything; a super admin everything but billing and
/// permissions (the owner may delegate the latter); a practice manager runs households, staff and
/// integrations (Lumiant); managers, professionals and support add households.
pub fn role_default(role: PracticeRole, p: Permission) -> bool {
    use Permission::*;
    match role {
        PracticeRole::Owner => true,
        PracticeRole::SuperAdmin => !p.is_billing() && p != ManagePermissions,
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
