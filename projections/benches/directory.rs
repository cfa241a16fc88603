//! The console's read-model queries on a large practice, in process (no HTTP): household search
//! (first page and a name search, as a practice manager who sees every household and as a
//! professional who sees their own), the household page's reads, and a year's access report.
//!
//!   cargo bench -p hearth-projections --bench directory
//!
//! HEARTH_BENCH_HOUSEHOLDS (default 100,000): each household is created by one of 24
//! professionals and given three grants spread over a year. Events are decided by the domain and
//! applied to the model exactly as replay does, without a database.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hearth_domain::{
    household::{self, HouseholdCommand, HouseholdState, NewMember},
    practice::{self, NewStaff, PracticeCommand, PracticeEvent, PracticeState},
    roles::{Action, HouseholdRole, PracticeRole},
    Actor, CommandContext, DomainEvent, HouseholdId, MemberId, PracticeId, StaffId,
};
use hearth_eventstore::{Cursor, Metadata, RecordedEvent};
use hearth_projections::{AccessModel, HouseholdFilter};

const PROFESSIONALS: usize = 24;
const SAMPLES: usize = 1_000;
const SURNAMES: [&str; 12] = [
    "Citizen", "Nguyen", "Smith", "Brown", "Wilson", "Taylor", "Martin", "Lee", "Walker", "Hall",
    "Young", "King",
];

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

fn percentile(mut samples: Vec<Duration>, p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1]
}

fn report(name: &str, samples: Vec<Duration>) {
    println!(
        "{name:<58} p50 {:>8.3} ms   p99 {:>8.3} ms",
        percentile(samples.clone(), 0.50).as_secs_f64() * 1e3,
        percentile(samples, 0.99).as_secs_f64() * 1e3
    );
}

fn main() {
    let households: usize = std::env::var("HEARTH_BENCH_HOUSEHOLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
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
    let seeding = Instant::now();
    let mut ids = Vec::with_capacity(households);
    for n in 0..households {
        let id = HouseholdId::new();
        let creator = staff[n % PROFESSIONALS];
        let at = start + chrono::Duration::seconds((n as i64 * 31_536_000) / households as i64);
        let mut h = HouseholdState::default();
        let commands = [
            (
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
            ),
            (
                Actor::Staff(owner),
                HouseholdCommand::GrantStaffAccess {
                    staff_id: staff[(n + 1) % PROFESSIONALS],
                    role: HouseholdRole::Paraplanner,
                },
            ),
            (
                Actor::Staff(owner),
                HouseholdCommand::GrantStaffAccess {
                    staff_id: staff[(n + 2) % PROFESSIONALS],
                    role: HouseholdRole::ReadOnly,
                },
            ),
            (
                Actor::Staff(owner),
                HouseholdCommand::GrantStaffAccess {
                    staff_id: staff[(n + 3) % PROFESSIONALS],
                    role: HouseholdRole::Support,
                },
            ),
        ];
        for (k, (actor, cmd)) in commands.into_iter().enumerate() {
            let when = at + chrono::Duration::minutes(k as i64);
            let decision =
                household::decide(&h, &p, id, &cmd, &CommandContext::new(actor.clone(), when))
                    .unwrap();
            let actor = actor.to_string();
            for e in decision.practice {
                p.apply(&e);
                log.apply(
                    format!("practice-{}", practice_id.0),
                    DomainEvent::Practice(e),
                    &actor,
                    when,
                );
            }
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
    println!(
        "{households} households, {} events applied in {:.1} s",
        log.model.events_applied(),
        seeding.elapsed().as_secs_f64()
    );
    let m = &log.model;
    let now = Utc::now();
    let time = |f: &mut dyn FnMut(usize)| -> Vec<Duration> {
        (0..SAMPLES)
            .map(|i| {
                let t = Instant::now();
                f(i);
                t.elapsed()
            })
            .collect()
    };
    let all = HouseholdFilter::default();
    report(
        "search, first page (practice manager: every household)",
        time(&mut |_| {
            m.search_households(practice_id, pm, &all, None, 25, now)
                .unwrap();
        }),
    );
    report(
        "search by surname (practice manager)",
        time(&mut |i| {
            let f = HouseholdFilter {
                text: Some(SURNAMES[i % SURNAMES.len()].to_lowercase()),
                ..Default::default()
            };
            m.search_households(practice_id, pm, &f, None, 25, now)
                .unwrap();
        }),
    );
    report(
        "search by email (practice manager, one match)",
        time(&mut |i| {
            let f = HouseholdFilter {
                text: Some(format!("client{}@bench.test", (i * 97) % households)),
                ..Default::default()
            };
            m.search_households(practice_id, pm, &f, None, 25, now)
                .unwrap();
        }),
    );
    report(
        "search, first page (a professional: own and granted)",
        time(&mut |i| {
            m.search_households(practice_id, staff[i % PROFESSIONALS], &all, None, 25, now)
                .unwrap();
        }),
    );
    report(
        "household page reads (team, who has access, history)",
        time(&mut |i| {
            let h = ids[(i * 7919) % ids.len()];
            let view = m.household_in(practice_id, h).unwrap();
            std::hint::black_box(view.state.holders());
            m.check(practice_id, pm, h, Action::ManageAccess, now)
                .unwrap();
            m.staff_with_access(practice_id, h, now).unwrap();
            m.history(practice_id, h).unwrap();
        }),
    );
    let year = Instant::now();
    let r = m.access_report(practice_id, start, now).unwrap();
    println!(
        "access report for the year: {} rows in {:.3} s",
        r.rows.len(),
        year.elapsed().as_secs_f64()
    );
}
