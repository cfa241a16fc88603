//! The XPLAN HTTP client: OAuth, and calls with timeouts, retries with jittered backoff,
//! Retry-After, and one token refresh on 401. Nothing here logs a token or a client's data.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use hearth_domain::IntegrationId;
use reqwest::RequestBuilder;
use serde::Deserialize;
use serde_json::Value;

use super::{
    config::XplanConfig,
    error::XplanError,
    retry::{attempt_once, with_retries, Final},
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

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
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
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
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
        let sent = with_retries(&self.config.retry, true, || {
            attempt_once(
                self.http
                    .post(&url)
                    .header(shape::APP_ID_HEADER, &self.config.app_id)
                    .form(&form),
            )
        })
        .await;
        match sent {
            Ok(body) => {
                let t: TokenAnswer = serde_json::from_value(body)
                    .map_err(|e| XplanError::Unreadable(format!("token answer: {e}")))?;
                Ok(Tokens {
                    access_token: Secret::new(t.access_token),
                    refresh_token: Secret::new(t.refresh_token),
                    expires_at: now + chrono::Duration::seconds(t.expires_in.max(0)),
                })
            }
            // A used or revoked code or refresh token: only a new consent helps.
            Err(Final::Unauthorised)
            | Err(Final::Failed(XplanError::Rejected { status: 400, .. })) => {
                Err(XplanError::ConsentExpired)
            }
            Err(Final::Failed(e)) => Err(e),
        }
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
        loop {
            let tokens = self.tokens().await?;
            let sent = with_retries(&config.retry, retry, || {
                attempt_once(
                    build(&self.client.http, &base)
                        .bearer_auth(tokens.tokens.access_token.expose())
                        .header(shape::APP_ID_HEADER, &config.app_id)
                        .header(reqwest::header::ACCEPT, "application/json"),
                )
            })
            .await;
            match sent {
                Ok(v) => return Ok(v),
                Err(Final::Unauthorised) if !refreshed => {
                    refreshed = true;
                    self.refresh(&tokens).await?;
                }
                Err(Final::Unauthorised) => {
                    *self.current.lock().await = None;
                    self.recorder
                        .consent_expired(self.integration, "XPLAN refused fresh tokens (401)")
                        .await;
                    return Err(XplanError::ConsentExpired);
                }
                Err(Final::Failed(e)) => return Err(e),
            }
        }
    }

    /// One page of the clients the connected user can see; an empty page ends the list.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
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

    #[tracing::instrument(level = "debug", skip_all, fields(client = client_id), err(level = "debug"))]
    pub async fn client_list(&self, client_id: &str, list: &str) -> Result<Vec<Value>, XplanError> {
        let path = shape::client_list(client_id, list);
        as_list(
            self.call(|http, base| http.get(format!("{base}{path}")))
                .await?,
        )
    }

    #[tracing::instrument(level = "debug", skip_all, fields(user = user_id), err(level = "debug"))]
    pub async fn user(&self, user_id: &str) -> Result<Value, XplanError> {
        let path = shape::user(user_id);
        self.call(|http, base| http.get(format!("{base}{path}")))
            .await
    }

    /// Creates a file note; returns its docid.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn create_docnote(&self, note: &Value) -> Result<String, XplanError> {
        let v = self
            .create(|http, base| http.post(format!("{base}{}", shape::DOCNOTES)).json(note))
            .await?;
        v.get(shape::DOCNOTE_ID)
            .and_then(shape::plain)
            .ok_or_else(|| XplanError::Unreadable("the new note has no docid".into()))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
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
    #[tracing::instrument(level = "debug", skip_all, fields(client = client_id), err(level = "debug"))]
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
