#![forbid(unsafe_code)]
// The service's start-up future nests the workers' futures deeply enough that computing its
// layout needs more than the default query depth (a clean build overflows it; an incremental
// one may not).
#![recursion_limit = "256"]
//! Hearth's HTTP API and command line.

pub mod audit_cli;
pub mod auth;
pub mod authz;
pub mod cli;
pub mod commands;
pub mod config;
pub mod consistency;
pub mod console;
pub mod csv_out;
mod errors;
pub mod expiry;
pub mod extract;
pub mod frame;
pub mod keys;
pub mod keys_cli;
pub mod metrics;
pub mod problem;
pub mod problem_layer;
pub mod reason;
pub mod request_id;
pub mod retention;
pub mod routes;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod transparency;
pub mod watch;
pub mod webhook_relay;
pub mod xplan;
