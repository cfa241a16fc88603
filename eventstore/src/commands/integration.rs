//! Integration commands: decided against the integration's stream and the practice (for the
//! actor's permissions), appended with both versions checked.

use hearth_domain::{
    integration::{self, IntegrationCommand, IntegrationEvent, IntegrationState},
    streams, CommandContext, IntegrationId, PracticeId,
};

use super::{
    executor::{expected, new_event, CommandExecutor},
    ExecError, Executed,
};
use crate::model::StreamAppend;

impl CommandExecutor {
    pub async fn integration_state(
        &self,
        id: IntegrationId,
    ) -> Result<(IntegrationState, Option<i64>), ExecError> {
        let mut state = IntegrationState::default();
        let mut version = None;
        for e in self
            .store()
            .read_stream(&streams::integration(id), 1)
            .await?
        {
            state.apply(&IntegrationEvent::from_stored(
                &e.event_type,
                e.schema_version,
                e.data,
            )?);
            version = Some(e.version);
        }
        Ok((state, version))
    }

    pub async fn integration(
        &self,
        practice_id: PracticeId,
        id: IntegrationId,
        command: IntegrationCommand,
        ctx: &CommandContext,
    ) -> Result<Executed, ExecError> {
        self.retrying(|| async {
            let (practice, practice_version) = self.practice_state(practice_id).await?;
            let (state, version) = self.integration_state(id).await?;
            let events = integration::decide(&state, &practice, &command, ctx)?;
            if events.is_empty() {
                return Ok(vec![]);
            }
            Ok(vec![
                // A version check only: a permission revoked meanwhile makes this conflict.
                StreamAppend {
                    stream: streams::practice(practice_id),
                    expected: expected(practice_version),
                    events: vec![],
                },
                StreamAppend {
                    stream: streams::integration(id),
                    expected: expected(version),
                    events: events
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
                        .collect(),
                },
            ])
        })
        .await
    }
}
