//! The auditor's walk-through with the real binary: save a checkpoint, let the log grow, export
//! a bundle and audit it offline; an edited bundle fails. And the read-only verbs never create
//! or migrate a database.

use std::{path::Path, process::Command, sync::Arc};

use chrono::Utc;
use hearth_application::CommandExecutor;
use hearth_domain::{
    household::{HouseholdCommand, NewMember},
    practice::{NewStaff, PracticeCommand},
    Actor, CommandContext, HouseholdId, MemberId, PracticeId, StaffId,
};
use hearth_eventstore::{
    testing::{with_database, TestSqlite, PG_VAR},
    LogSigner,
};
use uuid::Uuid;

fn hearth(args: &[&str], database_url: &str, data_dir: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(args)
        .env("HEARTH_DATABASE_URL", database_url)
        .env(
            "HEARTH_JWT_SECRET",
            "a-cli-test-secret-that-is-long-enough-for-hs256",
        )
        .env("HEARTH_DATA_DIR", data_dir)
        .env_remove("HEARTH_SIGNING_KEY")
        .env("HEARTH_LOG", "error")
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hearth-audit-cli-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn add_household(exec: &CommandExecutor, p: PracticeId, owner: StaffId, name: &str) {
    let client = NewMember {
        member_id: MemberId::new(),
        first_name: name.into(),
        last_name: "Citizen".into(),
        email: None,
        title: None,
    };
    exec.household(
        p,
        HouseholdId::new(),
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_proves_offline_that_the_log_only_grew() {
    let dir = temp_dir();
    let file = TestSqlite::new();
    // The development key is generated into the data directory on first use.
    let (ok, key, err) = hearth(&["public-key"], &file.url, &dir);
    assert!(ok, "{err}");
    let key = key.trim().to_string();
    let secret = std::fs::read_to_string(dir.join("signing-key")).unwrap();
    let signer = LogSigner::from_base64(&secret).unwrap();
    assert_eq!(signer.public_key().to_base64(), key);

    let store = file.store().await.unwrap().with_signer(Arc::new(signer));
    let exec = CommandExecutor::new(store);
    let (p, owner) = (PracticeId::new(), StaffId::new());
    let create = PracticeCommand::CreatePractice {
        practice_id: p,
        name: "Audited Practice".into(),
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
    add_household(&exec, p, owner, "Jane").await;

    let saved = dir.join("checkpoint.json");
    let practice = p.0.to_string();
    let (ok, _, err) = hearth(
        &[
            "checkpoint",
            "--practice",
            &practice,
            "--out",
            saved.to_str().unwrap(),
        ],
        &file.url,
        &dir,
    );
    assert!(ok, "{err}");

    add_household(&exec, p, owner, "John").await;
    let bundle = dir.join("bundle.json");
    let (ok, _, err) = hearth(
        &[
            "export",
            "--practice",
            &practice,
            "--out",
            bundle.to_str().unwrap(),
            "--trusted-checkpoint",
            saved.to_str().unwrap(),
        ],
        &file.url,
        &dir,
    );
    assert!(ok, "{err}");

    // Offline: no database URL that exists, nothing but the files and the key.
    let audit = |bundle: &Path| {
        hearth(
            &[
                "audit",
                bundle.to_str().unwrap(),
                "--public-key",
                &key,
                "--trusted-checkpoint",
                saved.to_str().unwrap(),
            ],
            "postgres://nobody@127.0.0.1:1/none",
            &dir,
        )
    };
    let (ok, out, err) = audit(&bundle);
    assert!(ok, "{out}{err}");
    assert!(out.contains("append-only extension"), "{out}");

    let text = std::fs::read_to_string(&bundle).unwrap();
    let edited = dir.join("edited.json");
    std::fs::write(&edited, text.replacen("\"John\"", "\"Mallory\"", 1)).unwrap();
    let (ok, _, err) = audit(&edited);
    assert!(!ok, "an edited bundle must fail");
    assert!(
        err.contains("AUDIT FAILED") && err.contains("altered"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_verbs_never_create_a_log() {
    let dir = temp_dir();
    let missing = dir.join("nowhere.db");
    let url = format!("sqlite://{}?mode=rwc", missing.display());
    for verb in [
        vec!["verify"],
        vec!["replay", "--until", "2026-03-01T09:00:00Z"],
        vec![
            "export",
            "--practice",
            &Uuid::nil().to_string(),
            "--out",
            "/dev/null",
        ],
        vec!["checkpoint"],
    ] {
        let (ok, _, err) = hearth(&verb, &url, &dir);
        assert!(!ok, "{verb:?} must fail without a log");
        assert!(
            err.contains("no Hearth log at") && err.contains("nowhere.db"),
            "{verb:?}: {err}"
        );
        assert!(!missing.exists(), "{verb:?} created {}", missing.display());
    }

    let admin = std::env::var(PG_VAR).unwrap_or_else(|_| panic!("{PG_VAR} is not set"));
    let pg = with_database(
        &admin,
        &format!("hearth_missing_{}", Uuid::new_v4().simple()),
    );
    let (ok, _, err) = hearth(&["verify"], &pg, &dir);
    assert!(!ok);
    assert!(
        err.contains("no Hearth log at") && err.contains("hearth_missing_"),
        "{err}"
    );

    // A database that is not a Hearth log.
    let foreign = TestSqlite::new();
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&foreign.url).await.unwrap();
        sqlx::query("CREATE TABLE something_else (x INTEGER)")
            .execute(&mut c)
            .await
            .unwrap();
    }
    let (ok, _, err) = hearth(&["verify"], &foreign.url, &dir);
    assert!(!ok);
    assert!(err.contains("no `events` table"), "{err}");

    // An initialised but empty log says so.
    let empty = TestSqlite::new();
    drop(empty.store().await.unwrap());
    let (ok, out, err) = hearth(&["verify"], &empty.url, &dir);
    assert!(ok, "{err}");
    assert!(out.contains("the log is empty"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
