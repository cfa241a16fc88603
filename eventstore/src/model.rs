//! What goes into the log and what comes out of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Where a subscriber stands in the log. On PostgreSQL `tx` is the writing transaction's id
/// (xid8), so the order is commit-safe; on SQLite writes are serialised and `tx == position`.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Cursor {
    pub tx: i64,
    pub position: i64,
}

impl Cursor {
    pub const START: Cursor = Cursor { tx: 0, position: 0 };
}

/// Optimistic concurrency. Stream versions start at 1.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// Append whatever the stream holds.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last version must be exactly this.
    Exact(i64),
}

impl ExpectedVersion {
    /// `current` is the stream's last version, `None` when it has no events.
    pub fn admits(self, current: Option<i64>) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current.is_none(),
            ExpectedVersion::Exact(n) => current == Some(n),
        }
    }
}

/// Who and why, recorded with every event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// A staff id, `operator`, or `system:<worker>`.
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practice_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// When the decision was taken (the command's time, passed in — not the database clock).
    pub occurred_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub data: Value,
    pub metadata: Metadata,
}

/// Appends to one stream. With no events it is a pure expected-version check inside an
/// `append_many`, which holds the stream still until the whole append commits.
#[derive(Clone, Debug)]
pub struct StreamAppend {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEvent {
    pub position: i64,
    pub cursor: Cursor,
    pub stream: String,
    pub version: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub data: Value,
    pub metadata: Metadata,
    pub recorded_at: DateTime<Utc>,
    pub hash: [u8; 32],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendResult {
    /// Positions of the first and last event written; both 0 when nothing was written.
    pub first_position: i64,
    pub last_position: i64,
    /// Cursor of the last event written (what a reader waits for to see this append).
    pub cursor: Cursor,
    /// The version each written stream now has.
    pub versions: Vec<(String, i64)>,
}

/// What binds a copy of derived state to the log it was derived from: the stored hash of the
/// last event it covers and how many events (in subscription order) it covers.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogAnchor {
    pub hash: [u8; 32],
    pub events: u64,
}

impl LogAnchor {
    pub(crate) fn from_row(hash: Vec<u8>, events: i64) -> Result<Self, crate::StoreError> {
        let hash = <[u8; 32]>::try_from(&hash[..]).map_err(|_| crate::StoreError::Corrupt {
            position: 0,
            reason: "an event hash is not 32 bytes".into(),
        })?;
        Ok(Self {
            hash,
            events: u64::try_from(events).unwrap_or_default(),
        })
    }
}
