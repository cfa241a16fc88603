//! `hearth keys`: the household keys that make erasure possible. A backup holds them wrapped
//! (useless without the master key); a rewrap moves them to a new master key after a rotation.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::{commands::CliResult, config::StoreSettings};

#[derive(Args, Debug)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub action: KeysAction,
}

#[derive(Subcommand, Debug)]
pub enum KeysAction {
    /// Write every household key, wrapped by the master key, as JSON lines (erased ones as
    /// erased): with the master key it restores a lost key table; without it, it opens nothing.
    Backup(BackupArgs),
    /// Re-wrap every household key under the current master key (`HEARTH_MASTER_KEY`), reading
    /// old ones with `HEARTH_MASTER_KEY_PREVIOUS`. The log is not rewritten.
    Rewrap(RewrapArgs),
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    #[command(flatten)]
    pub store: StoreSettings,
    /// File to write (created; an existing file is refused).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct RewrapArgs {
    #[command(flatten)]
    pub store: StoreSettings,
}

pub async fn run(args: KeysArgs) -> CliResult {
    match args.action {
        KeysAction::Backup(a) => backup(a).await,
        KeysAction::Rewrap(a) => rewrap(a).await,
    }
}

async fn backup(args: BackupArgs) -> CliResult {
    let store = crate::commands::open_existing(&args.store).await?;
    let keys = store
        .wrapped_subject_keys()
        .await
        .map_err(|e| format!("cannot read the household keys: {e}"))?;
    let mut text = String::new();
    for k in &keys {
        text.push_str(&serde_json::to_string(k).map_err(|e| e.to_string())?);
        text.push('\n');
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    let erased = keys.iter().filter(|k| k.wrapped.is_none()).count();
    eprintln!(
        "hearth: wrote {} household keys ({erased} erased) to {}",
        keys.len(),
        args.out.display()
    );
    Ok(())
}

async fn rewrap(args: RewrapArgs) -> CliResult {
    let store = crate::commands::open_existing(&args.store).await?;
    store.check_master_keys().await.map_err(|e| e.to_string())?;
    let moved = store
        .rewrap_subject_keys()
        .await
        .map_err(|e| format!("cannot re-wrap the household keys: {e}"))?;
    eprintln!("hearth: re-wrapped {moved} household keys under the current master key");
    Ok(())
}
