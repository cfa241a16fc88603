//! A practice's staff facts over time.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use hearth_domain::{
    permissions::{role_default, Permission},
    practice::{PracticeState, StaffStatus},
    roles::PracticeRole,
    BranchId, HouseholdId, PracticeId, StaffId,
};

use serde::{Deserialize, Serialize};

use crate::timeline::Timeline;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffView {
    pub id: StaffId,
    pub name: String,
    pub email: String,
    pub branch: Option<BranchId>,
    pub role: Timeline<PracticeRole>,
    pub status: Timeline<StaffStatus>,
    pub overrides: Vec<(Permission, Timeline<bool>)>,
    pub assists: Vec<(StaffId, Timeline<()>)>,
    pub manages: Vec<(StaffId, Timeline<()>)>,
}

impl StaffView {
    pub fn active_at(&self, t: DateTime<Utc>) -> bool {
        self.status.at(t) == Some(&StaffStatus::Active)
    }

    pub fn has_permission_at(&self, permission: Permission, t: DateTime<Utc>) -> bool {
        let Some(role) = self.role.at(t) else {
            return false;
        };
        if !self.active_at(t) {
            return false;
        }
        if *role == PracticeRole::Owner {
            return true;
        }
        if permission.is_billing() {
            return false;
        }
        let overridden = self
            .overrides
            .iter()
            .find(|(p, _)| *p == permission)
            .and_then(|(_, tl)| tl.at(t))
            .copied();
        overridden.unwrap_or_else(|| role_default(*role, permission))
    }

    pub fn assists_at(&self, professional: StaffId, t: DateTime<Utc>) -> bool {
        self.assists
            .iter()
            .any(|(p, tl)| *p == professional && tl.at(t).is_some())
    }

    pub fn manages_at(&self, professional: StaffId, t: DateTime<Utc>) -> bool {
        self.manages
            .iter()
            .any(|(p, tl)| *p == professional && tl.at(t).is_some())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PracticeView {
    pub id: PracticeId,
    pub name: String,
    pub created_at: Option<DateTime<Utc>>,
    pub staff: HashMap<StaffId, StaffView>,
    pub branches: BTreeMap<BranchId, String>,
    pub households: Vec<HouseholdId>,
    /// The practice's households in name order (lower-cased name, id): the household search walks
    /// it from the cursor and stops at a page, instead of sorting every household per request.
    pub by_name: std::collections::BTreeSet<(String, HouseholdId)>,
    /// Each household's search text and `\u{1}`-delimited XPLAN ids, side by side in one vector
    /// so a text search scans contiguous memory and looks up only the households that match.
    pub search: Vec<(HouseholdId, String, String)>,
    pub search_slot: HashMap<HouseholdId, usize>,
    /// The domain's own fold of the practice stream; diffed to record changes over time.
    pub state: PracticeState,
    /// Every access change of the practice's households, in log order (the change feed). Only
    /// its tables are serialised with the view: a snapshot keeps the rows in slices of their own
    /// that decode on every core (snapshot::format).
    #[serde(default)]
    pub changes: super::ChangeList,
}

impl PracticeView {
    /// Records, at `at`, whatever changed between the previous state and the current one.
    pub fn record_changes(&mut self, before: &PracticeState, at: DateTime<Utc>) {
        self.name = self.state.name.clone();
        self.branches = self.state.branches.clone();
        for (id, m) in &self.state.staff {
            let view = self.staff.entry(*id).or_insert_with(|| StaffView {
                id: *id,
                name: m.name.clone(),
                email: m.email.clone(),
                branch: m.branch,
                role: Timeline::default(),
                status: Timeline::default(),
                overrides: Vec::new(),
                assists: Vec::new(),
                manages: Vec::new(),
            });
            view.branch = m.branch;
            let old = before.staff.get(id);
            if old.map(|o| o.role) != Some(m.role) {
                view.role.set(at, Some(m.role));
            }
            if old.map(|o| o.status) != Some(m.status) {
                view.status.set(at, Some(m.status));
            }
            for (permission, granted) in &m.overrides {
                if old.and_then(|o| o.overrides.get(permission)) != Some(granted) {
                    timeline_for(&mut view.overrides, *permission).set(at, Some(*granted));
                }
            }
            let old_assists = old.map(|o| o.assists.clone()).unwrap_or_default();
            let old_manages = old.map(|o| o.manages.clone()).unwrap_or_default();
            diff_links(&mut view.assists, &old_assists, &m.assists, at);
            diff_links(&mut view.manages, &old_manages, &m.manages, at);
        }
    }
}

fn timeline_for<K: PartialEq + Copy, V: Clone + PartialEq>(
    list: &mut Vec<(K, Timeline<V>)>,
    key: K,
) -> &mut Timeline<V> {
    if let Some(i) = list.iter().position(|(k, _)| *k == key) {
        return &mut list[i].1;
    }
    list.push((key, Timeline::default()));
    &mut list.last_mut().expect("just pushed").1
}

fn diff_links(
    list: &mut Vec<(StaffId, Timeline<()>)>,
    old: &std::collections::BTreeSet<StaffId>,
    new: &std::collections::BTreeSet<StaffId>,
    at: DateTime<Utc>,
) {
    for added in new.difference(old) {
        timeline_for(list, *added).set(at, Some(()));
    }
    for removed in old.difference(new) {
        timeline_for(list, *removed).set(at, None);
    }
}
