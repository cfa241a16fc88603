//! One validation for a member's fields, whether created, edited or synchronised from XPLAN.

mod support;

use std::collections::BTreeMap;

use hearth_domain::{
    household::{normalise, ClientField, HouseholdCommand, HouseholdEvent, XplanClientData},
    roles::PracticeRole,
    DomainError, HouseholdId, MemberId,
};
use support::{staff, World};

fn household() -> (World, HouseholdId, MemberId, hearth_domain::StaffId) {
    let mut w = World::new(5);
    let (pro, h) = w.led_household();
    let m = w.household(h).members[0].member_id;
    (w, h, m, pro)
}

fn edit(
    w: &mut World,
    h: HouseholdId,
    m: MemberId,
    by: hearth_domain::StaffId,
    field: ClientField,
    value: Option<&str>,
) -> Result<hearth_domain::Decision, DomainError> {
    w.household_cmd(
        staff(by),
        h,
        HouseholdCommand::EditClientDetails {
            member_id: m,
            fields: BTreeMap::from([(field, value.map(String::from))]),
        },
    )
}

fn invalid(r: Result<hearth_domain::Decision, DomainError>) -> String {
    match r {
        Err(DomainError::InvalidInput(detail)) => detail,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[test]
fn an_edit_cannot_blank_or_clear_a_required_name() {
    let (mut w, h, m, pro) = household();
    invalid(edit(&mut w, h, m, pro, ClientField::FirstName, Some("   ")));
    invalid(edit(&mut w, h, m, pro, ClientField::LastName, None));
}

#[test]
fn an_edit_refuses_an_impossible_date_of_birth() {
    let (mut w, h, m, pro) = household();
    invalid(edit(
        &mut w,
        h,
        m,
        pro,
        ClientField::DateOfBirth,
        Some("1990-02-31"),
    ));
    // Only the RFC 3339 shape the API documents, not what a lenient parser would take.
    for loose in ["1990-2-3", "+1990-02-03", "19900-02-03", "1990/02/03"] {
        invalid(edit(
            &mut w,
            h,
            m,
            pro,
            ClientField::DateOfBirth,
            Some(loose),
        ));
    }
    let ok = edit(
        &mut w,
        h,
        m,
        pro,
        ClientField::DateOfBirth,
        Some("1990-02-28"),
    )
    .unwrap();
    assert!(matches!(
        ok.household_events(h),
        [HouseholdEvent::DetailsEdited(_)]
    ));
}

#[test]
fn an_edit_refuses_an_over_long_field_and_echoes_only_an_excerpt() {
    let (mut w, h, m, pro) = household();
    let huge = "x".repeat(1_500_000);
    let detail = invalid(edit(
        &mut w,
        h,
        m,
        pro,
        ClientField::AddressLine1,
        Some(&huge),
    ));
    assert!(detail.len() < 200, "{} bytes of detail", detail.len());
    let detail = invalid(edit(&mut w, h, m, pro, ClientField::Email, Some(&huge)));
    assert!(detail.len() < 200, "{} bytes of detail", detail.len());
}

#[test]
fn an_edit_refuses_control_characters() {
    let (mut w, h, m, pro) = household();
    invalid(edit(
        &mut w,
        h,
        m,
        pro,
        ClientField::FirstName,
        Some("Ja\0ne"),
    ));
    invalid(edit(
        &mut w,
        h,
        m,
        pro,
        ClientField::Suburb,
        Some("Carlton\u{7}"),
    ));
}

#[test]
fn an_edit_normalises_like_a_sync_title_and_mobile() {
    let (mut w, h, m, pro) = household();
    invalid(edit(&mut w, h, m, pro, ClientField::Title, Some("Sir")));
    invalid(edit(
        &mut w,
        h,
        m,
        pro,
        ClientField::Mobile,
        Some("0412 345 678"),
    ));
    edit(&mut w, h, m, pro, ClientField::Title, Some("dr.")).unwrap();
    assert_eq!(
        w.household(h).member(m).unwrap().fields[&ClientField::Title],
        "Dr"
    );
}

#[test]
fn a_new_member_with_a_control_character_in_the_name_is_refused() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    let mut client = w.new_member();
    client.first_name = "Ca\0sey".into();
    let r = w.household_cmd(
        staff(pro),
        HouseholdId::new(),
        HouseholdCommand::CreateHousehold {
            client,
            partner: None,
            branch: None,
            status: None,
        },
    );
    assert!(matches!(r, Err(DomainError::InvalidInput(_))), "{r:?}");
}

#[test]
fn a_sync_skips_the_values_an_edit_would_refuse() {
    let (fields, skipped) = normalise(&XplanClientData {
        xplan_id: "42".into(),
        first_name: Some("Jane".into()),
        last_name: Some("x".repeat(5_000)),
        suburb: Some("Carl\0ton".into()),
        preferred_email: Some("not-an-email".into()),
        ..Default::default()
    });
    assert_eq!(
        fields.get(&ClientField::FirstName).map(String::as_str),
        Some("Jane")
    );
    let skipped: Vec<ClientField> = skipped.iter().map(|s| s.field).collect();
    assert_eq!(
        skipped,
        vec![
            ClientField::LastName,
            ClientField::Suburb,
            ClientField::Email
        ]
    );
}
