//! Every request is authorised against the read model; practices never see each other.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{
    helpers::{problem_code, spawn_app, Backend},
    on_both_backends,
};

on_both_backends!(
    requests_without_a_valid_token_are_refused,
    another_practice_gets_not_found_on_every_route_family,
    staff_without_access_neither_see_nor_change_a_household,
    only_holders_of_manage_household_access_change_access,
    roster_export_needs_the_export_roster_permission,
);

async fn requests_without_a_valid_token_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, _) = app.practice().await;
    let r = app
        .call(
            Method::GET,
            &format!("/v1/practices/{p}/roster"),
            None,
            None,
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let r = app
        .get(&format!("/v1/practices/{p}/roster"), "not-a-jwt")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let forged = hearth_api::auth::JwtKeys::from_secret("HS256", &[1u8; 40])
        .unwrap()
        .mint(
            hearth_api::auth::Caller::Operator,
            chrono::Utc::now(),
            chrono::Duration::hours(1),
        )
        .unwrap();
    let r = app
        .post(
            "/v1/practices",
            &forged,
            json!({"name": "x", "owner": {"name": "o", "email": "o@example.com"}, "licences": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn another_practice_gets_not_found_on_every_route_family(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (adviser, adviser_token) = app.staff(p, &owner, "professional", "adviser").await;
    let (h, _) = app.household(p, &adviser_token, "Mine").await;
    let (_q, _, intruder) = app.practice().await; // the owner of another practice
    let hp = format!("/v1/practices/{p}/households/{h}");
    let requests: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (
            Method::POST,
            format!("/v1/practices/{p}/staff"),
            Some(json!({"name": "x", "email": "x@example.com", "role": "professional"})),
        ),
        (
            Method::POST,
            format!("/v1/practices/{p}/staff/{adviser}/deactivate"),
            None,
        ),
        (
            Method::PUT,
            format!("/v1/practices/{p}/staff/{adviser}/role"),
            Some(json!({"role": "manager"})),
        ),
        (
            Method::POST,
            format!("/v1/practices/{p}/licences"),
            Some(json!({"count": 1})),
        ),
        (
            Method::POST,
            format!("/v1/practices/{p}/branches"),
            Some(json!({"name": "B"})),
        ),
        (
            Method::POST,
            format!("/v1/practices/{p}/households"),
            Some(json!({"client": {"first_name": "a", "last_name": "b"}})),
        ),
        (Method::GET, hp.clone(), None),
        (
            Method::PUT,
            format!("{hp}/primary"),
            Some(json!({"staff_id": adviser})),
        ),
        (
            Method::POST,
            format!("{hp}/grants"),
            Some(json!({"staff_id": adviser, "role": "read_only"})),
        ),
        (Method::POST, format!("{hp}/archive"), None),
        (Method::GET, format!("{hp}/access/{adviser}"), None),
        (Method::GET, format!("{hp}/staff"), None),
        (Method::GET, format!("{hp}/history"), None),
        (
            Method::GET,
            format!("/v1/practices/{p}/staff/{adviser}/households"),
            None,
        ),
        (Method::GET, format!("/v1/practices/{p}/roster"), None),
        (Method::GET, format!("/v1/practices/{p}/roster.csv"), None),
        (Method::GET, format!("/v1/practices/{p}/log/verify"), None),
    ];
    for (method, path, body) in requests {
        let r = app.call(method.clone(), &path, Some(&intruder), body).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            r.text
        );
        assert_eq!(problem_code(&r), "not_found");
    }
}

async fn staff_without_access_neither_see_nor_change_a_household(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (_, adviser_token) = app.staff(p, &owner, "professional", "adviser").await;
    let (outsider, outsider_token) = app.staff(p, &owner, "professional", "outsider").await;
    let (h, _) = app.household(p, &adviser_token, "Private").await;
    let hp = format!("/v1/practices/{p}/households/{h}");
    assert_eq!(
        app.get(&hp, &outsider_token).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("{hp}/staff"), &outsider_token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // They may still ask about themselves.
    let mine = app
        .get(&format!("{hp}/access/{outsider}"), &outsider_token)
        .await;
    assert_eq!(
        (mine.status, mine.body["allowed"].clone()),
        (StatusCode::OK, json!(false))
    );
    let r = app
        .post(
            &format!("{hp}/grants"),
            &outsider_token,
            json!({"staff_id": outsider, "role": "professional"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

async fn only_holders_of_manage_household_access_change_access(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (adviser, adviser_token) = app.staff(p, &owner, "professional", "adviser").await;
    let (para, _) = app.staff(p, &owner, "professional", "para").await;
    let (h, _) = app.household(p, &adviser_token, "Team").await;
    let grant = json!({"staff_id": para, "role": "paraplanner"});
    let r = app
        .post(
            &format!("/v1/practices/{p}/households/{h}/grants"),
            &adviser_token,
            grant.clone(),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::FORBIDDEN, "access_denied")
    );
    // The owner delegates it; now the adviser may.
    let r = app
        .put(
            &format!("/v1/practices/{p}/staff/{adviser}/permissions/manage_household_access"),
            &owner,
            json!({"granted": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let position = r.body["position"].as_str().unwrap();
    let _ = app
        .get(
            &format!("/v1/practices/{p}/households/{h}?at_least={position}"),
            &owner,
        )
        .await;
    let r = app
        .post(
            &format!("/v1/practices/{p}/households/{h}/grants"),
            &adviser_token,
            grant,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The last primary can never be removed.
    let r = app
        .delete(
            &format!("/v1/practices/{p}/households/{h}/grants/{adviser}"),
            &owner,
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::CONFLICT, "cannot_remove_primary")
    );
}

async fn roster_export_needs_the_export_roster_permission(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (_, adviser_token) = app.staff(p, &owner, "professional", "adviser").await;
    let (_, position) = app.household(p, &adviser_token, "Roster").await;
    let r = app
        .get(&format!("/v1/practices/{p}/roster.csv"), &adviser_token)
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::FORBIDDEN, "permission_required")
    );
    let r = app
        .get(
            &format!("/v1/practices/{p}/roster.csv?at_least={position}"),
            &owner,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("text/csv"));
    let mut lines = r.text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("household_id,name,status,archived"));
    let row = lines.next().unwrap();
    assert!(
        row.contains("Casey Roster") && row.contains("adviser"),
        "{row}"
    );
}
