use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json, Router,
};
use serde_json::{json, Value};

use super::{
    faults::{Fault, Route},
    state::{Inner, RecordedAttachment, RecordedNote},
};
use crate::xplan::shape;

type Shared = Arc<Mutex<Inner>>;

pub(crate) fn router(inner: Shared) -> Router {
    Router::new()
        .route(shape::OAUTH_AUTHORISE, get(authorise))
        .route(shape::OAUTH_TOKEN, post(token))
        .route(shape::CLIENTS, get(clients))
        .route("/resourceful/entity/client-v3/{id}", get(client))
        .route(
            "/resourceful/entity/client-v3/{id}/{list}",
            get(client_list),
        )
        .route("/resourceful/entity/user-v2/{id}", get(user))
        .route(shape::DOCNOTES, post(create_note).get(list_notes))
        .route(
            "/resourceful/docnote-v2/{docid}/attachment-v3",
            post(attach),
        )
        .layer(axum::middleware::map_response(delay_answers))
        .with_state(inner)
}

fn lock(inner: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|p| p.into_inner())
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"user_message": message, "api_message": message})),
    )
        .into_response()
}

fn failure(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        // XPLAN's 500s are not always JSON.
        return (
            status,
            [(header::CONTENT_TYPE, "text/html")],
            "<html>Internal Server Error</html>",
        )
            .into_response();
    }
    error(status, status.canonical_reason().unwrap_or("error"))
}

/// A call held by a latency fault; released however the call ends (a caller that gives up
/// drops it mid-sleep).
struct Held(Shared);

impl Held {
    fn new(inner: &Shared) -> Self {
        lock(inner).faults.hold();
        Self(inner.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        lock(&self.0).faults.release();
    }
}

/// What happens to the answer once the work is done.
enum After {
    Fail(u16),
    Delay(std::time::Duration),
}

/// What the call meets before its handler runs: a fault, a delay, or the authentication check.
/// `Ok(after)`: go on, and apply `after` to the answer once the work is done.
async fn admit(
    inner: &Shared,
    route: Route,
    headers: Option<&HeaderMap>,
) -> Result<Option<After>, Response> {
    let (fault, app_id) = {
        let mut i = lock(inner);
        (i.faults.next(route), i.settings.app_id.clone())
    };
    let mut after = None;
    match fault {
        Some(Fault::Status(s)) => return Err(failure(s)),
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            return Err((
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, retry_after_secs.to_string())],
                Json(json!({"user_message": "slow down"})),
            )
                .into_response())
        }
        Some(Fault::Latency(d)) => {
            let _held = Held::new(inner);
            tokio::time::sleep(d).await;
        }
        Some(Fault::AfterEffect(s)) => after = Some(After::Fail(s)),
        Some(Fault::SlowAnswer(d)) => after = Some(After::Delay(d)),
        None => {}
    }
    if let Some(headers) = headers {
        if headers
            .get(shape::APP_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            != Some(app_id.as_str())
        {
            return Err(error(
                StatusCode::FORBIDDEN,
                "missing or unknown X-Xplan-App-Id",
            ));
        }
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !token.is_some_and(|t| lock(inner).token_valid(t)) {
            return Err(error(StatusCode::UNAUTHORIZED, "re-authenticate"));
        }
    }
    Ok(after)
}

fn finish(after: Option<After>, mut ok: Response) -> Response {
    match after {
        Some(After::Fail(s)) => failure(s),
        Some(After::Delay(d)) => {
            ok.extensions_mut().insert(DelayAnswer(d));
            ok
        }
        None => ok,
    }
}

/// Marks an answer to be held back (by the `delay_answers` layer, after every lock is released).
#[derive(Clone, Copy)]
struct DelayAnswer(std::time::Duration);

async fn delay_answers(response: Response) -> Response {
    if let Some(DelayAnswer(d)) = response.extensions().get::<DelayAnswer>().copied() {
        tokio::time::sleep(d).await;
    }
    response
}

/// The consent screen, answered "allow" at once: redirects back with a one-time code.
async fn authorise(
    State(inner): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let client_id = lock(&inner).settings.client_id.clone();
    if q.get("client_id") != Some(&client_id)
        || q.get("response_type").map(String::as_str) != Some("code")
    {
        return error(
            StatusCode::BAD_REQUEST,
            "unknown client_id or response_type",
        );
    }
    let Some(redirect) = q.get("redirect_uri") else {
        return error(StatusCode::BAD_REQUEST, "redirect_uri is required");
    };
    let state = q.get("state").cloned().unwrap_or_default();
    let code = lock(&inner).issue_code(&state);
    let query = serde_urlencoded::to_string([("code", code.as_str()), ("state", state.as_str())])
        .unwrap_or_default();
    let sep = if redirect.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{redirect}{sep}{query}")).into_response()
}

async fn token(State(inner): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    if let Err(r) = admit(&inner, Route::Token, None).await {
        return r;
    }
    let mut i = lock(&inner);
    if form.get("client_id") != Some(&i.settings.client_id)
        || form.get("client_secret") != Some(&i.settings.client_secret)
    {
        return error(StatusCode::UNAUTHORIZED, "invalid client");
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => match form.get("code").and_then(|c| i.codes.remove(c)) {
            Some(_) => Json(i.issue_tokens()).into_response(),
            None => error(StatusCode::BAD_REQUEST, "invalid or used code"),
        },
        Some("refresh_token") => match form.get("refresh_token").filter(|r| i.refresh.remove(*r)) {
            Some(_) => Json(i.issue_tokens()).into_response(),
            None => error(StatusCode::BAD_REQUEST, "invalid refresh token"),
        },
        _ => error(StatusCode::BAD_REQUEST, "unsupported grant_type"),
    }
}

async fn clients(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let after = match admit(&inner, Route::Clients, Some(&headers)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let param = |name: &str| q.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let fields: Vec<String> = q
        .iter()
        .filter(|(k, _)| k.starts_with("fields."))
        .map(|(_, v)| v.clone())
        .collect();
    let size: usize = param(shape::PAGE_SIZE)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    let from = match param(shape::PAGE_BOOKMARK) {
        Some(b) => match decode_bookmark(&b) {
            Some(id) => id + 1,
            None => return error(StatusCode::BAD_REQUEST, "invalid page_bookmark"),
        },
        None => 0,
    };
    let i = lock(&inner);
    let page: Vec<Value> = i
        .clients
        .range(from..)
        .take(size)
        .map(|(id, c)| {
            let mut item = serde_json::Map::new();
            item.insert(shape::ITEM_ID.into(), json!(id));
            item.insert(shape::ITEM_BOOKMARK.into(), json!(encode_bookmark(*id)));
            for f in &fields {
                if let Some(v) = c.fields.get(f) {
                    item.insert(f.clone(), v.clone());
                }
            }
            Value::Object(item)
        })
        .collect();
    finish(after, Json(page).into_response())
}

/// Opaque and base64-looking, like XPLAN's.
fn encode_bookmark(id: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("client:{id}"))
}

fn decode_bookmark(b: &str) -> Option<u64> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(b).ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("client:")?
        .parse()
        .ok()
}

async fn client(State(inner): State<Shared>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let after = match admit(&inner, Route::Client, Some(&headers)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let found = lock(&inner).clients.get(&id).map(|c| {
        let mut v = c.fields.clone();
        v.insert("id".into(), json!(id));
        Value::Object(v)
    });
    match found {
        Some(v) => finish(after, Json(v).into_response()),
        None => error(StatusCode::NOT_FOUND, "no such client"),
    }
}

async fn client_list(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path((id, list)): Path<(u64, String)>,
) -> Response {
    let after = match admit(&inner, Route::ClientList, Some(&headers)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let i = lock(&inner);
    let Some(c) = i.clients.get(&id) else {
        return error(StatusCode::NOT_FOUND, "no such client");
    };
    let items = match list.as_str() {
        shape::LIST_CONTACT => &c.contacts,
        shape::LIST_ADDRESS => &c.addresses,
        shape::LIST_INSURANCE => &c.policies,
        _ => return error(StatusCode::NOT_FOUND, "no such list"),
    };
    finish(after, Json(items.clone()).into_response())
}

async fn user(State(inner): State<Shared>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let after = match admit(&inner, Route::User, Some(&headers)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match lock(&inner).users.get(&id).cloned() {
        Some(u) => finish(after, Json(u).into_response()),
        None => error(StatusCode::NOT_FOUND, "no such user"),
    }
}

async fn create_note(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let after = match admit(&inner, Route::CreateNote, Some(&headers)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let valid = body.get("subject").and_then(Value::as_str).is_some()
        && body
            .get("entity_ids")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.is_empty());
    if !valid {
        return error(
            StatusCode::BAD_REQUEST,
            "subject and entity_ids are required",
        );
    }
    let mut i = lock(&inner);
    let docid = (70_000 + i.notes.len()).to_string();
    i.notes.push(RecordedNote {
        docid: docid.clone(),
        received_at: chrono::Utc::now(),
        body,
        attachments: vec![],
    });
    finish(
        after,
        Json(json!({ shape::DOCNOTE_ID: docid.parse::<u64>().unwrap_or(0) })).into_response(),
    )
}

async fn list_notes(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let after = match admit(&inner, Route::ListNotes, Some(&headers)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let entities: Vec<String> = q
        .iter()
        .filter(|(k, _)| k.starts_with("entity_ids"))
        .map(|(_, v)| v.clone())
        .collect();
    let i = lock(&inner);
    let notes: Vec<Value> = i
        .notes
        .iter()
        .filter(|n| {
            n.body
                .get("entity_ids")
                .and_then(Value::as_array)
                .is_some_and(|ids| {
                    ids.iter()
                        .any(|id| shape::plain(id).is_some_and(|id| entities.contains(&id)))
                })
        })
        .map(|n| {
            let mut v = n.body.clone();
            v[shape::DOCNOTE_ID] = json!(n.docid);
            // ASSUMED: a listed note names its attachments.
            v["attachments"] = json!(n
                .attachments
                .iter()
                .map(|a| json!({"filename": a.filename}))
                .collect::<Vec<_>>());
            v
        })
        .collect();
    finish(after, Json(notes).into_response())
}

async fn attach(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(docid): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let after = match admit(&inner, Route::Attachment, Some(&headers)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (Some(filename), Some(mimetype), Some(content)) = (
        body.get("filename").and_then(Value::as_str),
        body.get("mimetype").and_then(Value::as_str),
        body.get("content").and_then(shape::binary_bytes),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "filename, mimetype and Binary content are required",
        );
    };
    let mut i = lock(&inner);
    let Some(note) = i.notes.iter_mut().find(|n| n.docid == docid) else {
        return error(StatusCode::NOT_FOUND, "no such docnote");
    };
    note.attachments.push(RecordedAttachment {
        filename: filename.into(),
        mimetype: mimetype.into(),
        content,
    });
    finish(after, Json(json!({"ok": true})).into_response())
}
