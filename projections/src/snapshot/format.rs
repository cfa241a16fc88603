//! The snapshot's bytes and the checks that decide whether they may be used. No files: it
//! writes to any writer and reads from any reader.
//!
//! Layout: magic, format version (u32 LE), header length (u32 LE), header, then the body's
//! parts, each its length (u64 LE) and its bytes: the model without its households and without
//! the practices' change lists, then the households in slices, then the change lists in slices
//! (a practice's list in one or more of them, in order); the header says how many of each.
//! Header and parts are MessagePack with field names, so internally tagged and renamed domain
//! types round-trip — except the change rows, plain numbers written as arrays. The format
//! version sits at a fixed offset, so a snapshot of another format is refused before its body
//! is read.
//!
//! Parts are encoded and decoded a few at a time on every core (start-up time is decoding
//! time), and written or read as they go: only those in flight are in memory beside the model.
//! Holding the whole encoded snapshot as well doubled the service's memory while it wrote one,
//! and at 10M events that was more than the machine had.

use std::io::{Read, Write};

use hearth_eventstore::{Cursor, LogAnchor};
use serde::{Deserialize, Serialize};

use hearth_domain::{HouseholdId, PracticeId};

use crate::model::{AccessModel, ChangeRow, HouseholdView};

/// The shape of the serialised model. Bump it whenever the model's fields or any type inside
/// them change shape; `snapshot_shape_is_pinned` (tests/snapshot.rs) fails until you do.
pub const FORMAT_VERSION: u32 = 7;

/// At least this many slices of households, and of changes, so every core has a share.
const MIN_PARTS: usize = 8;
/// At most this many households or changes per slice: the slices in flight stay small beside
/// the model (~60 MB and ~15 MB encoded).
const HOUSEHOLDS_PER_PART: usize = 8_192;
const CHANGES_PER_PART: usize = 131_072;

/// At most this many encoded parts in memory at once (~0.5 GB at the slices' largest).
const MOST_IN_FLIGHT: usize = 8;

const MAGIC: &[u8; 8] = b"HEARTHSN";
const FIXED: usize = MAGIC.len() + 8;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    /// The last event the snapshot covers.
    pub cursor: Cursor,
    pub anchor: LogAnchor,
    /// How many households the parts hold (the map is sized once, not grown part by part).
    pub households: u64,
    /// How many parts after the first hold households, and how many after those hold changes.
    pub household_parts: u32,
    pub change_parts: u32,
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

/// Bytes of the encoded parts: the model's rest, its households, its changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PartSizes {
    pub rest: u64,
    pub households: u64,
    pub changes: u64,
}

enum Part<'m> {
    Rest(&'m AccessModel),
    Households(&'m [(&'m HouseholdId, &'m HouseholdView)]),
    Changes(PracticeId, &'m [ChangeRow]),
}

impl Part<'_> {
    fn encode(&self) -> Result<Vec<u8>, rmp_serde::encode::Error> {
        match self {
            Part::Rest(model) => rmp_serde::to_vec_named(model),
            Part::Households(slice) => rmp_serde::to_vec_named(slice),
            // Rows are plain numbers: arrays, not maps of named fields.
            Part::Changes(practice, slice) => rmp_serde::to_vec(&(practice, slice)),
        }
    }
}

fn per_part(items: usize, most: usize) -> usize {
    items.div_ceil(MIN_PARTS).clamp(1, most)
}

/// Parts decoded (or encoded) at once: one per core, twice over so a slow part does not leave
/// the other cores idle at the end of a wave; never more than [`MOST_IN_FLIGHT`], so what sits
/// in memory beside the model stays bounded on a machine of many cores too.
fn wave() -> usize {
    (2 * std::thread::available_parallelism().map_or(1, |n| n.get())).min(MOST_IN_FLIGHT)
}

/// Writes the snapshot of `model` to `out`, part by part.
pub fn encode_to(model: &AccessModel, out: &mut impl Write) -> std::io::Result<PartSizes> {
    let households: Vec<(&HouseholdId, &HouseholdView)> =
        model.households.iter().map(|(id, h)| (id, &**h)).collect();
    let per_change_part = per_part(
        model.practices.values().map(|p| p.changes.len()).sum(),
        CHANGES_PER_PART,
    );
    let changes: Vec<Part<'_>> = model
        .practices
        .iter()
        .flat_map(|(id, p)| {
            p.changes
                .rows()
                .chunks(per_change_part)
                .map(move |c| Part::Changes(*id, c))
        })
        .collect();
    let household_parts: Vec<Part<'_>> = households
        .chunks(per_part(households.len(), HOUSEHOLDS_PER_PART))
        .map(Part::Households)
        .collect();
    let header = Header {
        format: FORMAT_VERSION,
        cursor: model.cursor(),
        anchor: LogAnchor {
            hash: model.last_hash(),
            events: model.events_applied(),
        },
        households: households.len() as u64,
        household_parts: household_parts.len() as u32,
        change_parts: changes.len() as u32,
    };
    let head = rmp_serde::to_vec_named(&header).map_err(std::io::Error::other)?;
    out.write_all(MAGIC)?;
    out.write_all(&FORMAT_VERSION.to_le_bytes())?;
    out.write_all(&u32::try_from(head.len()).unwrap_or(u32::MAX).to_le_bytes())?;
    out.write_all(&head)?;
    let parts: Vec<Part<'_>> = std::iter::once(Part::Rest(model))
        .chain(household_parts)
        .chain(changes)
        .collect();
    let mut sizes = PartSizes::default();
    for wave in parts.chunks(wave()) {
        let encoded: Vec<Vec<u8>> = std::thread::scope(|scope| {
            wave.iter()
                .map(|part| scope.spawn(move || part.encode()))
                .collect::<Vec<_>>()
                .into_iter()
                .map(|t| t.join().expect("encoding a snapshot part does not panic"))
                .collect::<Result<_, _>>()
        })
        .map_err(std::io::Error::other)?;
        for (part, bytes) in wave.iter().zip(encoded) {
            out.write_all(&(bytes.len() as u64).to_le_bytes())?;
            out.write_all(&bytes)?;
            let size = bytes.len() as u64;
            match part {
                Part::Rest(_) => sizes.rest += size,
                Part::Households(_) => sizes.households += size,
                Part::Changes(..) => sizes.changes += size,
            }
        }
    }
    Ok(sizes)
}

/// The snapshot as bytes (tests, small models).
pub fn encode(model: &AccessModel) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_to(model, &mut out)?;
    Ok(out)
}

fn cut(e: std::io::Error) -> Discard {
    Discard::Unreadable(format!("cut short: {e}"))
}

/// The header alone: enough to check the snapshot against the log before paying for the body.
/// Leaves `input` at the body.
pub fn read_header_from(input: &mut impl Read) -> Result<Header, Discard> {
    let mut fixed = [0u8; FIXED];
    input
        .read_exact(&mut fixed)
        .map_err(|_| Discard::NotASnapshot)?;
    if &fixed[..MAGIC.len()] != MAGIC {
        return Err(Discard::NotASnapshot);
    }
    let word = |at: usize| u32::from_le_bytes(fixed[at..at + 4].try_into().expect("4 bytes"));
    let format = word(MAGIC.len());
    if format != FORMAT_VERSION {
        return Err(Discard::OtherFormat {
            found: format,
            expected: FORMAT_VERSION,
        });
    }
    let head = read_exactly(input, u64::from(word(MAGIC.len() + 4)))?;
    let header: Header =
        rmp_serde::from_slice(&head).map_err(|e| Discard::Unreadable(e.to_string()))?;
    if header.format != format {
        return Err(Discard::HeaderDisagrees);
    }
    Ok(header)
}

/// The header of a snapshot held in memory.
pub fn read_header(bytes: &[u8]) -> Result<Header, Discard> {
    read_header_from(&mut &bytes[..])
}

/// `len` bytes, read as they come: a damaged length cannot make it allocate more than the input
/// holds.
fn read_exactly(input: &mut impl Read, len: u64) -> Result<Vec<u8>, Discard> {
    let mut bytes = Vec::new();
    input.take(len).read_to_end(&mut bytes).map_err(cut)?;
    if bytes.len() as u64 != len {
        return Err(Discard::Unreadable("the body is cut short".into()));
    }
    Ok(bytes)
}

enum Decoded {
    Rest(Box<AccessModel>),
    Households(Vec<(HouseholdId, Box<HouseholdView>)>),
    Changes(PracticeId, Vec<ChangeRow>),
}

/// The body after `header` (read by [`read_header_from`]): the model it describes.
pub fn decode_body(header: &Header, input: &mut impl Read) -> Result<AccessModel, Discard> {
    let households_end = 1 + header.household_parts as usize;
    let count = households_end + header.change_parts as usize;
    let mut model: Option<AccessModel> = None;
    let mut index = 0;
    // Sized from the header only up to what the body could hold: a damaged count must not
    // reserve memory the snapshot does not need.
    let mut reserve = usize::try_from(header.households)
        .unwrap_or(0)
        .min(header.household_parts as usize * HOUSEHOLDS_PER_PART);
    while index < count {
        let n = wave().min(count - index);
        let mut parts = Vec::with_capacity(n);
        for k in index..index + n {
            let mut len = [0u8; 8];
            input.read_exact(&mut len).map_err(cut)?;
            parts.push((k, read_exactly(input, u64::from_le_bytes(len))?));
        }
        let decoded: Vec<Decoded> = std::thread::scope(|scope| {
            parts
                .iter()
                .map(|(k, bytes)| {
                    let k = *k;
                    scope.spawn(move || decode_part(k, households_end, bytes))
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|t| t.join().expect("decoding a snapshot part does not panic"))
                .collect::<Result<_, _>>()
        })?;
        drop(parts);
        for part in decoded {
            merge(&mut model, part)?;
            if let Some(m) = model.as_mut().filter(|_| reserve > 0) {
                // A count the memory cannot hold (a damaged header) just leaves the map to grow.
                let _ = m.households.try_reserve(std::mem::take(&mut reserve));
            }
        }
        index += n;
    }
    let mut extra = [0u8; 1];
    if input.read(&mut extra).map_err(cut)? != 0 {
        return Err(Discard::Unreadable("the body's parts do not add up".into()));
    }
    let mut model = model.ok_or_else(|| Discard::Unreadable("no model in the body".into()))?;
    // Each list grew slice by slice, to up to twice its length. An eighth is left spare so the
    // first changes after start-up do not copy the whole list under the model's lock.
    for p in model.practices.values_mut() {
        p.changes.shrink_to(p.changes.len() + p.changes.len() / 8);
    }
    // Households decode apart from the names their history rows point into: a row naming an
    // actor or event type the snapshot does not hold means a damaged snapshot, not a history.
    if let Some(h) = model
        .households
        .values()
        .find(|h| !h.history_named_in(&model.history_names))
    {
        return Err(Discard::Unreadable(format!(
            "household {:?} has history naming what the snapshot does not hold",
            h.id
        )));
    }
    let described = model.cursor() == header.cursor
        && model.last_hash() == header.anchor.hash
        && model.events_applied() == header.anchor.events;
    if !described {
        return Err(Discard::HeaderDisagrees);
    }
    Ok(model)
}

fn decode_part(index: usize, households_end: usize, bytes: &[u8]) -> Result<Decoded, Discard> {
    let unreadable = |e: rmp_serde::decode::Error| Discard::Unreadable(e.to_string());
    Ok(if index == 0 {
        Decoded::Rest(Box::new(rmp_serde::from_slice(bytes).map_err(unreadable)?))
    } else if index < households_end {
        Decoded::Households(rmp_serde::from_slice(bytes).map_err(unreadable)?)
    } else {
        let (practice, changes) = rmp_serde::from_slice(bytes).map_err(unreadable)?;
        Decoded::Changes(practice, changes)
    })
}

/// Parts arrive in order, so the rest of the model is there before any households or changes.
fn merge(model: &mut Option<AccessModel>, part: Decoded) -> Result<(), Discard> {
    let outside = || Discard::Unreadable("households or changes outside their parts".into());
    match (model.as_mut(), part) {
        (None, Decoded::Rest(rest)) => {
            if !rest.households.is_empty() || rest.practices.values().any(|p| !p.changes.is_empty())
            {
                return Err(outside());
            }
            *model = Some(*rest);
        }
        (Some(m), Decoded::Households(slice)) => m.households.extend(slice),
        (Some(m), Decoded::Changes(practice, slice)) => {
            let p = m.practices.get_mut(&practice).ok_or_else(|| {
                Discard::Unreadable(format!(
                    "changes of practice {practice:?}, which the snapshot does not hold"
                ))
            })?;
            p.changes.extend_rows(slice).map_err(Discard::Unreadable)?;
        }
        _ => return Err(outside()),
    }
    Ok(())
}

/// The whole snapshot held in memory: the header and the model it describes.
pub fn decode(mut bytes: &[u8]) -> Result<(Header, AccessModel), Discard> {
    let header = read_header_from(&mut bytes)?;
    let model = decode_body(&header, &mut bytes)?;
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
