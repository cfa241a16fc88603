//! The practice's directories: households a staff member may see (searched, filtered, paged by
//! cursor) and the staff list. Visibility is the access rule itself, so a list never shows a
//! household its reader could not open.

use chrono::{DateTime, Utc};
use hearth_domain::{
    household::{ClientField, HouseholdStatus},
    permissions::Permission,
    practice::StaffStatus,
    roles::{Action, PracticeRole},
    BranchId, HouseholdId, PracticeId, StaffId,
};
use serde::Serialize;
use strum::IntoEnumIterator;

use crate::{
    model::{AccessModel, HouseholdView},
    queries::{decide, QueryError},
};

/// The most households one page answers; larger requests are clamped to it.
pub const MAX_PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, Default)]
pub struct HouseholdFilter {
    /// Matched, ignoring case, against the household's name, its members' names and emails, and
    /// their XPLAN client ids.
    pub text: Option<String>,
    pub primary: Option<StaffId>,
    pub branch: Option<BranchId>,
    pub status: Option<HouseholdStatus>,
    /// Archived households are left out unless asked for.
    pub include_archived: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HouseholdSummary {
    pub household_id: HouseholdId,
    pub name: String,
    pub emails: Vec<String>,
    pub xplan_ids: Vec<String>,
    pub primary: Option<StaffId>,
    pub primary_name: Option<String>,
    pub secondary: Option<StaffId>,
    pub status: HouseholdStatus,
    pub archived: bool,
    pub branch: Option<BranchId>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HouseholdPage {
    pub households: Vec<HouseholdSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<HouseholdId>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StaffEntry {
    pub staff_id: StaffId,
    pub name: String,
    pub email: String,
    pub role: Option<PracticeRole>,
    pub status: Option<StaffStatus>,
    pub branch: Option<BranchId>,
    pub branch_name: Option<String>,
    /// Effective permissions now (role defaults with the owner's overrides).
    pub permissions: Vec<Permission>,
}

fn sort_key(h: &HouseholdView) -> (String, HouseholdId) {
    (h.state.name.to_lowercase(), h.id)
}

/// The filters other than the search text (which is matched against the practice's search index).
fn matches(h: &HouseholdView, f: &HouseholdFilter) -> bool {
    let s = &h.state;
    if (s.archived && !f.include_archived)
        || f.primary.is_some_and(|p| s.primary != Some(p))
        || f.branch.is_some_and(|b| s.branch != Some(b))
        || f.status.is_some_and(|st| s.status != st)
    {
        return false;
    }
    true
}

impl AccessModel {
    /// Households of the practice that `viewer` may view at `at` and that match `filter`, in name
    /// order, after the household `after` (the previous page's cursor).
    pub fn search_households(
        &self,
        practice: PracticeId,
        viewer: StaffId,
        filter: &HouseholdFilter,
        after: Option<HouseholdId>,
        limit: usize,
        at: DateTime<Utc>,
    ) -> Result<HouseholdPage, QueryError> {
        let p = self.practice(practice)?;
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let start = match after {
            Some(id) => Some(sort_key(self.household_in(practice, id)?)),
            None => None,
        };
        let needle = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase);
        let mut found: Vec<&HouseholdView> = match needle.as_deref() {
            // A text search scans the practice's contiguous search texts, then orders the hits.
            Some(needle) => {
                let exact = format!("\u{1}{needle}\u{1}");
                let mut hits: Vec<((String, HouseholdId), &HouseholdView)> = p
                    .search
                    .iter()
                    .filter(|(_, text, xplan)| text.contains(needle) || xplan.contains(&exact))
                    .filter_map(|(id, _, _)| self.households.get(id).map(|h| &**h))
                    .filter(|h| matches(h, filter))
                    .map(|h| (sort_key(h), h))
                    .filter(|(key, _)| start.as_ref().is_none_or(|s| key > s))
                    .filter(|(_, h)| decide(p, h, viewer, Action::View, at).allowed)
                    .collect();
                hits.sort_by(|a, b| a.0.cmp(&b.0));
                hits.into_iter().take(limit + 1).map(|(_, h)| h).collect()
            }
            // Otherwise walk the name index from the cursor; a page needs `limit + 1` matches.
            None => {
                let from = match &start {
                    Some(key) => std::ops::Bound::Excluded(key.clone()),
                    None => std::ops::Bound::Unbounded,
                };
                p.by_name
                    .range((from, std::ops::Bound::Unbounded))
                    .filter_map(|(_, id)| self.households.get(id).map(|h| &**h))
                    .filter(|h| matches(h, filter))
                    .filter(|h| decide(p, h, viewer, Action::View, at).allowed)
                    .take(limit + 1)
                    .collect()
            }
        };
        let more = found.len() > limit;
        found.truncate(limit);
        let households = found
            .iter()
            .map(|h| HouseholdSummary {
                household_id: h.id,
                name: h.state.name.clone(),
                emails: h
                    .state
                    .members
                    .iter()
                    .filter_map(|m| m.fields.get(&ClientField::Email).cloned())
                    .collect(),
                xplan_ids: h
                    .state
                    .members
                    .iter()
                    .filter_map(|m| m.xplan.as_ref().map(|x| x.xplan_id.clone()))
                    .collect(),
                primary: h.state.primary,
                primary_name: h
                    .state
                    .primary
                    .and_then(|s| p.staff.get(&s))
                    .map(|s| s.name.clone()),
                secondary: h.state.secondary,
                status: h.state.status,
                archived: h.state.archived,
                branch: h.state.branch,
            })
            .collect();
        Ok(HouseholdPage {
            households,
            next_cursor: if more {
                found.last().map(|h| h.id)
            } else {
                None
            },
        })
    }

    /// Every staff member of the practice, in name order, with effective permissions at `at`.
    pub fn staff_list(
        &self,
        practice: PracticeId,
        at: DateTime<Utc>,
    ) -> Result<Vec<StaffEntry>, QueryError> {
        let p = self.practice(practice)?;
        let mut out: Vec<StaffEntry> = p
            .staff
            .values()
            .map(|s| {
                let branch = p.state.member(s.id).and_then(|m| m.branch);
                StaffEntry {
                    staff_id: s.id,
                    name: s.name.clone(),
                    email: s.email.clone(),
                    role: s.role.at(at).copied(),
                    status: s.status.at(at).copied(),
                    branch,
                    branch_name: branch.and_then(|b| p.branches.get(&b).cloned()),
                    permissions: Permission::iter()
                        .filter(|perm| s.has_permission_at(*perm, at))
                        .collect(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.staff_id.cmp(&b.staff_id)));
        Ok(out)
    }
}
