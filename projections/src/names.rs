//! Compact forms of the names history repeats on every entry: who acted and which event did it.
//! Kept as strings they were most of the model's memory (an actor's text is 36–40 bytes and an
//! event type's ~30, each its own allocation, on every interval, trail entry and change); kept as
//! the actor itself (no allocation for a staff member or the operator; a system actor keeps its
//! name) and a shared `&'static str`, they cost next to nothing. Both serialise exactly as the
//! strings did, so API answers and snapshots read the same (tests below pin the bytes).

use std::fmt;

use hearth_domain::{Actor, StaffId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// Who acted, written as [`Actor`]'s display text (a staff id, `operator`, `system:{name}`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ActorName {
    Actor(Actor),
    /// Text that reads as no actor (only an old or edited snapshot could hold it), kept as is.
    Text(Box<str>),
}

impl From<&Actor> for ActorName {
    fn from(actor: &Actor) -> Self {
        ActorName::Actor(actor.clone())
    }
}

impl ActorName {
    /// Reads display text back; whatever [`Actor`] would not display exactly so stays text.
    pub fn parse(text: &str) -> Self {
        if text == "operator" {
            return ActorName::Actor(Actor::Operator);
        }
        if let Some(name) = text.strip_prefix("system:") {
            return ActorName::Actor(Actor::System(name.to_owned()));
        }
        // A staff id displays hyphenated and lower-case; other spellings Uuid accepts are text.
        if text.len() == 36 && !text.bytes().any(|b| b.is_ascii_uppercase()) {
            if let Ok(id) = Uuid::parse_str(text) {
                return ActorName::Actor(Actor::Staff(StaffId(id)));
            }
        }
        ActorName::Text(text.into())
    }
}

impl fmt::Display for ActorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActorName::Actor(a) => a.fmt(f),
            ActorName::Text(t) => f.write_str(t),
        }
    }
}

impl Serialize for ActorName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ActorName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_str(d, ActorName::parse)
    }
}

/// Reads a string and hands it to `f` without copying it first: a snapshot holds one per history
/// entry, and an owned copy of each (serde's `Cow<str>` is always owned) cost an allocation per
/// entry at start-up.
fn read_str<'de, D: Deserializer<'de>, T>(d: D, f: fn(&str) -> T) -> Result<T, D::Error> {
    struct Text<T>(fn(&str) -> T);
    impl<T> serde::de::Visitor<'_> for Text<T> {
        type Value = T;
        fn expecting(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
            out.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
            Ok((self.0)(text))
        }
        fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<T, E> {
            std::str::from_utf8(bytes)
                .map(self.0)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Bytes(bytes), &self))
        }
    }
    d.deserialize_str(Text(f))
}

/// An event's type name, one shared copy per name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventType(pub &'static str);

impl EventType {
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_str(d, |name| EventType(static_event_type(name)))
    }
}

/// Event types are a handful of names shared by every entry; a snapshot's copy is interned once
/// per name (leaked, so bounded by the number of event kinds) to keep the field a `&'static str`.
/// Each thread keeps the names it has met, so a snapshot's slices decoding side by side do not
/// queue on the shared set's lock once per entry.
fn static_event_type(name: &str) -> &'static str {
    use std::{cell::RefCell, collections::HashSet, sync::Mutex};
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    thread_local! {
        static MET: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
    }
    if let Some(known) = MET.with(|met| met.borrow().iter().find(|n| **n == name).copied()) {
        return known;
    }
    let interned = {
        let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
        let names = names.get_or_insert_with(HashSet::new);
        match names.get(name) {
            Some(known) => *known,
            None => {
                let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
                names.insert(leaked);
                leaked
            }
        }
    };
    MET.with(|met| {
        let mut met = met.borrow_mut();
        // Bounded, so a snapshot with endless made-up names costs no more than a lookup each.
        if met.len() < 64 {
            met.push(interned);
        }
    });
    interned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_actor_reads_back_as_itself_and_other_text_stays_text() {
        let staff = Actor::Staff(StaffId(Uuid::new_v4()));
        for actor in [staff, Actor::Operator, Actor::System("xplan-sync".into())] {
            let name = ActorName::from(&actor);
            let text = name.to_string();
            assert_eq!(text, actor.to_string());
            assert_eq!(ActorName::parse(&text), name);
            let packed = rmp_serde::to_vec_named(&name).unwrap();
            assert_eq!(packed, rmp_serde::to_vec_named(&text).unwrap());
            assert_eq!(rmp_serde::from_slice::<ActorName>(&packed).unwrap(), name);
        }
        let upper = Uuid::new_v4().to_string().to_uppercase();
        for text in ["someone", upper.as_str(), ""] {
            let name = ActorName::parse(text);
            assert_eq!(name, ActorName::Text(text.into()));
            assert_eq!(name.to_string(), text);
        }
    }

    #[test]
    fn event_types_read_back_as_one_shared_name() {
        let a: EventType = serde_json::from_str("\"household.staff_access_granted\"").unwrap();
        let b: EventType = serde_json::from_str("\"household.staff_access_granted\"").unwrap();
        assert!(std::ptr::eq(a.0, b.0));
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            "\"household.staff_access_granted\""
        );
    }

    /// History entries as they were kept before (strings), for the bytes they wrote.
    mod before {
        use chrono::{DateTime, Utc};
        use hearth_domain::{roles::Holding, StaffId};
        use serde::Serialize;

        #[derive(Serialize)]
        pub struct Interval {
            pub staff_id: StaffId,
            pub holding: Holding,
            pub from: DateTime<Utc>,
            pub to: Option<DateTime<Utc>>,
            pub granted_by: String,
            pub revoked_by: Option<String>,
            pub reason: Option<String>,
            pub end_reason: Option<String>,
            pub opened_by_event: String,
            pub closed_by_event: Option<String>,
        }

        #[derive(Serialize)]
        pub struct Entry {
            pub position: i64,
            pub event_type: String,
            pub at: DateTime<Utc>,
            pub actor: String,
            pub reason: Option<String>,
        }
    }

    #[test]
    fn history_entries_write_the_bytes_their_strings_wrote() {
        use crate::model::{AccessInterval, AuditEntry};
        use hearth_domain::roles::{Holding, HouseholdRole};
        let staff = StaffId(Uuid::new_v4());
        let (granter, ender) = (
            Actor::Staff(StaffId(Uuid::new_v4())),
            Actor::System("grant-expiry".into()),
        );
        let at = chrono::Utc::now();
        let interval = AccessInterval {
            staff_id: staff,
            holding: Holding::Role(HouseholdRole::Paraplanner),
            from: at,
            to: Some(at),
            granted_by: ActorName::from(&granter),
            revoked_by: Some(ActorName::from(&ender)),
            reason: Some("cover".into()),
            end_reason: None,
            opened_by_event: EventType("household.staff_access_granted"),
            closed_by_event: Some(EventType("household.grant_expired")),
        };
        let old = before::Interval {
            staff_id: staff,
            holding: interval.holding,
            from: at,
            to: Some(at),
            granted_by: granter.to_string(),
            revoked_by: Some(ender.to_string()),
            reason: Some("cover".into()),
            end_reason: None,
            opened_by_event: "household.staff_access_granted".into(),
            closed_by_event: Some("household.grant_expired".into()),
        };
        writes_as(&interval, &old);
        // And what the strings wrote reads back as the same entry.
        let old_bytes = rmp_serde::to_vec_named(&old).unwrap();
        assert_eq!(
            rmp_serde::from_slice::<AccessInterval>(&old_bytes).unwrap(),
            interval
        );
        let entry = AuditEntry {
            position: 7,
            event_type: EventType("household.created"),
            at,
            actor: ActorName::from(&Actor::Operator),
            reason: None,
        };
        let old = before::Entry {
            position: 7,
            event_type: "household.created".into(),
            at,
            actor: "operator".into(),
            reason: None,
        };
        writes_as(&entry, &old);
    }

    /// `now` writes exactly the bytes `before` wrote, as snapshots (MessagePack) and as API
    /// answers (JSON).
    fn writes_as(now: &impl serde::Serialize, before: &impl serde::Serialize) {
        assert_eq!(
            rmp_serde::to_vec_named(now).unwrap(),
            rmp_serde::to_vec_named(before).unwrap()
        );
        assert_eq!(
            serde_json::to_string(now).unwrap(),
            serde_json::to_string(before).unwrap()
        );
    }
}
