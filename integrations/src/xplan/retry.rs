//! The one retry loop of every XPLAN call: classify an answer, wait (jittered backoff, or
//! Retry-After when XPLAN gives one) and send again while that is safe.

use std::{future::Future, time::Duration};

use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use super::{config::RetryPolicy, error::XplanError, shape};

/// One failed attempt, before the retry policy decides.
#[derive(Debug)]
pub(crate) enum Attempt {
    Unauthorised,
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
        /// XPLAN refused before doing any work (429, no connection), so resending cannot
        /// duplicate even a create.
        refused: bool,
    },
    Fatal(XplanError),
}

/// How a call ended once retries are spent: a 401 (the caller may refresh its tokens) or an error.
#[derive(Debug)]
pub(crate) enum Final {
    Unauthorised,
    Failed(XplanError),
}

/// Sends until an answer not worth retrying. A request that may have done work (5xx, timeout)
/// is sent again only when `idempotent`; one refused before any work always may be.
pub(crate) async fn with_retries<F, Fut>(
    policy: &RetryPolicy,
    idempotent: bool,
    mut send: F,
) -> Result<Value, Final>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Value, Attempt>>,
{
    let mut attempt = 0;
    loop {
        match send().await {
            Ok(v) => return Ok(v),
            Err(Attempt::Unauthorised) => return Err(Final::Unauthorised),
            Err(Attempt::Fatal(e)) => return Err(Final::Failed(e)),
            Err(Attempt::Retryable {
                reason,
                retry_after,
                refused,
            }) => {
                attempt += 1;
                if !(idempotent || refused) || attempt >= policy.attempts {
                    return Err(Final::Failed(XplanError::Unavailable {
                        attempts: attempt,
                        reason,
                    }));
                }
                tracing::debug!(attempt, %reason, "XPLAN call will be retried");
                wait(policy, attempt - 1, retry_after)
                    .await
                    .map_err(Final::Failed)?;
            }
        }
    }
}

async fn wait(
    policy: &RetryPolicy,
    attempt: u32,
    retry_after: Option<Duration>,
) -> Result<(), XplanError> {
    let delay = match retry_after {
        Some(d) if d > policy.max_retry_after => {
            return Err(XplanError::Unavailable {
                attempts: attempt + 1,
                reason: format!("XPLAN asked to wait {}s", d.as_secs()),
            })
        }
        Some(d) => d,
        None => policy.delay(attempt),
    };
    tokio::time::sleep(delay).await;
    Ok(())
}

/// One HTTP exchange, classified for the retry loop.
pub(crate) async fn attempt_once(request: RequestBuilder) -> Result<Value, Attempt> {
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            let reason = if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                "cannot connect".to_string()
            } else {
                "transport error".to_string()
            };
            return Err(Attempt::Retryable {
                reason,
                retry_after: None,
                // A connection never made carried no request: resending cannot duplicate.
                refused: e.is_connect(),
            });
        }
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = match response.bytes().await {
        Ok(b) => b,
        Err(e) => {
            let reason = if e.is_timeout() {
                "timed out reading the answer"
            } else {
                "the answer was cut off"
            };
            return Err(Attempt::Retryable {
                reason: reason.into(),
                retry_after: None,
                refused: false,
            });
        }
    };
    match status {
        s if s.is_success() => {
            if body.is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_slice(&body)
                .map_err(|e| Attempt::Fatal(XplanError::Unreadable(format!("{s}: {e}"))))
        }
        StatusCode::UNAUTHORIZED => Err(Attempt::Unauthorised),
        // Refused before any work, so even a create may be sent again.
        StatusCode::TOO_MANY_REQUESTS => Err(Attempt::Retryable {
            reason: "429 too many requests".into(),
            retry_after,
            refused: true,
        }),
        StatusCode::INTERNAL_SERVER_ERROR
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => Err(Attempt::Retryable {
            reason: s_code(status).to_string(),
            retry_after,
            refused: false,
        }),
        s => {
            // XPLAN's JSON error bodies carry a user_message; other bodies are not echoed, as
            // they may contain client data.
            let message = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| {
                    v.get(shape::ERROR_USER_MESSAGE)
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_else(|| s.canonical_reason().unwrap_or("error").to_string());
            Err(Attempt::Fatal(XplanError::Rejected {
                status: s.as_u16(),
                message,
            }))
        }
    }
}

fn s_code(status: StatusCode) -> String {
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
}
