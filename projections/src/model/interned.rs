//! Values that history entries repeat (actors, accesses, event types), kept once and named by
//! their place in a list; and the compact form of an instant those entries are written with.

use std::{collections::HashMap, hash::Hash};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Values kept once, each named by its place in the list.
#[derive(Clone, Debug)]
pub(crate) struct Interned<T: Eq + Hash> {
    pub(crate) items: Vec<T>,
    ids: HashMap<T, u32>,
}

impl<T: Eq + Hash> Default for Interned<T> {
    fn default() -> Self {
        Interned {
            items: Vec::new(),
            ids: HashMap::new(),
        }
    }
}

impl<T: Eq + Hash + Clone> Interned<T> {
    pub(crate) fn id(&mut self, value: &T) -> u32 {
        if let Some(id) = self.ids.get(value) {
            return *id;
        }
        let id = self.items.len() as u32;
        self.items.push(value.clone());
        self.ids.insert(value.clone(), id);
        id
    }

    /// For tables bounded by the code (event types, kinds): far fewer than 65,536 values.
    pub(crate) fn small_id(&mut self, value: &T) -> u16 {
        u16::try_from(self.id(value)).expect("fewer than 65,536 event types and kinds")
    }

    pub(crate) fn get(&self, id: u32) -> Option<&T> {
        self.items.get(id as usize)
    }
}

impl<T: Eq + Hash> PartialEq for Interned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl<T: Eq + Hash + Serialize> Serialize for Interned<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(s)
    }
}

impl<'de, T: Eq + Hash + Clone + Deserialize<'de>> Deserialize<'de> for Interned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<T>::deserialize(d)?;
        let ids = items
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i as u32))
            .collect();
        Ok(Interned { items, ids })
    }
}

/// An instant as whole seconds and nanoseconds: exact for every `DateTime`, and two numbers in
/// a snapshot where chrono's own form is an RFC 3339 string to parse.
pub(crate) mod instant {
    use chrono::{DateTime, Utc};
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        (at.timestamp(), at.timestamp_subsec_nanos()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let (secs, nanos) = <(i64, u32)>::deserialize(d)?;
        DateTime::from_timestamp(secs, nanos).ok_or_else(|| D::Error::custom("not an instant"))
    }
}
