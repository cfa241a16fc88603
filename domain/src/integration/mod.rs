//! A practice's connection to an XPLAN site (PRODUCT.md §4; seed: lumiant-xplan-integration):
//! set-up by whoever holds "manage integrations", the OAuth consent, and the record of each sync
//! and ID pre-load. Secrets never enter these events: tokens live encrypted outside the log.

mod commands;
mod decide;
mod events;
mod host;
mod state;

pub use commands::IntegrationCommand;
pub use decide::decide;
pub use events::*;
pub use host::{forward_host, HostPolicy, DEFAULT_SITE_SUFFIXES};
pub use state::{Consent, IntegrationState, PendingAuthorisation};
