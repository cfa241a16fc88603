//! The practice (tenant): staff, roles, permissions, licences, branches, assignments, ownership.

mod commands;
mod decide;
mod events;
mod state;

pub use commands::{NewStaff, PracticeCommand};
pub use decide::decide;
pub(crate) use decide::{active, require};
pub use events::*;
pub use state::{PracticeState, StaffMember, StaffStatus};
