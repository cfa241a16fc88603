//! The Lumiant help article "Manage household access", steps 2–11, through the console in
//! Chromium; then an auditor's as-of question, the report downloads, the log's integrity, a
//! refusal, another practice's page refused, and sign-out.

use std::time::Duration;

use chrono::{Timelike, Utc};
use reqwest::StatusCode;

use crate::{
    browser,
    helpers::{spawn_app, Backend, TestApp},
};

pub(crate) async fn sign_in(b: &browser::Browser, app: &TestApp, token: &str) {
    b.goto(&app.url("/console")).await;
    assert!(b
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/console/sign-in"));
    b.fill("#token", token).await;
    b.click("form[action='/console/sign-in'] button").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_practice_manager_walks_the_help_article_and_an_auditor_asks_who_had_access_when() {
    let app = spawn_app(Backend::Postgres).await;
    let (p, _owner, owner_token) = app.practice().await;
    let (_pm, pm_token) = app.staff(p, &owner_token, "practice_manager", "Pam").await;
    let (adele, adele_token) = app.staff(p, &owner_token, "professional", "Adele").await;
    let (parker, _) = app.staff(p, &owner_token, "professional", "Parker").await;
    let (sam, _) = app.staff(p, &owner_token, "professional", "Sam").await;
    let (nina, _) = app.staff(p, &owner_token, "professional", "Nina").await;
    let (h, _) = app.household(p, &adele_token, "Citizen").await;
    app.household(p, &adele_token, "Otherfamily").await;
    let b = browser::start().await;
    let base = format!("/console/practices/{p}/households/{h}");

    // 1. The practice manager goes to the console.
    sign_in(&b, &app, &pm_token).await;
    assert!(b
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with(&format!("/console/practices/{p}/households")));

    // 2. Search for your client …
    b.fill("#q", "citizen").await;
    b.click("form[role=search] button").await;
    let results = b.text("#results").await;
    assert!(
        results.contains("Citizen") && !results.contains("Otherfamily"),
        "{results}"
    );
    b.screenshot("search").await;
    // 3. … and manage household access.
    b.click(&format!("a[href='{base}#team']")).await;

    // 4. Team: who has access — the creating professional is primary.
    assert!(b
        .text(&format!("#team-{adele}"))
        .await
        .contains("Primary professional"));

    // 5–9. Staff access: choose the staff member, their role, save.
    b.select("#grant-staff", &parker.to_string()).await;
    b.select("#grant-role", "paraplanner").await;
    b.fill("#grant-reason", "plan review").await;
    b.click("#grant-save").await;
    assert!(b.text("p.notice").await.contains("Access added"));
    assert!(b
        .text(&format!("#team-{parker}"))
        .await
        .contains("Paraplanner"));
    // The picker takes whole seconds: an instant a second after the grant, a second before the change.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let while_paraplanner = Utc::now().with_nanosecond(0).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // A role is changed in place (no delete and re-add).
    b.select(&format!("#role-{parker}"), "read_only").await;
    b.click(&format!("#team-{parker} form[action$='/role'] button"))
        .await;
    assert!(b
        .text(&format!("#team-{parker}"))
        .await
        .contains("Read only"));

    // The secondary professional.
    b.select("#secondary-staff", &sam.to_string()).await;
    b.click("#secondary-save").await;
    assert!(b
        .text(&format!("#team-{sam}"))
        .await
        .contains("Secondary professional"));

    // 10. There must always be a primary: deleting the only one is refused, in words.
    b.fill(&format!("#reason-{adele}"), "leaving").await;
    b.click(&format!("#team-{adele} button.danger")).await;
    let refusal = b.text("div.refusal").await;
    assert!(
        refusal.contains("always needs a primary professional"),
        "{refusal}"
    );
    assert!(b
        .text(&format!("#team-{adele}"))
        .await
        .contains("Primary professional"));
    b.screenshot("refusal").await;

    // Set the new primary (Adele keeps professional access), then 11. delete Adele's access.
    b.select("#primary-staff", &nina.to_string()).await;
    b.select("#previous-keeps", "professional").await;
    b.click("#primary-save").await;
    assert!(b
        .text(&format!("#team-{nina}"))
        .await
        .contains("Primary professional"));
    assert!(b
        .text(&format!("#team-{adele}"))
        .await
        .contains("Professional"));
    b.fill(&format!("#reason-{adele}"), "adviser left the practice")
        .await;
    b.click(&format!("#team-{adele} button.danger")).await;
    assert!(b.text("p.notice").await.contains("Access removed"));
    let team = b.text("#team").await;
    assert!(!team.contains("Adele"), "{team}");
    b.screenshot("household").await;

    // An auditor: who had access while Parker was paraplanner, and why?
    b.goto(&app.url(&format!("{base}/access"))).await;
    b.set_value(
        "#at",
        &while_paraplanner.format("%Y-%m-%dT%H:%M:%S").to_string(),
    )
    .await;
    b.click("#as-of").await;
    let parker_then = b.text(&format!("#who-{parker}")).await;
    assert!(parker_then.contains("Paraplanner"), "{parker_then}");
    assert!(b
        .text(&format!("#who-{adele}"))
        .await
        .contains("Primary professional"));
    assert!(
        b.client
            .find(fantoccini::Locator::Css(&format!("#who-{nina}")))
            .await
            .is_err(),
        "Nina had no access then"
    );
    let history = b.text("#history").await;
    assert!(
        history.contains("adviser left the practice") && history.contains("plan review"),
        "{history}"
    );
    b.screenshot("timeline").await;

    // The report, and its downloads with the same session.
    b.click("header a[href$='/report']").await;
    assert!(b.text("#report").await.contains("Citizen"));
    b.screenshot("report").await;
    let cookie = format!(
        "{}={}",
        hearth_api::console::COOKIE,
        b.session_cookie().await
    );
    for (link, starts) in [("#csv", "household_id,"), ("#pdf", "%PDF")] {
        let href = b
            .client
            .find(fantoccini::Locator::Css(link))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let r = app
            .client
            .get(app.url(&href))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(starts.as_bytes()), "{link}");
        if link == "#csv" {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                text.contains("Citizen") && text.contains("adviser left the practice"),
                "{text}"
            );
        }
    }

    // The log's integrity, the staff list and the practice.
    b.click("header a[href$='/integrity']").await;
    assert!(b.text("#intact").await.contains("intact"));
    b.screenshot("integrity").await;
    // The owner's pages: move an existing clinician to another branch.
    let (north, branch_created) = app.branch(p, &owner_token, "North").await;
    b.goto(&app.url(&format!(
        "/console/practices/{p}/staff?at_least={branch_created}"
    )))
    .await;
    assert!(b.text("#staff").await.contains("Practice manager"));
    b.select(&format!("#branch-{parker}"), &north.to_string())
        .await;
    b.click(&format!("#staff-{parker} button")).await;
    assert!(b.text("p.notice").await.contains("Branch changed"));
    let staff = app
        .get(&format!("/v1/practices/{p}/staff"), &pm_token)
        .await;
    assert!(staff.body["staff"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["staff_id"] == parker.to_string() && s["branch_name"] == "North"));
    b.screenshot("staff").await;
    b.goto(&app.url(&format!("/console/practices/{p}/staff/{parker}")))
        .await;
    assert!(b.text("#households").await.contains("Citizen"));

    // Another practice's household: the same 404 as the API, to the browser and to a client.
    let (q, _, q_owner) = app.practice().await;
    let (qh, _) = app.household(q, &q_owner, "Foreign").await;
    b.goto(&app.url(&format!("/console/practices/{q}/households/{qh}")))
        .await;
    assert_eq!(b.text("h1").await, "Not found");
    let page = app
        .client
        .get(app.url(&format!("/console/practices/{q}/households/{qh}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let api = app
        .get(&format!("/v1/practices/{q}/households/{qh}"), &pm_token)
        .await;
    assert_eq!(
        (page.status(), api.status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    let own_id_elsewhere = app
        .client
        .get(app.url(&format!("/console/practices/{p}/households/{qh}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(own_id_elsewhere.status(), StatusCode::NOT_FOUND);

    // Sign-out clears the session: the console asks to sign in again.
    b.goto(&app.url(&format!("/console/practices/{p}/households")))
        .await;
    b.click("header form button").await;
    b.goto(&app.url(&format!("/console/practices/{p}/households")))
        .await;
    assert!(b
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/console/sign-in"));
    assert!(b
        .client
        .get_named_cookie(hearth_api::console::COOKIE)
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_professional_without_the_permission_sees_the_team_but_is_refused_changes() {
    let app = spawn_app(Backend::Sqlite).await;
    let (p, _owner, owner_token) = app.practice().await;
    let (_adele, adele_token) = app.staff(p, &owner_token, "professional", "Adele").await;
    let (parker, _) = app.staff(p, &owner_token, "professional", "Parker").await;
    let (h, _) = app.household(p, &adele_token, "Citizen").await;
    let b = browser::start().await;
    sign_in(&b, &app, &adele_token).await;
    b.goto(&app.url(&format!("/console/practices/{p}/households/{h}")))
        .await;
    let body = b.body().await;
    assert!(
        body.contains("Team") && body.contains("manage household access"),
        "{body}"
    );
    assert!(
        b.client
            .find(fantoccini::Locator::Css("#grant-save"))
            .await
            .is_err(),
        "no form to change access"
    );
    // Posting the form anyway is refused by the same authorisation as the API.
    let cookie = format!(
        "{}={}",
        hearth_api::console::COOKIE,
        b.session_cookie().await
    );
    let csrf = hearth_api::console::csrf_for(&adele_token);
    let r = app
        .client
        .post(app.url(&format!("/console/practices/{p}/households/{h}/grants")))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&staff_id={parker}&role=paraplanner"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("You do not have permission"));
    let team = app
        .get(&format!("/v1/practices/{p}/households/{h}"), &adele_token)
        .await;
    assert!(
        team.body["grants"].as_object().is_none_or(|g| g.is_empty()),
        "{}",
        team.text
    );
}
