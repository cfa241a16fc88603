//! The one validation of a household member's fields, applied alike when a member is created,
//! edited and synchronised from XPLAN (a sync skips a value that fails it, with the reason).

use chrono::NaiveDate;

use super::{
    fields::ClientField,
    xplan::{international_mobile, ALLOWED_TITLES},
};
use crate::{
    error::DomainError,
    limits::{excerpt, text, Lines, NAME_MAX},
    validate::{email, non_empty},
};

/// Fields a member always has: they can be changed, never cleared.
pub const REQUIRED: [ClientField; 2] = [ClientField::FirstName, ClientField::LastName];

/// The value as Hearth keeps it (trimmed, normalised), or why it is refused. Blank values are
/// "absent": see [`clear`].
pub fn check(field: ClientField, value: &str) -> Result<String, DomainError> {
    use ClientField::*;
    let what = label(field);
    match field {
        FirstName | LastName => non_empty(what, value),
        Email | AdviserEmail => email(value),
        DateOfBirth => {
            let v = text(what, value, NAME_MAX, Lines::Single)?;
            // Exactly YYYY-MM-DD (chrono alone would also take "1990-2-3" or "+1990-02-03").
            let shaped = v.len() == 10
                && v.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                });
            shaped
                .then(|| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
                .flatten()
                .map(|d| d.format("%Y-%m-%d").to_string())
                .ok_or(())
                .map_err(|_| {
                    DomainError::InvalidInput(format!(
                        "{what} {} is not a calendar date (YYYY-MM-DD)",
                        excerpt(v)
                    ))
                })
        }
        Title => {
            let v = text(what, value, NAME_MAX, Lines::Single)?;
            let bare = v.trim_end_matches('.');
            ALLOWED_TITLES
                .iter()
                .find(|t| t.eq_ignore_ascii_case(bare))
                .map(|t| t.to_string())
                .ok_or_else(|| {
                    DomainError::InvalidInput(format!(
                        "{what} {}: only {} are supported",
                        excerpt(v),
                        ALLOWED_TITLES.join("/")
                    ))
                })
        }
        Mobile => {
            let v = text(what, value, NAME_MAX, Lines::Single)?;
            international_mobile(v).ok_or_else(|| {
                DomainError::InvalidInput(format!(
                    "{what} {}: a mobile number needs its country code (e.g. +61 4xx xxx xxx)",
                    excerpt(v)
                ))
            })
        }
        MiddleName | Sex | AddressLine1 | AddressLine2 | Suburb | Postcode | State
        | CountryCode | AdviserFirstName | AdviserLastName => {
            text(what, value, NAME_MAX, Lines::Single).map(str::to_string)
        }
    }
}

/// Clearing a field: refused for the [`REQUIRED`] ones.
pub fn clear(field: ClientField) -> Result<(), DomainError> {
    if REQUIRED.contains(&field) {
        return Err(DomainError::InvalidInput(format!(
            "{} must not be empty",
            label(field)
        )));
    }
    Ok(())
}

/// `Some(value)` checked, or `None` when blank (absent).
pub fn check_optional(
    field: ClientField,
    value: Option<&str>,
) -> Result<Option<String>, DomainError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => check(field, v).map(Some),
        None => Ok(None),
    }
}

fn label(field: ClientField) -> &'static str {
    use ClientField::*;
    match field {
        Title => "title",
        FirstName => "first name",
        MiddleName => "middle name",
        LastName => "last name",
        DateOfBirth => "date of birth",
        Sex => "sex",
        AddressLine1 => "address line 1",
        AddressLine2 => "address line 2",
        Suburb => "suburb",
        Postcode => "postcode",
        State => "state",
        CountryCode => "country code",
        Email => "email",
        Mobile => "mobile",
        AdviserFirstName => "adviser first name",
        AdviserLastName => "adviser last name",
        AdviserEmail => "adviser email",
    }
}
