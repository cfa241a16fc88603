//! The household: members, primary/secondary professionals, staff grants, status, branch, the
//! XPLAN-mastered fields, and the survey/plan facts that become XPLAN file notes.

mod commands;
mod decide;
mod erasure;
mod events;
pub mod field_rules;
mod fields;
mod file_notes;
pub mod personal;
mod reassign;
mod state;
mod surveys;
mod sync;
mod xplan;

pub use commands::{HouseholdCommand, MemberValuesInput, NewMember, SurveyCommand};
pub use decide::{decide, DEFAULT_PREVIOUS_ROLE};
pub use events::*;
pub use fields::{ClientField, FieldChange, Fields, SkippedField};
pub use file_notes::{file_note, file_note_triggers, makes_file_note, FileNoteContent};
pub use reassign::reassign_households;
pub use state::{HouseholdState, ERASED};
pub use surveys::{BlobRef, Dimension, MemberValues, QuestionAnswer};
pub use xplan::{
    end_year, normalise, InsurancePolicy, XplanClientData, XplanPolicy, ALLOWED_TITLES,
};
