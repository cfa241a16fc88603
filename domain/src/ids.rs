//! Identifiers. Distinct types so a staff id can never be passed where a household id belongs.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self(Uuid::nil())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    )*};
}

id_type!(
    /// A practice: the tenant. Nothing of one practice is visible to another.
    PracticeId,
    /// A member of a practice's staff.
    StaffId,
    /// A client household.
    HouseholdId,
    /// A person in a household (the client, a partner).
    MemberId,
    BranchId,
    /// A configured XPLAN connection of a practice.
    IntegrationId,
    /// A practice's registered webhook endpoint.
    WebhookId,
);
