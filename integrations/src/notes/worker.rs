//! Turns one delivered survey/plan event into one XPLAN file note, exactly once in effect:
//! the household's log says whether the note was recorded; XPLAN itself is asked whether a note
//! carrying this event's marker exists (the crash window between XPLAN's answer and our record);
//! only then is a note created. Transient failures are retried later; permanent ones are
//! recorded and dead-lettered until someone fixes the cause and retries.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use hearth_application::ExecError;
use hearth_domain::{
    household::{file_note, FileNoteContent, HouseholdCommand, HouseholdEvent, HouseholdState},
    Actor, CommandContext, IntegrationId,
};
use serde_json::Value;

use super::{
    bus::{Disposition, Handler},
    message::NoteMessage,
};
use crate::{
    service::{IntegrationError, XplanService, SYSTEM_ACTOR},
    xplan::{shape, XplanError, XplanSession},
};

/// Put in each note's summary so a note can be found again by the event that made it.
pub const NOTE_MARKER_PREFIX: &str = "hearth-event:";
/// Pause before a message that failed transiently is delivered again; doubles per attempt.
const RETRY_PAUSE: Duration = Duration::from_secs(2);
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct FileNoteWorker {
    xplan: XplanService,
    /// Transient failures per source event, for the backoff (forgotten on success).
    attempts: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<uuid::Uuid, u32>>>,
}

enum Failure {
    Transient(String),
    Permanent(String),
}

impl From<XplanError> for Failure {
    fn from(e: XplanError) -> Self {
        match e {
            XplanError::Unavailable { .. } | XplanError::Vault(_) => {
                Failure::Transient(e.to_string())
            }
            _ => Failure::Permanent(e.to_string()),
        }
    }
}

impl From<ExecError> for Failure {
    fn from(e: ExecError) -> Self {
        match e {
            ExecError::Domain(d) => Failure::Permanent(d.to_string()),
            other => Failure::Transient(other.to_string()),
        }
    }
}

impl From<IntegrationError> for Failure {
    fn from(e: IntegrationError) -> Self {
        match e {
            IntegrationError::Xplan(x) => x.into(),
            IntegrationError::Exec(x) => x.into(),
            other => Failure::Permanent(other.to_string()),
        }
    }
}

enum Done {
    /// The event makes no file note (not one of the five triggers).
    NoNote,
    Created(String),
    AlreadyRecorded,
    Skipped(String),
}

impl FileNoteWorker {
    pub fn new(xplan: XplanService) -> Self {
        Self {
            xplan,
            attempts: Default::default(),
        }
    }

    fn backoff(&self, event: uuid::Uuid) -> Duration {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let n = attempts.entry(event).or_insert(0);
        *n += 1;
        RETRY_PAUSE
            .saturating_mul(2u32.saturating_pow(*n - 1))
            .min(MAX_RETRY_PAUSE)
    }

    fn settled(&self, event: uuid::Uuid) {
        self.attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&event);
    }

    fn ctx() -> CommandContext {
        CommandContext::new(Actor::System(SYSTEM_ACTOR.into()), Utc::now())
    }

    async fn record(&self, m: &NoteMessage, command: HouseholdCommand) -> Result<(), Failure> {
        self.xplan
            .executor()
            .household(m.practice_id, m.household_id, command, &Self::ctx())
            .await?;
        Ok(())
    }

    async fn process(&self, m: &NoteMessage) -> Result<Done, Failure> {
        let stored = self
            .xplan
            .executor()
            .store()
            .event_by_id(m.event_id)
            .await
            .map_err(|e| Failure::Transient(e.to_string()))?
            .ok_or_else(|| Failure::Permanent("the event is not in the log".into()))?;
        let event =
            HouseholdEvent::from_stored(&stored.event_type, stored.schema_version, stored.data)
                .map_err(|e| Failure::Permanent(format!("unreadable event: {e}")))?;
        let Some(content) = file_note(&event) else {
            return Ok(Done::NoNote);
        };
        let (household, _) = self
            .xplan
            .executor()
            .household_state(m.household_id)
            .await?;
        if household.file_notes.contains(&m.event_id) {
            return Ok(Done::AlreadyRecorded);
        }
        let skip = |reason: &str| Done::Skipped(reason.to_string());
        if household.is_erased() {
            return Ok(skip("the household's personal data was erased"));
        }
        let Some((integration, clients)) = linked_clients(&household) else {
            return Ok(skip("the household is not linked to an XPLAN client"));
        };
        let state = self.xplan.state(integration).await?;
        if state.practice_id != Some(m.practice_id) || !state.enabled {
            return Ok(skip("the practice's XPLAN integration is disabled"));
        }
        if !state.is_connected() {
            return Err(Failure::Permanent(XplanError::ConsentExpired.to_string()));
        }
        let session = self.xplan.session(&state)?;
        let docid = self.create_once(&session, m, &clients, &content).await?;
        let command = HouseholdCommand::RecordXplanFileNote {
            source_event_id: m.event_id,
            integration_id: integration,
            docid: docid.clone(),
            subject: content.subject,
        };
        self.record(m, command).await?;
        Ok(Done::Created(docid))
    }

    async fn create_once(
        &self,
        session: &XplanSession,
        m: &NoteMessage,
        clients: &[String],
        content: &FileNoteContent,
    ) -> Result<String, Failure> {
        let marker = format!("{NOTE_MARKER_PREFIX}{}", m.event_id);
        let existing = session
            .docnotes_of(&clients[0])
            .await?
            .into_iter()
            .find(|n| {
                n.get(shape::DOCNOTE_SUMMARY).and_then(Value::as_str) == Some(marker.as_str())
            });
        let (docid, attached) = match existing {
            Some(note) => {
                let docid = note
                    .get(shape::DOCNOTE_ID)
                    .and_then(shape::plain)
                    .ok_or_else(|| Failure::Permanent("a note without docid".into()))?;
                let attached = shape::docnote_has_attachments(&note);
                metrics::counter!("hearth_file_notes_recovered_total").increment(1);
                (docid, attached)
            }
            None => {
                let note = shape::docnote(
                    &content.subject,
                    &content.body,
                    clients,
                    &marker,
                    Utc::now().date_naive(),
                );
                (session.create_docnote(&note).await?, false)
            }
        };
        if let (Some(doc), false) = (&content.attachment, attached) {
            let bytes = self
                .xplan
                .executor()
                .store()
                .blob(m.household_id.0, &doc.sha256)
                .await
                .map_err(|e| Failure::Transient(e.to_string()))?
                .ok_or_else(|| Failure::Permanent(format!("document {} is missing", doc.sha256)))?;
            session
                .attach(&docid, &doc.filename, &doc.mimetype, &bytes)
                .await?;
        }
        Ok(docid)
    }
}

/// The integration and XPLAN client ids the household's members are linked to (client first).
fn linked_clients(h: &HouseholdState) -> Option<(IntegrationId, Vec<String>)> {
    let first = h.members.iter().find_map(|m| m.xplan.clone())?;
    let clients = h
        .members
        .iter()
        .filter_map(|m| m.xplan.as_ref())
        .filter(|l| l.integration_id == first.integration_id)
        .map(|l| l.xplan_id.clone())
        .collect();
    Some((first.integration_id, clients))
}

#[async_trait]
impl Handler for FileNoteWorker {
    async fn handle(&self, m: &NoteMessage, _redelivered: bool) -> Disposition {
        metrics::counter!("hearth_file_notes_consumed_total").increment(1);
        let disposition = self.dispose(m).await;
        if !matches!(disposition, Disposition::Requeue(_)) {
            self.settled(m.event_id);
        }
        disposition
    }
}

impl FileNoteWorker {
    async fn dispose(&self, m: &NoteMessage) -> Disposition {
        match self.process(m).await {
            Ok(Done::Created(docid)) => {
                metrics::counter!("hearth_file_notes_created_total").increment(1);
                tracing::info!(event_id = %m.event_id, %docid, "XPLAN file note created");
                Disposition::Ack
            }
            Ok(Done::NoNote | Done::AlreadyRecorded) => Disposition::Ack,
            Ok(Done::Skipped(reason)) => match self
                .record(
                    m,
                    HouseholdCommand::RecordXplanFileNoteSkipped {
                        source_event_id: m.event_id,
                        reason,
                    },
                )
                .await
            {
                Ok(()) => {
                    metrics::counter!("hearth_file_notes_skipped_total").increment(1);
                    Disposition::Ack
                }
                Err(_) => Disposition::Requeue(self.backoff(m.event_id)),
            },
            Err(Failure::Transient(reason)) => {
                metrics::counter!("hearth_file_notes_retried_total").increment(1);
                tracing::warn!(event_id = %m.event_id, %reason, "XPLAN file note will be retried");
                Disposition::Requeue(self.backoff(m.event_id))
            }
            Err(Failure::Permanent(reason)) => {
                if self
                    .record(
                        m,
                        HouseholdCommand::RecordXplanFileNoteFailed {
                            source_event_id: m.event_id,
                            reason: reason.clone(),
                        },
                    )
                    .await
                    .is_err()
                {
                    return Disposition::Requeue(self.backoff(m.event_id));
                }
                metrics::counter!("hearth_file_notes_dead_lettered_total").increment(1);
                tracing::warn!(event_id = %m.event_id, %reason, "XPLAN file note dead-lettered");
                Disposition::DeadLetter(reason)
            }
        }
    }
}
