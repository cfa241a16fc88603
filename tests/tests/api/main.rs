//! End-to-end: the real service over HTTP, on PostgreSQL and on SQLite.

mod helpers;

mod authorization;
mod consistency;
mod file_notes;
mod hardening;
mod hardening_ops;
mod log;
mod lumiant_flow;
mod ops;
mod problems;
mod xplan;
