//! A large practice decided by the domain and applied to the model exactly as replay does,
//! without a database: what the in-process benches measure against.

use chrono::{DateTime, Utc};
use hearth_domain::{
    household::{self, HouseholdCommand, HouseholdState, NewMember},
    practice::{self, NewStaff, PracticeCommand, PracticeEvent, PracticeState},
    roles::{HouseholdRole, PracticeRole},
    Actor, CommandContext, DomainEvent, HouseholdId, MemberId, PracticeId, StaffId,
};
use hearth_eventstore::{Cursor, Metadata, RecordedEvent};
use hearth_projections::AccessModel;

pub const PROFESSIONALS: usize = 24;
pub const SURNAMES: [&str; 12] = [
    "Citizen", "Nguyen", "Smith", "Brown", "Wilson", "Taylor", "Martin", "Lee", "Walker", "Hall",
    "Young", "King",
];

/// What happens to each household after it is created.
#[derive(Clone, Copy)]
pub enum Mix {
    /// Three grants (paraplanner, read-only, support).
    ThreeGrants,
    /// As the HTTP bench's log: six grants, two role changes and one revocation (five stay).
    HttpBench,
}

pub struct Seeded {
    pub model: AccessModel,
    pub practice: PracticeId,
    pub manager: StaffId,
    pub professionals: Vec<StaffId>,
    pub households: Vec<HouseholdId>,
    pub start: DateTime<Utc>,
}

struct Log {
    model: AccessModel,
    position: i64,
}

impl Log {
    fn apply(&mut self, stream: String, event: DomainEvent, actor: &str, at: DateTime<Utc>) {
        self.position += 1;
        let (event_type, schema_version, data) = match &event {
            DomainEvent::Practice(e) => (e.event_type(), e.schema_version(), e.to_data()),
            DomainEvent::Household(e) => (e.event_type(), e.schema_version(), e.to_data()),
            DomainEvent::Integration(e) => (e.event_type(), e.schema_version(), e.to_data()),
            DomainEvent::Webhook(e) => (e.event_type(), e.schema_version(), e.to_data()),
        };
        self.model.apply_owned(RecordedEvent {
            position: self.position,
            cursor: Cursor {
                tx: self.position,
                position: self.position,
            },
            stream,
            version: 0,
            event_id: uuid::Uuid::new_v4(),
            event_type: event_type.to_string(),
            schema_version,
            data,
            metadata: Metadata {
                actor: actor.to_string(),
                practice_id: None,
                correlation_id: None,
                causation_id: None,
                occurred_at: at,
            },
            recorded_at: at,
            hash: [0; 32],
        });
    }

    fn practice(
        &mut self,
        state: &mut PracticeState,
        id: PracticeId,
        events: Vec<PracticeEvent>,
        actor: &str,
        at: DateTime<Utc>,
    ) {
        for e in events {
            state.apply(&e);
            self.apply(
                format!("practice-{}", id.0),
                DomainEvent::Practice(e),
                actor,
                at,
            );
        }
    }
}

/// One practice of `households` households, created over the past year by one of
/// [`PROFESSIONALS`] professionals each, then given `mix`.
pub fn seed(households: usize, mix: Mix) -> Seeded {
    let start = Utc::now() - chrono::Duration::days(366);
    let mut log = Log {
        model: AccessModel::default(),
        position: 0,
    };
    let (practice_id, owner) = (PracticeId::new(), StaffId::new());
    let mut p = PracticeState::default();
    let create = PracticeCommand::CreatePractice {
        practice_id,
        name: "Bench".into(),
        owner: NewStaff {
            staff_id: owner,
            name: "Olive Owner".into(),
            email: "olive@bench.test".into(),
        },
        licences: 100,
    };
    let events =
        practice::decide(&p, &create, &CommandContext::new(Actor::Operator, start)).unwrap();
    log.practice(&mut p, practice_id, events, "operator", start);
    let mut staff = Vec::new();
    let pm = StaffId::new();
    for i in 0..=PROFESSIONALS {
        let (id, role) = if i == PROFESSIONALS {
            (pm, PracticeRole::PracticeManager)
        } else {
            (StaffId::new(), PracticeRole::Professional)
        };
        let invite = PracticeCommand::InviteStaff {
            staff: NewStaff {
                staff_id: id,
                name: format!("Staff {i}"),
                email: format!("staff{i}@bench.test"),
            },
            role,
            branch: None,
        };
        let as_owner = CommandContext::new(Actor::Staff(owner), start);
        let events = practice::decide(&p, &invite, &as_owner).unwrap();
        log.practice(&mut p, practice_id, events, &owner.0.to_string(), start);
        let events = practice::decide(
            &p,
            &PracticeCommand::ActivateStaff { staff_id: id },
            &CommandContext::new(Actor::Staff(id), start),
        )
        .unwrap();
        log.practice(&mut p, practice_id, events, &id.0.to_string(), start);
        if role == PracticeRole::Professional {
            staff.push(id);
        }
    }
    let mut ids = Vec::with_capacity(households);
    for n in 0..households {
        let id = HouseholdId::new();
        let creator = staff[n % PROFESSIONALS];
        let at = start + chrono::Duration::seconds((n as i64 * 31_536_000) / households as i64);
        let mut h = HouseholdState::default();
        let mut commands = vec![(
            Actor::Staff(creator),
            HouseholdCommand::CreateHousehold {
                client: NewMember {
                    member_id: MemberId::new(),
                    first_name: format!("Client{n}"),
                    last_name: SURNAMES[n % SURNAMES.len()].into(),
                    email: Some(format!("client{n}@bench.test")),
                    title: None,
                },
                partner: None,
                branch: None,
                status: None,
            },
        )];
        let other = |k: usize| staff[(n + k) % PROFESSIONALS];
        let grant = |k: usize, role| {
            (
                Actor::Staff(owner),
                HouseholdCommand::GrantStaffAccess {
                    staff_id: other(k),
                    role,
                },
            )
        };
        commands.extend([
            grant(1, HouseholdRole::Paraplanner),
            grant(2, HouseholdRole::ReadOnly),
            grant(3, HouseholdRole::Support),
        ]);
        if let Mix::HttpBench = mix {
            commands.extend([
                grant(4, HouseholdRole::ReadOnly),
                grant(5, HouseholdRole::Support),
                grant(6, HouseholdRole::ReadOnly),
                (
                    Actor::Staff(owner),
                    HouseholdCommand::ChangeStaffRole {
                        staff_id: other(2),
                        role: HouseholdRole::Paraplanner,
                    },
                ),
                (
                    Actor::Staff(owner),
                    HouseholdCommand::ChangeStaffRole {
                        staff_id: other(4),
                        role: HouseholdRole::Support,
                    },
                ),
                (
                    Actor::Staff(owner),
                    HouseholdCommand::RevokeStaffAccess { staff_id: other(6) },
                ),
            ]);
        }
        for (k, (actor, cmd)) in commands.into_iter().enumerate() {
            let when = at + chrono::Duration::minutes(k as i64);
            let decision =
                household::decide(&h, &p, id, &cmd, &CommandContext::new(actor.clone(), when))
                    .unwrap();
            let actor = actor.to_string();
            log.practice(&mut p, practice_id, decision.practice, &actor, when);
            for (hid, events) in decision.households {
                for e in events {
                    h.apply(&e);
                    log.apply(
                        format!("household-{}", hid.0),
                        DomainEvent::Household(e),
                        &actor,
                        when,
                    );
                }
            }
        }
        ids.push(id);
    }
    Seeded {
        model: log.model,
        practice: practice_id,
        manager: pm,
        professionals: staff,
        households: ids,
        start,
    }
}
