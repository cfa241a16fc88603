//! Group commit in the client. PostgreSQL already groups the WAL flushes of concurrent
//! transactions, but each append still pays its own statement, function call, executor start,
//! commit and signature. Here at most [`LANES`] appends of this process are in flight at once;
//! appends that arrive meanwhile wait, and the next free lane writes all of them as one
//! `hearth_append` call: one transaction, one signature over all their events.
//!
//! Each caller keeps its own guarantees: its expected versions are checked as before (no stream
//! is written by two appends of a group, nor written by one and checked by another), it gets its own positions, versions and cursor, and when the
//! group cannot be written as one (a head moved, a conflict, a duplicate id) every append of it
//! is written on its own exactly as an append outside a group is, so each caller gets the answer
//! it would have got alone. A group is all its appends or none, so nothing is half-written.
//! With one append waiting there is no group: it is written as it always was.

use std::{
    collections::{HashSet, VecDeque},
    ops::Range,
    sync::Arc,
};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Semaphore};

use super::append::{append, attempt, known_heads, Outcome};
use crate::{
    error::StoreError,
    heads::HeadCache,
    model::{AppendResult, Cursor, StreamAppend},
    signing::LogSigner,
};

/// Grouped appends in flight at once. Measured on two cores (`--bench log`, 16 writers of
/// single events): 2 lanes gave 0.74 of a plain INSERT, 4 lanes 0.70, 1 lane 0.71 — with one,
/// PostgreSQL idles during each round trip; with more, groups get smaller.
const LANES: usize = 2;
/// Appends of this many events or more gain nothing from a group (their statement is already
/// large) and are written at once, outside the lanes.
const ALONE_FROM_EVENTS: usize = 64;
/// The most events one group writes.
const MAX_GROUP_EVENTS: usize = 1_000;

type Reply = oneshot::Sender<Result<AppendResult, StoreError>>;

struct Request {
    appends: Vec<StreamAppend>,
    signer: Option<Arc<LogSigner>>,
    reply: Reply,
}

/// The sending side; the dispatcher runs as a task of the runtime that made the first append.
pub(crate) struct Grouper {
    requests: mpsc::UnboundedSender<Request>,
}

impl Grouper {
    pub fn start(pool: PgPool, heads: Arc<HeadCache>) -> Self {
        let (requests, rx) = mpsc::unbounded_channel();
        tokio::spawn(dispatch(rx, pool, heads));
        Grouper { requests }
    }

    /// Writes `appends` in the next group. When the dispatcher is gone (its runtime ended) it
    /// is written alone here instead.
    pub async fn append(
        &self,
        pool: &PgPool,
        appends: &[StreamAppend],
        signer: Option<Arc<LogSigner>>,
        heads: &HeadCache,
    ) -> Result<AppendResult, StoreError> {
        if appends.iter().map(|a| a.events.len()).sum::<usize>() >= ALONE_FROM_EVENTS {
            return append(pool, appends, signer.as_deref(), heads).await;
        }
        let (reply, answer) = oneshot::channel();
        let request = Request {
            appends: appends.to_vec(),
            signer,
            reply,
        };
        if let Err(mpsc::error::SendError(request)) = self.requests.send(request) {
            return append(pool, appends, request.signer.as_deref(), heads).await;
        }
        // Dropped unanswered only when the runtime shuts down mid-append: the outcome is unknown,
        // as after a lost connection.
        answer
            .await
            .unwrap_or(Err(StoreError::Database(sqlx::Error::PoolClosed)))
    }
}

async fn dispatch(mut rx: mpsc::UnboundedReceiver<Request>, pool: PgPool, heads: Arc<HeadCache>) {
    let lanes = Arc::new(Semaphore::new(LANES));
    let mut waiting: VecDeque<Request> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match rx.recv().await {
                Some(r) => waiting.push_back(r),
                None => return,
            }
        }
        let Ok(lane) = lanes.clone().acquire_owned().await else {
            return;
        };
        while let Ok(r) = rx.try_recv() {
            waiting.push_back(r);
        }
        let group = take_group(&mut waiting);
        let (pool, heads) = (pool.clone(), heads.clone());
        tokio::spawn(async move {
            write(&pool, &heads, group).await;
            drop(lane);
        });
    }
}

/// The first waiting append and every later one that can share its call: same signer, events
/// to write, within the size limit, and no stream one of them writes that another writes or
/// checks (appends that only check the same stream — commands guarded by their practice's
/// version — may share). The rest keep their order.
fn take_group(waiting: &mut VecDeque<Request>) -> Vec<Request> {
    let Some(first) = waiting.pop_front() else {
        return vec![];
    };
    if !writes(&first) {
        return vec![first];
    }
    let (mut written, mut checked) = (HashSet::new(), HashSet::new());
    let mut events = 0;
    let mut group: Vec<Request> = Vec::new();
    let mut kept = VecDeque::with_capacity(waiting.len());
    for r in std::iter::once(first).chain(std::mem::take(waiting)) {
        let fits = group.is_empty()
            || (writes(&r)
                && same_signer(&r.signer, &group[0].signer)
                && events + event_count(&r) <= MAX_GROUP_EVENTS
                && r.appends.iter().all(|a| {
                    !written.contains(a.stream.as_str())
                        && (a.events.is_empty() || !checked.contains(a.stream.as_str()))
                }));
        if !fits {
            kept.push_back(r);
            continue;
        }
        for a in &r.appends {
            if a.events.is_empty() {
                checked.insert(a.stream.clone());
            } else {
                written.insert(a.stream.clone());
            }
        }
        events += event_count(&r);
        group.push(r);
    }
    *waiting = kept;
    group
}

fn writes(r: &Request) -> bool {
    r.appends.iter().any(|a| !a.events.is_empty())
}

fn event_count(r: &Request) -> usize {
    r.appends.iter().map(|a| a.events.len()).sum()
}

fn same_signer(a: &Option<Arc<LogSigner>>, b: &Option<Arc<LogSigner>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a.key_id() == b.key_id(),
        _ => false,
    }
}

async fn write(pool: &PgPool, heads: &HeadCache, mut group: Vec<Request>) {
    if group.len() == 1 {
        let r = group.remove(0);
        let outcome = append(pool, &r.appends, r.signer.as_deref(), heads).await;
        let _ = r.reply.send(outcome);
        return;
    }
    // The group's appends side by side; each request owns a range of them.
    let mut appends = Vec::new();
    let mut owners: Vec<(Range<usize>, Reply)> = Vec::with_capacity(group.len());
    let signer = group[0].signer.clone();
    for r in group {
        let start = appends.len();
        appends.extend(r.appends);
        owners.push((start..appends.len(), r.reply));
    }
    match write_together(pool, heads, &appends, signer.as_deref()).await {
        Some((result, positions)) => {
            for (range, reply) in owners {
                let _ = reply.send(Ok(share(&appends, range, &result, &positions)));
            }
        }
        None => {
            // Each on its own, concurrently, as it would have been written outside a group.
            let alone = owners.into_iter().map(|(range, reply)| {
                let mine = &appends[range];
                let signer = signer.as_deref();
                async move {
                    let _ = reply.send(append(pool, mine, signer, heads).await);
                }
            });
            futures::future::join_all(alone).await;
        }
    }
}

/// One call for the whole group from the heads known here; `None` when it cannot be written
/// as one (heads unknown or moved, a conflict, a duplicate id, a failed connection), in which
/// case nothing of it was written.
async fn write_together(
    pool: &PgPool,
    heads: &HeadCache,
    appends: &[StreamAppend],
    signer: Option<&LogSigner>,
) -> Option<(AppendResult, Vec<i64>)> {
    let planned_from = known_heads(pool, appends, heads).await.ok()?;
    match attempt(pool, appends, &planned_from, signer, heads).await {
        // A position per event, or `share` could not split the result (cannot happen: the
        // function returns one per event; were it to, the re-sends below find them stored).
        Ok(Outcome::Written(result, positions))
            if positions.len() == appends.iter().map(|a| a.events.len()).sum::<usize>() =>
        {
            Some((result, positions))
        }
        _ => None,
    }
}

/// One request's part of a group's result: the positions of its own events, its streams'
/// versions, and the cursor of its last event (the group's transaction).
fn share(
    appends: &[StreamAppend],
    mine: Range<usize>,
    group: &AppendResult,
    positions: &[i64],
) -> AppendResult {
    let before: usize = appends[..mine.start].iter().map(|a| a.events.len()).sum();
    let count: usize = appends[mine.clone()].iter().map(|a| a.events.len()).sum();
    let own = &positions[before..before + count];
    let (first, last) = (own[0], own[count - 1]);
    let streams: HashSet<&str> = appends[mine.clone()]
        .iter()
        .filter(|a| !a.events.is_empty())
        .map(|a| a.stream.as_str())
        .collect();
    AppendResult {
        first_position: first,
        last_position: last,
        cursor: Cursor {
            tx: group.cursor.tx,
            position: last,
        },
        versions: group
            .versions
            .iter()
            .filter(|(s, _)| streams.contains(s.as_str()))
            .cloned()
            .collect(),
    }
}
