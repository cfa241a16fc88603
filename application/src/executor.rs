use std::sync::Arc;

use hearth_domain::{
    household::{self, HouseholdCommand, HouseholdState},
    practice::{self, PracticeCommand, PracticeState},
    streams, CommandContext, Decision, DomainError, HouseholdId, PracticeId, StaffId, Stored,
};
use uuid::Uuid;

use hearth_eventstore::{Cursor, EventStore, ExpectedVersion, Metadata, NewEvent, StreamAppend};

use crate::{
    loading::{fold_stream, HouseholdCache, PracticeCache},
    ExecError,
};

/// Conflicts are retried this many times (reload, decide again) before giving up.
const ATTEMPTS: usize = 5;

/// What a command wrote. `position` is the token a reader passes as `at_least` to see it;
/// `None` when the command decided that nothing needed to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Executed {
    pub position: Option<i64>,
    pub cursor: Option<Cursor>,
    pub events: usize,
}

#[derive(Clone)]
pub struct CommandExecutor {
    store: EventStore,
    practices: Arc<PracticeCache>,
    households: Arc<HouseholdCache>,
}

impl CommandExecutor {
    pub fn new(store: EventStore) -> Self {
        Self {
            store,
            practices: Arc::new(PracticeCache::default()),
            households: Arc::new(HouseholdCache::default()),
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    pub async fn practice_state(
        &self,
        id: PracticeId,
    ) -> Result<(Arc<PracticeState>, Option<i64>), ExecError> {
        self.practices.load(&self.store, id).await
    }

    /// The household's state now (read since the copy this process holds, if any) and its
    /// version.
    pub async fn household_state(
        &self,
        id: HouseholdId,
    ) -> Result<(Arc<HouseholdState>, Option<i64>), ExecError> {
        self.households.load(&self.store, id).await
    }

    /// As [`Self::household_state`], a copy of its own for a caller that applies its own
    /// decisions to it (a batch, a reassignment).
    pub(crate) async fn owned_household(
        &self,
        id: HouseholdId,
    ) -> Result<(HouseholdState, Option<i64>), ExecError> {
        let (state, version) = self.household_state(id).await?;
        Ok((Arc::unwrap_or_clone(state), version))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(practice = %id), err(level = "debug"))]
    pub async fn practice(
        &self,
        id: PracticeId,
        command: PracticeCommand,
        ctx: &CommandContext,
    ) -> Result<Executed, ExecError> {
        self.retrying(|_| async {
            let (state, version) = self.practice_state(id).await?;
            let events = practice::decide(&state, &command, ctx)?;
            let appends = vec![stream_append(
                streams::practice(id),
                version,
                new_events(&events, id, ctx),
            )];
            Ok(appends)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(household = %id), err(level = "debug"))]
    pub async fn household(
        &self,
        practice_id: PracticeId,
        id: HouseholdId,
        command: HouseholdCommand,
        ctx: &CommandContext,
    ) -> Result<Executed, ExecError> {
        self.household_guarded(practice_id, id, command, ctx, None)
            .await
    }

    /// As [`Self::household`], plus a guard stream that must not be claimed yet and is claimed with
    /// the decision: the XPLAN client stream, so two syncs can never create the same client twice.
    #[tracing::instrument(level = "debug", skip_all, fields(household = %id), err(level = "debug"))]
    pub async fn household_guarded(
        &self,
        practice_id: PracticeId,
        id: HouseholdId,
        command: HouseholdCommand,
        ctx: &CommandContext,
        guard: Option<(String, String)>,
    ) -> Result<Executed, ExecError> {
        // The state the household will be at if the append lands, for the next command.
        let written = std::sync::Mutex::new(None);
        let (command, guard, written_ref) = (&command, &guard, &written);
        let executed = self
            .retrying(|attempt| async move {
                let (decision, practice_version, household, household_version) = self
                    .decide_household(practice_id, id, command, ctx, attempt == 0)
                    .await?;
                if decision.is_empty() {
                    return Ok(vec![]);
                }
                // Set on every attempt: an earlier attempt's state must not outlive its conflict.
                let events = decision.household_events(id);
                *written_ref.lock().unwrap_or_else(|p| p.into_inner()) =
                    (!events.is_empty()).then(|| {
                        let mut after = (*household).clone();
                        events.iter().for_each(|e| after.apply(e));
                        (household_version.unwrap_or(0) + events.len() as i64, after)
                    });
                let mut appends = decision_appends(
                    &decision,
                    practice_id,
                    practice_version,
                    &[(id, household_version)],
                    ctx,
                );
                if let Some((stream, event_type)) = guard {
                    let data = serde_json::json!({ "household_id": id });
                    let expected =
                        crate::claims::free_claim(&self.store, stream, event_type).await?;
                    appends.push(StreamAppend {
                        stream: stream.clone(),
                        expected,
                        events: vec![new_event(event_type, 1, data, practice_id, ctx)],
                    });
                }
                Ok(appends)
            })
            .await?;
        if let (true, Some((version, state))) = (
            executed.events > 0,
            written.into_inner().unwrap_or_else(|p| p.into_inner()),
        ) {
            self.households.put(id, version, Arc::new(state));
        }
        Ok(executed)
    }

    /// The decision and the versions it was made at. With `held`, on the household and practice
    /// states this process holds, without reading the log — the append guards both versions, so
    /// a copy another writer made stale fails it and the retry reads. Anything but a decision to
    /// write (nothing to do, or a refusal) is answered only from states read now.
    async fn decide_household(
        &self,
        practice_id: PracticeId,
        id: HouseholdId,
        command: &HouseholdCommand,
        ctx: &CommandContext,
        held: bool,
    ) -> Result<(Decision, Option<i64>, Arc<HouseholdState>, Option<i64>), ExecError> {
        if let (true, Some((household, version))) = (held, self.households.get(id)) {
            let (practice, practice_version) = self
                .practices
                .cached_or_load(&self.store, practice_id)
                .await?;
            match household::decide(&household, &practice, id, command, ctx) {
                Ok(d) if !d.is_empty() => {
                    return Ok((d, practice_version, household, Some(version)))
                }
                _ => {}
            }
        }
        let (practice, practice_version) = self.practice_state(practice_id).await?;
        let (household, version) = self.households.load(&self.store, id).await?;
        let decision = household::decide(&household, &practice, id, command, ctx)?;
        Ok((decision, practice_version, household, version))
    }

    /// Hands every household `from` leads to `to`, atomically across all of them.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn reassign_households(
        &self,
        practice_id: PracticeId,
        from: StaffId,
        to: StaffId,
        ctx: &CommandContext,
    ) -> Result<Executed, ExecError> {
        self.retrying(|_| async {
            let (practice, practice_version) = self.practice_state(practice_id).await?;
            let mut states = Vec::new();
            let mut versions = Vec::new();
            for h in practice.households_led_by(from) {
                let (state, version) = self.owned_household(h).await?;
                states.push((h, state));
                versions.push((h, version));
            }
            let decision = household::reassign_households(&practice, &states, from, to, ctx)?;
            Ok(decision_appends(
                &decision,
                practice_id,
                practice_version,
                &versions,
                ctx,
            ))
        })
        .await
    }

    /// One attempt at a command decided against a stream of its own and the practice (for the
    /// actor's permissions): the events go to `stream`, and the practice is version-checked only,
    /// so a permission revoked meanwhile makes the append conflict. For [`Self::retrying`] (an
    /// `async` block around it would nest the future one level deeper than the service's
    /// longest chains allow).
    pub(super) async fn beside_practice<S: Default, E: Stored>(
        &self,
        practice_id: PracticeId,
        stream: String,
        apply: impl Fn(&mut S, &E),
        decide: impl Fn(&S, &PracticeState) -> Result<Vec<E>, DomainError>,
        ctx: &CommandContext,
    ) -> Result<Vec<StreamAppend>, ExecError> {
        let (practice, practice_version) = self.practice_state(practice_id).await?;
        let (state, version) = fold_stream(&self.store, &stream, apply).await?;
        let events = decide(&state, &practice)?;
        if events.is_empty() {
            return Ok(vec![]);
        }
        Ok(vec![
            stream_append(streams::practice(practice_id), practice_version, vec![]),
            stream_append(stream, version, new_events(&events, practice_id, ctx)),
        ])
    }

    /// Decides (given the attempt's number, from 0) and appends, deciding again after a
    /// conflict.
    pub(super) async fn retrying<F, Fut>(&self, decide: F) -> Result<Executed, ExecError>
    where
        F: Fn(usize) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<StreamAppend>, ExecError>>,
    {
        for attempt in 0..ATTEMPTS {
            let appends = decide(attempt).await?;
            let events: usize = appends.iter().map(|a| a.events.len()).sum();
            if events == 0 {
                return Ok(Executed {
                    position: None,
                    cursor: None,
                    events: 0,
                });
            }
            match self.store.append_many(appends).await {
                Ok(r) => {
                    return Ok(Executed {
                        position: Some(r.last_position),
                        cursor: Some(r.cursor),
                        events,
                    })
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ExecError::Contended)
    }
}

pub(super) fn expected(version: Option<i64>) -> ExpectedVersion {
    version
        .map(ExpectedVersion::Exact)
        .unwrap_or(ExpectedVersion::NoStream)
}

fn stream_append(stream: String, version: Option<i64>, events: Vec<NewEvent>) -> StreamAppend {
    StreamAppend {
        stream,
        expected: expected(version),
        events,
    }
}

/// Every stream the decision was made from is version-checked, written to or not.
fn decision_appends(
    decision: &Decision,
    practice_id: PracticeId,
    practice_version: Option<i64>,
    households: &[(HouseholdId, Option<i64>)],
    ctx: &CommandContext,
) -> Vec<StreamAppend> {
    let mut appends = vec![stream_append(
        streams::practice(practice_id),
        practice_version,
        new_events(&decision.practice, practice_id, ctx),
    )];
    for (id, version) in households {
        let events = decision.household_events(*id);
        appends.push(stream_append(
            streams::household(*id),
            *version,
            new_events(events, practice_id, ctx),
        ));
    }
    appends
}

/// The log's form of decided events, with the command's actor and time as metadata.
pub(super) fn new_events<E: Stored>(
    events: &[E],
    practice_id: PracticeId,
    ctx: &CommandContext,
) -> Vec<NewEvent> {
    events
        .iter()
        .map(|e| {
            new_event(
                e.event_type(),
                e.schema_version(),
                e.to_data(),
                practice_id,
                ctx,
            )
        })
        .collect()
}

pub(crate) fn new_event(
    event_type: &str,
    schema_version: i32,
    data: serde_json::Value,
    practice_id: PracticeId,
    ctx: &CommandContext,
) -> NewEvent {
    NewEvent {
        // Time-ordered ids keep the unique index append-friendly.
        event_id: Uuid::now_v7(),
        event_type: event_type.to_string(),
        schema_version,
        data,
        metadata: Metadata {
            actor: ctx.actor.to_string(),
            practice_id: Some(practice_id.0),
            correlation_id: None,
            causation_id: None,
            occurred_at: ctx.now,
        },
    }
}
