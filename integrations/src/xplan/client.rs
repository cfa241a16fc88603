//! The XPLAN HTTP client: OAuth, and calls with timeouts, retries with jittered backoff,
//! Retry-After, and one token refresh on 401. Nothing here logs a token or a client's data.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use hearth_domain::IntegrationId;
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use super::{
    config::XplanConfig,
    error::{Attempt, XplanError},
    secret::{Secret, Tokens},
    shape,
    vault::{ConsentRecorder, StoredTokens, TokenVault},
};

/// Tokens this close to expiry are refreshed before use rather than after a 401.
const REFRESH_MARGIN: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Clone)]
pub struct XplanClient {
    http: reqwest::Client,
    config: Arc<XplanConfig>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: String,
    expires_in: i64,
}

impl XplanClient {
    pub fn new(config: XplanConfig) -> Result<Self, XplanError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(super::address::GuardedResolver {
                loopback_allowed: config.loopback_allowed(),
            }))
            .build()
            .map_err(|e| XplanError::Unavailable {
                attempts: 0,
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            config: Arc::new(config),
        })
    }

    pub fn config(&self) -> &XplanConfig {
        &self.config
    }

    /// The base URL of a site Hearth may call: an IP literal never reaches the guarded resolver,
    /// so it is checked here.
    fn base(&self, forward_host: &str) -> Result<String, XplanError> {
        let host = match forward_host.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => forward_host,
        };
        match super::address::refused_literal(host, self.config.loopback_allowed()) {
            Some(ip) => Err(XplanError::Forbidden(ip.to_string())),
            None => Ok(self.config.base_url(forward_host)),
        }
    }

    /// Where to send the practice manager's browser to consent.
    pub fn authorisation_url(&self, forward_host: &str, state: &str) -> String {
        let query = serde_urlencoded::to_string([
            ("client_id", self.config.client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", self.config.redirect_uri.as_str()),
            ("state", state),
        ])
        .unwrap_or_default();
        format!(
            "{}{}?{query}",
            self.config.base_url(forward_host),
            shape::OAUTH_AUTHORISE
        )
    }

    pub async fn exchange_code(
        &self,
        forward_host: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Tokens, XplanError> {
        self.token_call(
            forward_host,
            &[("grant_type", "authorization_code"), ("code", code)],
            now,
        )
        .await
    }

    /// Refresh tokens rotate: the answer carries a new refresh token that replaces the old one.
    pub async fn refresh(
        &self,
        forward_host: &str,
        refresh_token: &Secret,
        now: DateTime<Utc>,
    ) -> Result<Tokens, XplanError> {
        self.token_call(
            forward_host,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose()),
            ],
            now,
        )
        .await
    }

    async fn token_call(
        &self,
        forward_host: &str,
        grant: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> Result<Tokens, XplanError> {
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", &self.config.client_id),
            ("client_secret", self.config.client_secret.expose()),
            ("redirect_uri", &self.config.redirect_uri),
        ];
        form.extend_from_slice(grant);
        let url = format!("{}{}", self.base(forward_host)?, shape::OAUTH_TOKEN);
        let policy = &self.config.retry;
        let mut last = String::new();
        for attempt in 0..policy.attempts {
            let request = self
                .http
                .post(&url)
                .header(shape::APP_ID_HEADER, &self.config.app_id)
                .form(&form);
            match attempt_once(request).await {
                Ok(body) => {
                    let t: TokenAnswer = serde_json::from_value(body)
                        .map_err(|e| XplanError::Unreadable(format!("token answer: {e}")))?;
                    return Ok(Tokens {
                        access_token: Secret::new(t.access_token),
                        refresh_token: Secret::new(t.refresh_token),
                        expires_at: now + chrono::Duration::seconds(t.expires_in.max(0)),
                    });
                }
                // A used or revoked code or refresh token: only a new consent helps.
                Err(Attempt::Unauthorised)
                | Err(Attempt::Fatal(XplanError::Rejected { status: 400, .. })) => {
                    return Err(XplanError::ConsentExpired)
                }
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Retryable {
                    reason,
                    retry_after,
                }) => {
                    last = reason;
                    if attempt + 1 < policy.attempts {
                        wait(policy, attempt, retry_after).await?;
                    }
                }
            }
        }
        Err(XplanError::Unavailable {
            attempts: policy.attempts,
            reason: last,
        })
    }

    pub fn session(
        &self,
        forward_host: &str,
        integration: IntegrationId,
        vault: Arc<dyn TokenVault>,
        recorder: Arc<dyn ConsentRecorder>,
    ) -> XplanSession {
        XplanSession {
            client: self.clone(),
            host: forward_host.to_string(),
            integration,
            vault,
            recorder,
            current: tokio::sync::Mutex::new(None),
        }
    }
}

async fn wait(
    policy: &super::config::RetryPolicy,
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
async fn attempt_once(request: RequestBuilder) -> Result<Value, Attempt> {
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
        StatusCode::TOO_MANY_REQUESTS => Err(Attempt::Retryable {
            reason: "429 too many requests".into(),
            retry_after,
        }),
        StatusCode::INTERNAL_SERVER_ERROR
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => Err(Attempt::Retryable {
            reason: format!("{}", s_code(status)),
            retry_after,
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

/// Calls on behalf of one integration, with its tokens. Shared by concurrent tasks: a refresh
/// happens once and the others use its result.
pub struct XplanSession {
    client: XplanClient,
    host: String,
    integration: IntegrationId,
    vault: Arc<dyn TokenVault>,
    recorder: Arc<dyn ConsentRecorder>,
    current: tokio::sync::Mutex<Option<StoredTokens>>,
}

impl XplanSession {
    async fn tokens(&self) -> Result<StoredTokens, XplanError> {
        let mut current = self.current.lock().await;
        if current.is_none() {
            *current = Some(
                self.vault
                    .load(self.integration)
                    .await?
                    .ok_or(XplanError::NotConnected)?,
            );
        }
        let stored = current.clone().ok_or(XplanError::NotConnected)?;
        drop(current);
        if stored.tokens.expires_at - REFRESH_MARGIN <= Utc::now() {
            return self.refresh(&stored).await;
        }
        Ok(stored)
    }

    /// Replaces `stale` tokens: by what another task or instance already stored, else by a
    /// refresh with XPLAN.
    async fn refresh(&self, stale: &StoredTokens) -> Result<StoredTokens, XplanError> {
        let mut current = self.current.lock().await;
        if let Some(c) = current.as_ref().filter(|c| c.version != stale.version) {
            return Ok(c.clone());
        }
        if let Some(v) = self
            .vault
            .load(self.integration)
            .await?
            .filter(|v| v.version != stale.version)
        {
            *current = Some(v.clone());
            return Ok(v);
        }
        let now = Utc::now();
        let tokens = match self
            .client
            .refresh(&self.host, &stale.tokens.refresh_token, now)
            .await
        {
            Ok(t) => t,
            Err(XplanError::ConsentExpired) => {
                // Another instance may have rotated the refresh token a moment ago.
                if let Some(v) = self
                    .vault
                    .load(self.integration)
                    .await?
                    .filter(|v| v.version != stale.version)
                {
                    *current = Some(v.clone());
                    return Ok(v);
                }
                *current = None;
                self.recorder
                    .consent_expired(self.integration, "XPLAN refused the refresh token")
                    .await;
                return Err(XplanError::ConsentExpired);
            }
            Err(e) => return Err(e),
        };
        let stored = match self
            .vault
            .replace(self.integration, Some(stale.version), &tokens)
            .await?
        {
            Some(version) => StoredTokens { tokens, version },
            None => self
                .vault
                .load(self.integration)
                .await?
                .ok_or(XplanError::NotConnected)?,
        };
        self.recorder
            .tokens_refreshed(self.integration, stored.tokens.expires_at)
            .await;
        *current = Some(stored.clone());
        Ok(stored)
    }

    /// Sends a request built by `build` (given the base URL), with retries and one refresh.
    async fn call<F>(&self, build: F) -> Result<Value, XplanError>
    where
        F: Fn(&reqwest::Client, &str) -> RequestBuilder,
    {
        self.call_with(build, true).await
    }

    /// Creating is not idempotent: after a 5xx or a timeout XPLAN may have created the note, so
    /// the caller must look before trying again. Only a 401 (refused before any work) is retried.
    async fn create<F>(&self, build: F) -> Result<Value, XplanError>
    where
        F: Fn(&reqwest::Client, &str) -> RequestBuilder,
    {
        self.call_with(build, false).await
    }

    async fn call_with<F>(&self, build: F, retry: bool) -> Result<Value, XplanError>
    where
        F: Fn(&reqwest::Client, &str) -> RequestBuilder,
    {
        let config = self.client.config();
        let base = self.client.base(&self.host)?;
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            let tokens = self.tokens().await?;
            let request = build(&self.client.http, &base)
                .bearer_auth(tokens.tokens.access_token.expose())
                .header(shape::APP_ID_HEADER, &config.app_id)
                .header(reqwest::header::ACCEPT, "application/json");
            match attempt_once(request).await {
                Ok(v) => return Ok(v),
                Err(Attempt::Unauthorised) if !refreshed => {
                    refreshed = true;
                    self.refresh(&tokens).await?;
                }
                Err(Attempt::Unauthorised) => {
                    *self.current.lock().await = None;
                    self.recorder
                        .consent_expired(self.integration, "XPLAN refused fresh tokens (401)")
                        .await;
                    return Err(XplanError::ConsentExpired);
                }
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Retryable {
                    reason,
                    retry_after,
                }) => {
                    attempt += 1;
                    // A 429 was refused before any work, so even a create may be sent again.
                    let refused = reason.starts_with("429");
                    if !(retry || refused) || attempt >= config.retry.attempts {
                        return Err(XplanError::Unavailable {
                            attempts: attempt,
                            reason,
                        });
                    }
                    tracing::debug!(integration = %self.integration, attempt, %reason, "XPLAN call will be retried");
                    wait(&config.retry, attempt - 1, retry_after).await?;
                }
            }
        }
    }

    /// One page of the clients the connected user can see; an empty page ends the list.
    pub async fn clients_page(
        &self,
        page_size: usize,
        bookmark: Option<&str>,
    ) -> Result<Vec<Value>, XplanError> {
        let mut query = shape::flattened("fields", &shape::CLIENT_FIELDS);
        query.push((shape::PAGE_SIZE.into(), page_size.to_string()));
        if let Some(b) = bookmark {
            query.push((shape::PAGE_BOOKMARK.into(), b.to_string()));
        }
        let v = self
            .call(|http, base| http.get(format!("{base}{}", shape::CLIENTS)).query(&query))
            .await?;
        as_list(v)
    }

    pub async fn client_list(&self, client_id: &str, list: &str) -> Result<Vec<Value>, XplanError> {
        let path = shape::client_list(client_id, list);
        as_list(
            self.call(|http, base| http.get(format!("{base}{path}")))
                .await?,
        )
    }

    pub async fn user(&self, user_id: &str) -> Result<Value, XplanError> {
        let path = shape::user(user_id);
        self.call(|http, base| http.get(format!("{base}{path}")))
            .await
    }

    /// Creates a file note; returns its docid.
    pub async fn create_docnote(&self, note: &Value) -> Result<String, XplanError> {
        let v = self
            .create(|http, base| http.post(format!("{base}{}", shape::DOCNOTES)).json(note))
            .await?;
        v.get(shape::DOCNOTE_ID)
            .and_then(shape::plain)
            .ok_or_else(|| XplanError::Unreadable("the new note has no docid".into()))
    }

    pub async fn attach(
        &self,
        docid: &str,
        filename: &str,
        mimetype: &str,
        content: &[u8],
    ) -> Result<(), XplanError> {
        let path = shape::attachment(docid);
        let body = serde_json::json!({"filename": filename, "mimetype": mimetype, "content": shape::binary(content)});
        self.create(|http, base| http.post(format!("{base}{path}")).json(&body))
            .await
            .map(|_| ())
    }

    /// Notes already on a client, to find one created before a crash.
    pub async fn docnotes_of(&self, client_id: &str) -> Result<Vec<Value>, XplanError> {
        let query = shape::flattened("entity_ids", &[client_id]);
        as_list(
            self.call(|http, base| http.get(format!("{base}{}", shape::DOCNOTES)).query(&query))
                .await?,
        )
    }
}

fn as_list(v: Value) -> Result<Vec<Value>, XplanError> {
    match v {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(vec![]),
        _ => Err(XplanError::Unreadable("expected a list".into())),
    }
}
