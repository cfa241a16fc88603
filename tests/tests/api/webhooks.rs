//! Webhooks of the change feed, against real HTTP receivers: every delivery arrives after the
//! receiver recovers, in order per household; dead letters and manual redelivery; signatures a
//! receiver verifies as the README says, rotation without a gap; internal URLs refused.

use std::collections::HashMap;

use hearth_integrations::webhooks::{verify, VerifyError, TOLERANCE_SECS};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{problem_code, settings, spawn_app, spawn_with, Backend, TestApp},
    receiver::{Answer, Delivery, Receiver},
};

fn body(d: &Delivery) -> Value {
    serde_json::from_slice(&d.body).expect("a delivery is JSON")
}

async fn register(app: &TestApp, p: Uuid, token: &str, url: &str, kinds: Value) -> (Uuid, String) {
    let r = app
        .post(
            &format!("/v1/practices/{p}/webhooks"),
            token,
            json!({"url": url, "kinds": kinds}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    (
        crate::helpers::id(&r.body["id"]),
        r.body["secret"].as_str().unwrap().to_string(),
    )
}

/// Grants (even rounds) and revokes (odd rounds) `para` on each household, for rounds
/// `rounds`; answers each household's command positions in the order issued.
async fn churn(
    app: &TestApp,
    p: Uuid,
    token: &str,
    households: &[Uuid],
    para: Uuid,
    rounds: std::ops::Range<usize>,
) -> HashMap<Uuid, Vec<String>> {
    let mut issued: HashMap<Uuid, Vec<String>> = HashMap::new();
    for round in rounds {
        for h in households {
            let hp = format!("/v1/practices/{p}/households/{h}/grants");
            let r = if round % 2 == 0 {
                app.post(&hp, token, json!({"staff_id": para, "role": "paraplanner"}))
                    .await
            } else {
                app.delete(&format!("{hp}/{para}"), token).await
            };
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            issued
                .entry(*h)
                .or_default()
                .push(r.body["position"].as_str().unwrap().to_string());
        }
    }
    issued
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_fails_for_a_while_gets_every_delivery_after_it_recovers_in_order() {
    let app = spawn_app(Backend::Postgres).await;
    // A second instance on the same database: one of the two delivers.
    let _other = crate::helpers::spawn_on(&app.database_url).await;
    let (p, _, owner) = app.practice().await;
    let (_, adviser) = app.staff(p, &owner, "professional", "ada").await;
    let (para, _) = app.staff(p, &owner, "professional", "pat").await;
    let mut households = Vec::new();
    for i in 0..4 {
        households.push(app.household(p, &adviser, &format!("Family{i}")).await.0);
    }
    // 500s, then two timeouts, then more 500s, then it recovers.
    let mut plan = vec![Answer::Error; 5];
    plan.extend([Answer::Hang, Answer::Hang]);
    plan.extend([Answer::Error; 3]);
    let receiver = Receiver::start(plan, Answer::Ok).await;
    let (hook, secret) = register(
        &app,
        p,
        &owner,
        &receiver.url(),
        json!(["granted", "revoked"]),
    )
    .await;

    let issued = churn(&app, p, &owner, &households, para, 0..10).await;
    let total: usize = issued.values().map(Vec::len).sum();
    receiver
        .wait_until("every change delivered", |got| got.len() >= total)
        .await;

    let accepted = receiver.accepted();
    assert_eq!(
        accepted.len(),
        total,
        "a change no command made was delivered"
    );
    let taken = receiver
        .deliveries()
        .iter()
        .filter(|d| d.answered == Answer::Ok)
        .count();
    assert_eq!(
        taken, total,
        "a change was accepted twice: both instances delivered"
    );
    let now = chrono::Utc::now().timestamp();
    for d in &accepted {
        assert_eq!(
            verify(secret.as_bytes(), &d.signature, &d.body, now),
            Ok(())
        );
        assert_eq!(
            body(d)["id"],
            json!(d.id),
            "the delivery id is the change id"
        );
    }
    for (h, positions) in &issued {
        let delivered: Vec<String> = accepted
            .iter()
            .map(body)
            .filter(|b| b["household_id"] == json!(h))
            .map(|b| b["position"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(&delivered, positions, "household {h} out of order");
    }
    // The practice sees the failures; nothing was given up.
    let r = app
        .get(&format!("/v1/practices/{p}/webhooks/{hook}"), &owner)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.body["failures_total"].as_u64().unwrap() >= 10,
        "{}",
        r.text
    );
    let errors: Vec<&str> = r.body["recent_failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["error"].as_str().unwrap())
        .collect();
    assert!(errors.iter().any(|e| e.contains("500")), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.contains("did not answer")),
        "{errors:?}"
    );
    assert_eq!(r.body["dead_letters"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lettered_change_is_listed_and_delivered_again_on_request() {
    let db = hearth_eventstore::testing::TestDatabase::create().await;
    let mut s = settings(
        &db.url,
        &std::env::temp_dir().join(format!("hearth-test-{}", Uuid::new_v4())),
    );
    s.webhook.webhook_max_attempts = 2;
    let app = spawn_with(s).await;
    let (p, _, owner) = app.practice().await;
    let (_, adviser) = app.staff(p, &owner, "professional", "ada").await;
    let (para, _) = app.staff(p, &owner, "professional", "pat").await;
    let (h, _) = app.household(p, &adviser, "Citizen").await;
    let receiver = Receiver::start(vec![], Answer::Error).await;
    let (hook, _) = register(&app, p, &owner, &receiver.url(), json!([])).await;
    let issued = churn(&app, p, &owner, &[h], para, 0..1).await;
    let change = format!("{}.0", issued[&h][0]);

    let path = format!("/v1/practices/{p}/webhooks/{hook}");
    let mut listed = Value::Null;
    for _ in 0..600 {
        let r = app.get(&path, &owner).await;
        if r.body["dead_letters"] == json!([change]) {
            listed = r.body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(listed["dead_letters"], json!([change]), "{listed}");
    assert!(listed["recent_failures"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["dead_lettered"] == json!(true) && f["change_id"] == json!(change)));

    // The console shows the same record, and its redelivery form needs the session's CSRF token.
    let console = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = console
        .post(app.url("/console/sign-in"))
        .form(&[("token", owner.as_str())])
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = console
        .get(app.url(&format!("/console/practices/{p}/webhooks")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(&receiver.url()), "{html}");
    assert!(
        html.contains(&format!("Deliver change {change} again")),
        "{html}"
    );
    assert!(html.contains("the receiver answered 500"), "{html}");
    let form = format!("/console/practices/{p}/webhooks/{hook}/redeliver");
    let r = console
        .post(app.url(&form))
        .header("cookie", &cookie)
        .form(&[("csrf", "forged"), ("change_id", change.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The receiver is fixed; a practice manager asks for the change again.
    receiver.answer_from_now(Answer::Ok);
    let r = app
        .post(
            &format!("{path}/redeliveries"),
            &owner,
            json!({"change_id": change}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    receiver
        .wait_until("the redelivery", |got| got.iter().any(|d| d.id == change))
        .await;
    let mut done = Value::Null;
    for _ in 0..600 {
        let r = app.get(&path, &owner).await;
        if r.body["dead_letters"] == json!([]) {
            done = r.body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(done["dead_letters"], json!([]), "{done}");
    assert_eq!(done["redeliveries"][0]["change_id"], json!(change));
    assert!(
        done["redeliveries"][0]["delivered_at"].is_string(),
        "{done}"
    );

    // A redelivery of a change that does not exist, and of another practice's endpoint.
    let r = app
        .post(
            &format!("{path}/redeliveries"),
            &owner,
            json!({"change_id": "999999.0"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let (_, _, other) = app.practice().await;
    let r = app.get(&path, &other).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_replayed_signatures_are_rejected_and_a_rotation_signs_with_both_secrets() {
    let app = spawn_app(Backend::Sqlite).await;
    let (p, _, owner) = app.practice().await;
    let (_, adviser) = app.staff(p, &owner, "professional", "ada").await;
    let (para, _) = app.staff(p, &owner, "professional", "pat").await;
    let (h, _) = app.household(p, &adviser, "Citizen").await;
    let receiver = Receiver::start(vec![], Answer::Ok).await;
    let (hook, old) = register(&app, p, &owner, &receiver.url(), json!(["granted"])).await;
    churn(&app, p, &owner, &[h], para, 0..1).await;
    receiver.wait_until("the grant", |got| got.len() == 1).await;
    let d = receiver.accepted().remove(0);
    let now = chrono::Utc::now().timestamp();
    assert_eq!(verify(old.as_bytes(), &d.signature, &d.body, now), Ok(()));
    // Forged: another secret, or a body changed on the way.
    assert_eq!(
        verify(b"whsec_guessed", &d.signature, &d.body, now),
        Err(VerifyError::Mismatch)
    );
    let mut tampered = d.body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(
        verify(old.as_bytes(), &d.signature, &tampered, now),
        Err(VerifyError::Mismatch)
    );
    // Replayed later than the tolerance: refused by the timestamp.
    assert_eq!(
        verify(
            old.as_bytes(),
            &d.signature,
            &d.body,
            now + TOLERANCE_SECS + 60
        ),
        Err(VerifyError::Stale)
    );

    // Rotation: during the overlap each delivery is signed with both secrets.
    let path = format!("/v1/practices/{p}/webhooks/{hook}");
    let r = app
        .post(
            &format!("{path}/secret"),
            &owner,
            json!({"overlap_secs": 3600}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let new = r.body["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    churn(&app, p, &owner, &[h], para, 1..3).await; // revoke, grant
    receiver
        .wait_until("the second grant", |got| got.len() == 2)
        .await;
    let d = receiver.accepted().remove(1);
    assert_eq!(d.signature.matches("v1=").count(), 2, "{}", d.signature);
    let now = chrono::Utc::now().timestamp();
    assert_eq!(verify(old.as_bytes(), &d.signature, &d.body, now), Ok(()));
    assert_eq!(verify(new.as_bytes(), &d.signature, &d.body, now), Ok(()));

    // With no overlap the previous secret stops signing at once.
    let r = app
        .post(
            &format!("{path}/secret"),
            &owner,
            json!({"overlap_secs": 0}),
        )
        .await;
    let newest = r.body["secret"].as_str().unwrap().to_string();
    churn(&app, p, &owner, &[h], para, 3..5).await; // revoke, grant
    receiver
        .wait_until("the third grant", |got| got.len() == 3)
        .await;
    let d = receiver.accepted().remove(2);
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        verify(newest.as_bytes(), &d.signature, &d.body, now),
        Ok(())
    );
    assert_eq!(
        verify(new.as_bytes(), &d.signature, &d.body, now),
        Err(VerifyError::Mismatch)
    );
    let r = app.get(&path, &owner).await;
    assert_eq!(r.body["secret_version"], json!(3), "{}", r.text);
    assert!(!r.text.contains(&newest), "a secret is shown only once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_urls_are_refused_at_registration() {
    let db = hearth_eventstore::testing::TestDatabase::create().await;
    let mut s = settings(
        &db.url,
        &std::env::temp_dir().join(format!("hearth-test-{}", Uuid::new_v4())),
    );
    s.webhook.webhook_allow_loopback = false; // production
    let app = spawn_with(s).await;
    let (p, _, owner) = app.practice().await;
    for url in [
        "https://10.0.0.7/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00:ec2::254]/",
        "https://localhost/hook",
        "http://127.0.0.1:9000/hook",
        "https://metadata.google.internal/",
        "http://hooks.example.com/hook",
    ] {
        let r = app
            .post(
                &format!("/v1/practices/{p}/webhooks"),
                &owner,
                json!({"url": url}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {}",
            r.text
        );
        assert_eq!(problem_code(&r), "webhook_url_refused", "{url}");
    }
    let r = app
        .post(
            &format!("/v1/practices/{p}/webhooks"),
            &owner,
            json!({"url": "https://hooks.example.com/hearth"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Registering needs "manage integrations".
    let (_, adviser) = app.staff(p, &owner, "professional", "ada").await;
    let r = app
        .post(
            &format!("/v1/practices/{p}/webhooks"),
            &adviser,
            json!({"url": "https://hooks.example.com/x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}
