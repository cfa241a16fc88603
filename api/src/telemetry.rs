//! Structured logs via tracing. JSON when `HEARTH_LOG_FORMAT=json`, human-readable otherwise.

use tracing_subscriber::{fmt, EnvFilter};

pub fn init() {
    let filter =
        EnvFilter::try_from_env("HEARTH_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("HEARTH_LOG_FORMAT").is_ok_and(|v| v == "json");
    // Logs go to stderr, always: stdout carries a command's answer (a token, a report, JSON) so
    // `X=$(hearth token …)` captures exactly that.
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    // try_init: tests may start several services in one process.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
