//! For any sequence of commands, valid or not: every household has exactly one primary who is an
//! active, non-support member of its practice; at most one secondary, never the primary; licences
//! used never exceed licences held; and replaying the events gives the same state.

mod support;

use hearth_domain::{
    household::{reassign_households, HouseholdCommand, HouseholdState},
    practice::{NewStaff, PracticeCommand, PracticeState},
    roles::{HouseholdRole, PracticeRole},
    HouseholdId, StaffId,
};
use proptest::prelude::*;
use support::{ctx, staff, World};

#[derive(Clone, Debug)]
enum Op {
    Invite(PracticeRole),
    Activate(usize),
    Deactivate(usize),
    ChangeRole(usize, PracticeRole),
    BuyLicence,
    Create(usize),
    AssignPrimary(usize, usize, bool),
    SetSecondary(usize, usize),
    ClearSecondary(usize),
    Grant(usize, usize, HouseholdRole),
    ChangeGrant(usize, usize, HouseholdRole),
    Revoke(usize, usize),
    Archive(usize),
    Restore(usize),
    Reassign(usize, usize),
    Transfer(usize),
}

fn practice_role() -> impl Strategy<Value = PracticeRole> {
    prop_oneof![
        Just(PracticeRole::SuperAdmin),
        Just(PracticeRole::PracticeManager),
        Just(PracticeRole::Manager),
        Just(PracticeRole::Professional),
        Just(PracticeRole::Support),
    ]
}

fn household_role() -> impl Strategy<Value = HouseholdRole> {
    prop_oneof![
        Just(HouseholdRole::Professional),
        Just(HouseholdRole::Paraplanner),
        Just(HouseholdRole::Support),
        Just(HouseholdRole::ReadOnly)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let i = || 0usize..8;
    prop_oneof![
        practice_role().prop_map(Op::Invite),
        i().prop_map(Op::Activate),
        i().prop_map(Op::Deactivate),
        (i(), practice_role()).prop_map(|(s, r)| Op::ChangeRole(s, r)),
        Just(Op::BuyLicence),
        i().prop_map(Op::Create),
        (i(), i(), any::<bool>()).prop_map(|(h, s, k)| Op::AssignPrimary(h, s, k)),
        (i(), i()).prop_map(|(h, s)| Op::SetSecondary(h, s)),
        i().prop_map(Op::ClearSecondary),
        (i(), i(), household_role()).prop_map(|(h, s, r)| Op::Grant(h, s, r)),
        (i(), i(), household_role()).prop_map(|(h, s, r)| Op::ChangeGrant(h, s, r)),
        (i(), i()).prop_map(|(h, s)| Op::Revoke(h, s)),
        i().prop_map(Op::Archive),
        i().prop_map(Op::Restore),
        (i(), i()).prop_map(|(a, b)| Op::Reassign(a, b)),
        i().prop_map(Op::Transfer),
    ]
}

fn pick<T: Copy>(items: &[T], i: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[i % items.len()])
}

type Log = Vec<(Option<HouseholdId>, hearth_domain::DomainEvent)>;

fn run(w: &mut World, ops: &[Op]) -> Log {
    let mut log = Vec::new();
    let mut households: Vec<HouseholdId> = Vec::new();
    for op in ops {
        let staff_ids: Vec<StaffId> = w.practice.staff.keys().copied().collect();
        let founder = w.owner;
        let s = |i| pick(&staff_ids, i).unwrap_or(founder);
        let h = |i| pick(&households, i);
        let owner = w.practice.owner.unwrap_or(w.owner);
        let practice_cmd = match op {
            Op::Invite(role) => {
                let email = w.next_email("p");
                Some((
                    owner,
                    PracticeCommand::InviteStaff {
                        staff: NewStaff {
                            staff_id: StaffId::new(),
                            name: "P".into(),
                            email,
                        },
                        role: *role,
                        branch: None,
                    },
                ))
            }
            Op::Activate(i) => Some((s(*i), PracticeCommand::ActivateStaff { staff_id: s(*i) })),
            Op::Deactivate(i) => {
                Some((owner, PracticeCommand::DeactivateStaff { staff_id: s(*i) }))
            }
            Op::ChangeRole(i, r) => Some((
                owner,
                PracticeCommand::ChangePracticeRole {
                    staff_id: s(*i),
                    role: *r,
                },
            )),
            Op::BuyLicence => Some((owner, PracticeCommand::PurchaseLicences { count: 1 })),
            Op::Transfer(i) => Some((owner, PracticeCommand::TransferOwnership { to: s(*i) })),
            _ => None,
        };
        if let Some((actor, cmd)) = practice_cmd {
            if let Ok(events) = w.practice_cmd(actor, cmd) {
                log.extend(
                    events
                        .into_iter()
                        .map(|e| (None, hearth_domain::DomainEvent::Practice(e))),
                );
            }
            continue;
        }
        let (target, cmd) = match op {
            Op::Create(i) => {
                if let Ok((id, d)) = w.create_household(staff(s(*i))) {
                    households.push(id);
                    record(&mut log, d);
                }
                continue;
            }
            Op::Reassign(a, b) => {
                let states: Vec<(HouseholdId, HouseholdState)> =
                    w.households.iter().map(|(k, v)| (*k, v.clone())).collect();
                if let Ok(d) =
                    reassign_households(&w.practice, &states, s(*a), s(*b), &ctx(staff(owner)))
                {
                    w.apply(&d);
                    record(&mut log, d);
                }
                continue;
            }
            Op::AssignPrimary(hh, i, keep) => (
                h(*hh),
                HouseholdCommand::AssignPrimaryProfessional {
                    staff_id: s(*i),
                    previous_keeps: keep.then_some(HouseholdRole::Professional),
                },
            ),
            Op::SetSecondary(hh, i) => (
                h(*hh),
                HouseholdCommand::SetSecondaryProfessional { staff_id: s(*i) },
            ),
            Op::ClearSecondary(hh) => (h(*hh), HouseholdCommand::ClearSecondaryProfessional),
            Op::Grant(hh, i, r) => (
                h(*hh),
                HouseholdCommand::GrantStaffAccess {
                    staff_id: s(*i),
                    role: *r,
                },
            ),
            Op::ChangeGrant(hh, i, r) => (
                h(*hh),
                HouseholdCommand::ChangeStaffRole {
                    staff_id: s(*i),
                    role: *r,
                },
            ),
            Op::Revoke(hh, i) => (
                h(*hh),
                HouseholdCommand::RevokeStaffAccess { staff_id: s(*i) },
            ),
            Op::Archive(hh) => (h(*hh), HouseholdCommand::ArchiveHousehold),
            Op::Restore(hh) => (h(*hh), HouseholdCommand::RestoreHousehold),
            _ => unreachable!(),
        };
        if let Some(target) = target {
            if let Ok(d) = w.household_cmd(staff(owner), target, cmd) {
                record(&mut log, d);
            }
        }
        w.assert_invariants();
    }
    log
}

fn record(log: &mut Log, d: hearth_domain::Decision) {
    log.extend(
        d.practice
            .into_iter()
            .map(|e| (None, hearth_domain::DomainEvent::Practice(e))),
    );
    for (id, events) in d.households {
        log.extend(
            events
                .into_iter()
                .map(|e| (Some(id), hearth_domain::DomainEvent::Household(e))),
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold_after_any_command_sequence(ops in prop::collection::vec(op(), 1..60)) {
        let mut w = World::new(3);
        w.active_staff(PracticeRole::Professional);
        let initial_practice = w.practice.clone();
        let log = run(&mut w, &ops);
        w.assert_invariants();

        // Replaying the log from the same start gives the same state.
        let mut practice: PracticeState = initial_practice;
        let mut households = std::collections::BTreeMap::<HouseholdId, HouseholdState>::new();
        for (id, e) in &log {
            match (id, e) {
                (_, hearth_domain::DomainEvent::Practice(p)) => practice.apply(p),
                (Some(id), hearth_domain::DomainEvent::Household(h)) => households.entry(*id).or_default().apply(h),
                (None, hearth_domain::DomainEvent::Household(_)) => prop_assert!(false, "household event without a household"),
                (_, hearth_domain::DomainEvent::Integration(_) | hearth_domain::DomainEvent::Webhook(_)) => prop_assert!(false, "these commands make no integration or webhook events"),
            }
        }
        prop_assert_eq!(practice, w.practice.clone());
        prop_assert_eq!(households, w.households.clone());

        // An access-facts copy keeps everything access decisions read.
        for (id, household) in &w.households {
            let facts = household.access_facts();
            for staff in w.practice.staff.keys() {
                prop_assert_eq!(
                    hearth_domain::access_changes::effective(&w.practice, &facts, *staff),
                    hearth_domain::access_changes::effective(&w.practice, household, *staff),
                    "household {:?}, staff {:?}", id, staff
                );
            }
        }
    }
}
