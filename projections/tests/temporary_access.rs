//! Temporary grants in the read model, fed by the real log: checks deny from the expiry instant
//! even before Hearth records the end; the recorded end closes the interval at the expiry; a
//! grant revoked early is not cut again at its old expiry; the directories and the report follow.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hearth_application::CommandExecutor;
use hearth_domain::{
    household::{HouseholdCommand, NewMember},
    practice::{NewStaff, PracticeCommand},
    roles::{Action, Holding, HouseholdRole, PracticeRole},
    Actor, CommandContext, HouseholdId, MemberId, PracticeId, StaffId,
};
use hearth_eventstore::{testing::TestSqlite, EventStore};
use hearth_projections::{build_from_log, AccessModel, HouseholdFilter};

fn t(hour: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + Duration::hours(hour)
}

struct Given {
    exec: CommandExecutor,
    practice: PracticeId,
    owner: StaffId,
    adviser: StaffId,
    cover: StaffId,
    household: HouseholdId,
}

async fn given(store: &EventStore) -> Given {
    let exec = CommandExecutor::new(store.clone());
    let (practice, owner, adviser, cover) = (
        PracticeId::new(),
        StaffId::new(),
        StaffId::new(),
        StaffId::new(),
    );
    let as_owner = CommandContext::new(Actor::Staff(owner), t(0));
    exec.practice(
        practice,
        PracticeCommand::CreatePractice {
            practice_id: practice,
            name: "P".into(),
            owner: NewStaff {
                staff_id: owner,
                name: "Owner".into(),
                email: "o@example.com".into(),
            },
            licences: 10,
        },
        &CommandContext::new(Actor::Operator, t(0)),
    )
    .await
    .unwrap();
    for (s, name) in [(adviser, "Adele"), (cover, "Cody")] {
        let invite = PracticeCommand::InviteStaff {
            staff: NewStaff {
                staff_id: s,
                name: name.into(),
                email: format!("{name}@example.com"),
            },
            role: PracticeRole::Professional,
            branch: None,
        };
        exec.practice(practice, invite, &as_owner).await.unwrap();
        exec.practice(
            practice,
            PracticeCommand::ActivateStaff { staff_id: s },
            &CommandContext::new(Actor::Staff(s), t(0)),
        )
        .await
        .unwrap();
    }
    let household = HouseholdId::new();
    let client = NewMember {
        member_id: MemberId::new(),
        first_name: "Casey".into(),
        last_name: "Citizen".into(),
        email: Some("casey@example.com".into()),
        title: None,
    };
    exec.household(
        practice,
        household,
        HouseholdCommand::CreateHousehold {
            client,
            partner: None,
            branch: None,
            status: None,
        },
        &CommandContext::new(Actor::Staff(adviser), t(1)),
    )
    .await
    .unwrap();
    Given {
        exec,
        practice,
        owner,
        adviser,
        cover,
        household,
    }
}

impl Given {
    async fn run(&self, actor: Actor, at: DateTime<Utc>, cmd: HouseholdCommand) {
        self.exec
            .household(
                self.practice,
                self.household,
                cmd,
                &CommandContext::new(actor, at),
            )
            .await
            .unwrap();
    }

    fn sees(&self, m: &AccessModel, at: DateTime<Utc>) -> bool {
        m.check(self.practice, self.cover, self.household, Action::View, at)
            .unwrap()
            .allowed
    }
}

#[tokio::test]
async fn access_ends_at_the_expiry_before_and_after_hearth_records_it() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    let g = given(&store).await;
    let grant = HouseholdCommand::GrantTemporaryAccess {
        staff_id: g.cover,
        role: HouseholdRole::Professional,
        expires_at: t(10),
    };
    g.run(Actor::Staff(g.owner), t(2), grant).await;

    let m = build_from_log(&store).await.unwrap();
    assert!(g.sees(&m, t(9)), "covering until the expiry");
    assert!(
        !g.sees(&m, t(10)) && !g.sees(&m, t(11)),
        "denied from the expiry, before any event"
    );
    assert_eq!(m.due_expiries(t(9)), vec![]);
    assert_eq!(
        m.due_expiries(t(11)),
        vec![(g.practice, g.household, g.cover)]
    );
    let listed = m
        .search_households(
            g.practice,
            g.cover,
            &HouseholdFilter::default(),
            None,
            10,
            t(11),
        )
        .unwrap();
    assert!(listed.households.is_empty(), "the search follows the check");

    g.run(
        Actor::System("grant-expiry".into()),
        t(12),
        HouseholdCommand::ExpireStaffAccess { staff_id: g.cover },
    )
    .await;
    let m = build_from_log(&store).await.unwrap();
    assert!(g.sees(&m, t(9)) && !g.sees(&m, t(11)) && !g.sees(&m, t(13)));
    assert!(m.due_expiries(t(13)).is_empty());
    let history = m.history(g.practice, g.household).unwrap();
    let interval = history
        .intervals
        .iter()
        .find(|i| i.staff_id == g.cover)
        .unwrap();
    assert_eq!(
        (interval.from, interval.to),
        (t(2), Some(t(10))),
        "ended at the expiry, not when recorded"
    );
    assert_eq!(
        interval.closed_by_event.map(|e| e.as_str()),
        Some("household.grant_expired")
    );
    assert_eq!(
        interval
            .revoked_by
            .as_ref()
            .map(|a| a.to_string())
            .as_deref(),
        Some("system:grant-expiry")
    );
    assert!(history
        .events
        .iter()
        .any(|e| e.event_type.as_str() == "household.grant_expired"));
    let report = m.access_report(g.practice, t(11), t(20)).unwrap();
    assert!(
        report.rows.iter().all(|r| r.staff_id != g.cover),
        "no access in a period after the expiry"
    );
    let report = m.access_report(g.practice, t(3), t(4)).unwrap();
    assert!(report
        .rows
        .iter()
        .any(|r| r.staff_id == g.cover && r.holding == Holding::Role(HouseholdRole::Professional)));
}

#[tokio::test]
async fn a_grant_revoked_early_and_given_again_for_good_is_not_cut_at_the_old_expiry() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    let g = given(&store).await;
    let owner = Actor::Staff(g.owner);
    g.run(
        owner.clone(),
        t(2),
        HouseholdCommand::GrantTemporaryAccess {
            staff_id: g.cover,
            role: HouseholdRole::Professional,
            expires_at: t(10),
        },
    )
    .await;
    g.run(
        owner.clone(),
        t(3),
        HouseholdCommand::RevokeStaffAccess { staff_id: g.cover },
    )
    .await;
    g.run(
        owner,
        t(4),
        HouseholdCommand::GrantStaffAccess {
            staff_id: g.cover,
            role: HouseholdRole::ReadOnly,
        },
    )
    .await;
    let m = build_from_log(&store).await.unwrap();
    assert!(!g.sees(&m, t(3)) && g.sees(&m, t(5)));
    assert!(
        g.sees(&m, t(11)),
        "the permanent grant outlives the old expiry"
    );
    assert!(m.due_expiries(t(11)).is_empty());
    let _ = g.adviser;
}
