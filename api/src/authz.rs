//! Authorisation of every request against the access read model. A household the caller may
//! not view is "not found" (its existence is not revealed); one they may view but not act on is
//! "forbidden". Another practice's ids are always "not found".

use chrono::Utc;
use hearth_domain::{permissions::Permission, roles::Action, HouseholdId, PracticeId, StaffId};

use hearth_projections::AccessModel;

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

/// The caller, when the read model already shows they may ask about `household` (and about
/// `about`): active staff of this practice who may view it, or asking about themselves. Answered
/// under the caller's one read of the model; `None` sends the request down the full path, which
/// catches up with the log before saying "not found" and words each refusal.
pub fn may_ask_at_once(
    model: &AccessModel,
    caller: Caller,
    practice: PracticeId,
    household: HouseholdId,
    about: Option<StaffId>,
) -> Option<StaffId> {
    let Caller::Staff {
        practice: token_practice,
        staff,
    } = caller
    else {
        return None;
    };
    if token_practice != practice.0 {
        return None;
    }
    let (me, now) = (StaffId(staff), Utc::now());
    if !model
        .practices
        .get(&practice)?
        .staff
        .get(&me)?
        .active_at(now)
    {
        return None;
    }
    if about == Some(me) {
        model.household_in(practice, household).ok()?;
    } else if !model
        .check(practice, me, household, Action::View, now)
        .ok()?
        .allowed
    {
        return None;
    }
    Some(me)
}
