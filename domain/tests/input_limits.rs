//! Limits on free text and lists: nothing unbounded or unprintable reaches the permanent log.

mod support;

use hearth_domain::{
    household::{self, Dimension, HouseholdCommand, QuestionAnswer, SurveyCommand},
    limits,
    practice::{self, NewStaff, PracticeCommand},
    roles::{HouseholdRole, PracticeRole},
    Actor, DomainError, HouseholdId, StaffId,
};
use support::{ctx, staff, World};
use uuid::Uuid;

fn survey(
    goals: Vec<String>,
    dimensions: Vec<Dimension>,
    w: &World,
    h: HouseholdId,
) -> HouseholdCommand {
    HouseholdCommand::Survey(SurveyCommand::CompleteYourLifeSurvey {
        survey_id: Uuid::new_v4(),
        member_id: w.household(h).members[0].member_id,
        your_life_score_pct: 50,
        goals,
        dimensions,
    })
}

fn is_invalid<T: std::fmt::Debug>(r: Result<T, DomainError>) {
    assert!(matches!(r, Err(DomainError::InvalidInput(_))), "{r:?}");
}

#[test]
fn a_survey_with_too_many_goals_is_refused() {
    let mut w = World::new(5);
    let (pro, h) = w.led_household();
    let goals = vec!["retire early".to_string(); limits::GOALS_MAX + 1];
    is_invalid(w.household_cmd(staff(pro), h, survey(goals, vec![], &w, h)));
    let goals = vec!["retire early".to_string(); limits::GOALS_MAX];
    w.household_cmd(staff(pro), h, survey(goals, vec![], &w, h))
        .unwrap();
}

#[test]
fn an_over_long_goal_or_too_many_dimensions_are_refused() {
    let mut w = World::new(5);
    let (pro, h) = w.led_household();
    let long = vec!["g".repeat(limits::GOAL_MAX + 1)];
    is_invalid(w.household_cmd(staff(pro), h, survey(long, vec![], &w, h)));
    let dims = vec![
        Dimension {
            name: "Health".into(),
            pct: 50
        };
        limits::DIMENSIONS_MAX + 1
    ];
    is_invalid(w.household_cmd(staff(pro), h, survey(vec![], dims, &w, h)));
}

#[test]
fn too_many_answers_are_refused() {
    let mut w = World::new(5);
    let (pro, h) = w.led_household();
    let answers = vec![
        QuestionAnswer {
            question: "Risk?".into(),
            answer: "Some".into()
        };
        limits::ANSWERS_MAX + 1
    ];
    let cmd = HouseholdCommand::Survey(SurveyCommand::CompleteInvestmentPreferences {
        questionnaire_id: Uuid::new_v4(),
        member_id: w.household(h).members[0].member_id,
        answers,
    });
    is_invalid(w.household_cmd(staff(pro), h, cmd));
}

#[test]
fn an_over_long_reason_is_refused_and_a_short_one_is_recorded() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    let para = w.active_staff(PracticeRole::Professional);
    let h = w.household_by(pro);
    let grant = HouseholdCommand::GrantStaffAccess {
        staff_id: para,
        role: HouseholdRole::Paraplanner,
    };
    let long = ctx(staff(w.owner)).with_reason("r".repeat(limits::REASON_MAX + 1));
    is_invalid(household::decide(
        w.household(h),
        &w.practice,
        h,
        &grant,
        &long,
    ));
    let nul = ctx(staff(w.owner)).with_reason("plan\0review");
    is_invalid(household::decide(
        w.household(h),
        &w.practice,
        h,
        &grant,
        &nul,
    ));
    let fine = ctx(staff(w.owner)).with_reason("plan review\nsecond line");
    household::decide(w.household(h), &w.practice, h, &grant, &fine).unwrap();
}

#[test]
fn a_staff_name_or_email_with_control_characters_is_refused() {
    let mut w = World::new(5);
    let invite = |name: &str, email: &str| PracticeCommand::InviteStaff {
        staff: NewStaff {
            staff_id: StaffId::new(),
            name: name.into(),
            email: email.into(),
        },
        role: PracticeRole::Professional,
        branch: None,
    };
    is_invalid(w.owner_cmd(invite("Ada\0", "ada@example.com")));
    is_invalid(w.owner_cmd(invite("Ada", "ada\u{1}@example.com")));
    let long = ctx(Actor::Staff(w.owner)).with_reason("x".repeat(limits::REASON_MAX + 1));
    is_invalid(practice::decide(
        &w.practice,
        &invite("Ada", "ada@example.com"),
        &long,
    ));
}

#[test]
fn an_invalid_email_is_echoed_only_as_a_short_excerpt() {
    let mut w = World::new(5);
    let huge = format!("{}@", "a".repeat(1_000_000));
    let r = w.owner_cmd(PracticeCommand::InviteStaff {
        staff: NewStaff {
            staff_id: StaffId::new(),
            name: "Ada".into(),
            email: huge,
        },
        role: PracticeRole::Professional,
        branch: None,
    });
    match r {
        Err(DomainError::InvalidInput(detail)) => assert!(detail.len() < 120, "{detail}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_over_long_or_unprintable_xplan_id_is_not_linked() {
    let mut w = World::new(5);
    let (_, h) = w.led_household();
    let member = w.household(h).members[0].member_id;
    let link = |xplan_id: String| HouseholdCommand::LinkXplanId {
        integration_id: hearth_domain::IntegrationId::new(),
        member_id: member,
        xplan_id,
    };
    is_invalid(w.owner_household_cmd(h, link("9".repeat(limits::IDENTIFIER_MAX + 1))));
    is_invalid(w.owner_household_cmd(h, link("12\u{0}3".into())));
}
