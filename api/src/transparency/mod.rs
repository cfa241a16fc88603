//! The service's side of the verifiable log: a task that follows the log into the Merkle tree
//! (off the append path) and signs checkpoints every N events or M seconds, publishing each to
//! an outside witness file when one is configured.
//!
//! Settings (environment, or the HEARTH_CONFIG file):
//! - `HEARTH_CHECKPOINT_EVERY_EVENTS` (default 1000) and `HEARTH_CHECKPOINT_INTERVAL_SECS`
//!   (default 60): whichever comes first, when the tree has grown.
//! - `HEARTH_CHECKPOINT_WITNESS_FILE`: each checkpoint is appended there as one JSON line
//!   (point it at storage the database's administrators cannot write).
//! - `HEARTH_CHECKPOINT_WITNESS_URL` (+ optional `HEARTH_CHECKPOINT_WITNESS_TOKEN`): each
//!   checkpoint is POSTed there as JSON; refused or unreachable ones are sent again, in order.

mod witness;

use std::time::Duration;

use chrono::Utc;
use hearth_eventstore::{EventStore, TreeBuilder};

pub use witness::{parse_url as witness_url, Witness, WitnessSettings};

#[derive(Clone, Debug)]
pub struct CheckpointPolicy {
    pub every_events: u64,
    pub interval: Duration,
    pub witness: WitnessSettings,
    /// How often checkpoints a witness has not accepted are sent again.
    pub witness_retry: Duration,
}

impl CheckpointPolicy {
    pub fn from_env() -> Result<Self, String> {
        let number = |name: &str, default: u64| -> Result<u64, String> {
            match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{name} must be a positive whole number, not {v:?}")),
                _ => Ok(default),
            }
        };
        Ok(CheckpointPolicy {
            every_events: number("HEARTH_CHECKPOINT_EVERY_EVENTS", 1000)?,
            interval: Duration::from_secs(number("HEARTH_CHECKPOINT_INTERVAL_SECS", 60)?),
            witness: WitnessSettings::from_env()?,
            witness_retry: WITNESS_RETRY_EVERY,
        })
    }
}

/// How often the builder looks for new events.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);
const WITNESS_RETRY_EVERY: Duration = Duration::from_secs(5);

/// Runs until aborted. A forged row stops the tree there (it is logged as an error every time
/// the builder meets it) — the log must be investigated, and nothing after it is checkpointed.
pub async fn run(store: EventStore, policy: CheckpointPolicy) {
    let Some(signer) = store.signer().cloned() else {
        tracing::error!("the log has no signing key: no tree, no checkpoints");
        return;
    };
    let mut builder = TreeBuilder::new(store.clone(), signer.public_key().clone());
    let mut last_signed = tokio::time::Instant::now();
    let mut signed_size = match store.checkpoints().await {
        Ok(list) => list.last().map(|c| c.tree_size).unwrap_or(0),
        Err(_) => 0,
    };
    let mut witness = Witness::new(policy.witness.clone());
    let mut witness_tried = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(FOLLOW_EVERY);
    loop {
        tick.tick().await;
        if witness.pending() > 0 && witness_tried.elapsed() >= policy.witness_retry {
            witness_tried = tokio::time::Instant::now();
            witness.flush().await;
        }
        let size = match builder.follow().await {
            Ok(size) => size,
            // Only when the stored leaves are the ones this builder was writing (TreeBuilder
            // checks); the next step follows on from them.
            Err(e) if e.is_lost_race() => {
                tracing::debug!(
                    "another builder stored these leaves first; following on from them"
                );
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "the Merkle tree cannot take the next event");
                match store.tree_size().await {
                    Ok(size) => size,
                    Err(_) => continue,
                }
            }
        };
        let due = size >= signed_size + policy.every_events
            || (size > signed_size && last_signed.elapsed() >= policy.interval);
        if !due {
            continue;
        }
        match builder.sign_or_take_checkpoint(&signer, Utc::now()).await {
            Ok((checkpoint, signed_here)) => {
                signed_size = checkpoint.tree_size;
                last_signed = tokio::time::Instant::now();
                // One signed by another instance is that instance's to publish.
                if signed_here {
                    witness_tried = last_signed;
                    witness.publish(&checkpoint).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "signing a checkpoint failed; will retry"),
        }
    }
}
