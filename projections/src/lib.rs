#![forbid(unsafe_code)]
//! Read models built from the event log: the access model answers checks (with the path that
//! decided), lists, as-of questions, histories and rosters (PRODUCT.md §3).

mod directory;
mod expiry;
mod facts;
pub mod model;
pub mod names;
mod queries;
mod report;
mod retention;
mod runner;
pub mod snapshot;
mod snug;
mod timeline;

pub use directory::{HouseholdFilter, HouseholdPage, HouseholdSummary, StaffEntry, MAX_PAGE_SIZE};
pub use model::{
    AccessChange, AccessInterval, AccessModel, AuditEntry, ChangePage, FailureView, FeedCursor,
    HouseholdView, PracticeView, RedeliveryView, RunStatus, StaffView, SyncRunView, SyncRuns,
    Unreadable, WebhookView,
};
pub use queries::{
    History, HouseholdAccess, QueryError, Roster, RosterHousehold, RosterStaff, StaffAccess,
};
pub use report::{AccessReport, ReportRow};
pub use retention::PastRetention;
pub use runner::{build_from_log, Lagging, Projection};
pub use snapshot::{SnapshotDir, SnapshotPolicy};
pub use timeline::Timeline;
