//! The verifiable log over HTTP: the public key, signed checkpoints, proofs. A practice sees only
//! its own events and checkpoints that commit to its own history; whole-log proofs (which show
//! the log's size) are for the platform operator.

use axum::{extract::State, Json};
use chrono::Utc;
use hearth_domain::{permissions::Permission, PracticeId};
use hearth_eventstore::{Checkpoint, ConsistencyProof, InclusionProof, LogSigner, TreeBuilder};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::Caller,
    authz::{require_permission, staff_of},
    extract::{Path, Query},
    problem::{ApiResult, Problem},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(public_key))
        .routes(routes!(consistency))
        .routes(routes!(practice_checkpoint))
        .routes(routes!(inclusion))
}

pub(crate) fn signer(state: &AppState) -> Result<LogSigner, Problem> {
    state
        .store
        .signer()
        .cloned()
        .ok_or_else(|| Problem::unavailable("log_unsigned", "this service has no signing key"))
}

/// Brings the tree up to date before answering; a forged row stops it there, which the
/// answer then reflects (the background builder reports it).
async fn catch_up(state: &AppState, signer: &LogSigner) {
    if let Err(e) = TreeBuilder::new(state.store.clone(), signer.public_key().clone())
        .catch_up()
        .await
    {
        tracing::warn!(error = %e, "the tree could not take every event");
    }
}

/// The Ed25519 key that signs every append and checkpoint (base64), and its id.
#[utoipa::path(get, path = "/v1/log/public-key", responses((status = 200, body = Object)), security(("bearer" = [])))]
async fn public_key(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    let signer = signer(&state)?;
    Ok(Json(serde_json::json!({
        "algorithm": "Ed25519",
        "public_key": signer.public_key().to_base64(),
        "key_id": signer.key_id(),
    })))
}

async fn practice_staff(state: &AppState, caller: Caller, p: Uuid) -> Result<PracticeId, Problem> {
    let practice = PracticeId(p);
    let me = staff_of(state, caller, practice).await?;
    require_permission(state, practice, me, Permission::ManageHouseholdAccess)?;
    Ok(practice)
}

/// A checkpoint signed now that commits to the practice's history: save it, and a later audit
/// proves the practice's log only grew. Needs "manage household access".
#[utoipa::path(get, path = "/v1/practices/{practice_id}/log/checkpoint", responses((status = 200, body = Object), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn practice_checkpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<Uuid>,
) -> ApiResult<Json<Checkpoint>> {
    let practice = practice_staff(&state, caller, p).await?;
    let signer = signer(&state)?;
    catch_up(&state, &signer).await;
    Ok(Json(
        state
            .store
            .sign_practice_checkpoint(&signer, practice.0, Utc::now())
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProofParams {
    /// The tree size to prove against (a checkpoint's); default: the whole tree now.
    pub tree_size: Option<u64>,
}

/// The audit path of one of the practice's events. Needs "manage household access".
#[utoipa::path(get, path = "/v1/practices/{practice_id}/log/events/{event_id}/proof", params(ProofParams), responses((status = 200, body = Object), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn inclusion(
    State(state): State<AppState>,
    caller: Caller,
    Path((p, event_id)): Path<(Uuid, Uuid)>,
    Query(q): Query<ProofParams>,
) -> ApiResult<Json<InclusionProof>> {
    let practice = practice_staff(&state, caller, p).await?;
    // Another practice's event is "not found", like every other id of theirs.
    let ours = state
        .store
        .event_by_id(event_id)
        .await?
        .is_some_and(|e| e.metadata.practice_id == Some(practice.0));
    if !ours {
        return Err(Problem::not_found("the event"));
    }
    let size = match q.tree_size {
        Some(size) => size,
        None => state.store.tree_size().await?,
    };
    state
        .store
        .inclusion_proof(event_id, size)
        .await?
        .map(Json)
        .ok_or_else(|| {
            Problem::not_found("the event in a tree of that size (it may not be checkpointed yet)")
        })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyParams {
    pub from: u64,
    pub to: u64,
}

/// Proof that the tree of `from` events is a prefix of the tree of `to` events. Platform
/// operator only: tree sizes count every practice's events.
#[utoipa::path(get, path = "/v1/log/consistency", params(ConsistencyParams), responses((status = 200, body = Object), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn consistency(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ConsistencyParams>,
) -> ApiResult<Json<ConsistencyProof>> {
    if !matches!(caller, Caller::Operator) {
        return Err(Problem::forbidden(
            "operator_only",
            "whole-log proofs are for the platform operator",
        ));
    }
    if q.from > q.to {
        return Err(Problem::bad_request(
            "invalid_input",
            "`from` must not exceed `to`",
        ));
    }
    let path = state
        .store
        .consistency_proof(q.from, q.to)
        .await?
        .ok_or_else(|| Problem::not_found("a tree of that size"))?;
    Ok(Json(ConsistencyProof {
        from_size: q.from,
        to_size: q.to,
        path,
    }))
}
