//! XPLAN's JSON → the domain's `XplanClientData`. The field rules themselves (titles, mobiles,
//! end years) are the domain's; this only reads values where XPLAN keeps them.

use chrono::NaiveDate;
use hearth_domain::household::{XplanClientData, XplanPolicy};
use serde_json::Value;

use super::shape::{self, plain};

fn field(item: &Value, name: &str) -> Option<String> {
    item.get(name)
        .and_then(plain)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn day(item: &Value, name: &str) -> Option<NaiveDate> {
    field(item, name)
        .and_then(|d| NaiveDate::parse_from_str(d.get(..10).unwrap_or(&d), "%Y-%m-%d").ok())
}

fn is_preferred(item: &Value) -> bool {
    item.get(shape::PREFERRED)
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The preferred item of a kind, else the first of that kind: XPLAN may hold several emails
/// and mobiles; Hearth keeps one of each.
fn preferred_contact(contacts: &[Value], kind: &str) -> Option<String> {
    let of_kind: Vec<&Value> = contacts
        .iter()
        .filter(|c| field(c, shape::CONTACT_TYPE).is_some_and(|t| t.eq_ignore_ascii_case(kind)))
        .collect();
    of_kind
        .iter()
        .find(|c| is_preferred(c))
        .or_else(|| of_kind.first())
        .and_then(|c| field(c, shape::CONTACT_VALUE))
}

/// Builds the record the domain syncs from the list item, the client's sub-lists and its adviser.
pub fn client_data(
    xplan_id: &str,
    item: &Value,
    contacts: &[Value],
    addresses: &[Value],
    policies: &[Value],
    adviser: Option<&Value>,
) -> XplanClientData {
    let address = addresses
        .iter()
        .find(|a| is_preferred(a))
        .or_else(|| addresses.first());
    let a = |name: &str| address.and_then(|a| field(a, name));
    XplanClientData {
        xplan_id: xplan_id.to_string(),
        title: field(item, "title"),
        first_name: field(item, "first_name"),
        middle_name: field(item, "middle_name"),
        last_name: field(item, "last_name"),
        date_of_birth: day(item, "dob"),
        sex: field(item, "sex"),
        address_line1: a("street"),
        address_line2: a("street2"),
        suburb: a("suburb"),
        postcode: a("postcode"),
        state: a("state"),
        country_code: a("country"),
        preferred_email: preferred_contact(contacts, shape::CONTACT_EMAIL),
        preferred_mobile: preferred_contact(contacts, shape::CONTACT_MOBILE),
        adviser_first_name: adviser.and_then(|u| field(u, shape::USER_FIRST_NAME)),
        adviser_last_name: adviser.and_then(|u| field(u, shape::USER_LAST_NAME)),
        adviser_email: adviser.and_then(|u| field(u, shape::USER_EMAIL)),
        policies: policies
            .iter()
            .map(|p| XplanPolicy {
                insurance_type: field(p, shape::POLICY_TYPE),
                insurer: field(p, shape::POLICY_INSURER),
                description: field(p, shape::POLICY_PLAN),
                cover: field(p, shape::POLICY_COVER),
                premium: field(p, shape::POLICY_PREMIUM),
                frequency: field(p, shape::POLICY_FREQUENCY),
                policy_number: field(p, shape::POLICY_NUMBER),
                status: field(p, shape::POLICY_STATUS),
                policy_to_date: day(p, shape::POLICY_RENEWAL),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_typed_values_and_picks_the_preferred_contact() {
        let item = json!({"id": 7, "title": "Dr", "first_name": " Jane ", "last_name": "Citizen", "dob": shape::date("1980-02-03")});
        let contacts = [
            json!({"type": "email", "value": "old@example.com", "preferred": false}),
            json!({"type": "email", "value": "jane@example.com", "preferred": true}),
            json!({"type": "mobile", "value": "+61 400 000 000"}),
        ];
        let policies = [
            json!({"insurance_type": "Life", "sum_insured": shape::currency("AUD", "500000.00"), "renewal_date": shape::date("2030-06-30")}),
        ];
        let adviser =
            json!({"first_name": "Ada", "last_name": "Adviser", "email": "ada@harbour.test"});
        let d = client_data("7", &item, &contacts, &[], &policies, Some(&adviser));
        assert_eq!(d.first_name.as_deref(), Some("Jane"));
        assert_eq!(d.date_of_birth, NaiveDate::from_ymd_opt(1980, 2, 3));
        assert_eq!(d.preferred_email.as_deref(), Some("jane@example.com"));
        assert_eq!(d.preferred_mobile.as_deref(), Some("+61 400 000 000"));
        assert_eq!(d.policies[0].cover.as_deref(), Some("500000.00"));
        assert_eq!(
            d.policies[0].policy_to_date,
            NaiveDate::from_ymd_opt(2030, 6, 30)
        );
        assert_eq!(d.adviser_email.as_deref(), Some("ada@harbour.test"));
    }
}
