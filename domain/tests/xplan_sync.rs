//! XPLAN is master of the synced fields (seed: lumiant-xplan-integration, PRODUCT.md §4).

mod support;

use chrono::NaiveDate;
use hearth_domain::{
    household::{ClientField, HouseholdCommand, HouseholdEvent, XplanClientData, XplanPolicy},
    roles::{HouseholdRole, PracticeRole},
    Actor, DomainError, HouseholdId, IntegrationId, MemberId,
};
use support::{staff, World};

fn sync_actor() -> Actor {
    Actor::System("xplan-sync".into())
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

fn client(adviser_email: &str) -> XplanClientData {
    XplanClientData {
        xplan_id: "X-100".into(),
        title: Some("Mrs".into()),
        first_name: Some("Jane".into()),
        last_name: Some("Citizen".into()),
        date_of_birth: NaiveDate::from_ymd_opt(1970, 5, 17),
        preferred_email: Some("Jane@Example.com".into()),
        preferred_mobile: Some("+61 400 000 001".into()),
        adviser_first_name: Some("Ada".into()),
        adviser_last_name: Some("Adviser".into()),
        adviser_email: Some(adviser_email.into()),
        policies: vec![XplanPolicy {
            insurance_type: Some("Life".into()),
            insurer: Some("AIA".into()),
            cover: Some("500000.00".into()),
            premium: Some("120.50".into()),
            policy_to_date: NaiveDate::from_ymd_opt(2025, 6, 30),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn created(w: &mut World, data: XplanClientData) -> (HouseholdId, IntegrationId) {
    let (h, integration) = (HouseholdId::new(), IntegrationId::new());
    w.household_cmd(
        sync_actor(),
        h,
        HouseholdCommand::CreateHouseholdFromXplan {
            integration_id: integration,
            member_id: MemberId::new(),
            data,
            synced_on: day(),
        },
    )
    .unwrap();
    (h, integration)
}

fn sync(
    w: &mut World,
    h: HouseholdId,
    integration: IntegrationId,
    data: XplanClientData,
) -> Vec<HouseholdEvent> {
    w.household_cmd(
        sync_actor(),
        h,
        HouseholdCommand::SyncXplanClient {
            integration_id: integration,
            data,
            synced_on: day(),
        },
    )
    .unwrap()
    .household_events(h)
    .to_vec()
}

#[test]
fn a_new_xplan_client_becomes_a_household_led_by_its_adviser() {
    let mut w = World::new(5);
    let _first = w.active_staff(PracticeRole::Professional);
    let ada = w.active_staff(PracticeRole::Professional);
    let email = w.practice.member(ada).unwrap().email.clone();
    let (h, _) = created(&mut w, client(&email.to_uppercase()));
    let hh = w.household(h);
    assert_eq!(hh.primary, Some(ada));
    assert_eq!(hh.name, "Jane Citizen");
    let member = &hh.members[0];
    assert_eq!(member.fields[&ClientField::Email], "jane@example.com");
    assert_eq!(member.fields[&ClientField::Mobile], "+61400000001");
    assert_eq!(member.xplan.as_ref().unwrap().xplan_id, "X-100");
    assert_eq!(
        hh.policies[0].end_year,
        Some(2027),
        "a June 2025 renewal rolled forward past November 2026"
    );
    w.assert_invariants();
}

#[test]
fn an_unknown_adviser_leaves_the_household_with_the_first_professional() {
    let mut w = World::new(5);
    let first = w.active_staff(PracticeRole::Professional);
    let (h, _) = created(&mut w, client("nobody@elsewhere.com"));
    assert_eq!(w.household(h).primary, Some(first));
}

#[test]
fn a_sync_that_finds_nothing_changed_decides_nothing() {
    let mut w = World::new(5);
    w.active_staff(PracticeRole::Professional);
    let (h, i) = created(&mut w, client("x@example.com"));
    assert!(sync(&mut w, h, i, client("x@example.com")).is_empty());
}

#[test]
fn a_changed_field_updates_only_that_field() {
    let mut w = World::new(5);
    w.active_staff(PracticeRole::Professional);
    let (h, i) = created(&mut w, client("x@example.com"));
    let mut changed = client("x@example.com");
    changed.suburb = Some("Fitzroy".into());
    let events = sync(&mut w, h, i, changed);
    let [HouseholdEvent::XplanClientSynced(e)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(e.changes.len(), 1);
    assert_eq!(
        (e.changes[0].field, e.changes[0].to.as_deref()),
        (ClientField::Suburb, Some("Fitzroy"))
    );
}

#[test]
fn unsupported_titles_and_mobiles_without_country_code_are_skipped_with_a_reason_once() {
    let mut w = World::new(5);
    w.active_staff(PracticeRole::Professional);
    let (h, i) = created(&mut w, client("x@example.com"));
    let mut odd = client("x@example.com");
    odd.title = Some("Sir".into());
    odd.preferred_mobile = Some("0400 000 002".into());
    let events = sync(&mut w, h, i, odd.clone());
    let [HouseholdEvent::XplanClientSynced(e)] = &events[..] else {
        panic!("{events:?}")
    };
    assert!(
        e.changes.is_empty(),
        "skipped values change nothing: {:?}",
        e.changes
    );
    assert_eq!(
        e.skipped.iter().map(|s| s.field).collect::<Vec<_>>(),
        vec![ClientField::Title, ClientField::Mobile]
    );
    assert_eq!(w.household(h).members[0].fields[&ClientField::Title], "Mrs");
    assert!(
        sync(&mut w, h, i, odd).is_empty(),
        "the same skips are not recorded again"
    );
}

#[test]
fn a_local_edit_is_kept_until_the_next_sync_overwrites_it() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    let email = w.practice.member(pro).unwrap().email.clone();
    let (h, i) = created(&mut w, client(&email));
    let member = w.household(h).members[0].member_id;
    let edit = HouseholdCommand::EditClientDetails {
        member_id: member,
        fields: [(ClientField::LastName, Some("Local".to_string()))].into(),
    };
    w.household_cmd(staff(pro), h, edit).unwrap();
    assert_eq!(
        w.household(h).members[0].fields[&ClientField::LastName],
        "Local"
    );
    let events = sync(&mut w, h, i, client(&email));
    let [HouseholdEvent::XplanClientSynced(e)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(
        (e.changes[0].from.as_deref(), e.changes[0].to.as_deref()),
        (Some("Local"), Some("Citizen"))
    );
    assert_eq!(
        w.household(h).members[0].fields[&ClientField::LastName],
        "Citizen"
    );
}

#[test]
fn when_xplan_names_a_new_adviser_who_is_staff_they_become_primary() {
    let mut w = World::new(5);
    let [old, new] = w.professionals();
    let (old_email, new_email) = (
        w.practice.member(old).unwrap().email.clone(),
        w.practice.member(new).unwrap().email.clone(),
    );
    let (h, i) = created(&mut w, client(&old_email));
    let events = sync(&mut w, h, i, client(&new_email));
    assert!(events.iter().any(|e| matches!(e, HouseholdEvent::PrimaryAssigned(p) if p.staff_id == new && p.previous == old)));
    assert_eq!(w.household(h).primary, Some(new));
    assert_eq!(
        w.household(h).grants.get(&old),
        Some(&HouseholdRole::Professional)
    );
    w.assert_invariants();
}

#[test]
fn a_member_linked_to_one_xplan_id_cannot_be_linked_to_another() {
    let mut w = World::new(5);
    let (_, h) = w.led_household();
    let member = w.household(h).members[0].member_id;
    let integration = IntegrationId::new();
    let link = |id: &str| HouseholdCommand::LinkXplanId {
        integration_id: integration,
        member_id: member,
        xplan_id: id.into(),
    };
    assert_eq!(
        w.household_cmd(sync_actor(), h, link("X-1"))
            .unwrap()
            .household_events(h)
            .len(),
        1
    );
    assert!(
        w.household_cmd(sync_actor(), h, link("X-1"))
            .unwrap()
            .is_empty(),
        "already linked: nothing to do"
    );
    assert_eq!(
        w.household_cmd(sync_actor(), h, link("X-2")),
        Err(DomainError::ConflictingXplanId {
            existing: "X-1".into(),
            requested: "X-2".into()
        })
    );
}

#[test]
fn staff_without_manage_integrations_cannot_link_xplan_ids() {
    let mut w = World::new(5);
    let (pro, h) = w.led_household();
    let member = w.household(h).members[0].member_id;
    let cmd = HouseholdCommand::LinkXplanId {
        integration_id: IntegrationId::new(),
        member_id: member,
        xplan_id: "X-1".into(),
    };
    assert!(matches!(
        w.household_cmd(staff(pro), h, cmd),
        Err(DomainError::NotPermitted(_))
    ));
}
