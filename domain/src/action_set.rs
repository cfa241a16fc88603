//! A set of actions, one bit each. Every change of the feed records the effective access before
//! and after, so a list there was two small allocations per change; a set is one byte. It reads
//! and writes as the list it replaces (the actions in [`Action`]'s order).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use strum::IntoEnumIterator;

use crate::roles::Action;

#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ActionSet(u8);

impl ActionSet {
    fn bit(action: Action) -> u8 {
        1 << (action as u8)
    }

    pub fn insert(&mut self, action: Action) {
        self.0 |= Self::bit(action);
    }

    pub fn contains(&self, action: Action) -> bool {
        self.0 & Self::bit(action) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = Action> + '_ {
        Action::iter().filter(|a| self.contains(*a))
    }

    pub fn to_vec(&self) -> Vec<Action> {
        self.iter().collect()
    }
}

impl FromIterator<Action> for ActionSet {
    fn from_iter<I: IntoIterator<Item = Action>>(actions: I) -> Self {
        let mut set = ActionSet::default();
        for a in actions {
            set.insert(a);
        }
        set
    }
}

impl fmt::Debug for ActionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for ActionSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ActionSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Action>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_as_the_list_of_its_actions_in_order() {
        let set: ActionSet = [Action::Export, Action::View].into_iter().collect();
        assert!(set.contains(Action::View) && !set.contains(Action::Edit));
        assert_eq!(set.to_vec(), vec![Action::View, Action::Export]);
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(json, r#"["view","export"]"#);
        assert_eq!(serde_json::from_str::<ActionSet>(&json).unwrap(), set);
        assert!(ActionSet::default().is_empty());
        for a in Action::iter() {
            let one: ActionSet = [a].into_iter().collect();
            assert_eq!(one.to_vec(), vec![a]);
        }
    }
}
