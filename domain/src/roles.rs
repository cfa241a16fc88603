//! Practice roles, household roles, and what each household role allows.

use serde::{Deserialize, Serialize};

/// One per staff member (Lumiant + Luminello roles).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PracticeRole {
    Owner,
    SuperAdmin,
    PracticeManager,
    /// Manages one or more professionals; sees their households.
    Manager,
    /// Adviser / clinician ("user").
    Professional,
    /// Administrative assistant: assigned to professionals; never primary or secondary.
    Support,
}

impl PracticeRole {
    /// May be a household's primary or secondary professional.
    pub fn can_lead_households(self) -> bool {
        !matches!(self, PracticeRole::Support)
    }

    /// Sees every household of the practice by role alone.
    pub fn sees_all_households(self) -> bool {
        matches!(
            self,
            PracticeRole::Owner | PracticeRole::SuperAdmin | PracticeRole::PracticeManager
        )
    }

    /// Occupies a purchased licence while invited or active (clinicians and advisers, as in
    /// Luminello; support staff are not licensed seats).
    pub fn consumes_licence(self) -> bool {
        !matches!(self, PracticeRole::Support)
    }

    /// Counts as "a professional" for the creation rule (first adviser of the practice).
    pub fn is_adviser(self) -> bool {
        matches!(self, PracticeRole::Professional | PracticeRole::Manager)
    }
}

/// A staff member's role on one household, besides primary and secondary.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdRole {
    Professional,
    Paraplanner,
    Support,
    ReadOnly,
}

/// What someone may do with a household. `Action::iter()` lists them all.
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
pub enum Action {
    View,
    Edit,
    Export,
    /// Change who has access (also needs the "manage household access" permission).
    ManageAccess,
}

/// How someone holds a household directly.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holding {
    Primary,
    Secondary,
    Role(HouseholdRole),
}

/// The access table for direct holdings. `ManageAccess` is never granted by a holding: it comes
/// from the practice-level permission alone.
pub fn holding_allows(holding: Holding, action: Action) -> bool {
    match (holding, action) {
        (_, Action::ManageAccess) => false,
        (Holding::Primary | Holding::Secondary | Holding::Role(HouseholdRole::Professional), _) => {
            true
        }
        (
            Holding::Role(HouseholdRole::Paraplanner),
            Action::View | Action::Edit | Action::Export,
        ) => true,
        (Holding::Role(HouseholdRole::Support), Action::View | Action::Edit) => true,
        (Holding::Role(HouseholdRole::ReadOnly), Action::View) => true,
        _ => false,
    }
}

/// What a manager may do with the households of a professional they manage, and an assistant
/// with the households of a professional they are assigned to.
pub fn manager_allows(action: Action) -> bool {
    matches!(action, Action::View | Action::Edit | Action::Export)
}

pub fn assistant_allows(action: Action) -> bool {
    matches!(action, Action::View | Action::Edit)
}

/// Practice-wide roles (owner, super admin, practice manager) view, edit and export everything.
pub fn practice_wide_allows(action: Action) -> bool {
    matches!(action, Action::View | Action::Edit | Action::Export)
}
