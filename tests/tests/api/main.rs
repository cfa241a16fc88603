//! End-to-end: the real service over HTTP, on PostgreSQL and on SQLite.

mod helpers;

mod authorization;
mod changes;
mod consistency;
mod directory;
mod erasure;
mod file_notes;
mod hardening;
mod hardening_ops;
mod log;
mod lumiant_flow;
mod ops;
mod practice_admin;
mod problems;
mod receiver;
mod snapshots;
mod sse;
mod temporary_access;
mod webhooks;
mod xplan;
