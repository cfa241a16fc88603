#![forbid(unsafe_code)]
//! Hearth's application layer: running domain commands against the log. Load the streams a
//! decision needs, decide (pure, in `hearth-domain`), append the events with the expected version
//! of every stream read, retry on conflict. The log crate knows nothing of households; this crate
//! is where the two meet.

mod batch;
mod claims;
mod error;
mod executor;
mod integration;
mod loading;
mod personal;
mod webhook;

pub use batch::BatchItem;
pub use claims::{claim_of, Claim};
pub use error::ExecError;
pub use executor::{CommandExecutor, Executed};
pub use personal::{personal_data_policy, HouseholdPersonalData};

/// The domain's upcaster, for [`hearth_eventstore::EventStore::with_upcaster`].
pub fn domain_upcaster() -> std::sync::Arc<dyn hearth_eventstore::Upcaster> {
    std::sync::Arc::new(|t: &str, v: i32, d: serde_json::Value| {
        hearth_domain::upcast::upcast(t, v, d).map_err(|e| e.to_string())
    })
}
