//! Projection snapshots: the access model as it stood at a cursor, so start-up loads it and
//! replays only what came after instead of the whole log (issue 13).
//!
//! A snapshot is never trusted blindly. It carries the format it was written in and the
//! [`LogAnchor`] it covers (the stored hash of the event at its cursor and the count of events up
//! to it); it is used only when its format is this build's and the log still holds that event
//! with that hash as the same count-th event. Anything else — an older format, a replaced,
//! truncated or rewritten log, a damaged file — discards it, and the model is replayed in full.

mod files;
mod format;
mod keeper;

pub use files::SnapshotDir;
pub use format::{
    check_against_log, decode, decode_body, encode, encode_to, read_header, read_header_from,
    Discard, Header, PartSizes, FORMAT_VERSION,
};
pub use keeper::SnapshotPolicy;
pub(crate) use keeper::{write_off_thread, Keeper};
