//! Integration commands: decided against the integration's stream and the practice (for the
//! actor's permissions), appended with both versions checked.

use hearth_domain::{
    integration::{self, IntegrationCommand, IntegrationState},
    streams, CommandContext, IntegrationId, PracticeId,
};

use crate::{executor::CommandExecutor, loading::fold_stream, ExecError, Executed};

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
        self.retrying(|_| {
            self.beside_practice(
                practice_id,
                streams::integration(id),
                IntegrationState::apply,
                |state, practice| integration::decide(state, practice, &command, ctx),
                ctx,
            )
        })
        .await
    }
}
