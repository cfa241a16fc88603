//! What one event changed in who may open which household: the effective access of each
//! (household, staff member) pair before and after the event, compared. Pure: the caller holds
//! the states on either side of the event (the read side folds the log; tests fold decisions).
//!
//! "Effective access" is what [`crate::access::evaluate`] allows on the household — view, edit,
//! export — and the path that allows viewing. Managing access is a practice-wide permission, not
//! a fact about one household, so it is not part of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    access::{check, AccessPath},
    action_set::ActionSet,
    household::{HouseholdEvent, HouseholdState},
    ids::{HouseholdId, StaffId},
    permissions::Permission,
    practice::{PracticeEvent, PracticeState, StaffMember},
    roles::Action,
};

/// The actions a household's data is opened with.
pub const HOUSEHOLD_ACTIONS: [Action; 3] = [Action::View, Action::Edit, Action::Export];

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EffectiveAccess {
    /// Allowed actions among view, edit and export (never empty: no access is `null`).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Action>))]
    pub actions: ActionSet,
    /// Why viewing is allowed: a direct holding, a practice-wide role, or through a clinician.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub path: AccessPath,
    /// A temporary direct grant ends then (checks deny from that instant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// One pair whose effective access the event changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffChange {
    pub household: HouseholdId,
    pub staff: StaffId,
    pub before: Option<EffectiveAccess>,
    pub after: Option<EffectiveAccess>,
}

/// What kind of change an event makes to access: what webhook subscribers filter on. Derived
/// from the event by exhaustive matches, so a new event does not compile until it is placed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    HouseholdCreated,
    Granted,
    RoleChanged,
    Revoked,
    Expired,
    PrimaryChanged,
    SecondaryChanged,
    Archived,
    Restored,
    StaffActivated,
    StaffDeactivated,
    StaffRoleChanged,
    PermissionChanged,
    /// A manager or assistant assignment gave or took derived access.
    AssignmentChanged,
    OwnershipTransferred,
}

impl ChangeKind {
    /// The kind of a household event that can change access; `None` for one that cannot.
    pub fn of_household(event: &HouseholdEvent) -> Option<ChangeKind> {
        use HouseholdEvent::*;
        Some(match event {
            Created(_) => ChangeKind::HouseholdCreated,
            AccessGranted(_) => ChangeKind::Granted,
            RoleChanged(_) => ChangeKind::RoleChanged,
            AccessRevoked(_) => ChangeKind::Revoked,
            GrantExpired(_) => ChangeKind::Expired,
            PrimaryAssigned(_) => ChangeKind::PrimaryChanged,
            SecondarySet(_) | SecondaryCleared(_) => ChangeKind::SecondaryChanged,
            Archived(_) => ChangeKind::Archived,
            Restored(_) => ChangeKind::Restored,
            StatusChanged(_)
            | BranchAssigned(_)
            | DetailsEdited(_)
            | XplanIdLinked(_)
            | XplanClientSynced(_)
            | PoliciesSynced(_)
            | YourLifeSurveyCompleted(_)
            | ValuesSessionCompleted(_)
            | BestLifePlanExported(_)
            | InvestmentPreferencesCompleted(_)
            | InvestmentPreferencesExported(_)
            | FileNoteCreated(_)
            | FileNoteSkipped(_)
            | FileNoteFailed(_)
            | Erased(_) => return None,
        })
    }

    /// The kind of a practice event that can change access; `None` for one that cannot.
    pub fn of_practice(event: &PracticeEvent) -> Option<ChangeKind> {
        use PracticeEvent::*;
        Some(match event {
            StaffActivated(_) => ChangeKind::StaffActivated,
            StaffDeactivated(_) => ChangeKind::StaffDeactivated,
            StaffRoleChanged(_) => ChangeKind::StaffRoleChanged,
            PermissionSet(_) => ChangeKind::PermissionChanged,
            SupportAssigned(_) | SupportUnassigned(_) | ManagerAssigned(_)
            | ManagerUnassigned(_) => ChangeKind::AssignmentChanged,
            OwnershipTransferred(_) => ChangeKind::OwnershipTransferred,
            // The household stream carries the same change (and is where it is derived).
            HouseholdLeadsChanged(_)
            | Created(_)
            | StaffInvited(_)
            | LicencesPurchased(_)
            | RetentionPolicySet(_)
            | BranchCreated(_)
            | StaffMovedToBranch(_)
            | Renamed(_) => return None,
        })
    }
}

/// The staff member's effective access to the household, `None` when they may not open it.
pub fn effective(
    practice: &PracticeState,
    household: &HouseholdState,
    staff: StaffId,
) -> Option<EffectiveAccess> {
    if !may_reach(practice, household, staff) {
        return None;
    }
    let mut path = None;
    let mut actions = ActionSet::default();
    for action in HOUSEHOLD_ACTIONS {
        let decision = check(practice, household, staff, action);
        if decision.allowed {
            actions.insert(action);
            path = path.or(decision.path);
        }
    }
    let path = path?;
    let expires_at = match path {
        AccessPath::Direct { .. } => household.grant_expiries.get(&staff).copied(),
        _ => None,
    };
    Some(EffectiveAccess {
        actions,
        path,
        expires_at,
    })
}

/// A cheap superset of "has any access": every path of the access rule needs one of these
/// facts, so a pair failing it needs no evaluation.
fn may_reach(practice: &PracticeState, household: &HouseholdState, staff: StaffId) -> bool {
    if !household.exists() || !practice.is_active(staff) {
        return false;
    }
    let Some(m) = practice.member(staff) else {
        return false;
    };
    m.role.sees_all_households()
        || household.holding(staff).is_some()
        || m.manages.iter().any(|p| household.holding(*p).is_some())
        || m.assists.iter().any(|p| household.holding(*p).is_some())
        || (household.archived && practice.has_permission(staff, Permission::ArchiveHouseholds))
}

/// The changes a household event made, given the practice as it stands and the household on
/// either side of the event. Staff in the practice's order.
pub fn household_changes(
    practice: &PracticeState,
    household: HouseholdId,
    before: &HouseholdState,
    after: &HouseholdState,
) -> Vec<StaffChange> {
    if same_access_facts(before, after) {
        return Vec::new();
    }
    practice
        .staff
        .keys()
        .filter_map(|staff| diff(practice, practice, household, before, after, *staff))
        .collect()
}

/// The changes a practice event made, given the practice on either side of it and its
/// households (in the order changes should be listed). Only staff whose own record changed, and
/// those whose access flows through them (their managers and assistants), are compared.
pub fn practice_changes<'a>(
    before: &PracticeState,
    after: &PracticeState,
    households: impl IntoIterator<Item = (HouseholdId, &'a HouseholdState)>,
) -> Vec<StaffChange> {
    let changed: Vec<StaffId> = after
        .staff
        .keys()
        .chain(before.staff.keys())
        .filter(|s| !same_member(before.member(**s), after.member(**s)))
        .copied()
        .collect();
    if changed.is_empty() {
        return Vec::new();
    }
    let mut affected: Vec<StaffId> = before
        .staff
        .values()
        .chain(after.staff.values())
        .filter(|m| {
            changed.contains(&m.id)
                || m.manages
                    .iter()
                    .chain(m.assists.iter())
                    .any(|p| changed.contains(p))
        })
        .map(|m| m.id)
        .collect();
    affected.sort();
    affected.dedup();
    let mut out = Vec::new();
    for (id, household) in households {
        for staff in &affected {
            out.extend(diff(before, after, id, household, household, *staff));
        }
    }
    out
}

fn diff(
    practice_before: &PracticeState,
    practice_after: &PracticeState,
    household: HouseholdId,
    before: &HouseholdState,
    after: &HouseholdState,
    staff: StaffId,
) -> Option<StaffChange> {
    let was = effective(practice_before, before, staff);
    let now = effective(practice_after, after, staff);
    (was != now).then_some(StaffChange {
        household,
        staff,
        before: was,
        after: now,
    })
}

fn same_access_facts(a: &HouseholdState, b: &HouseholdState) -> bool {
    a.exists() == b.exists()
        && a.primary == b.primary
        && a.secondary == b.secondary
        && a.grants == b.grants
        && a.grant_expiries == b.grant_expiries
        && a.archived == b.archived
}

fn same_member(a: Option<&StaffMember>, b: Option<&StaffMember>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.role == b.role
                && a.status == b.status
                && a.overrides == b.overrides
                && a.assists == b.assists
                && a.manages == b.manages
        }
        (None, None) => true,
        _ => false,
    }
}
