//! Which values of household events are personal: sealed with the household's key in the log,
//! so erasing the household (destroying that key) erases them. Access facts — who holds the
//! household how, granted by whom, when, why — stay in clear, so audits never need the key.
//! One exhaustive match: a new event kind does not compile until it is classified here.

use super::events::HouseholdEventKind;

/// Paths (dotted field names, `*` for every array element) of the personal values in an event
/// of this kind.
pub fn personal_paths(kind: HouseholdEventKind) -> &'static [&'static str] {
    use HouseholdEventKind::*;
    match kind {
        Created => &["name", "members.*.fields"],
        DetailsEdited => &["changes.*.from", "changes.*.to"],
        XplanClientSynced => &[
            "changes.*.from",
            "changes.*.to",
            "skipped.*.value",
            "skipped.*.reason",
        ],
        PoliciesSynced => &["policies"],
        YourLifeSurveyCompleted => &["member_name", "your_life_score_pct", "goals", "dimensions"],
        ValuesSessionCompleted => &[
            "values.*.member_name",
            "values.*.top_values",
            "progress_score",
        ],
        BestLifePlanExported | InvestmentPreferencesExported => &["document.filename"],
        InvestmentPreferencesCompleted => &["member_name", "answers"],
        FileNoteCreated => &["subject"],
        PrimaryAssigned | SecondarySet | SecondaryCleared | AccessGranted | RoleChanged
        | AccessRevoked | Archived | Restored | StatusChanged | BranchAssigned | XplanIdLinked
        | FileNoteSkipped | FileNoteFailed | GrantExpired | Erased => &[],
    }
}
