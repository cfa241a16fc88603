//! The backend-independent part of an append: check expected versions against the stream heads
//! and lay out the rows (versions and chained hashes) to insert.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::{
    error::StoreError,
    hashing::{event_hash, HashInput, GENESIS},
    model::{NewEvent, StreamAppend},
};

/// A stream's current head: last version and its hash.
pub(crate) type Heads = HashMap<String, (i64, [u8; 32])>;

pub(crate) struct Row<'a> {
    pub stream: &'a str,
    pub version: i64,
    pub event: &'a NewEvent,
    pub recorded_at: DateTime<Utc>,
    pub hash: [u8; 32],
}

pub(crate) fn validate(appends: &[StreamAppend]) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    if appends.is_empty() || !appends.iter().all(|a| seen.insert(a.stream.as_str())) {
        return Err(StoreError::InvalidAppend);
    }
    Ok(())
}

/// Stream names in a fixed order, so concurrent appends lock rows in the same order (no deadlock).
pub(crate) fn lock_order(appends: &[StreamAppend]) -> Vec<String> {
    let mut names: Vec<String> = appends.iter().map(|a| a.stream.clone()).collect();
    names.sort();
    names
}

pub(crate) fn plan<'a>(
    appends: &'a [StreamAppend],
    heads: &Heads,
    recorded_at: DateTime<Utc>,
) -> Result<Vec<Row<'a>>, StoreError> {
    let mut rows = Vec::with_capacity(appends.iter().map(|a| a.events.len()).sum());
    for append in appends {
        let head = heads.get(&append.stream);
        let current = head.map(|(v, _)| *v);
        if !append.expected.admits(current) {
            return Err(StoreError::Conflict {
                stream: append.stream.clone(),
                expected: append.expected,
                actual: current,
            });
        }
        let (mut version, mut prev) = head.copied().unwrap_or((0, GENESIS));
        for event in &append.events {
            version += 1;
            let hash = event_hash(
                &HashInput::of(&append.stream, version, event, recorded_at),
                &prev,
            );
            rows.push(Row {
                stream: &append.stream,
                version,
                event,
                recorded_at,
                hash,
            });
            prev = hash;
        }
    }
    Ok(rows)
}

/// The time stored with an append, truncated to what both databases keep exactly, so the hash
/// computed now equals the one recomputed from the row later.
pub(crate) fn recorded_at_now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

pub(crate) fn new_heads(rows: &[Row<'_>]) -> Vec<(String, i64, [u8; 32])> {
    let mut last: Vec<(String, i64, [u8; 32])> = Vec::new();
    for r in rows {
        match last.iter_mut().find(|(s, _, _)| s == r.stream) {
            Some(entry) => {
                entry.1 = r.version;
                entry.2 = r.hash;
            }
            None => last.push((r.stream.to_string(), r.version, r.hash)),
        }
    }
    last
}
