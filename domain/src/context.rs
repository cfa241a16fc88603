//! Who is deciding, and when. Time is passed in: the domain never reads a clock.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::StaffId;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    Staff(StaffId),
    /// The platform operator: creates practices, nothing else.
    Operator,
    /// A worker acting on its own, e.g. `xplan-sync` or `client-portal`.
    System(String),
}

impl Actor {
    pub fn staff(&self) -> Option<StaffId> {
        match self {
            Actor::Staff(s) => Some(*s),
            _ => None,
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Staff(s) => write!(f, "{s}"),
            Actor::Operator => f.write_str("operator"),
            Actor::System(name) => write!(f, "system:{name}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CommandContext {
    pub actor: Actor,
    pub now: DateTime<Utc>,
    pub reason: Option<String>,
}

impl CommandContext {
    pub fn new(actor: Actor, now: DateTime<Utc>) -> Self {
        Self {
            actor,
            now,
            reason: None,
        }
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn meta(&self) -> EventMeta {
        EventMeta {
            actor: self.actor.clone(),
            at: self.now,
            reason: self.reason.clone(),
        }
    }
}

/// Carried by every event: who did it, when, and why (if they said).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventMeta {
    pub actor: Actor,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
