//! Erasing a household (issue 15): afterwards no personal value is readable anywhere — API,
//! log rows, documents, snapshot — while who had access when, verification, and the XPLAN link
//! (so a sync never brings the client back) stay. On PostgreSQL and SQLite.

use std::time::Duration;

use hearth_eventstore::{Backend as Db, EventStore};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::{
    helpers::{problem_code, settings, spawn_app, spawn_with, Backend, TestApp},
    on_both_backends,
    xplan::{connected, fake, households, sync},
};

on_both_backends!(
    an_erased_household_keeps_its_access_history_and_nothing_personal,
    automatic_erasure_takes_only_archived_households_past_retention_where_chosen,
);

/// Every stored text of a table, as one string (to search for values that must not be there).
async fn table_text(app: &TestApp, sql: &str) -> String {
    let store = EventStore::connect(&app.database_url).await.unwrap();
    let rows: Vec<String> = match store.backend() {
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
    };
    rows.join("\n")
}

async fn count(app: &TestApp, sql: &str, subject: Uuid) -> i64 {
    let store = EventStore::connect(&app.database_url).await.unwrap();
    match store.backend() {
        Db::Postgres(pool) => sqlx::query_scalar(sql).bind(subject).fetch_one(pool).await,
        Db::Sqlite(pool) => sqlx::query_scalar(sql).bind(subject).fetch_one(pool).await,
    }
    .unwrap()
}

/// Waits for the in-process worker to record the household's file notes.
async fn file_notes_recorded(app: &TestApp, h: Uuid, want: usize) {
    let store = EventStore::connect(&app.database_url).await.unwrap();
    for _ in 0..300 {
        let events = store
            .read_stream(&format!("household-{h}"), 1)
            .await
            .unwrap();
        let notes = events
            .iter()
            .filter(|e| e.event_type == "household.xplan_file_note_created")
            .count();
        if notes >= want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the household's {want} file notes were not recorded");
}

fn assert_none_in(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(!text.contains(s.as_str()), "{what} still holds {s:?}");
    }
}

async fn an_erased_household_keeps_its_access_history_and_nothing_personal(backend: Backend) {
    let xplan = fake().await;
    xplan.seed(3, 2);
    let mut app = spawn_app(backend).await;
    let c = connected(&app, &xplan).await;
    let first_sync = sync(&app, &c).await;
    let (p, t) = (c.p, c.owner_token.clone());
    let all = households(&app, &c).await;
    assert!(!all.is_empty(), "the sync created households: {first_sync}");
    let h = crate::helpers::id(&all[0]["id"]);
    let hp = format!("/v1/practices/{p}/households/{h}");
    let details = app.get(&hp, &t).await;
    let member = details.body["members"][0]["member_id"]
        .as_str()
        .unwrap()
        .to_string();
    let fields = &details.body["members"][0]["fields"];
    let mut secrets: Vec<String> = ["email", "mobile", "address_line1"]
        .iter()
        .map(|f| {
            fields[f]
                .as_str()
                .unwrap_or_else(|| panic!("{f} in {fields}"))
                .to_string()
        })
        .collect();
    secrets.push(details.body["name"].as_str().unwrap().to_string());

    // Given: access granted and changed, surveys, a plan PDF and the file notes they made.
    let (other, _) = app.staff(p, &t, "professional", "Pat").await;
    let r = app
        .post(
            &format!("{hp}/grants"),
            &t,
            json!({"staff_id": other, "role": "professional", "reason": "covering leave"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .put(
            &format!("{hp}/grants/{other}"),
            &t,
            json!({"role": "paraplanner"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let goal = format!("Buy the Quokka cottage {}", Uuid::new_v4().simple());
    let answer = format!("Tolerates risk {}", Uuid::new_v4().simple());
    secrets.extend([goal.clone(), answer.clone()]);
    let r = app.post(&format!("{hp}/your-life-surveys"), &t, json!({"member_id": member, "your_life_score_pct": 61, "goals": [goal], "dimensions": [{"name": "Health", "pct": 80}]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app.post(&format!("{hp}/investment-preferences"), &t, json!({"member_id": member, "answers": [{"question": "Risk appetite?", "answer": answer}]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let plan = app
        .post(
            &format!("{hp}/best-life-plans"),
            &t,
            json!({"goals": ["Retire at 60"]}),
        )
        .await;
    assert_eq!(plan.status, StatusCode::CREATED, "{}", plan.text);
    let document = format!(
        "{hp}/documents/{}",
        plan.body["document"]["sha256"].as_str().unwrap()
    );
    let seen = format!("{hp}?at_least={}", plan.body["position"].as_str().unwrap());
    assert_eq!(app.get(&seen, &t).await.status, StatusCode::OK);
    assert_eq!(app.get(&document, &t).await.status, StatusCode::OK);
    file_notes_recorded(&app, h, 3).await;
    let history_before = app.get(&format!("{hp}/history"), &t).await.body["intervals"].clone();
    let events_before = table_text(&app, "SELECT CAST(data AS TEXT) FROM events").await;
    assert_none_in("the log (before erasure: sealed)", &events_before, &secrets);

    // When: erased — refused before retention without the override, then with it.
    let r = app
        .post(
            &format!("{hp}/erasure"),
            &t,
            json!({"reason": "client asked"}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::CONFLICT, "retention_not_passed"),
        "{}",
        r.text
    );
    let r = app
        .post(
            &format!("{hp}/erasure"),
            &t,
            json!({"reason": "   ", "override_retention": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .post(
            &format!("{hp}/erasure"),
            &t,
            json!({"reason": "client asked; court order", "override_retention": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let position = r.body["position"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("{hp}/erasure"),
            &t,
            json!({"reason": "again", "override_retention": true}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::CONFLICT, "household_erased"),
        "{}",
        r.text
    );

    // Then: nothing personal in any answer…
    let details = app.get(&format!("{hp}?at_least={position}"), &t).await;
    assert_eq!(details.body["name"], "[erased]", "{}", details.text);
    assert!(details.body["erased_at"].is_string(), "{}", details.text);
    assert_eq!(details.body["members"][0]["fields"], json!({}));
    for path in [
        hp.clone(),
        format!("{hp}/history"),
        format!("/v1/practices/{p}/staff/{}/households", c.adviser),
    ] {
        let r = app.get(&path, &t).await;
        assert_none_in(&path, &r.text, &secrets);
    }
    assert_eq!(app.get(&document, &t).await.status, StatusCode::NOT_FOUND);
    let r = app
        .post(
            &format!("{hp}/your-life-surveys"),
            &t,
            json!({"member_id": member, "your_life_score_pct": 5, "goals": [], "dimensions": []}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::CONFLICT, "household_erased")
    );
    // …while who had access when answers as before, and the log still verifies.
    let history_after = app.get(&format!("{hp}/history"), &t).await.body["intervals"].clone();
    assert_eq!(
        history_after, history_before,
        "the access history is unchanged"
    );
    let r = app.get(&format!("/v1/practices/{p}/log/verify"), &t).await;
    assert_eq!(r.body["intact"], json!(true), "{}", r.text);
    // Nothing readable in the database: the key is gone, the documents deleted.
    assert_none_in(
        "the log",
        &table_text(&app, "SELECT CAST(data AS TEXT) FROM events").await,
        &secrets,
    );
    let live = "SELECT COUNT(*) FROM subject_keys WHERE subject = $1 AND wrapped IS NOT NULL";
    assert_eq!(
        count(&app, live, h).await,
        0,
        "the household's key is destroyed"
    );
    let erased = "SELECT COUNT(*) FROM subject_keys WHERE subject = $1 AND erased_at IS NOT NULL";
    assert_eq!(count(&app, erased, h).await, 1);
    let docs = "SELECT COUNT(*) FROM sealed_blobs WHERE subject = $1";
    assert_eq!(count(&app, docs, h).await, 0, "its documents are deleted");
    // The practice's audit bundle holds nothing readable of it and still audits clean offline;
    // the metrics say nothing of it either.
    let signer = hearth_api::keys::log_signer(app.data_dir()).unwrap();
    let store = EventStore::connect(&app.database_url).await.unwrap();
    let request = hearth_eventstore::ExportRequest {
        practice: p,
        from: None,
        to: None,
        consistent_with: vec![],
    };
    let bundle = store
        .export_practice(&signer, &request, chrono::Utc::now())
        .await
        .unwrap();
    assert_none_in(
        "the audit bundle",
        &serde_json::to_string(&bundle).unwrap(),
        &secrets,
    );
    hearth_eventstore::audit::audit_bundle(&bundle, signer.public_key(), None)
        .expect("the bundle audits clean after the erasure");
    let metrics = app.call(reqwest::Method::GET, "/metrics", None, None).await;
    assert_none_in("the metrics", &metrics.text, &secrets);

    // The next sync does not bring the client back.
    let second_sync = sync(&app, &c).await;
    let skipped = second_sync["summary"]["skipped"].to_string();
    assert!(skipped.contains("erased"), "{second_sync}");
    assert_eq!(
        second_sync["summary"]["created"],
        json!(0),
        "{second_sync} after {first_sync}"
    );
    assert_eq!(
        households(&app, &c).await.len(),
        all.len(),
        "no household was added"
    );
    assert_none_in(
        "the households after a sync",
        &app.get(&hp, &t).await.text,
        &secrets,
    );
    // A restart (from the snapshot written at shutdown) shows the same, and the snapshot on disk
    // holds nothing personal of the erased household.
    let (url, dir) = (app.database_url.clone(), app.data_dir().to_path_buf());
    app.stop();
    if let Some(server) = app.server.take() {
        server.await.unwrap().unwrap();
    }
    let bytes = std::fs::read(dir.join("snapshots").join("access-model.snapshot"))
        .expect("the service writes a snapshot at shutdown");
    assert_none_in("the snapshot", &String::from_utf8_lossy(&bytes), &secrets);
    let again = spawn_with(settings(&url, &dir)).await;
    let details = again.get(&hp, &t).await;
    assert_eq!(details.body["name"], "[erased]", "{}", details.text);
    assert_eq!(
        again.get(&format!("{hp}/history"), &t).await.body["intervals"],
        history_before
    );
    // Unless the practice releases the client: then the next sync creates it afresh (a new
    // household, with a new key).
    let xplan_id = all[0]["members"][0]["xplan"]["xplan_id"]
        .as_str()
        .unwrap()
        .to_string();
    let release = format!("{}/xplan-clients/{xplan_id}/release", c.base);
    let other_id = all[1]["members"][0]["xplan"]["xplan_id"].as_str().unwrap();
    let r = again
        .post(
            &format!("{}/xplan-clients/{other_id}/release", c.base),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::CONFLICT, "client_not_erased"),
        "{}",
        r.text
    );
    let r = again
        .post(&release, &t, json!({"reason": "client returned"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let third_sync = sync(&again, &c).await;
    assert_eq!(third_sync["summary"]["created"], json!(1), "{third_sync}");
    assert_eq!(households(&again, &c).await.len(), all.len() + 1);
    assert_eq!(
        again.get(&hp, &t).await.body["name"],
        "[erased]",
        "the erased one stays erased"
    );
}

/// The hourly worker, driven with a chosen clock: in the practice that chose automatic erasure it
/// erases the archived household once its retention has passed (not before, and not the active
/// one), as the system with the reason recorded and the key destroyed; the practice that did not
/// choose it keeps its households.
async fn automatic_erasure_takes_only_archived_households_past_retention_where_chosen(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (auto, _, auto_token) = app.practice().await;
    let (manual, _, manual_token) = app.practice().await;
    let r = app
        .put(
            &format!("/v1/practices/{auto}/retention"),
            &auto_token,
            json!({"years_after_archive": 1, "auto_erase": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut archived = Vec::new();
    for (p, t) in [(auto, &auto_token), (manual, &manual_token)] {
        let (h, _) = app.household(p, t, "Quokka").await;
        let r = app
            .post(
                &format!("/v1/practices/{p}/households/{h}/archive"),
                t,
                json!({"reason": "client left"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        archived.push(h);
    }
    let (active, position) = app.household(auto, &auto_token, "Wombat").await;
    let seen = format!("/v1/practices/{auto}/households/{active}?at_least={position}");
    assert_eq!(app.get(&seen, &auto_token).await.status, StatusCode::OK);
    let now = chrono::Utc::now();

    assert_eq!(
        hearth_api::retention::erase_due(&app.state, now + chrono::Duration::days(300)).await,
        0,
        "nothing before the retention period has passed"
    );
    assert_eq!(
        hearth_api::retention::erase_due(&app.state, now + chrono::Duration::days(400)).await,
        1,
        "only the archived household of the practice that chose it"
    );

    let store = EventStore::connect(&app.database_url).await.unwrap();
    let stream = |h: Uuid| format!("household-{h}");
    let last = store.read_stream(&stream(archived[0]), 1).await.unwrap();
    let erasure = last.last().unwrap();
    assert_eq!(erasure.event_type, "household.erased");
    assert!(
        erasure
            .metadata
            .actor
            .contains(hearth_api::retention::ACTOR),
        "{}",
        erasure.metadata.actor
    );
    assert!(
        erasure
            .data
            .to_string()
            .contains(hearth_api::retention::REASON),
        "{}",
        erasure.data
    );
    let key_gone = "SELECT COUNT(*) FROM subject_keys WHERE subject = $1 AND wrapped IS NULL";
    assert_eq!(
        count(&app, key_gone, archived[0]).await,
        1,
        "its key destroyed"
    );
    for kept in [archived[1], active] {
        let events = store.read_stream(&stream(kept), 1).await.unwrap();
        assert!(
            events.iter().all(|e| e.event_type != "household.erased"),
            "{kept} kept"
        );
        assert_eq!(count(&app, key_gone, kept).await, 0, "{kept}'s key kept");
    }
    assert_eq!(
        hearth_api::retention::erase_due(&app.state, now + chrono::Duration::days(4000)).await,
        0,
        "an erased household is not erased again"
    );
}
