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

on_both_backends!(a_practice_proves_its_own_events_against_a_signed_checkpoint);

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
