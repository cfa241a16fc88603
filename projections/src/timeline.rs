//! A value over time: the change points of one fact (a role, a holding, a flag), so the read
//! model answers "as of T" with a binary search instead of replaying the log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timeline<V> {
    /// (from, value) sorted by `from`; `None` = absent from then on.
    points: Vec<(DateTime<Utc>, Option<V>)>,
}

impl<V> Default for Timeline<V> {
    fn default() -> Self {
        Self { points: Vec::new() }
    }
}

impl<V: Clone + PartialEq> Timeline<V> {
    pub fn starting(at: DateTime<Utc>, value: V) -> Self {
        Self {
            points: vec![(at, Some(value))],
        }
    }

    /// Records a change. Changes usually arrive in time order; a late one (a command decided
    /// earlier but committed later) is slotted in after any change of the same instant.
    pub fn set(&mut self, at: DateTime<Utc>, value: Option<V>) {
        let idx = self.points.partition_point(|(t, _)| *t <= at);
        crate::snug::insert(&mut self.points, idx, (at, value));
    }

    /// Withdraws a change recorded ahead of time (a scheduled end that no longer applies).
    pub fn retract(&mut self, at: DateTime<Utc>, value: &Option<V>) {
        if let Some(i) = self
            .points
            .iter()
            .rposition(|(t, v)| *t == at && v == value)
        {
            self.points.remove(i);
        }
    }

    pub fn at(&self, t: DateTime<Utc>) -> Option<&V> {
        let idx = self.points.partition_point(|(from, _)| *from <= t);
        if idx == 0 {
            return None;
        }
        self.points[idx - 1].1.as_ref()
    }

    pub fn current(&self) -> Option<&V> {
        self.points.last().and_then(|(_, v)| v.as_ref())
    }

    /// Whether the fact ever held.
    pub fn ever(&self) -> bool {
        self.points.iter().any(|(_, v)| v.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn answers_the_value_in_force_at_any_instant() {
        let mut tl = Timeline::starting(t(1), "a");
        tl.set(t(3), Some("b"));
        tl.set(t(5), None);
        assert_eq!(tl.at(t(0)), None);
        assert_eq!(tl.at(t(1)), Some(&"a"));
        assert_eq!(tl.at(t(2)), Some(&"a"));
        assert_eq!(tl.at(t(3)), Some(&"b"));
        assert_eq!(tl.at(t(6)), None);
        assert_eq!(tl.current(), None);
        assert!(tl.ever());
    }

    #[test]
    fn a_retracted_scheduled_end_no_longer_ends_the_value() {
        let mut tl = Timeline::starting(t(1), "a");
        tl.set(t(5), None);
        assert_eq!(tl.at(t(6)), None);
        tl.retract(t(5), &None);
        assert_eq!(tl.at(t(6)), Some(&"a"));
    }

    #[test]
    fn a_late_change_is_slotted_in_time_order() {
        let mut tl = Timeline::starting(t(1), 1);
        tl.set(t(5), Some(3));
        tl.set(t(3), Some(2));
        assert_eq!(tl.at(t(4)), Some(&2));
        assert_eq!(tl.current(), Some(&3));
    }
}
