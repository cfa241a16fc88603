//! The change feed: pages with a cursor, and the live stream that resumes across reconnects and
//! instances without gaps or duplicates. Only what the caller may see.

use std::{collections::HashMap, time::Duration};

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{problem_code, settings, spawn_app, spawn_on, spawn_with, Backend},
    on_both_backends,
    sse::SseReader,
};

on_both_backends!(
    the_feed_lists_each_access_change_with_before_after_actor_and_reason,
    staff_without_a_practice_wide_permission_see_only_their_own_changes,
);

/// Every page of the practice's feed from `after`, followed to the end.
async fn all_changes(
    app: &crate::helpers::TestApp,
    p: Uuid,
    token: &str,
    after: Option<&str>,
    at_least: &str,
) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next = after.map(String::from);
    loop {
        let q = next
            .as_deref()
            .map(|n| format!("&after={n}"))
            .unwrap_or_default();
        let r = app
            .get(
                &format!("/v1/practices/{p}/changes?limit=7&at_least={at_least}{q}"),
                token,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        out.extend(r.body["changes"].as_array().unwrap().iter().cloned());
        next = r.body["next"].as_str().map(String::from);
        if r.body["caught_up"] == json!(true) {
            return out;
        }
    }
}

async fn the_feed_lists_each_access_change_with_before_after_actor_and_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, owner, owner_token) = app.practice().await;
    let (adviser, adviser_token) = app.staff(p, &owner_token, "professional", "ada").await;
    let (para, _) = app.staff(p, &owner_token, "professional", "pat").await;
    let (h, created) = app.household(p, &adviser_token, "Citizen").await;
    let hp = format!("/v1/practices/{p}/households/{h}");
    let r = app
        .post(
            &format!("{hp}/grants"),
            &owner_token,
            json!({"staff_id": para, "role": "paraplanner", "reason": "plan review"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .put(
            &format!("{hp}/grants/{para}"),
            &owner_token,
            json!({"role": "read_only"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .delete(
            &format!("{hp}/grants/{para}?reason=left%20the%20team"),
            &owner_token,
        )
        .await;
    let revoked_at = r.body["position"].as_str().unwrap().to_string();

    // From the household's creation on: its primary and the owner gained access, then the grant,
    // the role change and the revocation — in log order, each once.
    let changes = all_changes(&app, p, &owner_token, None, &revoked_at).await;
    let about_h: Vec<&Value> = changes
        .iter()
        .filter(|c| c["household_id"] == json!(h))
        .collect();
    let kinds: Vec<(&str, Uuid)> = about_h
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap(),
                crate::helpers::id(&c["staff_id"]),
            )
        })
        .collect();
    assert!(kinds.contains(&("household_created", adviser)), "{kinds:?}");
    assert!(kinds.contains(&("household_created", owner)), "{kinds:?}");
    let para_kinds: Vec<&str> = kinds
        .iter()
        .filter(|(_, s)| *s == para)
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(para_kinds, ["granted", "role_changed", "revoked"]);
    let grant = about_h.iter().find(|c| c["kind"] == "granted").unwrap();
    assert_eq!(grant["before"], Value::Null);
    assert_eq!(grant["after"]["actions"], json!(["view", "edit", "export"]));
    assert_eq!(grant["after"]["path"]["path"], "direct");
    assert_eq!(grant["actor"], json!(owner.to_string()));
    assert_eq!(grant["reason"], "plan review");
    assert_eq!(grant["event_type"], "household.staff_access_granted");
    let revoke = about_h.iter().find(|c| c["kind"] == "revoked").unwrap();
    assert_eq!(revoke["before"]["actions"], json!(["view"]));
    assert_eq!(revoke["after"], Value::Null);
    assert_eq!(revoke["position"], json!(revoked_at));
    assert_eq!(revoke["reason"], "left the team");
    // Ids are unique and in log order.
    let ids: Vec<&str> = changes.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique);

    // `after` a command's position: only what came later.
    let later = all_changes(&app, p, &owner_token, Some(&created), &revoked_at).await;
    assert!(later.iter().all(|c| c["kind"] != "household_created"));
    assert_eq!(later.len(), 3);

    // Another practice sees none of it, and cannot name this practice.
    let (q, _, other_owner) = app.practice().await;
    let r = app
        .get(&format!("/v1/practices/{p}/changes"), &other_owner)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let theirs = all_changes(&app, q, &other_owner, None, &revoked_at).await;
    assert!(theirs.iter().all(|c| c["household_id"] != json!(h)));

    // A position the log does not hold, and a malformed cursor.
    let r = app
        .get(
            &format!("/v1/practices/{p}/changes?after=99999999"),
            &owner_token,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(problem_code(&r), "unknown_position");
    let r = app
        .get(
            &format!("/v1/practices/{p}/changes?after=x.1"),
            &owner_token,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
}

async fn staff_without_a_practice_wide_permission_see_only_their_own_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner_token) = app.practice().await;
    let (_, adviser_token) = app.staff(p, &owner_token, "professional", "ada").await;
    let (para, para_token) = app.staff(p, &owner_token, "professional", "pat").await;
    let (h, _) = app.household(p, &adviser_token, "Citizen").await;
    let (_, _) = app.household(p, &adviser_token, "Other").await;
    let r = app
        .post(
            &format!("/v1/practices/{p}/households/{h}/grants"),
            &owner_token,
            json!({"staff_id": para, "role": "read_only"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let granted = r.body["position"].as_str().unwrap().to_string();
    let mine = all_changes(&app, p, &para_token, None, &granted).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["staff_id"], json!(para));
    assert_eq!(mine[0]["household_id"], json!(h));
}

/// One command's expected change: (household, staff, granted?) at the position it answered.
struct Expected {
    household: Uuid,
    staff: Uuid,
    granted: bool,
    position: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_sees_1000_grants_and_revocations_on_two_instances_exactly_once_in_order() {
    const HOUSEHOLDS: usize = 8;
    const OPS_PER_HOUSEHOLD: usize = 125; // 1,000 in all
    let a = spawn_app(Backend::Postgres).await;
    let b = spawn_on(&a.database_url).await;
    let (p, _, owner_token) = a.practice().await;
    let (_, adviser_token) = a.staff(p, &owner_token, "professional", "ada").await;
    let (para, _) = a.staff(p, &owner_token, "professional", "pat").await;
    let mut households = Vec::new();
    let mut start = String::new();
    for i in 0..HOUSEHOLDS {
        let (h, position) = a.household(p, &adviser_token, &format!("Family{i}")).await;
        households.push(h);
        start = position;
    }

    // The watcher follows instance A from just after the set-up.
    let url_a = a.url(&format!("/v1/practices/{p}/changes?after={start}"));
    let mut reader = SseReader::open(&a.client, &url_a, &owner_token, None)
        .await
        .unwrap_or_else(|r| panic!("stream refused: {}", r.status()));

    // Writers: one per household (so each household's commands have a known order), every
    // other command through instance B, all households at once.
    let base_a = a.url("");
    let base_b = b.url("");
    let client = a.client.clone();
    let mut writers = Vec::new();
    for (i, h) in households.iter().copied().enumerate() {
        let (client, token) = (client.clone(), owner_token.clone());
        let (base_a, base_b) = (base_a.clone(), base_b.clone());
        writers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            for op in 0..OPS_PER_HOUSEHOLD {
                let base = if (op + i) % 2 == 0 { &base_a } else { &base_b };
                let hp = format!("{base}/v1/practices/{p}/households/{h}/grants");
                let granted = op % 2 == 0;
                let req = if granted {
                    client
                        .post(&hp)
                        .json(&json!({"staff_id": para, "role": "paraplanner"}))
                } else {
                    client.delete(format!("{hp}/{para}"))
                };
                let r = req.bearer_auth(&token).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                let body: Value = r.json().await.unwrap();
                done.push(Expected {
                    household: h,
                    staff: para,
                    granted,
                    position: body["position"].as_str().unwrap().to_string(),
                });
            }
            done
        }));
    }

    // Meanwhile: read a third of the expected changes from A, drop the connection, and resume
    // on B with Last-Event-ID.
    let total = HOUSEHOLDS * OPS_PER_HOUSEHOLD;
    let wait = Duration::from_secs(60);
    let mut seen = Vec::new();
    while seen.len() < total / 3 {
        let e = reader.next(wait).await.expect("a change arrives on A");
        assert_eq!(e.event, "access_change");
        seen.push(e);
    }
    drop(reader);
    let url_b = b.url(&format!("/v1/practices/{p}/changes"));
    let last = seen.last().unwrap().id.clone();
    let mut reader = SseReader::open(&b.client, &url_b, &owner_token, Some(&last))
        .await
        .unwrap_or_else(|r| panic!("stream refused: {}", r.status()));
    while seen.len() < total {
        let e = reader.next(wait).await.expect("a change arrives on B");
        seen.push(e);
    }

    let mut expected = Vec::new();
    for w in writers {
        expected.extend(w.await.unwrap());
    }
    // Nothing more than the 1,000 follows.
    assert!(reader.next(Duration::from_millis(1500)).await.is_none());

    // Exactly once: every id once, and one change per command at its position.
    let mut ids: Vec<&str> = seen.iter().map(|e| e.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "duplicates in the stream");
    let by_position: HashMap<&str, &Expected> =
        expected.iter().map(|e| (e.position.as_str(), e)).collect();
    assert_eq!(by_position.len(), total);
    for e in &seen {
        let position = e.data["position"].as_str().unwrap();
        let want = by_position
            .get(position)
            .unwrap_or_else(|| panic!("a change no command made: {}", e.data));
        assert_eq!(e.data["household_id"], json!(want.household));
        assert_eq!(e.data["staff_id"], json!(want.staff));
        assert_eq!(e.data["after"].is_null(), !want.granted, "{}", e.data);
    }
    // In order per household: the stream's order is each writer's order.
    for h in &households {
        let streamed: Vec<&str> = seen
            .iter()
            .filter(|e| e.data["household_id"] == json!(h))
            .map(|e| e.data["position"].as_str().unwrap())
            .collect();
        let issued: Vec<&str> = expected
            .iter()
            .filter(|e| e.household == *h)
            .map(|e| e.position.as_str())
            .collect();
        assert_eq!(streamed, issued, "household {h} out of order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_are_bounded_and_the_next_one_is_refused_with_retry_after() {
    let db = hearth_eventstore::testing::TestDatabase::create().await;
    let mut s = settings(
        &db.url,
        &std::env::temp_dir().join(format!("hearth-test-{}", Uuid::new_v4())),
    );
    s.watch.watch_max_streams = 1;
    let app = spawn_with(s).await;
    let (p, _, owner_token) = app.practice().await;
    let url = app.url(&format!("/v1/practices/{p}/changes"));
    let first = SseReader::open(&app.client, &url, &owner_token, None).await;
    assert!(first.is_ok());
    let refused = SseReader::open(&app.client, &url, &owner_token, None)
        .await
        .err()
        .expect("the second stream is refused");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "too_many_streams");
    // Closing one frees its place.
    drop(first);
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok(r) = SseReader::open(&app.client, &url, &owner_token, None).await {
            reopened = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "a closed stream's place was not freed");
}
