//! Findings of the outside attack run (issue 11), each driven over HTTP against the real service.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{id, problem_code, spawn_app, spawn_with, Backend, TestApp},
    on_both_backends,
};

on_both_backends!(
    a_deactivated_member_cannot_reactivate_and_their_token_stops_working,
    editing_a_member_applies_the_checks_creation_applies,
    free_text_is_bounded_printable_and_never_echoed_in_full,
    roster_csv_cells_cannot_be_formulas,
    destructive_commands_record_an_optional_reason_shown_in_history,
    forward_hosts_are_xplan_sites_never_internal_addresses,
);

/// A household's first member id.
async fn first_member(app: &TestApp, p: Uuid, h: Uuid, token: &str) -> Uuid {
    let r = app
        .get(&format!("/v1/practices/{p}/households/{h}"), token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    id(&r.body["members"][0]["member_id"])
}

async fn a_deactivated_member_cannot_reactivate_and_their_token_stops_working(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (ada, ada_token) = app.staff(p, &owner, "professional", "ada").await;
    let r = app
        .post(
            &format!("/v1/practices/{p}/staff/{ada}/deactivate"),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let r = app
        .post(
            &format!("/v1/practices/{p}/staff/{ada}/activate"),
            &ada_token,
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::FORBIDDEN, "not_active_staff"),
        "{}",
        r.text
    );
    let r = app
        .post(
            &format!("/v1/practices/{p}/households"),
            &ada_token,
            json!({"client": {"first_name": "Casey", "last_name": "Client"}}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::FORBIDDEN, "not_active_staff"),
        "writes refuse a deactivated member's token"
    );
    let r = app
        .get(&format!("/v1/practices/{p}/roster"), &ada_token)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    // Someone who manages staff brings her back.
    let r = app
        .post(
            &format!("/v1/practices/{p}/staff/{ada}/activate"),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn editing_a_member_applies_the_checks_creation_applies(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (h, _) = app.household(p, &owner, "Citizen").await;
    let m = first_member(&app, p, h, &owner).await;
    let path = format!("/v1/practices/{p}/households/{h}/members/{m}");
    for (fields, why) in [
        (json!({"first_name": ""}), "an empty required name"),
        (json!({"last_name": null}), "a cleared required name"),
        (json!({"date_of_birth": "1990-02-31"}), "an impossible date"),
        (json!({"suburb": "x".repeat(5_000)}), "an over-long field"),
        (json!({"first_name": "Ja\u{0}ne"}), "a NUL character"),
    ] {
        let r = app.patch(&path, &owner, json!({ "fields": fields })).await;
        assert_eq!(
            (r.status, problem_code(&r)),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            "{why}: {}",
            r.text
        );
        assert!(r.text.len() < 1_000, "{why}: {} bytes echoed", r.text.len());
    }
    let r = app
        .patch(
            &path,
            &owner,
            json!({"fields": {"date_of_birth": "1990-02-28", "first_name": "Jane"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn free_text_is_bounded_printable_and_never_echoed_in_full(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let staff = format!("/v1/practices/{p}/staff");
    let long_email = format!("{}@", "a".repeat(40_000));
    let r = app
        .post(
            &staff,
            &owner,
            json!({"name": "Ada", "email": long_email, "role": "professional"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        &r.text[..200.min(r.text.len())]
    );
    assert!(r.text.len() < 1_000, "{} bytes echoed", r.text.len());
    let r = app
        .post(
            &staff,
            &owner,
            json!({"name": "Ada\u{0}", "email": "ada@example.com", "role": "professional"}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
    );

    let (h, _) = app.household(p, &owner, "Citizen").await;
    let (ada, _) = app.staff(p, &owner, "professional", "ada").await;
    let r = app
        .post(
            &format!("/v1/practices/{p}/households/{h}/grants"),
            &owner,
            json!({"staff_id": ada, "role": "read_only", "reason": "r".repeat(1_001)}),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
        "a reason over 1,000 characters"
    );
}

async fn roster_csv_cells_cannot_be_formulas(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let r = app
        .post(
            &format!("/v1/practices/{p}/households"),
            &owner,
            json!({"client": {"first_name": "=HYPERLINK(\"http://evil.example\")", "last_name": "Citizen"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let at_least = r.body["position"].as_str().unwrap().to_string();
    let r = app
        .get(
            &format!("/v1/practices/{p}/roster.csv?at_least={at_least}"),
            &owner,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.text.contains("'=HYPERLINK("),
        "the formula is defused: {}",
        r.text
    );
    assert!(
        !r.text
            .lines()
            .any(|l| l.split(',').any(|c| c.starts_with('='))),
        "{}",
        r.text
    );
}

async fn destructive_commands_record_an_optional_reason_shown_in_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (h, _) = app.household(p, &owner, "Citizen").await;
    let (ada, _) = app.staff(p, &owner, "professional", "ada").await;
    let base = format!("/v1/practices/{p}/households/{h}");
    let r = app
        .post(
            &format!("{base}/grants"),
            &owner,
            json!({"staff_id": ada, "role": "paraplanner"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let (bea, _) = app.staff(p, &owner, "professional", "bea").await;
    let r = app
        .put(
            &format!("{base}/secondary"),
            &owner,
            json!({"staff_id": bea}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .call(
            Method::DELETE,
            &format!("{base}/secondary"),
            Some(&owner),
            Some(json!({"reason": "covering ended"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let r = app
        .call(
            Method::DELETE,
            &format!("{base}/grants/{ada}?reason=left%20the%20team"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .call(
            Method::POST,
            &format!("{base}/archive"),
            Some(&owner),
            Some(json!({"reason": "client moved away"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            &format!("{base}/restore"),
            &owner,
            json!({"reason": "client came back"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .put(
            &format!("{base}/status"),
            &owner,
            json!({"status": "inactive", "reason": "paused advice"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let position = r.body["position"].as_str().unwrap().to_string();

    let r = app
        .call(
            Method::DELETE,
            &format!("{base}/grants/{ada}?reason=a"),
            Some(&owner),
            Some(json!({"reason": "b"})),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::BAD_REQUEST, "reason_given_twice")
    );

    let r = app
        .get(&format!("{base}/history?at_least={position}"), &owner)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let revoked = r.body["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["staff_id"] == ada.to_string())
        .expect("ada's interval");
    assert_eq!(revoked["end_reason"], "left the team", "{revoked}");
    let secondary = r.body["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["staff_id"] == bea.to_string())
        .expect("bea's interval");
    assert_eq!(secondary["end_reason"], "covering ended", "{secondary}");
    let reason_of = |event_type: &str| -> Value {
        r.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event_type"] == event_type)
            .map(|e| e["reason"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(reason_of("household.archived"), "client moved away");
    assert_eq!(reason_of("household.restored"), "client came back");
    assert_eq!(reason_of("household.status_changed"), "paused advice");
}

async fn forward_hosts_are_xplan_sites_never_internal_addresses(backend: Backend) {
    // Production scheme: nothing internal, not even loopback.
    let db_app = spawn_app(backend).await;
    let mut settings = crate::helpers::settings(
        &db_app.database_url,
        &std::env::temp_dir().join(format!("hearth-test-{}", Uuid::new_v4())),
    );
    settings.xplan.xplan_scheme = "https".into();
    let app = spawn_with(settings).await;
    let (p, _, owner) = app.practice().await;
    let list = format!("/v1/practices/{p}/integrations");
    for host in [
        "169.254.169.254",
        "localhost",
        "127.0.0.1:8080",
        "10.0.0.1",
        "metadata.google.internal",
        "[::1]",
        "xplan.com.au.evil.example",
    ] {
        let r = app
            .post(
                &list,
                &owner,
                json!({"name": "XPLAN", "forward_host": host}),
            )
            .await;
        assert_eq!(
            (r.status, problem_code(&r)),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            "{host}: {}",
            r.text
        );
    }
    let r = app
        .post(
            &list,
            &owner,
            json!({"name": "XPLAN", "forward_host": "harbour.xplan.iress.com.au"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // The development scheme reaches loopback (the fake XPLAN), and still nothing else internal.
    let (p, _, owner) = db_app.practice().await;
    let list = format!("/v1/practices/{p}/integrations");
    let r = db_app
        .post(
            &list,
            &owner,
            json!({"name": "XPLAN", "forward_host": "127.0.0.1:9"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = db_app
        .post(
            &list,
            &owner,
            json!({"name": "XPLAN", "forward_host": "169.254.169.254"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
}
