//! The console's HTTP contracts, without a browser: the session cookie's attributes, CSRF on
//! every change, and sign-in refusals.

use reqwest::StatusCode;

use crate::helpers::{spawn_app, Backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sets_a_strict_http_only_cookie_and_forms_without_the_sessions_csrf_token_are_refused(
) {
    let app = spawn_app(Backend::Sqlite).await;
    let (p, _owner, owner_token) = app.practice().await;
    let (pm, pm_token) = app.staff(p, &owner_token, "practice_manager", "Pam").await;
    let (h, _) = app.household(p, &owner_token, "Citizen").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let r = client
        .post(app.url("/console/sign-in"))
        .form(&[("token", pm_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let r = client
        .post(app.url("/console/sign-in"))
        .header("x-forwarded-proto", "https")
        .form(&[("token", pm_token.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Secure"));
    let session = cookie.split(';').next().unwrap().to_string();

    let grant = |csrf: &str| {
        client
            .post(app.url(&format!("/console/practices/{p}/households/{h}/grants")))
            .header("cookie", &session)
            .form(&[
                ("csrf", csrf),
                ("staff_id", &pm.to_string()),
                ("role", "read_only"),
            ])
            .send()
    };
    let forged = grant("0000").await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let stolen_from_another_session = grant(&hearth_api::console::csrf_for(&owner_token))
        .await
        .unwrap();
    assert_eq!(stolen_from_another_session.status(), StatusCode::FORBIDDEN);
    let unchanged = app
        .get(&format!("/v1/practices/{p}/households/{h}"), &pm_token)
        .await;
    assert!(
        unchanged.body["grants"]
            .as_object()
            .is_none_or(|g| g.is_empty()),
        "{}",
        unchanged.text
    );

    let genuine = grant(&hearth_api::console::csrf_for(&pm_token))
        .await
        .unwrap();
    assert_eq!(genuine.status(), StatusCode::SEE_OTHER);
    // The console redirects to the household with the command's position, to read it back.
    let location = genuine.headers()["location"].to_str().unwrap().to_string();
    let position = location
        .split(['?', '&', '#'])
        .find_map(|kv| kv.strip_prefix("at_least="))
        .unwrap_or_else(|| panic!("no position in {location}"));
    let changed = app
        .get(
            &format!("/v1/practices/{p}/households/{h}?at_least={position}"),
            &pm_token,
        )
        .await;
    assert_eq!(
        changed.body["grants"][pm.to_string()],
        "read_only",
        "{}",
        changed.text
    );

    let out = client
        .post(app.url("/console/sign-out"))
        .header("cookie", &session)
        .form(&[("csrf", "0000")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.status(),
        StatusCode::FORBIDDEN,
        "sign-out is a change too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_operator_or_cross_site_sign_in_sets_no_session_and_pages_without_one_send_to_sign_in(
) {
    let app = spawn_app(Backend::Sqlite).await;
    let (p, _, owner_token) = app.practice().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (_, pm_token) = app.staff(p, &owner_token, "practice_manager", "Pam").await;
    let cross_site = client
        .post(app.url("/console/sign-in"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("token", pm_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert!(cross_site.headers().get("set-cookie").is_none());
    let bad = client
        .post(app.url("/console/sign-in"))
        .form(&[("token", "not-a-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(bad.headers().get("set-cookie").is_none());
    let operator = client
        .post(app.url("/console/sign-in"))
        .form(&[("token", app.operator().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(operator.status(), StatusCode::FORBIDDEN);
    let page = client
        .get(app.url(&format!("/console/practices/{p}/households")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/console/sign-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_added_until_a_time_is_a_temporary_grant_that_the_check_ends_then() {
    let app = spawn_app(Backend::Sqlite).await;
    let (p, _owner, owner_token) = app.practice().await;
    let (_, pm_token) = app.staff(p, &owner_token, "practice_manager", "Pam").await;
    let (cover, _) = app.staff(p, &owner_token, "professional", "Cody").await;
    let (h, _) = app.household(p, &owner_token, "Citizen").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let until = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let r = client
        .post(app.url(&format!("/console/practices/{p}/households/{h}/grants")))
        .header(
            "cookie",
            format!("{}={pm_token}", hearth_api::console::COOKIE),
        )
        .form(&[
            ("csrf", hearth_api::console::csrf_for(&pm_token).as_str()),
            ("staff_id", &cover.to_string()),
            ("role", "professional"),
            ("until", &until),
            ("reason", "covering leave"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let page = r.headers()["location"].to_str().unwrap().to_string();
    let shown = client
        .get(app.url(&page))
        .header(
            "cookie",
            format!("{}={pm_token}", hearth_api::console::COOKIE),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        shown.contains(&format!("until {} UTC", until.replace('T', " "))),
        "{shown}"
    );
    let position = page
        .split(['?', '&', '#'])
        .find_map(|kv| kv.strip_prefix("at_least="))
        .unwrap_or_else(|| panic!("no position in {page}"));
    let path = format!("/v1/practices/{p}/households/{h}/access/{cover}");
    let now = app
        .get(&format!("{path}?at_least={position}"), &pm_token)
        .await;
    assert_eq!(now.body["allowed"], true, "{}", now.text);
    let later = app.get(&format!("{path}?at={until}Z"), &pm_token).await;
    assert_eq!(
        later.body["allowed"], false,
        "ends at the chosen time: {}",
        later.text
    );
}
