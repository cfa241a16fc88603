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
        use serde::ser::SerializeSeq;
        // With its length up front, so an encoder that needs it does not buffer the set first.
        let mut seq = s.serialize_seq(Some(self.0.count_ones() as usize))?;
        for action in self.iter() {
            seq.serialize_element(&action)?;
        }
        seq.end()
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

    #[test]
    fn an_effective_access_writes_the_bytes_its_list_wrote() {
        use crate::{
            access::AccessPath, access_changes::EffectiveAccess, access_changes::HOUSEHOLD_ACTIONS,
            roles::Holding,
        };
        #[derive(Serialize)]
        struct Before {
            actions: Vec<Action>,
            path: AccessPath,
            #[serde(skip_serializing_if = "Option::is_none")]
            expires_at: Option<chrono::DateTime<chrono::Utc>>,
        }
        let path = AccessPath::Direct {
            holding: Holding::Primary,
        };
        // The list was built in HOUSEHOLD_ACTIONS' order; the set writes in Action's.
        let now = EffectiveAccess {
            actions: HOUSEHOLD_ACTIONS.into_iter().collect(),
            path: path.clone(),
            expires_at: None,
        };
        let before = Before {
            actions: HOUSEHOLD_ACTIONS.to_vec(),
            path,
            expires_at: None,
        };
        assert_eq!(
            serde_json::to_string(&now).unwrap(),
            serde_json::to_string(&before).unwrap()
        );
        assert_eq!(
            rmp_serde::to_vec_named(&now).unwrap(),
            rmp_serde::to_vec_named(&before).unwrap()
        );
    }
}
