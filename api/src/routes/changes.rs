//! The change feed (issue 16): a practice's access changes in log order, as pages with a cursor
//! or as a live Server-Sent Events stream that resumes from `Last-Event-ID`.

use std::convert::Infallible;

use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
};
use chrono::{DateTime, Utc};
use hearth_domain::{
    access_changes::{ChangeKind, EffectiveAccess},
    PracticeId, StaffId,
};
use hearth_projections::{AccessChange, FeedCursor};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::Caller,
    authz::staff_of,
    consistency::{parse_position, unknown_position, wait_for_cursor, wait_for_position},
    extract::{Path, Query},
    problem::{ApiResult, Problem},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(changes))
}

/// Changes per page by default, and at most.
pub const DEFAULT_PAGE: u32 = 100;
pub const MAX_PAGE: u32 = 1_000;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChangeParams {
    /// Start after this change id (`{position}.{index}`) or after everything of the event at
    /// this log position (e.g. a position a command answered). Default: the beginning of the
    /// practice's history. A stream's `Last-Event-ID` header takes precedence.
    #[param(pattern = r"^[0-9]{1,18}(\.[0-9]{1,9})?$", example = "42.0")]
    pub after: Option<String>,
    /// Changes per page (1–1000, default 100). Pages only.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// A position a command answered: the read waits until the read model has applied it.
    #[param(example = "42")]
    pub at_least: Option<String>,
}

/// One (household, staff) pair whose effective access an event changed.
#[derive(Serialize, ToSchema)]
pub struct ChangeOut {
    /// `{position}.{index}`: pass as `after` (or `Last-Event-ID`) to continue after it.
    pub id: String,
    /// The log position of the event that made the change.
    pub position: String,
    pub kind: ChangeKind,
    /// The event's stable name, e.g. `household.staff_access_revoked`.
    pub event_type: &'static str,
    pub household_id: Uuid,
    pub staff_id: Uuid,
    /// What the staff member could do before (`null`: no access).
    pub before: Option<EffectiveAccess>,
    /// What they can do now (`null`: no access).
    pub after: Option<EffectiveAccess>,
    /// A staff id, `operator` or `system:<worker>`.
    pub actor: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<&AccessChange> for ChangeOut {
    fn from(c: &AccessChange) -> Self {
        ChangeOut {
            id: c.id(),
            position: c.position().to_string(),
            kind: c.kind,
            event_type: c.event_type.as_str(),
            household_id: c.household.0,
            staff_id: c.staff.0,
            before: c.before.clone(),
            after: c.after.clone(),
            actor: c.actor.to_string(),
            reason: c.reason.as_deref().map(String::from),
            at: c.at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ChangePageOut {
    pub changes: Vec<ChangeOut>,
    /// Pass as `after` for the next page (the same cursor when nothing was new).
    pub next: Option<String>,
    /// Nothing more is known right now: poll again later, or follow the stream.
    pub caught_up: bool,
}

/// A practice's access changes in log order — grants, role changes, revocations, expiries,
/// primary/secondary changes, staff (de)activation, and access gained or lost through manager
/// and assistant assignments — each with the household, the staff member, the effective access
/// before and after, actor, reason, time and position.
///
/// With `Accept: text/event-stream` the answer is a live stream (Server-Sent Events, event
/// `access_change`, id = change id) that resumes after `Last-Event-ID` on reconnect, on any
/// instance, without gaps or duplicates; comments keep it alive. Open streams are bounded
/// (`HEARTH_WATCH_MAX_STREAMS`): beyond, 503 `too_many_streams` with `Retry-After`.
///
/// Staff with "manage household access" or "export roster" see every change of the practice;
/// other active staff see the changes to their own access.
#[utoipa::path(get, path = "/v1/practices/{practice_id}/changes", params(ChangeParams),
    responses(
        (status = 200, description = "A page of changes, or the live stream", content(
            (ChangePageOut = "application/json"),
            (String = "text/event-stream"))),
        (status = 409, description = "No event was written at the `after` (or `Last-Event-ID`) position.", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn changes(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
    Query(q): Query<ChangeParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let practice = PracticeId(p);
    let streaming = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|_| streaming);
    let after = resume.or(q.after.as_deref());
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Problem::bad_request(
            "invalid_limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    wait_for_position(&state, q.at_least.as_deref()).await?;
    let me = staff_of(&state, caller, practice).await?;
    let only = crate::watch::scope(&state.projection.read(), practice, me).flatten();
    let from = resolve(&state, after).await?;
    if streaming {
        return stream(state, practice, me, only, from);
    }
    let page = state
        .projection
        .read()
        .changes_after(practice, from, limit as usize, only)?;
    let next = page.last_seen.or(Some(from)).map(render);
    Ok(axum::Json(ChangePageOut {
        changes: page.changes.iter().map(ChangeOut::from).collect(),
        next: next.filter(|n| n != "0"),
        caught_up: page.caught_up,
    })
    .into_response())
}

fn render(c: FeedCursor) -> String {
    match c.index {
        Some(i) => format!("{}.{i}", c.cursor.position),
        None => c.cursor.position.to_string(),
    }
}

/// The feed cursor of a change id or a log position. The event must exist; the read model is
/// waited for, so a cursor from another instance resumes exactly where it left off.
async fn resolve(state: &AppState, token: Option<&str>) -> ApiResult<FeedCursor> {
    let Some(token) = token else {
        return Ok(FeedCursor::START);
    };
    let invalid = || {
        Problem::bad_request(
            "invalid_cursor",
            "after (or Last-Event-ID) must be a change id `{position}.{index}` or a position",
        )
    };
    // Exactly as the feed wrote it (the contract's pattern): a position, one optional `.index`.
    let (position, index) = match token.split_once('.') {
        Some((p, i)) => (p, Some(i)),
        None => (token, None),
    };
    let position = parse_position(position).ok_or_else(invalid)?;
    let index = match index {
        Some(i) if (1..=9).contains(&i.len()) && i.bytes().all(|b| b.is_ascii_digit()) => {
            Some(i.parse::<u32>().map_err(|_| invalid())?)
        }
        Some(_) => return Err(invalid()),
        None => None,
    };
    if position == 0 {
        return Ok(FeedCursor::START);
    }
    let cursor = state.store.cursor_of(position).await?;
    let cursor = cursor.ok_or_else(|| unknown_position(position))?;
    wait_for_cursor(state, cursor).await?;
    Ok(FeedCursor { cursor, index })
}

fn stream(
    state: AppState,
    practice: PracticeId,
    me: StaffId,
    only: Option<StaffId>,
    from: FeedCursor,
) -> ApiResult<Response> {
    let permit = state
        .watch
        .streams
        .clone()
        .try_acquire_owned()
        .map_err(|_| {
            Problem::unavailable(
                "too_many_streams",
                "this instance serves as many change streams as it allows; retry shortly or page",
            )
            .with_retry_after(5)
        })?;
    let keep_alive = state.watch.keep_alive;
    let follower = crate::watch::Follower::new(state, practice, me, only, from, permit);
    let events = futures::stream::unfold(follower, |mut f| async move {
        let change = f.next().await?;
        let event = Event::default()
            .id(change.id())
            .event("access_change")
            .json_data(ChangeOut::from(&change))
            .unwrap_or_else(|_| Event::default().comment("unserialisable change"));
        Some((Ok::<_, Infallible>(event), f))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(keep_alive))
        .into_response())
}
