//! What sealing personal data costs a rebuild of the read models (issue 15): the same
//! domain-decided log (households created with a client and partner, client details edited,
//! staff granted and re-roled) written once in clear and once sealed, then the access model
//! built from each on PostgreSQL exactly as `hearth replay` does — read, open, decode, apply —
//! alternating, each time by a fresh store so no household key is cached (as at start-up).
//!
//!   HEARTH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p hearth-projections --bench rebuild
//!
//! HEARTH_BENCH_HOUSEHOLDS (default 10,000; 10 events each), HEARTH_BENCH_ROUNDS (default 5).

use std::{collections::BTreeMap, sync::Arc, time::Instant};

use chrono::{DateTime, Utc};
use hearth_domain::{
    household::{self, ClientField, HouseholdCommand, HouseholdState, NewMember},
    practice::{self, NewStaff, PracticeCommand, PracticeState},
    roles::{HouseholdRole, PracticeRole},
    Actor, CommandContext, DomainEvent, HouseholdId, MemberId, PracticeId, StaffId,
};
use hearth_eventstore::{
    personal::{MasterKey, MasterKeys},
    testing::{machine_busy_seconds, TestDatabase},
    EventStore, ExpectedVersion, Metadata, NewEvent,
};
use hearth_projections::build_from_log;

// As the `hearth` binary allocates.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PROFESSIONALS: usize = 12;
const WRITERS: usize = 8;

type Stream = (String, Vec<NewEvent>);

fn new_event(event: DomainEvent, actor: &str, at: DateTime<Utc>, practice: PracticeId) -> NewEvent {
    let (event_type, schema_version, data) = match &event {
        DomainEvent::Practice(e) => (e.event_type(), e.schema_version(), e.to_data()),
        DomainEvent::Household(e) => (e.event_type(), e.schema_version(), e.to_data()),
        DomainEvent::Integration(e) => (e.event_type(), e.schema_version(), e.to_data()),
        DomainEvent::Webhook(e) => (e.event_type(), e.schema_version(), e.to_data()),
    };
    NewEvent {
        event_id: uuid::Uuid::now_v7(),
        event_type: event_type.to_string(),
        schema_version,
        data,
        metadata: Metadata {
            actor: actor.to_string(),
            practice_id: Some(practice.0),
            correlation_id: None,
            causation_id: None,
            occurred_at: at,
        },
    }
}

fn member(n: usize, who: &str) -> NewMember {
    NewMember {
        member_id: MemberId::new(),
        first_name: format!("{who}{n}"),
        last_name: format!("Family{n}"),
        email: Some(format!("{who}{n}@bench.test")),
        title: Some("Ms".into()),
    }
}

/// The practice's stream, then one stream per household, decided by the domain.
fn decided_log(households: usize) -> Vec<Stream> {
    let at = Utc::now();
    let (practice_id, owner) = (PracticeId::new(), StaffId::new());
    let mut p = PracticeState::default();
    let mut practice_events = Vec::new();
    let mut run = |p: &mut PracticeState, cmd: PracticeCommand, actor: Actor| {
        let name = actor.to_string();
        for e in practice::decide(p, &cmd, &CommandContext::new(actor, at)).expect("practice") {
            p.apply(&e);
            practice_events.push(new_event(DomainEvent::Practice(e), &name, at, practice_id));
        }
    };
    let staff_of = |id: StaffId, i: usize| NewStaff {
        staff_id: id,
        name: format!("Staff {i}"),
        email: format!("staff{i}@bench.test"),
    };
    run(
        &mut p,
        PracticeCommand::CreatePractice {
            practice_id,
            name: "Bench".into(),
            owner: staff_of(owner, 999),
            licences: 100,
        },
        Actor::Operator,
    );
    let mut staff = Vec::new();
    for i in 0..PROFESSIONALS {
        let id = StaffId::new();
        let invite = PracticeCommand::InviteStaff {
            staff: staff_of(id, i),
            role: PracticeRole::Professional,
            branch: None,
        };
        run(&mut p, invite, Actor::Staff(owner));
        run(
            &mut p,
            PracticeCommand::ActivateStaff { staff_id: id },
            Actor::Staff(id),
        );
        staff.push(id);
    }
    let mut log = vec![(format!("practice-{}", practice_id.0), practice_events)];
    for n in 0..households {
        let (id, creator) = (HouseholdId::new(), staff[n % PROFESSIONALS]);
        let client = member(n, "client");
        let client_id = client.member_id;
        let edit = |field: ClientField, value: String| HouseholdCommand::EditClientDetails {
            member_id: client_id,
            fields: BTreeMap::from([(field, Some(value))]),
        };
        let grant = |k: usize, role| HouseholdCommand::GrantStaffAccess {
            staff_id: staff[(n + k) % PROFESSIONALS],
            role,
        };
        let commands = vec![
            HouseholdCommand::CreateHousehold {
                client,
                partner: Some(member(n, "partner")),
                branch: None,
                status: None,
            },
            grant(1, HouseholdRole::Paraplanner),
            grant(2, HouseholdRole::ReadOnly),
            grant(3, HouseholdRole::Support),
            edit(ClientField::Mobile, format!("+61 400 {n:06}")),
            edit(ClientField::AddressLine1, format!("{n} Harbour Street")),
            edit(ClientField::Suburb, "Manly".into()),
            edit(ClientField::DateOfBirth, "1970-01-01".into()),
            HouseholdCommand::ChangeStaffRole {
                staff_id: staff[(n + 2) % PROFESSIONALS],
                role: HouseholdRole::Paraplanner,
            },
            edit(ClientField::Email, format!("new{n}@bench.test")),
        ];
        let (mut h, mut events) = (HouseholdState::default(), Vec::new());
        for (k, cmd) in commands.into_iter().enumerate() {
            // The creator makes the household; the owner manages its access and details.
            let actor = Actor::Staff(if k == 0 { creator } else { owner });
            let ctx = CommandContext::new(actor.clone(), at);
            let decision = household::decide(&h, &p, id, &cmd, &ctx).expect("household");
            for e in decision.households.into_iter().flat_map(|(_, e)| e) {
                h.apply(&e);
                events.push(new_event(
                    DomainEvent::Household(e),
                    &actor.to_string(),
                    at,
                    practice_id,
                ));
            }
        }
        log.push((format!("household-{}", id.0), events));
    }
    log
}

async fn write(store: &EventStore, log: &[Stream]) {
    let log = Arc::new(log.to_vec());
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (store, log) = (store.clone(), log.clone());
        tasks.push(tokio::spawn(async move {
            for (stream, events) in log.iter().skip(w).step_by(WRITERS) {
                store
                    .append(stream, ExpectedVersion::NoStream, events.clone())
                    .await
                    .expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
}

fn main() {
    let households: usize = std::env::var("HEARTH_BENCH_HOUSEHOLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rounds: usize = std::env::var("HEARTH_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let log = decided_log(households);
        let events: usize = log.iter().map(|(_, e)| e.len()).sum();
        let (plain_db, sealed_db) = (TestDatabase::create().await, TestDatabase::create().await);
        let master = MasterKeys::new(MasterKey::from_bytes(&[7; 32]), vec![]);
        let policy = hearth_application::personal_data_policy();
        let plain = || async { EventStore::connect(&plain_db.url).await.expect("connect") };
        let sealed = || async {
            EventStore::connect(&sealed_db.url)
                .await
                .expect("connect")
                .with_personal_data(policy.clone(), master.clone())
        };
        write(&plain().await, &log).await;
        write(&sealed().await, &log).await;
        let rate = |started: Instant| events as f64 / started.elapsed().as_secs_f64();
        let read = |store: EventStore| async move {
            let started = Instant::now();
            let mut after = hearth_eventstore::Cursor::START;
            loop {
                let batch = store.read_all(after, 10_000).await.expect("read");
                let Some(last) = batch.last() else { break };
                after = last.cursor;
            }
            rate(started)
        };
        // Events per second, and the machine's CPU microseconds per event.
        let rebuild = |store: EventStore| async move {
            let (started, busy) = (Instant::now(), machine_busy_seconds());
            let model = build_from_log(&store).await.expect("rebuild");
            assert_eq!(model.events_applied() as usize, events);
            let cpu = (machine_busy_seconds() - busy) * 1e6 / events as f64;
            (rate(started), cpu)
        };
        let [mut rp, mut rs, mut ru, mut bp, mut bs, mut cp, mut cs] =
            [(); 7].map(|_| Vec::new());
        // Alternating, so drift in the machine's load falls on all alike.
        for _ in 0..rounds {
            rp.push(read(plain().await).await);
            rs.push(read(sealed().await).await);
            ru.push(read(EventStore::connect(&sealed_db.url).await.expect("connect")).await);
            let (rate, cpu) = rebuild(plain().await).await;
            bp.push(rate);
            cp.push(cpu);
            let (rate, cpu) = rebuild(sealed().await).await;
            bs.push(rate);
            cs.push(cpu);
        }
        let median = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let line = |name: &str, v: &[f64], of: &[f64]| {
            println!(
                "  {name:<28} {:>9.0} events/s  {:>6.1}%   runs {v:.0?}",
                median(v),
                100.0 * median(v) / median(of)
            )
        };
        println!(
            "{events} events ({households} households), keys not cached, medians of {rounds}:"
        );
        println!("rebuild of the access model (read, open, decode, apply):");
        line("plain", &bp, &bp);
        line("sealed", &bs, &bp);
        println!(
            "  machine CPU per event: plain {:.1} µs, sealed {:.1} µs (plain's is {:.1}% of sealed's)   runs {cp:.1?} / {cs:.1?}",
            median(&cp),
            median(&cs),
            100.0 * median(&cp) / median(&cs)
        );
        println!("reading the log alone:");
        line("plain", &rp, &rp);
        line("sealed", &rs, &rp);
        line("sealed, not opened", &ru, &rp);
    });
}
