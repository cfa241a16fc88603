//! Events are stored as written, forever; older schema versions are brought up to date on read.

use serde_json::Value;

pub trait Upcaster: Send + Sync {
    /// Returns the current schema version and data for a stored event. Must be pure.
    fn upcast(
        &self,
        event_type: &str,
        schema_version: i32,
        data: Value,
    ) -> Result<(i32, Value), String>;
}

/// Leaves every event as stored.
pub struct NoUpcast;

impl Upcaster for NoUpcast {
    fn upcast(&self, _: &str, schema_version: i32, data: Value) -> Result<(i32, Value), String> {
        Ok((schema_version, data))
    }
}

impl<F> Upcaster for F
where
    F: Fn(&str, i32, Value) -> Result<(i32, Value), String> + Send + Sync,
{
    fn upcast(
        &self,
        event_type: &str,
        schema_version: i32,
        data: Value,
    ) -> Result<(i32, Value), String> {
        self(event_type, schema_version, data)
    }
}
