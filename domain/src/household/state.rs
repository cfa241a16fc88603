//! The household as its events left it. `apply` holds no rules.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    events::{HouseholdEvent, HouseholdStatus, Member, XplanLink},
    fields::{apply_changes, SkippedField},
    xplan::InsurancePolicy,
};
use crate::{
    ids::{BranchId, HouseholdId, MemberId, PracticeId, StaffId},
    roles::{Holding, HouseholdRole},
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HouseholdState {
    pub id: Option<HouseholdId>,
    pub practice: Option<PracticeId>,
    pub name: String,
    pub members: Vec<Member>,
    pub primary: Option<StaffId>,
    pub secondary: Option<StaffId>,
    pub grants: BTreeMap<StaffId, HouseholdRole>,
    /// When each temporary grant ends.
    pub grant_expiries: BTreeMap<StaffId, DateTime<Utc>>,
    pub archived: bool,
    /// Since when it is archived (retention counts from here).
    #[serde(default)]
    pub archived_at: Option<DateTime<Utc>>,
    /// When its personal data was erased.
    #[serde(default)]
    pub erased_at: Option<DateTime<Utc>>,
    pub status: HouseholdStatus,
    pub branch: Option<BranchId>,
    pub policies: Vec<InsurancePolicy>,
    pub xplan_skipped: Vec<SkippedField>,
    /// Source events whose XPLAN file note was created or skipped.
    pub file_notes: BTreeSet<Uuid>,
    /// Source events whose note XPLAN refused for good, with the reason, until one is created.
    pub file_note_failures: BTreeMap<Uuid, String>,
}

/// What an erased household's name (and any erased text) reads as.
pub const ERASED: &str = "[erased]";

impl HouseholdState {
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }

    pub fn is_erased(&self) -> bool {
        self.erased_at.is_some()
    }

    /// A copy holding only what access decisions read (existence, holders, expiries, archiving
    /// and status), for measuring an event's access changes against without copying the
    /// members, policies and notes.
    pub fn access_facts(&self) -> HouseholdState {
        HouseholdState {
            id: self.id,
            practice: self.practice,
            primary: self.primary,
            secondary: self.secondary,
            grants: self.grants.clone(),
            grant_expiries: self.grant_expiries.clone(),
            archived: self.archived,
            archived_at: self.archived_at,
            erased_at: self.erased_at,
            status: self.status,
            branch: self.branch,
            ..HouseholdState::default()
        }
    }

    pub fn holding(&self, staff: StaffId) -> Option<Holding> {
        if self.primary == Some(staff) {
            Some(Holding::Primary)
        } else if self.secondary == Some(staff) {
            Some(Holding::Secondary)
        } else {
            self.grants.get(&staff).map(|r| Holding::Role(*r))
        }
    }

    /// Everyone holding the household directly.
    pub fn holders(&self) -> Vec<(StaffId, Holding)> {
        let mut out: Vec<(StaffId, Holding)> = self
            .primary
            .map(|p| (p, Holding::Primary))
            .into_iter()
            .collect();
        out.extend(self.secondary.map(|s| (s, Holding::Secondary)));
        out.extend(self.grants.iter().map(|(s, r)| (*s, Holding::Role(*r))));
        out
    }

    pub fn member(&self, id: MemberId) -> Option<&Member> {
        self.members.iter().find(|m| m.member_id == id)
    }

    /// The member linked to this XPLAN client, or the household's client.
    pub fn xplan_member(&self) -> Option<&Member> {
        self.members
            .iter()
            .find(|m| m.xplan.is_some())
            .or_else(|| self.members.first())
    }

    pub fn xplan_link(&self) -> Option<&XplanLink> {
        self.members.iter().find_map(|m| m.xplan.as_ref())
    }

    pub fn apply(&mut self, event: &HouseholdEvent) {
        use HouseholdEvent::*;
        match event {
            Created(e) => {
                self.id = Some(e.household_id);
                self.practice = Some(e.practice_id);
                self.name = e.name.clone();
                self.members = e.members.clone();
                self.primary = Some(e.primary);
                self.branch = e.branch;
                self.status = e.status;
            }
            // The primary holding supersedes any grant or secondary the new primary had.
            PrimaryAssigned(e) => {
                self.grants.remove(&e.staff_id);
                if self.secondary == Some(e.staff_id) {
                    self.secondary = None;
                }
                if let Some(role) = e.previous_keeps {
                    self.grants.insert(e.previous, role);
                }
                self.primary = Some(e.staff_id);
            }
            SecondarySet(e) => {
                self.grants.remove(&e.staff_id);
                self.secondary = Some(e.staff_id);
            }
            SecondaryCleared(_) => self.secondary = None,
            AccessGranted(e) => {
                self.grants.insert(e.staff_id, e.role);
                match e.expires_at {
                    Some(t) => self.grant_expiries.insert(e.staff_id, t),
                    None => self.grant_expiries.remove(&e.staff_id),
                };
            }
            GrantExpired(e) => {
                self.grants.remove(&e.staff_id);
            }
            RoleChanged(e) => {
                self.grants.insert(e.staff_id, e.to);
            }
            AccessRevoked(e) => {
                self.grants.remove(&e.staff_id);
            }
            Archived(e) => {
                self.archived = true;
                self.archived_at = Some(e.meta.at);
            }
            Restored(_) => {
                self.archived = false;
                self.archived_at = None;
            }
            Erased(e) => {
                self.erased_at = Some(e.meta.at);
                self.name = ERASED.to_string();
                for m in &mut self.members {
                    m.fields.clear();
                }
                self.policies.clear();
                self.xplan_skipped.clear();
            }
            StatusChanged(e) => self.status = e.to,
            BranchAssigned(e) => self.branch = e.branch,
            DetailsEdited(e) => {
                if let Some(m) = self.members.iter_mut().find(|m| m.member_id == e.member_id) {
                    apply_changes(&mut m.fields, &e.changes);
                }
            }
            XplanIdLinked(e) => {
                if let Some(m) = self.members.iter_mut().find(|m| m.member_id == e.member_id) {
                    m.xplan = Some(e.link.clone());
                }
            }
            XplanClientSynced(e) => {
                if let Some(m) = self.members.iter_mut().find(|m| m.member_id == e.member_id) {
                    m.xplan = Some(e.link.clone());
                    apply_changes(&mut m.fields, &e.changes);
                }
                self.xplan_skipped = e.skipped.clone();
            }
            PoliciesSynced(e) => self.policies = e.policies.clone(),
            FileNoteFailed(e) => {
                self.file_note_failures
                    .insert(e.source_event_id, e.reason.clone());
            }
            FileNoteCreated(e) => {
                self.file_note_failures.remove(&e.source_event_id);
                self.file_notes.insert(e.source_event_id);
            }
            FileNoteSkipped(e) => {
                self.file_note_failures.remove(&e.source_event_id);
                self.file_notes.insert(e.source_event_id);
            }
            YourLifeSurveyCompleted(_)
            | ValuesSessionCompleted(_)
            | BestLifePlanExported(_)
            | InvestmentPreferencesCompleted(_)
            | InvestmentPreferencesExported(_) => {}
        }
        // An expiry belongs to a grant: whatever ended or replaced the grant ended it too.
        let grants = &self.grants;
        self.grant_expiries.retain(|s, _| grants.contains_key(s));
    }
}
