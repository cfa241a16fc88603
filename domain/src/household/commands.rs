use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    events::HouseholdStatus,
    fields::ClientField,
    surveys::{BlobRef, Dimension, QuestionAnswer},
    xplan::XplanClientData,
};
use crate::{
    ids::{BranchId, IntegrationId, MemberId, StaffId},
    roles::{Action, HouseholdRole},
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewMember {
    pub member_id: MemberId,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberValuesInput {
    pub member_id: MemberId,
    pub top_values: Vec<String>,
}

/// Surveys and exports, a family of their own so who may run each is decided by one
/// exhaustive match ([`SurveyCommand::action`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "survey", rename_all = "snake_case")]
pub enum SurveyCommand {
    CompleteYourLifeSurvey {
        survey_id: Uuid,
        member_id: MemberId,
        your_life_score_pct: u8,
        goals: Vec<String>,
        dimensions: Vec<Dimension>,
    },
    CompleteValuesSession {
        session_id: Uuid,
        values: Vec<MemberValuesInput>,
        progress_score: u8,
    },
    ExportBestLifePlan {
        export_id: Uuid,
        document: BlobRef,
    },
    CompleteInvestmentPreferences {
        questionnaire_id: Uuid,
        member_id: MemberId,
        answers: Vec<QuestionAnswer>,
    },
    ExportInvestmentPreferences {
        export_id: Uuid,
        document: BlobRef,
    },
}

impl SurveyCommand {
    /// What the actor must be allowed to do with the household to run it.
    pub fn action(&self) -> Action {
        match self {
            SurveyCommand::CompleteYourLifeSurvey { .. }
            | SurveyCommand::CompleteValuesSession { .. }
            | SurveyCommand::CompleteInvestmentPreferences { .. } => Action::Edit,
            SurveyCommand::ExportBestLifePlan { .. }
            | SurveyCommand::ExportInvestmentPreferences { .. } => Action::Export,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum HouseholdCommand {
    CreateHousehold {
        client: NewMember,
        partner: Option<NewMember>,
        branch: Option<BranchId>,
        status: Option<HouseholdStatus>,
    },
    /// Replaces the primary atomically; the previous primary keeps `previous_keeps` (or loses access).
    AssignPrimaryProfessional {
        staff_id: StaffId,
        previous_keeps: Option<HouseholdRole>,
    },
    SetSecondaryProfessional {
        staff_id: StaffId,
    },
    ClearSecondaryProfessional,
    GrantStaffAccess {
        staff_id: StaffId,
        role: HouseholdRole,
    },
    /// Access that ends by itself at `expires_at` (a colleague covering leave).
    GrantTemporaryAccess {
        staff_id: StaffId,
        role: HouseholdRole,
        expires_at: DateTime<Utc>,
    },
    /// Hearth's expiry worker ends a temporary grant whose time has come.
    ExpireStaffAccess {
        staff_id: StaffId,
    },
    /// In place: no remove-and-re-add gap in the history.
    ChangeStaffRole {
        staff_id: StaffId,
        role: HouseholdRole,
    },
    RevokeStaffAccess {
        staff_id: StaffId,
    },
    ArchiveHousehold,
    RestoreHousehold,
    /// Destroys the household's personal data for good (its access history stays). Needs a
    /// reason; before the retention period has passed, also `override_retention`.
    EraseHousehold {
        override_retention: bool,
    },
    ChangeHouseholdStatus {
        status: HouseholdStatus,
    },
    AssignHouseholdBranch {
        branch: Option<BranchId>,
    },
    /// A local edit (also of XPLAN-mastered fields: kept until the next sync overwrites it).
    EditClientDetails {
        member_id: MemberId,
        fields: BTreeMap<ClientField, Option<String>>,
    },
    /// Pre-load: links an existing member to an XPLAN client so the sync never duplicates it.
    LinkXplanId {
        integration_id: IntegrationId,
        member_id: MemberId,
        xplan_id: String,
    },
    CreateHouseholdFromXplan {
        integration_id: IntegrationId,
        member_id: MemberId,
        data: XplanClientData,
        synced_on: NaiveDate,
    },
    SyncXplanClient {
        integration_id: IntegrationId,
        data: XplanClientData,
        synced_on: NaiveDate,
    },
    /// A survey completed or a document exported (the facts file notes are made from).
    Survey(SurveyCommand),
    RecordXplanFileNote {
        source_event_id: Uuid,
        integration_id: IntegrationId,
        docid: String,
        subject: String,
    },
    RecordXplanFileNoteSkipped {
        source_event_id: Uuid,
        reason: String,
    },
    /// XPLAN refused the note for a reason retrying will not fix (dead-lettered).
    RecordXplanFileNoteFailed {
        source_event_id: Uuid,
        reason: String,
    },
}
