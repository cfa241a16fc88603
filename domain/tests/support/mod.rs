//! Given/when/then harness: a practice and its households held in memory, driven only through
//! `decide` and `apply`, exactly as the command executor does with the log.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use hearth_domain::{
    household::{self, HouseholdCommand, HouseholdState, NewMember},
    practice::{self, NewStaff, PracticeCommand, PracticeEvent, PracticeState},
    roles::PracticeRole,
    Actor, CommandContext, Decision, DomainError, HouseholdId, MemberId, PracticeId, StaffId,
};

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
}

pub fn ctx(actor: Actor) -> CommandContext {
    CommandContext::new(actor, now())
}

pub fn staff(s: StaffId) -> Actor {
    Actor::Staff(s)
}

/// The operator's command that creates a practice.
pub fn create_practice(practice_id: PracticeId, owner: NewStaff, licences: u32) -> PracticeCommand {
    PracticeCommand::CreatePractice {
        practice_id,
        name: "Hearth Advice".into(),
        owner,
        licences,
    }
}

pub struct World {
    pub practice_id: PracticeId,
    pub practice: PracticeState,
    pub households: BTreeMap<HouseholdId, HouseholdState>,
    pub owner: StaffId,
    counter: u32,
}

impl World {
    /// Given: a practice whose owner is active, with `licences` licences.
    pub fn new(licences: u32) -> World {
        let practice_id = PracticeId::new();
        let owner = StaffId::new();
        let mut w = World {
            practice_id,
            practice: PracticeState::default(),
            households: BTreeMap::new(),
            owner,
            counter: 0,
        };
        let cmd = create_practice(
            practice_id,
            NewStaff {
                staff_id: owner,
                name: "Olive Owner".into(),
                email: "olive@example.com".into(),
            },
            licences,
        );
        w.apply_practice(
            practice::decide(&w.practice, &cmd, &ctx(Actor::Operator)).expect("practice created"),
        );
        w
    }

    pub fn apply_practice(&mut self, events: Vec<PracticeEvent>) {
        for e in &events {
            self.practice.apply(e);
        }
    }

    pub fn apply(&mut self, decision: &Decision) {
        for e in &decision.practice {
            self.practice.apply(e);
        }
        for (id, events) in &decision.households {
            let h = self.households.entry(*id).or_default();
            for e in events {
                h.apply(e);
            }
        }
    }

    /// When a practice command: the events (applied) or the error (nothing applied).
    pub fn practice_cmd(
        &mut self,
        actor: StaffId,
        cmd: PracticeCommand,
    ) -> Result<Vec<PracticeEvent>, DomainError> {
        let events = practice::decide(&self.practice, &cmd, &ctx(staff(actor)))?;
        self.apply_practice(events.clone());
        Ok(events)
    }

    /// When the owner gives a practice command.
    pub fn owner_cmd(&mut self, cmd: PracticeCommand) -> Result<Vec<PracticeEvent>, DomainError> {
        self.practice_cmd(self.owner, cmd)
    }

    /// Given: `staff_id` deactivated by the owner.
    pub fn deactivate(&mut self, staff_id: StaffId) {
        self.owner_cmd(PracticeCommand::DeactivateStaff { staff_id })
            .unwrap();
    }

    /// When a household command: the decision (applied) or the error (nothing applied).
    pub fn household_cmd(
        &mut self,
        actor: Actor,
        id: HouseholdId,
        cmd: HouseholdCommand,
    ) -> Result<Decision, DomainError> {
        self.household_cmd_at(actor, now(), id, cmd)
    }

    /// As [`World::household_cmd`], decided at `at` rather than at [`now`].
    pub fn household_cmd_at(
        &mut self,
        actor: Actor,
        at: DateTime<Utc>,
        id: HouseholdId,
        cmd: HouseholdCommand,
    ) -> Result<Decision, DomainError> {
        let current = self.households.get(&id).cloned().unwrap_or_default();
        let decision = household::decide(
            &current,
            &self.practice,
            id,
            &cmd,
            &CommandContext::new(actor, at),
        )?;
        self.apply(&decision);
        Ok(decision)
    }

    /// When the owner gives the same household command twice: the first must succeed; answers
    /// the second (a repeat is refused, never applied twice).
    pub fn owner_household_cmd_twice(
        &mut self,
        id: HouseholdId,
        cmd: HouseholdCommand,
    ) -> Result<Decision, DomainError> {
        self.owner_household_cmd(id, cmd.clone())
            .expect("the first time succeeds");
        self.owner_household_cmd(id, cmd)
    }

    /// When the owner gives a household command.
    pub fn owner_household_cmd(
        &mut self,
        id: HouseholdId,
        cmd: HouseholdCommand,
    ) -> Result<Decision, DomainError> {
        self.household_cmd(staff(self.owner), id, cmd)
    }

    pub fn next_email(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}@example.com", self.counter)
    }

    /// The command that invites a new member with this role (not yet given), and their id.
    pub fn invitation(&mut self, role: PracticeRole) -> (StaffId, PracticeCommand) {
        let staff_id = StaffId::new();
        let email = self.next_email("staff");
        let invite = PracticeCommand::InviteStaff {
            staff: NewStaff {
                staff_id,
                name: format!("Staff {email}"),
                email,
            },
            role,
            branch: None,
        };
        (staff_id, invite)
    }

    /// Given: an active staff member with this role (the owner buys a licence when needed).
    pub fn active_staff(&mut self, role: PracticeRole) -> StaffId {
        if role.consumes_licence() && self.practice.licences_used() >= self.practice.licences_held {
            self.practice_cmd(self.owner, PracticeCommand::PurchaseLicences { count: 1 })
                .unwrap();
        }
        let (id, invite) = self.invitation(role);
        self.practice_cmd(self.owner, invite).unwrap();
        self.practice_cmd(id, PracticeCommand::ActivateStaff { staff_id: id })
            .unwrap();
        id
    }

    /// Given: `N` active professionals.
    pub fn professionals<const N: usize>(&mut self) -> [StaffId; N] {
        std::array::from_fn(|_| self.active_staff(PracticeRole::Professional))
    }

    pub fn new_member(&mut self) -> NewMember {
        let email = self.next_email("client");
        NewMember {
            member_id: MemberId::new(),
            first_name: "Casey".into(),
            last_name: "Client".into(),
            email: Some(email),
            title: None,
        }
    }

    /// A new household with a fresh client, created by `actor` (who may be refused).
    pub fn create_household(
        &mut self,
        actor: Actor,
    ) -> Result<(HouseholdId, Decision), DomainError> {
        let id = HouseholdId::new();
        let client = self.new_member();
        let decision = self.household_cmd(
            actor,
            id,
            HouseholdCommand::CreateHousehold {
                client,
                partner: None,
                branch: None,
                status: None,
            },
        )?;
        Ok((id, decision))
    }

    /// Given: a household created by `creator`.
    pub fn household_by(&mut self, creator: StaffId) -> HouseholdId {
        self.create_household(staff(creator)).unwrap().0
    }

    /// Given: an active professional and a household they lead.
    pub fn led_household(&mut self) -> (StaffId, HouseholdId) {
        let pro = self.active_staff(PracticeRole::Professional);
        (pro, self.household_by(pro))
    }

    pub fn household(&self, id: HouseholdId) -> &HouseholdState {
        &self.households[&id]
    }

    /// The invariants of PRODUCT.md §1–§2 that must hold after any sequence of commands.
    pub fn assert_invariants(&self) {
        let p = &self.practice;
        assert!(
            p.licences_used() <= p.licences_held,
            "licences used {} > held {}",
            p.licences_used(),
            p.licences_held
        );
        for (id, h) in &self.households {
            let primary = h
                .primary
                .unwrap_or_else(|| panic!("household {id} has no primary"));
            let m = p.member(primary).expect("primary is staff of the practice");
            assert!(
                m.role.can_lead_households(),
                "support staff is primary of {id}"
            );
            assert_eq!(
                m.status,
                practice::StaffStatus::Active,
                "primary of {id} is not active"
            );
            if let Some(s) = h.secondary {
                assert_ne!(s, primary);
                assert!(
                    p.role_of(s).is_some_and(|r| r.can_lead_households()),
                    "support staff is secondary of {id}"
                );
            }
            assert!(!h.grants.contains_key(&primary));
            assert_eq!(
                p.leads.get(id),
                Some(&(primary, h.secondary)),
                "practice lead index out of step for {id}"
            );
        }
    }
}
