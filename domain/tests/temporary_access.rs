//! Given/when/then for temporary grants: access that ends by itself at `expires_at`, recorded by
//! Hearth's expiry worker (a colleague covering leave).

mod support;

use chrono::Duration;
use hearth_domain::{
    household::{HouseholdCommand, HouseholdEvent},
    roles::{HouseholdRole, PracticeRole},
    Actor, Decision, DomainError, HouseholdId, StaffId,
};
use support::{now, staff, World};

fn at(
    w: &mut World,
    actor: Actor,
    offset: Duration,
    h: HouseholdId,
    cmd: HouseholdCommand,
) -> Result<Decision, DomainError> {
    w.household_cmd_at(actor, now() + offset, h, cmd)
}

fn as_owner(
    w: &mut World,
    offset: Duration,
    h: HouseholdId,
    cmd: HouseholdCommand,
) -> Result<Decision, DomainError> {
    let owner = staff(w.owner);
    at(w, owner, offset, h, cmd)
}

fn system() -> Actor {
    Actor::System("grant-expiry".into())
}

fn temporary(s: StaffId, hours: i64) -> HouseholdCommand {
    HouseholdCommand::GrantTemporaryAccess {
        staff_id: s,
        role: HouseholdRole::Professional,
        expires_at: now() + Duration::hours(hours),
    }
}

/// A practice where a professional's household can be opened to a colleague covering leave.
struct Given {
    w: World,
    pro: StaffId,
    cover: StaffId,
    h: HouseholdId,
}

fn given() -> Given {
    let mut w = World::new(5);
    let pro = w.active_staff(PracticeRole::Professional);
    let cover = w.active_staff(PracticeRole::Professional);
    let h = w.household_by(pro);
    Given { w, pro, cover, h }
}

/// The colleague holds the household for eight hours from `now()`.
fn given_a_temporary_grant() -> Given {
    let mut given = given();
    as_owner(
        &mut given.w,
        Duration::zero(),
        given.h,
        temporary(given.cover, 8),
    )
    .unwrap();
    given
}

/// The expiry worker records the end of `s`'s grant, `offset` after `now()`.
fn expire(
    w: &mut World,
    offset: Duration,
    h: HouseholdId,
    s: StaffId,
) -> Result<Decision, DomainError> {
    at(
        w,
        system(),
        offset,
        h,
        HouseholdCommand::ExpireStaffAccess { staff_id: s },
    )
}

#[test]
fn a_temporary_grant_records_its_expiry_with_the_grant() {
    let Given {
        mut w, cover, h, ..
    } = given();
    let d = as_owner(&mut w, Duration::zero(), h, temporary(cover, 8)).unwrap();
    match &d.households[0].1[0] {
        HouseholdEvent::AccessGranted(e) => {
            assert_eq!(e.expires_at, Some(now() + Duration::hours(8)))
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        w.household(h).grant_expiries.get(&cover),
        Some(&(now() + Duration::hours(8)))
    );
}

#[test]
fn a_temporary_grant_must_end_in_the_future() {
    let Given {
        mut w, cover, h, ..
    } = given();
    assert!(matches!(
        as_owner(&mut w, Duration::zero(), h, temporary(cover, 0)),
        Err(DomainError::InvalidInput(_))
    ));
}

#[test]
fn a_temporary_grant_needs_the_manage_household_access_permission() {
    let Given {
        mut w,
        pro,
        cover,
        h,
    } = given();
    assert!(matches!(
        at(&mut w, staff(pro), Duration::zero(), h, temporary(cover, 8)),
        Err(DomainError::NotPermitted(_))
    ));
}

#[test]
fn the_system_ends_a_grant_whose_time_has_come_recording_when_it_ended() {
    let Given {
        mut w, cover, h, ..
    } = given_a_temporary_grant();
    let d = expire(&mut w, Duration::hours(9), h, cover).unwrap();
    match &d.households[0].1[0] {
        HouseholdEvent::GrantExpired(e) => {
            assert_eq!((e.staff_id, e.role), (cover, HouseholdRole::Professional));
            assert_eq!(
                e.expired_at,
                now() + Duration::hours(8),
                "when it ended, not when recorded"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(w.household(h).holding(cover), None);
    assert!(w.household(h).grant_expiries.is_empty());
}

#[test]
fn a_grant_is_not_ended_before_its_expiry() {
    let Given {
        mut w, cover, h, ..
    } = given_a_temporary_grant();
    assert_eq!(
        expire(&mut w, Duration::hours(7), h, cover).map(|_| ()),
        Err(DomainError::GrantNotExpired(cover))
    );
}

#[test]
fn a_permanent_grant_never_expires() {
    let Given {
        mut w,
        cover: other,
        h,
        ..
    } = given();
    as_owner(
        &mut w,
        Duration::zero(),
        h,
        HouseholdCommand::GrantStaffAccess {
            staff_id: other,
            role: HouseholdRole::ReadOnly,
        },
    )
    .unwrap();
    assert_eq!(
        expire(&mut w, Duration::days(400), h, other).map(|_| ()),
        Err(DomainError::GrantNotExpired(other))
    );
}

#[test]
fn only_hearth_itself_records_an_expiry() {
    let Given {
        mut w, cover, h, ..
    } = given_a_temporary_grant();
    assert_eq!(
        as_owner(
            &mut w,
            Duration::hours(9),
            h,
            HouseholdCommand::ExpireStaffAccess { staff_id: cover }
        )
        .map(|_| ()),
        Err(DomainError::SystemOnly)
    );
}

#[test]
fn a_temporary_grant_revoked_early_leaves_nothing_to_expire() {
    let Given {
        mut w, cover, h, ..
    } = given_a_temporary_grant();
    as_owner(
        &mut w,
        Duration::hours(1),
        h,
        HouseholdCommand::RevokeStaffAccess { staff_id: cover },
    )
    .unwrap();
    assert!(w.household(h).grant_expiries.is_empty());
    assert_eq!(
        expire(&mut w, Duration::hours(9), h, cover).map(|_| ()),
        Err(DomainError::GrantNotExpired(cover))
    );
}

#[test]
fn a_role_change_keeps_the_expiry_and_becoming_secondary_drops_it() {
    let Given {
        mut w, cover, h, ..
    } = given_a_temporary_grant();
    as_owner(
        &mut w,
        Duration::hours(1),
        h,
        HouseholdCommand::ChangeStaffRole {
            staff_id: cover,
            role: HouseholdRole::ReadOnly,
        },
    )
    .unwrap();
    assert_eq!(
        w.household(h).grant_expiries.get(&cover),
        Some(&(now() + Duration::hours(8)))
    );
    as_owner(
        &mut w,
        Duration::hours(2),
        h,
        HouseholdCommand::SetSecondaryProfessional { staff_id: cover },
    )
    .unwrap();
    assert!(
        w.household(h).grant_expiries.is_empty(),
        "the secondary's access is not temporary"
    );
}
