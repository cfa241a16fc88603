//! The verifiable-audit verbs: `public-key`, `checkpoint`, `prove`, `export` (where the signing
//! key is) and `audit` (anywhere: no database, no network). None of them creates or migrates a
//! database.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use hearth_eventstore::{
    audit::audit_bundle, Bundle, Checkpoint, EventStore, ExportRequest, LogPublicKey, LogSigner,
    TreeBuilder,
};
use uuid::Uuid;

use crate::{commands::CliResult, config::StoreSettings, keys};

#[derive(clap::Args, Debug)]
pub struct PublicKeyArgs {
    #[command(flatten)]
    pub store: StoreSettings,
}

#[derive(clap::Args, Debug)]
pub struct CheckpointArgs {
    #[command(flatten)]
    pub store: StoreSettings,
    /// Also commit to this practice's own history (what a practice's auditor saves).
    #[arg(long)]
    pub practice: Option<Uuid>,
    /// Write the signed checkpoint here (JSON) instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ProveArgs {
    #[command(flatten)]
    pub store: StoreSettings,
    /// Inclusion proof for this event.
    #[arg(long, conflicts_with_all = ["from"])]
    pub event: Option<Uuid>,
    /// Consistency proof from this tree size…
    #[arg(long, requires = "to")]
    pub from: Option<u64>,
    /// …to this one; for `--event`, the tree size to prove against (default: the newest checkpoint).
    #[arg(long)]
    pub to: Option<u64>,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub store: StoreSettings,
    #[arg(long)]
    pub practice: Uuid,
    /// Events recorded at or after this instant (RFC 3339) carry their content and proofs.
    #[arg(long)]
    pub from: Option<DateTime<Utc>>,
    /// …and before this one.
    #[arg(long)]
    pub to: Option<DateTime<Utc>>,
    #[arg(long)]
    pub out: PathBuf,
    /// A checkpoint the auditor saved: the bundle proves the log extends it.
    #[arg(long)]
    pub trusted_checkpoint: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// The bundle written by `hearth export`.
    pub bundle: PathBuf,
    /// The log's public key (base64, as `hearth public-key` prints it) or a file holding it.
    #[arg(long)]
    pub public_key: String,
    /// A checkpoint saved earlier (`hearth checkpoint --out`): the log must extend it.
    #[arg(long)]
    pub trusted_checkpoint: Option<PathBuf>,
}

async fn open(settings: &StoreSettings) -> Result<EventStore, String> {
    crate::commands::open_existing(settings).await
}

fn signer(settings: &StoreSettings) -> Result<LogSigner, String> {
    keys::log_signer(settings.data_dir())
}

async fn catch_up(store: &EventStore, signer: &LogSigner) {
    if let Err(e) = TreeBuilder::new(store.clone(), signer.public_key().clone())
        .catch_up()
        .await
    {
        eprintln!("hearth: warning: {e}");
    }
}

fn write_json(value: &impl serde::Serialize, out: Option<&Path>) -> CliResult {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    match out {
        Some(path) => std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the {what} {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("the {what} {} is not valid: {e}", path.display()))
}

pub fn public_key(args: PublicKeyArgs) -> CliResult {
    let signer = signer(&args.store)?;
    println!("{}", signer.public_key().to_base64());
    eprintln!("key id {}", signer.key_id());
    Ok(())
}

pub async fn checkpoint(args: CheckpointArgs) -> CliResult {
    let store = open(&args.store).await?;
    let signer = signer(&args.store)?;
    catch_up(&store, &signer).await;
    let now = Utc::now();
    let checkpoint = match args.practice {
        Some(p) => store.sign_practice_checkpoint(&signer, p, now).await,
        None => store.sign_checkpoint(&signer, now).await,
    }
    .map_err(|e| format!("cannot sign a checkpoint: {e}"))?;
    write_json(&checkpoint, args.out.as_deref())
}

pub async fn prove(args: ProveArgs) -> CliResult {
    let store = open(&args.store).await?;
    let size = match args.to {
        Some(size) => size,
        None => store
            .checkpoints()
            .await
            .map_err(|e| e.to_string())?
            .last()
            .map(|c| c.tree_size)
            .ok_or("no checkpoint yet: run `hearth checkpoint` or give --to")?,
    };
    match (args.event, args.from) {
        (Some(event), _) => {
            let proof = store
                .inclusion_proof(event, size)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("event {event} is not in the tree of {size} events"))?;
            write_json(&proof, None)
        }
        (None, Some(from)) => {
            let path = store
                .consistency_proof(from, size)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| {
                    format!("no consistency proof from {from} to {size}: the tree is smaller")
                })?;
            write_json(
                &hearth_eventstore::ConsistencyProof {
                    from_size: from,
                    to_size: size,
                    path,
                },
                None,
            )
        }
        (None, None) => Err("give --event ID, or --from SIZE --to SIZE".into()),
    }
}

pub async fn export(args: ExportArgs) -> CliResult {
    let store = open(&args.store).await?;
    let signer = signer(&args.store)?;
    let mut consistent_with: Vec<u64> = store
        .checkpoints()
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|c| c.tree_size)
        .collect();
    if let Some(path) = &args.trusted_checkpoint {
        consistent_with.push(read_json::<Checkpoint>(path, "checkpoint")?.tree_size);
    }
    let request = ExportRequest {
        practice: args.practice,
        from: args.from,
        to: args.to,
        consistent_with,
    };
    let bundle = store
        .export_practice(&signer, &request, Utc::now())
        .await
        .map_err(|e| format!("cannot export: {e}"))?;
    write_json(&bundle, Some(&args.out))?;
    eprintln!(
        "wrote {} events of practice {} ({} not yet in a checkpoint) to {}",
        bundle.leaves.iter().filter(|l| l.event.is_some()).count() + bundle.pending.len(),
        args.practice,
        bundle.pending.len(),
        args.out.display()
    );
    Ok(())
}

/// Offline: reads files only. Exit 0 only when every check passes.
/// A `--public-key` argument: the base64 key itself, or a file holding it.
pub(crate) fn read_public_key(arg: &str) -> Result<LogPublicKey, String> {
    let key_text = match Path::new(arg) {
        p if p.is_file() => std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read the public key {}: {e}", p.display()))?,
        _ => arg.to_string(),
    };
    LogPublicKey::from_base64(key_text.trim()).map_err(|e| format!("--public-key: {e}"))
}

/// The key `verify` checks signatures with: the one given, else the service's own (configured
/// or in the data dir) when it exists. Never generates one: a new key would prove nothing.
pub(crate) fn verifying_key(
    arg: Option<&str>,
    settings: &StoreSettings,
) -> Result<Option<LogPublicKey>, String> {
    if let Some(arg) = arg {
        return read_public_key(arg).map(Some);
    }
    let configured = std::env::var("HEARTH_SIGNING_KEY").is_ok_and(|k| !k.trim().is_empty());
    if configured || settings.data_dir().join("signing-key").is_file() {
        return Ok(Some(signer(settings)?.public_key().clone()));
    }
    Ok(None)
}

pub fn audit(args: AuditArgs) -> CliResult {
    let key = read_public_key(&args.public_key)?;
    let bundle: Bundle = read_json(&args.bundle, "bundle")?;
    let trusted: Option<Checkpoint> = match &args.trusted_checkpoint {
        Some(path) => Some(read_json(path, "checkpoint")?),
        None => None,
    };
    let report = audit_bundle(&bundle, &key, trusted.as_ref())
        .map_err(|problem| format!("AUDIT FAILED: {problem}"))?;
    println!(
        "audit passed: {} events of practice {} checked; the practice has {} events in a log of {} signed at {} by key {}",
        report.events_checked,
        bundle.practice_id,
        report.practice_events,
        report.tree_size,
        bundle.checkpoint.signed_at.to_rfc3339(),
        bundle.checkpoint.key_id
    );
    if report.pending_events > 0 {
        println!(
            "{} of them are signed but newer than the checkpoint",
            report.pending_events
        );
    }
    match report.trusted_size {
        Some(size) => {
            println!("the log is an append-only extension of the trusted checkpoint (size {size})")
        }
        None => {
            println!("no trusted checkpoint given: history before this bundle was not compared")
        }
    }
    Ok(())
}
