//! The XPLAN file note each survey or export makes, exactly per the table of PRODUCT.md §4
//! (seed: lumiant-xplan-integration): type General, this subject, this content, this attachment.

use strum::IntoEnumIterator;

use super::{
    events::{HouseholdEvent, HouseholdEventKind},
    surveys::BlobRef,
};

/// Whether events of this kind make a file note. Exhaustive on purpose: a new event kind does
/// not compile until someone decides here.
pub fn makes_file_note(kind: HouseholdEventKind) -> bool {
    use HouseholdEventKind::*;
    match kind {
        YourLifeSurveyCompleted
        | ValuesSessionCompleted
        | BestLifePlanExported
        | InvestmentPreferencesCompleted
        | InvestmentPreferencesExported => true,
        Created | PrimaryAssigned | SecondarySet | SecondaryCleared | AccessGranted
        | RoleChanged | AccessRevoked | Archived | Restored | StatusChanged | BranchAssigned
        | DetailsEdited | XplanIdLinked | XplanClientSynced | PoliciesSynced | FileNoteCreated
        | FileNoteSkipped | FileNoteFailed | GrantExpired | Erased => false,
    }
}

/// The stored event types that make a file note (the bus's routing keys), in the table's order.
pub fn file_note_triggers() -> impl Iterator<Item = &'static str> {
    HouseholdEventKind::iter()
        .filter(|k| makes_file_note(*k))
        .map(HouseholdEventKind::event_type)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileNoteContent {
    pub subject: String,
    /// Plain text; empty where the table's content is "—".
    pub body: String,
    pub attachment: Option<BlobRef>,
}

/// The note an event calls for, or None for events that make no note.
pub fn file_note(event: &HouseholdEvent) -> Option<FileNoteContent> {
    use HouseholdEvent::*;
    let note = |subject: String, body: String, attachment: Option<BlobRef>| {
        Some(FileNoteContent {
            subject,
            body,
            attachment,
        })
    };
    match event {
        YourLifeSurveyCompleted(e) => {
            let mut body = format!(
                "Your Life Score: {}%\nGoals to be addressed:\n",
                e.your_life_score_pct
            );
            for g in &e.goals {
                body.push_str(&format!("- {g}\n"));
            }
            body.push_str("Dimensions of wellbeing:\n");
            for d in &e.dimensions {
                body.push_str(&format!("- {}: {}%\n", d.name, d.pct));
            }
            note(
                format!("Completed Your Life Survey {}", e.member_name),
                body,
                None,
            )
        }
        ValuesSessionCompleted(e) => {
            let names: Vec<&str> = e.values.iter().map(|v| v.member_name.as_str()).collect();
            let mut body = String::new();
            for v in &e.values {
                body.push_str(&format!("Top 5 values for {}:\n", v.member_name));
                for (i, value) in v.top_values.iter().enumerate() {
                    body.push_str(&format!("{}. {value}\n", i + 1));
                }
            }
            body.push_str(&format!("Progress score: {}%\n", e.progress_score));
            note(
                format!("Completed Values Session for {}", names.join(" and ")),
                body,
                None,
            )
        }
        BestLifePlanExported(e) => note(
            "Best Life Plan Created".into(),
            String::new(),
            Some(e.document.clone()),
        ),
        InvestmentPreferencesCompleted(e) => {
            let mut body = String::new();
            for qa in &e.answers {
                body.push_str(&format!("Q: {}\nA: {}\n", qa.question, qa.answer));
            }
            note(
                format!(
                    "Completed Your Investment Preferences for {}",
                    e.member_name
                ),
                body,
                None,
            )
        }
        InvestmentPreferencesExported(e) => note(
            "Investment Preferences Created".into(),
            String::new(),
            Some(e.document.clone()),
        ),
        Created(_) | PrimaryAssigned(_) | SecondarySet(_) | SecondaryCleared(_)
        | AccessGranted(_) | RoleChanged(_) | AccessRevoked(_) | Archived(_) | Restored(_)
        | StatusChanged(_) | BranchAssigned(_) | DetailsEdited(_) | XplanIdLinked(_)
        | XplanClientSynced(_) | PoliciesSynced(_) | FileNoteCreated(_) | FileNoteSkipped(_)
        | FileNoteFailed(_) | GrantExpired(_) | Erased(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        context::{Actor, EventMeta},
        household::{
            events::*,
            surveys::{Dimension, MemberValues, QuestionAnswer},
        },
        ids::MemberId,
    };

    fn meta() -> EventMeta {
        EventMeta {
            actor: Actor::System("test".into()),
            at: chrono::Utc::now(),
            reason: None,
        }
    }

    #[test]
    fn each_trigger_makes_the_note_of_the_table() {
        let yls = HouseholdEvent::YourLifeSurveyCompleted(YourLifeSurveyCompleted {
            meta: meta(),
            survey_id: uuid::Uuid::nil(),
            member_id: MemberId::new(),
            member_name: "Jane Citizen".into(),
            your_life_score_pct: 72,
            goals: vec!["Retire at 60".into()],
            dimensions: vec![Dimension {
                name: "Health".into(),
                pct: 80,
            }],
        });
        let n = file_note(&yls).unwrap();
        assert_eq!(n.subject, "Completed Your Life Survey Jane Citizen");
        assert_eq!(n.body, "Your Life Score: 72%\nGoals to be addressed:\n- Retire at 60\nDimensions of wellbeing:\n- Health: 80%\n");
        let values = HouseholdEvent::ValuesSessionCompleted(ValuesSessionCompleted {
            meta: meta(),
            session_id: uuid::Uuid::nil(),
            values: ["Jane", "John"]
                .iter()
                .map(|n| MemberValues {
                    member_id: MemberId::new(),
                    member_name: n.to_string(),
                    top_values: vec!["Family".into(), "Health".into()],
                })
                .collect(),
            progress_score: 64,
        });
        let n = file_note(&values).unwrap();
        assert_eq!(n.subject, "Completed Values Session for Jane and John");
        assert!(
            n.body
                .starts_with("Top 5 values for Jane:\n1. Family\n2. Health\n")
                && n.body.ends_with("Progress score: 64%\n"),
            "{}",
            n.body
        );
        let ip = HouseholdEvent::InvestmentPreferencesCompleted(InvestmentPreferencesCompleted {
            meta: meta(),
            questionnaire_id: uuid::Uuid::nil(),
            member_id: MemberId::new(),
            member_name: "Jane Citizen".into(),
            answers: vec![QuestionAnswer {
                question: "Horizon?".into(),
                answer: "10 years".into(),
            }],
        });
        assert_eq!(file_note(&ip).unwrap().body, "Q: Horizon?\nA: 10 years\n");
        let triggers: Vec<&str> = file_note_triggers().collect();
        assert_eq!(
            triggers,
            [
                "household.your_life_survey_completed",
                "household.values_session_completed",
                "household.best_life_plan_exported",
                "household.investment_preferences_completed",
                "household.investment_preferences_exported",
            ],
            "the five rows of PRODUCT.md §4's table, in its order"
        );
        for e in [&yls, &values, &ip] {
            assert!(makes_file_note(e.kind()) && file_note(e).is_some());
        }
    }
}
