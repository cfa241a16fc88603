//! Every XPLAN path, parameter and JSON field name Hearth uses, in one place, so they can be
//! corrected against Iress's own documentation here and nowhere else. The fake XPLAN server
//! speaks exactly this shape. See ../shared/XPLAN.md for the sources.
//!
//! CERTAIN: published by Iress (iress-xplan-api-examples) or by a working open-source client
//! (cl-xplan-api). ASSUMED: plausible, not confirmed; marked on each item.

use base64::Engine;
use serde_json::{json, Value};

// --- OAuth 2.0, authorisation code (CERTAIN) ---
pub const OAUTH_AUTHORISE: &str = "/oauth2/auth";
pub const OAUTH_TOKEN: &str = "/oauth2/token";

// --- Headers (CERTAIN) ---
pub const APP_ID_HEADER: &str = "X-Xplan-App-Id";

// --- Clients (CERTAIN paths and paging parameters) ---
pub const CLIENTS: &str = "/resourceful/entity/client-v3";
pub fn client(id: &str) -> String {
    format!("{CLIENTS}/{id}")
}
/// Sub-lists under a client: `address`, `contact` (CERTAIN), `insurance_group` (ASSUMED name).
pub fn client_list(id: &str, list: &str) -> String {
    format!("{CLIENTS}/{id}/{list}")
}
pub const LIST_CONTACT: &str = "contact";
pub const LIST_ADDRESS: &str = "address";
/// ASSUMED: the name of the insurance sub-list.
pub const LIST_INSURANCE: &str = "insurance_group";
pub const PAGE_SIZE: &str = "page_size";
/// Pass the last item's `bookmark` back unencoded (CERTAIN).
pub const PAGE_BOOKMARK: &str = "page_bookmark";
pub const ITEM_ID: &str = "id";
pub const ITEM_BOOKMARK: &str = "bookmark";

/// Client fields requested with `fields.N=` (flattened GET parameters, CERTAIN).
/// `first_name`, `last_name`, `client_adviser` are CERTAIN; the others are ASSUMED names.
pub const CLIENT_FIELDS: [&str; 7] = [
    "title",
    "first_name",
    "middle_name",
    "last_name",
    "dob",
    "sex",
    "client_adviser",
];

// Contact items (ASSUMED): { "type": "email"|"mobile"|…, "value", "preferred": bool }.
pub const CONTACT_TYPE: &str = "type";
pub const CONTACT_VALUE: &str = "value";
pub const PREFERRED: &str = "preferred";
pub const CONTACT_EMAIL: &str = "email";
pub const CONTACT_MOBILE: &str = "mobile";

// Address items (ASSUMED).
pub const ADDRESS_FIELDS: [&str; 6] = [
    "street", "street2", "suburb", "postcode", "state", "country",
];

// Insurance items (ASSUMED).
pub const POLICY_TYPE: &str = "insurance_type";
pub const POLICY_INSURER: &str = "underwriter_description";
pub const POLICY_PLAN: &str = "plan_name";
pub const POLICY_NUMBER: &str = "policy_number";
pub const POLICY_COVER: &str = "sum_insured";
pub const POLICY_PREMIUM: &str = "installment_premium";
pub const POLICY_FREQUENCY: &str = "premium_frequency";
pub const POLICY_STATUS: &str = "status";
pub const POLICY_RENEWAL: &str = "renewal_date";

// --- Advisers (CERTAIN path; the email field name is ASSUMED) ---
pub fn user(id: &str) -> String {
    format!("/resourceful/entity/user-v2/{id}")
}
pub const USER_FIRST_NAME: &str = "first_name";
pub const USER_LAST_NAME: &str = "last_name";
/// ASSUMED field name.
pub const USER_EMAIL: &str = "email";

// --- File notes (CERTAIN) ---
pub const DOCNOTES: &str = "/resourceful/docnote-v2";
pub fn attachment(docid: &str) -> String {
    format!("{DOCNOTES}/{docid}/attachment-v3")
}
pub const DOCNOTE_ID: &str = "docid";
/// ASSUMED: how "type General" is expressed: the docnote's `doctype`.
pub const DOCTYPE_GENERAL: &str = "General";
/// The docnote's summary line; Hearth writes its marker there to find a note it made before.
pub const DOCNOTE_SUMMARY: &str = "summary";
/// ASSUMED: a listed note names its attachments.
pub const DOCNOTE_ATTACHMENTS: &str = "attachments";

/// A plain-text docnote of type General on the given clients (entity ids are numbers when they
/// look like numbers, as XPLAN's are).
pub fn docnote(
    subject: &str,
    body: &str,
    clients: &[String],
    summary: &str,
    reference_date: chrono::NaiveDate,
) -> Value {
    let entity_ids: Vec<Value> = clients
        .iter()
        .map(|c| {
            c.parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(c.as_str()))
        })
        .collect();
    serde_json::json!({
        "subject": subject,
        "body": body,
        "mimetype": "text/plain",
        "entity_ids": entity_ids,
        "doctype": DOCTYPE_GENERAL,
        DOCNOTE_SUMMARY: summary,
        "reference_date": date(&reference_date.to_string()),
    })
}

/// Whether a listed docnote already has an attachment.
pub fn docnote_has_attachments(note: &Value) -> bool {
    note.get(DOCNOTE_ATTACHMENTS)
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

// --- Errors (CERTAIN) ---
pub const ERROR_USER_MESSAGE: &str = "user_message";

// --- Typed values (CERTAIN) ---
/// The plain value of a field: strings and numbers as they are, typed values by their `_val`
/// (Date → "YYYY-MM-DD", BigDecimal → its string, Currency → its amount).
pub fn plain(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(o) => match (o.get("_type").and_then(Value::as_str), o.get("_val")) {
            (Some("Currency"), Some(val)) => val.get("value").and_then(plain),
            (Some(_), Some(val)) => plain(val),
            _ => None,
        },
        Value::Array(_) => None,
    }
}

pub fn date(v: &str) -> Value {
    json!({"_type": "Date", "_val": v})
}

pub fn currency(code: &str, amount: &str) -> Value {
    json!({"_type": "Currency", "_val": {"code": code, "value": {"_type": "BigDecimal", "_val": amount}}})
}

pub fn binary(bytes: &[u8]) -> Value {
    json!({"_type": "Binary", "_val": base64::engine::general_purpose::STANDARD.encode(bytes)})
}

pub fn binary_bytes(v: &Value) -> Option<Vec<u8>> {
    let s = v.get("_val")?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// `fields.0=a&fields.1=b`: XPLAN's flattened list parameters (CERTAIN).
pub fn flattened(name: &str, values: &[&str]) -> Vec<(String, String)> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("{name}.{i}"), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_read_as_their_plain_value() {
        assert_eq!(plain(&date("2018-03-01")).as_deref(), Some("2018-03-01"));
        assert_eq!(plain(&currency("AUD", "123.45")).as_deref(), Some("123.45"));
        assert_eq!(plain(&json!(42)).as_deref(), Some("42"));
        assert_eq!(plain(&json!(null)), None);
        assert_eq!(binary_bytes(&binary(b"%PDF")).unwrap(), b"%PDF");
    }

    #[test]
    fn list_parameters_are_flattened() {
        assert_eq!(
            flattened("fields", &["a", "b"]),
            vec![
                ("fields.0".into(), "a".into()),
                ("fields.1".into(), "b".into())
            ]
        );
    }
}
