//! Given/when/then for erasing a household's personal data (issue 15): who may, when retention
//! allows it, what is recorded, and what the household takes afterwards.

mod support;

use chrono::{DateTime, Duration, Utc};
use hearth_domain::{
    household::{self, personal, HouseholdCommand, HouseholdEvent, HouseholdEventKind, ERASED},
    permissions::Permission,
    practice::PracticeCommand,
    roles::{HouseholdRole, PracticeRole},
    Actor, CommandContext, DomainError, HouseholdId, StaffId,
};
use strum::IntoEnumIterator;
use support::{now, staff, World};

/// `actor`: the owner when `None`.
fn erase_at(
    w: &mut World,
    actor: Option<Actor>,
    h: HouseholdId,
    at: DateTime<Utc>,
    reason: Option<&str>,
    override_retention: bool,
) -> Result<Vec<HouseholdEvent>, DomainError> {
    let mut ctx = CommandContext::new(actor.unwrap_or(staff(w.owner)), at);
    ctx.reason = reason.map(str::to_string);
    let cmd = HouseholdCommand::EraseHousehold { override_retention };
    let current = w.households.get(&h).cloned().unwrap_or_default();
    let decision = household::decide(&current, &w.practice, h, &cmd, &ctx)?;
    w.apply(&decision);
    Ok(decision
        .households
        .into_iter()
        .flat_map(|(_, e)| e)
        .collect())
}

/// Given: a household with a grant, archived by the owner at `now()`.
fn archived_household(w: &mut World) -> (HouseholdId, StaffId) {
    let pro = w.active_staff(PracticeRole::Professional);
    let other = w.active_staff(PracticeRole::Professional);
    let h = w.household_by(pro);
    w.household_cmd(
        staff(w.owner),
        h,
        HouseholdCommand::GrantStaffAccess {
            staff_id: other,
            role: HouseholdRole::Professional,
        },
    )
    .unwrap();
    w.household_cmd(staff(w.owner), h, HouseholdCommand::ArchiveHousehold)
        .unwrap();
    (h, other)
}

fn years(n: i64) -> Duration {
    Duration::days(365 * n + 2)
}

#[test]
fn the_owner_erases_an_archived_household_once_its_retention_has_passed() {
    let mut w = World::new(5);
    let (h, other) = archived_household(&mut w);
    let events = erase_at(
        &mut w,
        None,
        h,
        now() + years(7),
        Some("client asked"),
        false,
    )
    .unwrap();
    let [HouseholdEvent::Erased(e)] = events.as_slice() else {
        panic!("one erasure event, got {events:?}");
    };
    assert!(!e.retention_overridden);
    assert_eq!(e.meta.reason.as_deref(), Some("client asked"));
    assert!(e.retention_ended.is_some_and(|end| end <= now() + years(7)));
    let state = w.household(h);
    assert_eq!(state.name, ERASED);
    assert!(
        state.members.iter().all(|m| m.fields.is_empty()),
        "personal fields are gone"
    );
    assert!(state.holding(other).is_some(), "access facts stay");
}

#[test]
fn before_retention_has_passed_erasure_is_refused_unless_overridden_by_permission() {
    let mut w = World::new(5);
    let (h, _) = archived_household(&mut w);
    let early = now() + Duration::days(30);
    assert!(matches!(
        erase_at(&mut w, None, h, early, Some("asked"), false),
        Err(DomainError::RetentionNotPassed { until: Some(_) })
    ));
    let events = erase_at(&mut w, None, h, early, Some("court order"), true).unwrap();
    let [HouseholdEvent::Erased(e)] = events.as_slice() else {
        panic!("one erasure event");
    };
    assert!(e.retention_overridden, "the override is recorded");
}

#[test]
fn a_household_still_served_is_never_past_retention() {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    let h = w.household_by(pro);
    assert_eq!(
        erase_at(&mut w, None, h, now() + years(50), Some("asked"), false),
        Err(DomainError::RetentionNotPassed { until: None })
    );
}

#[test]
fn erasure_needs_a_reason() {
    let mut w = World::new(5);
    let (h, _) = archived_household(&mut w);
    for reason in [None, Some("   ")] {
        assert_eq!(
            erase_at(&mut w, None, h, now() + years(8), reason, false),
            Err(DomainError::ReasonRequired("erase a household"))
        );
    }
}

#[test]
fn only_the_owner_erases_until_they_delegate_and_the_override_is_a_permission_of_its_own() {
    let mut w = World::new(5);
    let (h, _) = archived_household(&mut w);
    let admin = w.active_staff(PracticeRole::SuperAdmin);
    let later = now() + years(8);
    assert_eq!(
        erase_at(&mut w, Some(staff(admin)), h, later, Some("asked"), false),
        Err(DomainError::NotPermitted(Permission::EraseHouseholds))
    );
    w.practice_cmd(
        w.owner,
        PracticeCommand::SetPermission {
            staff_id: admin,
            permission: Permission::EraseHouseholds,
            granted: true,
        },
    )
    .unwrap();
    assert_eq!(
        erase_at(
            &mut w,
            Some(staff(admin)),
            h,
            now() + Duration::days(1),
            Some("asked"),
            true
        ),
        Err(DomainError::NotPermitted(Permission::OverrideRetention))
    );
    assert!(erase_at(&mut w, Some(staff(admin)), h, later, Some("asked"), false).is_ok());
}

#[test]
fn the_practices_retention_period_decides_when_it_ends() {
    let mut w = World::new(5);
    let (h, _) = archived_household(&mut w);
    w.practice_cmd(
        w.owner,
        PracticeCommand::SetRetentionPolicy {
            years_after_archive: 2,
            auto_erase: false,
        },
    )
    .unwrap();
    assert!(erase_at(&mut w, None, h, now() + years(2), Some("asked"), false).is_ok());
    for bad in [0, 101] {
        assert!(matches!(
            w.practice_cmd(
                w.owner,
                PracticeCommand::SetRetentionPolicy {
                    years_after_archive: bad,
                    auto_erase: false
                }
            ),
            Err(DomainError::InvalidInput(_))
        ));
    }
}

#[test]
fn hearth_erases_by_itself_only_where_the_practice_chose_it_and_never_early() {
    let mut w = World::new(5);
    let (h, _) = archived_household(&mut w);
    let system = || Actor::System("retention".into());
    let later = now() + years(8);
    assert_eq!(
        erase_at(
            &mut w,
            Some(system()),
            h,
            later,
            Some("retention ended"),
            false
        ),
        Err(DomainError::NotPermitted(Permission::EraseHouseholds))
    );
    w.practice_cmd(
        w.owner,
        PracticeCommand::SetRetentionPolicy {
            years_after_archive: 7,
            auto_erase: true,
        },
    )
    .unwrap();
    assert!(matches!(
        erase_at(
            &mut w,
            Some(system()),
            h,
            now() + Duration::days(3),
            Some("retention ended"),
            true
        ),
        Err(DomainError::RetentionNotPassed { .. })
    ));
    assert!(erase_at(
        &mut w,
        Some(system()),
        h,
        later,
        Some("retention ended"),
        false
    )
    .is_ok());
}

#[test]
fn an_erased_household_takes_nothing_that_could_bring_personal_data_back() {
    let mut w = World::new(5);
    let (h, other) = archived_household(&mut w);
    w.household_cmd(staff(w.owner), h, HouseholdCommand::RestoreHousehold)
        .unwrap();
    erase_at(&mut w, None, h, now(), Some("court order"), true).unwrap();
    for cmd in [
        HouseholdCommand::ArchiveHousehold,
        HouseholdCommand::EraseHousehold {
            override_retention: true,
        },
    ] {
        assert_eq!(
            w.household_cmd(staff(w.owner), h, cmd),
            Err(DomainError::HouseholdErased)
        );
    }
    assert!(
        w.household_cmd(
            staff(w.owner),
            h,
            HouseholdCommand::RevokeStaffAccess { staff_id: other }
        )
        .is_ok(),
        "access can still end"
    );
}

#[test]
fn every_event_kind_that_carries_client_text_marks_it_personal() {
    use HouseholdEventKind::*;
    for kind in HouseholdEventKind::iter() {
        let paths = personal::personal_paths(kind);
        let carries_client_text = matches!(
            kind,
            Created
                | DetailsEdited
                | XplanClientSynced
                | PoliciesSynced
                | YourLifeSurveyCompleted
                | ValuesSessionCompleted
                | BestLifePlanExported
                | InvestmentPreferencesCompleted
                | InvestmentPreferencesExported
                | FileNoteCreated
        );
        assert_eq!(!paths.is_empty(), carries_client_text, "{kind:?}");
    }
    assert_eq!(
        personal::personal_paths(Created),
        &["name", "members.*.fields"]
    );
}
