//! Survey and plan events → relay → RabbitMQ (real broker) → worker → XPLAN file notes (real
//! HTTP to the fake XPLAN): the five triggers, and every note exactly once through faults.

use std::time::Duration;

use hearth_eventstore::{Cursor, EventStore};
use hearth_integrations::{
    fake::{FakeClient, FakeSettings, FakeXplan, Fault, RecordedNote, Route},
    notes::{AmqpBus, AmqpNames, RELAY_NAME},
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{settings, spawn_with, TestApp},
    xplan::{connected, sync, Connected},
};

pub const AMQP_VAR: &str = "HEARTH_TEST_AMQP_URL";

fn amqp_url() -> String {
    std::env::var(AMQP_VAR).unwrap_or_else(|_| panic!("{AMQP_VAR} is not set: point it at RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:5672/%2f (scripts/test sets it)"))
}

/// A service on PostgreSQL with RabbitMQ under a prefix of its own.
struct Rig {
    db: std::sync::Arc<hearth_eventstore::testing::TestDatabase>,
    prefix: String,
    xplan: FakeXplan,
}

impl Rig {
    async fn new() -> Rig {
        let db = std::sync::Arc::new(hearth_eventstore::testing::TestDatabase::create().await);
        let xplan = FakeXplan::start("127.0.0.1:0".parse().unwrap(), FakeSettings::default())
            .await
            .unwrap();
        Rig {
            db,
            prefix: format!("hearth-test-{}", Uuid::new_v4().simple()),
            xplan,
        }
    }

    /// An instance; a second call is a restarted service on the same database and queues.
    async fn app(&self) -> TestApp {
        let mut s = settings(
            &self.db.url,
            &std::env::temp_dir().join(format!("hearth-test-{}", Uuid::new_v4())),
        );
        s.bus.amqp_url = Some(amqp_url());
        s.bus.amqp_prefix = self.prefix.clone();
        s.xplan.encryption_key = Some(KEY.into());
        spawn_with(s).await
    }

    fn bus(&self) -> AmqpBus {
        AmqpBus::new(&amqp_url(), AmqpNames::with_prefix(&self.prefix))
    }
}

/// One key for every instance of a rig, so a restarted instance can open the stored tokens.
const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Given: a connected practice with one household synced from XPLAN client 7001 (Jane
/// Citizen); returns the household path and its client member id.
async fn linked_household(app: &TestApp, xplan: &FakeXplan) -> (Connected, String, String) {
    let (c, mut households) =
        linked_households(app, xplan, [FakeClient::new(7001, "Jane", "Citizen")]).await;
    let (path, member, _) = households.remove(0);
    (c, path, member)
}

/// Given: a connected practice with a household synced from each of `clients` (adviser Ada);
/// returns each household's path, client member id and XPLAN client id.
async fn linked_households(
    app: &TestApp,
    xplan: &FakeXplan,
    clients: impl IntoIterator<Item = FakeClient>,
) -> (Connected, Vec<(String, String, u64)>) {
    xplan.put_user(9000, "Ada", "Adviser", "ada@advisers.example");
    let mut count = 0;
    for mut client in clients {
        client.set("client_adviser", json!(9000));
        xplan.put_client(client);
        count += 1;
    }
    let c = connected(app, xplan).await;
    let run = sync(app, &c).await;
    let r = app
        .get(
            &format!(
                "/v1/practices/{}/roster?at_least={}",
                c.p,
                run["position"].as_str().unwrap()
            ),
            &c.owner_token,
        )
        .await;
    let mut households = Vec::new();
    for h in r.body["households"].as_array().unwrap() {
        let path = format!(
            "/v1/practices/{}/households/{}",
            c.p,
            h["household_id"].as_str().unwrap()
        );
        let d = app.get(&path, &c.owner_token).await;
        let member = &d.body["members"][0];
        let xplan_id = member["xplan"]["xplan_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a synced member names its XPLAN client: {member}"));
        households.push((
            path,
            member["member_id"].as_str().unwrap().to_string(),
            xplan_id,
        ));
    }
    assert_eq!(households.len(), count, "{}", r.text);
    (c, households)
}

async fn notes_when(xplan: &FakeXplan, count: usize) -> Vec<RecordedNote> {
    for _ in 0..300 {
        let notes = xplan.notes();
        if notes.len() >= count
            && notes
                .iter()
                .all(|n| !needs_attachment(n) || !n.attachments.is_empty())
        {
            return notes;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "expected {count} notes within 30 s, XPLAN has {:?}",
        xplan
            .notes()
            .iter()
            .map(|n| n.body["subject"].clone())
            .collect::<Vec<_>>()
    );
}

fn needs_attachment(n: &RecordedNote) -> bool {
    n.body["subject"]
        .as_str()
        .is_some_and(|s| s.ends_with("Created"))
}

/// Waits until the log records a created note for every one of `events`.
async fn recorded(app: &TestApp, events: &[String]) {
    let store = EventStore::connect(&app.database_url).await.unwrap();
    for _ in 0..300 {
        let created: Vec<String> = store
            .read_all(Cursor::START, 1_000_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event_type == "household.xplan_file_note_created")
            .map(|e| e.data["source_event_id"].as_str().unwrap().to_string())
            .collect();
        if events.iter().all(|e| created.contains(e)) {
            assert_eq!(
                created.len(),
                events.len(),
                "one record per event: {created:?}"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the log did not record notes for {events:?}");
}

/// The id of the event a command wrote, by position.
async fn event_at(app: &TestApp, position: &Value) -> String {
    let store = EventStore::connect(&app.database_url).await.unwrap();
    let p: i64 = position.as_str().unwrap().parse().unwrap();
    // Read-all delivers an event once every transaction that began before it has ended.
    for _ in 0..100 {
        let all = store.read_all(Cursor::START, 1_000_000).await.unwrap();
        if let Some(e) = all.into_iter().find(|e| e.position == p) {
            return e.event_id.to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no event at position {p}")
}

async fn survey(app: &TestApp, c: &Connected, path: &str, member: &str, score: u8) -> String {
    let r = app.post(&format!("{path}/your-life-surveys"), &c.owner_token, json!({"member_id": member, "your_life_score_pct": score, "goals": ["Retire at 60"], "dimensions": [{"name": "Health", "pct": 80}]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    event_at(app, &r.body["position"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_trigger_creates_exactly_the_note_of_the_table() {
    let rig = Rig::new().await;
    let app = rig.app().await;
    let (c, path, member) = linked_household(&app, &rig.xplan).await;
    let t = &c.owner_token;
    let mut events = vec![survey(&app, &c, &path, &member, 72).await];
    let r = app.post(&format!("{path}/values-sessions"), t, json!({"values": [{"member_id": member, "top_values": ["Family", "Health", "Travel", "Security", "Learning"]}], "progress_score": 64})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    events.push(event_at(&app, &r.body["position"]).await);
    let plan = app
        .post(
            &format!("{path}/best-life-plans"),
            t,
            json!({"goals": ["Retire at 60"]}),
        )
        .await;
    assert_eq!(plan.status, StatusCode::CREATED, "{}", plan.text);
    events.push(event_at(&app, &plan.body["position"]).await);
    let r = app.post(&format!("{path}/investment-preferences"), t, json!({"member_id": member, "answers": [{"question": "Investment horizon?", "answer": "10 years"}, {"question": "Risk appetite?", "answer": "Balanced"}]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    events.push(event_at(&app, &r.body["position"]).await);
    let export = app
        .post(
            &format!("{path}/investment-preferences/exports"),
            t,
            json!({"answers": [{"question": "Investment horizon?", "answer": "10 years"}]}),
        )
        .await;
    assert_eq!(export.status, StatusCode::CREATED, "{}", export.text);
    events.push(event_at(&app, &export.body["position"]).await);

    let notes = notes_when(&rig.xplan, 5).await;
    recorded(&app, &events).await;
    assert_eq!(rig.xplan.notes().len(), 5, "exactly one note per trigger");
    let by_subject = |s: &str| {
        notes
            .iter()
            .find(|n| n.body["subject"] == s)
            .unwrap_or_else(|| panic!("no note {s:?}"))
    };
    let yls = by_subject("Completed Your Life Survey Jane Citizen");
    assert_eq!(yls.body["body"], "Your Life Score: 72%\nGoals to be addressed:\n- Retire at 60\nDimensions of wellbeing:\n- Health: 80%\n");
    assert_eq!(
        (
            yls.body["doctype"].as_str(),
            yls.body["entity_ids"][0].as_u64()
        ),
        (Some("General"), Some(7001))
    );
    assert!(yls.attachments.is_empty());
    let values = by_subject("Completed Values Session for Jane Citizen");
    assert_eq!(values.body["body"], "Top 5 values for Jane Citizen:\n1. Family\n2. Health\n3. Travel\n4. Security\n5. Learning\nProgress score: 64%\n");
    let ip = by_subject("Completed Your Investment Preferences for Jane Citizen");
    assert_eq!(
        ip.body["body"],
        "Q: Investment horizon?\nA: 10 years\nQ: Risk appetite?\nA: Balanced\n"
    );
    for (subject, exported) in [
        ("Best Life Plan Created", &plan),
        ("Investment Preferences Created", &export),
    ] {
        let note = by_subject(subject);
        assert_eq!(note.body["body"], "", "{subject}: no content");
        let sha = exported.body["document"]["sha256"].as_str().unwrap();
        let served = app
            .client
            .get(app.url(&format!("{path}/documents/{sha}")))
            .bearer_auth(t)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(note.attachments.len(), 1);
        assert_eq!(
            note.attachments[0].content,
            served.to_vec(),
            "{subject}: the attachment is the stored document"
        );
        assert!(served.starts_with(b"%PDF-"));
    }
    let plan_pdf =
        String::from_utf8_lossy(&by_subject("Best Life Plan Created").attachments[0].content)
            .to_string();
    assert!(
        plan_pdf.contains("Ada Adviser"),
        "the plan names the primary professional as adviser"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_make_notes_of_different_households_side_by_side_each_household_in_order() {
    let rig = Rig::new().await;
    let (first, second) = (rig.app().await, rig.app().await);
    let clients = (7101..7109).map(|id| FakeClient::new(id, "Client", &format!("No{id}")));
    let (c, households) = linked_households(&first, &rig.xplan, clients).await;
    let partitions: std::collections::HashSet<usize> = households
        .iter()
        .map(|(path, ..)| {
            let id = path.rsplit('/').next().unwrap().parse().unwrap();
            hearth_integrations::notes::partition_of(hearth_domain::HouseholdId(id))
        })
        .collect();
    assert!(
        partitions.len() > 1,
        "the households should fall in different partitions: {partitions:?}"
    );
    // Every note takes XPLAN a while, so notes made side by side are seen side by side.
    rig.xplan.inject(
        Route::CreateNote,
        Fault::Latency(Duration::from_millis(300)),
        1_000,
    );
    // Each household's three surveys in order, the households side by side, the commands to
    // either instance (one of them relays; both consume the shared queues).
    let per_household = households.iter().enumerate().map(|(i, (path, member, _))| {
        let (app, c) = (if i % 2 == 0 { &first } else { &second }, &c);
        async move {
            let mut events = Vec::new();
            for score in 1..=3 {
                events.push(survey(app, c, path, member, score).await);
            }
            events
        }
    });
    let events: Vec<String> = futures::future::join_all(per_household)
        .await
        .into_iter()
        .flatten()
        .collect();
    recorded(&first, &events).await;
    let notes = rig.xplan.notes();
    assert_eq!(notes.len(), events.len(), "exactly one note per event");
    for (_, _, client) in &households {
        let scores: Vec<String> = notes
            .iter()
            .filter(|n| n.body["entity_ids"][0].as_u64() == Some(*client))
            .map(|n| {
                n.body["body"]
                    .as_str()
                    .unwrap()
                    .lines()
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            scores,
            [
                "Your Life Score: 1%",
                "Your Life Score: 2%",
                "Your Life Score: 3%"
            ],
            "client {client}'s notes in the order of its surveys"
        );
    }
    assert!(
        rig.xplan.most_held_at_once() > 1,
        "notes of different households were made one at a time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xplan_failures_and_lost_answers_still_end_in_one_note_each() {
    let rig = Rig::new().await;
    let app = rig.app().await;
    let (c, path, member) = linked_household(&app, &rig.xplan).await;
    rig.xplan.inject(Route::CreateNote, Fault::Status(500), 1);
    rig.xplan.inject(
        Route::CreateNote,
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        1,
    );
    // XPLAN creates the note but the answer is lost: the worker must find it, not repeat it.
    rig.xplan
        .inject(Route::CreateNote, Fault::AfterEffect(502), 1);
    // XPLAN takes longer than Hearth waits (5 s in tests), then creates the note anyway.
    rig.xplan
        .inject(Route::CreateNote, Fault::Latency(Duration::from_secs(6)), 1);
    let mut events = Vec::new();
    for score in [10, 20, 30] {
        events.push(survey(&app, &c, &path, &member, score).await);
    }
    recorded(&app, &events).await;
    let notes = rig.xplan.notes();
    assert_eq!(
        notes.len(),
        3,
        "{:?}",
        notes.iter().map(|n| &n.body["body"]).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_killed_after_xplan_answered_is_redelivered_without_a_second_note() {
    let rig = Rig::new().await;
    let mut app = rig.app().await;
    let (c, path, member) = linked_household(&app, &rig.xplan).await;
    rig.xplan.inject(
        Route::CreateNote,
        Fault::SlowAnswer(Duration::from_secs(3)),
        1,
    );
    let event = survey(&app, &c, &path, &member, 55).await;
    notes_when(&rig.xplan, 1).await;
    app.stop(); // the note exists in XPLAN; the worker dies before it learns the docid or acks
    let server = app.server.take().unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    let restarted = rig.app().await;
    recorded(&restarted, &[event]).await;
    assert_eq!(rig.xplan.notes().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_and_repeated_deliveries_create_no_duplicates() {
    let rig = Rig::new().await;
    let mut app = rig.app().await;
    let (c, path, member) = linked_household(&app, &rig.xplan).await;
    let events = vec![
        survey(&app, &c, &path, &member, 1).await,
        survey(&app, &c, &path, &member, 2).await,
    ];
    recorded(&app, &events).await;
    // Retrying a created note publishes it again; the worker sees it was done.
    let r = app
        .post(
            &format!("/v1/practices/{}/file-notes/{}/retry", c.p, events[0]),
            &c.owner_token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    // The relay forgets its checkpoint (as after a lost database restore): everything again.
    app.stop();
    let _ = tokio::time::timeout(Duration::from_secs(10), app.server.take().unwrap()).await;
    let store = EventStore::connect(&rig.db.url).await.unwrap();
    store
        .save_checkpoint(RELAY_NAME, Cursor::START)
        .await
        .unwrap();
    let restarted = rig.app().await;
    let third = survey(&restarted, &c, &path, &member, 3).await;
    let mut all = events.clone();
    all.push(third);
    recorded(&restarted, &all).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        rig.xplan.notes().len(),
        3,
        "one note per event after replays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_note_is_dead_lettered_visible_and_retried_once_fixed() {
    let rig = Rig::new().await;
    let app = rig.app().await;
    let (c, path, member) = linked_household(&app, &rig.xplan).await;
    rig.xplan.inject(Route::CreateNote, Fault::Status(400), 1);
    let event = survey(&app, &c, &path, &member, 40).await;
    let failed_path = format!("/v1/practices/{}/file-notes/failed", c.p);
    let mut failed = Value::Null;
    for _ in 0..100 {
        failed = app.get(&failed_path, &c.owner_token).await.body;
        if failed.as_array().is_some_and(|f| !f.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(failed[0]["source_event_id"], event, "{failed}");
    assert!(
        failed[0]["reason"].as_str().unwrap().contains("400"),
        "{failed}"
    );
    assert_eq!(
        rig.bus().dead_letter_count().await.unwrap(),
        1,
        "parked on the dead-letter queue"
    );
    assert!(rig.xplan.notes().is_empty());

    let r = app
        .post(
            &format!("/v1/practices/{}/file-notes/{event}/retry", c.p),
            &c.owner_token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    recorded(&app, &[event]).await;
    assert_eq!(rig.xplan.notes().len(), 1);
    // The read model follows the log; the failure clears once it has applied the note.
    let mut still = Value::Null;
    for _ in 0..50 {
        still = app.get(&failed_path, &c.owner_token).await.body;
        if still == json!([]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(still, json!([]), "no longer failed");
    let r = app
        .post(
            &format!("/v1/practices/{}/file-notes/{}/retry", c.p, Uuid::new_v4()),
            &c.owner_token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_survive_a_rabbitmq_restart_mid_stream() {
    let rig = Rig::new().await;
    let app = rig.app().await;
    let (c, path, member) = linked_household(&app, &rig.xplan).await;
    let mut events = Vec::new();
    for score in 0..3 {
        events.push(survey(&app, &c, &path, &member, score).await);
    }
    restart_rabbitmq();
    for score in 3..6 {
        events.push(survey(&app, &c, &path, &member, score).await);
    }
    recorded(&app, &events).await;
    assert_eq!(rig.xplan.notes().len(), 6);
}

/// Stops and starts the broker application (queues and persistent messages survive).
fn restart_rabbitmq() {
    for step in ["stop_app", "start_app"] {
        let out = std::process::Command::new("rabbitmqctl")
            .arg(step)
            .output()
            .expect("rabbitmqctl must be on the PATH to restart RabbitMQ");
        assert!(
            out.status.success(),
            "rabbitmqctl {step}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_broker_the_in_process_queue_creates_notes_and_unlinked_households_are_skipped() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let xplan = FakeXplan::start("127.0.0.1:0".parse().unwrap(), FakeSettings::default())
        .await
        .unwrap();
    let (c, path, member) = linked_household(&app, &xplan).await;
    let event = survey(&app, &c, &path, &member, 90).await;
    recorded(&app, &[event]).await;
    assert_eq!(xplan.notes().len(), 1);

    let adviser = app.token(c.p, c.adviser);
    let r = app
        .post(
            &format!("/v1/practices/{}/households", c.p),
            &adviser,
            json!({"client": {"first_name": "Not", "last_name": "Linked"}}),
        )
        .await;
    let h = r.body["id"].as_str().unwrap().to_string();
    let d = app
        .get(
            &format!("/v1/practices/{}/households/{h}", c.p),
            &c.owner_token,
        )
        .await;
    let m = d.body["members"][0]["member_id"]
        .as_str()
        .unwrap()
        .to_string();
    let skipped = survey(
        &app,
        &c,
        &format!("/v1/practices/{}/households/{h}", c.p),
        &m,
        50,
    )
    .await;
    let store = EventStore::connect(&app.database_url).await.unwrap();
    for _ in 0..100 {
        let done = store
            .read_stream(&format!("household-{h}"), 1)
            .await
            .unwrap()
            .into_iter()
            .any(|e| {
                e.event_type == "household.xplan_file_note_skipped"
                    && e.data["source_event_id"] == skipped.as_str()
                    && e.data["reason"].as_str().unwrap().contains("not linked")
            });
        if done {
            assert_eq!(xplan.notes().len(), 1, "no note for the unlinked household");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the unlinked household's survey was not recorded as skipped");
}
