//! Typed configuration: command-line flags, `HEARTH_*` environment variables and an optional
//! dotenv-style file (`--config` / `HEARTH_CONFIG`), in that order of precedence.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Args;

/// The embedded default: a SQLite file beside the working directory, so `cargo run` needs nothing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://hearth-data/hearth.db?mode=rwc";

#[derive(Args, Clone)]
pub struct Settings {
    /// Where the event log lives: `postgres://…` in production, `sqlite://…` (default) embedded.
    #[arg(long, env = "HEARTH_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Address the HTTP API listens on. Loopback by default; set 0.0.0.0:8080 behind a proxy.
    #[arg(long, env = "HEARTH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Directory for local state of the embedded default (SQLite file, generated dev keys).
    #[arg(long, env = "HEARTH_DATA_DIR", default_value = "hearth-data")]
    pub data_dir: PathBuf,

    /// HMAC secret (HS256) or PEM public key path (RS256/ES256) that verifies bearer tokens.
    /// When unset, a random secret is generated once into `<data dir>/jwt-secret` (development only).
    #[arg(long, env = "HEARTH_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// JWT algorithm: HS256 (default), HS384, HS512.
    #[arg(long, env = "HEARTH_JWT_ALGORITHM", default_value = "HS256")]
    pub jwt_algorithm: String,

    /// 32-byte key (base64) that encrypts OAuth tokens at rest. Generated into the data dir when unset.
    #[arg(long, env = "HEARTH_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,

    /// RabbitMQ URL for the file-note relay and consumer. Unset: an in-process queue is used.
    #[arg(long, env = "HEARTH_AMQP_URL", hide_env_values = true)]
    pub amqp_url: Option<String>,

    /// Prefix of the RabbitMQ exchanges and queues (`<prefix>.events`, `<prefix>.file-notes`, …).
    #[arg(long, env = "HEARTH_AMQP_PREFIX", default_value = "hearth")]
    pub amqp_prefix: String,

    /// How long a read with `at_least=<position>` waits for the projection before answering 503.
    #[arg(long, env = "HEARTH_READ_WAIT_MS", default_value_t = 5000)]
    pub read_wait_ms: u64,

    /// Largest accepted request body, in bytes (CSV uploads included).
    #[arg(long, env = "HEARTH_BODY_LIMIT", default_value_t = 2 * 1024 * 1024)]
    pub body_limit: usize,

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

    /// Seconds a graceful shutdown waits for in-flight requests.
    #[arg(long, env = "HEARTH_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,

    /// XPLAN site domains a forward host must be under (comma-separated; see README).
    #[arg(
        long,
        env = "HEARTH_XPLAN_SITE_SUFFIXES",
        value_delimiter = ',',
        default_values_t = hearth_domain::integration::DEFAULT_SITE_SUFFIXES.map(String::from)
    )]
    pub xplan_site_suffixes: Vec<String>,

    /// Seconds a bearer token is still accepted past its expiry (clock skew); keep it small.
    #[arg(long, env = "HEARTH_JWT_LEEWAY_SECS", default_value_t = crate::auth::DEFAULT_LEEWAY_SECS)]
    pub jwt_leeway_secs: u64,
}

impl Settings {
    pub fn read_wait(&self) -> Duration {
        Duration::from_millis(self.read_wait_ms)
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

// Secrets must never reach logs, so Debug is written by hand.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("jwt_algorithm", &self.jwt_algorithm)
            .field("jwt_leeway_secs", &self.jwt_leeway_secs)
            .field(
                "encryption_key",
                &self.encryption_key.as_ref().map(|_| "<redacted>"),
            )
            .field("amqp_url", &self.amqp_url.as_deref().map(redact_url))
            .field("amqp_prefix", &self.amqp_prefix)
            .field("read_wait_ms", &self.read_wait_ms)
            .field("body_limit", &self.body_limit)
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
}
