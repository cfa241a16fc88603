//! Structured logs via tracing. JSON when `HEARTH_LOG_FORMAT=json`, human-readable otherwise.

use tracing_subscriber::{fmt, EnvFilter};

pub fn init() {
    let filter =
        EnvFilter::try_from_env("HEARTH_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("HEARTH_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = fmt().with_env_filter(filter).with_target(false);
    // try_init: tests may start several services in one process.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
