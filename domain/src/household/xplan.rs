//! XPLAN's client record as read, and the field rules Hearth applies to it
//! (PRODUCT.md §4; seed: lumiant-xplan-integration).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{
    field_rules,
    fields::{ClientField, Fields, SkippedField},
};
use crate::{error::DomainError, limits::NAME_MAX};

/// Raw values of one XPLAN client, as the integration read them. Empty strings mean absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct XplanClientData {
    pub xplan_id: String,
    pub title: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub sex: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub suburb: Option<String>,
    pub postcode: Option<String>,
    pub state: Option<String>,
    pub country_code: Option<String>,
    pub preferred_email: Option<String>,
    pub preferred_mobile: Option<String>,
    pub adviser_first_name: Option<String>,
    pub adviser_last_name: Option<String>,
    pub adviser_email: Option<String>,
    pub policies: Vec<XplanPolicy>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct XplanPolicy {
    pub insurance_type: Option<String>,
    pub insurer: Option<String>,
    pub description: Option<String>,
    /// Decimal strings, never floats: money.
    pub cover: Option<String>,
    pub premium: Option<String>,
    pub frequency: Option<String>,
    pub policy_number: Option<String>,
    pub status: Option<String>,
    pub policy_to_date: Option<NaiveDate>,
}

/// A policy as Hearth keeps it: XPLAN's fields plus the computed end year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsurancePolicy {
    #[serde(flatten)]
    pub xplan: XplanPolicy,
    pub end_year: Option<i32>,
}

pub const ALLOWED_TITLES: [&str; 6] = ["Mr", "Mrs", "Ms", "Miss", "Dr", "Prof"];

/// What Hearth takes from an XPLAN client: the synced fields that pass the member-field rules
/// (the same as for a local create or edit), and the values it skipped with the reason.
pub fn normalise(data: &XplanClientData) -> (Fields, Vec<SkippedField>) {
    use ClientField::*;
    let dob = data.date_of_birth.map(|d| d.format("%Y-%m-%d").to_string());
    let raw: [(ClientField, &Option<String>); 17] = [
        (Title, &data.title),
        (FirstName, &data.first_name),
        (MiddleName, &data.middle_name),
        (LastName, &data.last_name),
        (DateOfBirth, &dob),
        (Sex, &data.sex),
        (AddressLine1, &data.address_line1),
        (AddressLine2, &data.address_line2),
        (Suburb, &data.suburb),
        (Postcode, &data.postcode),
        (State, &data.state),
        (CountryCode, &data.country_code),
        (Email, &data.preferred_email),
        (Mobile, &data.preferred_mobile),
        (AdviserFirstName, &data.adviser_first_name),
        (AdviserLastName, &data.adviser_last_name),
        (AdviserEmail, &data.adviser_email),
    ];
    let mut fields = Fields::new();
    let mut skipped = Vec::new();
    for (field, value) in raw {
        let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        match field_rules::check(field, value) {
            Ok(v) => {
                fields.insert(field, v);
            }
            Err(e) => skipped.push(SkippedField {
                field,
                // The log keeps what was refused, bounded and printable.
                value: value
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(NAME_MAX)
                    .collect(),
                reason: match e {
                    DomainError::InvalidInput(reason) => reason,
                    other => other.to_string(),
                },
            }),
        }
    }
    skipped.sort();
    (fields, skipped)
}

/// `+<country code><number>`, spaces, dashes and brackets dropped; None without a country code.
pub(crate) fn international_mobile(raw: &str) -> Option<String> {
    let rest = raw.strip_prefix('+')?;
    let digits: String = rest
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    (digits.len() >= 8 && digits.len() <= 15 && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| format!("+{digits}"))
}

/// End year: the year the current policy term ends. XPLAN's renewal ("policy to") date may lie in
/// the past for a policy that renews yearly, so it is rolled forward a year at a time until it is
/// on or after the sync date; the year of that date is the end year.
pub fn end_year(policy_to: NaiveDate, synced_on: NaiveDate) -> i32 {
    let mut year = policy_to.year();
    if policy_to >= synced_on {
        return year;
    }
    let (m, d) = (policy_to.month(), policy_to.day());
    loop {
        year += 1;
        // 29 February rolls to 28 February in common years.
        let date =
            NaiveDate::from_ymd_opt(year, m, d).or_else(|| NaiveDate::from_ymd_opt(year, m, d - 1));
        if date.is_some_and(|date| date >= synced_on) {
            return year;
        }
    }
}

pub fn policies(data: &XplanClientData, synced_on: NaiveDate) -> Vec<InsurancePolicy> {
    data.policies
        .iter()
        .map(|p| InsurancePolicy {
            xplan: p.clone(),
            end_year: p.policy_to_date.map(|d| end_year(d, synced_on)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn only_the_six_supported_titles_are_taken() {
        for (raw, want) in [
            ("Mr", Some("Mr")),
            ("dr.", Some("Dr")),
            ("PROF", Some("Prof")),
            ("Sir", None),
            ("Rev", None),
        ] {
            let (fields, skipped) = normalise(&XplanClientData {
                title: Some(raw.into()),
                ..Default::default()
            });
            assert_eq!(
                fields.get(&ClientField::Title).map(String::as_str),
                want,
                "{raw}"
            );
            assert_eq!(skipped.len(), usize::from(want.is_none()), "{raw}");
        }
    }

    #[test]
    fn a_mobile_without_country_code_is_skipped_with_a_reason() {
        let (fields, skipped) = normalise(&XplanClientData {
            preferred_mobile: Some("0412 345 678".into()),
            ..Default::default()
        });
        assert!(!fields.contains_key(&ClientField::Mobile));
        assert_eq!(skipped[0].field, ClientField::Mobile);
        assert!(skipped[0].reason.contains("country code"));
        let (fields, _) = normalise(&XplanClientData {
            preferred_mobile: Some("+61 412 345 678".into()),
            ..Default::default()
        });
        assert_eq!(fields[&ClientField::Mobile], "+61412345678");
    }

    #[test]
    fn end_year_is_the_year_of_the_current_term() {
        assert_eq!(end_year(date(2027, 5, 1), date(2026, 11, 24)), 2027);
        assert_eq!(end_year(date(2024, 12, 1), date(2026, 11, 24)), 2026);
        assert_eq!(end_year(date(2024, 10, 1), date(2026, 11, 24)), 2027);
        assert_eq!(end_year(date(2024, 2, 29), date(2025, 3, 1)), 2026);
    }
}
