//! The Lumiant household-access flow from an empty practice to an as-of audit answer.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{id, spawn_app, Backend},
    on_both_backends,
};

on_both_backends!(the_full_household_access_flow_and_its_past);

async fn pause() -> chrono::DateTime<Utc> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    let t = Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    t
}

async fn the_full_household_access_flow_and_its_past(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _owner, owner_token) = app.practice().await;
    let (pm, pm_token) = app.staff(p, &owner_token, "practice_manager", "pm").await;
    let (adviser, adviser_token) = app.staff(p, &owner_token, "professional", "adviser").await;
    let (para, para_token) = app.staff(p, &owner_token, "professional", "para").await;
    let (successor, _) = app
        .staff(p, &owner_token, "professional", "successor")
        .await;
    let (h, _) = app.household(p, &adviser_token, "Citizen").await;
    let hp = format!("/v1/practices/{p}/households/{h}");

    let before_grant = pause().await;
    let r = app
        .post(
            &format!("{hp}/grants"),
            &pm_token,
            json!({"staff_id": para, "role": "paraplanner", "reason": "plan review"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let granted = pause().await;
    let r = app
        .put(
            &format!("{hp}/grants/{para}"),
            &pm_token,
            json!({"role": "read_only"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let read_only = pause().await;
    let r = app
        .put(
            &format!("{hp}/primary"),
            &pm_token,
            json!({"staff_id": successor, "previous_keeps": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let reassigned = pause().await;
    let r = app.delete(&format!("{hp}/grants/{para}"), &pm_token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let position = r.body["position"].as_str().unwrap().to_string();

    // Now: the paraplanner sees nothing; the household is not even visible to them.
    let now = app
        .get(
            &format!("{hp}/access/{para}?at_least={position}"),
            &pm_token,
        )
        .await;
    assert_eq!(now.body["allowed"], json!(false), "{}", now.text);
    assert_eq!(
        app.get(&hp, &para_token).await.status,
        StatusCode::NOT_FOUND
    );

    // The past, exactly.
    let at = |t: chrono::DateTime<Utc>, who: uuid::Uuid, action: &str| {
        format!(
            "{hp}/access/{who}?action={action}&at={}",
            urlencode(&t.to_rfc3339())
        )
    };
    assert_eq!(
        app.get(&at(before_grant, para, "view"), &pm_token)
            .await
            .body["allowed"],
        json!(false)
    );
    let export = app.get(&at(granted, para, "export"), &pm_token).await;
    assert_eq!(export.body["allowed"], json!(true), "{}", export.text);
    assert_eq!(
        export.body["path"],
        json!({"path": "direct", "holding": {"role": "paraplanner"}})
    );
    assert_eq!(
        app.get(&at(read_only, para, "export"), &pm_token)
            .await
            .body["allowed"],
        json!(false)
    );
    assert_eq!(
        app.get(&at(read_only, para, "view"), &pm_token).await.body["allowed"],
        json!(true)
    );
    assert_eq!(
        app.get(&at(read_only, adviser, "edit"), &pm_token)
            .await
            .body["path"]["holding"],
        json!("primary")
    );
    assert_eq!(
        app.get(&at(reassigned, adviser, "view"), &pm_token)
            .await
            .body["allowed"],
        json!(false)
    );

    // Lists as of an instant.
    let staff = app
        .get(
            &format!("{hp}/staff?at={}", urlencode(&granted.to_rfc3339())),
            &pm_token,
        )
        .await;
    let names: Vec<&str> = staff.body["staff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Olive Owner", "adviser", "para", "pm"]);
    let theirs = app
        .get(
            &format!(
                "/v1/practices/{p}/staff/{para}/households?at={}",
                urlencode(&granted.to_rfc3339())
            ),
            &pm_token,
        )
        .await;
    assert_eq!(
        theirs.body["households"].as_array().unwrap().len(),
        1,
        "{}",
        theirs.text
    );

    // History: intervals with who granted and revoked, and why.
    let history = app.get(&format!("{hp}/history"), &pm_token).await;
    let intervals = history.body["intervals"].as_array().unwrap();
    let para_first = intervals
        .iter()
        .find(|i| i["staff_id"] == json!(para))
        .unwrap();
    assert_eq!(para_first["granted_by"], json!(pm.to_string()));
    assert_eq!(para_first["reason"], json!("plan review"));
    assert!(
        para_first["to"].is_string(),
        "the paraplanner interval was closed by the role change"
    );
    let para_last = intervals
        .iter()
        .rev()
        .find(|i| i["staff_id"] == json!(para))
        .unwrap();
    assert_eq!(para_last["revoked_by"], json!(pm.to_string()));
    assert_eq!(
        id(&app.get(&hp, &pm_token).await.body["primary"]),
        successor
    );
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
