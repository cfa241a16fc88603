//! The `hearth` command line. `serve` is the default so `cargo run` starts the service.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{AuthSettings, DataDir, Settings, StoreSettings, XplanSettings};

#[derive(Parser, Debug)]
#[command(
    name = "hearth",
    version,
    about = "Who may see which client household — decided, recorded, audited."
)]
pub struct Cli {
    /// Optional file of HEARTH_*=value lines; flags and environment variables take precedence.
    #[arg(long, env = "HEARTH_CONFIG", global = true)]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP API, the projections and the workers (the default).
    Serve(Box<ServeArgs>),
    /// Mint a bearer token for local use (signed with the configured secret).
    Token(TokenArgs),
    /// Walk the whole log and report the first altered, missing or reordered event.
    Verify(VerifyArgs),
    /// Print who had access to which household at a past instant, from the log alone.
    Replay(ReplayArgs),
    /// Print the log's public key (base64), which auditors use to check signatures.
    PublicKey(crate::audit_cli::PublicKeyArgs),
    /// Sign a checkpoint of the log now and write it (JSON) for an auditor to keep.
    Checkpoint(crate::audit_cli::CheckpointArgs),
    /// Print an inclusion proof for an event, or a consistency proof between two tree sizes.
    Prove(crate::audit_cli::ProveArgs),
    /// Write an audit bundle of one practice: its events, proofs and a signed checkpoint.
    Export(crate::audit_cli::ExportArgs),
    /// Check an audit bundle offline (no database, no network); non-zero exit names the problem.
    Audit(crate::audit_cli::AuditArgs),
    /// Back up or re-wrap the household keys that personal data is sealed with.
    Keys(crate::keys_cli::KeysArgs),
    /// Run one XPLAN sync of an integration now and print its summary (JSON).
    SyncXplan(SyncArgs),
    /// Serve a fake XPLAN site (test double and demo aid; never a production target).
    #[cfg(feature = "fake-xplan")]
    FakeXplan(FakeXplanArgs),
}

#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    #[command(flatten)]
    pub store: StoreSettings,
    #[command(flatten)]
    pub xplan: XplanSettings,
    /// The integration to sync.
    #[arg(long)]
    pub integration: uuid::Uuid,
}

#[derive(clap::Args, Debug)]
pub struct FakeXplanArgs {
    /// Address to listen on; use it (host:port) as the integration's forward host with
    /// HEARTH_XPLAN_SCHEME=http.
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub bind: std::net::SocketAddr,
    /// Generated clients to serve.
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// Insurance policies per client.
    #[arg(long, default_value_t = 2)]
    pub policies: usize,
}

#[derive(clap::Parser, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(clap::Args, Debug)]
pub struct StoreArgs {
    #[command(flatten)]
    pub store: StoreSettings,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub store: StoreSettings,
    /// The log's public key (base64, as `hearth public-key` prints it) or a file holding it.
    /// Default: the service's own key, when this data dir or HEARTH_SIGNING_KEY has it.
    #[arg(long)]
    pub public_key: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub store: StoreSettings,
    /// The instant to answer for, RFC 3339 (e.g. 2026-03-01T09:00:00Z).
    #[arg(long)]
    pub until: chrono::DateTime<chrono::Utc>,
    /// Only this practice.
    #[arg(long)]
    pub practice: Option<uuid::Uuid>,
}

#[derive(clap::Args, Debug)]
pub struct TokenArgs {
    #[command(flatten)]
    pub dir: DataDir,
    #[command(flatten)]
    pub auth: AuthSettings,
    /// Mint a platform-operator token (may create practices) instead of a staff token.
    #[arg(long, conflicts_with_all = ["practice", "staff"])]
    pub operator: bool,
    /// The staff member's practice.
    #[arg(long, required_unless_present = "operator")]
    pub practice: Option<uuid::Uuid>,
    /// The staff member the token names.
    #[arg(long, required_unless_present = "operator")]
    pub staff: Option<uuid::Uuid>,
    /// Lifetime in minutes.
    #[arg(long, default_value_t = 60)]
    pub ttl_minutes: i64,
}
