//! Every rule a command can break, worded for a practice manager. `code()` is the stable
//! machine-readable name the API returns.

use crate::{
    ids::{BranchId, MemberId, StaffId},
    permissions::Permission,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("this practice does not exist")]
    PracticeNotFound,
    #[error("a practice with this id already exists")]
    PracticeAlreadyExists,
    #[error("this household does not exist")]
    HouseholdNotFound,
    #[error("a household with this id already exists")]
    HouseholdAlreadyExists,
    #[error("staff member {0} is not part of this practice")]
    StaffNotFound(StaffId),
    #[error("staff member {0} already exists")]
    StaffAlreadyExists(StaffId),
    #[error("someone in this practice already uses the email {0}")]
    EmailAlreadyInUse(String),
    #[error("you need the \"{}\" permission to do this", permission_label(*.0))]
    NotPermitted(Permission),
    /// The one acting is a member whose account is not active (deactivated, archived, or not
    /// yet activated): the same answer the API gives before a command is tried.
    #[error("your account is not an active member of this practice")]
    ActorNotActive,
    #[error("only the platform operator can create practices")]
    OperatorOnly,
    #[error("only the practice owner can {0}")]
    OwnerOnly(&'static str),
    #[error("staff member {0} is not active")]
    StaffNotActive(StaffId),
    #[error("staff member {0} has no pending invitation to accept")]
    NotInvited(StaffId),
    #[error("staff member {staff} is still primary or secondary professional of {households} household(s); reassign them first")]
    StillLeadsHouseholds { staff: StaffId, households: usize },
    #[error("the practice owner cannot be deactivated or change role; transfer ownership first")]
    OwnerIsFixed,
    #[error("a practice has exactly one owner: use transfer ownership")]
    OwnerRoleViaTransferOnly,
    #[error(
        "all {held} licence(s) are in use; buy more licences before inviting another professional"
    )]
    LicencesExhausted { held: u32 },
    #[error("the number of licences must be between 1 and 100000")]
    InvalidLicenceCount,
    #[error("billing is the owner's alone and cannot be granted to anyone else")]
    BillingIsOwnersAlone,
    #[error("the owner always holds every permission")]
    OwnerPermissionsFixed,
    #[error("branch {0} does not exist")]
    BranchNotFound(BranchId),
    #[error("a branch with this id or name already exists")]
    BranchAlreadyExists,
    #[error("staff member {0} is not support staff (administrative assistant)")]
    NotSupportStaff(StaffId),
    #[error("staff member {0} is not a manager")]
    NotAManager(StaffId),
    #[error("staff member {0} cannot hold households (support staff)")]
    SupportCannotLead(StaffId),
    #[error("that assignment already exists")]
    AlreadyAssigned,
    #[error("that assignment does not exist")]
    NotAssigned,
    #[error("this staff member already owns the practice")]
    AlreadyOwner,
    #[error("the practice has no active professional to become primary; invite or activate an adviser first")]
    NoProfessionalInPractice,
    #[error("the primary professional cannot be removed; assign another primary first")]
    CannotRemovePrimary,
    #[error("staff member {0} has no access to this household")]
    NoAccessToRemove(StaffId),
    #[error("staff member {0} already has access to this household; change their role instead")]
    AlreadyHasAccess(StaffId),
    #[error("staff member {0} already has that role")]
    RoleUnchanged(StaffId),
    #[error("staff member {0} is already the primary professional")]
    AlreadyPrimary(StaffId),
    #[error("staff member {0} is already the secondary professional")]
    AlreadySecondary(StaffId),
    #[error("the primary professional cannot also be the secondary")]
    PrimaryCannotBeSecondary,
    #[error("this household has no secondary professional")]
    NoSecondary,
    #[error("this household is archived; restore it first")]
    HouseholdArchived,
    #[error("this household is not archived")]
    HouseholdNotArchived,
    #[error("the household already has that status")]
    StatusUnchanged,
    #[error("the household is already assigned to that branch")]
    BranchUnchanged,
    #[error("household member {0} does not exist")]
    MemberNotFound(MemberId),
    #[error("this client is already linked to XPLAN id {existing}; it cannot also be {requested}")]
    ConflictingXplanId { existing: String, requested: String },
    #[error("this household is not linked to XPLAN")]
    NotLinkedToXplan,
    #[error("this integration does not exist")]
    IntegrationNotFound,
    #[error("an integration with this id already exists")]
    IntegrationAlreadyExists,
    #[error("confirm that existing clients' XPLAN IDs are loaded (or that there are none) before enabling the integration; otherwise the first sync would duplicate households")]
    XplanIdsNotConfirmed,
    #[error("the XPLAN authorisation is unknown, expired or was started by someone else; start the connection again")]
    OAuthStateInvalid,
    #[error("the integration is not connected to XPLAN; a practice manager must authorise it")]
    XplanNotConnected,
    #[error("the integration is disabled")]
    IntegrationDisabled,
    #[error("only Hearth's own workers record this")]
    SystemOnly,
    #[error("staff member {0} is already in that branch")]
    StaffAlreadyInBranch(StaffId),
    #[error("the access of staff member {0} has no expiry that has passed")]
    GrantNotExpired(StaffId),
    #[error("this webhook endpoint does not exist")]
    WebhookNotFound,
    #[error("a webhook endpoint with this id already exists")]
    WebhookAlreadyExists,
    #[error("webhook URL refused: {0}")]
    WebhookUrlRefused(String),
    #[error("this household's personal data was erased; it can no longer be changed")]
    HouseholdErased,
    #[error("only the XPLAN client of an erased household can be released")]
    ClientNotErased,
    #[error("the practice keeps this household until {}; erasing it earlier needs the \"override retention\" permission", until.map_or("it has been archived for the retention period".to_string(), |t| t.format("%Y-%m-%d").to_string()))]
    RetentionNotPassed {
        until: Option<chrono::DateTime<chrono::Utc>>,
    },
    #[error("say why (a reason is required to {0})")]
    ReasonRequired(&'static str),
    #[error("{0}")]
    InvalidInput(String),
}

impl DomainError {
    pub fn code(&self) -> &'static str {
        use DomainError::*;
        match self {
            PracticeNotFound => "practice_not_found",
            PracticeAlreadyExists => "practice_already_exists",
            HouseholdNotFound => "household_not_found",
            HouseholdAlreadyExists => "household_already_exists",
            StaffNotFound(_) => "staff_not_found",
            StaffAlreadyExists(_) => "staff_already_exists",
            EmailAlreadyInUse(_) => "email_already_in_use",
            NotPermitted(_) => "permission_required",
            ActorNotActive => "not_active_staff",
            OperatorOnly => "operator_only",
            OwnerOnly(_) => "owner_only",
            StaffNotActive(_) => "staff_not_active",
            NotInvited(_) => "not_invited",
            StillLeadsHouseholds { .. } => "still_leads_households",
            OwnerIsFixed => "owner_is_fixed",
            OwnerRoleViaTransferOnly => "owner_role_via_transfer_only",
            LicencesExhausted { .. } => "licences_exhausted",
            InvalidLicenceCount => "invalid_licence_count",
            BillingIsOwnersAlone => "billing_is_owners_alone",
            OwnerPermissionsFixed => "owner_permissions_fixed",
            BranchNotFound(_) => "branch_not_found",
            BranchAlreadyExists => "branch_already_exists",
            NotSupportStaff(_) => "not_support_staff",
            NotAManager(_) => "not_a_manager",
            SupportCannotLead(_) => "support_cannot_lead",
            AlreadyAssigned => "already_assigned",
            NotAssigned => "not_assigned",
            AlreadyOwner => "already_owner",
            NoProfessionalInPractice => "no_professional_in_practice",
            CannotRemovePrimary => "cannot_remove_primary",
            NoAccessToRemove(_) => "no_access_to_remove",
            AlreadyHasAccess(_) => "already_has_access",
            RoleUnchanged(_) => "role_unchanged",
            AlreadyPrimary(_) => "already_primary",
            AlreadySecondary(_) => "already_secondary",
            PrimaryCannotBeSecondary => "primary_cannot_be_secondary",
            NoSecondary => "no_secondary",
            HouseholdArchived => "household_archived",
            HouseholdNotArchived => "household_not_archived",
            StatusUnchanged => "status_unchanged",
            BranchUnchanged => "branch_unchanged",
            MemberNotFound(_) => "member_not_found",
            ConflictingXplanId { .. } => "conflicting_xplan_id",
            NotLinkedToXplan => "not_linked_to_xplan",
            IntegrationNotFound => "integration_not_found",
            IntegrationAlreadyExists => "integration_already_exists",
            XplanIdsNotConfirmed => "xplan_ids_not_confirmed",
            OAuthStateInvalid => "oauth_state_invalid",
            XplanNotConnected => "xplan_not_connected",
            IntegrationDisabled => "integration_disabled",
            SystemOnly => "system_only",
            GrantNotExpired(_) => "grant_not_expired",
            StaffAlreadyInBranch(_) => "staff_already_in_branch",
            WebhookNotFound => "webhook_not_found",
            WebhookAlreadyExists => "webhook_already_exists",
            WebhookUrlRefused(_) => "webhook_url_refused",
            HouseholdErased => "household_erased",
            ClientNotErased => "client_not_erased",
            RetentionNotPassed { .. } => "retention_not_passed",
            ReasonRequired(_) => "reason_required",
            InvalidInput(_) => "invalid_input",
        }
    }

    /// Not found, as opposed to a rule broken: the API answers 404 for these.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            DomainError::PracticeNotFound
                | DomainError::HouseholdNotFound
                | DomainError::StaffNotFound(_)
                | DomainError::BranchNotFound(_)
                | DomainError::MemberNotFound(_)
                | DomainError::IntegrationNotFound
                | DomainError::WebhookNotFound
        )
    }

    /// The actor lacks a right, as opposed to the request breaking a rule: the API answers 403.
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            DomainError::NotPermitted(_)
                | DomainError::ActorNotActive
                | DomainError::OperatorOnly
                | DomainError::OwnerOnly(_)
                | DomainError::SystemOnly
        )
    }
}

fn permission_label(p: Permission) -> &'static str {
    use Permission::*;
    match p {
        ManageHouseholdAccess => "manage household access",
        ManageIntegrations => "manage integrations",
        InviteStaff => "invite staff",
        ManageStaff => "manage staff",
        ManagePermissions => "manage permissions",
        ManageBranches => "manage branches",
        AssignBranches => "assign branches",
        ArchiveHouseholds => "archive households",
        ExportRoster => "export roster",
        AddHouseholds => "add households",
        ViewBilling => "view billing",
        ManageLicences => "manage licences",
        EraseHouseholds => "erase households",
        OverrideRetention => "override retention",
        ManageRetention => "manage retention",
    }
}

/// A stored event that cannot be read back as a domain event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDecodeError {
    #[error("unknown event type {0}")]
    UnknownType(String),
    #[error("{event_type} v{version} is newer than this build understands")]
    UnknownVersion { event_type: String, version: i32 },
    #[error("{event_type}: {reason}")]
    Malformed { event_type: String, reason: String },
}
