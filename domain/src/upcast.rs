//! Stored events are never rewritten; older schema versions are brought to the current one here,
//! on read. The event store calls [`upcast`] too (through its `Upcaster` hook).

use serde_json::{json, Value};

use crate::error::EventDecodeError;

/// Returns the current version and data of a stored event.
///
/// - `household.staff_access_granted` v1 (before roles existed, every grant meant a
///   professional's access) → v2 adds `"role": "professional"`.
pub fn upcast(
    event_type: &str,
    schema_version: i32,
    mut data: Value,
) -> Result<(i32, Value), EventDecodeError> {
    match (event_type, schema_version) {
        ("household.staff_access_granted", 1) => {
            let Some(obj) = data.as_object_mut() else {
                return Err(EventDecodeError::Malformed {
                    event_type: event_type.into(),
                    reason: "v1 payload is not an object".into(),
                });
            };
            obj.entry("role").or_insert(json!("professional"));
            Ok((2, data))
        }
        _ => Ok((schema_version, data)),
    }
}
