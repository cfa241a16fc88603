use hearth_domain::{household::file_note_triggers, HouseholdId, PracticeId};
use hearth_eventstore::RecordedEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One log event on the bus. Headers (on AMQP) repeat the ids so brokers and operators can
/// route and inspect without parsing the payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoteMessage {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub practice_id: PracticeId,
    pub household_id: HouseholdId,
    pub position: i64,
    pub data: serde_json::Value,
}

impl NoteMessage {
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
            data: e.data.clone(),
        })
    }
}
