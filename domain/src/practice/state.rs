//! The practice as its events left it. `apply` holds no rules; the query helpers here are the
//! facts both decisions and read models rely on.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::events::PracticeEvent;
use crate::{
    ids::{BranchId, HouseholdId, PracticeId, StaffId},
    permissions::{role_default, Permission},
    roles::PracticeRole,
};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffStatus {
    Invited,
    Active,
    Deactivated,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: StaffId,
    pub name: String,
    pub email: String,
    pub role: PracticeRole,
    pub status: StaffStatus,
    /// Order of (first) activation: "the practice's first professional" is the lowest.
    pub joined: Option<u64>,
    pub branch: Option<BranchId>,
    pub overrides: BTreeMap<Permission, bool>,
    /// For support staff: the professionals they assist. For managers: those they manage.
    pub assists: BTreeSet<StaffId>,
    pub manages: BTreeSet<StaffId>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PracticeState {
    pub id: Option<PracticeId>,
    pub name: String,
    pub owner: Option<StaffId>,
    pub staff: BTreeMap<StaffId, StaffMember>,
    pub licences_held: u32,
    pub branches: BTreeMap<BranchId, String>,
    /// household → (primary, secondary)
    pub leads: BTreeMap<HouseholdId, (StaffId, Option<StaffId>)>,
    #[serde(default)]
    pub retention: super::events::RetentionPolicy,
    joined_counter: u64,
}

impl PracticeState {
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }

    pub fn member(&self, staff: StaffId) -> Option<&StaffMember> {
        self.staff.get(&staff)
    }

    pub fn is_active(&self, staff: StaffId) -> bool {
        self.member(staff)
            .is_some_and(|m| m.status == StaffStatus::Active)
    }

    pub fn role_of(&self, staff: StaffId) -> Option<PracticeRole> {
        self.member(staff).map(|m| m.role)
    }

    /// Effective permission: the owner holds everything; others get their role's default unless
    /// the owner overrode it. Inactive staff hold nothing.
    pub fn has_permission(&self, staff: StaffId, permission: Permission) -> bool {
        let Some(m) = self.member(staff) else {
            return false;
        };
        if m.status != StaffStatus::Active {
            return false;
        }
        if m.role == PracticeRole::Owner {
            return true;
        }
        if permission.is_billing() {
            return false;
        }
        m.overrides
            .get(&permission)
            .copied()
            .unwrap_or_else(|| role_default(m.role, permission))
    }

    /// The earliest-joined active adviser (professional or manager): primary of households that
    /// support staff create.
    pub fn first_professional(&self) -> Option<StaffId> {
        self.staff
            .values()
            .filter(|m| m.status == StaffStatus::Active && m.role.is_adviser())
            .min_by_key(|m| m.joined.unwrap_or(u64::MAX))
            .map(|m| m.id)
    }

    pub fn managed_professionals(&self, manager: StaffId) -> impl Iterator<Item = StaffId> + '_ {
        self.member(manager)
            .into_iter()
            .flat_map(|m| m.manages.iter().copied())
    }

    pub fn assistants_of(&self, professional: StaffId) -> impl Iterator<Item = StaffId> + '_ {
        self.staff
            .values()
            .filter(move |m| m.assists.contains(&professional))
            .map(|m| m.id)
    }

    pub fn managers_of(&self, professional: StaffId) -> impl Iterator<Item = StaffId> + '_ {
        self.staff
            .values()
            .filter(move |m| m.manages.contains(&professional))
            .map(|m| m.id)
    }

    /// Licences occupied: invited or active members whose role takes a seat.
    pub fn licences_used(&self) -> u32 {
        self.staff
            .values()
            .filter(|m| m.status != StaffStatus::Deactivated && m.role.consumes_licence())
            .count() as u32
    }

    /// Households where `staff` is primary or secondary.
    pub fn households_led_by(&self, staff: StaffId) -> Vec<HouseholdId> {
        self.leads
            .iter()
            .filter(|(_, (p, s))| *p == staff || *s == Some(staff))
            .map(|(h, _)| *h)
            .collect()
    }

    pub fn staff_by_email(&self, email: &str) -> Option<&StaffMember> {
        self.staff
            .values()
            .find(|m| m.email.eq_ignore_ascii_case(email.trim()))
    }

    pub fn apply(&mut self, event: &PracticeEvent) {
        use PracticeEvent::*;
        match event {
            Created(e) => {
                self.id = Some(e.practice_id);
                self.name = e.name.clone();
                self.owner = Some(e.owner.staff_id);
                self.licences_held = e.licences;
                self.joined_counter += 1;
                self.staff.insert(
                    e.owner.staff_id,
                    member(
                        &e.owner,
                        PracticeRole::Owner,
                        StaffStatus::Active,
                        Some(self.joined_counter),
                        None,
                    ),
                );
            }
            StaffInvited(e) => {
                self.staff.insert(
                    e.profile.staff_id,
                    member(&e.profile, e.role, StaffStatus::Invited, None, e.branch),
                );
            }
            StaffActivated(e) => {
                self.joined_counter += 1;
                let counter = self.joined_counter;
                if let Some(m) = self.staff.get_mut(&e.staff_id) {
                    m.status = StaffStatus::Active;
                    m.joined.get_or_insert(counter);
                }
            }
            StaffDeactivated(e) => {
                if let Some(m) = self.staff.get_mut(&e.staff_id) {
                    m.status = StaffStatus::Deactivated;
                }
            }
            StaffRoleChanged(e) => {
                if let Some(m) = self.staff.get_mut(&e.staff_id) {
                    m.role = e.to;
                }
            }
            PermissionSet(e) => {
                if let Some(m) = self.staff.get_mut(&e.staff_id) {
                    m.overrides.insert(e.permission, e.granted);
                }
            }
            LicencesPurchased(e) => self.licences_held = e.total,
            BranchCreated(e) => {
                self.branches.insert(e.branch_id, e.name.clone());
            }
            SupportAssigned(e) => self.link(e.staff_id, |m| &mut m.assists, e.professional, true),
            SupportUnassigned(e) => {
                self.link(e.staff_id, |m| &mut m.assists, e.professional, false)
            }
            ManagerAssigned(e) => self.link(e.staff_id, |m| &mut m.manages, e.professional, true),
            ManagerUnassigned(e) => {
                self.link(e.staff_id, |m| &mut m.manages, e.professional, false)
            }
            OwnershipTransferred(e) => {
                self.owner = Some(e.to);
                if let Some(m) = self.staff.get_mut(&e.from) {
                    m.role = e.previous_owner_becomes;
                }
                if let Some(m) = self.staff.get_mut(&e.to) {
                    m.role = PracticeRole::Owner;
                }
            }
            HouseholdLeadsChanged(e) => {
                self.leads.insert(e.household_id, (e.primary, e.secondary));
            }
            StaffMovedToBranch(e) => {
                if let Some(m) = self.staff.get_mut(&e.staff_id) {
                    m.branch = e.to;
                }
            }
            Renamed(e) => self.name = e.to.clone(),
            RetentionPolicySet(e) => self.retention = e.policy,
        }
    }

    fn link(
        &mut self,
        staff: StaffId,
        set: fn(&mut StaffMember) -> &mut BTreeSet<StaffId>,
        professional: StaffId,
        on: bool,
    ) {
        if let Some(m) = self.staff.get_mut(&staff) {
            if on {
                set(m).insert(professional);
            } else {
                set(m).remove(&professional);
            }
        }
    }
}

fn member(
    p: &super::events::StaffProfile,
    role: PracticeRole,
    status: StaffStatus,
    joined: Option<u64>,
    branch: Option<BranchId>,
) -> StaffMember {
    StaffMember {
        id: p.staff_id,
        name: p.name.clone(),
        email: p.email.clone(),
        role,
        status,
        joined,
        branch,
        overrides: BTreeMap::new(),
        assists: BTreeSet::new(),
        manages: BTreeSet::new(),
    }
}
