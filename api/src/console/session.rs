//! Console sign-in: the pasted bearer token lives in an HttpOnly, SameSite=Strict cookie (Secure
//! when the request came over https), and is verified on every request exactly as the API's
//! `Authorization` header is. Forms that change something carry a CSRF token derived from the
//! session token, so a page without the cookie's secret cannot forge one.

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderMap},
    response::{IntoResponse, Redirect, Response},
};
use sha2::{Digest, Sha256};

use crate::{auth::Caller, problem::Problem, state::AppState};

pub const COOKIE: &str = "hearth_session";

/// A signed-in console user.
pub struct Session {
    pub caller: Caller,
    pub csrf: String,
}

impl Session {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), Problem> {
        if sent.len() == self.csrf.len()
            && sent
                .bytes()
                .zip(self.csrf.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
        {
            Ok(())
        } else {
            Err(Problem::forbidden(
                "csrf_token_invalid",
                "this form has expired or did not come from the console; reload the page and try again",
            ))
        }
    }
}

/// The CSRF token bound to a session token.
pub fn csrf_for(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"hearth-console-csrf\0");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

pub fn token_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

pub fn set_cookie(headers: &HeaderMap, token: &str) -> String {
    let secure = if is_https(headers) { "; Secure" } else { "" };
    format!("{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict{secure}")
}

pub fn clear_cookie(headers: &HeaderMap) -> String {
    let secure = if is_https(headers) { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

/// Not signed in (or the token expired): back to the sign-in form.
pub struct SignInFirst;

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        Redirect::to("/console/sign-in").into_response()
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = SignInFirst;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = token_from(&parts.headers).ok_or(SignInFirst)?;
        let caller = state.keys.verify(&token).map_err(|_| SignInFirst)?;
        Ok(Session {
            caller,
            csrf: csrf_for(&token),
        })
    }
}
