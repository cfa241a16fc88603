use super::{commands::IntegrationCommand, events::*, host::forward_host, state::IntegrationState};
use crate::{
    context::{Actor, CommandContext},
    error::DomainError,
    permissions::Permission,
    practice::{require, PracticeState},
    validate::non_empty,
};

type Decided = Result<Vec<IntegrationEvent>, DomainError>;

/// Set-up commands need "manage integrations"; the records of syncs, refreshes and expiry come
/// from the integration's own workers (a system actor).
pub fn decide(
    state: &IntegrationState,
    practice: &PracticeState,
    command: &IntegrationCommand,
    ctx: &CommandContext,
) -> Decided {
    use IntegrationCommand::*;
    if !practice.exists() {
        return Err(DomainError::PracticeNotFound);
    }
    crate::limits::reason(ctx.reason.as_deref())?;
    if let CreateIntegration {
        integration_id,
        name,
        forward_host: host,
        enabled,
        ids_loaded_confirmed,
        host_policy,
    } = command
    {
        require(practice, ctx, Permission::ManageIntegrations)?;
        if state.exists() {
            return Err(DomainError::IntegrationAlreadyExists);
        }
        if *enabled && !ids_loaded_confirmed {
            return Err(DomainError::XplanIdsNotConfirmed);
        }
        return Ok(vec![IntegrationEvent::Created(IntegrationCreated {
            meta: ctx.meta(),
            integration_id: *integration_id,
            practice_id: practice.id.ok_or(DomainError::PracticeNotFound)?,
            kind: "xplan".into(),
            auth_mode: "oauth".into(),
            settings: IntegrationSettings {
                name: non_empty("the integration name", name)?,
                forward_host: forward_host(host, host_policy)?,
                ids_loaded_confirmed: *ids_loaded_confirmed,
            },
            enabled: *enabled,
        })]);
    }
    let settings = match (&state.settings, state.practice_id) {
        (Some(s), Some(p)) if Some(p) == practice.id => s,
        _ => return Err(DomainError::IntegrationNotFound),
    };
    match command {
        CreateIntegration { .. } => unreachable!("handled above"),
        UpdateIntegration {
            name,
            forward_host: host,
            ids_loaded_confirmed,
            host_policy,
        } => {
            require(practice, ctx, Permission::ManageIntegrations)?;
            let next = IntegrationSettings {
                name: match name {
                    Some(n) => non_empty("the integration name", n)?,
                    None => settings.name.clone(),
                },
                forward_host: match host {
                    Some(h) => forward_host(h, host_policy)?,
                    None => settings.forward_host.clone(),
                },
                ids_loaded_confirmed: ids_loaded_confirmed.unwrap_or(settings.ids_loaded_confirmed),
            };
            if state.enabled && !next.ids_loaded_confirmed {
                return Err(DomainError::XplanIdsNotConfirmed);
            }
            if &next == settings {
                return Ok(vec![]);
            }
            Ok(vec![IntegrationEvent::Updated(IntegrationUpdated {
                meta: ctx.meta(),
                settings: next,
            })])
        }
        EnableIntegration => {
            require(practice, ctx, Permission::ManageIntegrations)?;
            if !settings.ids_loaded_confirmed {
                return Err(DomainError::XplanIdsNotConfirmed);
            }
            Ok(if state.enabled {
                vec![]
            } else {
                vec![IntegrationEvent::Enabled(IntegrationToggled {
                    meta: ctx.meta(),
                })]
            })
        }
        DisableIntegration => {
            require(practice, ctx, Permission::ManageIntegrations)?;
            Ok(if state.enabled {
                vec![IntegrationEvent::Disabled(IntegrationToggled {
                    meta: ctx.meta(),
                })]
            } else {
                vec![]
            })
        }
        StartAuthorisation {
            state_digest,
            expires_at,
        } => {
            let by = require(practice, ctx, Permission::ManageIntegrations)?;
            Ok(vec![IntegrationEvent::AuthorisationStarted(
                AuthorisationStarted {
                    meta: ctx.meta(),
                    by,
                    state_digest: state_digest.clone(),
                    expires_at: *expires_at,
                },
            )])
        }
        CompleteAuthorisation {
            state_digest,
            access_expires_at,
        } => {
            let pending = state
                .pending
                .as_ref()
                .ok_or(DomainError::OAuthStateInvalid)?;
            let by = ctx.actor.staff().ok_or(DomainError::OAuthStateInvalid)?;
            if pending.state_digest != *state_digest
                || pending.by != by
                || ctx.now > pending.expires_at
            {
                return Err(DomainError::OAuthStateInvalid);
            }
            // The consent must come from someone still allowed to give it.
            require(practice, ctx, Permission::ManageIntegrations)?;
            Ok(vec![IntegrationEvent::Connected(Connected {
                meta: ctx.meta(),
                by,
                access_expires_at: *access_expires_at,
            })])
        }
        RecordTokenRefresh { access_expires_at } => {
            system(ctx)?;
            if !state.is_connected() {
                return Err(DomainError::XplanNotConnected);
            }
            Ok(vec![IntegrationEvent::TokensRefreshed(TokensRefreshed {
                meta: ctx.meta(),
                access_expires_at: *access_expires_at,
            })])
        }
        ExpireConsent { reason } => {
            system(ctx)?;
            Ok(if state.is_connected() {
                vec![IntegrationEvent::ConsentExpired(ConsentExpired {
                    meta: ctx.meta(),
                    reason: reason.clone(),
                })]
            } else {
                vec![]
            })
        }
        StartSync { run_id, trigger } => {
            if !matches!(ctx.actor, Actor::System(_)) {
                require(practice, ctx, Permission::ManageIntegrations)?;
            }
            if !state.enabled {
                return Err(DomainError::IntegrationDisabled);
            }
            if !state.is_connected() {
                return Err(DomainError::XplanNotConnected);
            }
            Ok(vec![IntegrationEvent::SyncStarted(SyncStarted {
                meta: ctx.meta(),
                run_id: *run_id,
                trigger: crate::limits::text(
                    "the trigger",
                    trigger,
                    crate::limits::IDENTIFIER_MAX,
                    crate::limits::Lines::Single,
                )?
                .to_string(),
                started_at: ctx.now,
            })])
        }
        RecordSyncProgress { run_id, summary } => {
            system(ctx)?;
            Ok(vec![IntegrationEvent::SyncProgressed(SyncProgressed {
                meta: ctx.meta(),
                run_id: *run_id,
                summary: summary.clone(),
            })])
        }
        RecordSync { run } => {
            system(ctx)?;
            Ok(vec![IntegrationEvent::SyncRecorded(SyncRecorded {
                meta: ctx.meta(),
                run: run.clone(),
            })])
        }
        RecordIdPreload { rows, linked } => {
            require(practice, ctx, Permission::ManageIntegrations)?;
            Ok(vec![IntegrationEvent::IdsPreloaded(IdsPreloaded {
                meta: ctx.meta(),
                rows: *rows,
                linked: *linked,
            })])
        }
    }
}

fn system(ctx: &CommandContext) -> Result<(), DomainError> {
    match ctx.actor {
        Actor::System(_) => Ok(()),
        _ => Err(DomainError::SystemOnly),
    }
}
