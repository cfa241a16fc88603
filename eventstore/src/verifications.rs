//! Records of audit jobs beside the log: a practice's verification runs as a job (its cost grows
//! with the practice's events), so its request and outcome are kept where every instance can
//! answer for them. Written twice per run — started, then finished — never deleted.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{error::StoreError, store::Backend, EventStore};

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
        match self.backend() {
            Backend::Postgres(p) => {
                sqlx::query("INSERT INTO log_verifications (id, practice_id, requested_by, started_at) VALUES ($1, $2, $3, $4)")
                    .bind(id).bind(practice).bind(requested_by).bind(at)
                    .execute(p).await?;
            }
            Backend::Sqlite(p) => {
                sqlx::query("INSERT INTO log_verifications (id, practice_id, requested_by, started_at) VALUES (?1, ?2, ?3, ?4)")
                    .bind(id.to_string()).bind(practice.to_string()).bind(requested_by.to_string()).bind(at)
                    .execute(p).await?;
            }
        }
        Ok(())
    }

    /// Records the outcome once; a second finish of the same run changes nothing.
    pub async fn finish_verification(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        result: &serde_json::Value,
    ) -> Result<(), StoreError> {
        match self.backend() {
            Backend::Postgres(p) => {
                sqlx::query("UPDATE log_verifications SET finished_at = $2, result = $3 WHERE id = $1 AND finished_at IS NULL")
                    .bind(id).bind(at).bind(result)
                    .execute(p).await?;
            }
            Backend::Sqlite(p) => {
                sqlx::query("UPDATE log_verifications SET finished_at = ?2, result = ?3 WHERE id = ?1 AND finished_at IS NULL")
                    .bind(id.to_string()).bind(at).bind(result.to_string())
                    .execute(p).await?;
            }
        }
        Ok(())
    }

    /// The run, when it is this practice's.
    pub async fn verification(
        &self,
        practice: Uuid,
        id: Uuid,
    ) -> Result<Option<VerificationRun>, StoreError> {
        let row: Option<Row> = match self.backend() {
            Backend::Postgres(p) => sqlx::query_as(
                "SELECT id::text, practice_id::text, requested_by::text, started_at, finished_at, result::text \
                 FROM log_verifications WHERE id = $1 AND practice_id = $2",
            )
            .bind(id)
            .bind(practice)
            .fetch_optional(p)
            .await?,
            Backend::Sqlite(p) => sqlx::query_as(
                "SELECT id, practice_id, requested_by, started_at, finished_at, result \
                 FROM log_verifications WHERE id = ?1 AND practice_id = ?2",
            )
            .bind(id.to_string())
            .bind(practice.to_string())
            .fetch_optional(p)
            .await?,
        };
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
