//! The access model, fed by the real log: every path, lists, history, and as-of answers that
//! match what the live model said at the time — also after a rebuild from zero.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hearth_application::CommandExecutor;
use hearth_domain::{
    access::{AccessPath, DenyReason},
    household::{HouseholdCommand, NewMember},
    practice::{NewStaff, PracticeCommand},
    roles::{Action, Holding, HouseholdRole, PracticeRole},
    Actor, CommandContext, HouseholdId, MemberId, PracticeId, StaffId,
};
use hearth_eventstore::{testing::TestSqlite, EventStore};
use hearth_projections::{build_from_log, Projection};

fn t(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, minute, 0).unwrap()
}

fn at(actor: StaffId, minute: u32) -> CommandContext {
    CommandContext::new(Actor::Staff(actor), t(minute))
}

struct Practice {
    exec: CommandExecutor,
    id: PracticeId,
    owner: StaffId,
}

impl Practice {
    async fn new(store: &EventStore) -> Practice {
        let exec = CommandExecutor::new(store.clone());
        let (id, owner) = (PracticeId::new(), StaffId::new());
        let create = PracticeCommand::CreatePractice {
            practice_id: id,
            name: "P".into(),
            owner: NewStaff {
                staff_id: owner,
                name: "Owner".into(),
                email: format!("owner-{id}@example.com"),
            },
            licences: 20,
        };
        exec.practice(id, create, &CommandContext::new(Actor::Operator, t(0)))
            .await
            .unwrap();
        Practice { exec, id, owner }
    }

    async fn staff(&self, role: PracticeRole, name: &str, minute: u32) -> StaffId {
        let s = StaffId::new();
        let invite = PracticeCommand::InviteStaff {
            staff: NewStaff {
                staff_id: s,
                name: name.into(),
                email: format!("{name}-{}@example.com", self.id),
            },
            role,
            branch: None,
        };
        self.exec
            .practice(self.id, invite, &at(self.owner, minute))
            .await
            .unwrap();
        self.exec
            .practice(
                self.id,
                PracticeCommand::ActivateStaff { staff_id: s },
                &at(s, minute),
            )
            .await
            .unwrap();
        s
    }

    async fn practice_cmd(&self, cmd: PracticeCommand, minute: u32) {
        self.exec
            .practice(self.id, cmd, &at(self.owner, minute))
            .await
            .unwrap();
    }

    async fn household(&self, creator: StaffId, minute: u32) -> HouseholdId {
        let h = HouseholdId::new();
        let client = NewMember {
            member_id: MemberId::new(),
            first_name: "Casey".into(),
            last_name: format!("Client {minute}"),
            email: Some(format!("c{minute}@example.com")),
            title: None,
        };
        self.exec
            .household(
                self.id,
                h,
                HouseholdCommand::CreateHousehold {
                    client,
                    partner: None,
                    branch: None,
                    status: None,
                },
                &at(creator, minute),
            )
            .await
            .unwrap();
        h
    }

    async fn cmd(&self, h: HouseholdId, cmd: HouseholdCommand, minute: u32) {
        self.exec
            .household(self.id, h, cmd, &at(self.owner, minute))
            .await
            .unwrap();
    }
}

async fn caught_up(store: &EventStore) -> Projection {
    let projection = Projection::start(store.clone()).await.unwrap();
    let head = store.head().await.unwrap();
    projection
        .wait_for(head, Duration::from_secs(10))
        .await
        .expect("projection catches up");
    projection
}

#[tokio::test]
async fn every_access_path_is_reported_and_the_past_is_answered_exactly() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    let p = Practice::new(&store).await;
    let adviser = p.staff(PracticeRole::Professional, "adviser", 1).await;
    let para = p.staff(PracticeRole::Professional, "para", 1).await;
    let manager = p.staff(PracticeRole::Manager, "manager", 1).await;
    let assistant = p.staff(PracticeRole::Support, "assistant", 1).await;
    let pm = p.staff(PracticeRole::PracticeManager, "pm", 1).await;
    let successor = p.staff(PracticeRole::Professional, "successor", 1).await;
    p.practice_cmd(
        PracticeCommand::AssignManagerToProfessional {
            manager,
            professional: adviser,
        },
        2,
    )
    .await;
    p.practice_cmd(
        PracticeCommand::AssignSupportToProfessional {
            support: assistant,
            professional: adviser,
        },
        2,
    )
    .await;
    let h = p.household(adviser, 3).await;
    p.cmd(
        h,
        HouseholdCommand::GrantStaffAccess {
            staff_id: para,
            role: HouseholdRole::Paraplanner,
        },
        4,
    )
    .await;
    p.cmd(
        h,
        HouseholdCommand::ChangeStaffRole {
            staff_id: para,
            role: HouseholdRole::ReadOnly,
        },
        5,
    )
    .await;
    p.cmd(
        h,
        HouseholdCommand::AssignPrimaryProfessional {
            staff_id: successor,
            previous_keeps: None,
        },
        6,
    )
    .await;
    p.cmd(h, HouseholdCommand::RevokeStaffAccess { staff_id: para }, 7)
        .await;
    p.practice_cmd(PracticeCommand::DeactivateStaff { staff_id: adviser }, 8)
        .await;

    let projection = caught_up(&store).await;
    let m = projection.read();
    let check = |s, a, minute| m.check(p.id, s, h, a, t(minute)).unwrap();

    // Paths at 09:04, before the primary changed.
    assert_eq!(
        check(adviser, Action::Edit, 4).path,
        Some(AccessPath::Direct {
            holding: Holding::Primary
        })
    );
    assert_eq!(
        check(para, Action::Export, 4).path,
        Some(AccessPath::Direct {
            holding: Holding::Role(HouseholdRole::Paraplanner)
        })
    );
    assert_eq!(
        check(manager, Action::View, 4).path,
        Some(AccessPath::ManagerOf {
            professional: adviser,
            capped_by: Holding::Primary
        })
    );
    assert_eq!(
        check(assistant, Action::View, 4).path,
        Some(AccessPath::AssistantOf {
            professional: adviser,
            capped_by: Holding::Primary
        })
    );
    assert_eq!(
        check(pm, Action::View, 4).path,
        Some(AccessPath::PracticeWide {
            role: PracticeRole::PracticeManager
        })
    );
    assert!(check(pm, Action::ManageAccess, 4).allowed);
    assert!(!check(adviser, Action::ManageAccess, 4).allowed);

    // The role changed in place at 09:05: read-only cannot export.
    assert!(!check(para, Action::Export, 5).allowed);
    assert!(check(para, Action::View, 5).allowed);
    // Primary reassigned at 09:06 without keeping access: the manager and assistant of the old
    // primary lose their paths too.
    assert_eq!(
        check(adviser, Action::View, 6).deny_reason,
        Some(DenyReason::NoAccess)
    );
    assert!(!check(manager, Action::View, 6).allowed);
    assert_eq!(
        check(successor, Action::View, 6).path,
        Some(AccessPath::Direct {
            holding: Holding::Primary
        })
    );
    // Revoked at 09:07.
    assert!(check(para, Action::View, 6).allowed);
    assert!(!check(para, Action::View, 7).allowed);
    // Before the household existed, nobody had access.
    assert!(!check(pm, Action::View, 2).allowed);

    // Lists, now and then.
    let names = |list: Vec<hearth_projections::StaffAccess>| {
        list.into_iter().map(|s| s.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(m.staff_with_access(p.id, h, t(4)).unwrap()),
        vec!["Owner", "adviser", "assistant", "manager", "para", "pm"]
    );
    assert_eq!(
        names(m.staff_with_access(p.id, h, t(9)).unwrap()),
        vec!["Owner", "pm", "successor"]
    );
    assert_eq!(m.households_for_staff(p.id, para, t(5)).unwrap().len(), 1);
    assert!(m.households_for_staff(p.id, para, t(9)).unwrap().is_empty());

    // History: who held it how, from when to when, granted and revoked by whom.
    let history = m.history(p.id, h).unwrap();
    let para_intervals: Vec<_> = history
        .intervals
        .iter()
        .filter(|i| i.staff_id == para)
        .collect();
    assert_eq!(para_intervals.len(), 2, "paraplanner, then read-only");
    assert_eq!(
        (para_intervals[0].from, para_intervals[0].to),
        (t(4), Some(t(5)))
    );
    assert_eq!(
        (para_intervals[1].from, para_intervals[1].to),
        (t(5), Some(t(7)))
    );
    assert_eq!(
        para_intervals[1].revoked_by.as_ref().map(|a| a.to_string()),
        Some(p.owner.to_string())
    );
    let adviser_interval = history
        .intervals
        .iter()
        .find(|i| i.staff_id == adviser)
        .unwrap();
    assert_eq!(
        (
            adviser_interval.holding,
            adviser_interval.from,
            adviser_interval.to
        ),
        (Holding::Primary, t(3), Some(t(6)))
    );
}

#[tokio::test]
async fn deactivated_staff_archived_households_and_other_practices_are_denied() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    let p = Practice::new(&store).await;
    let other = Practice::new(&store).await;
    let adviser = p.staff(PracticeRole::Professional, "adviser", 1).await;
    let reader = p.staff(PracticeRole::Professional, "reader", 1).await;
    let stranger = other
        .staff(PracticeRole::PracticeManager, "stranger", 1)
        .await;
    let h = p.household(adviser, 2).await;
    p.cmd(
        h,
        HouseholdCommand::GrantStaffAccess {
            staff_id: reader,
            role: HouseholdRole::ReadOnly,
        },
        3,
    )
    .await;
    p.practice_cmd(PracticeCommand::DeactivateStaff { staff_id: reader }, 4)
        .await;
    p.cmd(h, HouseholdCommand::ArchiveHousehold, 5).await;

    let projection = caught_up(&store).await;
    let m = projection.read();
    assert!(
        m.check(p.id, reader, h, Action::View, t(3))
            .unwrap()
            .allowed
    );
    assert_eq!(
        m.check(p.id, reader, h, Action::View, t(4))
            .unwrap()
            .deny_reason,
        Some(DenyReason::StaffNotActive)
    );
    assert_eq!(
        m.check(p.id, adviser, h, Action::View, t(5))
            .unwrap()
            .deny_reason,
        Some(DenyReason::HouseholdArchived)
    );
    assert!(
        m.check(p.id, p.owner, h, Action::View, t(5))
            .unwrap()
            .allowed,
        "holders of archive households may still view it"
    );
    assert_eq!(
        m.check(p.id, stranger, h, Action::View, t(5))
            .unwrap()
            .deny_reason,
        Some(DenyReason::NotStaffOfPractice)
    );
    assert!(
        m.check(other.id, stranger, h, Action::View, t(5)).is_err(),
        "another practice cannot even name the household"
    );
    assert!(m.history(other.id, h).is_err());
}

#[tokio::test]
async fn a_live_projection_sees_new_events_and_read_your_writes_waits_for_them() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    let p = Practice::new(&store).await;
    let projection = caught_up(&store).await;
    let adviser = p.staff(PracticeRole::Professional, "adviser", 1).await;
    let h = HouseholdId::new();
    let client = NewMember {
        member_id: MemberId::new(),
        first_name: "A".into(),
        last_name: "B".into(),
        email: None,
        title: None,
    };
    let written = p
        .exec
        .household(
            p.id,
            h,
            HouseholdCommand::CreateHousehold {
                client,
                partner: None,
                branch: None,
                status: None,
            },
            &at(adviser, 2),
        )
        .await
        .unwrap();
    projection
        .wait_for(written.cursor.unwrap(), Duration::from_secs(10))
        .await
        .unwrap();
    assert!(
        projection
            .read()
            .check(p.id, adviser, h, Action::View, t(2))
            .unwrap()
            .allowed
    );
    let far = hearth_eventstore::Cursor {
        tx: i64::MAX,
        position: i64::MAX,
    };
    assert!(
        projection
            .wait_for(far, Duration::from_millis(50))
            .await
            .is_err(),
        "an unreachable cursor times out"
    );
}

#[tokio::test]
async fn a_rebuild_from_zero_answers_exactly_like_the_live_model() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    rebuild_matches_live(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_from_zero_answers_exactly_like_the_live_model_on_postgres() {
    let db = hearth_eventstore::testing::TestDatabase::create().await;
    rebuild_matches_live(&db.store().await).await;
}

/// A seeded random history; after every command the live model's answers are recorded, then a
/// fresh model built from the log alone must give the same answers as of each of those instants.
async fn rebuild_matches_live(store: &EventStore) {
    let p = Practice::new(store).await;
    let mut staff = vec![p.owner];
    for (i, role) in [
        PracticeRole::Professional,
        PracticeRole::Professional,
        PracticeRole::Manager,
        PracticeRole::Support,
        PracticeRole::Professional,
    ]
    .into_iter()
    .enumerate()
    {
        staff.push(p.staff(role, &format!("s{i}"), 1).await);
    }
    p.practice_cmd(
        PracticeCommand::AssignManagerToProfessional {
            manager: staff[3],
            professional: staff[1],
        },
        1,
    )
    .await;
    p.practice_cmd(
        PracticeCommand::AssignSupportToProfessional {
            support: staff[4],
            professional: staff[2],
        },
        1,
    )
    .await;
    let households = vec![
        p.household(staff[1], 2).await,
        p.household(staff[2], 2).await,
        p.household(staff[5], 2).await,
    ];
    let live = Projection::start(store.clone()).await.unwrap();
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    let roles = [
        HouseholdRole::Professional,
        HouseholdRole::Paraplanner,
        HouseholdRole::Support,
        HouseholdRole::ReadOnly,
    ];
    let mut recorded = Vec::new();
    for step in 0..120u32 {
        let minute = 3 + step / 3; // several commands share an instant, as in real life
        let (h, s) = (
            households[next(households.len())],
            staff[1 + next(staff.len() - 1)],
        );
        let cmd = match next(6) {
            0 => HouseholdCommand::GrantStaffAccess {
                staff_id: s,
                role: roles[next(4)],
            },
            1 => HouseholdCommand::ChangeStaffRole {
                staff_id: s,
                role: roles[next(4)],
            },
            2 => HouseholdCommand::RevokeStaffAccess { staff_id: s },
            3 => HouseholdCommand::AssignPrimaryProfessional {
                staff_id: s,
                previous_keeps: (next(2) == 0).then_some(HouseholdRole::Professional),
            },
            4 => HouseholdCommand::SetSecondaryProfessional { staff_id: s },
            _ => {
                if next(2) == 0 {
                    HouseholdCommand::ArchiveHousehold
                } else {
                    HouseholdCommand::RestoreHousehold
                }
            }
        };
        let Ok(done) = p
            .exec
            .household(p.id, h, cmd, &at(p.owner, minute.min(59)))
            .await
        else {
            continue;
        };
        let Some(cursor) = done.cursor else { continue };
        live.wait_for(cursor, Duration::from_secs(10))
            .await
            .unwrap();
        let m = live.read();
        for s in &staff {
            for h in &households {
                for a in [
                    Action::View,
                    Action::Edit,
                    Action::Export,
                    Action::ManageAccess,
                ] {
                    recorded.push((
                        *s,
                        *h,
                        a,
                        t(minute.min(59)),
                        m.check(p.id, *s, *h, a, t(59)).unwrap(),
                    ));
                }
            }
        }
    }
    // Only the last answer recorded for an instant is what held at that instant.
    let rebuilt = build_from_log(store).await.unwrap();
    let mut last_per_instant = std::collections::HashMap::new();
    for (s, h, a, when, answer) in recorded {
        last_per_instant.insert((s, h, a, when), answer);
    }
    assert!(last_per_instant.len() > 100);
    for ((s, h, a, when), answer) in last_per_instant {
        assert_eq!(
            rebuilt.check(p.id, s, h, a, when).unwrap(),
            answer,
            "as of {when}: {s} {a:?} on {h}"
        );
        assert_eq!(
            live.read().check(p.id, s, h, a, when).unwrap(),
            answer,
            "live as-of {when}"
        );
    }
}

#[tokio::test]
async fn access_through_a_clinician_is_capped_by_the_clinician_s_own_now_and_as_of() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    let p = Practice::new(&store).await;
    let lead = p.staff(PracticeRole::Professional, "lead", 1).await;
    let clinician = p.staff(PracticeRole::Professional, "clinician", 1).await;
    let manager = p.staff(PracticeRole::Manager, "manager", 1).await;
    let assistant = p.staff(PracticeRole::Support, "assistant", 1).await;
    p.practice_cmd(
        PracticeCommand::AssignManagerToProfessional {
            manager,
            professional: clinician,
        },
        1,
    )
    .await;
    p.practice_cmd(
        PracticeCommand::AssignSupportToProfessional {
            support: assistant,
            professional: clinician,
        },
        1,
    )
    .await;
    let h = p.household(lead, 2).await;
    p.cmd(
        h,
        HouseholdCommand::GrantStaffAccess {
            staff_id: clinician,
            role: HouseholdRole::ReadOnly,
        },
        3,
    )
    .await;
    p.cmd(
        h,
        HouseholdCommand::ChangeStaffRole {
            staff_id: clinician,
            role: HouseholdRole::Paraplanner,
        },
        4,
    )
    .await;

    let projection = caught_up(&store).await;
    let m = projection.read();
    let check = |s, a, minute| m.check(p.id, s, h, a, t(minute)).unwrap();
    // 09:03: the clinician only reads, so nothing more flows through them.
    assert!(!check(assistant, Action::Edit, 3).allowed);
    assert!(!check(manager, Action::Edit, 3).allowed);
    assert!(!check(manager, Action::Export, 3).allowed);
    assert_eq!(
        check(manager, Action::View, 3).path,
        Some(AccessPath::ManagerOf {
            professional: clinician,
            capped_by: Holding::Role(HouseholdRole::ReadOnly)
        })
    );
    // 09:04: raised to paraplanner, the clinician edits and exports, and so may those through them.
    assert_eq!(
        check(manager, Action::Export, 4).path,
        Some(AccessPath::ManagerOf {
            professional: clinician,
            capped_by: Holding::Role(HouseholdRole::Paraplanner)
        })
    );
    assert_eq!(
        check(assistant, Action::Edit, 4).path,
        Some(AccessPath::AssistantOf {
            professional: clinician,
            capped_by: Holding::Role(HouseholdRole::Paraplanner)
        })
    );
}
