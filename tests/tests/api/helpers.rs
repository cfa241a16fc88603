//! Starts the real service on a random port against a fresh database and drives it over HTTP.
#![allow(dead_code)]

use std::{net::SocketAddr, time::Duration};

use chrono::Utc;
use hearth_api::{
    auth::{Caller, JwtKeys},
    config::{
        AuthSettings, BusSettings, DataDir, HttpSettings, Settings, StoreSettings, XplanSettings,
    },
    startup::Application,
};
use hearth_eventstore::testing::{TestDatabase, TestSqlite};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

pub const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";
/// base64 of 32 bytes.
pub const MASTER_KEY: &str = "bWFzdGVyLWtleS1mb3ItaGVhcnRoLXRlc3RzLTMyYnk=";

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Runs each named async test on both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Postgres).await } )*
        }
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await } )*
        }
    };
}

pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub keys: JwtKeys,
    pub database_url: String,
    /// The running service's state, for driving its workers with a chosen clock.
    pub state: hearth_api::state::AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _pg: Option<std::sync::Arc<TestDatabase>>,
    _sqlite: Option<std::sync::Arc<TestSqlite>>,
    data_dir: std::path::PathBuf,
}

pub fn settings(database_url: &str, data_dir: &std::path::Path) -> Settings {
    Settings {
        store: StoreSettings {
            database_url: Some(database_url.to_string()),
            dir: DataDir {
                data_dir: data_dir.to_path_buf(),
            },
            // Shared, so a second instance or a restart (with a data dir of its own) reads what
            // the first sealed, as instances configured alike do in production.
            master_key: Some(MASTER_KEY.into()),
            master_key_previous: None,
        },
        auth: AuthSettings {
            jwt_secret: Some(SECRET.into()),
            jwt_algorithm: "HS256".into(),
            jwt_leeway_secs: hearth_api::auth::DEFAULT_LEEWAY_SECS,
        },
        http: HttpSettings {
            bind: "127.0.0.1:0".parse().unwrap(),
            read_wait_ms: 5_000,
            body_limit: 64 * 1024,
            shutdown_grace_secs: 5,
        },
        bus: BusSettings {
            amqp_url: None,
            amqp_prefix: "hearth".into(),
        },
        xplan: XplanSettings {
            encryption_key: None,
            xplan_sync_interval_secs: 3600,
            // The fake XPLAN's registration (hearth_integrations::fake::FakeSettings::default()).
            xplan_app_id: "hearth-app".into(),
            xplan_client_id: "hearth".into(),
            xplan_client_secret: "hearth-secret".into(),
            xplan_redirect_uri: None,
            xplan_scheme: "http".into(),
            xplan_timeout_secs: 5,
            xplan_site_suffixes: hearth_domain::integration::DEFAULT_SITE_SUFFIXES
                .map(String::from)
                .to_vec(),
        },
        watch: Default::default(),
        // Tests post to receivers on loopback and retry quickly.
        webhook: hearth_api::config::WebhookSettings {
            webhook_allow_loopback: true,
            webhook_timeout_secs: 1,
            webhook_retry_base_ms: 20,
            webhook_retry_max_ms: 200,
            webhook_max_attempts: 1_000,
        },
        snapshots: Default::default(),
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    match backend {
        Backend::Postgres => {
            let db = std::sync::Arc::new(TestDatabase::create().await);
            let mut app = spawn_on(&db.url).await;
            app._pg = Some(db);
            app
        }
        Backend::Sqlite => {
            let file = std::sync::Arc::new(TestSqlite::new());
            let mut app = spawn_on(&file.url).await;
            app._sqlite = Some(file);
            app
        }
    }
}

/// A second instance on the same database (for read-your-writes across instances).
pub async fn spawn_on(database_url: &str) -> TestApp {
    spawn_with(settings(
        database_url,
        &std::env::temp_dir().join(format!("hearth-test-{}", Uuid::new_v4())),
    ))
    .await
}

pub async fn spawn_with(settings: Settings) -> TestApp {
    let data_dir = settings.store.data_dir().to_path_buf();
    let database_url = settings.store.database_url();
    let app = Application::build(settings)
        .await
        .expect("the service starts");
    let address = app.address();
    let state = app.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        keys: JwtKeys::from_secret("HS256", SECRET.as_bytes()).unwrap(),
        database_url,
        state,
        stop: Some(stop),
        server: Some(server),
        _pg: None,
        _sqlite: None,
        data_dir,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

pub struct Response {
    pub status: StatusCode,
    pub body: Value,
    pub content_type: String,
    pub text: String,
}

impl Response {
    /// Sends the request and keeps what a test asserts on: status, content type, text and JSON.
    async fn read(req: reqwest::RequestBuilder) -> Response {
        let resp = req.send().await.expect("the service answers");
        let status = resp.status();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            status,
            body,
            content_type,
            text,
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// Where this instance keeps its snapshot and generated keys.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub fn operator(&self) -> String {
        self.keys
            .mint(Caller::Operator, Utc::now(), chrono::Duration::hours(1))
            .unwrap()
    }

    pub fn token(&self, practice: Uuid, staff: Uuid) -> String {
        self.keys
            .mint(
                Caller::Staff { practice, staff },
                Utc::now(),
                chrono::Duration::hours(1),
            )
            .unwrap()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Response::read(req).await
    }

    /// POSTs a raw body (e.g. a CSV file).
    pub async fn post_bytes(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Response {
        let req = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        Response::read(req).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.call(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Response {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Given: a practice with an owner; returns (practice id, owner id, owner token).
    pub async fn practice(&self) -> (Uuid, Uuid, String) {
        let r = self.post("/v1/practices", &self.operator(), json!({"name": "Hearth Advice", "owner": {"name": "Olive Owner", "email": format!("olive-{}@example.com", Uuid::new_v4())}, "licences": 20})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let practice = id(&r.body["id"]);
        let owner = id(&r.body["owner_staff_id"]);
        (practice, owner, self.token(practice, owner))
    }

    /// Given: an active staff member; returns (id, token).
    pub async fn staff(
        &self,
        practice: Uuid,
        owner_token: &str,
        role: &str,
        name: &str,
    ) -> (Uuid, String) {
        let r = self.post(&format!("/v1/practices/{practice}/staff"), owner_token, json!({"name": name, "email": format!("{name}-{}@example.com", Uuid::new_v4()), "role": role})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let staff = id(&r.body["id"]);
        let token = self.token(practice, staff);
        let r = self
            .post(
                &format!("/v1/practices/{practice}/staff/{staff}/activate"),
                &token,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        (staff, token)
    }

    /// Given: a branch of the practice; returns (id, position written).
    pub async fn branch(&self, practice: Uuid, token: &str, name: &str) -> (Uuid, String) {
        let r = self
            .post(
                &format!("/v1/practices/{practice}/branches"),
                token,
                json!({ "name": name }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (
            id(&r.body["id"]),
            r.body["position"].as_str().unwrap().to_string(),
        )
    }

    pub async fn household(&self, practice: Uuid, token: &str, last_name: &str) -> (Uuid, String) {
        let r = self.post(&format!("/v1/practices/{practice}/households"), token, json!({"client": {"first_name": "Casey", "last_name": last_name, "email": format!("{last_name}@clients.example.com")}})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (
            id(&r.body["id"]),
            r.body["position"].as_str().unwrap().to_string(),
        )
    }
}

pub fn id(v: &Value) -> Uuid {
    v.as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| panic!("not an id: {v}"))
}

pub fn problem_code(r: &Response) -> &str {
    assert_eq!(
        r.content_type, "application/problem+json",
        "{} {}",
        r.status, r.text
    );
    r.body["code"].as_str().unwrap_or("")
}
