//! Survey and export facts, and the exactly-once record of their XPLAN file notes.

mod support;

use hearth_domain::{
    household::{BlobRef, Dimension, HouseholdCommand, HouseholdEvent, SurveyCommand},
    roles::HouseholdRole,
    Actor, DomainError, IntegrationId,
};
use support::{staff, World};
use uuid::Uuid;

fn pdf() -> BlobRef {
    BlobRef {
        sha256: "ab".repeat(32),
        size: 1234,
        filename: "plan.pdf".into(),
        mimetype: "application/pdf".into(),
    }
}

#[test]
fn the_best_life_plan_names_the_primary_professional_as_adviser() {
    let mut w = World::new(5);
    let [a, b] = w.professionals();
    let h = w.household_by(a);
    w.owner_household_cmd(
        h,
        HouseholdCommand::AssignPrimaryProfessional {
            staff_id: b,
            previous_keeps: Some(HouseholdRole::Professional),
        },
    )
    .unwrap();
    let d = w
        .household_cmd(
            staff(a),
            h,
            HouseholdCommand::Survey(SurveyCommand::ExportBestLifePlan {
                export_id: Uuid::new_v4(),
                document: pdf(),
            }),
        )
        .unwrap();
    let [HouseholdEvent::BestLifePlanExported(e)] = d.household_events(h) else {
        panic!()
    };
    assert_eq!(e.adviser, b);
    assert_eq!(e.adviser_name, w.practice.member(b).unwrap().name);
}

#[test]
fn a_survey_score_must_be_a_percentage() {
    let mut w = World::new(5);
    let (_, h) = w.led_household();
    let member = w.household(h).members[0].member_id;
    let cmd = |score| {
        HouseholdCommand::Survey(SurveyCommand::CompleteYourLifeSurvey {
            survey_id: Uuid::new_v4(),
            member_id: member,
            your_life_score_pct: score,
            goals: vec!["Retire at 60".into()],
            dimensions: vec![Dimension {
                name: "Health".into(),
                pct: 70,
            }],
        })
    };
    assert!(matches!(
        w.household_cmd(Actor::System("client-portal".into()), h, cmd(101)),
        Err(DomainError::InvalidInput(_))
    ));
    let d = w
        .household_cmd(Actor::System("client-portal".into()), h, cmd(82))
        .unwrap();
    assert!(
        matches!(d.household_events(h), [HouseholdEvent::YourLifeSurveyCompleted(e)] if e.member_name == "Casey Client")
    );
}

#[test]
fn staff_without_access_cannot_record_a_survey() {
    let mut w = World::new(5);
    let [pro, outsider] = w.professionals();
    let h = w.household_by(pro);
    let cmd = HouseholdCommand::Survey(SurveyCommand::ExportInvestmentPreferences {
        export_id: Uuid::new_v4(),
        document: pdf(),
    });
    assert!(matches!(
        w.household_cmd(staff(outsider), h, cmd),
        Err(DomainError::NotPermitted(_))
    ));
}

#[test]
fn a_file_note_is_recorded_once_per_source_event() {
    let mut w = World::new(5);
    let (_, h) = w.led_household();
    let source = Uuid::new_v4();
    let record = HouseholdCommand::RecordXplanFileNote {
        source_event_id: source,
        integration_id: IntegrationId::new(),
        docid: "D-1".into(),
        subject: "Best Life Plan Created".into(),
    };
    let sync = Actor::System("file-notes".into());
    assert_eq!(
        w.household_cmd(sync.clone(), h, record.clone())
            .unwrap()
            .household_events(h)
            .len(),
        1
    );
    assert!(w.household_cmd(sync.clone(), h, record).unwrap().is_empty());
    let skip = HouseholdCommand::RecordXplanFileNoteSkipped {
        source_event_id: source,
        reason: "x".into(),
    };
    assert!(w.household_cmd(sync, h, skip).unwrap().is_empty());
}

#[test]
fn a_refused_note_is_recorded_as_failed_once_and_cleared_by_its_creation() {
    let mut w = World::new(5);
    let (pro, h) = w.led_household();
    let source = Uuid::new_v4();
    let worker = Actor::System("file-notes".into());
    let fail = HouseholdCommand::RecordXplanFileNoteFailed {
        source_event_id: source,
        reason: "XPLAN refused (400)".into(),
    };
    assert_eq!(
        w.household_cmd(worker.clone(), h, fail.clone())
            .unwrap()
            .household_events(h)
            .len(),
        1
    );
    assert_eq!(
        w.household(h)
            .file_note_failures
            .get(&source)
            .map(String::as_str),
        Some("XPLAN refused (400)")
    );
    assert!(
        w.household_cmd(worker.clone(), h, fail.clone())
            .unwrap()
            .is_empty(),
        "the same failure twice records nothing"
    );
    let record = HouseholdCommand::RecordXplanFileNote {
        source_event_id: source,
        integration_id: IntegrationId::new(),
        docid: "D-2".into(),
        subject: "s".into(),
    };
    w.household_cmd(worker.clone(), h, record).unwrap();
    assert!(
        w.household(h).file_note_failures.is_empty(),
        "a created note is no longer failed"
    );
    assert!(
        w.household_cmd(worker, h, fail).unwrap().is_empty(),
        "a created note cannot fail afterwards"
    );
    let r = w.household_cmd(
        staff(pro),
        h,
        HouseholdCommand::RecordXplanFileNoteFailed {
            source_event_id: Uuid::new_v4(),
            reason: "x".into(),
        },
    );
    assert!(matches!(r, Err(DomainError::NotPermitted(_))), "{r:?}");
}
