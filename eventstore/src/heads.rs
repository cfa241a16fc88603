//! Stream heads this process has seen (read or written). An append chains and signs its hashes
//! from the head it starts at; knowing that head beforehand lets PostgreSQL check it and write
//! in the same statement, instead of locking and reading it first.
//!
//! Only a guess: `hearth_append` compares it with the locked head and writes nothing when they
//! differ. It is never wrong about the past (a stream's event at a version never changes), only
//! possibly behind.

use std::{collections::HashMap, sync::Mutex};

use crate::{
    model::{ExpectedVersion, StreamAppend},
    plan::Heads,
};

/// Above this many streams the cache starts over: a guess costs one round trip when missing.
const LIMIT: usize = 100_000;

/// What a check-only stream's head is planned as: its hash is never chained from.
const UNUSED_HASH: [u8; 32] = [0; 32];

#[derive(Default)]
pub(crate) struct HeadCache {
    heads: Mutex<HashMap<String, (i64, [u8; 32])>>,
}

impl HeadCache {
    /// Records heads that exist, keeping the newest of each stream.
    pub fn record<'a>(&self, heads: impl IntoIterator<Item = (&'a str, i64, [u8; 32])>) {
        let Ok(mut map) = self.heads.lock() else {
            return;
        };
        for (stream, version, hash) in heads {
            match map.get_mut(stream) {
                Some(known) if known.0 >= version => {}
                Some(known) => *known = (version, hash),
                None => {
                    if map.len() >= LIMIT {
                        map.clear();
                    }
                    map.insert(stream.to_string(), (version, hash));
                }
            }
        }
    }

    /// The heads the append most likely starts from, or None when a written stream's expected
    /// head is not known here (its hash must be read first).
    pub fn guess(&self, appends: &[StreamAppend]) -> Option<Heads> {
        let map = self.heads.lock().ok()?;
        let mut heads = Heads::new();
        for a in appends {
            let known = map.get(&a.stream).copied();
            let head = match (a.events.is_empty(), a.expected) {
                (_, ExpectedVersion::NoStream) => None,
                (true, ExpectedVersion::Exact(n)) => Some((n, UNUSED_HASH)),
                (true, ExpectedVersion::Any) => None,
                (false, ExpectedVersion::Exact(n)) => match known {
                    Some((v, hash)) if v == n => Some((n, hash)),
                    _ => return None,
                },
                // An unknown stream is most likely new.
                (false, ExpectedVersion::Any) => known,
            };
            if let Some(head) = head {
                heads.insert(a.stream.clone(), head);
            }
        }
        Some(heads)
    }
}
