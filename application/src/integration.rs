//! Integration commands: decided against the integration's stream and the practice (for the
//! actor's permissions), appended with both versions checked.

use hearth_domain::{
    integration::{self, IntegrationCommand, IntegrationState},
    streams, CommandContext, IntegrationId, PracticeId,
};

use hearth_eventstore::StreamAppend;

use crate::{
    executor::{expected, new_events, CommandExecutor},
    loading::fold_stream,
    ExecError, Executed,
};

impl CommandExecutor {
    pub async fn integration_state(
        &self,
        id: IntegrationId,
    ) -> Result<(IntegrationState, Option<i64>), ExecError> {
        fold_stream(
            self.store(),
            &streams::integration(id),
            IntegrationState::apply,
        )
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
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
                    events: new_events(&events, practice_id, ctx),
                },
            ])
        })
        .await
    }
}
