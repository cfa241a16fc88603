//! Content-addressed documents beside the log. An event carries a blob's SHA-256; the bytes
//! live here, so the log stays small and the reference still pins the exact content.

use sha2::{Digest, Sha256};

use crate::{error::StoreError, store::EventStore, Backend};

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl EventStore {
    /// Stores the bytes (idempotent: the same content is stored once) and returns their SHA-256.
    pub async fn put_blob(&self, content: &[u8], mimetype: &str) -> Result<String, StoreError> {
        let sha = sha256_hex(content);
        match self.backend() {
            Backend::Postgres(p) => {
                sqlx::query("INSERT INTO blobs (sha256, mimetype, content) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(&sha)
                    .bind(mimetype)
                    .bind(content)
                    .execute(p)
                    .await?;
            }
            Backend::Sqlite(p) => {
                sqlx::query(
                    "INSERT OR IGNORE INTO blobs (sha256, mimetype, content) VALUES (?1, ?2, ?3)",
                )
                .bind(&sha)
                .bind(mimetype)
                .bind(content)
                .execute(p)
                .await?;
            }
        }
        Ok(sha)
    }

    /// The bytes, checked against their address (a corrupted blob is an error, not a document).
    pub async fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let content: Option<Vec<u8>> = match self.backend() {
            Backend::Postgres(p) => {
                sqlx::query_scalar("SELECT content FROM blobs WHERE sha256 = $1")
                    .bind(sha256)
                    .fetch_optional(p)
                    .await?
            }
            Backend::Sqlite(p) => {
                sqlx::query_scalar("SELECT content FROM blobs WHERE sha256 = ?1")
                    .bind(sha256)
                    .fetch_optional(p)
                    .await?
            }
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
