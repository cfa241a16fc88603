//! Webhook commands: decided against the endpoint's stream and the practice (for the actor's
//! permissions), appended with both versions checked.

use hearth_domain::{
    streams,
    webhook::{self, WebhookCommand, WebhookState},
    CommandContext, PracticeId, WebhookId,
};
use hearth_eventstore::StreamAppend;

use crate::{
    executor::{expected, new_events, CommandExecutor},
    loading::fold_stream,
    ExecError, Executed,
};

impl CommandExecutor {
    pub async fn webhook_state(
        &self,
        id: WebhookId,
    ) -> Result<(WebhookState, Option<i64>), ExecError> {
        fold_stream(self.store(), &streams::webhook(id), WebhookState::apply).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn webhook(
        &self,
        practice_id: PracticeId,
        id: WebhookId,
        command: WebhookCommand,
        ctx: &CommandContext,
    ) -> Result<Executed, ExecError> {
        self.retrying(|| async {
            let (practice, practice_version) = self.practice_state(practice_id).await?;
            let (state, version) = self.webhook_state(id).await?;
            let events = webhook::decide(&state, &practice, &command, ctx)?;
            Ok(vec![
                // A version check only: a permission revoked meanwhile makes this conflict.
                StreamAppend {
                    stream: streams::practice(practice_id),
                    expected: expected(practice_version),
                    events: vec![],
                },
                StreamAppend {
                    stream: streams::webhook(id),
                    expected: expected(version),
                    events: new_events(&events, practice_id, ctx),
                },
            ])
        })
        .await
    }
}
