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
    let changed = app
        .get(&format!("/v1/practices/{p}/households/{h}"), &pm_token)
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
async fn a_bad_or_operator_token_does_not_sign_in_and_pages_without_a_session_send_to_sign_in() {
    let app = spawn_app(Backend::Sqlite).await;
    let (p, _, _) = app.practice().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
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
