//! Household search, the staff list, practice details and the access report over HTTP.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{id, problem_code, spawn_app, Backend},
    on_both_backends,
};

on_both_backends!(
    the_new_routes_are_documented_in_the_openapi_spec,
    search_finds_by_name_email_and_filters_and_lists_only_what_the_caller_may_see,
    search_pages_by_cursor_in_name_order_and_refuses_a_page_size_outside_its_range,
    the_staff_list_and_practice_details_answer_members_only_and_licences_only_to_the_owner,
    the_access_report_lists_holdings_overlapping_the_period_as_json_csv_and_pdf,
);

async fn search_finds_by_name_email_and_filters_and_lists_only_what_the_caller_may_see(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (adele, adele_token) = app.staff(p, &owner, "professional", "adele").await;
    let (_bob, bob_token) = app.staff(p, &owner, "professional", "bob").await;
    let (citizen, _) = app.household(p, &adele_token, "Citizen").await;
    let (_, pos) = app.household(p, &bob_token, "Bobsfamily").await;
    let (app, pos) = (&app, pos.as_str());
    let list = |token: String, query: String| async move {
        let r = app
            .get(
                &format!("/v1/practices/{p}/households?at_least={pos}{query}"),
                &token,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["households"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(owner.clone(), String::new()).await,
        ["Casey Bobsfamily", "Casey Citizen"]
    );
    assert_eq!(
        list(owner.clone(), "&q=CITI".into()).await,
        ["Casey Citizen"]
    );
    assert_eq!(
        list(owner.clone(), "&q=citizen@clients".into()).await,
        ["Casey Citizen"]
    );
    assert_eq!(
        list(owner.clone(), format!("&primary_id={adele}")).await,
        ["Casey Citizen"]
    );
    assert!(list(owner.clone(), "&status=former".into())
        .await
        .is_empty());
    // A professional sees only the households they hold: the other is neither listed nor counted.
    assert_eq!(
        list(adele_token.clone(), String::new()).await,
        ["Casey Citizen"]
    );
    assert!(list(adele_token.clone(), "&q=bobsfamily".into())
        .await
        .is_empty());
    // Archived households are left out unless asked for.
    let r = app
        .post(
            &format!("/v1/practices/{p}/households/{citizen}/archive"),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let pos = r.body["position"].as_str().unwrap();
    let r = app
        .get(
            &format!("/v1/practices/{p}/households?at_least={pos}"),
            &owner,
        )
        .await;
    assert_eq!(
        r.body["households"].as_array().unwrap().len(),
        1,
        "{}",
        r.text
    );
    let r = app
        .get(
            &format!("/v1/practices/{p}/households?archived=true"),
            &owner,
        )
        .await;
    assert_eq!(
        r.body["households"].as_array().unwrap().len(),
        2,
        "{}",
        r.text
    );
    // Another practice: not found, like every route family.
    let (_, _, other) = app.practice().await;
    let r = app
        .get(&format!("/v1/practices/{p}/households"), &other)
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let r = app
        .get(
            &format!("/v1/practices/{p}/households?status=sleeping"),
            &owner,
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );
}

async fn the_new_routes_are_documented_in_the_openapi_spec(backend: Backend) {
    let app = spawn_app(backend).await;
    let spec = app
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    for (path, method) in [
        ("/v1/practices/{practice_id}/households", "get"),
        ("/v1/practices/{practice_id}/staff", "get"),
        ("/v1/practices/{practice_id}", "get"),
        ("/v1/practices/{practice_id}", "patch"),
        ("/v1/practices/{practice_id}/staff/{staff_id}/branch", "put"),
        ("/v1/practices/{practice_id}/reports/access", "get"),
        ("/v1/practices/{practice_id}/reports/access.csv", "get"),
        ("/v1/practices/{practice_id}/reports/access.pdf", "get"),
    ] {
        assert!(
            spec.body["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    let limit = &spec.body["paths"]["/v1/practices/{practice_id}/households"]["get"]["parameters"];
    assert!(
        limit.to_string().contains(r#""maximum":100"#),
        "the page size limit is documented: {limit}"
    );
}

async fn search_pages_by_cursor_in_name_order_and_refuses_a_page_size_outside_its_range(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let mut last = String::new();
    for name in ["Delta", "alpha", "Charlie", "bravo", "Echo"] {
        last = app.household(p, &owner, name).await.1;
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .get(
                &format!("/v1/practices/{p}/households?limit=2&at_least={last}{cursor}"),
                &owner,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let page: Vec<String> = r.body["households"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap().to_string())
            .collect();
        assert!(page.len() <= 2);
        seen.extend(page);
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "Casey alpha",
            "Casey bravo",
            "Casey Charlie",
            "Casey Delta",
            "Casey Echo"
        ]
    );
    let r = app
        .get(&format!("/v1/practices/{p}/households?limit=100"), &owner)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["households"].as_array().unwrap().len(), 5);
    assert!(r.body["next_cursor"].is_null());
    // Outside the documented range is refused, not silently clamped.
    for bad in ["0", "101", "100000", "32589158477190044730"] {
        let r = app
            .get(&format!("/v1/practices/{p}/households?limit={bad}"), &owner)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "limit={bad}");
    }
}

async fn the_staff_list_and_practice_details_answer_members_only_and_licences_only_to_the_owner(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (p, owner_id, owner) = app.practice().await;
    let (pm, pm_token) = app.staff(p, &owner, "practice_manager", "pam").await;
    let (_, branch_created) = app.branch(p, &owner, "North").await;
    let r = app
        .get(&format!("/v1/practices/{p}/staff"), &pm_token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let staff = r.body["staff"].as_array().unwrap();
    assert_eq!(staff.len(), 2);
    let pam = staff.iter().find(|s| id(&s["staff_id"]) == pm).unwrap();
    assert_eq!(
        (pam["role"].as_str(), pam["status"].as_str()),
        (Some("practice_manager"), Some("active"))
    );
    let perms: Vec<&str> = pam["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        perms.contains(&"manage_household_access") && !perms.contains(&"view_billing"),
        "{perms:?}"
    );

    let r = app
        .get(
            &format!("/v1/practices/{p}?at_least={branch_created}"),
            &owner,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["name"], "Hearth Advice");
    assert_eq!(id(&r.body["owner_id"]), owner_id);
    assert_eq!(r.body["branches"][0]["name"], "North");
    assert_eq!(r.body["licences"], json!({"held": 20, "used": 2}));
    let r = app.get(&format!("/v1/practices/{p}"), &pm_token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.get("licences").is_none(),
        "billing is the owner's: {}",
        r.text
    );

    let (_, _, other) = app.practice().await;
    for path in [
        format!("/v1/practices/{p}"),
        format!("/v1/practices/{p}/staff"),
    ] {
        let r = app.get(&path, &other).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
}

async fn the_access_report_lists_holdings_overlapping_the_period_as_json_csv_and_pdf(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (p, _, owner) = app.practice().await;
    let (adele, adele_token) = app.staff(p, &owner, "professional", "adele").await;
    let (parker, parker_token) = app.staff(p, &owner, "professional", "parker").await;
    let before = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (h, _) = app.household(p, &adele_token, "Citizen").await;
    let hp = format!("/v1/practices/{p}/households/{h}");
    let r = app
        .post(
            &format!("{hp}/grants"),
            &owner,
            json!({"staff_id": parker, "role": "paraplanner", "reason": "plan review"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .call(
            reqwest::Method::DELETE,
            &format!("{hp}/grants/{parker}"),
            Some(&owner),
            Some(json!({"reason": "review done"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let revoked = r.body["position"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let after = chrono::Utc::now();
    let q = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
        format!(
            "from={}&to={}",
            from.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
            to.format("%Y-%m-%dT%H:%M:%S%.6fZ")
        )
    };
    let r = app
        .get(
            &format!(
                "/v1/practices/{p}/reports/access?{}&at_least={revoked}",
                q(before, after)
            ),
            &owner,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = r.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{}", r.text);
    let parker_row = rows.iter().find(|x| id(&x["staff_id"]) == parker).unwrap();
    assert!(
        !parker_row["to"].is_null()
            && parker_row["reason"] == "plan review"
            && parker_row["end_reason"] == "review done",
        "{parker_row}"
    );
    assert!(rows
        .iter()
        .any(|x| id(&x["staff_id"]) == adele && x["to"].is_null()));
    // A period before the household existed has no holdings.
    let r = app
        .get(
            &format!(
                "/v1/practices/{p}/reports/access?{}",
                q(
                    before - chrono::Duration::days(2),
                    before - chrono::Duration::days(1)
                )
            ),
            &owner,
        )
        .await;
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 0, "{}", r.text);
    let r = app
        .get(
            &format!("/v1/practices/{p}/reports/access.csv?{}", q(before, after)),
            &owner,
        )
        .await;
    assert!(
        r.content_type.starts_with("text/csv") && r.text.lines().count() == 3,
        "{}",
        r.text
    );
    let r = app
        .get(
            &format!("/v1/practices/{p}/reports/access.pdf?{}", q(before, after)),
            &owner,
        )
        .await;
    assert_eq!(r.content_type, "application/pdf");
    assert!(r.text.starts_with("%PDF"));
    // The end before the start is a 400; staff without "export roster" are refused.
    let r = app
        .get(
            &format!("/v1/practices/{p}/reports/access?{}", q(after, before)),
            &owner,
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::BAD_REQUEST, "invalid_period")
    );
    let r = app
        .get(
            &format!("/v1/practices/{p}/reports/access?{}", q(before, after)),
            &parker_token,
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::FORBIDDEN, "permission_required")
    );
}
