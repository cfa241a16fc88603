use serde_json::json;

use super::state::{FakeClient, Inner};
use crate::xplan::shape;

const ADVISERS: [(&str, &str); 4] = [
    ("Ada", "Adviser"),
    ("Ben", "Banks"),
    ("Cleo", "Cho"),
    ("Dev", "Dutta"),
];
const TITLES: [&str; 5] = ["Mr", "Mrs", "Ms", "Dr", "Miss"];

/// Deterministic clients: every field filled, so a sync of them exercises every mapping.
pub(crate) fn generate(inner: &mut Inner, clients: usize, policies: usize) {
    for (i, (first, last)) in ADVISERS.iter().enumerate() {
        let id = 9000 + i as u64;
        if !inner.users.contains_key(&id) {
            let email = format!("{}@advisers.example", first.to_lowercase());
            inner.put_user(id, first, last, &email);
        }
    }
    let start = inner.clients.keys().next_back().map_or(1000, |k| k + 1);
    for n in 0..clients as u64 {
        let id = start + n;
        let mut c = FakeClient::new(id, &format!("Client{id}"), &format!("Family{}", id % 997));
        c.set("title", json!(TITLES[(id % 5) as usize]))
            .set("middle_name", json!("Q"))
            .set(
                "dob",
                shape::date(&format!(
                    "19{:02}-{:02}-{:02}",
                    40 + id % 60,
                    1 + id % 12,
                    1 + id % 28
                )),
            )
            .set(
                "sex",
                json!(if id.is_multiple_of(2) {
                    "Female"
                } else {
                    "Male"
                }),
            )
            .set("client_adviser", json!(9000 + id % ADVISERS.len() as u64));
        c.contacts = vec![
            json!({"type": "email", "value": format!("client{id}@example.com"), "preferred": true}),
            json!({"type": "mobile", "value": format!("+61 4{:08}", id), "preferred": true}),
        ];
        c.addresses = vec![
            json!({"street": format!("{} Harbour St", id % 300), "street2": "", "suburb": "Sydney", "postcode": "2000", "state": "NSW", "country": "AU", "preferred": true}),
        ];
        c.policies = (0..policies)
            .map(|p| {
                let kind = ["Life", "TPD", "Income Protection", "Trauma"][p % 4];
                json!({
                    "index": p,
                    "insurance_type": kind,
                    "underwriter_description": "Harbour Life",
                    "plan_name": format!("Plan {p}"),
                    "policy_number": format!("P{id}-{p}"),
                    "sum_insured": shape::currency("AUD", &format!("{}.00", 100_000 * (p + 1))),
                    "installment_premium": shape::currency("AUD", "123.45"),
                    "premium_frequency": "Monthly",
                    "status": "In force",
                    "renewal_date": shape::date(&format!("{}-06-30", 2027 + p)),
                })
            })
            .collect();
        inner.clients.insert(id, c);
    }
}
