//! Hearth's integrations: the Iress XPLAN client and a fake XPLAN server to test it against,
//! the encrypted token vault, the XPLAN ID pre-load and the hourly sync.
#![forbid(unsafe_code)]

pub mod claims;
pub mod crypto;
#[cfg(feature = "fake")]
pub mod fake;
pub mod jobs;
pub mod notes;
pub mod preload;
mod recorder;
pub mod scheduler;
pub mod service;
pub mod sync;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token_vault;
pub mod webhooks;
pub mod xplan;
