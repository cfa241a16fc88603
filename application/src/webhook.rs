//! Webhook commands: decided against the endpoint's stream and the practice (for the actor's
//! permissions), appended with both versions checked.

use hearth_domain::{
    streams,
    webhook::{self, WebhookCommand, WebhookState},
    CommandContext, PracticeId, WebhookId,
};

use crate::{executor::CommandExecutor, loading::fold_stream, ExecError, Executed};

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
        self.retrying(|_| {
            self.beside_practice(
                practice_id,
                streams::webhook(id),
                WebhookState::apply,
                |state, practice| webhook::decide(state, practice, &command, ctx),
                ctx,
            )
        })
        .await
    }
}
