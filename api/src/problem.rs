//! RFC 7807 `application/problem+json` responses. Every error leaves the API through here, so the
//! status mapping lives in one place and clients get a stable machine-readable `code`.

use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `https://hearth.dev/problems/{code}`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    #[schema(value_type = u16)]
    #[serde(serialize_with = "status_as_u16")]
    pub status: StatusCode,
    #[serde(skip)]
    pub retry_after: Option<u64>,
    /// Human-readable explanation, safe to show to a practice manager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable code clients can branch on, e.g. `last_primary_cannot_be_removed`.
    pub code: String,
}

fn status_as_u16<S: serde::Serializer>(s: &StatusCode, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_u16(s.as_u16())
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("https://hearth.dev/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status,
            detail: Some(bounded(detail.into())),
            code: code.to_string(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Says which item of a batch the problem is about.
    pub fn with_detail_prefix(mut self, prefix: &str) -> Self {
        self.detail = self.detail.map(|d| bounded(format!("{prefix}{d}")));
        self
    }
    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", detail)
    }
    pub fn forbidden(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, detail)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} was not found"),
        )
    }
    pub fn conflict(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }
    pub fn unprocessable(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }
    pub fn unavailable(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)
    }
    /// The database (or another dependency of ours) cannot be reached: retry shortly.
    pub fn outage(error: &dyn std::fmt::Display) -> Self {
        tracing::warn!(%error, "dependency unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service cannot reach its database right now; retry shortly",
        )
        .with_retry_after(OUTAGE_RETRY_AFTER_SECS)
    }
    /// For failures that are ours, not the client's: the detail stays in the server log.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred; it has been logged",
        )
    }
}

/// Characters of detail a problem carries at most: details may quote input (serde's messages
/// do), and a client must never get a megabyte of its own input back.
pub const DETAIL_MAX: usize = 300;

fn bounded(mut detail: String) -> String {
    if let Some((cut, _)) = detail.char_indices().nth(DETAIL_MAX) {
        detail.truncate(cut);
        detail.push('…');
    }
    detail
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        response
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.detail.as_deref().unwrap_or("")
        )
    }
}

pub type ApiResult<T> = Result<T, Problem>;

/// Seconds a client is told to wait when the database is unreachable.
pub const OUTAGE_RETRY_AFTER_SECS: u64 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detail_never_carries_more_than_the_bound() {
        let p = Problem::bad_request("invalid_body", "x".repeat(1_000_000));
        let detail = p.detail.unwrap();
        assert_eq!(
            detail.chars().count(),
            DETAIL_MAX + 1,
            "the bound and an ellipsis"
        );
        assert!(detail.ends_with('…'));
    }

    #[test]
    fn retry_after_reaches_the_response_header() {
        let r = Problem::outage(&"db down").into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            r.headers()[header::RETRY_AFTER],
            OUTAGE_RETRY_AFTER_SECS.to_string()
        );
    }
}
