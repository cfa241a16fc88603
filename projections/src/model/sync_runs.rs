//! The sync-runs view: every XPLAN sync job of every integration — running (with its progress
//! so far), completed, failed or interrupted — fed by the projection runner. A stored event of an
//! integration that this build cannot read is remembered, and the integration's runs then answer
//! an error rather than a list silently missing a run.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hearth_domain::{
    integration::{IntegrationEvent, SyncOutcome, SyncSummary},
    IntegrationId,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Completed,
    Failed,
    Interrupted,
}

impl From<&SyncOutcome> for RunStatus {
    fn from(o: &SyncOutcome) -> Self {
        match o {
            SyncOutcome::Completed => RunStatus::Completed,
            SyncOutcome::Failed => RunStatus::Failed,
            SyncOutcome::Interrupted => RunStatus::Interrupted,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncRunView {
    pub run_id: Uuid,
    /// "schedule", "api" or "cli".
    pub trigger: String,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Absent while the run is going.
    pub outcome: Option<SyncOutcome>,
    /// The progress so far while running; the final summary once finished.
    pub summary: SyncSummary,
    /// Where the run's last record is in the log (pass as `at_least` to read its effects).
    #[serde(
        serialize_with = "position_string",
        deserialize_with = "string_position"
    )]
    pub position: i64,
}

fn position_string<S: serde::Serializer>(p: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string())
}

// The API shows positions as strings (JSON numbers lose precision past 2^53); a snapshot reads
// them back the same way.
fn string_position<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// A stored integration event that could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("the event at position {position} of this integration cannot be read: {reason}")]
pub struct Unreadable {
    pub position: i64,
    pub reason: String,
}

#[derive(Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncRuns {
    runs: HashMap<IntegrationId, Vec<SyncRunView>>,
    unreadable: HashMap<IntegrationId, Unreadable>,
}

impl SyncRuns {
    pub fn apply(&mut self, id: IntegrationId, event: &IntegrationEvent, position: i64) {
        let runs = self.runs.entry(id).or_default();
        match event {
            IntegrationEvent::SyncStarted(e) => runs.push(SyncRunView {
                run_id: e.run_id,
                trigger: e.trigger.clone(),
                status: RunStatus::Running,
                started_at: e.started_at,
                finished_at: None,
                outcome: None,
                summary: SyncSummary::default(),
                position,
            }),
            IntegrationEvent::SyncProgressed(e) => {
                if let Some(run) = runs.iter_mut().rev().find(|r| r.run_id == e.run_id) {
                    run.summary = e.summary.clone();
                    run.position = position;
                }
            }
            IntegrationEvent::SyncRecorded(e) => {
                let finished = SyncRunView {
                    run_id: e.run.run_id,
                    trigger: e.run.trigger.clone(),
                    status: (&e.run.outcome).into(),
                    started_at: e.run.started_at,
                    finished_at: Some(e.run.finished_at),
                    outcome: Some(e.run.outcome.clone()),
                    summary: e.run.summary.clone(),
                    position,
                };
                // Runs recorded before jobs existed have no start event.
                match runs.iter_mut().rev().find(|r| r.run_id == e.run.run_id) {
                    Some(run) => *run = finished,
                    None => runs.push(finished),
                }
            }
            _ => {}
        }
    }

    pub fn unreadable(&mut self, id: IntegrationId, position: i64, reason: String) {
        self.unreadable
            .entry(id)
            .or_insert(Unreadable { position, reason });
    }

    /// The integration's runs, newest first.
    pub fn runs(&self, id: IntegrationId) -> Result<Vec<SyncRunView>, Unreadable> {
        if let Some(e) = self.unreadable.get(&id) {
            return Err(e.clone());
        }
        let mut runs = self.runs.get(&id).cloned().unwrap_or_default();
        runs.reverse();
        Ok(runs)
    }

    pub fn run(&self, id: IntegrationId, run_id: Uuid) -> Result<Option<SyncRunView>, Unreadable> {
        if let Some(e) = self.unreadable.get(&id) {
            return Err(e.clone());
        }
        Ok(self
            .runs
            .get(&id)
            .and_then(|runs| runs.iter().rev().find(|r| r.run_id == run_id))
            .cloned())
    }
}
