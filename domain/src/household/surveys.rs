//! What surveys and exports carry: the content of the XPLAN file notes (PRODUCT.md §4).

use serde::{Deserialize, Serialize};

use crate::ids::MemberId;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    #[serde(deserialize_with = "crate::codec::whole_number")]
    pub pct: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberValues {
    pub member_id: MemberId,
    pub member_name: String,
    /// Top five values, most important first.
    pub top_values: Vec<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionAnswer {
    pub question: String,
    pub answer: String,
}

/// A stored document (PDF): content-addressed by its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    pub sha256: String,
    pub size: u64,
    pub filename: String,
    pub mimetype: String,
}

use super::{commands::SurveyCommand, decide::Events, events::*, state::HouseholdState};
use crate::{
    context::CommandContext,
    error::DomainError,
    limits::{self, Lines},
    practice::PracticeState,
    validate::non_empty,
};

/// A list of free texts within the limits, trimmed.
fn texts(
    what: &str,
    items: &[String],
    max_items: usize,
    max_len: usize,
    lines: Lines,
) -> Result<Vec<String>, DomainError> {
    limits::list(what, items, max_items)?;
    items
        .iter()
        .map(|i| limits::text(what, i, max_len, lines).map(str::to_string))
        .collect()
}

fn document(d: &BlobRef) -> Result<BlobRef, DomainError> {
    Ok(BlobRef {
        sha256: limits::text(
            "the document hash",
            &d.sha256,
            limits::IDENTIFIER_MAX,
            Lines::Single,
        )?
        .into(),
        size: d.size,
        filename: limits::text(
            "the file name",
            &d.filename,
            limits::IDENTIFIER_MAX,
            Lines::Single,
        )?
        .into(),
        mimetype: limits::text(
            "the mime type",
            &d.mimetype,
            limits::IDENTIFIER_MAX,
            Lines::Single,
        )?
        .into(),
    })
}

fn member_name(h: &HouseholdState, id: MemberId) -> Result<String, DomainError> {
    let m = h.member(id).ok_or(DomainError::MemberNotFound(id))?;
    Ok(super::decide::household_name(&m.fields))
}

fn pct(what: &str, v: u8) -> Result<u8, DomainError> {
    if v > 100 {
        return Err(DomainError::InvalidInput(format!(
            "{what} must be a percentage (0–100)"
        )));
    }
    Ok(v)
}

/// Surveys completed and documents exported: the facts the XPLAN file notes are made from.
pub(crate) fn decide(
    h: &HouseholdState,
    p: &PracticeState,
    command: &SurveyCommand,
    ctx: &CommandContext,
) -> Events {
    use SurveyCommand::*;
    let meta = ctx.meta();
    let event = match command {
        CompleteYourLifeSurvey {
            survey_id,
            member_id,
            your_life_score_pct,
            goals,
            dimensions,
        } => {
            limits::list("the dimensions", dimensions, limits::DIMENSIONS_MAX)?;
            let dimensions = dimensions
                .iter()
                .map(|d| {
                    Ok(Dimension {
                        name: non_empty("a dimension name", &d.name)?,
                        pct: pct("a dimension", d.pct)?,
                    })
                })
                .collect::<Result<Vec<_>, DomainError>>()?;
            let goals = texts(
                "a goal",
                goals,
                limits::GOALS_MAX,
                limits::GOAL_MAX,
                Lines::Multi,
            )?;
            HouseholdEvent::YourLifeSurveyCompleted(YourLifeSurveyCompleted {
                meta,
                survey_id: *survey_id,
                member_id: *member_id,
                member_name: member_name(h, *member_id)?,
                your_life_score_pct: pct("Your Life Score", *your_life_score_pct)?,
                goals,
                dimensions,
            })
        }
        CompleteValuesSession {
            session_id,
            values,
            progress_score,
        } => {
            if values.is_empty() {
                return Err(DomainError::InvalidInput(
                    "a values session records the values of at least one client".into(),
                ));
            }
            limits::list("the values session", values, limits::VALUES_MEMBERS_MAX)?;
            let mut out = Vec::new();
            for v in values {
                if v.top_values.is_empty() || v.top_values.len() > 5 {
                    return Err(DomainError::InvalidInput(
                        "each client has one to five top values".into(),
                    ));
                }
                out.push(MemberValues {
                    member_id: v.member_id,
                    member_name: member_name(h, v.member_id)?,
                    top_values: texts(
                        "a top value",
                        &v.top_values,
                        5,
                        limits::NAME_MAX,
                        Lines::Single,
                    )?,
                });
            }
            HouseholdEvent::ValuesSessionCompleted(ValuesSessionCompleted {
                meta,
                session_id: *session_id,
                values: out,
                progress_score: pct("progress score", *progress_score)?,
            })
        }
        ExportBestLifePlan {
            export_id,
            document: document_ref,
        } => {
            let adviser = h.primary.ok_or(DomainError::HouseholdNotFound)?;
            let adviser_name = p
                .member(adviser)
                .map(|m| m.name.clone())
                .unwrap_or_default();
            HouseholdEvent::BestLifePlanExported(BestLifePlanExported {
                meta,
                export_id: *export_id,
                document: document(document_ref)?,
                adviser,
                adviser_name,
            })
        }
        CompleteInvestmentPreferences {
            questionnaire_id,
            member_id,
            answers,
        } => {
            if answers.is_empty() {
                return Err(DomainError::InvalidInput(
                    "the questionnaire has no answers".into(),
                ));
            }
            limits::list("the answers", answers, limits::ANSWERS_MAX)?;
            let answers = answers
                .iter()
                .map(|a| {
                    let text = |what, v| {
                        limits::text(what, v, limits::ANSWER_MAX, Lines::Multi).map(str::to_string)
                    };
                    Ok(QuestionAnswer {
                        question: text("a question", &a.question)?,
                        answer: text("an answer", &a.answer)?,
                    })
                })
                .collect::<Result<Vec<_>, DomainError>>()?;
            HouseholdEvent::InvestmentPreferencesCompleted(InvestmentPreferencesCompleted {
                meta,
                questionnaire_id: *questionnaire_id,
                member_id: *member_id,
                member_name: member_name(h, *member_id)?,
                answers,
            })
        }
        ExportInvestmentPreferences {
            export_id,
            document: document_ref,
        } => HouseholdEvent::InvestmentPreferencesExported(InvestmentPreferencesExported {
            meta,
            export_id: *export_id,
            document: document(document_ref)?,
        }),
    };
    Ok(vec![event])
}
