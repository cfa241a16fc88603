//! The optional reason of a command that has no body of its own (a revoke, an archive, …):
//! given as `?reason=…` or as a JSON body `{"reason": "…"}`, never both.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::header,
};
use serde::Deserialize;

use crate::{extract::Query, problem::Problem};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReasonQuery {
    /// Why (recorded in the event and shown in the history); at most 1,000 characters.
    #[param(
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why (recorded in the event and shown in the history); at most 1,000 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

pub struct Reason(pub Option<String>);

impl<S: Send + Sync> FromRequest<S> for Reason {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let Query(query) =
            <Query<ReasonQuery> as axum::extract::FromRequestParts<S>>::from_request_parts(
                &mut parts, state,
            )
            .await?;
        let is_json = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| Problem::new(e.status(), "body_unreadable", e.body_text()))?;
        let from_body = if bytes.iter().all(u8::is_ascii_whitespace) {
            None
        } else if !is_json {
            return Err(Problem::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        } else {
            serde_json::from_slice::<ReasonBody>(&bytes)
                .map_err(|e| Problem::unprocessable("invalid_body", e.to_string()))?
                .reason
        };
        match (query.reason, from_body) {
            (Some(_), Some(_)) => Err(Problem::bad_request(
                "reason_given_twice",
                "give the reason either as ?reason= or in the body, not both",
            )),
            (q, b) => Ok(Reason(q.or(b))),
        }
    }
}
