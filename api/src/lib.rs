#![forbid(unsafe_code)]
//! Hearth's HTTP API and command line.

pub mod auth;
pub mod cli;
pub mod config;
pub mod extract;
pub mod metrics;
pub mod problem;
pub mod shutdown;
pub mod telemetry;
