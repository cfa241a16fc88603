//! A practice's webhook endpoints (issue 16): where Hearth posts each access change, signed.
//! Registration, secret rotation, removal, every failed delivery, dead letters and manual
//! redeliveries are events of the endpoint's own stream (`webhook-{id}`), so they are audited and
//! every instance sees them. Secrets never enter these events: they live sealed outside the log.

mod decide;
mod events;
mod state;
mod url;

pub use decide::{decide, WebhookCommand};
pub use events::*;
pub use state::WebhookState;
pub use url::{webhook_url, UrlPolicy, MAX_URL};
