use serde::{Deserialize, Serialize};

use crate::{
    ids::{BranchId, PracticeId, StaffId},
    permissions::Permission,
    roles::PracticeRole,
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewStaff {
    pub staff_id: StaffId,
    pub name: String,
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum PracticeCommand {
    CreatePractice {
        practice_id: PracticeId,
        name: String,
        owner: NewStaff,
        licences: u32,
    },
    InviteStaff {
        staff: NewStaff,
        role: PracticeRole,
        branch: Option<BranchId>,
    },
    /// The invited member accepts (or an administrator activates them).
    ActivateStaff {
        staff_id: StaffId,
    },
    DeactivateStaff {
        staff_id: StaffId,
    },
    ChangePracticeRole {
        staff_id: StaffId,
        role: PracticeRole,
    },
    SetPermission {
        staff_id: StaffId,
        permission: Permission,
        granted: bool,
    },
    PurchaseLicences {
        count: u32,
    },
    CreateBranch {
        branch_id: BranchId,
        name: String,
    },
    AssignSupportToProfessional {
        support: StaffId,
        professional: StaffId,
    },
    UnassignSupportFromProfessional {
        support: StaffId,
        professional: StaffId,
    },
    AssignManagerToProfessional {
        manager: StaffId,
        professional: StaffId,
    },
    UnassignManagerFromProfessional {
        manager: StaffId,
        professional: StaffId,
    },
    TransferOwnership {
        to: StaffId,
    },
    /// Moves an existing staff member (e.g. a clinician) to a branch, or out of any (`None`).
    MoveStaffToBranch {
        staff_id: StaffId,
        branch: Option<BranchId>,
    },
    /// The practice's details (Luminello's Owner > Account): the owner's alone.
    RenamePractice {
        name: String,
    },
    /// How long archived households are kept before their personal data may be erased, and
    /// whether Hearth erases them itself when that time comes.
    SetRetentionPolicy {
        years_after_archive: u16,
        auto_erase: bool,
    },
}
