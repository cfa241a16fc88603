use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    fields::{FieldChange, Fields, SkippedField},
    surveys::{BlobRef, Dimension, MemberValues, QuestionAnswer},
    xplan::InsurancePolicy,
};
use crate::{
    codec::events,
    context::EventMeta,
    ids::{BranchId, HouseholdId, IntegrationId, MemberId, PracticeId, StaffId},
    roles::HouseholdRole,
};

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberKind {
    Client,
    Partner,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdStatus {
    Prospect,
    #[default]
    Active,
    Inactive,
    Former,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub member_id: MemberId,
    pub kind: MemberKind,
    pub fields: Fields,
    #[serde(default)]
    pub xplan: Option<XplanLink>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct XplanLink {
    pub integration_id: IntegrationId,
    pub xplan_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HouseholdCreated {
    pub meta: EventMeta,
    pub household_id: HouseholdId,
    pub practice_id: PracticeId,
    pub name: String,
    pub members: Vec<Member>,
    pub primary: StaffId,
    #[serde(default)]
    pub branch: Option<BranchId>,
    pub status: HouseholdStatus,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrimaryAssigned {
    pub meta: EventMeta,
    pub staff_id: StaffId,
    pub previous: StaffId,
    /// The previous primary's role from now on (None: they lose their access to this household).
    #[serde(default)]
    pub previous_keeps: Option<HouseholdRole>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecondarySet {
    pub meta: EventMeta,
    pub staff_id: StaffId,
    #[serde(default)]
    pub previous: Option<StaffId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecondaryCleared {
    pub meta: EventMeta,
    pub previous: StaffId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessGranted {
    pub meta: EventMeta,
    pub staff_id: StaffId,
    pub role: HouseholdRole,
    /// A temporary grant ends at this instant (checks deny from then on) and is closed by a
    /// `household.grant_expired` event recorded by Hearth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrantExpired {
    pub meta: EventMeta,
    pub staff_id: StaffId,
    pub role: HouseholdRole,
    /// When the access ended (the grant's `expires_at`), not when this was recorded.
    pub expired_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleChanged {
    pub meta: EventMeta,
    pub staff_id: StaffId,
    pub from: HouseholdRole,
    pub to: HouseholdRole,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessRevoked {
    pub meta: EventMeta,
    pub staff_id: StaffId,
    pub role: HouseholdRole,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Marked {
    pub meta: EventMeta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusChanged {
    pub meta: EventMeta,
    pub from: HouseholdStatus,
    pub to: HouseholdStatus,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BranchAssigned {
    pub meta: EventMeta,
    #[serde(default)]
    pub branch: Option<BranchId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetailsEdited {
    pub meta: EventMeta,
    pub member_id: MemberId,
    pub changes: Vec<FieldChange>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct XplanIdLinked {
    pub meta: EventMeta,
    pub member_id: MemberId,
    pub link: XplanLink,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct XplanClientSynced {
    pub meta: EventMeta,
    pub member_id: MemberId,
    pub link: XplanLink,
    pub changes: Vec<FieldChange>,
    /// The full list of values not taken at this sync (recorded when it changes).
    pub skipped: Vec<SkippedField>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoliciesSynced {
    pub meta: EventMeta,
    pub integration_id: IntegrationId,
    pub policies: Vec<InsurancePolicy>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct YourLifeSurveyCompleted {
    pub meta: EventMeta,
    pub survey_id: Uuid,
    pub member_id: MemberId,
    /// "{related entity name}" of the file note subject.
    pub member_name: String,
    pub your_life_score_pct: u8,
    pub goals: Vec<String>,
    pub dimensions: Vec<Dimension>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValuesSessionCompleted {
    pub meta: EventMeta,
    pub session_id: Uuid,
    pub values: Vec<MemberValues>,
    pub progress_score: u8,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BestLifePlanExported {
    pub meta: EventMeta,
    pub export_id: Uuid,
    pub document: BlobRef,
    /// The household's primary professional when exported: the adviser printed on the plan.
    pub adviser: StaffId,
    pub adviser_name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvestmentPreferencesCompleted {
    pub meta: EventMeta,
    pub questionnaire_id: Uuid,
    pub member_id: MemberId,
    pub member_name: String,
    pub answers: Vec<QuestionAnswer>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvestmentPreferencesExported {
    pub meta: EventMeta,
    pub export_id: Uuid,
    pub document: BlobRef,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileNoteCreated {
    pub meta: EventMeta,
    /// The survey/plan event the note records; at most one note per source event.
    pub source_event_id: Uuid,
    pub integration_id: IntegrationId,
    pub docid: String,
    pub subject: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileNoteSkipped {
    pub meta: EventMeta,
    pub source_event_id: Uuid,
    pub reason: String,
}

/// The household's personal data was destroyed (its key erased); its access history stays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HouseholdErased {
    pub meta: EventMeta,
    /// When the practice's retention period for it ended (or would have); `None` when it was
    /// never archived.
    #[serde(default)]
    pub retention_ended: Option<DateTime<Utc>>,
    /// Erased before `retention_ended`, by the override permission.
    pub retention_overridden: bool,
}

events!(
    /// Events of the `household-{id}` stream.
    HouseholdEvent / HouseholdEventKind {
        Created(HouseholdCreated) = "household.created", 1,
        PrimaryAssigned(PrimaryAssigned) = "household.primary_professional_assigned", 1,
        SecondarySet(SecondarySet) = "household.secondary_professional_set", 1,
        SecondaryCleared(SecondaryCleared) = "household.secondary_professional_cleared", 1,
        AccessGranted(AccessGranted) = "household.staff_access_granted", 2,
        RoleChanged(RoleChanged) = "household.staff_role_changed", 1,
        AccessRevoked(AccessRevoked) = "household.staff_access_revoked", 1,
        Archived(Marked) = "household.archived", 1,
        Restored(Marked) = "household.restored", 1,
        StatusChanged(StatusChanged) = "household.status_changed", 1,
        BranchAssigned(BranchAssigned) = "household.branch_assigned", 1,
        DetailsEdited(DetailsEdited) = "household.client_details_edited", 1,
        XplanIdLinked(XplanIdLinked) = "household.xplan_id_linked", 1,
        XplanClientSynced(XplanClientSynced) = "household.xplan_client_synced", 1,
        PoliciesSynced(PoliciesSynced) = "household.insurance_policies_synced", 1,
        YourLifeSurveyCompleted(YourLifeSurveyCompleted) = "household.your_life_survey_completed", 1,
        ValuesSessionCompleted(ValuesSessionCompleted) = "household.values_session_completed", 1,
        BestLifePlanExported(BestLifePlanExported) = "household.best_life_plan_exported", 1,
        InvestmentPreferencesCompleted(InvestmentPreferencesCompleted) = "household.investment_preferences_completed", 1,
        InvestmentPreferencesExported(InvestmentPreferencesExported) = "household.investment_preferences_exported", 1,
        FileNoteCreated(FileNoteCreated) = "household.xplan_file_note_created", 1,
        FileNoteSkipped(FileNoteSkipped) = "household.xplan_file_note_skipped", 1,
        FileNoteFailed(FileNoteSkipped) = "household.xplan_file_note_failed", 1,
        GrantExpired(GrantExpired) = "household.grant_expired", 1,
        Erased(HouseholdErased) = "household.erased", 1,
    }
);
