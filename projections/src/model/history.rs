//! A household's access history: the public shapes answers carry (intervals, trail entries) and
//! the compact rows the model keeps them as. Who acted, which event did it and why repeat on
//! every row, so rows name them by index into the model's [`HistoryNames`]; an actor kept inline
//! was 32 bytes, an event type 16 and a reason 16 (absent or not), on every interval twice and on
//! every trail entry.

use chrono::{DateTime, Utc};
use hearth_domain::{roles::Holding, StaffId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::interned::{Interned, NONE};
use crate::names::{ActorName, EventType};

/// One continuous stretch of a direct holding: who held the household how, from when to when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessInterval {
    pub staff_id: StaffId,
    pub holding: Holding,
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
    pub granted_by: ActorName,
    pub revoked_by: Option<ActorName>,
    pub reason: Option<Arc<str>>,
    pub end_reason: Option<Arc<str>>,
    /// The event that opened the interval (its type, for auditors).
    pub opened_by_event: EventType,
    pub closed_by_event: Option<EventType>,
}

/// An access-relevant event as it happened, for the audit trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub position: i64,
    pub event_type: EventType,
    pub at: DateTime<Utc>,
    pub actor: ActorName,
    pub reason: Option<Arc<str>>,
}

/// The actors, event types and reasons of every household's history, each kept once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryNames {
    actors: Interned<ActorName>,
    event_types: Interned<EventType>,
    reasons: Interned<Arc<str>>,
}

impl HistoryNames {
    pub(crate) fn actor(&mut self, actor: &ActorName) -> u32 {
        self.actors.id(actor)
    }

    pub(crate) fn event_type(&mut self, event_type: EventType) -> u16 {
        self.event_types.small_id(&event_type)
    }

    pub(crate) fn reason(&mut self, reason: Option<&str>) -> u32 {
        self.reasons.optional_id_of(reason)
    }

    /// `None` when the table lacks it; `Some(None)` for no reason.
    fn reason_of(&self, id: u32) -> Option<Option<Arc<str>>> {
        self.reasons
            .get_optional(id)
            .map(Option::<&Arc<str>>::cloned)
    }

    fn has_reason(&self, id: u32) -> bool {
        self.reasons.holds_optional(id)
    }

    fn has_actor(&self, id: u32) -> bool {
        self.actors.holds(id)
    }

    fn has_event_type(&self, id: u16) -> bool {
        self.event_types.holds(u32::from(id))
    }
}

/// An [`AccessInterval`] as the model keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntervalRow {
    pub staff_id: StaffId,
    pub holding: Holding,
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
    /// Reasons as [`HistoryNames::reason`] names them.
    reason: u32,
    end_reason: u32,
    granted_by: u32,
    revoked_by: Option<u32>,
    opened_by: u16,
    closed_by: Option<u16>,
}

impl IntervalRow {
    pub(crate) fn open(
        staff_id: StaffId,
        holding: Holding,
        from: DateTime<Utc>,
        granted_by: u32,
        reason: u32,
        opened_by: u16,
    ) -> Self {
        IntervalRow {
            staff_id,
            holding,
            from,
            to: None,
            reason,
            end_reason: NONE,
            granted_by,
            revoked_by: None,
            opened_by,
            closed_by: None,
        }
    }

    pub(crate) fn close(
        &mut self,
        at: DateTime<Utc>,
        revoked_by: u32,
        reason: u32,
        closed_by: u16,
    ) {
        self.to = Some(at);
        self.revoked_by = Some(revoked_by);
        self.end_reason = reason;
        self.closed_by = Some(closed_by);
    }

    /// The interval whole; `None` only for a row naming what `names` lacks, which a snapshot
    /// holding one is refused for (see [`Self::named_in`]).
    pub fn read(&self, names: &HistoryNames) -> Option<AccessInterval> {
        Some(AccessInterval {
            staff_id: self.staff_id,
            holding: self.holding,
            from: self.from,
            to: self.to,
            granted_by: names.actors.get(self.granted_by)?.clone(),
            revoked_by: match self.revoked_by {
                Some(id) => Some(names.actors.get(id)?.clone()),
                None => None,
            },
            reason: names.reason_of(self.reason)?,
            end_reason: names.reason_of(self.end_reason)?,
            opened_by_event: *names.event_types.get(u32::from(self.opened_by))?,
            closed_by_event: match self.closed_by {
                Some(id) => Some(*names.event_types.get(u32::from(id))?),
                None => None,
            },
        })
    }

    pub(crate) fn named_in(&self, names: &HistoryNames) -> bool {
        names.has_actor(self.granted_by)
            && self.revoked_by.is_none_or(|id| names.has_actor(id))
            && names.has_event_type(self.opened_by)
            && self.closed_by.is_none_or(|id| names.has_event_type(id))
            && names.has_reason(self.reason)
            && names.has_reason(self.end_reason)
    }
}

/// An [`AuditEntry`] as the model keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrailRow {
    pub position: i64,
    pub at: DateTime<Utc>,
    reason: u32,
    actor: u32,
    event_type: u16,
}

impl TrailRow {
    pub(crate) fn new(
        position: i64,
        at: DateTime<Utc>,
        actor: u32,
        reason: u32,
        event_type: u16,
    ) -> Self {
        TrailRow {
            position,
            at,
            reason,
            actor,
            event_type,
        }
    }

    pub fn read(&self, names: &HistoryNames) -> Option<AuditEntry> {
        Some(AuditEntry {
            position: self.position,
            event_type: *names.event_types.get(u32::from(self.event_type))?,
            at: self.at,
            actor: names.actors.get(self.actor)?.clone(),
            reason: names.reason_of(self.reason)?,
        })
    }

    pub(crate) fn named_in(&self, names: &HistoryNames) -> bool {
        names.has_actor(self.actor)
            && names.has_event_type(self.event_type)
            && names.has_reason(self.reason)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use hearth_domain::{roles::HouseholdRole, Actor};

    use super::*;

    /// What history costs per entry in memory: rows grow only by choice.
    #[test]
    fn rows_stay_compact() {
        let sizes = (
            std::mem::size_of::<IntervalRow>(),
            std::mem::size_of::<TrailRow>(),
        );
        assert_eq!(sizes, (68, 32));
    }

    #[test]
    fn rows_read_back_whole_and_name_each_actor_and_type_once() {
        let mut names = HistoryNames::default();
        let (ada, pat) = (StaffId::new(), StaffId::new());
        let t = |s: i64| Utc.timestamp_opt(1_700_000_000 + s, 5).unwrap();
        let by_ada = names.actor(&ActorName::from(&Actor::Staff(ada)));
        let granted = names.event_type(EventType("household.staff_access_granted"));
        let holding = Holding::Role(HouseholdRole::Paraplanner);
        let new = names.reason(Some("new"));
        let mut row = IntervalRow::open(pat, holding, t(0), by_ada, new, granted);
        assert_eq!(
            row.read(&names),
            Some(AccessInterval {
                staff_id: pat,
                holding,
                from: t(0),
                to: None,
                granted_by: ActorName::from(&Actor::Staff(ada)),
                revoked_by: None,
                reason: Some("new".into()),
                end_reason: None,
                opened_by_event: EventType("household.staff_access_granted"),
                closed_by_event: None,
            })
        );
        let by_sync = names.actor(&ActorName::from(&Actor::System("xplan-sync".into())));
        let revoked = names.event_type(EventType("household.staff_access_revoked"));
        row.close(t(9), by_sync, names.reason(None), revoked);
        let read = row.read(&names).unwrap();
        assert_eq!(read.to, Some(t(9)));
        assert_eq!(read.revoked_by.unwrap().to_string(), "system:xplan-sync");
        assert_eq!(
            read.closed_by_event.unwrap().as_str(),
            "household.staff_access_revoked"
        );
        // The same actor and type again are the same entries.
        assert_eq!(names.actor(&ActorName::from(&Actor::Staff(ada))), by_ada);
        assert_eq!(
            names.event_type(EventType("household.staff_access_granted")),
            granted
        );
        assert_eq!(names.reason(Some("new")), new);
        assert_eq!(
            (
                names.actors.len(),
                names.event_types.len(),
                names.reasons.len()
            ),
            (2, 2, 1)
        );
        let entry = TrailRow::new(7, t(1), by_ada, new, granted);
        assert_eq!(
            entry.read(&names),
            Some(AuditEntry {
                position: 7,
                event_type: EventType("household.staff_access_granted"),
                at: t(1),
                actor: ActorName::from(&Actor::Staff(ada)),
                reason: Some("new".into()),
            })
        );
        assert!(row.named_in(&names) && entry.named_in(&names));
        let fewer = HistoryNames::default();
        assert!(!row.named_in(&fewer) && !entry.named_in(&fewer));
        assert_eq!(row.read(&fewer), None);
        assert_eq!(entry.read(&fewer), None);
    }
}
