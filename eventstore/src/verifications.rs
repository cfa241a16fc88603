//! Records of audit jobs beside the log: a practice's verification runs as a job (its cost grows
//! with the practice's events), so its request and outcome are kept where every instance can
//! answer for them. Written twice per run — started, then finished — never deleted.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::StoreError,
    shared_sql::UuidColumn,
    store::{with_pool, EventStore},
};

#[derive(Clone, Debug, PartialEq)]
pub struct VerificationRun {
    pub id: Uuid,
    pub practice_id: Uuid,
    pub requested_by: Uuid,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The outcome, as the job wrote it; `None` while it runs.
    pub result: Option<serde_json::Value>,
}

type Row = (
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
);

impl EventStore {
    pub async fn start_verification(
        &self,
        id: Uuid,
        practice: Uuid,
        requested_by: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| sqlx::query(
            "INSERT INTO log_verifications (id, practice_id, requested_by, started_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(pool.uuid(id))
        .bind(pool.uuid(practice))
        .bind(pool.uuid(requested_by))
        .bind(at)
        .execute(pool)
        .await
        .map(drop))?;
        Ok(())
    }

    /// Records the outcome once; a second finish of the same run changes nothing.
    pub async fn finish_verification(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        result: &serde_json::Value,
    ) -> Result<(), StoreError> {
        // JSON binds as PostgreSQL's `jsonb` and as SQLite's text.
        with_pool!(self, |pool| sqlx::query(
            "UPDATE log_verifications SET finished_at = $2, result = $3 \
             WHERE id = $1 AND finished_at IS NULL",
        )
        .bind(pool.uuid(id))
        .bind(at)
        .bind(result)
        .execute(pool)
        .await
        .map(drop))?;
        Ok(())
    }

    /// The run, when it is this practice's.
    pub async fn verification(
        &self,
        practice: Uuid,
        id: Uuid,
    ) -> Result<Option<VerificationRun>, StoreError> {
        let row: Option<Row> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT CAST(id AS TEXT), CAST(practice_id AS TEXT), CAST(requested_by AS TEXT), \
             started_at, finished_at, CAST(result AS TEXT) \
             FROM log_verifications WHERE id = $1 AND practice_id = $2",
        )
        .bind(pool.uuid(id))
        .bind(pool.uuid(practice))
        .fetch_optional(pool)
        .await)?;
        row.map(decode).transpose()
    }
}

fn decode(row: Row) -> Result<VerificationRun, StoreError> {
    let (id, practice, by, started_at, finished_at, result) = row;
    let uuid = |text: &str| {
        Uuid::parse_str(text).map_err(|e| StoreError::Corrupt {
            position: 0,
            reason: format!("log_verifications holds a malformed id: {e}"),
        })
    };
    let result = match result {
        Some(text) => Some(
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                position: 0,
                reason: format!("log_verifications holds a malformed result: {e}"),
            })?,
        ),
        None => None,
    };
    Ok(VerificationRun {
        id: uuid(&id)?,
        practice_id: uuid(&practice)?,
        requested_by: uuid(&by)?,
        started_at,
        finished_at,
        result,
    })
}
