//! The auditor's walk-through with the real binary: save a checkpoint, let the log grow, export
//! a bundle and audit it offline; an edited bundle fails. And the read-only verbs never create
//! or migrate a database.

use std::{path::Path, sync::Arc};

use hearth_application::CommandExecutor;
use hearth_eventstore::{
    testing::{with_database, TestSqlite, PG_VAR},
    LogSigner,
};
use uuid::Uuid;

mod support;

use support::{add_household, hearth, practice_with_household};

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hearth-audit-cli-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
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
    let (p, owner, _) = practice_with_household(store.clone()).await;
    let exec = CommandExecutor::new(store);

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
