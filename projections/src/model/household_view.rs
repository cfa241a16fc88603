//! A household's access facts over time, its access intervals, and its current details.

use chrono::{DateTime, Utc};
use hearth_domain::{
    household::{HouseholdEvent, HouseholdState, HouseholdStatus},
    roles::Holding,
    BranchId, HouseholdId, PracticeId, StaffId,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::history::{HistoryNames, IntervalRow, TrailRow};
use crate::{
    names::{ActorName, EventType},
    snug,
    timeline::Timeline,
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HouseholdView {
    pub id: HouseholdId,
    pub practice: PracticeId,
    pub created_at: DateTime<Utc>,
    pub holdings: Vec<(StaffId, Timeline<Holding>)>,
    pub archived: Timeline<bool>,
    pub status: Timeline<HouseholdStatus>,
    pub branch: Timeline<BranchId>,
    /// Each direct holding's stretch, and each access-relevant event, naming their actors and
    /// event types in the model's [`HistoryNames`].
    pub intervals: Vec<IntervalRow>,
    pub trail: Vec<TrailRow>,
    /// The domain's own fold of the stream: current details (members, fields, policies).
    pub state: HouseholdState,
    /// SHA-256 of the documents this household's events refer to (plans, exports): the only
    /// blobs a reader of this household may fetch.
    pub documents: std::collections::HashSet<String>,
    /// What the household search matches a needle against, lower-cased once per change rather
    /// than per search: the name and each member's first name, last name and email, separated by
    /// NUL (which no stored text holds, so a needle never spans two fields).
    pub search_text: String,
    /// Members' XPLAN ids, lower-cased, each between `\u{1}` marks, so an exact match is one
    /// `contains` of the marked needle.
    pub search_xplan: String,
}

impl HouseholdView {
    pub fn new(id: HouseholdId, practice: PracticeId, created_at: DateTime<Utc>) -> Self {
        Self {
            id,
            practice,
            created_at,
            holdings: Vec::new(),
            archived: Timeline::starting(created_at, false),
            status: Timeline::default(),
            branch: Timeline::default(),
            intervals: Vec::new(),
            trail: Vec::new(),
            state: HouseholdState::default(),
            documents: Default::default(),
            search_text: String::new(),
            search_xplan: String::new(),
        }
    }

    pub fn holding_at(&self, staff: StaffId, t: DateTime<Utc>) -> Option<Holding> {
        self.holdings
            .iter()
            .find(|(s, _)| *s == staff)
            .and_then(|(_, tl)| tl.at(t))
            .copied()
    }

    pub fn holders_at(&self, t: DateTime<Utc>) -> impl Iterator<Item = (StaffId, Holding)> + '_ {
        self.holdings
            .iter()
            .filter_map(move |(s, tl)| tl.at(t).map(|h| (*s, *h)))
    }

    pub fn exists_at(&self, t: DateTime<Utc>) -> bool {
        t >= self.created_at
    }

    fn refresh_search(&mut self) {
        use hearth_domain::household::ClientField;
        let mut text = self.state.name.to_lowercase();
        self.search_xplan.clear();
        for m in &self.state.members {
            for f in [
                ClientField::FirstName,
                ClientField::LastName,
                ClientField::Email,
            ] {
                if let Some(v) = m.fields.get(&f) {
                    text.push('\0');
                    text.push_str(&v.to_lowercase());
                }
            }
            if let Some(x) = &m.xplan {
                self.search_xplan.push('\u{1}');
                self.search_xplan.push_str(&x.xplan_id.to_lowercase());
                self.search_xplan.push('\u{1}');
            }
        }
        self.search_text = text;
    }

    /// Applies one event: the domain fold, then the timelines and intervals of what changed.
    /// Returns the household's access facts as they were before it, for the caller's own diffs.
    pub fn apply(
        &mut self,
        event: &HouseholdEvent,
        position: i64,
        names: &mut HistoryNames,
    ) -> HouseholdState {
        // Only the access facts are compared, so only they are kept from before the event: a
        // clone of the whole state (members' fields, policies, notes) per event was a tenth of a
        // rebuild.
        let before = self.state.access_facts();
        self.state.apply(event);
        self.refresh_search();
        match event {
            HouseholdEvent::BestLifePlanExported(e) => {
                self.documents.insert(e.document.sha256.clone());
            }
            HouseholdEvent::InvestmentPreferencesExported(e) => {
                self.documents.insert(e.document.sha256.clone());
            }
            // Their bytes were deleted with the household's key.
            HouseholdEvent::Erased(_) => self.documents.clear(),
            _ => {}
        }
        let meta = event.meta();
        let at = meta.at;
        let actor = names.actor(&ActorName::from(&meta.actor));
        // Kept only when a row records it, then once however many rows name it.
        let mut reason_id = None;
        let mut reason = |names: &mut HistoryNames| {
            *reason_id.get_or_insert_with(|| names.reason(meta.reason.as_deref()))
        };
        let event_type = names.event_type(EventType(event.event_type()));
        let old = before.holders();
        let new: Vec<(StaffId, Holding)> = self.state.holders();
        let mut changed = false;
        // An expired grant ended at its expiry, not when Hearth recorded it.
        let end = match event {
            HouseholdEvent::GrantExpired(e) => e.expired_at,
            _ => at,
        };
        for (staff, holding) in &old {
            if !new.contains(&(*staff, *holding)) {
                if let Some(open) = self.open_interval(*staff) {
                    open.close(end, actor, reason(names), event_type);
                }
                if !new.iter().any(|(s, _)| s == staff) {
                    self.timeline(*staff).set(at, None);
                }
                changed = true;
            }
        }
        for (staff, holding) in &new {
            if !old.contains(&(*staff, *holding)) {
                self.timeline(*staff).set(at, Some(*holding));
                let reason = reason(names);
                snug::push(
                    &mut self.intervals,
                    IntervalRow::open(*staff, *holding, at, actor, reason, event_type),
                );
                changed = true;
            }
        }
        self.schedule_expiries(&before.grant_expiries, at);
        if before.archived != self.state.archived {
            self.archived.set(at, Some(self.state.archived));
            changed = true;
        }
        if before.status != self.state.status || !self.status.ever() {
            self.status.set(at, Some(self.state.status));
        }
        if before.branch != self.state.branch {
            self.branch.set(at, self.state.branch);
        }
        if changed
            || matches!(
                event,
                HouseholdEvent::Created(_)
                    | HouseholdEvent::StatusChanged(_)
                    | HouseholdEvent::BranchAssigned(_)
                    | HouseholdEvent::Erased(_)
            )
        {
            let reason = reason(names);
            snug::push(
                &mut self.trail,
                TrailRow::new(position, at, actor, reason, event_type),
            );
        }
        before
    }

    /// A temporary grant's holding ends at its expiry in the timeline as soon as it is granted, so
    /// checks after that instant deny before the `grant_expired` event is recorded; an expiry that
    /// no longer applies (revoked, promoted) is withdrawn.
    fn schedule_expiries(&mut self, before: &BTreeMap<StaffId, DateTime<Utc>>, at: DateTime<Utc>) {
        for (staff, t) in before {
            if self.state.grant_expiries.get(staff) != Some(t) && *t > at {
                self.timeline(*staff).retract(*t, &None);
            }
        }
        let added: Vec<(StaffId, DateTime<Utc>)> = self
            .state
            .grant_expiries
            .iter()
            .filter(|(s, t)| before.get(s) != Some(t))
            .map(|(s, t)| (*s, *t))
            .collect();
        for (staff, t) in added {
            self.timeline(staff).set(t, None);
        }
    }

    fn timeline(&mut self, staff: StaffId) -> &mut Timeline<Holding> {
        if let Some(i) = self.holdings.iter().position(|(s, _)| *s == staff) {
            return &mut self.holdings[i].1;
        }
        snug::push(&mut self.holdings, (staff, Timeline::default()));
        &mut self.holdings.last_mut().expect("just pushed").1
    }

    fn open_interval(&mut self, staff: StaffId) -> Option<&mut IntervalRow> {
        self.intervals
            .iter_mut()
            .rev()
            .find(|i| i.staff_id == staff && i.to.is_none())
    }

    /// Whether every history row names only what `names` holds (a snapshot's households are
    /// checked against its names before the model is used).
    pub(crate) fn history_named_in(&self, names: &HistoryNames) -> bool {
        self.intervals.iter().all(|i| i.named_in(names))
            && self.trail.iter().all(|t| t.named_in(names))
    }
}
