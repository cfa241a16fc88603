//! Tamper evidence. Each event's hash covers its content and the previous hash of its stream;
//! seals fold event hashes in subscription order over the whole log.
//!
//! Canonical encoding (stable forever; changing it invalidates every stored hash): the fields
//! stream, version, event id, event type, schema version, data, metadata, recorded-at and the
//! previous hash, each as an 8-byte big-endian length followed by its bytes. JSON is encoded with
//! object keys sorted and no whitespace, so a JSONB round trip does not change it.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::model::{Metadata, NewEvent};

pub const GENESIS: [u8; 32] = [0u8; 32];

pub struct HashInput<'a> {
    pub stream: &'a str,
    pub version: i64,
    pub event_id: uuid::Uuid,
    pub event_type: &'a str,
    pub schema_version: i32,
    pub data: &'a Value,
    pub metadata: &'a Metadata,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> HashInput<'a> {
    pub fn of(
        stream: &'a str,
        version: i64,
        e: &'a NewEvent,
        recorded_at: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        HashInput {
            stream,
            version,
            event_id: e.event_id,
            event_type: &e.event_type,
            schema_version: e.schema_version,
            data: &e.data,
            metadata: &e.metadata,
            recorded_at,
        }
    }
}

pub fn event_hash(input: &HashInput<'_>, prev: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(input.stream.as_bytes());
    field(&input.version.to_be_bytes());
    field(input.event_id.as_bytes());
    field(input.event_type.as_bytes());
    field(&input.schema_version.to_be_bytes());
    field(canonical_json(input.data).as_bytes());
    let metadata = serde_json::to_value(input.metadata).unwrap_or(Value::Null);
    field(canonical_json(&metadata).as_bytes());
    field(&input.recorded_at.timestamp_micros().to_be_bytes());
    field(prev);
    h.finalize().into()
}

/// Folds one more event hash into a seal's running hash.
pub fn seal_step(running: &[u8; 32], event_hash: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(running);
    h.update(event_hash);
    h.finalize().into()
}

pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let a = json!({"b": 1, "a": {"d": [1, {"z": 0, "y": 1}], "c": null}});
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}"#
        );
    }
}
