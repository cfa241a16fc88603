//! Set-up shared by tests and benchmarks: a practice connected to a fake XPLAN through the real
//! OAuth flow. Not used by the service itself.

use chrono::Utc;
use hearth_domain::{
    integration::IntegrationCommand,
    practice::{NewStaff, PracticeCommand},
    roles::PracticeRole,
    Actor, CommandContext, IntegrationId, PracticeId, StaffId,
};

use crate::{fake::FakeXplan, service::XplanService};

pub struct ConnectedPractice {
    pub practice: PracticeId,
    pub owner: StaffId,
    /// An active professional whose email is the fake's first adviser's (ada@advisers.example),
    /// so synced clients of that adviser get her as primary.
    pub adviser: StaffId,
    pub integration: IntegrationId,
}

/// Creates a practice with an owner and an adviser, and an enabled integration with `xplan`
/// whose consent went through start → the fake's consent screen → callback.
pub async fn connected_practice(svc: &XplanService, xplan: &FakeXplan) -> ConnectedPractice {
    let (practice, owner, adviser, integration) = (
        PracticeId::new(),
        StaffId::new(),
        StaffId::new(),
        IntegrationId::new(),
    );
    let now = Utc::now();
    let exec = svc.executor();
    let staff = |id, name: &str, email: &str| NewStaff {
        staff_id: id,
        name: name.into(),
        email: email.into(),
    };
    let create = PracticeCommand::CreatePractice {
        practice_id: practice,
        name: "Connected".into(),
        owner: staff(owner, "Olive Owner", "olive@connected.test"),
        licences: 10,
    };
    exec.practice(practice, create, &CommandContext::new(Actor::Operator, now))
        .await
        .expect("practice created");
    let as_owner = CommandContext::new(Actor::Staff(owner), now);
    let invite = PracticeCommand::InviteStaff {
        staff: staff(adviser, "Ada Adviser", "ada@advisers.example"),
        role: PracticeRole::Professional,
        branch: None,
    };
    exec.practice(practice, invite, &as_owner)
        .await
        .expect("adviser invited");
    exec.practice(
        practice,
        PracticeCommand::ActivateStaff { staff_id: adviser },
        &CommandContext::new(Actor::Staff(adviser), now),
    )
    .await
    .expect("adviser active");
    let command = IntegrationCommand::CreateIntegration {
        integration_id: integration,
        name: "XPLAN".into(),
        forward_host: xplan.host(),
        enabled: true,
        ids_loaded_confirmed: true,
        host_policy: hearth_domain::integration::HostPolicy::development(),
    };
    svc.command(practice, integration, command, &as_owner)
        .await
        .expect("integration created");
    let (url, _) = svc
        .start_authorisation(practice, integration, &as_owner)
        .await
        .expect("authorisation started");
    let state = url::Url::parse(&url)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
        })
        .expect("the authorisation URL carries a state");
    svc.complete_authorisation(&state, &xplan.consent(&state), Utc::now())
        .await
        .expect("consent completed");
    ConnectedPractice {
        practice,
        owner,
        adviser,
        integration,
    }
}
