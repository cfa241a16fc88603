//! Values that history entries repeat (actors, accesses, event types, households, staff,
//! reasons), kept once and named by their place in a list; and the compact form of an instant those entries are written with.

use std::hash::Hash;

use indexmap::IndexSet;
use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

/// How a row names an absent optional value.
pub(crate) const NONE: u32 = 0;

/// Values kept once, each named by its place in the set (insertion order, never reordered).
#[derive(Clone, Debug)]
pub(crate) struct Interned<T: Eq + Hash>(IndexSet<T>);

impl<T: Eq + Hash> Default for Interned<T> {
    fn default() -> Self {
        Interned(IndexSet::new())
    }
}

impl<T: Eq + Hash + Clone> Interned<T> {
    pub(crate) fn id(&mut self, value: &T) -> u32 {
        let index = match self.0.get_index_of(value) {
            Some(index) => index,
            None => self.0.insert_full(value.clone()).0,
        };
        index as u32
    }

    /// As [`Self::id`], looked up by a borrowed form, made owned only when it is new.
    pub(crate) fn id_of<Q>(&mut self, value: &Q) -> u32
    where
        Q: ?Sized + Hash + indexmap::Equivalent<T>,
        for<'q> &'q Q: Into<T>,
    {
        let index = match self.0.get_index_of(value) {
            Some(index) => index,
            None => self.0.insert_full(value.into()).0,
        };
        index as u32
    }

    /// For tables bounded by the code (event types, kinds): far fewer than 65,536 values.
    pub(crate) fn small_id(&mut self, value: &T) -> u16 {
        u16::try_from(self.id(value)).expect("fewer than 65,536 event types and kinds")
    }

    pub(crate) fn get(&self, id: u32) -> Option<&T> {
        self.0.get_index(id as usize)
    }

    pub(crate) fn holds(&self, id: u32) -> bool {
        (id as usize) < self.0.len()
    }

    /// An optional value as rows name it: [`NONE`] for none, else its place plus one.
    pub(crate) fn optional_id(&mut self, value: Option<&T>) -> u32 {
        value.map_or(NONE, |v| self.id(v) + 1)
    }

    /// As [`Self::optional_id`], looked up by a borrowed form.
    pub(crate) fn optional_id_of<Q>(&mut self, value: Option<&Q>) -> u32
    where
        Q: ?Sized + Hash + indexmap::Equivalent<T>,
        for<'q> &'q Q: Into<T>,
    {
        value.map_or(NONE, |v| self.id_of(v) + 1)
    }

    /// What [`Self::optional_id`] named: `Some(None)` for none, `None` when the set lacks it.
    pub(crate) fn get_optional(&self, id: u32) -> Option<Option<&T>> {
        match id {
            NONE => Some(None),
            id => self.get(id - 1).map(Some),
        }
    }

    pub(crate) fn holds_optional(&self, id: u32) -> bool {
        id == NONE || self.holds(id - 1)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// In order: rows name values by place, so two tables with the same values in another order
/// are not the same table (`IndexSet`'s own equality ignores order).
impl<T: Eq + Hash> PartialEq for Interned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.iter().eq(other.0.iter())
    }
}

impl<T: Eq + Hash + Serialize> Serialize for Interned<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(&self.0)
    }
}

/// A list with a value twice could not have been written by [`Interned::id`], and reading it
/// as a set would move every later value to another place than its rows name: refused.
impl<'de, T: Eq + Hash + Deserialize<'de>> Deserialize<'de> for Interned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<T>::deserialize(d)?;
        let count = items.len();
        let set: IndexSet<T> = items.into_iter().collect();
        if set.len() != count {
            return Err(D::Error::custom("a table holds a value twice"));
        }
        Ok(Interned(set))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_keeps_its_first_place_and_a_table_read_back_must_not_repeat_one() {
        let mut names = Interned::default();
        assert_eq!([names.id(&"a"), names.id(&"b"), names.id(&"a")], [0, 1, 0]);
        assert_eq!(
            (names.get(1), names.holds(1), names.holds(2)),
            (Some(&"b"), true, false)
        );
        let bytes = rmp_serde::to_vec(&names).unwrap();
        assert_eq!(
            rmp_serde::from_slice::<Interned<String>>(&bytes)
                .unwrap()
                .len(),
            2
        );
        let mut other = Interned::default();
        other.id(&"b");
        other.id(&"a");
        assert_ne!(
            names, other,
            "the same values in another order name other places"
        );
        assert_eq!(names.optional_id(None), NONE);
        let b = names.optional_id(Some(&"b"));
        assert_eq!(b, 2, "the place plus one");
        assert_eq!(names.get_optional(b), Some(Some(&"b")));
        assert_eq!(names.get_optional(NONE), Some(None));
        assert_eq!(names.get_optional(3), None, "past the end");
        assert!(names.holds_optional(NONE) && names.holds_optional(2) && !names.holds_optional(3));
        let twice = rmp_serde::to_vec(&["a", "b", "a"]).unwrap();
        assert!(rmp_serde::from_slice::<Interned<String>>(&twice).is_err());
    }
}
