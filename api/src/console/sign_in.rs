//! Sign-in (paste a bearer token), sign-out, and the console's front door.

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::{
    form,
    layout::{page, PageError, PageResult},
    session::{clear_cookie, set_cookie, token_from, Session},
};
use crate::{auth::Caller, state::AppState};

/// Signed in: the household search of the user's practice; otherwise the sign-in form.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match token_from(&headers).map(|t| state.keys.verify(&t)) {
        Some(Ok(Caller::Staff { practice, .. })) => {
            Redirect::to(&format!("/console/practices/{practice}/households")).into_response()
        }
        _ => Redirect::to("/console/sign-in").into_response(),
    }
}

fn sign_in_page(status: StatusCode, refusal: Option<&str>) -> Response {
    let body = html! {
        h1 { "Sign in to the Hearth console" }
        @if let Some(r) = refusal { p.refusal role="alert" { (r) } }
        p { "Paste the bearer token your practice issued to you. In development, "
            code { "hearth token --practice <id> --staff <id>" } " prints one." }
        form method="post" action="/console/sign-in" {
            p {
                label for="token" { "Access token" }
                br;
                textarea #token name="token" rows="4" cols="70" required autocomplete="off" spellcheck="false" {}
            }
            button type="submit" { "Sign in" }
        }
    };
    (status, page("Sign in", None, body)).into_response()
}

pub async fn form_page() -> Response {
    sign_in_page(StatusCode::OK, None)
}

#[derive(Deserialize)]
struct SignIn {
    token: String,
}

pub async fn sign_in(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let token = match super::form::<SignIn>(&body) {
        Ok(f) => f.token.trim().to_string(),
        Err(_) => String::new(),
    };
    // Another site must not sign a browser in with its own token (login CSRF).
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return sign_in_page(
            StatusCode::FORBIDDEN,
            Some("Sign in from the console's own sign-in page."),
        );
    }
    // A token is only ever placed in the cookie after it verified, and never logged.
    match state.keys.verify(&token) {
        Ok(Caller::Staff { practice, .. }) => (
            [(header::SET_COOKIE, set_cookie(&headers, &token))],
            Redirect::to(&format!("/console/practices/{practice}/households")),
        )
            .into_response(),
        Ok(Caller::Operator) => sign_in_page(
            StatusCode::FORBIDDEN,
            Some("The console is for a practice's staff; the platform operator uses the API."),
        ),
        Err(_) => sign_in_page(
            StatusCode::UNAUTHORIZED,
            Some("That token was not accepted: it may have expired or been mistyped."),
        ),
    }
}

#[derive(Deserialize)]
struct Csrf {
    csrf: String,
}

pub async fn sign_out(session: Session, headers: HeaderMap, body: Bytes) -> PageResult {
    let sent: Csrf = form(&body)?;
    session.check_csrf(&sent.csrf).map_err(PageError)?;
    Ok((
        [(header::SET_COOKIE, clear_cookie(&headers))],
        Redirect::to("/console/sign-in"),
    )
        .into_response())
}
