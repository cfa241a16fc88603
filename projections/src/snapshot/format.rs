//! The snapshot's bytes and the checks that decide whether they may be used. Pure: no I/O.
//!
//! Layout: magic, format version (u32 LE), header length (u32 LE), header, body. Header and
//! body parts are MessagePack with field names, so internally tagged and renamed domain types
//! round-trip; the format version sits at a fixed offset so a snapshot of another format is
//! refused before its body is decoded. The body is a count of parts (u32 LE), each part's length
//! (u64 LE), then the parts: the model without its households and without the practices' change
//! lists, then the households in [`PARTS`] slices, then the change lists cut into about as many
//! slices (a practice's list in one or more of them, in order) — so that encoding and decoding
//! use every core (start-up time is decoding time, and one practice's change list was a third of
//! it on one core).

use hearth_eventstore::{Cursor, LogAnchor};
use serde::{Deserialize, Serialize};

use hearth_domain::HouseholdId;

use hearth_domain::PracticeId;

use crate::model::{AccessChange, AccessModel, HouseholdView};

/// The shape of the serialised model. Bump it whenever the model's fields or any type inside
/// them change shape; `snapshot_shape_is_pinned` (tests/snapshot.rs) fails until you do.
pub const FORMAT_VERSION: u32 = 4;

/// Slices the households, and the changes, are kept in: enough to share the work among a few
/// cores evenly.
const PARTS: usize = 8;

const MAGIC: &[u8; 8] = b"HEARTHSN";

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    /// The last event the snapshot covers.
    pub cursor: Cursor,
    pub anchor: LogAnchor,
    /// How many body parts after the first hold households; the rest hold changes.
    pub household_parts: u32,
}

/// Why a snapshot was not used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Discard {
    #[error("not a snapshot file")]
    NotASnapshot,
    #[error("written in snapshot format {found}, this build reads format {expected}")]
    OtherFormat { found: u32, expected: u32 },
    #[error("unreadable: {0}")]
    Unreadable(String),
    #[error("the log has no event at {0:?} (replaced or truncated)")]
    NotInLog(Cursor),
    #[error("the log's event at position {0} has another hash than the one the snapshot covers")]
    HashDiffers(i64),
    #[error("the snapshot covers {snapshot} events up to its cursor, the log holds {log}")]
    CountDiffers { snapshot: u64, log: u64 },
    #[error("the snapshot's header does not describe its body")]
    HeaderDisagrees,
}

pub fn encode(model: &AccessModel) -> Result<Vec<u8>, rmp_serde::encode::Error> {
    let households: Vec<_> = model.households.iter().collect();
    let per_part = households.len().div_ceil(PARTS).max(1);
    let household_slices: Vec<_> = households.chunks(per_part).collect();
    let change_slices = change_slices(model);
    let header = Header {
        format: FORMAT_VERSION,
        cursor: model.cursor(),
        anchor: LogAnchor {
            hash: model.last_hash(),
            events: model.events_applied(),
        },
        household_parts: household_slices.len() as u32,
    };
    let head = rmp_serde::to_vec_named(&header)?;
    let parts: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let rest = scope.spawn(|| rmp_serde::to_vec_named(&model.without_households()));
        let households: Vec<_> = household_slices
            .into_iter()
            .map(|slice| scope.spawn(move || rmp_serde::to_vec_named(slice)))
            .collect();
        let changes: Vec<_> = change_slices
            .into_iter()
            .map(|slice| scope.spawn(move || rmp_serde::to_vec_named(&slice)))
            .collect();
        std::iter::once(rest)
            .chain(households)
            .chain(changes)
            .map(|part| {
                part.join()
                    .expect("encoding a snapshot part does not panic")
            })
            .collect::<Result<_, _>>()
    })?;
    let total = parts.iter().map(Vec::len).sum::<usize>();
    let mut out = Vec::with_capacity(MAGIC.len() + 8 + head.len() + 4 + 8 * parts.len() + total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&u32::try_from(head.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&(parts.len() as u32).to_le_bytes());
    for part in &parts {
        out.extend_from_slice(&(part.len() as u64).to_le_bytes());
    }
    // Each part freed once copied: the snapshot is not held twice over.
    for part in parts {
        out.extend_from_slice(&part);
    }
    Ok(out)
}

/// Every practice's change list in slices of about an equal share of all changes, each slice
/// within one practice and the slices of a practice in order.
fn change_slices(model: &AccessModel) -> Vec<(PracticeId, &[AccessChange])> {
    let total: usize = model.practices.values().map(|p| p.changes.len()).sum();
    let per_part = total.div_ceil(PARTS).max(1);
    model
        .practices
        .iter()
        .flat_map(|(id, p)| p.changes.chunks(per_part).map(move |c| (*id, c)))
        .collect()
}

fn join<T>(part: std::thread::ScopedJoinHandle<'_, T>) -> T {
    part.join()
        .expect("decoding a snapshot part does not panic")
}

/// The body's parts, as slices of `body`.
fn parts(body: &[u8]) -> Result<Vec<&[u8]>, Discard> {
    let cut = || Discard::Unreadable("the body is cut short".into());
    let count = u32::from_le_bytes(body.get(..4).ok_or_else(cut)?.try_into().expect("4 bytes"));
    let table_end = 4 + 8 * count as usize;
    let table = body.get(4..table_end).ok_or_else(cut)?;
    let mut at = table_end;
    let mut parts = Vec::with_capacity(count as usize);
    for len in table.chunks_exact(8) {
        let len = usize::try_from(u64::from_le_bytes(len.try_into().expect("8 bytes")))
            .map_err(|_| cut())?;
        let end = at.checked_add(len).ok_or_else(cut)?;
        parts.push(body.get(at..end).ok_or_else(cut)?);
        at = end;
    }
    if parts.is_empty() || at != body.len() {
        return Err(Discard::Unreadable("the body's parts do not add up".into()));
    }
    Ok(parts)
}

/// How many bytes of a snapshot hold the model's rest, its households and its changes: where a
/// snapshot's (and roughly the model's) size goes. Zeros for bytes that are not a snapshot.
pub fn part_sizes(bytes: &[u8]) -> (usize, usize, usize) {
    let Ok((header, body)) = read_header(bytes) else {
        return (0, 0, 0);
    };
    let Ok(parts) = parts(&bytes[body..]) else {
        return (0, 0, 0);
    };
    let household_end = (1 + header.household_parts as usize).min(parts.len());
    let sum = |ps: &[&[u8]]| ps.iter().map(|p| p.len()).sum::<usize>();
    (
        parts[0].len(),
        sum(&parts[1..household_end]),
        sum(&parts[household_end..]),
    )
}

/// The header alone, and where the body starts: enough to check the snapshot against the log
/// before paying for the body.
pub fn read_header(bytes: &[u8]) -> Result<(Header, usize), Discard> {
    let fixed = MAGIC.len() + 8;
    if bytes.len() < fixed || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Discard::NotASnapshot);
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let format = word(MAGIC.len());
    if format != FORMAT_VERSION {
        return Err(Discard::OtherFormat {
            found: format,
            expected: FORMAT_VERSION,
        });
    }
    let len = word(MAGIC.len() + 4) as usize;
    let head = bytes
        .get(fixed..fixed + len)
        .ok_or_else(|| Discard::Unreadable("the header is cut short".into()))?;
    let header: Header =
        rmp_serde::from_slice(head).map_err(|e| Discard::Unreadable(e.to_string()))?;
    if header.format != format {
        return Err(Discard::HeaderDisagrees);
    }
    Ok((header, fixed + len))
}

/// The whole snapshot: the header and the model it describes.
pub fn decode(bytes: &[u8]) -> Result<(Header, AccessModel), Discard> {
    let (header, body) = read_header(bytes)?;
    let parts = parts(&bytes[body..])?;
    let household_end = 1 + header.household_parts as usize;
    if household_end > parts.len() {
        return Err(Discard::HeaderDisagrees);
    }
    let unreadable = |e: rmp_serde::decode::Error| Discard::Unreadable(e.to_string());
    let (model, households, changes) = std::thread::scope(|scope| {
        let households: Vec<_> = parts[1..household_end]
            .iter()
            .map(|part| {
                scope
                    .spawn(move || rmp_serde::from_slice::<Vec<(HouseholdId, HouseholdView)>>(part))
            })
            .collect();
        let changes: Vec<_> = parts[household_end..]
            .iter()
            .map(|part| {
                scope.spawn(move || rmp_serde::from_slice::<(PracticeId, Vec<AccessChange>)>(part))
            })
            .collect();
        let model = rmp_serde::from_slice::<AccessModel>(parts[0]).map_err(unreadable);
        let households = households
            .into_iter()
            .map(join)
            .collect::<Result<Vec<_>, _>>()
            .map_err(unreadable);
        let changes = changes
            .into_iter()
            .map(join)
            .collect::<Result<Vec<_>, _>>()
            .map_err(unreadable);
        (model, households, changes)
    });
    let (mut model, households, changes) = (model?, households?, changes?);
    if !model.households.is_empty() || model.practices.values().any(|p| !p.changes.is_empty()) {
        return Err(Discard::Unreadable(
            "households or changes outside their parts".into(),
        ));
    }
    model
        .households
        .reserve(households.iter().map(Vec::len).sum());
    model.households.extend(households.into_iter().flatten());
    for (practice, slice) in changes {
        let Some(p) = model.practices.get_mut(&practice) else {
            return Err(Discard::Unreadable(format!(
                "changes of practice {practice:?}, which the snapshot does not hold"
            )));
        };
        if p.changes.is_empty() {
            p.changes = slice;
        } else {
            p.changes.extend(slice);
        }
    }
    let described = model.cursor() == header.cursor
        && model.last_hash() == header.anchor.hash
        && model.events_applied() == header.anchor.events;
    if !described {
        return Err(Discard::HeaderDisagrees);
    }
    Ok((header, model))
}

/// Whether the log still is the one the snapshot was taken from, given what the log holds at the
/// snapshot's cursor (`None`: no event there).
pub fn check_against_log(header: &Header, in_log: Option<LogAnchor>) -> Result<(), Discard> {
    let Some(found) = in_log else {
        return Err(Discard::NotInLog(header.cursor));
    };
    if found.hash != header.anchor.hash {
        return Err(Discard::HashDiffers(header.cursor.position));
    }
    if found.events != header.anchor.events {
        return Err(Discard::CountDiffers {
            snapshot: header.anchor.events,
            log: found.events,
        });
    }
    Ok(())
}
