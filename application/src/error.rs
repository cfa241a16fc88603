//! What can go wrong running a command: a broken rule (the caller's problem) or the log's.

use hearth_domain::{DomainError, EventDecodeError};
use hearth_eventstore::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The command broke a rule: the caller's problem, reported as is.
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("the log: {0}")]
    Store(#[from] StoreError),
    #[error("a stored event cannot be read: {0}")]
    Decode(#[from] EventDecodeError),
    /// Item `index` of a batch broke a rule; nothing of the batch was written.
    #[error("item {index}: {error}")]
    Rejected { index: usize, error: DomainError },
    #[error("too many concurrent changes to the same records; try again")]
    Contended,
    #[error("internal lock poisoned")]
    Poisoned,
}
