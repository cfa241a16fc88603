//! Sealing the personal values of one event payload in place, with one seal per event: every
//! value at the personal paths is replaced by a marker `hearth-sealed:v2:{shape}`, and the
//! values themselves go, as one JSON array in walk order (paths in the policy's order, each
//! path's values in document order), into a single ciphertext under the payload's [`SEALED`]
//! field (`v3:` and the base64 of nonce ‖ AES-256-GCM-SIV ciphertext, bound to the subject, the
//! event id and the format). One AEAD call and one parse per event, not per value, is what keeps
//! a rebuild of the read models near the cost of a plain log's.
//!
//! The marker keeps the value's JSON shape (string, array, object, number, bool) in clear so
//! that, once the key is gone, the value reads back as an erased placeholder of the same type
//! and every event still decodes. Every value at a personal path is sealed, even one that looks
//! like a marker (a name typed as `hearth-sealed:v2:s` is a name), so each marker stands for
//! exactly one sealed value.
//!
//! Paths are dotted field names, `*` standing for every element of an array
//! (`members.*.fields`). A missing or null value has nothing personal and is left alone; a value
//! found in clear where a sealed one belongs (written before sealing existed) is read as it is.
//! Two earlier formats still open: values sealed one by one
//! (`hearth-sealed:v1:{shape}:{base64}`, bound to subject, event and path), and one seal per
//! event holding a JSON object of path → values (a [`SEALED`] string without `v3:`).

use std::collections::HashMap;

use aes_gcm_siv::Aes256GcmSiv;
use base64::Engine;
use chacha20poly1305::{
    aead::{self, Aead, AeadInPlace, KeyInit, Payload},
    XChaCha20Poly1305,
};
use hmac::{Hmac, Mac};
use serde_json::Value;
use uuid::Uuid;

const V1: &str = "hearth-sealed:v1:";
const MARKER: &str = "hearth-sealed:v2:";
/// How a [`SEALED`] string of the current format starts (base64 has no `:`).
const V3: &str = "v3:";
/// The payload field holding an event's sealed values.
pub(crate) const SEALED: &str = "hearth_sealed";
/// What an erased string reads as.
pub const ERASED: &str = "[erased]";

/// A subject's data key: XChaCha20-Poly1305 for documents (and the first format's values);
/// AES-256-GCM-SIV, under a key derived from it, for events' sealed values, because it opens a
/// few hundred bytes about three times faster with the CPU's AES instructions (a rebuild opens
/// one per personal event), and a repeated random nonce would not reveal anything but equality.
#[derive(Clone)]
pub struct DataKey(std::sync::Arc<Ciphers>);

struct Ciphers {
    documents: XChaCha20Poly1305,
    events: Aes256GcmSiv,
}

impl DataKey {
    pub(crate) fn new(bytes: &[u8; 32]) -> Self {
        let events = derived(bytes, b"hearth-sealed:v2 event values");
        Self(std::sync::Arc::new(Ciphers {
            documents: XChaCha20Poly1305::new(bytes.into()),
            events: Aes256GcmSiv::new(&events.into()),
        }))
    }
}

/// A key of its own for one use of `key`, so one key never serves two ciphers.
pub(super) fn derived(key: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// Binds sealed values to where they stand, so they cannot be moved to another event.
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

/// Calls `f` on every non-null value `path` names in `data`.
fn each_at(data: &mut Value, path: &str, f: &mut dyn FnMut(&mut Value)) {
    fn walk<'p>(
        v: &mut Value,
        mut segments: impl Iterator<Item = &'p str> + Clone,
        f: &mut dyn FnMut(&mut Value),
    ) {
        let Some(first) = segments.next() else {
            if !v.is_null() {
                f(v);
            }
            return;
        };
        match (first, v) {
            ("*", Value::Array(items)) => {
                items.iter_mut().for_each(|i| walk(i, segments.clone(), f))
            }
            (name, Value::Object(map)) => {
                if let Some(child) = map.get_mut(name) {
                    walk(child, segments, f);
                }
            }
            _ => {}
        }
    }
    walk(data, path.split('.'), f);
}

fn is_sealed(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.starts_with(MARKER) || s.starts_with(V1))
}

/// The shape a v2 marker keeps.
fn marker_shape(v: &Value) -> Option<char> {
    let rest = v.as_str()?.strip_prefix(MARKER)?;
    let mut chars = rest.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// nonce ‖ ciphertext of `plain` under `aead` with a random nonce, bound to `aad`.
pub(super) fn seal_with<A: Aead>(aead: &A, plain: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut nonce = aead::Nonce::<A>::default();
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut nonce);
    let mut sealed = nonce.to_vec();
    sealed.extend(
        aead.encrypt(&nonce, Payload { msg: plain, aad })
            .expect("encryption in memory cannot fail"),
    );
    sealed
}

/// `None` when `sealed` was not made by [`seal_with`] with this cipher, key and binding.
pub(super) fn open_with<A: Aead>(aead: &A, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let size = aead::Nonce::<A>::default().len();
    if sealed.len() <= size {
        return None;
    }
    let (nonce, body) = sealed.split_at(size);
    aead.decrypt(
        aead::Nonce::<A>::from_slice(nonce),
        Payload { msg: body, aad },
    )
    .ok()
}

/// A document's (or a first-format value's) nonce ‖ ciphertext, bound to `aad`.
pub(crate) fn seal_bytes(key: &DataKey, plain: &[u8], aad: &[u8]) -> Vec<u8> {
    seal_with(&key.0.documents, plain, aad)
}

/// `None` when `sealed` was not made by [`seal_bytes`] with this key and binding.
pub(crate) fn open_bytes(key: &DataKey, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    open_with(&key.0.documents, sealed, aad)
}

/// Whether the payload holds any sealed value (without serialising it).
pub(crate) fn any_sealed(data: &mut Value, paths: &[&str]) -> bool {
    if data.get(SEALED).is_some() {
        return true;
    }
    let mut found = false;
    for path in paths {
        each_at(data, path, &mut |v| found |= is_sealed(v));
    }
    found
}

/// Seals every value at `paths` with `key`, in one ciphertext.
pub(crate) fn seal(data: &mut Value, paths: &[&str], key: &DataKey, subject: Uuid, event_id: Uuid) {
    if !data.is_object() || data.get(SEALED).is_some() {
        return;
    }
    let mut values = Vec::new();
    for path in paths {
        each_at(data, path, &mut |v| {
            let marker = Value::String(format!("{MARKER}{}", shape(v)));
            values.push(std::mem::replace(v, marker));
        });
    }
    if values.is_empty() {
        return;
    }
    let plain = serde_json::to_vec(&values).expect("a JSON value serialises");
    let sealed = seal_with(&key.0.events, &plain, &bound_to(subject, event_id, V3));
    let b64 = base64_simd::STANDARD_NO_PAD.encode_to_string(sealed);
    data[SEALED] = Value::String(format!("{V3}{b64}"));
}

/// The values of a current-format seal, in walk order; `None` when they do not open.
fn open_v3(b64: &str, key: &DataKey, subject: Uuid, event_id: Uuid) -> Option<Vec<Value>> {
    // SIMD base64: a rebuild decodes one of these per personal event, and the scalar decoder
    // was a tenth of opening's cost.
    let mut sealed = base64_simd::STANDARD_NO_PAD
        .decode_to_vec(b64.as_bytes())
        .ok()?;
    // Opened in place: no second buffer per event.
    let size = aead::Nonce::<Aes256GcmSiv>::default().len();
    if sealed.len() <= size {
        return None;
    }
    let nonce = aead::Nonce::<Aes256GcmSiv>::clone_from_slice(&sealed[..size]);
    sealed.drain(..size);
    key.0
        .events
        .decrypt_in_place(&nonce, &bound_to(subject, event_id, V3), &mut sealed)
        .ok()?;
    serde_json::from_slice(&sealed).ok()
}

/// Opens every sealed value at `paths`: with the key, back to the value written; without it
/// (erased), to the placeholder of its shape. Values that do not open with the key are an
/// error: the row was altered or moved.
pub(crate) fn open(
    data: &mut Value,
    paths: &[&str],
    key: Option<&DataKey>,
    subject: Uuid,
    event_id: Uuid,
) -> Result<(), String> {
    let sealed = data.as_object_mut().and_then(|m| m.remove(SEALED));
    if let Some(Value::String(s)) = &sealed {
        if let Some(b64) = s.strip_prefix(V3) {
            let values = match key {
                Some(key) => Some(
                    open_v3(b64, key, subject, event_id).ok_or("the sealed values do not open")?,
                ),
                None => None,
            };
            return fill_markers(data, paths, values);
        }
    }
    let mut opened: HashMap<String, std::vec::IntoIter<Value>> = match (sealed, key) {
        (Some(Value::String(b64)), Some(key)) => base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .ok()
            .and_then(|b| open_with(&key.0.events, &b, &bound_to(subject, event_id, "")))
            .and_then(|plain| serde_json::from_slice::<HashMap<String, Vec<Value>>>(&plain).ok())
            .ok_or("the sealed values do not open")?
            .into_iter()
            .map(|(path, values)| (path, values.into_iter()))
            .collect(),
        (Some(Value::String(_)), None) => HashMap::new(),
        (Some(_), _) => return Err(format!("{SEALED}: not a sealed value")),
        (None, _) => HashMap::new(),
    };
    let mut problem = None;
    for path in paths {
        let mut values = opened.remove(*path);
        each_at(data, path, &mut |v| {
            if let Some(shape) = marker_shape(v) {
                *v = match (key, values.as_mut()) {
                    (None, _) => placeholder(shape),
                    (Some(_), Some(values)) => match values.next() {
                        Some(value) => value,
                        None => {
                            problem = Some(format!("{path}: more sealed markers than values"));
                            return;
                        }
                    },
                    (Some(_), None) => {
                        problem = Some(format!("{path}: a sealed marker has no value"));
                        return;
                    }
                };
            } else if let Err(p) = open_v1(v, path, key, subject, event_id) {
                problem = Some(p);
            }
        });
    }
    problem.map_or(Ok(()), Err)
}

/// Puts `values` back in place of the markers at `paths`, in walk order; without values (the
/// key is gone), the placeholder of each marker's shape.
fn fill_markers(
    data: &mut Value,
    paths: &[&str],
    values: Option<Vec<Value>>,
) -> Result<(), String> {
    let mut values = values.map(Vec::into_iter);
    let mut problem = None;
    for path in paths {
        each_at(data, path, &mut |v| {
            // Every value at a personal path was sealed: anything else here was put in later.
            let Some(marker) = marker_shape(v) else {
                problem = Some(format!("{path}: a value in clear among sealed ones"));
                return;
            };
            *v = match values.as_mut() {
                None => placeholder(marker),
                Some(values) => match values.next() {
                    // The shape in clear must be the sealed value's: a value that lands on
                    // another field (a reordered policy, say) is caught, not shown there.
                    Some(value) if shape(&value) == marker => value,
                    Some(_) => {
                        problem = Some(format!("{path}: the sealed value has another shape"));
                        return;
                    }
                    None => {
                        problem = Some(format!("{path}: more sealed markers than values"));
                        return;
                    }
                },
            };
        });
    }
    if values.is_some_and(|mut rest| rest.next().is_some()) {
        problem.get_or_insert_with(|| "more sealed values than markers".into());
    }
    problem.map_or(Ok(()), Err)
}

/// A value sealed on its own (`hearth-sealed:v1:`), as the log's first sealed events hold them.
fn open_v1(
    v: &mut Value,
    path: &str,
    key: Option<&DataKey>,
    subject: Uuid,
    event_id: Uuid,
) -> Result<(), String> {
    let Some(rest) = v.as_str().and_then(|s| s.strip_prefix(V1)) else {
        return Ok(());
    };
    let (shape, b64) = match rest.split_once(':') {
        Some((s, b)) if s.len() == 1 => (s.chars().next().unwrap_or('s'), b),
        _ => return Err(format!("{path}: not a sealed value")),
    };
    let Some(key) = key else {
        *v = placeholder(shape);
        return Ok(());
    };
    let opened = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(b64)
        .ok()
        .and_then(|b| open_bytes(key, &b, &bound_to(subject, event_id, path)))
        .and_then(|plain| serde_json::from_slice(&plain).ok());
    *v = opened.ok_or_else(|| format!("{path}: a sealed value does not open"))?;
    Ok(())
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
    fn one_event_is_one_seal_and_its_markers_keep_only_the_shape() {
        let (key, s, e) = (DataKey::new(&[3; 32]), Uuid::new_v4(), Uuid::new_v4());
        let mut data = sample();
        seal(&mut data, PATHS, &key, s, e);
        assert!(data[SEALED].is_string());
        assert_eq!(data["name"], "hearth-sealed:v2:s");
        assert_eq!(data["members"][1]["fields"], "hearth-sealed:v2:o");
        let text = data.to_string();
        assert_eq!(text.matches("hearth-sealed:v2:").count(), 5, "{text}");
    }

    #[test]
    fn a_marker_without_its_value_or_a_changed_ciphertext_is_refused() {
        let (key, s, e) = (DataKey::new(&[3; 32]), Uuid::new_v4(), Uuid::new_v4());
        let mut data = sample();
        seal(&mut data, PATHS, &key, s, e);
        let mut extra = data.clone();
        extra["members"][0]["member_id"] = json!("hearth-sealed:v2:s");
        extra["changes"][0]["from"] = json!("hearth-sealed:v2:s");
        assert!(open(&mut extra, PATHS, Some(&key), s, e).is_err());
        let mut flipped = data.clone();
        let b64 = flipped[SEALED].as_str().unwrap().to_owned();
        let last = if b64.ends_with('A') { "B" } else { "A" };
        flipped[SEALED] = json!(format!("{}{last}", &b64[..b64.len() - 1]));
        assert!(open(&mut flipped, PATHS, Some(&key), s, e).is_err());
    }

    #[test]
    fn values_sealed_one_by_one_by_the_first_format_still_open_and_erase() {
        let (key, s, e) = (DataKey::new(&[3; 32]), Uuid::new_v4(), Uuid::new_v4());
        let v1 = |v: &Value, path: &str| {
            let sealed = seal_bytes(&key, v.to_string().as_bytes(), &bound_to(s, e, path));
            let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(sealed);
            Value::String(format!("{V1}{}:{b64}", shape(v)))
        };
        let mut data = sample();
        data["name"] = v1(&sample()["name"], "name");
        data["score"] = v1(&sample()["score"], "score");
        let stored = data.clone();
        open(&mut data, PATHS, Some(&key), s, e).unwrap();
        assert_eq!(data, sample());
        let mut moved = stored.clone();
        moved["score"] = stored["name"].clone();
        assert!(
            open(&mut moved, PATHS, Some(&key), s, e).is_err(),
            "bound to its path"
        );
        let mut erased = stored;
        open(&mut erased, PATHS, None, s, e).unwrap();
        assert_eq!(erased["name"], ERASED);
        assert_eq!(erased["score"], 0);
    }

    /// An event sealed as the second format did: one JSON object of path → values.
    fn seal_v2(data: &mut Value, key: &DataKey, subject: Uuid, event_id: Uuid) {
        let mut values = serde_json::Map::new();
        for path in PATHS {
            let mut taken = Vec::new();
            each_at(data, path, &mut |v| {
                let marker = Value::String(format!("{MARKER}{}", shape(v)));
                taken.push(std::mem::replace(v, marker));
            });
            if !taken.is_empty() {
                values.insert((*path).to_owned(), Value::Array(taken));
            }
        }
        let plain = serde_json::to_vec(&values).unwrap();
        let sealed = seal_with(&key.0.events, &plain, &bound_to(subject, event_id, ""));
        data[SEALED] = json!(base64::engine::general_purpose::STANDARD_NO_PAD.encode(sealed));
    }

    #[test]
    fn events_sealed_by_the_second_format_still_open_and_erase() {
        let (key, s, e) = (DataKey::new(&[3; 32]), Uuid::new_v4(), Uuid::new_v4());
        let mut data = sample();
        seal_v2(&mut data, &key, s, e);
        assert!(!data[SEALED].as_str().unwrap().starts_with(V3));
        let stored = data.clone();
        open(&mut data, PATHS, Some(&key), s, e).unwrap();
        assert_eq!(data, sample());
        let mut erased = stored.clone();
        open(&mut erased, PATHS, None, s, e).unwrap();
        assert_eq!(erased["name"], ERASED);
        assert!(open(&mut stored.clone(), PATHS, Some(&key), s, Uuid::new_v4()).is_err());
    }

    #[test]
    fn a_value_that_looks_like_a_marker_is_sealed_and_opens_as_typed() {
        let (key, s, e) = (DataKey::new(&[3; 32]), Uuid::new_v4(), Uuid::new_v4());
        let mut typed = sample();
        typed["name"] = json!("hearth-sealed:v2:s");
        typed["changes"][0]["to"] = json!("hearth-sealed:v1:s:AAAA");
        let mut data = typed.clone();
        seal(&mut data, PATHS, &key, s, e);
        assert!(!data.to_string().contains("hearth-sealed:v1"), "{data}");
        open(&mut data, PATHS, Some(&key), s, e).unwrap();
        assert_eq!(data, typed);
    }

    #[test]
    fn a_marker_removed_from_the_payload_is_refused() {
        let (key, s, e) = (DataKey::new(&[3; 32]), Uuid::new_v4(), Uuid::new_v4());
        let mut data = sample();
        seal(&mut data, PATHS, &key, s, e);
        data["score"] = Value::Null;
        let error = open(&mut data, PATHS, Some(&key), s, e).unwrap_err();
        assert!(error.contains("more sealed values than markers"), "{error}");
    }

    #[test]
    fn a_value_put_in_clear_or_a_marker_of_another_shape_is_refused() {
        let (key, s, e) = (DataKey::new(&[3; 32]), Uuid::new_v4(), Uuid::new_v4());
        let mut data = sample();
        seal(&mut data, PATHS, &key, s, e);
        let mut planted = data.clone();
        planted["changes"][0]["from"] = json!("planted@example.com");
        let error = open(&mut planted, PATHS, Some(&key), s, e).unwrap_err();
        assert!(error.contains("in clear"), "{error}");
        let mut reshaped = data.clone();
        reshaped["name"] = json!("hearth-sealed:v2:n");
        let error = open(&mut reshaped, PATHS, Some(&key), s, e).unwrap_err();
        assert!(error.contains("another shape"), "{error}");
    }

    #[test]
    fn values_written_in_clear_before_sealing_read_as_they_are() {
        let key = DataKey::new(&[3; 32]);
        let mut data = sample();
        open(&mut data, PATHS, Some(&key), Uuid::new_v4(), Uuid::new_v4()).unwrap();
        assert_eq!(data, sample());
    }
}
