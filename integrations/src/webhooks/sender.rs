//! Posts one delivery. The address is checked when the connection is made, like XPLAN calls: an
//! IP literal in an internal range is refused before the call, a name that resolves only into
//! internal ranges is refused by the resolver (DNS rebinding), redirects are not followed, and a
//! receiver that does not answer in time is a failed attempt.

use std::{sync::Arc, time::Duration};

use crate::xplan::address::{refused_literal, GuardedResolver};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("the receiver's address is internal and Hearth does not call it")]
    RefusedAddress,
    #[error("the receiver answered {0}")]
    Status(u16),
    #[error("the receiver did not answer within {0} s")]
    Timeout(u64),
    #[error("the receiver could not be reached: {0}")]
    Unreachable(String),
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    loopback_allowed: bool,
    timeout: Duration,
}

impl Sender {
    pub fn new(timeout: Duration, loopback_allowed: bool) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver { loopback_allowed }))
            .user_agent("Hearth-Webhooks/1")
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            loopback_allowed,
            timeout,
        })
    }

    /// Posts `body` (JSON) with its delivery id and signature; a 2xx answer is a delivery.
    pub async fn send(
        &self,
        url: &str,
        delivery_id: &str,
        signature: &str,
        body: Vec<u8>,
    ) -> Result<(), DeliveryError> {
        let parsed = url::Url::parse(url).map_err(|e| DeliveryError::Unreachable(e.to_string()))?;
        let host = parsed.host_str().unwrap_or_default();
        if refused_literal(host, self.loopback_allowed).is_some() {
            return Err(DeliveryError::RefusedAddress);
        }
        let answer = self
            .client
            .post(parsed)
            .header("content-type", "application/json")
            .header(super::signature::DELIVERY_HEADER, delivery_id)
            .header(super::signature::SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await;
        match answer {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(DeliveryError::Status(r.status().as_u16())),
            Err(e) if e.is_timeout() => Err(DeliveryError::Timeout(self.timeout.as_secs())),
            Err(e) if refused_by_resolver(&e) => Err(DeliveryError::RefusedAddress),
            Err(e) => Err(DeliveryError::Unreachable(without_url(&e))),
        }
    }
}

fn refused_by_resolver(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if s.to_string()
            .contains("resolves only to addresses Hearth does not call")
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// The error without the URL (whose query may carry a receiver's token).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<receiver>");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_internal_address_is_refused_when_the_delivery_is_made() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let strict = Sender::new(Duration::from_secs(2), false).unwrap();
        for url in [
            format!("http://127.0.0.1:{port}/hook"),
            format!("http://localhost:{port}/hook"),
            "https://169.254.169.254/latest".to_string(),
        ] {
            assert_eq!(
                strict.send(&url, "1.0", "t=0", b"{}".to_vec()).await,
                Err(DeliveryError::RefusedAddress),
                "{url}"
            );
        }
    }
}
