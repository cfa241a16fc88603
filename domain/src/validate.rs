//! Small input checks shared by decisions.

use crate::error::DomainError;

pub fn non_empty(what: &str, value: &str) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::InvalidInput(format!(
            "{what} must not be empty"
        )));
    }
    if v.chars().count() > 200 {
        return Err(DomainError::InvalidInput(format!(
            "{what} is longer than 200 characters"
        )));
    }
    Ok(v.to_string())
}

/// A deliberately modest check: something@something.tld, no spaces. Normalised to lowercase.
pub fn email(value: &str) -> Result<String, DomainError> {
    let v = value.trim();
    let valid = v.len() <= 254
        && !v.contains(char::is_whitespace)
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !valid {
        return Err(DomainError::InvalidInput(format!(
            "{v:?} is not a valid email address"
        )));
    }
    Ok(v.to_lowercase())
}
