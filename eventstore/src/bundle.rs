//! The audit bundle: everything an auditor needs to check one practice's history offline.
//! Other practices appear only as hashes inside proofs and append signatures.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    checkpoint::{hex_bytes, hex_hash, hex_hashes, Checkpoint},
    merkle::Hash,
    model::{Cursor, Metadata},
};

pub const BUNDLE_FORMAT: &str = "hearth-audit-bundle/1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    pub practice_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// Signed by the service at export; commits to the whole tree and to this practice.
    pub checkpoint: Checkpoint,
    /// From the sizes of earlier checkpoints to this one's.
    pub consistency: Vec<ConsistencyProof>,
    /// Every leaf of the practice in the checkpoint's tree, in leaf order.
    pub leaves: Vec<BundleLeaf>,
    /// The practice's events the tree does not hold yet (newest first-come), in log order.
    pub pending: Vec<BundleEvent>,
    /// The signed appends that wrote the events above.
    pub appends: Vec<BundleAppend>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    pub from_size: u64,
    pub to_size: u64,
    #[serde(with = "hex_hashes")]
    pub path: Vec<Hash>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BundleLeaf {
    pub leaf_index: u64,
    /// The event hash the tree holds for this leaf.
    #[serde(with = "hex_hash")]
    pub event_hash: Hash,
    /// The event as the log holds it now; absent outside the exported time range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<BundleEvent>,
    /// The tree has this leaf but the log no longer has its event.
    #[serde(default)]
    pub missing: bool,
    /// Audit path against the checkpoint (present with `event`).
    #[serde(default, with = "hex_hashes", skip_serializing_if = "Vec::is_empty")]
    pub inclusion: Vec<Hash>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BundleEvent {
    pub stream: String,
    pub version: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub data: Value,
    pub metadata: Metadata,
    pub recorded_at: DateTime<Utc>,
    /// The hash the log stores for it.
    #[serde(with = "hex_hash")]
    pub hash: Hash,
    /// The hash of the stream's previous event (zeros for version 1).
    #[serde(with = "hex_hash")]
    pub prev_hash: Hash,
    /// Where the log delivers it now: must follow the tree's order.
    pub log_position: Cursor,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BundleAppend {
    /// Leaf of the append's first event; `None` for appends the tree does not hold yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_leaf: Option<u64>,
    pub key_id: String,
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
    #[serde(with = "hex_hashes")]
    pub hashes: Vec<Hash>,
}
