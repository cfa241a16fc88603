//! A practice's change feed as it is kept in memory: one compact row per change, with what rows
//! repeat (actors, effective accesses, event types, kinds, households, staff, reasons) kept once
//! per practice and named by index. Kept whole, each change was ~216 bytes (two effective
//! accesses and an actor inline); a row is 64, and a snapshot writes rows as plain arrays of numbers rather than maps of
//! named fields, so the feed — which grows with every event — is less than half the memory and
//! decodes in a fraction of the time at start-up.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hearth_domain::{
    access_changes::{ChangeKind, EffectiveAccess},
    HouseholdId, StaffId,
};
use hearth_eventstore::Cursor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use super::{interned::Interned, AccessChange};
use crate::names::{ActorName, EventType};

/// One change, with the values it shares with other changes as indexes into the list's tables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeRow {
    tx: i64,
    position: i64,
    #[serde(with = "super::interned::instant")]
    at: DateTime<Utc>,
    household: u32,
    staff: u32,
    /// Optional: as `Interned::optional_id` names it.
    reason: u32,
    index: u32,
    actor: u32,
    /// Optional: as `Interned::optional_id` names it.
    before: u32,
    after: u32,
    event_type: u16,
    kind: u16,
}

impl ChangeRow {
    fn key(&self) -> (Cursor, u32) {
        (
            Cursor {
                tx: self.tx,
                position: self.position,
            },
            self.index,
        )
    }
}

/// The values rows name by index. Serialised as lists; each lookup map is rebuilt on reading.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Tables {
    actors: Interned<ActorName>,
    accesses: Interned<EffectiveAccess>,
    event_types: Interned<EventType>,
    kinds: Interned<ChangeKind>,
    households: Interned<Uuid>,
    staff: Interned<Uuid>,
    reasons: Interned<Arc<str>>,
}

/// Every change of one practice, in log order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChangeList {
    rows: Vec<ChangeRow>,
    tables: Tables,
}

impl ChangeList {
    pub fn push(&mut self, change: &AccessChange) {
        let t = &mut self.tables;
        let row = ChangeRow {
            tx: change.at_cursor.tx,
            position: change.at_cursor.position,
            at: change.at,
            household: t.households.id(&change.household.0),
            staff: t.staff.id(&change.staff.0),
            reason: t.reasons.optional_id(change.reason.as_ref()),
            index: change.index,
            actor: t.actors.id(&change.actor),
            before: t.accesses.optional_id(change.before.as_ref()),
            after: t.accesses.optional_id(change.after.as_ref()),
            event_type: t.event_types.small_id(&change.event_type),
            kind: t.kinds.small_id(&change.kind),
        };
        crate::snug::push(&mut self.rows, row);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.rows.capacity()
    }

    pub fn shrink_to(&mut self, capacity: usize) {
        self.rows.shrink_to(capacity);
    }

    /// How many changes come at or before `key` (the list is in key order).
    pub(crate) fn count_through(&self, key: (Cursor, u32)) -> usize {
        self.rows.partition_point(|r| r.key() <= key)
    }

    /// The change at `i`, whole. A row the tables cannot explain (only a damaged snapshot could
    /// hold one) is `None`.
    pub fn get(&self, i: usize) -> Option<AccessChange> {
        let r = self.rows.get(i)?;
        let t = &self.tables;
        Some(AccessChange {
            at_cursor: r.key().0,
            index: r.index,
            kind: *t.kinds.get(u32::from(r.kind))?,
            event_type: *t.event_types.get(u32::from(r.event_type))?,
            household: HouseholdId(*t.households.get(r.household)?),
            staff: StaffId(*t.staff.get(r.staff)?),
            before: t.accesses.get_optional(r.before)?.cloned(),
            after: t.accesses.get_optional(r.after)?.cloned(),
            actor: t.actors.get(r.actor)?.clone(),
            reason: t.reasons.get_optional(r.reason)?.cloned(),
            at: r.at,
        })
    }

    /// The staff member a change is for, without building the whole change.
    pub(crate) fn staff_at(&self, i: usize) -> Option<StaffId> {
        let r = self.rows.get(i)?;
        self.tables.staff.get(r.staff).map(|s| StaffId(*s))
    }

    pub(crate) fn key_at(&self, i: usize) -> Option<(Cursor, u32)> {
        self.rows.get(i).map(ChangeRow::key)
    }

    /// The newest change with this position and index.
    pub fn find(&self, position: i64, index: u32) -> Option<AccessChange> {
        let i = self
            .rows
            .iter()
            .rposition(|r| r.position == position && r.index == index)?;
        self.get(i)
    }

    /// The rows, for a snapshot's slices.
    pub fn rows(&self) -> &[ChangeRow] {
        &self.rows
    }

    /// Rows read back from a snapshot slice, after the ones already here. Rows that name a
    /// table entry the list does not hold are refused, so a damaged snapshot is discarded
    /// rather than answering with made-up changes.
    pub(crate) fn extend_rows(&mut self, rows: Vec<ChangeRow>) -> Result<(), String> {
        let t = &self.tables;
        let known = |r: &ChangeRow| {
            t.actors.holds(r.actor)
                && t.event_types.holds(u32::from(r.event_type))
                && t.kinds.holds(u32::from(r.kind))
                && t.accesses.holds_optional(r.before)
                && t.accesses.holds_optional(r.after)
                && t.households.holds(r.household)
                && t.staff.holds(r.staff)
                && t.reasons.holds_optional(r.reason)
        };
        if let Some(bad) = rows.iter().find(|r| !known(r)) {
            return Err(format!(
                "a change at position {} names a value its practice's tables do not hold",
                bad.position
            ));
        }
        if self.rows.is_empty() {
            self.rows = rows;
        } else {
            self.rows.extend(rows);
        }
        Ok(())
    }
}

/// A snapshot keeps a list's tables with its practice and its rows in slices of their own
/// (snapshot::format), so only the tables are (de)serialised here.
impl Serialize for ChangeList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.tables.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ChangeList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ChangeList {
            rows: Vec::new(),
            tables: Tables::deserialize(d)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use hearth_domain::{
        access::AccessPath,
        action_set::ActionSet,
        roles::{Action, Holding, HouseholdRole},
        Actor,
    };

    use super::*;

    fn access(role: HouseholdRole, expires: Option<i64>) -> EffectiveAccess {
        let mut actions = ActionSet::default();
        actions.insert(Action::View);
        EffectiveAccess {
            actions,
            path: AccessPath::Direct {
                holding: Holding::Role(role),
            },
            expires_at: expires.map(|s| Utc.timestamp_opt(s, 0).unwrap()),
        }
    }

    /// Changes as the feed records them: many actors, accesses that repeat and some that do
    /// not (temporary grants), reasons and none, several changes of one event.
    fn varied(n: usize) -> Vec<AccessChange> {
        let staff: Vec<StaffId> = (0..5).map(|_| StaffId::new()).collect();
        let kinds = [
            ChangeKind::Granted,
            ChangeKind::RoleChanged,
            ChangeKind::Revoked,
        ];
        let types = [
            "household.staff_access_granted",
            "household.staff_role_changed",
        ];
        (0..n)
            .map(|i| {
                let role = [HouseholdRole::Paraplanner, HouseholdRole::Support][i % 2];
                AccessChange {
                    at_cursor: Cursor {
                        tx: 1_000 + (i / 3) as i64,
                        position: 1 + (i / 3) as i64,
                    },
                    index: (i % 3) as u32,
                    kind: kinds[i % 3],
                    event_type: EventType(types[i % 2]),
                    household: HouseholdId(Uuid::from_u128(i as u128 / 2)),
                    staff: staff[i % 5],
                    before: (i % 4 != 0).then(|| access(role, None)),
                    after: (i % 3 != 2).then(|| access(role, (i % 7 == 0).then_some(i as i64))),
                    actor: match i % 3 {
                        0 => ActorName::from(&Actor::Staff(staff[(i + 1) % 5])),
                        1 => ActorName::from(&Actor::System("xplan-sync".into())),
                        _ => ActorName::Text("someone".into()),
                    },
                    reason: (i % 2 == 0).then(|| Arc::from(format!("reason {i}"))),
                    at: Utc
                        .timestamp_opt(1_700_000_000 + i as i64, (i * 7_919) as u32)
                        .unwrap(),
                }
            })
            .collect()
    }

    #[test]
    fn every_change_reads_back_as_it_was_pushed_and_repeated_values_are_kept_once() {
        let changes = varied(200);
        let mut list = ChangeList::default();
        for c in &changes {
            list.push(c);
        }
        assert_eq!(list.len(), changes.len());
        let back: Vec<AccessChange> = (0..list.len()).filter_map(|i| list.get(i)).collect();
        assert_eq!(back, changes);
        assert_eq!(
            list.tables.actors.len(),
            7,
            "five staff, one system, one text"
        );
        assert_eq!(list.tables.event_types.len(), 2);
        assert_eq!(list.tables.kinds.len(), 3);
        assert_eq!(list.tables.staff.len(), 5);
        assert_eq!(list.tables.households.len(), changes.len() / 2);
        assert_eq!(
            list.tables.reasons.len(),
            changes.len() / 2,
            "one per even change"
        );
        let distinct_accesses: std::collections::HashSet<&EffectiveAccess> = changes
            .iter()
            .flat_map(|c| c.before.iter().chain(c.after.iter()))
            .collect();
        assert_eq!(list.tables.accesses.len(), distinct_accesses.len());
        let last = changes.last().unwrap();
        assert_eq!(
            list.find(last.at_cursor.position, last.index).as_ref(),
            Some(last)
        );
        assert_eq!(list.find(9_999, 0), None);
        assert_eq!(list.count_through((Cursor::START, 0)), 0);
        assert_eq!(list.count_through((last.at_cursor, last.index)), list.len());
    }

    /// What the feed costs per change in memory: a row grows only by choice.
    #[test]
    fn a_row_is_64_bytes() {
        assert_eq!(std::mem::size_of::<ChangeRow>(), 64);
    }

    #[test]
    fn a_list_read_back_as_tables_and_rows_equals_the_list_written() {
        let mut list = ChangeList::default();
        for c in &varied(50) {
            list.push(c);
        }
        let tables = rmp_serde::to_vec_named(&list).unwrap();
        let rows = rmp_serde::to_vec(list.rows()).unwrap();
        let mut back: ChangeList = rmp_serde::from_slice(&tables).unwrap();
        assert!(back.is_empty(), "the tables travel without the rows");
        back.extend_rows(rmp_serde::from_slice(&rows).unwrap())
            .unwrap();
        assert_eq!(back, list);
        // The lookups are rebuilt: a value already held is not added again.
        let again = back.get(0).unwrap();
        let tables = back.tables.clone();
        back.push(&again);
        assert_eq!(back.tables, tables);
        assert_eq!(back.get(back.len() - 1), Some(again));
    }

    #[test]
    fn rows_that_name_values_their_tables_lack_are_refused() {
        let mut list = ChangeList::default();
        for c in &varied(30) {
            list.push(c);
        }
        let rows = list.rows().to_vec();
        let mut empty = ChangeList::default();
        let refused = empty.extend_rows(rows.clone()).unwrap_err();
        assert!(refused.contains("tables do not hold"), "{refused}");
        assert!(empty.is_empty(), "nothing of a refused slice is kept");
        let past_the_end: [fn(&mut ChangeRow, &Tables); 4] = [
            |r, t| r.after = t.accesses.len() as u32 + 1,
            |r, t| r.household = t.households.len() as u32,
            |r, t| r.staff = t.staff.len() as u32,
            |r, t| r.reason = t.reasons.len() as u32 + 1,
        ];
        for damage in past_the_end {
            let mut beyond = rows.clone();
            damage(&mut beyond[3], &list.tables);
            let mut fresh: ChangeList =
                rmp_serde::from_slice(&rmp_serde::to_vec_named(&list).unwrap()).unwrap();
            assert!(fresh.extend_rows(beyond).is_err());
        }
    }
}
