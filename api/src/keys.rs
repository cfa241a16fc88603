//! The signing secret: from configuration, or (development only) generated once into the data
//! directory so `cargo run` and `hearth token` agree without any set-up.

use std::{fs, io::Write, path::Path};

use base64::Engine;
use hearth_eventstore::personal::{MasterKey, MasterKeys};

use crate::{
    auth::JwtKeys,
    config::{AuthSettings, StoreSettings, XplanSettings},
};

pub fn jwt_keys(auth: &AuthSettings, data_dir: &Path) -> Result<JwtKeys, String> {
    let secret = match &auth.jwt_secret {
        Some(s) => s.clone().into_bytes(),
        None => dev_secret(data_dir, "jwt-secret")?,
    };
    Ok(JwtKeys::from_secret(&auth.jwt_algorithm, &secret)?.with_leeway(auth.jwt_leeway_secs))
}

/// The key that encrypts OAuth tokens at rest: configured, or generated for development.
pub fn token_cipher(
    xplan: &XplanSettings,
    data_dir: &Path,
) -> Result<hearth_integrations::crypto::Cipher, String> {
    let key = match &xplan.encryption_key {
        Some(k) => k.clone(),
        None => {
            String::from_utf8(dev_secret(data_dir, "encryption-key")?).map_err(|e| e.to_string())?
        }
    };
    hearth_integrations::crypto::Cipher::from_base64(&key)
        .map_err(|e| format!("HEARTH_ENCRYPTION_KEY: {e}"))
}

/// The log's Ed25519 signing key: `HEARTH_SIGNING_KEY` (base64 of 32 bytes), or for development
/// a key generated once into the data directory. Never stored in the database.
pub fn log_signer(data_dir: &Path) -> Result<hearth_eventstore::LogSigner, String> {
    let text = match std::env::var("HEARTH_SIGNING_KEY") {
        Ok(k) if !k.trim().is_empty() => k,
        _ => String::from_utf8(dev_secret(data_dir, "signing-key")?).map_err(|e| e.to_string())?,
    };
    hearth_eventstore::LogSigner::from_base64(&text).map_err(|e| format!("HEARTH_SIGNING_KEY: {e}"))
}

/// The master key that wraps each household's personal-data key (configured, or for
/// development generated once into the data directory), and earlier ones still accepted while a
/// rotation is under way. Never stored in the database (docs/ARCHITECTURE.md).
pub fn master_keys(store: &StoreSettings) -> Result<MasterKeys, String> {
    let current = match &store.master_key {
        Some(k) if !k.trim().is_empty() => k.clone(),
        _ => String::from_utf8(dev_secret(store.data_dir(), "master-key")?)
            .map_err(|e| e.to_string())?,
    };
    with_previous(store, &current)
}

/// As [`master_keys`], but never generating one: for the read-only verbs, which must not leave
/// a new key beside a log they only read. `None` when there is none.
pub fn existing_master_keys(store: &StoreSettings) -> Result<Option<MasterKeys>, String> {
    let current = match &store.master_key {
        Some(k) if !k.trim().is_empty() => k.clone(),
        _ => match fs::read_to_string(store.data_dir().join("master-key")) {
            Ok(k) => k,
            Err(_) => return Ok(None),
        },
    };
    with_previous(store, &current).map(Some)
}

fn with_previous(store: &StoreSettings, current: &str) -> Result<MasterKeys, String> {
    let current = MasterKey::from_base64(current).map_err(|e| format!("HEARTH_MASTER_KEY: {e}"))?;
    let previous = store
        .master_key_previous
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|k| !k.trim().is_empty())
        .map(|k| MasterKey::from_base64(k).map_err(|e| format!("HEARTH_MASTER_KEY_PREVIOUS: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MasterKeys::new(current, previous))
}

/// The log with personal values sealed under household keys, as every process opens it.
pub fn with_personal_data(
    store: hearth_eventstore::EventStore,
    settings: &StoreSettings,
) -> Result<hearth_eventstore::EventStore, String> {
    Ok(store.with_personal_data(
        hearth_application::personal_data_policy(),
        master_keys(settings)?,
    ))
}

fn dev_secret(dir: &Path, name: &str) -> Result<Vec<u8>, String> {
    let path = dir.join(name);
    if let Ok(existing) = fs::read_to_string(&path) {
        return Ok(existing.trim().as_bytes().to_vec());
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut bytes = [0u8; 32];
    rand::Rng::fill(&mut rand::thread_rng(), &mut bytes);
    let secret = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.write_all(secret.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing::warn!(path = %path.display(), "no secret configured: generated a development one (set HEARTH_JWT_SECRET / HEARTH_ENCRYPTION_KEY / HEARTH_SIGNING_KEY / HEARTH_MASTER_KEY in production)");
    Ok(secret.into_bytes())
}

/// Creates the directory of a `sqlite://dir/file.db` URL, so the embedded default just works.
pub fn ensure_sqlite_dir(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("sqlite://") else {
        return Ok(());
    };
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path.contains(":memory:") {
        return Ok(());
    }
    match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
        }
        _ => Ok(()),
    }
}
