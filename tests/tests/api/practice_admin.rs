//! Practice details (PATCH, owner only) and moving an existing clinician to a branch over HTTP.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{id, problem_code, spawn_app, Backend},
    on_both_backends,
};

on_both_backends!(
    the_owner_renames_the_practice_and_others_may_not,
    a_clinician_moves_to_a_branch_and_the_staff_list_shows_it,
);

async fn the_owner_renames_the_practice_and_others_may_not(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (_, pm_token) = app.staff(p, &owner, "practice_manager", "pam").await;
    let r = app
        .patch(
            &format!("/v1/practices/{p}"),
            &pm_token,
            json!({"name": "Elsewhere"}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::FORBIDDEN, "owner_only")
    );
    let r = app
        .patch(
            &format!("/v1/practices/{p}"),
            &owner,
            json!({"name": "Hearth Wealth"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let pos = r.body["position"].as_str().unwrap().to_string();
    let r = app
        .get(&format!("/v1/practices/{p}?at_least={pos}"), &pm_token)
        .await;
    assert_eq!(r.body["name"], "Hearth Wealth", "{}", r.text);
    let r = app
        .patch(&format!("/v1/practices/{p}"), &owner, json!({"name": ""}))
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
    );
    let r = app
        .patch(
            &format!("/v1/practices/{p}"),
            &owner,
            json!({"colour": "red"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let (_, _, other) = app.practice().await;
    let r = app
        .patch(
            &format!("/v1/practices/{p}"),
            &other,
            json!({"name": "Mine now"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn a_clinician_moves_to_a_branch_and_the_staff_list_shows_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (clinician, clinician_token) = app.staff(p, &owner, "professional", "cleo").await;
    let (north, _) = app.branch(p, &owner, "North").await;
    let path = format!("/v1/practices/{p}/staff/{clinician}/branch");
    let r = app
        .put(&path, &clinician_token, json!({"branch_id": north}))
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::FORBIDDEN, "permission_required")
    );
    let r = app
        .put(
            &path,
            &owner,
            json!({"branch_id": north, "reason": "relocated"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.put(&path, &owner, json!({"branch_id": north})).await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::CONFLICT, "staff_already_in_branch")
    );
    let r = app
        .put(&path, &owner, json!({"branch_id": uuid::Uuid::new_v4()}))
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::NOT_FOUND, "branch_not_found")
    );
    let pos = {
        let r = app.put(&path, &owner, json!({"branch_id": null})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let r = app.put(&path, &owner, json!({"branch_id": north})).await;
        r.body["position"].as_str().unwrap().to_string()
    };
    let r = app
        .get(&format!("/v1/practices/{p}/staff?at_least={pos}"), &owner)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cleo = r.body["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| id(&s["staff_id"]) == clinician)
        .unwrap()
        .clone();
    assert_eq!(
        (id(&cleo["branch"]), cleo["branch_name"].as_str()),
        (north, Some("North"))
    );
}
