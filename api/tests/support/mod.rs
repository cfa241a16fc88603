//! Shared by the tests of the `hearth` binary: running it, and a log with a practice and its
//! households written through the command executor.
#![allow(dead_code)]

use std::{path::Path, process::Command};

use chrono::Utc;
use hearth_application::CommandExecutor;
use hearth_domain::{
    household::{HouseholdCommand, NewMember},
    practice::{NewStaff, PracticeCommand},
    Actor, CommandContext, HouseholdId, MemberId, PracticeId, StaffId,
};
use hearth_eventstore::EventStore;

pub const SECRET: &str = "a-cli-test-secret-that-is-long-enough-for-hs256";

/// Runs `hearth` on this log and data directory: (succeeded, stdout, stderr).
pub fn hearth(args: &[&str], database_url: &str, data_dir: &Path) -> (bool, String, String) {
    hearth_with(args, database_url, data_dir, &[])
}

/// As [`hearth`], with more environment variables.
pub fn hearth_with(
    args: &[&str],
    database_url: &str,
    data_dir: &Path,
    env: &[(&str, String)],
) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(args)
        .env("HEARTH_DATABASE_URL", database_url)
        .env("HEARTH_JWT_SECRET", SECRET)
        .env("HEARTH_DATA_DIR", data_dir)
        .env("HEARTH_LOG", "error")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Given: a practice with one household (its client Jane Citizen) in `store`'s log.
pub async fn practice_with_household(store: EventStore) -> (PracticeId, StaffId, HouseholdId) {
    let exec = CommandExecutor::new(store);
    let (p, owner) = (PracticeId::new(), StaffId::new());
    let create = PracticeCommand::CreatePractice {
        practice_id: p,
        name: "CLI Practice".into(),
        owner: NewStaff {
            staff_id: owner,
            name: "Olive".into(),
            email: "olive@example.com".into(),
        },
        licences: 2,
    };
    exec.practice(p, create, &CommandContext::new(Actor::Operator, Utc::now()))
        .await
        .unwrap();
    let h = add_household(&exec, p, owner, "Jane").await;
    (p, owner, h)
}

/// Given: one more household, created by the owner, its client `first_name` Citizen.
pub async fn add_household(
    exec: &CommandExecutor,
    p: PracticeId,
    owner: StaffId,
    first_name: &str,
) -> HouseholdId {
    let h = HouseholdId::new();
    let client = NewMember {
        member_id: MemberId::new(),
        first_name: first_name.into(),
        last_name: "Citizen".into(),
        email: None,
        title: None,
    };
    exec.household(
        p,
        h,
        HouseholdCommand::CreateHousehold {
            client,
            partner: None,
            branch: None,
            status: None,
        },
        &CommandContext::new(Actor::Staff(owner), Utc::now()),
    )
    .await
    .unwrap();
    h
}
