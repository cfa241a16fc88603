//! The XPLAN integration end to end: the real service, real HTTP to the fake XPLAN server,
//! a real database. Set-up and OAuth, ID pre-load, sync rules, resilience and consent expiry.

use std::collections::HashSet;

use hearth_eventstore::EventStore;
use hearth_integrations::fake::{FakeClient, FakeSettings, FakeXplan, Fault, Route};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{id, problem_code, spawn_app, Backend, TestApp},
    on_both_backends,
};

on_both_backends!(
    set_up_and_oauth_consent_by_a_practice_manager_only,
    first_sync_creates_households_and_an_unchanged_sync_appends_only_its_summary,
    pre_loaded_ids_link_existing_households_so_the_sync_creates_no_duplicates,
);

pub struct Connected {
    pub p: Uuid,
    pub owner_token: String,
    pub integration: Uuid,
    pub base: String,
    pub adviser: Uuid,
    /// The position of the last sync's record: reads after a sync wait for it.
    pub last: std::sync::Mutex<String>,
}

pub async fn fake() -> FakeXplan {
    FakeXplan::start("127.0.0.1:0".parse().unwrap(), FakeSettings::default())
        .await
        .unwrap()
}

/// Events in the log, counted (not the head's position: on PostgreSQL the head may still be
/// catching up with this test's own commits while other tests hold transactions open).
async fn log_size(app: &TestApp) -> i64 {
    let store = EventStore::connect(&app.database_url).await.unwrap();
    let sql = "SELECT COUNT(*) FROM events";
    match store.backend() {
        hearth_eventstore::Backend::Postgres(pool) => {
            sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
        }
        hearth_eventstore::Backend::Sqlite(pool) => {
            sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
        }
    }
}

/// Follows the authorisation URL to the fake's consent screen and returns the callback path.
async fn consent(url: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http.get(url).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the consent screen redirects back"
    );
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let url = reqwest::Url::parse(&location).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap())
}

/// Given: a practice whose integration with `xplan` is created, enabled and connected.
pub async fn connected(app: &TestApp, xplan: &FakeXplan) -> Connected {
    let (p, _owner, owner_token) = app.practice().await;
    // The fake's first adviser is ada@advisers.example: make her staff so she becomes primary.
    let r = app
        .post(
            &format!("/v1/practices/{p}/staff"),
            &owner_token,
            json!({"name": "Ada Adviser", "email": "ada@advisers.example", "role": "professional"}),
        )
        .await;
    let adviser = id(&r.body["id"]);
    app.post(
        &format!("/v1/practices/{p}/staff/{adviser}/activate"),
        &app.token(p, adviser),
        json!({}),
    )
    .await;
    let r = app.post(&format!("/v1/practices/{p}/integrations"), &owner_token, json!({"name": "XPLAN AU", "forward_host": xplan.host(), "enabled": true, "ids_loaded_confirmed": true})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let integration = id(&r.body["id"]);
    let base = format!("/v1/practices/{p}/integrations/{integration}");
    let r = app
        .post(&format!("{base}/oauth/start"), &owner_token, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let callback = consent(r.body["authorisation_url"].as_str().unwrap()).await;
    let r = app.call(reqwest::Method::GET, &callback, None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    Connected {
        p,
        owner_token,
        integration,
        base,
        adviser,
        last: std::sync::Mutex::new(String::new()),
    }
}

/// Starts a sync job (202 with its status URL) and follows it to its end; the finished run.
pub async fn sync(app: &TestApp, c: &Connected) -> Value {
    let r = app
        .post(&format!("{}/sync", c.base), &c.owner_token, json!({}))
        .await;
    follow(app, c, &r).await
}

/// Follows a started sync job (the answer to `POST …/sync`) until it is no longer running.
pub async fn follow(app: &TestApp, c: &Connected, started: &crate::helpers::Response) -> Value {
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let status_url = started.body["status_url"]
        .as_str()
        .expect("a started sync names its status URL")
        .to_string();
    // A liveness bound, not a performance figure: generous, because the suite shares two cores
    // with PostgreSQL, RabbitMQ and Chromium and a run retries XPLAN with back-off.
    for _ in 0..900 {
        let r = app.get(&status_url, &c.owner_token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        if r.body["status"] != "running" {
            *c.last.lock().unwrap() = r.body["position"]
                .as_str()
                .expect("a finished run names its position")
                .to_string();
            return r.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the sync job did not finish within 45 seconds");
}

/// Every household of the practice with its details.
pub async fn households(app: &TestApp, c: &Connected) -> Vec<Value> {
    let last = c.last.lock().unwrap().clone();
    let at_least = if last.is_empty() {
        String::new()
    } else {
        format!("?at_least={last}")
    };
    let owner = app
        .get(
            &format!("/v1/practices/{}/roster{at_least}", c.p),
            &c.owner_token,
        )
        .await;
    let owner_id = owner.body["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["role"] == "owner")
        .map(|s| id(&s["staff_id"]))
        .unwrap();
    let r = app
        .get(
            &format!("/v1/practices/{}/staff/{owner_id}/households", c.p),
            &c.owner_token,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut out = Vec::new();
    for h in r.body["households"].as_array().unwrap() {
        let d = app
            .get(
                &format!(
                    "/v1/practices/{}/households/{}",
                    c.p,
                    h["household_id"].as_str().unwrap()
                ),
                &c.owner_token,
            )
            .await;
        out.push(d.body);
    }
    out
}

fn by_xplan_id<'a>(households: &'a [Value], xplan_id: &str) -> Vec<&'a Value> {
    households
        .iter()
        .filter(|h| {
            h["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["xplan"]["xplan_id"] == xplan_id)
        })
        .collect()
}

async fn set_up_and_oauth_consent_by_a_practice_manager_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let xplan = fake().await;
    let (p, _owner, owner_token) = app.practice().await;
    let list = format!("/v1/practices/{p}/integrations");

    let (_, adviser_token) = app.staff(p, &owner_token, "professional", "adviser").await;
    for (token, body, refused, why) in [
        (
            &owner_token,
            json!({"name": "XPLAN", "forward_host": "https://site.example.com"}),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            "a scheme in the forward host",
        ),
        (
            &owner_token,
            json!({"name": "XPLAN", "forward_host": xplan.host(), "enabled": true}),
            (StatusCode::CONFLICT, "xplan_ids_not_confirmed"),
            "enabling needs the IDs-loaded confirmation",
        ),
        (
            &adviser_token,
            json!({"name": "XPLAN", "forward_host": xplan.host()}),
            (StatusCode::FORBIDDEN, "permission_required"),
            "an adviser cannot manage integrations",
        ),
    ] {
        let r = app.post(&list, token, body).await;
        assert_eq!((r.status, problem_code(&r)), refused, "{why}");
    }

    let r = app
        .post(
            &list,
            &owner_token,
            json!({"name": "XPLAN", "forward_host": xplan.host()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let integration = id(&r.body["id"]);
    let base = format!("{list}/{integration}");
    let r = app
        .post(
            &list,
            &owner_token,
            json!({"name": "XPLAN NZ", "forward_host": "nz.xplan.co.nz"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "a practice may connect several XPLAN sites: {}",
        r.text
    );
    let r = app
        .get(
            &format!("{list}?at_least={}", r.body["position"].as_str().unwrap()),
            &owner_token,
        )
        .await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(2), "{}", r.text);
    let r = app
        .post(&format!("{base}/enable"), &owner_token, json!({}))
        .await;
    assert_eq!(problem_code(&r), "xplan_ids_not_confirmed");
    let r = app
        .patch(
            &base,
            &owner_token,
            json!({"ids_loaded_confirmed": true, "enabled": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let (other_p, _, other_token) = app.practice().await;
    let r = app
        .get(
            &format!("/v1/practices/{other_p}/integrations/{integration}"),
            &other_token,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another practice's integration does not exist for them"
    );
    let r = app
        .post(&format!("{base}/sync"), &owner_token, json!({}))
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::CONFLICT, "xplan_not_connected")
    );

    let r = app
        .post(&format!("{base}/oauth/start"), &owner_token, json!({}))
        .await;
    let url = r.body["authorisation_url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!(
            "http://{}/oauth2/auth?client_id=hearth&response_type=code",
            xplan.host()
        )),
        "{url}"
    );
    let callback = consent(&url).await;
    let forged = callback.replace("state=", "state=x");
    let r = app.call(reqwest::Method::GET, &forged, None, None).await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::CONFLICT, "oauth_state_invalid"),
        "a forged state is refused"
    );
    let r = app.call(reqwest::Method::GET, &callback, None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.call(reqwest::Method::GET, &callback, None, None).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a callback cannot be replayed: {}",
        r.text
    );

    let r = app
        .get(&format!("{base}?at_least={}", "0"), &owner_token)
        .await;
    assert_eq!(r.body["consent"]["status"], "connected", "{}", r.text);
    assert_eq!(r.body["settings"]["forward_host"], xplan.host());
    assert!(
        !r.text.contains("at-") && !r.text.contains("rt-"),
        "no token is ever shown: {}",
        r.text
    );

    // Tokens are encrypted at rest: the stored record is not readable JSON and shows no token.
    let store = EventStore::connect(&app.database_url).await.unwrap();
    let sealed: Vec<u8> = match store.backend() {
        hearth_eventstore::Backend::Postgres(pool) => {
            sqlx::query_scalar("SELECT sealed FROM integration_tokens")
                .fetch_one(pool)
                .await
                .unwrap()
        }
        hearth_eventstore::Backend::Sqlite(pool) => {
            sqlx::query_scalar("SELECT sealed FROM integration_tokens")
                .fetch_one(pool)
                .await
                .unwrap()
        }
    };
    assert!(serde_json::from_slice::<Value>(&sealed).is_err());
    assert!(
        !sealed.windows(3).any(|w| w == b"at-" || w == b"rt-"),
        "a token is visible in the database"
    );
    // …and the log holds the steps, without secrets.
    let steps: Vec<String> = store
        .read_stream(&format!("integration-{integration}"), 1)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        steps,
        [
            "integration.created",
            "integration.updated",
            "integration.enabled",
            "integration.authorisation_started",
            "integration.connected"
        ]
    );
}

async fn first_sync_creates_households_and_an_unchanged_sync_appends_only_its_summary(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let xplan = fake().await;
    xplan.seed(30, 2);
    let c = connected(&app, &xplan).await;

    let run = sync(&app, &c).await;
    assert_eq!(
        (
            run["outcome"].as_str(),
            run["summary"]["clients_seen"].as_u64(),
            run["summary"]["created"].as_u64()
        ),
        (Some("completed"), Some(30), Some(30)),
        "{run}"
    );
    assert!(
        run["summary"]["errors"].as_array().unwrap().is_empty(),
        "{run}"
    );
    let all = households(&app, &c).await;
    assert_eq!(all.len(), 30);
    let first = xplan.client_ids()[0];
    let h = by_xplan_id(&all, &first.to_string())[0];
    let member = &h["members"][0]["fields"];
    assert_eq!(member["email"], format!("client{first}@example.com"));
    assert_eq!(
        member["mobile"],
        format!("+614{first:08}"),
        "stored in international form"
    );
    assert_eq!(h["policies"].as_array().unwrap().len(), 2);
    assert_eq!(
        h["policies"][0]["end_year"], 2027,
        "end year from the policy-to date"
    );
    // Advisers matched to staff by email become primary; others fall back to the first professional.
    let ada_clients = all
        .iter()
        .filter(|h| h["members"][0]["fields"]["adviser_email"] == "ada@advisers.example")
        .collect::<Vec<_>>();
    assert!(!ada_clients.is_empty());
    assert!(ada_clients
        .iter()
        .all(|h| h["primary"] == c.adviser.to_string()));

    let before = log_size(&app).await;
    let run = sync(&app, &c).await;
    assert_eq!(
        (
            run["summary"]["created"].as_u64(),
            run["summary"]["updated"].as_u64(),
            run["summary"]["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(30)),
        "{run}"
    );
    let store = EventStore::connect(&app.database_url).await.unwrap();
    let new: Vec<String> = store
        .read_all(hearth_eventstore::Cursor::START, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.position > before)
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        new,
        ["integration.sync_started", "integration.sync_recorded"],
        "an unchanged sync appends only its start and its summary"
    );

    // A changed field updates only that field.
    xplan.edit_client(first, |c| {
        c.fields.insert("last_name".into(), json!("Renamed"));
    });
    let run = sync(&app, &c).await;
    assert_eq!(
        (
            run["summary"]["updated"].as_u64(),
            run["summary"]["unchanged"].as_u64()
        ),
        (Some(1), Some(29)),
        "{run}"
    );
    let after = log_size(&app).await;
    let changed: Vec<Value> = store
        .read_all(hearth_eventstore::Cursor::START, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.position > before && e.event_type == "household.xplan_client_synced")
        .map(|e| e.data)
        .collect();
    assert_eq!(changed.len(), 1);
    let fields: Vec<&str> = changed[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["last_name"],
        "only the changed field: {}",
        changed[0]
    );
    assert!(after > before);

    let r = app
        .get(&format!("{}/sync-runs", c.base), &c.owner_token)
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 3, "every run is readable");
    assert_eq!(r.body[0]["summary"]["updated"], 1, "newest first");
}

async fn pre_loaded_ids_link_existing_households_so_the_sync_creates_no_duplicates(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let xplan = fake().await;
    let c = connected(&app, &xplan).await;
    let (adviser_token, p) = (app.token(c.p, c.adviser), c.p);
    let create = |last: &str, email: &str| json!({"client": {"first_name": "Jane", "last_name": last, "email": email}});
    let jane = id(&app
        .post(
            &format!("/v1/practices/{p}/households"),
            &adviser_token,
            create("Citizen", "Jane@Example.com"),
        )
        .await
        .body["id"]);
    for twin in ["Twin", "Twain"] {
        app.post(
            &format!("/v1/practices/{p}/households"),
            &adviser_token,
            create(twin, "twins@example.com"),
        )
        .await;
    }
    let mut client = FakeClient::new(5001, "Jane", "Citizen");
    client.set("title", json!("Ms"));
    client.contacts =
        vec![json!({"type": "email", "value": "jane@example.com", "preferred": true})];
    xplan.put_client(client);
    xplan.put_client(FakeClient::new(5002, "New", "Client"));

    let csv = "\u{feff}First Name, LAST_NAME ,E-mail,Xplan Id\n\
               Jane,Citizen,JANE@example.com,5001\n\
               No,Body,nobody@example.com,5003\n\
               T,Twins,twins@example.com,5004\n\
               Bad,Row,not-an-email,5005\n\
               Dup,Id,other@example.com,5001\n";
    let path = format!("{}/xplan-ids", c.base);
    let before = log_size(&app).await;
    let r = app
        .post_bytes(
            &format!("{path}?dry_run=true"),
            &c.owner_token,
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let outcomes: Vec<&str> = r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "linked",
            "no_match",
            "several_matches",
            "malformed",
            "conflicting_id"
        ]
    );
    assert_eq!(
        (r.body["applied"].as_bool(), log_size(&app).await),
        (Some(false), before),
        "a dry run writes nothing"
    );

    let r = app
        .post_bytes(&path, &c.owner_token, "text/csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(
        (r.body["applied"].as_bool(), r.body["linked"].as_u64()),
        (Some(true), Some(1)),
        "{}",
        r.text
    );
    let r = app
        .post_bytes(&path, &c.owner_token, "text/csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(r.body["rows"][0]["outcome"], "already_linked", "{}", r.text);
    let r = app
        .post_bytes(
            &path,
            &c.owner_token,
            "text/csv",
            b"name,phone\nx,y\n".to_vec(),
        )
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::BAD_REQUEST, "invalid_input"),
        "a file without the needed columns"
    );

    let run = sync(&app, &c).await;
    assert_eq!(
        (
            run["summary"]["created"].as_u64(),
            run["summary"]["updated"].as_u64()
        ),
        (Some(1), Some(1)),
        "{run}"
    );
    let all = households(&app, &c).await;
    assert_eq!(all.len(), 4, "three existing households and one new one");
    let linked = by_xplan_id(&all, "5001");
    assert_eq!(linked.len(), 1);
    assert_eq!(
        linked[0]["id"],
        jane.to_string(),
        "the pre-loaded household was updated, not duplicated"
    );
    assert_eq!(linked[0]["members"][0]["fields"]["title"], "Ms");
    assert_eq!(by_xplan_id(&all, "5002").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_rules_skip_titles_and_mobiles_with_reasons_and_xplan_overwrites_local_edits() {
    let app = spawn_app(Backend::Postgres).await;
    let xplan = fake().await;
    let mut c1 = FakeClient::new(6001, "Rev", "Smith");
    c1.set("title", json!("Rev"));
    c1.contacts = vec![
        json!({"type": "email", "value": "old@example.com", "preferred": false}),
        json!({"type": "email", "value": "SMITH@example.com", "preferred": true}),
        json!({"type": "mobile", "value": "0400 111 222", "preferred": true}),
    ];
    let mut c2 = FakeClient::new(6002, "Doc", "Jones");
    c2.set("title", json!("dr."));
    c2.contacts = vec![json!({"type": "mobile", "value": "+64 21 555 0101", "preferred": true})];
    xplan.put_client(c1);
    xplan.put_client(c2);
    let c = connected(&app, &xplan).await;
    let run = sync(&app, &c).await;
    let skipped: HashSet<(String, String)> = run["summary"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["xplan_id"].as_str().unwrap().to_string(),
                s["what"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        HashSet::from([
            ("6001".into(), "title".into()),
            ("6001".into(), "mobile".into())
        ]),
        "{run}"
    );
    assert!(
        run["summary"]["skipped"]
            .to_string()
            .contains("country code"),
        "the reason is recorded: {run}"
    );
    let all = households(&app, &c).await;
    let smith = &by_xplan_id(&all, "6001")[0]["members"][0]["fields"];
    assert_eq!(
        (
            smith.get("title"),
            smith.get("mobile"),
            smith["email"].as_str()
        ),
        (None, None, Some("smith@example.com"))
    );
    let jones = by_xplan_id(&all, "6002")[0].clone();
    assert_eq!(
        (
            jones["members"][0]["fields"]["title"].as_str(),
            jones["members"][0]["fields"]["mobile"].as_str()
        ),
        (Some("Dr"), Some("+64215550101"))
    );

    // A local edit of a synced field stands until the next sync overwrites it; history shows both.
    let h = jones["id"].as_str().unwrap();
    let member = jones["members"][0]["member_id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("/v1/practices/{}/households/{h}/members/{member}", c.p),
            &c.owner_token,
            json!({"fields": {"first_name": "Locally Edited"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let run = sync(&app, &c).await;
    assert_eq!(run["summary"]["updated"], 1, "{run}");
    let d = app
        .get(
            &format!("/v1/practices/{}/households/{h}", c.p),
            &c.owner_token,
        )
        .await;
    assert_eq!(
        d.body["members"][0]["fields"]["first_name"], "Doc",
        "XPLAN is master"
    );
    let store = EventStore::connect(&app.database_url).await.unwrap();
    let kinds: Vec<String> = store
        .read_stream(&format!("household-{h}"), 1)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert!(
        kinds.contains(&"household.client_details_edited".to_string())
            && kinds.last().unwrap() == "household.xplan_client_synced",
        "{kinds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_sync_rerun_and_overlapping_syncs_create_no_duplicates() {
    let app = spawn_app(Backend::Postgres).await;
    let second = crate::helpers::spawn_on(&app.database_url).await;
    let xplan = fake().await;
    xplan.seed(40, 1);
    let c = connected(&app, &xplan).await;
    // Client 15's sub-lists fail for good (more than every retry): the run stops part-way.
    xplan.inject_after(Route::ClientList, 45, Fault::Status(502), 50);
    let run = sync(&app, &c).await;
    assert_eq!(run["outcome"], "failed", "{run}");
    let created_first = run["summary"]["created"].as_u64().unwrap();
    assert!(created_first > 0 && created_first < 40, "{run}");
    xplan.clear_faults();

    // Rerun on two instances at once, plus a second call on the first: a call on an instance that
    // is already syncing is refused; the others race and must not duplicate anything.
    let path = format!("{}/sync", c.base);
    let (a, b, d) = tokio::join!(
        app.post(&path, &c.owner_token, json!({})),
        second.post(&path, &c.owner_token, json!({})),
        async {
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            app.post(&path, &c.owner_token, json!({})).await
        }
    );
    let on_second = Connected {
        p: c.p,
        owner_token: c.owner_token.clone(),
        integration: c.integration,
        base: c.base.clone(),
        adviser: c.adviser,
        last: std::sync::Mutex::new(String::new()),
    };
    assert!(
        d.status == StatusCode::CONFLICT || d.status == StatusCode::ACCEPTED,
        "{}",
        d.text
    );
    // Each run is followed to its end (the second instance has its own development encryption
    // key, so its run may stop at the token vault: only the absence of duplicates matters here).
    let (run_a, _) = tokio::join!(follow(&app, &c, &a), follow(&second, &on_second, &b));
    assert_eq!(run_a["outcome"], "completed", "{run_a}");
    if d.status == StatusCode::ACCEPTED {
        follow(&app, &c, &d).await;
    }
    let all = households(&app, &c).await;
    assert_eq!(all.len(), 40, "every client exactly once");
    for id in xplan.client_ids() {
        assert_eq!(by_xplan_id(&all, &id.to_string()).len(), 1, "client {id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refreshed_and_transient_failures_retried() {
    let app = spawn_app(Backend::Postgres).await;
    let xplan = fake().await;
    xplan.seed(5, 1);
    let c = connected(&app, &xplan).await;
    xplan.expire_access_tokens();
    xplan.inject(
        Route::Clients,
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        1,
    );
    xplan.inject(Route::ClientList, Fault::Status(500), 2);
    xplan.inject(Route::User, Fault::Status(502), 1);
    // The second page (here the empty one that ends the list) fails once.
    xplan.inject_after(Route::Clients, 1, Fault::Status(500), 1);
    let started = std::time::Instant::now();
    let run = sync(&app, &c).await;
    assert_eq!(
        (run["outcome"].as_str(), run["summary"]["created"].as_u64()),
        (Some("completed"), Some(5)),
        "{run}"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After was honoured"
    );
    let store = EventStore::connect(&app.database_url).await.unwrap();
    let steps: Vec<String> = store
        .read_stream(&format!("integration-{}", c.integration), 1)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert!(
        steps.contains(&"integration.tokens_refreshed".to_string()),
        "{steps:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_consent_expires_the_integration_and_changes_no_data() {
    let app = spawn_app(Backend::Postgres).await;
    let xplan = fake().await;
    xplan.seed(3, 0);
    let c = connected(&app, &xplan).await;
    sync(&app, &c).await;
    xplan.edit_client(xplan.client_ids()[0], |c| {
        c.fields
            .insert("last_name".into(), json!("ShouldNotArrive"));
    });
    xplan.revoke_consent();
    let run = sync(&app, &c).await;
    assert_eq!(run["outcome"], "failed", "{run}");
    assert!(
        run["summary"]["errors"][0]
            .as_str()
            .unwrap()
            .contains("consent"),
        "{run}"
    );
    let r = app.get(&c.base, &c.owner_token).await;
    assert_eq!(r.body["consent"]["status"], "expired", "{}", r.text);
    let all = households(&app, &c).await;
    assert!(all
        .iter()
        .all(|h| h["members"][0]["fields"]["last_name"] != "ShouldNotArrive"));
    let r = app
        .post(&format!("{}/sync", c.base), &c.owner_token, json!({}))
        .await;
    assert_eq!(
        (r.status, problem_code(&r)),
        (StatusCode::CONFLICT, "xplan_not_connected"),
        "until a manager reconnects"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_syncs_enabled_connected_integrations_every_interval() {
    let db = std::sync::Arc::new(hearth_eventstore::testing::TestDatabase::create().await);
    let dir = std::env::temp_dir().join(format!("hearth-test-{}", Uuid::new_v4()));
    let mut settings = crate::helpers::settings(&db.url, &dir);
    settings.xplan.xplan_sync_interval_secs = 1;
    let app = crate::helpers::spawn_with(settings).await;
    let xplan = fake().await;
    xplan.seed(2, 0);
    let c = connected(&app, &xplan).await;
    let mut runs = Value::Null;
    for _ in 0..100 {
        runs = app
            .get(&format!("{}/sync-runs", c.base), &c.owner_token)
            .await
            .body;
        // Completed runs only: the newest may still be running, its summary partial.
        if runs
            .as_array()
            .is_some_and(|r| r.iter().filter(|run| run["status"] == "completed").count() >= 2)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let runs: Vec<&Value> = runs
        .as_array()
        .expect("sync runs")
        .iter()
        .filter(|run| run["status"] == "completed")
        .collect();
    assert!(
        runs.len() >= 2,
        "two scheduled runs within ten seconds: {runs:?}"
    );
    assert!(runs.iter().all(|r| r["trigger"] == "schedule"));
    assert_eq!(runs.last().unwrap()["summary"]["created"], 2);
    assert_eq!(
        runs[0]["summary"]["unchanged"], 2,
        "later runs find nothing new"
    );
}
