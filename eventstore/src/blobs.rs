//! Content-addressed documents beside the log. An event carries a blob's SHA-256; the bytes
//! live here, so the log stays small and the reference still pins the exact content.

use sha2::{Digest, Sha256};

use uuid::Uuid;

use crate::{
    error::StoreError,
    store::{with_pool, EventStore},
};

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl EventStore {
    /// Stores a document of `subject` (idempotent) and returns its SHA-256. With personal data
    /// configured it is sealed with the subject's key, so erasing the subject erases it too.
    pub async fn put_blob(
        &self,
        subject: Uuid,
        content: &[u8],
        mimetype: &str,
    ) -> Result<String, StoreError> {
        let sha = sha256_hex(content);
        let Some(personal) = &self.personal else {
            with_pool!(self, |pool| {
                sqlx::query(
                "INSERT INTO blobs (sha256, mimetype, content) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
            )
            .bind(&sha)
            .bind(mimetype)
            .bind(content)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            })?;
            return Ok(sha);
        };
        let sealed = personal.seal_document(subject, &sha, content).await?;
        with_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO sealed_blobs (subject, sha256, mimetype, content) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        )
        .bind(subject)
        .bind(&sha)
        .bind(mimetype)
        .bind(sealed)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(sha)
    }

    /// A document of `subject`, checked against its address (a corrupted blob is an error, not a
    /// document). `None` when there is none, or when the subject was erased.
    pub async fn blob(&self, subject: Uuid, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let sealed: Option<Vec<u8>> = with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT content FROM sealed_blobs WHERE subject = $1 AND sha256 = $2"
        )
        .bind(subject)
        .bind(sha256)
        .fetch_optional(pool)
        .await)?;
        let content = match (sealed, &self.personal) {
            (Some(s), Some(personal)) => personal.open_document(subject, sha256, &s).await?,
            (Some(_), None) => return Err(StoreError::PersonalDataOff),
            // Stored before documents were sealed.
            (None, _) => with_pool!(self, |pool| sqlx::query_scalar(
                "SELECT content FROM blobs WHERE sha256 = $1"
            )
            .bind(sha256)
            .fetch_optional(pool)
            .await)?,
        };
        match content {
            Some(c) if sha256_hex(&c) != sha256 => Err(StoreError::Corrupt {
                position: 0,
                reason: format!("blob {sha256} does not match its hash"),
            }),
            other => Ok(other),
        }
    }
}
