#![forbid(unsafe_code)]
//! Hearth's event log: an append-only, hash-chained log on PostgreSQL (production) or SQLite
//! (embedded default).
//!
//! - [`EventStore::append`] / [`EventStore::append_many`]: optimistic concurrency per stream
//!   ([`ExpectedVersion`]), atomic across streams, idempotent on event ids.
//! - [`EventStore::read_stream`], [`EventStore::read_all`]: older schema versions are upcast on
//!   read by the configured [`Upcaster`].
//! - [`EventStore::subscribe`]: catch-up subscription that never skips an event, with
//!   checkpoints ([`EventStore::save_checkpoint`]).
//! - [`EventStore::verify`] / [`EventStore::seal`]: tamper evidence.
//! - Verifiable audit: signed appends ([`LogSigner`]), a Merkle tree over the log ([`TreeBuilder`],
//!   [`merkle`]), signed checkpoints ([`Checkpoint`]), proofs, and offline bundles ([`audit`]).

pub mod audit;
mod blobs;
mod bundle;
mod checkpoint;
mod error;
mod export;
mod hashing;
mod heads;
mod integrity;
mod lead;
pub mod merkle;
mod model;
mod open;
pub mod personal;
mod plan;
mod postgres;
mod raw;
mod read_ahead;
mod sealed;
mod shared_sql;
mod signed_here;
mod signing;
mod sqlite;
mod store;
mod subscription;
mod tree;
mod upcast;
mod verifications;

pub use blobs::sha256_hex;
pub use bundle::{Bundle, BundleAppend, BundleEvent, BundleLeaf, ConsistencyProof, BUNDLE_FORMAT};
pub use checkpoint::{Checkpoint, PracticeHead};
pub use error::StoreError;
pub use export::ExportRequest;
pub use hashing::canonical_json;
pub use integrity::{IntegrityProblem, VerifyReport};
pub use lead::Leadership;
pub use model::{
    AppendResult, Cursor, ExpectedVersion, LogAnchor, Metadata, NewEvent, RecordedEvent,
    StreamAppend,
};
pub use raw::Seal;
pub use read_ahead::ReadAhead;
pub use signing::{KeyError, LogPublicKey, LogSigner};
pub use store::{Backend, EventStore};
pub use subscription::Subscription;
pub use tree::{practice_fold, InclusionProof, TreeBuilder, TreeError, PRACTICE_FOLD_START};
pub use upcast::{NoUpcast, Upcaster};
pub use verifications::VerificationRun;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
