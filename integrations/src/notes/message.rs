use hearth_domain::{household::file_note_triggers, HouseholdId, PracticeId};
use hearth_eventstore::RecordedEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One log event on the bus: which event, not what it says. The worker reads the event from the
/// log when it makes the note, so no personal value waits in a queue (where erasing the household
/// could not reach it). Headers (on AMQP) repeat the ids so brokers and operators can route and
/// inspect without parsing the payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoteMessage {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub practice_id: PracticeId,
    pub household_id: HouseholdId,
    pub position: i64,
}

/// Queues the notes are spread over. Fixed: changing it would move households between queues,
/// and a household's notes could then be made out of order while the old queue drains.
pub const PARTITIONS: usize = 16;

/// The partition of a household's notes. The UUID's low bits are random in every version
/// Hearth writes, so households spread evenly.
pub fn partition_of(household: HouseholdId) -> usize {
    (household.0.as_u128() % PARTITIONS as u128) as usize
}

impl NoteMessage {
    /// The queue this message goes to: the same for every note of a household, so they stay in
    /// order.
    pub fn partition(&self) -> usize {
        partition_of(self.household_id)
    }

    /// The message for a log event, if it is one of the file-note triggers.
    pub fn from_event(e: &RecordedEvent) -> Option<Self> {
        if !file_note_triggers().any(|t| t == e.event_type) {
            return None;
        }
        let household = e
            .stream
            .strip_prefix("household-")
            .and_then(|s| Uuid::parse_str(s).ok())?;
        Some(Self {
            event_id: e.event_id,
            event_type: e.event_type.clone(),
            schema_version: e.schema_version,
            practice_id: PracticeId(e.metadata.practice_id?),
            household_id: HouseholdId(household),
            position: e.position,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use hearth_eventstore::{Cursor, Metadata};
    use serde_json::json;

    use super::*;

    #[test]
    fn a_message_names_its_event_and_carries_none_of_its_values() {
        let (household, practice) = (Uuid::new_v4(), Uuid::new_v4());
        let goal = "Buy the Quokka cottage";
        let event = RecordedEvent {
            position: 7,
            cursor: Cursor { tx: 7, position: 7 },
            stream: format!("household-{household}"),
            version: 3,
            event_id: Uuid::new_v4(),
            event_type: file_note_triggers().next().unwrap().to_string(),
            schema_version: 1,
            data: json!({"goals": [goal], "member_id": Uuid::new_v4()}),
            metadata: Metadata {
                actor: "someone".into(),
                practice_id: Some(practice),
                correlation_id: None,
                causation_id: None,
                occurred_at: Utc::now(),
            },
            recorded_at: Utc::now(),
            hash: [0; 32],
        };
        let message = NoteMessage::from_event(&event).expect("a file-note trigger");
        assert_eq!(message.event_id, event.event_id);
        assert_eq!(message.household_id, HouseholdId(household));
        assert_eq!(message.practice_id, PracticeId(practice));
        let wire = serde_json::to_string(&message).unwrap();
        assert!(!wire.contains(goal), "{wire}");
    }
}
