//! Old events still load: a v1 grant (stored before household roles existed) reads as a v2
//! professional grant.

use hearth_domain::{
    household::HouseholdEvent, roles::HouseholdRole, upcast::upcast, EventDecodeError,
};
use serde_json::json;

fn v1_grant() -> serde_json::Value {
    json!({
        "meta": {"actor": {"kind": "operator"}, "at": "2024-01-01T00:00:00Z"},
        "staff_id": "7d8f2a52-8d38-4b4a-9f54-2f4b1d2e3c4a"
    })
}

#[test]
fn a_version_1_grant_loads_as_a_professional_grant() {
    let event =
        HouseholdEvent::from_stored("household.staff_access_granted", 1, v1_grant()).unwrap();
    let HouseholdEvent::AccessGranted(grant) = event else {
        panic!("not a grant: {event:?}")
    };
    assert_eq!(grant.role, HouseholdRole::Professional);
    assert_eq!(
        upcast("household.staff_access_granted", 1, v1_grant())
            .unwrap()
            .0,
        2
    );
}

#[test]
fn a_version_newer_than_the_build_is_refused_not_misread() {
    let err =
        HouseholdEvent::from_stored("household.staff_access_granted", 3, v1_grant()).unwrap_err();
    assert!(matches!(
        err,
        EventDecodeError::UnknownVersion { version: 3, .. }
    ));
    assert!(matches!(
        HouseholdEvent::from_stored("household.nope", 1, json!({})),
        Err(EventDecodeError::UnknownType(_))
    ));
}
