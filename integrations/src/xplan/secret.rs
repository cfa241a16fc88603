use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A credential. Its Debug and Display never show it, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The OAuth tokens of one integration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: Secret,
    pub refresh_token: Secret,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_output_never_shows_a_token() {
        let t = super::Tokens {
            access_token: super::Secret::new("at-very-secret"),
            refresh_token: super::Secret::new("rt-very-secret"),
            expires_at: chrono::Utc::now(),
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
    }
}
