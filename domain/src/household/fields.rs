//! A household member's personal fields. Kept as a map so edits, XPLAN sync and history treat
//! every field alike.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientField {
    Title,
    FirstName,
    MiddleName,
    LastName,
    DateOfBirth,
    Sex,
    AddressLine1,
    AddressLine2,
    Suburb,
    Postcode,
    State,
    CountryCode,
    Email,
    Mobile,
    AdviserFirstName,
    AdviserLastName,
    AdviserEmail,
}

impl ClientField {
    /// Every field XPLAN masters (seed: lumiant-xplan-integration, "What is synchronised?").
    pub const SYNCED: [ClientField; 17] = [
        ClientField::Title,
        ClientField::FirstName,
        ClientField::MiddleName,
        ClientField::LastName,
        ClientField::DateOfBirth,
        ClientField::Sex,
        ClientField::AddressLine1,
        ClientField::AddressLine2,
        ClientField::Suburb,
        ClientField::Postcode,
        ClientField::State,
        ClientField::CountryCode,
        ClientField::Email,
        ClientField::Mobile,
        ClientField::AdviserFirstName,
        ClientField::AdviserLastName,
        ClientField::AdviserEmail,
    ];
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: ClientField,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A value XPLAN sent that Hearth did not take, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SkippedField {
    pub field: ClientField,
    pub value: String,
    pub reason: String,
}

pub type Fields = std::collections::BTreeMap<ClientField, String>;

/// The changes that turn `current` into `wanted` for the given fields (absent = cleared).
pub fn diff(current: &Fields, wanted: &Fields, fields: &[ClientField]) -> Vec<FieldChange> {
    fields
        .iter()
        .filter_map(|f| {
            let (from, to) = (current.get(f), wanted.get(f));
            (from != to).then(|| FieldChange {
                field: *f,
                from: from.cloned(),
                to: to.cloned(),
            })
        })
        .collect()
}

pub fn apply_changes(fields: &mut Fields, changes: &[FieldChange]) {
    for c in changes {
        match &c.to {
            Some(v) => fields.insert(c.field, v.clone()),
            None => fields.remove(&c.field),
        };
    }
}
