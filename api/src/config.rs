//! Typed configuration: command-line flags, `HEARTH_*` environment variables and an optional
//! dotenv-style file (`--config` / `HEARTH_CONFIG`), in that order of precedence.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Args;

/// The embedded default's log file, inside the data directory.
pub const DEFAULT_DATABASE_FILE: &str = "hearth.db";

/// Where Hearth keeps local state: the embedded log and generated development keys.
#[derive(Args, Clone, Debug)]
pub struct DataDir {
    /// Directory for local state of the embedded default (the SQLite log, generated dev keys).
    #[arg(long, env = "HEARTH_DATA_DIR", default_value = "hearth-data")]
    pub data_dir: PathBuf,
}

/// Which log a command opens.
#[derive(Args, Clone)]
pub struct StoreSettings {
    /// Where the event log lives: `postgres://…` in production. Default: the SQLite file
    /// `<data dir>/hearth.db`, so the log and the data dir's keys always travel together.
    #[arg(long, env = "HEARTH_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    #[command(flatten)]
    pub dir: DataDir,

    /// 32-byte key (base64) that wraps each household's personal-data key. Generated into the
    /// data dir when unset (development only). Losing it loses every household's personal data.
    #[arg(long, env = "HEARTH_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,

    /// Earlier master keys (comma-separated), still accepted for reading during a rotation until
    /// `hearth keys rewrap` has moved every household key to the current one.
    #[arg(long, env = "HEARTH_MASTER_KEY_PREVIOUS", hide_env_values = true)]
    pub master_key_previous: Option<String>,
}

impl StoreSettings {
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.dir.data_dir.join(DEFAULT_DATABASE_FILE).display()
            )
        })
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.dir.data_dir
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }

    /// The log's URL as it may be printed: without a password.
    pub fn describe(&self) -> String {
        redact_url(&self.database_url())
    }
}

/// How bearer tokens are verified (and, for `hearth token`, signed).
#[derive(Args, Clone)]
pub struct AuthSettings {
    /// HMAC secret (HS256/384/512) that verifies bearer tokens. When unset, a random secret is
    /// generated once into `<data dir>/jwt-secret` (development only).
    #[arg(long, env = "HEARTH_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// JWT algorithm: HS256 (default), HS384, HS512.
    #[arg(long, env = "HEARTH_JWT_ALGORITHM", default_value = "HS256")]
    pub jwt_algorithm: String,

    /// Seconds a bearer token is still accepted past its expiry (clock skew); keep it small.
    #[arg(long, env = "HEARTH_JWT_LEEWAY_SECS", default_value_t = crate::auth::DEFAULT_LEEWAY_SECS)]
    pub jwt_leeway_secs: u64,
}

/// The HTTP server.
#[derive(Args, Clone, Debug)]
pub struct HttpSettings {
    /// Address the HTTP API listens on. Loopback by default; set 0.0.0.0:8080 behind a proxy.
    #[arg(long, env = "HEARTH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// How long a read with `at_least=<position>` waits for the projection before answering 503.
    #[arg(long, env = "HEARTH_READ_WAIT_MS", default_value_t = 5000)]
    pub read_wait_ms: u64,

    /// Largest accepted request body, in bytes (CSV uploads included).
    #[arg(long, env = "HEARTH_BODY_LIMIT", default_value_t = 2 * 1024 * 1024)]
    pub body_limit: usize,

    /// Seconds a graceful shutdown waits for in-flight requests.
    #[arg(long, env = "HEARTH_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
}

impl HttpSettings {
    pub fn read_wait(&self) -> Duration {
        Duration::from_millis(self.read_wait_ms)
    }
}

/// Projection snapshots (`<data dir>/snapshots/`): start-up loads the latest one that matches the
/// log and replays only what came after it.
#[derive(Args, Clone, Debug)]
pub struct SnapshotSettings {
    /// Load and write projection snapshots. Off: every start replays the whole log.
    #[arg(long = "snapshots", env = "HEARTH_SNAPSHOTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub enabled: bool,

    /// Write a snapshot after this many new events (0: not by count). Also written at shutdown.
    #[arg(long, env = "HEARTH_SNAPSHOT_EVERY_EVENTS", default_value_t = 100_000)]
    pub snapshot_every_events: u64,

    /// Write a snapshot when this many seconds have passed and the log has grown (0: not by time).
    #[arg(long, env = "HEARTH_SNAPSHOT_INTERVAL_SECS", default_value_t = 900)]
    pub snapshot_interval_secs: u64,
}

impl Default for SnapshotSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            snapshot_every_events: 100_000,
            snapshot_interval_secs: 900,
        }
    }
}

impl SnapshotSettings {
    pub fn policy(&self, data_dir: &std::path::Path) -> Option<hearth_projections::SnapshotPolicy> {
        self.enabled.then(|| hearth_projections::SnapshotPolicy {
            dir: hearth_projections::SnapshotDir::new(data_dir.join("snapshots")),
            every_events: self.snapshot_every_events,
            interval: Duration::from_secs(self.snapshot_interval_secs),
        })
    }
}

/// The message bus of the file-note relay and worker.
#[derive(Args, Clone)]
pub struct BusSettings {
    /// RabbitMQ URL for the file-note relay and consumer. Unset: an in-process queue is used.
    #[arg(long, env = "HEARTH_AMQP_URL", hide_env_values = true)]
    pub amqp_url: Option<String>,

    /// Prefix of the RabbitMQ exchanges and queues (`<prefix>.events`, `<prefix>.file-notes`, …).
    #[arg(long, env = "HEARTH_AMQP_PREFIX", default_value = "hearth")]
    pub amqp_prefix: String,
}

/// Hearth's registration with XPLAN and the key that seals its OAuth tokens.
#[derive(Args, Clone)]
pub struct XplanSettings {
    /// 32-byte key (base64) that encrypts OAuth tokens at rest. Generated into the data dir when unset.
    #[arg(long, env = "HEARTH_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,

    /// Seconds between XPLAN syncs of each enabled integration.
    #[arg(long, env = "HEARTH_XPLAN_SYNC_INTERVAL_SECS", default_value_t = 3600)]
    pub xplan_sync_interval_secs: u64,

    /// Hearth's XPLAN app id (sent as X-Xplan-App-Id), issued by Iress.
    #[arg(long, env = "HEARTH_XPLAN_APP_ID", default_value = "hearth-app")]
    pub xplan_app_id: String,

    /// OAuth client id Iress issued to Hearth.
    #[arg(long, env = "HEARTH_XPLAN_CLIENT_ID", default_value = "hearth")]
    pub xplan_client_id: String,

    /// OAuth client secret Iress issued to Hearth.
    #[arg(
        long,
        env = "HEARTH_XPLAN_CLIENT_SECRET",
        hide_env_values = true,
        default_value = "hearth-secret"
    )]
    pub xplan_client_secret: String,

    /// Where XPLAN sends the browser back after consent. Default: this service's
    /// `/v1/xplan/oauth/callback` on the bind address.
    #[arg(long, env = "HEARTH_XPLAN_REDIRECT_URI")]
    pub xplan_redirect_uri: Option<String>,

    /// "https" for real XPLAN sites; "http" only to talk to `hearth fake-xplan`.
    #[arg(long, env = "HEARTH_XPLAN_SCHEME", default_value = "https", value_parser = ["https", "http"])]
    pub xplan_scheme: String,

    /// Seconds before a single XPLAN call is abandoned (and retried).
    #[arg(long, env = "HEARTH_XPLAN_TIMEOUT_SECS", default_value_t = 30)]
    pub xplan_timeout_secs: u64,

    /// XPLAN site domains a forward host must be under (comma-separated; see README).
    #[arg(
        long,
        env = "HEARTH_XPLAN_SITE_SUFFIXES",
        value_delimiter = ',',
        default_values_t = hearth_domain::integration::DEFAULT_SITE_SUFFIXES.map(String::from)
    )]
    pub xplan_site_suffixes: Vec<String>,
}

/// The change feed's live streams (`GET /v1/practices/{id}/changes` as Server-Sent Events).
#[derive(Args, Clone, Debug)]
pub struct WatchSettings {
    /// Change streams one instance keeps open at most; one more is refused with 503
    /// `too_many_streams` and `Retry-After` (each open stream holds a connection, a cursor and a
    /// small buffer; see docs/performance.md for its memory).
    #[arg(long, env = "HEARTH_WATCH_MAX_STREAMS", default_value_t = 1000)]
    pub watch_max_streams: usize,

    /// Seconds between keep-alive comments on an idle change stream (proxies close silent
    /// connections).
    #[arg(long, env = "HEARTH_WATCH_KEEP_ALIVE_SECS", default_value_t = 15)]
    pub watch_keep_alive_secs: u64,
}

impl Default for WatchSettings {
    fn default() -> Self {
        Self {
            watch_max_streams: 1000,
            watch_keep_alive_secs: 15,
        }
    }
}

/// Webhook deliveries of the change feed: where they may go, how long a receiver gets, how
/// they are retried.
#[derive(Args, Clone, Debug)]
pub struct WebhookSettings {
    /// Development only: accept `http://localhost` / loopback receivers (tests, local tools).
    /// Production refuses every internal address, at registration and at delivery.
    #[arg(long, env = "HEARTH_WEBHOOK_ALLOW_LOOPBACK", default_value_t = false)]
    pub webhook_allow_loopback: bool,

    /// Seconds a receiver has to answer one delivery (then it is a failed attempt).
    #[arg(long, env = "HEARTH_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub webhook_timeout_secs: u64,

    /// First retry delay in milliseconds; doubled per attempt up to the maximum.
    #[arg(long, env = "HEARTH_WEBHOOK_RETRY_BASE_MS", default_value_t = 1_000)]
    pub webhook_retry_base_ms: u64,

    /// Longest retry delay in milliseconds.
    #[arg(long, env = "HEARTH_WEBHOOK_RETRY_MAX_MS", default_value_t = 300_000)]
    pub webhook_retry_max_ms: u64,

    /// Attempts per change before it goes to the dead-letter list (defaults: about 18 minutes
    /// of retrying).
    #[arg(long, env = "HEARTH_WEBHOOK_MAX_ATTEMPTS", default_value_t = 12)]
    pub webhook_max_attempts: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            webhook_allow_loopback: false,
            webhook_timeout_secs: 10,
            webhook_retry_base_ms: 1_000,
            webhook_retry_max_ms: 300_000,
            webhook_max_attempts: 12,
        }
    }
}

/// Everything `serve` needs; the other commands take only the groups they use, so their
/// `--help` lists only their own options.
#[derive(Args, Clone)]
pub struct Settings {
    #[command(flatten)]
    pub store: StoreSettings,
    #[command(flatten)]
    pub auth: AuthSettings,
    #[command(flatten)]
    pub http: HttpSettings,
    #[command(flatten)]
    pub bus: BusSettings,
    #[command(flatten)]
    pub xplan: XplanSettings,
    #[command(flatten)]
    pub watch: WatchSettings,
    #[command(flatten)]
    pub webhook: WebhookSettings,
    #[command(flatten)]
    pub snapshots: SnapshotSettings,
}

// Secrets must never reach logs, so Debug is written by hand.
impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("database_url", &self.describe())
            .field("data_dir", &self.dir.data_dir)
            .field(
                "master_key",
                &self.master_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "master_key_previous",
                &self.master_key_previous.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("jwt_algorithm", &self.jwt_algorithm)
            .field("jwt_leeway_secs", &self.jwt_leeway_secs)
            .finish()
    }
}

impl std::fmt::Debug for BusSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusSettings")
            .field("amqp_url", &self.amqp_url.as_deref().map(redact_url))
            .field("amqp_prefix", &self.amqp_prefix)
            .finish()
    }
}

impl std::fmt::Debug for XplanSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XplanSettings")
            .field(
                "encryption_key",
                &self.encryption_key.as_ref().map(|_| "<redacted>"),
            )
            .field("xplan_sync_interval_secs", &self.xplan_sync_interval_secs)
            .field("xplan_app_id", &self.xplan_app_id)
            .field("xplan_client_id", &self.xplan_client_id)
            .field("xplan_client_secret", &"<redacted>")
            .field("xplan_redirect_uri", &self.xplan_redirect_uri)
            .field("xplan_scheme", &self.xplan_scheme)
            .field("xplan_site_suffixes", &self.xplan_site_suffixes)
            .finish()
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("store", &self.store)
            .field("auth", &self.auth)
            .field("http", &self.http)
            .field("bus", &self.bus)
            .field("xplan", &self.xplan)
            .field("watch", &self.watch)
            .field("webhook", &self.webhook)
            .field("snapshots", &self.snapshots)
            .finish()
    }
}

/// Drops the password part of `scheme://user:password@host/…`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:<redacted>@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Loads `KEY=VALUE` lines from the config file into the environment, without overriding
/// variables already set, so flags > environment > file.
pub fn load_config_file(path: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("{}:{}: expected KEY=VALUE", path.display(), n + 1));
        };
        let key = key.trim();
        if !key.starts_with("HEARTH_") {
            return Err(format!(
                "{}:{}: unknown setting {key} (settings start with HEARTH_)",
                path.display(),
                n + 1
            ));
        }
        if std::env::var_os(key).is_none() {
            std::env::set_var(key, value.trim().trim_matches('"'));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/hearth"),
            "postgres://app:<redacted>@db:5432/hearth"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn the_embedded_log_lives_in_the_data_dir() {
        let s = StoreSettings {
            database_url: None,
            dir: DataDir {
                data_dir: "/tmp/elsewhere".into(),
            },
            master_key: None,
            master_key_previous: None,
        };
        assert_eq!(
            s.database_url(),
            "sqlite:///tmp/elsewhere/hearth.db?mode=rwc"
        );
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let x = XplanSettings {
            encryption_key: Some("k3y-value".into()),
            xplan_sync_interval_secs: 1,
            xplan_app_id: "a".into(),
            xplan_client_id: "c".into(),
            xplan_client_secret: "s3cret-value".into(),
            xplan_redirect_uri: None,
            xplan_scheme: "https".into(),
            xplan_timeout_secs: 1,
            xplan_site_suffixes: vec![],
        };
        let a = AuthSettings {
            jwt_secret: Some("jwt-s3cret".into()),
            jwt_algorithm: "HS256".into(),
            jwt_leeway_secs: 5,
        };
        let shown = format!("{x:?}{a:?}");
        for secret in ["k3y-value", "s3cret-value", "jwt-s3cret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
