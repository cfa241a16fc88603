//! The verifiable log over HTTP: the public key, a practice's signed checkpoint, inclusion
//! proofs for its own events only, and whole-log proofs for the operator only.

use hearth_eventstore::{
    merkle::{leaf_hash, verify_inclusion},
    Checkpoint, Cursor, EventStore, InclusionProof, LogPublicKey,
};
use reqwest::StatusCode;

use crate::{
    helpers::{spawn_app, Backend},
    on_both_backends,
};

on_both_backends!(
    a_practice_proves_its_own_events_against_a_signed_checkpoint,
    a_verification_job_audits_the_practice_off_the_request_path_for_its_own_staff_only,
);

async fn a_verification_job_audits_the_practice_off_the_request_path_for_its_own_staff_only(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (p, owner_id, owner) = app.practice().await;
    let (_, _, other_owner) = app.practice().await;
    let r = app
        .post(
            &format!("/v1/practices/{p}/log/verifications"),
            &owner,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let status_url = r.body["status_url"].as_str().unwrap().to_string();
    // Another practice can neither start one nor read this one: it looks absent.
    for r in [
        app.post(
            &format!("/v1/practices/{p}/log/verifications"),
            &other_owner,
            serde_json::json!({}),
        )
        .await,
        app.get(&status_url, &other_owner).await,
    ] {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    }
    let mut done = None;
    for _ in 0..200 {
        let r = app.get(&status_url, &owner).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            r.body["requested_by"],
            serde_json::json!(owner_id.to_string())
        );
        if r.body["status"] == "finished" {
            done = Some(r.body);
            break;
        }
        assert_eq!(r.body["status"], "running", "{}", r.text);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let done = done.expect("the verification job finished within 10 s");
    assert_eq!(done["result"]["intact"], serde_json::json!(true), "{done}");
    assert!(
        done["result"]["events_checked"].as_u64().unwrap() >= 1,
        "{done}"
    );
    assert!(done["finished_at"].is_string());
    let unknown = format!(
        "/v1/practices/{p}/log/verifications/{}",
        uuid::Uuid::new_v4()
    );
    assert_eq!(
        app.get(&unknown, &owner).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn a_practice_proves_its_own_events_against_a_signed_checkpoint(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (q, _, other_owner) = app.practice().await;

    let r = app.get("/v1/log/public-key", &owner).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let key = LogPublicKey::from_base64(r.body["public_key"].as_str().unwrap()).unwrap();
    assert_eq!(r.body["key_id"].as_str(), Some(key.key_id().as_str()));

    let r = app
        .get(&format!("/v1/practices/{p}/log/checkpoint"), &owner)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let checkpoint: Checkpoint = serde_json::from_value(r.body.clone()).unwrap();
    assert!(checkpoint.verify(&key));
    let head = checkpoint.practice.as_ref().expect("a practice checkpoint");
    assert_eq!(head.practice_id, p);
    assert!(head.events >= 1);

    let store = EventStore::open_existing(&app.database_url).await.unwrap();
    let events = store.read_all(Cursor::START, 1000).await.unwrap();
    let ours = events
        .iter()
        .find(|e| e.metadata.practice_id == Some(p))
        .expect("the practice's creation is in the log");
    let path = format!(
        "/v1/practices/{p}/log/events/{}/proof?tree_size={}",
        ours.event_id, checkpoint.tree_size
    );
    let r = app.get(&path, &owner).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let proof: InclusionProof = serde_json::from_value(r.body.clone()).unwrap();
    assert_eq!(proof.event_hash, ours.hash);
    assert!(verify_inclusion(
        &leaf_hash(&proof.event_hash),
        proof.leaf_index,
        checkpoint.tree_size,
        &proof.path,
        &checkpoint.root
    ));

    // Another practice cannot ask about this event, even through its own path.
    let theirs = format!("/v1/practices/{q}/log/events/{}/proof", ours.event_id);
    assert_eq!(
        app.get(&theirs, &other_owner).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&path.replace(&p.to_string(), &q.to_string()), &owner)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Whole-log proofs are the operator's.
    let consistency = format!("/v1/log/consistency?from=1&to={}", checkpoint.tree_size);
    assert_eq!(
        app.get(&consistency, &owner).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app.get(&consistency, &app.operator()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // The practice's verify route audits its own history and reports no global figures.
    let r = app
        .get(&format!("/v1/practices/{p}/log/verify"), &owner)
        .await;
    assert_eq!(r.body["intact"], serde_json::json!(true), "{}", r.text);
    assert!(
        r.body["events_checked"].as_u64().unwrap() >= head.events,
        "{}",
        r.text
    );
    assert!(r.body.get("streams_checked").is_none());
}
