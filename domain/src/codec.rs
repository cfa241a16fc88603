//! Stable names and versions for events. The stored name never follows a Rust rename.

/// Declares an event enum whose variants wrap payload structs, with `event_type()`,
/// `schema_version()`, `to_data()` and `from_stored()`, and a fieldless kind enum with one
/// variant per event (`kind()`, `Kind::iter()`, `Kind::event_type()`), so lists of event kinds
/// are derived from this one table with exhaustive matches instead of repeated by hand.
macro_rules! events {
    ($(#[$doc:meta])* $name:ident / $kind:ident { $($variant:ident($payload:ty) = $type_name:literal, $version:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        pub enum $name { $($variant($payload)),* }

        /// The kinds of
        #[doc = concat!("[`", stringify!($name), "`], without payloads.")]
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, strum::EnumIter)]
        pub enum $kind { $($variant),* }

        impl $kind {
            pub fn event_type(self) -> &'static str {
                match self { $(Self::$variant => $type_name),* }
            }
        }

        impl $name {
            pub fn kind(&self) -> $kind {
                match self { $(Self::$variant(_) => $kind::$variant),* }
            }

            /// Every stored type name of this enum.
            pub const TYPES: &'static [&'static str] = &[$($type_name),*];

            pub fn event_type(&self) -> &'static str {
                match self { $(Self::$variant(_) => $type_name),* }
            }

            pub fn schema_version(&self) -> i32 {
                match self { $(Self::$variant(_) => $version),* }
            }

            pub fn meta(&self) -> &$crate::context::EventMeta {
                match self { $(Self::$variant(p) => &p.meta),* }
            }

            pub fn to_data(&self) -> serde_json::Value {
                // Payloads are plain structs with string keys: serialisation cannot fail.
                match self { $(Self::$variant(p) => serde_json::to_value(p).unwrap_or(serde_json::Value::Null)),* }
            }

            /// Reads a stored event, upcasting older schema versions first.
            pub fn from_stored(event_type: &str, schema_version: i32, data: serde_json::Value) -> Result<Self, $crate::error::EventDecodeError> {
                let (version, data) = $crate::upcast::upcast(event_type, schema_version, data)?;
                match event_type {
                    $($type_name => {
                        if version != $version {
                            return Err($crate::error::EventDecodeError::UnknownVersion { event_type: event_type.to_string(), version });
                        }
                        serde_json::from_value(data)
                            .map(Self::$variant)
                            .map_err(|e| $crate::error::EventDecodeError::Malformed { event_type: event_type.to_string(), reason: e.to_string() })
                    })*
                    other => Err($crate::error::EventDecodeError::UnknownType(other.to_string())),
                }
            }
        }

        impl $crate::codec::Stored for $name {
            fn event_type(&self) -> &'static str {
                $name::event_type(self)
            }
            fn schema_version(&self) -> i32 {
                $name::schema_version(self)
            }
            fn to_data(&self) -> serde_json::Value {
                $name::to_data(self)
            }
            fn from_stored(event_type: &str, schema_version: i32, data: serde_json::Value) -> Result<Self, $crate::error::EventDecodeError> {
                $name::from_stored(event_type, schema_version, data)
            }
        }
    };
}

pub(crate) use events;

/// What the log needs of any domain event enum: its stored name, version and payload, and the
/// way back. Lets the executor write and fold every stream with one piece of code.
pub trait Stored: Sized {
    fn event_type(&self) -> &'static str;
    fn schema_version(&self) -> i32;
    fn to_data(&self) -> serde_json::Value;
    fn from_stored(
        event_type: &str,
        schema_version: i32,
        data: serde_json::Value,
    ) -> Result<Self, crate::error::EventDecodeError>;
}

/// Reads an unsigned whole number that JSON may spell `42` or `42.0` (both are integers to
/// JSON Schema, and generic clients send either); fractions and out-of-range values are refused.
pub fn whole_number<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::de::{Deserialize, Error};
    let n = serde_json::Number::deserialize(d)?;
    let whole = match (n.as_u64(), n.as_f64()) {
        (Some(u), _) => Some(u),
        (None, Some(f)) if f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64 => Some(f as u64),
        _ => None,
    }
    .ok_or_else(|| D::Error::custom(format!("expected a whole number, found {n}")))?;
    T::try_from(whole).map_err(|_| D::Error::custom(format!("{whole} is out of range")))
}

/// As [`whole_number`], for an optional field (`null` or absent is `None`; pair it with
/// `#[serde(default)]`).
pub fn optional_whole_number<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::Deserialize;
    #[derive(Deserialize)]
    struct Whole<T: TryFrom<u64>>(#[serde(deserialize_with = "whole_number")] T);
    Ok(Option::<Whole<T>>::deserialize(d)?.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::optional_whole_number")]
        n: Option<u32>,
    }

    fn n(json: &str) -> Result<Option<u32>, String> {
        serde_json::from_str::<Body>(json)
            .map(|b| b.n)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn an_optional_whole_number_takes_integral_floats_and_refuses_the_rest() {
        assert_eq!(n("{}"), Ok(None));
        assert_eq!(n(r#"{"n": null}"#), Ok(None));
        assert_eq!(n(r#"{"n": 1097}"#), Ok(Some(1097)));
        assert_eq!(n(r#"{"n": 1097.0}"#), Ok(Some(1097)));
        for bad in [
            r#"{"n": 1.5}"#,
            r#"{"n": -1}"#,
            r#"{"n": 5000000000}"#,
            r#"{"n": "7"}"#,
        ] {
            assert!(n(bad).is_err(), "{bad}");
        }
    }
}
