//! Running domain commands against the log: load the streams a decision needs, decide (pure),
//! append the events with the expected version of every stream read, retry on conflict.

mod batch;
mod executor;
mod integration;
mod loading;

pub use batch::BatchItem;
pub use executor::{CommandExecutor, ExecError, Executed};
