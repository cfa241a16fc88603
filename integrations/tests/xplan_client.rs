//! The XPLAN HTTP client against the fake XPLAN over real HTTP: OAuth, paging, resilience.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use hearth_domain::IntegrationId;
use hearth_integrations::{
    fake::{FakeClient, FakeSettings, FakeXplan, Fault, Route},
    xplan::{
        MemoryVault, NoRecorder, RetryPolicy, Secret, TokenVault, XplanClient, XplanConfig,
        XplanError, XplanSession,
    },
};
use serde_json::json;

async fn fake() -> FakeXplan {
    FakeXplan::start("127.0.0.1:0".parse().unwrap(), FakeSettings::default())
        .await
        .unwrap()
}

fn client(timeout: Duration) -> XplanClient {
    XplanClient::new(XplanConfig {
        scheme: "http".into(),
        app_id: "hearth-app".into(),
        client_id: "hearth".into(),
        client_secret: Secret::new("hearth-secret"),
        redirect_uri: "http://127.0.0.1:1/callback".into(),
        timeout,
        retry: RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        },
        site_suffixes: vec![],
    })
    .unwrap()
}

/// A connected session: consent on the fake, code exchanged, tokens in a vault.
async fn session(
    xplan: &FakeXplan,
    http: &XplanClient,
) -> (XplanSession, Arc<MemoryVault>, IntegrationId) {
    let code = xplan.consent("state");
    let tokens = http
        .exchange_code(&xplan.host(), &code, Utc::now())
        .await
        .unwrap();
    let vault = Arc::new(MemoryVault::default());
    let id = IntegrationId::new();
    vault.replace(id, None, &tokens).await.unwrap();
    (
        http.session(&xplan.host(), id, vault.clone(), Arc::new(NoRecorder)),
        vault,
        id,
    )
}

#[tokio::test]
async fn a_code_is_exchanged_once_and_refresh_tokens_rotate() {
    let xplan = fake().await;
    let http = client(Duration::from_secs(5));
    let code = xplan.consent("s");
    let first = http
        .exchange_code(&xplan.host(), &code, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        http.exchange_code(&xplan.host(), &code, Utc::now()).await,
        Err(XplanError::ConsentExpired),
        "a code works once"
    );
    let second = http
        .refresh(&xplan.host(), &first.refresh_token, Utc::now())
        .await
        .unwrap();
    assert_ne!(
        second.refresh_token, first.refresh_token,
        "the refresh token rotates"
    );
    assert_eq!(
        http.refresh(&xplan.host(), &first.refresh_token, Utc::now())
            .await,
        Err(XplanError::ConsentExpired),
        "the old one is retired"
    );
    let url = http.authorisation_url(&xplan.host(), "a b&c");
    assert!(
        url.contains("state=a+b%26c")
            && url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcallback"),
        "{url}"
    );
}

#[tokio::test]
async fn pages_through_every_client_with_bookmarks_passed_back_unencoded() {
    let xplan = fake().await;
    xplan.seed(25, 0);
    let http = client(Duration::from_secs(5));
    let (s, _, _) = session(&xplan, &http).await;
    let (mut seen, mut bookmark, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let page = s.clients_page(10, bookmark.as_deref()).await.unwrap();
        let Some(last) = page.last() else { break };
        bookmark = Some(last["bookmark"].as_str().unwrap().to_string());
        seen.extend(page.iter().map(|c| c["id"].as_u64().unwrap()));
        assert!(
            page.iter().all(|c| c.get("first_name").is_some()),
            "requested fields come back"
        );
        pages += 1;
    }
    assert_eq!((seen, pages), (xplan.client_ids(), 3));
}

#[tokio::test]
async fn retries_5xx_and_timeouts_honours_retry_after_and_gives_up_with_a_clear_error() {
    let xplan = fake().await;
    xplan.seed(1, 1);
    let http = client(Duration::from_millis(300));
    let (s, _, _) = session(&xplan, &http).await;
    let id = xplan.client_ids()[0].to_string();

    xplan.inject(Route::ClientList, Fault::Status(500), 1);
    xplan.inject(Route::ClientList, Fault::Status(502), 1);
    xplan.inject(
        Route::ClientList,
        Fault::Latency(Duration::from_millis(600)),
        1,
    );
    let before = xplan.calls(Route::ClientList);
    assert_eq!(
        s.client_list(&id, "insurance_group").await.unwrap().len(),
        1
    );
    assert_eq!(
        xplan.calls(Route::ClientList) - before,
        4,
        "500, 502, a timeout, then success"
    );

    xplan.inject(
        Route::User,
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        1,
    );
    xplan.put_user(1, "Ada", "Adviser", "ada@example.com");
    let started = std::time::Instant::now();
    s.user("1").await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as Retry-After asked"
    );

    xplan.inject(
        Route::User,
        Fault::TooManyRequests {
            retry_after_secs: 3600,
        },
        1,
    );
    assert!(
        matches!(s.user("1").await, Err(XplanError::Unavailable { .. })),
        "a wait longer than allowed is not attempted"
    );

    xplan.inject(Route::Client, Fault::Status(503), 10);
    xplan.inject(Route::ClientList, Fault::Status(503), 10);
    assert!(matches!(
        s.client_list(&id, "contact").await,
        Err(XplanError::Unavailable { attempts: 4, .. })
    ));
}

#[tokio::test]
async fn refuses_without_retrying_what_retrying_cannot_fix() {
    let xplan = fake().await;
    let http = client(Duration::from_secs(5));
    let (s, _, _) = session(&xplan, &http).await;
    xplan.inject(Route::User, Fault::Status(403), 1);
    let before = xplan.calls(Route::User);
    assert!(matches!(
        s.user("1").await,
        Err(XplanError::Rejected { status: 403, .. })
    ));
    assert_eq!(xplan.calls(Route::User) - before, 1);
    assert!(
        matches!(s.user("424242").await, Err(XplanError::Rejected { status: 404, ref message }) if message == "no such user")
    );
}

#[tokio::test]
async fn a_401_refreshes_once_and_a_second_refusal_is_consent_expired() {
    let xplan = fake().await;
    xplan.seed(1, 0);
    let http = client(Duration::from_secs(5));
    let (s, vault, id) = session(&xplan, &http).await;
    let v1 = vault.load(id).await.unwrap().unwrap().version;
    xplan.expire_access_tokens();
    s.clients_page(5, None).await.unwrap();
    assert_eq!(
        vault.load(id).await.unwrap().unwrap().version,
        v1 + 1,
        "the rotated tokens are stored"
    );

    xplan.revoke_consent();
    assert_eq!(
        s.clients_page(5, None).await,
        Err(XplanError::ConsentExpired)
    );
}

#[tokio::test]
async fn concurrent_calls_on_one_session_refresh_once() {
    let xplan = fake().await;
    xplan.seed(1, 0);
    let http = client(Duration::from_secs(5));
    let (s, _, _) = session(&xplan, &http).await;
    s.clients_page(1, None).await.unwrap();
    xplan.expire_access_tokens();
    let token_calls = xplan.calls(Route::Token);
    let (a, b, c) = tokio::join!(
        s.clients_page(1, None),
        s.clients_page(1, None),
        s.user("9000")
    );
    assert!(a.is_ok() && b.is_ok() && c.is_ok(), "{a:?} {b:?} {c:?}");
    assert_eq!(
        xplan.calls(Route::Token) - token_calls,
        1,
        "one refresh; the other calls used its result"
    );
}

#[tokio::test]
async fn two_instances_refreshing_at_once_both_end_up_with_the_rotated_tokens() {
    let xplan = fake().await;
    xplan.seed(1, 0);
    let http = client(Duration::from_secs(5));
    let (first, vault, id) = session(&xplan, &http).await;
    // A second session on the same vault, as another instance of Hearth would have.
    let second = http.session(&xplan.host(), id, vault.clone(), Arc::new(NoRecorder));
    first.clients_page(1, None).await.unwrap();
    second.clients_page(1, None).await.unwrap();
    let version = vault.load(id).await.unwrap().unwrap().version;
    xplan.expire_access_tokens();
    let (a, b) = tokio::join!(first.clients_page(1, None), second.clients_page(1, None));
    assert!(
        a.is_ok() && b.is_ok(),
        "the loser of the refresh race uses the winner's tokens: {a:?} {b:?}"
    );
    assert_eq!(
        vault.load(id).await.unwrap().unwrap().version,
        version + 1,
        "exactly one rotation was stored"
    );
}

#[tokio::test]
async fn file_notes_and_attachments_arrive_as_sent() {
    let xplan = fake().await;
    xplan.put_client(FakeClient::new(77, "Jane", "Citizen"));
    let http = client(Duration::from_secs(5));
    let (s, _, _) = session(&xplan, &http).await;
    let docid = s.create_docnote(&json!({"subject": "Best Life Plan Created", "body": "", "mimetype": "text/plain", "entity_ids": [77], "doctype": "General"})).await.unwrap();
    s.attach(&docid, "plan.pdf", "application/pdf", b"%PDF-1.7 bytes")
        .await
        .unwrap();
    let notes = xplan.notes();
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].docid.as_str(), notes[0].body["subject"].as_str()),
        (docid.as_str(), Some("Best Life Plan Created"))
    );
    assert_eq!(notes[0].attachments[0].content, b"%PDF-1.7 bytes");
    assert_eq!(s.docnotes_of("77").await.unwrap().len(), 1);
    assert!(s.docnotes_of("78").await.unwrap().is_empty());
}

/// The production scheme: nothing inside the network is called, whatever the forward host says.
fn production_client() -> XplanClient {
    XplanClient::new(XplanConfig {
        scheme: "https".into(),
        app_id: "hearth-app".into(),
        client_id: "hearth".into(),
        client_secret: Secret::new("hearth-secret"),
        redirect_uri: "https://hearth.example/callback".into(),
        timeout: Duration::from_secs(2),
        retry: RetryPolicy {
            attempts: 1,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
            max_retry_after: Duration::from_secs(1),
        },
        site_suffixes: vec![],
    })
    .unwrap()
}

#[tokio::test]
async fn the_client_secret_is_never_sent_to_an_internal_address() {
    let fake = fake().await;
    let client = production_client();
    let loopback_fake = fake.host();
    for host in ["169.254.169.254", "10.0.0.1:443", loopback_fake.as_str()] {
        assert!(
            matches!(
                client.exchange_code(host, "code", Utc::now()).await,
                Err(XplanError::Forbidden(_))
            ),
            "{host}"
        );
    }
    assert_eq!(
        fake.calls(Route::Token),
        0,
        "nothing reached the fake on loopback"
    );
}
