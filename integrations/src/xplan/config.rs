use std::time::Duration;

use super::secret::Secret;

/// Hearth's registration with Iress (one app for all practices) and how it calls XPLAN.
#[derive(Clone, Debug)]
pub struct XplanConfig {
    /// "https" in production. "http" only for the fake XPLAN in tests and demos.
    pub scheme: String,
    pub app_id: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Where XPLAN sends the browser back: Hearth's `/v1/xplan/oauth/callback`.
    pub redirect_uri: String,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// The XPLAN site domains a forward host must be under (`HEARTH_XPLAN_SITE_SUFFIXES`).
    pub site_suffixes: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A Retry-After longer than this is not waited for: the call fails as unavailable.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with full jitter, so many practices' workers do not retry in step.
    pub fn delay(&self, attempt: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(self.max_delay);
        let millis = cap.as_millis() as u64;
        Duration::from_millis(if millis == 0 {
            0
        } else {
            rand::random::<u64>() % (millis + 1)
        })
    }
}

impl XplanConfig {
    pub fn base_url(&self, forward_host: &str) -> String {
        format!("{}://{}", self.scheme, forward_host)
    }

    /// Only the development scheme (the fake XPLAN over `http`) may reach loopback.
    pub fn loopback_allowed(&self) -> bool {
        self.scheme == "http"
    }

    /// The forward hosts this deployment accepts, for set-up commands.
    pub fn host_policy(&self) -> hearth_domain::integration::HostPolicy {
        hearth_domain::integration::HostPolicy {
            site_suffixes: self.site_suffixes.clone(),
            loopback_allowed: self.loopback_allowed(),
        }
    }
}
