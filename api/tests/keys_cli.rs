//! `hearth keys`: a backup holds every household key wrapped (never in clear), and a rewrap
//! moves them to a new master key so that key alone reads every household again.

mod support;

use base64::Engine;
use hearth_eventstore::{
    personal::{MasterKey, MasterKeys, WrappedKey},
    testing::TestSqlite,
    EventStore,
};
use support::{hearth_with, practice_with_household};

fn key(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

#[tokio::test]
async fn a_backup_holds_wrapped_keys_and_a_rewrap_moves_them_to_the_new_master_key() {
    let file = TestSqlite::new();
    let dir = std::env::temp_dir().join(format!("hearth-keys-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (old, new) = (key(1), key(2));
    let store = EventStore::connect(&file.url)
        .await
        .unwrap()
        .with_personal_data(
            hearth_application::personal_data_policy(),
            MasterKeys::new(MasterKey::from_base64(&old).unwrap(), vec![]),
        );
    let (_, _, h) = practice_with_household(store).await;
    let with = |k: &str| vec![("HEARTH_MASTER_KEY", k.to_string())];

    let out = dir.join("keys.jsonl");
    let out_arg = out.to_str().unwrap();
    let (ok, _, err) = hearth_with(
        &["keys", "backup", "--out", out_arg],
        &file.url,
        &dir,
        &with(&old),
    );
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<WrappedKey> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{text}");
    assert_eq!(rows[0].subject, h.0);
    assert!(
        rows[0].wrapped.is_some() && !text.contains("Citizen"),
        "{text}"
    );
    let (again, _, err) = hearth_with(
        &["keys", "backup", "--out", out_arg],
        &file.url,
        &dir,
        &with(&old),
    );
    assert!(
        !again && err.contains("cannot create"),
        "a backup never overwrites: {err}"
    );

    // With only the new key the household cannot be read yet: refused, naming the old key's id.
    let old_id = MasterKey::from_base64(&old).unwrap().id().to_string();
    let (ok, _, err) = hearth_with(&["keys", "rewrap"], &file.url, &dir, &with(&new));
    assert!(!ok && err.contains(&old_id), "{err}");
    let mut rotating = with(&new);
    rotating.push(("HEARTH_MASTER_KEY_PREVIOUS", old.clone()));
    let (ok, _, err) = hearth_with(&["keys", "rewrap"], &file.url, &dir, &rotating);
    assert!(ok && err.contains("re-wrapped 1"), "{err}");
    let until = chrono::Utc::now().to_rfc3339();
    let (ok, out, err) = hearth_with(&["replay", "--until", &until], &file.url, &dir, &with(&new));
    assert!(ok, "{err}");
    assert!(
        out.contains("Jane Citizen"),
        "the new key alone reads it: {out}"
    );
}
