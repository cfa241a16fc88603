use chrono::{DateTime, Utc};

use super::{
    events::*,
    state::WebhookState,
    url::{webhook_url, UrlPolicy},
};
use crate::{
    access_changes::ChangeKind,
    context::{Actor, CommandContext},
    error::DomainError,
    ids::{HouseholdId, WebhookId},
    permissions::Permission,
    practice::{require, PracticeState},
};

/// Endpoints at most per practice.
pub const MAX_ENDPOINTS: usize = 20;
/// Longest delivery error kept in the log.
const MAX_ERROR: usize = 500;

#[derive(Clone, Debug, PartialEq)]
pub enum WebhookCommand {
    Register {
        endpoint_id: WebhookId,
        url: String,
        kinds: Vec<ChangeKind>,
        policy: UrlPolicy,
        /// Endpoints the practice has now (the API counts them in the read model).
        existing: usize,
    },
    /// The new secret is already sealed beside the log; the previous one signs until then too.
    RotateSecret {
        previous_valid_until: DateTime<Utc>,
    },
    Remove,
    RequestRedelivery {
        change_id: String,
    },
    /// The delivery worker's records (a system actor).
    RecordFailure {
        change_id: String,
        household_id: HouseholdId,
        attempt: u32,
        error: String,
        dead_lettered: bool,
    },
    RecordRedelivered {
        change_id: String,
    },
}

/// Registration and its changes need "manage integrations"; delivery records come from
/// Hearth's delivery worker alone.
pub fn decide(
    state: &WebhookState,
    practice: &PracticeState,
    command: &WebhookCommand,
    ctx: &CommandContext,
) -> Result<Vec<WebhookEvent>, DomainError> {
    use WebhookCommand::*;
    let practice_id = practice.id.ok_or(DomainError::PracticeNotFound)?;
    let meta = ctx.meta();
    if let Register {
        endpoint_id,
        url,
        kinds,
        policy,
        existing,
    } = command
    {
        require(practice, ctx, Permission::ManageIntegrations)?;
        if state.exists() {
            return Err(DomainError::WebhookAlreadyExists);
        }
        if *existing >= MAX_ENDPOINTS {
            return Err(DomainError::InvalidInput(format!(
                "a practice registers at most {MAX_ENDPOINTS} webhook endpoints"
            )));
        }
        let mut kinds = kinds.clone();
        kinds.sort();
        kinds.dedup();
        return Ok(vec![WebhookEvent::Registered(EndpointRegistered {
            meta,
            endpoint_id: *endpoint_id,
            practice_id,
            url: webhook_url(url, policy)?,
            kinds,
        })]);
    }
    if state.practice_id != Some(practice_id) || state.removed {
        return Err(DomainError::WebhookNotFound);
    }
    let system = || match ctx.actor {
        Actor::System(_) => Ok(()),
        _ => Err(DomainError::SystemOnly),
    };
    let change = |id: &str| {
        let ok = id.split_once('.').is_some_and(|(p, i)| {
            p.parse::<i64>().is_ok_and(|p| p > 0) && i.parse::<u32>().is_ok()
        });
        if ok {
            Ok(id.to_string())
        } else {
            Err(DomainError::InvalidInput(format!(
                "{} is not a change id ({{position}}.{{index}})",
                crate::limits::excerpt(id)
            )))
        }
    };
    Ok(vec![match command {
        Register { .. } => unreachable!("handled above"),
        RotateSecret {
            previous_valid_until,
        } => {
            require(practice, ctx, Permission::ManageIntegrations)?;
            WebhookEvent::SecretRotated(SecretRotated {
                meta,
                secret_version: state.secret_version + 1,
                previous_valid_until: *previous_valid_until,
            })
        }
        Remove => {
            require(practice, ctx, Permission::ManageIntegrations)?;
            WebhookEvent::Removed(EndpointRemoved { meta })
        }
        RequestRedelivery { change_id } => {
            require(practice, ctx, Permission::ManageIntegrations)?;
            WebhookEvent::RedeliveryRequested(RedeliveryRequested {
                meta,
                change_id: change(change_id)?,
            })
        }
        RecordFailure {
            change_id,
            household_id,
            attempt,
            error,
            dead_lettered,
        } => {
            system()?;
            WebhookEvent::DeliveryFailed(DeliveryFailed {
                meta,
                change_id: change(change_id)?,
                household_id: *household_id,
                attempt: *attempt,
                error: error.chars().take(MAX_ERROR).collect(),
                dead_lettered: *dead_lettered,
            })
        }
        RecordRedelivered { change_id } => {
            system()?;
            WebhookEvent::Redelivered(Redelivered {
                meta,
                change_id: change(change_id)?,
            })
        }
    }])
}
