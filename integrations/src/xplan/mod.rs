//! Talking to Iress XPLAN: the API's shape, the HTTP client with OAuth and resilience, and the
//! mapping of XPLAN's client records to Hearth's.

pub mod address;
mod client;
mod config;
mod error;
mod mapping;
mod retry;
mod secret;
pub mod shape;
mod vault;

pub use client::{XplanClient, XplanSession};
pub use config::{RetryPolicy, XplanConfig};
pub use error::XplanError;
pub use mapping::client_data;
pub use secret::{Secret, Tokens};
pub use vault::{ConsentRecorder, MemoryVault, NoRecorder, StoredTokens, TokenVault};
