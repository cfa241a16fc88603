//! Bad input gets a clear problem+json answer, never a 500.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{
    helpers::{problem_code, spawn_app, Backend},
    on_both_backends,
};

on_both_backends!(
    bad_input_gets_a_problem_with_a_stable_code,
    rule_violations_are_conflicts_with_their_rule_named
);

async fn bad_input_gets_a_problem_with_a_stable_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let staff_path = format!("/v1/practices/{p}/staff");

    let raw = |body: &'static str| {
        app.client
            .post(app.url(&staff_path))
            .bearer_auth(&owner)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = raw("{not json").await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        json!("malformed_json")
    );

    let r = app
        .post(
            &staff_path,
            &owner,
            json!({"name": "x", "email": "x@example.com", "role": "professional", "surprise": 1}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
    );
    assert!(r.body["detail"].as_str().unwrap().contains("surprise"));

    let r = app
        .post(
            &staff_path,
            &owner,
            json!({"name": "x", "email": "x@example.com", "role": "wizard"}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
    );

    let r = app
        .post(
            &format!("/v1/practices/{p}/licences"),
            &owner,
            json!({"count": "three"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let r = app
        .post(
            &staff_path,
            &owner,
            json!({"name": "x", "email": "not-an-email", "role": "professional"}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
    );

    let r = app
        .client
        .post(app.url(&staff_path))
        .bearer_auth(&owner)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let r = app
        .get(&format!("/v1/practices/{p}/households/not-a-uuid"), &owner)
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::BAD_REQUEST, "invalid_path")
    );

    let unknown = uuid::Uuid::new_v4();
    let r = app
        .get(&format!("/v1/practices/{p}/households/{unknown}"), &owner)
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let r = app
        .put(
            &format!("/v1/practices/{p}/staff/{unknown}/role"),
            &owner,
            json!({"role": "manager"}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::NOT_FOUND, "staff_not_found")
    );

    // Only the documented shape: digits as a command wrote them, no sign, padding or spaces.
    for bad in [
        "abc",
        "",
        "+10",
        "%2010",
        "010",
        "-1",
        "1234567890123456789",
    ] {
        let r = app
            .get(&format!("/v1/practices/{p}/roster?at_least={bad}"), &owner)
            .await;
        assert_eq!(
            (r.status, problem_code(&r)),
            (StatusCode::BAD_REQUEST, "invalid_position"),
            "at_least={bad}"
        );
    }
    let r = app
        .get(
            &format!("/v1/practices/{p}/roster?at_least=99999999"),
            &owner,
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::CONFLICT, "unknown_position")
    );
    let r = app
        .get(&format!("/v1/practices/{p}/roster?colour=blue"), &owner)
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );

    let huge = "x".repeat(128 * 1024);
    let r = app
        .post(
            &staff_path,
            &owner,
            json!({"name": huge, "email": "x@example.com", "role": "professional"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);

    let r = app
        .call(Method::GET, "/v1/nothing-here", Some(&owner), None)
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::NOT_FOUND, "no_such_route")
    );
}

async fn rule_violations_are_conflicts_with_their_rule_named(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (adviser, adviser_token) = app.staff(p, &owner, "professional", "adviser").await;
    app.household(p, &adviser_token, "Led").await;
    let r = app
        .post(
            &format!("/v1/practices/{p}/staff/{adviser}/deactivate"),
            &owner,
            json!({"reason": "leaving"}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::CONFLICT, "still_leads_households")
    );
    assert!(r.body["detail"].as_str().unwrap().contains("reassign"));
    let r = app
        .put(
            &format!("/v1/practices/{p}/staff/{adviser}/permissions/view_billing"),
            &owner,
            json!({"granted": true}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::CONFLICT, "billing_is_owners_alone")
    );
    let r = app
        .put(
            &format!("/v1/practices/{p}/staff/{adviser}/permissions/fly_planes"),
            &owner,
            json!({"granted": true}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::BAD_REQUEST, "invalid_path"),
        "an unknown permission names the problem"
    );
    assert!(
        r.text.contains("manage_household_access"),
        "the error lists the permissions: {}",
        r.text
    );
    let r = app
        .post(
            &format!("/v1/practices/{p}/licences"),
            &adviser_token,
            json!({"count": 1}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::FORBIDDEN, "owner_only")
    );
}
