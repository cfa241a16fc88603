//! Authorisation of every request against the access read model. A household the caller may
//! not view is "not found" (its existence is not revealed); one they may view but not act on is
//! "forbidden". Another practice's ids are always "not found".

use chrono::Utc;
use hearth_domain::{permissions::Permission, roles::Action, HouseholdId, PracticeId, StaffId};

use crate::{auth::Caller, consistency::catch_up, problem::Problem, state::AppState};

/// The calling staff member, who must belong to the practice in the path and be active.
pub async fn staff_of(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
) -> Result<StaffId, Problem> {
    let (token_practice, staff) = match caller {
        Caller::Staff { practice, staff } => (PracticeId(practice), StaffId(staff)),
        Caller::Operator => {
            return Err(Problem::forbidden(
                "staff_only",
                "this route is for the practice's staff, not the platform operator",
            ))
        }
    };
    if token_practice != practice {
        return Err(Problem::not_found("the practice"));
    }
    if !is_active_member(state, practice, staff) {
        catch_up(state).await?;
    }
    if !is_active_member(state, practice, staff) {
        return Err(Problem::forbidden(
            "not_active_staff",
            "your account is not an active member of this practice",
        ));
    }
    Ok(staff)
}

fn is_active_member(state: &AppState, practice: PracticeId, staff: StaffId) -> bool {
    let model = state.projection.read();
    model
        .practices
        .get(&practice)
        .and_then(|p| p.staff.get(&staff))
        .is_some_and(|s| s.active_at(Utc::now()))
}

pub fn require_permission(
    state: &AppState,
    practice: PracticeId,
    staff: StaffId,
    permission: Permission,
) -> Result<(), Problem> {
    let model = state.projection.read();
    let allowed = model
        .practices
        .get(&practice)
        .and_then(|p| p.staff.get(&staff))
        .is_some_and(|s| s.has_permission_at(permission, Utc::now()));
    if allowed {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "permission_required",
            format!("you need the {permission:?} permission for this"),
        ))
    }
}

/// The caller may do `action` on the household now.
pub async fn household(
    state: &AppState,
    practice: PracticeId,
    staff: StaffId,
    household: HouseholdId,
    action: Action,
) -> Result<(), Problem> {
    if state
        .projection
        .read()
        .household_in(practice, household)
        .is_err()
    {
        catch_up(state).await?;
    }
    let model = state.projection.read();
    let now = Utc::now();
    let view = model.check(practice, staff, household, Action::View, now)?;
    if !view.allowed && action != Action::ManageAccess {
        return Err(Problem::not_found("the household"));
    }
    if action != Action::View
        && !model
            .check(practice, staff, household, action, now)?
            .allowed
    {
        return Err(Problem::forbidden(
            "access_denied",
            format!("you may not {action:?} this household").to_lowercase(),
        ));
    }
    Ok(())
}
