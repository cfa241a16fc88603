//! The `hearth` binary as an operator or auditor uses it.

use std::process::Command;

use chrono::Utc;
use hearth_application::CommandExecutor;
use hearth_domain::{HouseholdId, PracticeId, StaffId};
use hearth_eventstore::testing::TestSqlite;

mod support;

use support::{practice_with_household as household_in, SECRET};

fn hearth(args: &[&str], database_url: &str) -> (bool, String, String) {
    support::hearth(
        args,
        database_url,
        &std::env::temp_dir().join("hearth-cli-test"),
    )
}

async fn log_with_one_household(file: &TestSqlite) -> (PracticeId, StaffId, HouseholdId) {
    household_in(file.store().await.unwrap()).await
}

#[test]
fn token_mints_a_verifiable_token_and_refuses_incomplete_requests() {
    let (ok, out, _) = hearth(&["token", "--operator"], "sqlite::memory:");
    assert!(ok);
    let keys = hearth_api::auth::JwtKeys::from_secret("HS256", SECRET.as_bytes()).unwrap();
    assert_eq!(
        keys.verify(out.trim()).unwrap(),
        hearth_api::auth::Caller::Operator
    );
    let (ok, _, err) = hearth(
        &["token", "--practice", &uuid::Uuid::new_v4().to_string()],
        "sqlite::memory:",
    );
    assert!(!ok);
    assert!(err.contains("--staff"), "{err}");
}

/// Runs the binary with nothing but the given environment (no test secret, default logging).
fn bare(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hearth"));
    cmd.args(args);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("HEARTH_")) {
        cmd.env_remove(k);
    }
    let out = cmd
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn token_prints_only_the_token_on_stdout_even_when_it_generates_a_key() {
    let dir = std::env::temp_dir().join(format!("hearth-cli-{}", uuid::Uuid::new_v4()));
    let (ok, out, err) = bare(
        &["token", "--operator", "--data-dir", dir.to_str().unwrap()],
        &[],
    );
    assert!(ok, "{err}");
    assert_eq!(
        out.lines().count(),
        1,
        "stdout must be the token alone: {out}"
    );
    assert!(
        err.contains("generated a development one"),
        "the warning belongs on stderr: {err}"
    );
    let secret = std::fs::read_to_string(dir.join("jwt-secret")).unwrap();
    let keys = hearth_api::auth::JwtKeys::from_secret("HS256", secret.trim().as_bytes()).unwrap();
    assert_eq!(
        keys.verify(out.trim()).unwrap(),
        hearth_api::auth::Caller::Operator
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn each_subcommand_lists_only_its_own_options() {
    let help = |cmd: &str| bare(&[cmd, "--help"], &[]).1;
    let verify = help("verify");
    assert!(
        verify.contains("--database-url") && verify.contains("--data-dir"),
        "{verify}"
    );
    for other in [
        "--bind",
        "--jwt-secret",
        "--amqp-url",
        "--xplan-app-id",
        "--body-limit",
    ] {
        assert!(
            !verify.contains(other),
            "verify --help lists {other}: {verify}"
        );
    }
    let token = help("token");
    assert!(
        token.contains("--jwt-secret") && token.contains("--data-dir"),
        "{token}"
    );
    for other in ["--bind", "--database-url", "--amqp-url", "--xplan-app-id"] {
        assert!(
            !token.contains(other),
            "token --help lists {other}: {token}"
        );
    }
    let sync = help("sync-xplan");
    assert!(
        sync.contains("--xplan-app-id") && sync.contains("--database-url"),
        "{sync}"
    );
    for other in ["--bind", "--jwt-secret", "--amqp-url"] {
        assert!(
            !sync.contains(other),
            "sync-xplan --help lists {other}: {sync}"
        );
    }
    let serve = help("serve");
    for all in [
        "--bind",
        "--jwt-secret",
        "--amqp-url",
        "--database-url",
        "--xplan-app-id",
    ] {
        assert!(serve.contains(all), "serve --help lacks {all}: {serve}");
    }
}

#[tokio::test]
async fn the_data_dir_holds_the_log_and_every_command_names_the_log_it_opened() {
    let dir = std::env::temp_dir().join(format!("hearth-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("hearth.db");
    let store =
        hearth_eventstore::EventStore::connect(&format!("sqlite://{}?mode=rwc", log.display()))
            .await
            .unwrap();
    let (_, _, h) = household_in(store).await;
    let until = (Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let (ok, out, err) = bare(
        &[
            "replay",
            "--until",
            &until,
            "--data-dir",
            dir.to_str().unwrap(),
        ],
        &[("HEARTH_LOG", "error")],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains(&h.to_string()),
        "replay read another log: {out}"
    );
    assert!(
        err.contains(&format!("log sqlite://{}", log.display())),
        "replay must say which log it opened: {err}"
    );
    let (_, _, err) = bare(
        &["verify", "--data-dir", dir.to_str().unwrap()],
        &[("HEARTH_LOG", "error")],
    );
    assert!(err.contains(&log.display().to_string()), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn verify_passes_an_intact_log_and_names_tampering() {
    let file = TestSqlite::new();
    let signer = hearth_eventstore::LogSigner::generate();
    let key = signer.public_key().to_base64();
    household_in(
        file.store()
            .await
            .unwrap()
            .with_signer(std::sync::Arc::new(signer)),
    )
    .await;
    let (ok, out, err) = hearth(&["verify", "--public-key", &key], &file.url);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("the log is intact: every event is signed"),
        "{out}"
    );
    // Signatures by another key are what a forger's would be.
    let other = hearth_eventstore::LogSigner::generate()
        .public_key()
        .to_base64();
    let (ok, _, err) = hearth(&["verify", "--public-key", &other], &file.url);
    assert!(!ok, "another key's log must fail verification");
    assert!(err.contains("no valid append signature"), "{err}");

    let store = file.store().await.unwrap();
    let hearth_eventstore::Backend::Sqlite(pool) = store.backend() else {
        unreachable!()
    };
    sqlx::query("DROP TRIGGER events_no_update")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE events SET data = json_set(data, '$.name', 'Forged') WHERE event_type = 'household.created'").execute(pool).await.unwrap();
    let (ok, _, err) = hearth(&["verify", "--public-key", &key], &file.url);
    assert!(!ok, "a tampered log must fail verification");
    assert!(
        err.contains("TAMPERING DETECTED") && err.contains("altered"),
        "{err}"
    );
}

#[tokio::test]
async fn verify_names_events_written_without_the_key_and_says_when_it_has_no_key() {
    let file = TestSqlite::new();
    // Written around the service: hashes and chains are right, no append is signed.
    log_with_one_household(&file).await;
    let key = hearth_eventstore::LogSigner::generate()
        .public_key()
        .to_base64();
    let (ok, _, err) = hearth(&["verify", "--public-key", &key], &file.url);
    assert!(!ok, "unsigned events must fail verification");
    assert!(
        err.contains("TAMPERING DETECTED") && err.contains("not written by this service"),
        "{err}"
    );
    let empty_dir = std::env::temp_dir().join(format!("hearth-no-key-{}", uuid::Uuid::new_v4()));
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["verify"])
        .env("HEARTH_DATABASE_URL", &file.url)
        .env("HEARTH_DATA_DIR", &empty_dir)
        .env_remove("HEARTH_SIGNING_KEY")
        .env("HEARTH_LOG", "error")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("signatures were NOT checked"), "{stdout}");
    assert!(
        !empty_dir.join("signing-key").exists(),
        "verify must not make a key"
    );
}

#[tokio::test]
async fn replay_prints_who_had_access_at_an_instant_from_the_log_alone() {
    let file = TestSqlite::new();
    let before = Utc::now() - chrono::Duration::hours(1);
    let (p, owner, h) = log_with_one_household(&file).await;
    let now = (Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let (ok, out, err) = hearth(&["replay", "--until", &now], &file.url);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("household {h} (Jane Citizen)")),
        "{out}"
    );
    assert!(out.contains(&format!("{owner} Olive via")), "{out}");
    let (ok, out, _) = hearth(
        &[
            "replay",
            "--until",
            &before.to_rfc3339(),
            "--practice",
            &p.to_string(),
        ],
        &file.url,
    );
    assert!(ok);
    assert!(
        !out.contains("household"),
        "nothing existed an hour ago: {out}"
    );
    let (ok, _, err) = hearth(&["replay", "--until", "yesterday"], &file.url);
    assert!(!ok);
    assert!(err.contains("--until"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_xplan_runs_one_sync_and_prints_its_summary() {
    use clap::Parser;
    use hearth_integrations::fake::{FakeSettings, FakeXplan};

    let file = TestSqlite::new();
    log_with_one_household(&file).await;
    let xplan = FakeXplan::start("127.0.0.1:0".parse().unwrap(), FakeSettings::default())
        .await
        .unwrap();
    xplan.seed(3, 1);
    let key = hearth_integrations::crypto::Cipher::generate_key();
    let data_dir = std::env::temp_dir().join(format!("hearth-cli-{}", uuid::Uuid::new_v4()));
    let args = hearth_api::cli::ServeArgs::parse_from([
        "hearth",
        "--database-url",
        &file.url,
        "--encryption-key",
        &key,
        "--xplan-scheme",
        "http",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ]);
    let settings = args.settings;
    let exec = CommandExecutor::new(file.store().await.unwrap());
    let svc = hearth_api::xplan::service(
        &settings.xplan,
        settings.http.bind,
        exec,
        hearth_api::keys::token_cipher(&settings.xplan, settings.store.data_dir()).unwrap(),
    )
    .unwrap();
    let id = hearth_integrations::testing::connected_practice(&svc, &xplan)
        .await
        .integration;

    let run = |integration: String| {
        let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
            .args(["sync-xplan", "--integration", &integration])
            .env("HEARTH_DATABASE_URL", &file.url)
            .env("HEARTH_ENCRYPTION_KEY", &key)
            .env("HEARTH_XPLAN_SCHEME", "http")
            .env("HEARTH_LOG", "error")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, out, err) = run(id.to_string());
    assert!(ok, "{out}{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            summary["trigger"].as_str(),
            summary["summary"]["created"].as_u64()
        ),
        (Some("cli"), Some(3)),
        "{out}"
    );
    let (ok, _, err) = run(uuid::Uuid::new_v4().to_string());
    assert!(!ok);
    assert!(err.contains("integration does not exist"), "{err}");
}
