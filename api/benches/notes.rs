//! File notes end to end: survey events appended to the log → relay → bus → worker → the fake
//! XPLAN over HTTP → note recorded. Throughput working a backlog (over RabbitMQ with one and two
//! instances, and over the in-process queue), and latency from an event's append to XPLAN
//! receiving its note when events come one at a time.
//!
//!   HEARTH_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   HEARTH_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/%2f \
//!     cargo bench -p hearth-api --bench notes
//!
//! HEARTH_BENCH_NOTES sets the number of notes (default 2,000, over 200 households).

use std::{collections::HashMap, time::Duration};

use chrono::Utc;
use clap::Parser;
use hearth_api::{cli::ServeArgs, startup::Application};
use hearth_domain::{
    household::{Dimension, HouseholdCommand, SurveyCommand},
    Actor, CommandContext, HouseholdId, MemberId,
};
use hearth_eventstore::testing::TestDatabase;
use hearth_integrations::{
    fake::{FakeSettings, FakeXplan},
    notes::NOTE_MARKER_PREFIX,
};

const HOUSEHOLDS: usize = 200;

/// A running service, and how to stop it.
struct Instance {
    state: hearth_api::state::AppState,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start(args: &[String]) -> Instance {
    let app = Application::build(ServeArgs::parse_from(args).settings)
        .await
        .unwrap();
    let state = app.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    Instance {
        state,
        stop,
        server,
    }
}

impl Instance {
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(10), self.server).await;
    }
}

/// Appends `notes` Your Life Surveys over `households` from `writers` writers, one per `pace`
/// when paced.
async fn append_surveys(
    state: &hearth_api::state::AppState,
    practice: hearth_domain::PracticeId,
    owner: hearth_domain::StaffId,
    households: &[(HouseholdId, MemberId)],
    notes: usize,
    pace: Option<Duration>,
) {
    let writers = if pace.is_some() { 1 } else { 4 };
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (exec, households) = (state.exec.clone(), households.to_vec());
        tasks.push(tokio::spawn(async move {
            for n in (w..notes).step_by(writers) {
                if let Some(gap) = pace {
                    tokio::time::sleep(gap).await;
                }
                let (h, member) = households[n % households.len()];
                let survey = HouseholdCommand::Survey(SurveyCommand::CompleteYourLifeSurvey {
                    survey_id: uuid::Uuid::now_v7(),
                    member_id: member,
                    your_life_score_pct: (n % 100) as u8,
                    goals: vec!["Retire".into()],
                    dimensions: vec![Dimension {
                        name: "Health".into(),
                        pct: 50,
                    }],
                });
                exec.household(
                    practice,
                    h,
                    survey,
                    &CommandContext::new(Actor::Staff(owner), Utc::now()),
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// `pace: None` measures throughput: the surveys are appended while no service runs, then
/// `instances` services (sharing the database, the data dir — so the keys — and the broker's
/// queues) start and work the backlog. `Some(gap)`: one service, one survey per gap from one
/// writer, the latency of the path itself without a backlog.
async fn run(
    label: &str,
    amqp: Option<&str>,
    notes: usize,
    pace: Option<Duration>,
    instances: usize,
) -> String {
    let db = TestDatabase::create().await;
    let xplan = FakeXplan::start("127.0.0.1:0".parse().unwrap(), FakeSettings::default())
        .await
        .unwrap();
    xplan.seed(HOUSEHOLDS, 0);
    let dir = std::env::temp_dir().join(format!("hearth-bench-{}", uuid::Uuid::new_v4()));
    let mut args = vec![
        "hearth".to_string(),
        "--database-url".into(),
        db.url.clone(),
        "--bind".into(),
        "127.0.0.1:0".into(),
        "--xplan-scheme".into(),
        "http".into(),
        "--data-dir".into(),
        dir.display().to_string(),
        "--jwt-secret".into(),
        "a-bench-secret-that-is-long-enough-for-hs256".into(),
    ];
    if let Some(url) = amqp {
        args.extend([
            "--amqp-url".into(),
            url.into(),
            "--amqp-prefix".into(),
            format!("hearth-bench-{}", uuid::Uuid::new_v4().simple()),
        ]);
    }
    let setup = start(&args).await;
    let state = setup.state.clone();
    let connected = hearth_integrations::testing::connected_practice(&state.xplan, &xplan).await;
    let (p, owner, id) = (connected.practice, connected.owner, connected.integration);
    state.xplan.sync(id, "bench", Utc::now()).await.unwrap();
    let head = state.store.committed_head().await.unwrap();
    state
        .projection
        .wait_for(head, Duration::from_secs(60))
        .await
        .unwrap();
    let households: Vec<(HouseholdId, MemberId)> = {
        let model = state.projection.read();
        model.practices[&p]
            .households
            .iter()
            .map(|h| (*h, model.households[h].state.members[0].member_id))
            .collect()
    };
    assert_eq!(households.len(), HOUSEHOLDS);

    let (started, running) = match pace {
        Some(gap) => {
            let started = Utc::now();
            append_surveys(&state, p, owner, &households, notes, Some(gap)).await;
            (started, vec![setup])
        }
        None => {
            setup.stop().await;
            append_surveys(&state, p, owner, &households, notes, None).await;
            assert!(xplan.notes().is_empty(), "no service ran while appending");
            let started = Utc::now();
            let mut running = Vec::new();
            for _ in 0..instances {
                running.push(start(&args).await);
            }
            (started, running)
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(1200);
    while xplan.notes().len() < notes {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {notes} notes arrived",
            xplan.notes().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let received = xplan.notes();
    let finished = received.iter().map(|n| n.received_at).max().unwrap();
    let first = received.iter().map(|n| n.received_at).min().unwrap();
    let appended_at: HashMap<String, chrono::DateTime<Utc>> = state
        .store
        .read_all(hearth_eventstore::Cursor::START, 10_000_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == "household.your_life_survey_completed")
        .map(|e| (format!("{NOTE_MARKER_PREFIX}{}", e.event_id), e.recorded_at))
        .collect();
    let mut latencies: Vec<f64> = received
        .iter()
        .map(|n| {
            (n.received_at - appended_at[n.body["summary"].as_str().unwrap()])
                .num_microseconds()
                .unwrap() as f64
                / 1000.0
        })
        .collect();
    latencies.sort_by(|a, b| a.total_cmp(b));
    assert_eq!(received.len(), notes, "exactly one note per event");
    for instance in running {
        instance.stop().await;
    }
    let secs = (finished - started).num_milliseconds() as f64 / 1000.0;
    match pace {
        Some(gap) => format!(
            "| {label} | {notes} | paced, 1 per {} ms | p50 {:.0} ms, p99 {:.0} ms |",
            gap.as_millis(),
            latencies[latencies.len() / 2],
            latencies[latencies.len() * 99 / 100]
        ),
        None => {
            let steady = (finished - first).num_milliseconds() as f64 / 1000.0;
            format!(
                "| {label} | {notes} | backlog worked at **{:.0} notes/s** ({secs:.1} s from start-up); {:.0} notes/s from the first note to the last | — |",
                notes as f64 / secs,
                (notes - 1) as f64 / steady
            )
        }
    }
}

#[tokio::main]
async fn main() {
    let notes: usize = std::env::var("HEARTH_BENCH_NOTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let amqp =
        std::env::var("HEARTH_TEST_AMQP_URL").expect("HEARTH_TEST_AMQP_URL must point at RabbitMQ");
    let paced = Some(Duration::from_millis(50));
    let rabbit = "RabbitMQ (durable, confirms, 16 partitions)";
    let two = "RabbitMQ, two instances";
    let memory = "in-process queue (embedded default)";
    let rows = vec![
        run(rabbit, Some(&amqp), notes, None, 1).await,
        run(two, Some(&amqp), notes, None, 2).await,
        run(memory, None, notes, None, 1).await,
        run(rabbit, Some(&amqp), 200, paced, 1).await,
        run(memory, None, 200, paced, 1).await,
    ];
    println!("| path | notes | appended / throughput | latency, event appended → note received by XPLAN |");
    println!("|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
