use uuid::Uuid;

use crate::model::ExpectedVersion;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Someone else wrote to the stream first: reload, decide again, retry.
    #[error("stream {stream} is at version {actual:?}, not the expected {expected:?}")]
    Conflict {
        stream: String,
        expected: ExpectedVersion,
        actual: Option<i64>,
    },
    /// An event id was re-sent with other content, or only part of a batch was re-sent.
    #[error("event {0} was already appended with different content")]
    DuplicateEventId(Uuid),
    #[error("an append must contain at least one stream, and a stream at most once")]
    InvalidAppend,
    #[error("unsupported database URL {0:?}: use postgres://… or sqlite:…")]
    UnsupportedUrl(String),
    #[error("cannot upcast {event_type} v{schema_version}: {reason}")]
    Upcast {
        event_type: String,
        schema_version: i32,
        reason: String,
    },
    /// No Hearth log where the URL points (read-only verbs never create one).
    #[error("no Hearth log at {url}: {reason}")]
    NoLog { url: String, reason: String },
    /// Committed events an open transaction keeps from being read in order (PostgreSQL delivers
    /// only below the oldest running transaction); not a fault of the log.
    #[error("events up to position {position} are committed, but a transaction open for over {secs} s keeps them from being read in order; try again when it ends")]
    HeldBack { position: i64, secs: u64 },
    #[error("corrupt row at position {position}: {reason}")]
    Corrupt { position: i64, reason: String },
    /// The subject's personal data was erased: nothing personal can be written for it again.
    #[error("the personal data of {0} was erased")]
    SubjectErased(Uuid),
    #[error("the key of subject {subject} cannot be used: {reason}")]
    KeyUnavailable { subject: Uuid, reason: String },
    #[error("{keys} subject keys are wrapped by master key {key_id}, which is not configured (set it as the current or a previous master key)")]
    MasterKeyMissing { key_id: String, keys: i64 },
    #[error("this log was opened without personal-data keys")]
    PersonalDataOff,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl StoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    /// Whether the database refused a row for a unique key another row already holds.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation())
    }
}
