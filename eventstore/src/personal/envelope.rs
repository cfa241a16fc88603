//! Sealing the personal values of one event payload in place. A sealed value is a string
//! `hearth-sealed:v1:{shape}:{base64(nonce ‖ ciphertext)}`; the shape (string, array, object,
//! number, bool) is kept in clear so that, once the key is gone, the value reads back as an
//! erased placeholder of the same JSON type and every event still decodes.
//!
//! Paths are dotted field names, `*` standing for every element of an array
//! (`members.*.fields`). A missing or null value has nothing personal and is left alone; a value
//! found in clear where a sealed one belongs (written before sealing existed) is read as it is.

use base64::Engine;
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use serde_json::Value;
use uuid::Uuid;

const PREFIX: &str = "hearth-sealed:v1:";
const NONCE: usize = 24;
/// What an erased string reads as.
pub const ERASED: &str = "[erased]";

/// A subject's data key.
#[derive(Clone)]
pub struct DataKey(XChaCha20Poly1305);

impl DataKey {
    pub(crate) fn new(bytes: &[u8; 32]) -> Self {
        Self(XChaCha20Poly1305::new(bytes.into()))
    }
}

/// Binds a sealed value to where it stands, so it cannot be moved to another event or field.
fn bound_to(subject: Uuid, event_id: Uuid, path: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + path.len());
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(event_id.as_bytes());
    aad.extend_from_slice(path.as_bytes());
    aad
}

fn shape(v: &Value) -> char {
    match v {
        Value::String(_) => 's',
        Value::Array(_) => 'a',
        Value::Object(_) => 'o',
        Value::Number(_) => 'n',
        _ => 'b',
    }
}

fn placeholder(shape: char) -> Value {
    match shape {
        's' => Value::String(ERASED.into()),
        'a' => Value::Array(vec![]),
        'o' => Value::Object(Default::default()),
        'n' => Value::from(0),
        _ => Value::Bool(false),
    }
}

/// Calls `f` on every value `path` names in `data`.
fn each_at(data: &mut Value, path: &str, f: &mut dyn FnMut(&mut Value)) {
    fn walk(v: &mut Value, segments: &[&str], f: &mut dyn FnMut(&mut Value)) {
        let Some((first, rest)) = segments.split_first() else {
            if !v.is_null() {
                f(v);
            }
            return;
        };
        match (*first, v) {
            ("*", Value::Array(items)) => items.iter_mut().for_each(|i| walk(i, rest, f)),
            (name, Value::Object(map)) => {
                if let Some(child) = map.get_mut(name) {
                    walk(child, rest, f);
                }
            }
            _ => {}
        }
    }
    let segments: Vec<&str> = path.split('.').collect();
    walk(data, &segments, f);
}

pub(crate) fn is_sealed(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.starts_with(PREFIX))
}

/// nonce ‖ ciphertext of `plain`, bound to `aad`.
pub(crate) fn seal_bytes(key: &DataKey, plain: &[u8], aad: &[u8]) -> Vec<u8> {
    let nonce: [u8; NONCE] = rand::random();
    let mut sealed = nonce.to_vec();
    sealed.extend(
        key.0
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
            .expect("encryption in memory cannot fail"),
    );
    sealed
}

/// `None` when `sealed` was not made by [`seal_bytes`] with this key and binding.
pub(crate) fn open_bytes(key: &DataKey, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() <= NONCE {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE);
    key.0
        .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
        .ok()
}

/// Whether any value at `paths` is sealed (without serialising the payload).
pub(crate) fn any_sealed(data: &mut Value, paths: &[&str]) -> bool {
    let mut found = false;
    for path in paths {
        each_at(data, path, &mut |v| found |= is_sealed(v));
    }
    found
}

/// Seals every value at `paths` with `key`.
pub(crate) fn seal(data: &mut Value, paths: &[&str], key: &DataKey, subject: Uuid, event_id: Uuid) {
    for path in paths {
        let aad = bound_to(subject, event_id, path);
        each_at(data, path, &mut |v| {
            if is_sealed(v) {
                return;
            }
            let plain = serde_json::to_vec(v).expect("a JSON value serialises");
            let sealed = seal_bytes(key, &plain, &aad);
            let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(sealed);
            *v = Value::String(format!("{PREFIX}{}:{b64}", shape(v)));
        });
    }
}

/// Opens every sealed value at `paths`: with the key, back to the value written; without it
/// (erased), to the placeholder of its shape. A value that does not open with the key is an
/// error: the row was altered or moved.
pub(crate) fn open(
    data: &mut Value,
    paths: &[&str],
    key: Option<&DataKey>,
    subject: Uuid,
    event_id: Uuid,
) -> Result<(), String> {
    let mut problem = None;
    for path in paths {
        let aad = bound_to(subject, event_id, path);
        each_at(data, path, &mut |v| {
            let Some(rest) = v.as_str().and_then(|s| s.strip_prefix(PREFIX)) else {
                return;
            };
            let (shape, b64) = match rest.split_once(':') {
                Some((s, b)) if s.len() == 1 => (s.chars().next().unwrap_or('s'), b),
                _ => {
                    problem = Some(format!("{path}: not a sealed value"));
                    return;
                }
            };
            let Some(key) = key else {
                *v = placeholder(shape);
                return;
            };
            let opened = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(b64)
                .ok()
                .and_then(|b| open_bytes(key, &b, &aad))
                .and_then(|plain| serde_json::from_slice(&plain).ok());
            match opened {
                Some(value) => *v = value,
                None => problem = Some(format!("{path}: a sealed value does not open")),
            }
        });
    }
    problem.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> Value {
        json!({
            "name": "Quokka Household",
            "members": [{"member_id": "m1", "fields": {"first_name": "Adalberta"}},
                        {"member_id": "m2", "fields": {"first_name": "Bonifacio"}}],
            "changes": [{"field": "email", "from": null, "to": "ada@example.com"}],
            "score": 73,
        })
    }
    const PATHS: &[&str] = &[
        "name",
        "members.*.fields",
        "changes.*.from",
        "changes.*.to",
        "score",
    ];

    #[test]
    fn sealed_values_leave_no_plain_text_and_open_back_to_the_same_payload() {
        let (key, s, e) = (DataKey::new(&[3; 32]), Uuid::new_v4(), Uuid::new_v4());
        let mut data = sample();
        seal(&mut data, PATHS, &key, s, e);
        let text = data.to_string();
        for secret in [
            "Quokka Household",
            "Adalberta",
            "Bonifacio",
            "ada@example.com",
        ] {
            assert!(!text.contains(secret), "{secret} is in {text}");
        }
        assert!(is_sealed(&data["score"]), "numbers are sealed too");
        assert_eq!(data["members"][0]["member_id"], "m1", "ids stay in clear");
        assert!(
            data["changes"][0]["from"].is_null(),
            "null has nothing to seal"
        );
        open(&mut data, PATHS, Some(&key), s, e).unwrap();
        assert_eq!(data, sample());
    }

    #[test]
    fn without_the_key_values_read_as_placeholders_of_their_shape() {
        let (key, s, e) = (DataKey::new(&[3; 32]), Uuid::new_v4(), Uuid::new_v4());
        let mut data = sample();
        seal(&mut data, PATHS, &key, s, e);
        open(&mut data, PATHS, None, s, e).unwrap();
        assert_eq!(data["name"], ERASED);
        assert_eq!(data["members"][1]["fields"], json!({}));
        assert_eq!(data["changes"][0]["to"], ERASED);
        assert_eq!(data["score"], 0);
    }

    #[test]
    fn a_value_moved_to_another_event_or_opened_with_another_key_is_refused() {
        let (key, s, e) = (DataKey::new(&[3; 32]), Uuid::new_v4(), Uuid::new_v4());
        let mut data = sample();
        seal(&mut data, PATHS, &key, s, e);
        assert!(open(&mut data.clone(), PATHS, Some(&key), s, Uuid::new_v4()).is_err());
        assert!(open(&mut data, PATHS, Some(&DataKey::new(&[4; 32])), s, e).is_err());
    }

    #[test]
    fn values_written_in_clear_before_sealing_read_as_they_are() {
        let key = DataKey::new(&[3; 32]);
        let mut data = sample();
        open(&mut data, PATHS, Some(&key), Uuid::new_v4(), Uuid::new_v4()).unwrap();
        assert_eq!(data, sample());
    }
}
