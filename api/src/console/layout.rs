//! The frame every page shares (navigation, sign-out, styles) and the page for a refusal. Styles
//! are inline and high-contrast; every control has a label and a visible focus ring.

use axum::{
    extract::FromRequestParts,
    http::{request::Parts, StatusCode},
    response::{Html, IntoResponse, Response},
};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::words;
use crate::problem::Problem;

const STYLE: &str = r#"
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fff;line-height:1.45}
header{background:#12324f;color:#fff;padding:.6rem 1.5rem;display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}
header a{color:#fff;font-weight:600;text-decoration:none;padding:.2rem .1rem}
header a:hover,header a:focus{text-decoration:underline}
header .brand{font-size:1.15rem;margin-right:1rem}
header form{margin-left:auto}
main{padding:1.2rem 1.5rem;max-width:72rem}
a{color:#0b4f9c}
:focus-visible{outline:3px solid #f2a900;outline-offset:2px}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.2rem}
th,td{border-bottom:1px solid #c9c9c9;padding:.45rem .6rem;text-align:left;vertical-align:top}
th{background:#eef2f6}
button{background:#0b4f9c;color:#fff;border:0;border-radius:4px;padding:.4rem .9rem;font-size:.95rem;cursor:pointer}
button.danger{background:#a4161a}
button.plain{background:#fff;color:#0b4f9c;border:1px solid #0b4f9c}
input,select,textarea{font-size:.95rem;padding:.35rem;border:1px solid #6b6b6b;border-radius:4px}
label{font-weight:600;margin-right:.3rem}
.inline{display:inline-flex;gap:.4rem;align-items:center;flex-wrap:wrap;margin:0}
.notice{background:#e6f4ea;border-left:5px solid #1e7b34;padding:.6rem 1rem;margin:.8rem 0}
.refusal{background:#fdecea;border-left:5px solid #a4161a;padding:.6rem 1rem;margin:.8rem 0}
.muted{color:#505050}
.card{border:1px solid #c9c9c9;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0}
.bar{position:relative;height:1.4rem;background:#f1f1f1;border-radius:3px;min-width:20rem}
.seg{position:absolute;top:0;bottom:0;border-radius:3px;color:#fff;font-size:.75rem;padding:0 .3rem;overflow:hidden;white-space:nowrap}
.h-primary{background:#12324f}.h-secondary{background:#2e6da4}.h-role{background:#5b6b2f}
.legend span{display:inline-block;padding:0 .5rem;margin-right:.5rem;color:#fff;border-radius:3px}
"#;

/// What the navigation needs: the practice, the user's name and the CSRF token for sign-out.
pub struct Nav {
    pub practice: Uuid,
    pub user: String,
    pub csrf: String,
}

pub fn page(title: &str, nav: Option<&Nav>, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " — Hearth console" }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    header {
                        a.brand href="/console" { "Hearth" }
                        @if let Some(n) = nav {
                            nav aria-label="Main" .inline {
                                a href={ "/console/practices/" (n.practice) "/households" } { "Households" }
                                a href={ "/console/practices/" (n.practice) "/staff" } { "Staff" }
                                a href={ "/console/practices/" (n.practice) "/report" } { "Access report" }
                                a href={ "/console/practices/" (n.practice) "/integrity" } { "Log integrity" }
                                a href={ "/console/practices/" (n.practice) "/webhooks" } { "Webhooks" }
                                a href={ "/console/practices/" (n.practice) "/practice" } { "Practice" }
                            }
                            form method="post" action="/console/sign-out" {
                                input type="hidden" name="csrf" value=(n.csrf);
                                span { (n.user) " " }
                                button.plain type="submit" { "Sign out" }
                            }
                        }
                    }
                    main { (body) }
                }
            }
        }
        .into_string(),
    )
}

/// A refusal or failure shown as a page, with the same status the API would answer.
pub struct PageError(pub Problem);

impl From<Problem> for PageError {
    fn from(p: Problem) -> Self {
        Self(p)
    }
}

impl From<hearth_projections::QueryError> for PageError {
    fn from(e: hearth_projections::QueryError) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let p = self.0;
        let body = html! {
            h1 { (words::refusal_title(&p)) }
            p.refusal role="alert" { (words::refusal_text(&p)) }
            p { a href="/console" { "Back to the console" } }
        };
        let status = p.status;
        let mut resp = (status, page(&words::refusal_title(&p), None, body)).into_response();
        if let Some(secs) = p.retry_after {
            if let Ok(v) = secs.to_string().parse() {
                resp.headers_mut().insert("retry-after", v);
            }
        }
        resp
    }
}

pub type PageResult = Result<Response, PageError>;

/// Path parameters whose rejection is a page, not JSON.
pub struct Ids<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Ids<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Ids(v))
            .map_err(|_| {
                PageError(Problem::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "no such page",
                ))
            })
    }
}

/// Query parameters whose rejection is a page, not JSON.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Params(v))
            .map_err(|e| PageError(Problem::bad_request("invalid_query", e.body_text())))
    }
}
