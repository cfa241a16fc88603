//! A stored row as the databases give it back, before upcasting.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

use crate::{
    error::StoreError,
    hashing::HashInput,
    model::{Cursor, Metadata, RecordedEvent},
    upcast::Upcaster,
};

#[derive(Debug, Clone)]
pub(crate) struct RawEvent {
    pub position: i64,
    pub tx: i64,
    pub stream: String,
    pub version: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub data: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
    pub hash: Vec<u8>,
}

impl RawEvent {
    /// Decodes an event row of either dialect; `json` reads `data` and `metadata`, which
    /// PostgreSQL stores as jsonb and SQLite as text, given the row's position for errors.
    pub(crate) fn from_row<'r, R>(
        row: &'r R,
        json: impl Fn(&'r R, i64, &str) -> Result<Value, StoreError>,
    ) -> Result<Self, StoreError>
    where
        R: Row,
        &'static str: ColumnIndex<R>,
        i32: Decode<'r, R::Database> + Type<R::Database>,
        i64: Decode<'r, R::Database> + Type<R::Database>,
        String: Decode<'r, R::Database> + Type<R::Database>,
        Uuid: Decode<'r, R::Database> + Type<R::Database>,
        DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
        Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    {
        let position: i64 = row.try_get("position")?;
        Ok(RawEvent {
            position,
            tx: row.try_get("tx")?,
            stream: row.try_get("stream")?,
            version: row.try_get("version")?,
            event_id: row.try_get("event_id")?,
            event_type: row.try_get("event_type")?,
            schema_version: row.try_get("schema_version")?,
            data: json(row, position, "data")?,
            metadata: json(row, position, "metadata")?,
            recorded_at: row.try_get("recorded_at")?,
            hash: row.try_get("hash")?,
        })
    }

    pub fn cursor(&self) -> Cursor {
        Cursor {
            tx: self.tx,
            position: self.position,
        }
    }

    pub fn metadata(&self) -> Result<Metadata, StoreError> {
        serde_json::from_value(self.metadata.clone()).map_err(|e| StoreError::Corrupt {
            position: self.position,
            reason: format!("metadata: {e}"),
        })
    }

    pub fn stored_hash(&self) -> Result<[u8; 32], StoreError> {
        stored_hash_at(self.position, &self.hash)
    }

    pub fn hash_input<'a>(&'a self, metadata: &'a Metadata) -> HashInput<'a> {
        HashInput {
            stream: &self.stream,
            version: self.version,
            event_id: self.event_id,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            data: &self.data,
            metadata,
            recorded_at: self.recorded_at,
        }
    }

    pub fn into_recorded(self, upcaster: &dyn Upcaster) -> Result<RecordedEvent, StoreError> {
        let position = self.position;
        let hash = self.stored_hash()?;
        let metadata: Metadata =
            serde_json::from_value(self.metadata).map_err(|e| StoreError::Corrupt {
                position,
                reason: format!("metadata: {e}"),
            })?;
        let (schema_version, data) = upcaster
            .upcast(&self.event_type, self.schema_version, self.data)
            .map_err(|reason| StoreError::Upcast {
                event_type: self.event_type.clone(),
                schema_version: self.schema_version,
                reason,
            })?;
        Ok(RecordedEvent {
            position: self.position,
            cursor: Cursor {
                tx: self.tx,
                position: self.position,
            },
            stream: self.stream,
            version: self.version,
            event_id: self.event_id,
            event_type: self.event_type,
            schema_version,
            data,
            metadata,
            recorded_at: self.recorded_at,
            hash,
        })
    }
}

/// A stored event hash as 32 bytes; a row whose hash is not is corrupt at its position.
pub(crate) fn stored_hash_at(position: i64, hash: &[u8]) -> Result<[u8; 32], StoreError> {
    hash.try_into().map_err(|_| StoreError::Corrupt {
        position,
        reason: "hash is not 32 bytes".into(),
    })
}

/// A seal as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    pub seq: i64,
    pub up_to: Cursor,
    pub event_count: i64,
    pub running_hash: [u8; 32],
}
