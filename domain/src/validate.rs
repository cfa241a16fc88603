//! Small input checks shared by decisions.

use crate::{
    error::DomainError,
    limits::{excerpt, text, Lines, EMAIL_MAX, NAME_MAX},
};

/// A required single-line name: not blank, within [`NAME_MAX`], no control characters.
pub fn non_empty(what: &str, value: &str) -> Result<String, DomainError> {
    let v = text(what, value, NAME_MAX, Lines::Single)?;
    if v.is_empty() {
        return Err(DomainError::InvalidInput(format!(
            "{what} must not be empty"
        )));
    }
    Ok(v.to_string())
}

/// A deliberately modest check: something@something.tld, no spaces. Normalised to lowercase.
pub fn email(value: &str) -> Result<String, DomainError> {
    let v = value.trim();
    let valid = v.chars().count() <= EMAIL_MAX
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !valid {
        return Err(DomainError::InvalidInput(format!(
            "{} is not a valid email address",
            excerpt(v)
        )));
    }
    Ok(v.to_lowercase())
}
