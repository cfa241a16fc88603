//! Temporary grants over HTTP: the check denies from the expiry instant, and Hearth's expiry
//! worker records `household.grant_expired`, which the history and as-of answers show.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{problem_code, spawn_app, Backend},
    on_both_backends,
};

on_both_backends!(a_temporary_grant_ends_by_itself_and_the_history_says_so);

async fn a_temporary_grant_ends_by_itself_and_the_history_says_so(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (_adele, adele_token) = app.staff(p, &owner, "professional", "adele").await;
    let (cover, cover_token) = app.staff(p, &owner, "professional", "cover").await;
    let (h, _) = app.household(p, &adele_token, "Citizen").await;
    let hp = format!("/v1/practices/{p}/households/{h}");

    let r = app
        .post(&format!("{hp}/grants"), &owner, json!({"staff_id": cover, "role": "professional", "expires_at": Utc::now() - chrono::Duration::seconds(1)}))
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
    );

    let expires_at = Utc::now() + chrono::Duration::milliseconds(1500);
    let r = app
        .post(&format!("{hp}/grants"), &owner, json!({"staff_id": cover, "role": "professional", "expires_at": expires_at, "reason": "covering leave"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let pos = r.body["position"].as_str().unwrap().to_string();
    let r = app
        .get(&format!("{hp}/access/{cover}?at_least={pos}"), &cover_token)
        .await;
    assert_eq!(r.body["allowed"], true, "{}", r.text);
    let just_after = expires_at + chrono::Duration::milliseconds(1);
    let r = app
        .get(
            &format!(
                "{hp}/access/{cover}?at={}",
                just_after.format("%Y-%m-%dT%H:%M:%S%.6fZ")
            ),
            &owner,
        )
        .await;
    assert_eq!(
        r.body["allowed"], false,
        "denied from the expiry instant: {}",
        r.text
    );

    // The worker records the end within a few of its one-second ticks.
    let mut recorded = None;
    for _ in 0..100 {
        let r = app.get(&format!("{hp}/history"), &owner).await;
        if let Some(e) = r.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event_type"] == "household.grant_expired")
        {
            recorded = Some((e.clone(), r.body.clone()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (event, history) = recorded.expect("the expiry worker recorded household.grant_expired");
    assert_eq!(event["actor"], "system:grant-expiry");
    let interval = history["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["staff_id"] == cover.to_string())
        .unwrap();
    assert_eq!(interval["closed_by_event"], "household.grant_expired");
    assert_eq!(interval["reason"], "covering leave");
    let to: chrono::DateTime<Utc> = interval["to"].as_str().unwrap().parse().unwrap();
    assert_eq!(to, expires_at, "the interval ends at the expiry");
    let r = app.get(&format!("{hp}/access/{cover}"), &owner).await;
    assert_eq!(r.body["allowed"], false);
    let r = app.get(&hp, &cover_token).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "the cover no longer sees the household"
    );
}
