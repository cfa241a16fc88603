//! How the console says things: roles, holdings, deciding paths, times and refusals in words a
//! practice manager reads, not codes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use hearth_domain::{
    access::AccessPath,
    roles::{Holding, HouseholdRole, PracticeRole},
    StaffId,
};

use crate::problem::Problem;

pub const HOUSEHOLD_ROLES: [(HouseholdRole, &str); 4] = [
    (HouseholdRole::Professional, "Professional"),
    (HouseholdRole::Paraplanner, "Paraplanner"),
    (HouseholdRole::Support, "Support"),
    (HouseholdRole::ReadOnly, "Read only"),
];

pub fn household_role(r: HouseholdRole) -> &'static str {
    HOUSEHOLD_ROLES
        .iter()
        .find(|(x, _)| *x == r)
        .map(|(_, n)| *n)
        .unwrap_or("Role")
}

pub fn role_value(r: HouseholdRole) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

pub fn parse_role(s: &str) -> Option<HouseholdRole> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

/// What someone may do, in words: "view, edit, export, manage access".
pub fn actions(list: &[hearth_domain::roles::Action]) -> String {
    use hearth_domain::roles::Action;
    list.iter()
        .map(|a| match a {
            Action::View => "view",
            Action::Edit => "edit",
            Action::Export => "export",
            Action::ManageAccess => "manage access",
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn practice_role(r: PracticeRole) -> &'static str {
    match r {
        PracticeRole::Owner => "Owner",
        PracticeRole::SuperAdmin => "Super admin",
        PracticeRole::PracticeManager => "Practice manager",
        PracticeRole::Manager => "Manager",
        PracticeRole::Professional => "Professional",
        PracticeRole::Support => "Support",
    }
}

pub fn holding(h: Holding) -> &'static str {
    match h {
        Holding::Primary => "Primary professional",
        Holding::Secondary => "Secondary professional",
        Holding::Role(r) => household_role(r),
    }
}

pub fn holding_class(h: Holding) -> &'static str {
    match h {
        Holding::Primary => "h-primary",
        Holding::Secondary => "h-secondary",
        Holding::Role(_) => "h-role",
    }
}

/// Names of staff by id, for actors and paths.
pub type Names = HashMap<StaffId, String>;

pub fn name(names: &Names, id: StaffId) -> String {
    names
        .get(&id)
        .cloned()
        .unwrap_or_else(|| "a former staff member".into())
}

/// An event's actor as recorded ("<staff id>", "operator", "system:<name>") in words.
pub fn actor(names: &Names, raw: &str) -> String {
    if let Ok(id) = uuid::Uuid::parse_str(raw) {
        return name(names, StaffId(id));
    }
    match raw.strip_prefix("system:") {
        Some(what) => format!("Hearth ({what})"),
        None if raw == "operator" => "Platform operator".into(),
        None => raw.to_string(),
    }
}

pub fn path(names: &Names, p: &AccessPath) -> String {
    match p {
        AccessPath::Direct { holding: h } => format!("holds it directly as {}", holding(*h)),
        AccessPath::PracticeWide { role } => {
            format!("sees every household as {}", practice_role(*role))
        }
        AccessPath::ManagerOf {
            professional,
            capped_by,
        } => format!(
            "manages {}, who holds it as {} (no more than that flows through them)",
            name(names, *professional),
            holding(*capped_by)
        ),
        AccessPath::AssistantOf {
            professional,
            capped_by,
        } => format!(
            "assists {}, who holds it as {} (no more than that flows through them)",
            name(names, *professional),
            holding(*capped_by)
        ),
        AccessPath::Permission { permission } => format!("holds the {permission:?} permission"),
    }
}

pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The value for a `datetime-local` input (read and written as UTC).
pub fn input_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// A time from a form: a `datetime-local` value (taken as UTC) or RFC 3339.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, Problem> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc()))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").map(|t| t.and_utc()))
        .map_err(|_| {
            Problem::bad_request(
                "invalid_time",
                format!("{s:?} is not a date and time (use YYYY-MM-DDTHH:MM, in UTC)"),
            )
        })
}

pub fn refusal_title(p: &Problem) -> String {
    match p.status.as_u16() {
        401 => "Please sign in".into(),
        403 => "Not permitted".into(),
        404 => "Not found".into(),
        409 | 422 => "That change was refused".into(),
        503 => "Temporarily unavailable".into(),
        400 => "Please check what you entered".into(),
        _ => "Something went wrong".into(),
    }
}

/// The refusal in words; the domain's own messages are already written for people.
pub fn refusal_text(p: &Problem) -> String {
    let detail = p.detail.clone().unwrap_or_default();
    match p.code.as_str() {
        "cannot_remove_primary" => "A household always needs a primary professional: assign another primary professional first, then remove this one.".into(),
        "licences_exhausted" => format!("All of the practice's licences are in use. {detail}"),
        "access_denied" | "permission_required" => {
            format!("You do not have permission to do this. {detail}")
        }
        "not_found" => format!("This page does not exist or you may not see it ({detail})."),
        _ => {
            let mut d = detail;
            if let Some(first) = d.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            d
        }
    }
}
