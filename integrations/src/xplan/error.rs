/// Why a call to XPLAN did not succeed. Messages never carry tokens or client data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XplanError {
    /// XPLAN refused the tokens even after one refresh: a practice manager must consent again.
    #[error("XPLAN consent has expired; a practice manager must reconnect the integration")]
    ConsentExpired,
    /// A refusal that retrying will not change (400, 403, 404, …).
    #[error("XPLAN refused the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// XPLAN stayed unreachable, slow or failing through every retry.
    #[error("XPLAN is unavailable after {attempts} attempt(s): {reason}")]
    Unavailable { attempts: u32, reason: String },
    #[error("XPLAN answered something Hearth cannot read: {0}")]
    Unreadable(String),
    #[error("the integration has no XPLAN tokens; a practice manager must connect it")]
    NotConnected,
    #[error("the token vault: {0}")]
    Vault(String),
    /// The forward host is or resolves to an address Hearth never calls (loopback, private,
    /// link-local, metadata): nothing was sent.
    #[error("Hearth does not connect to {0}: it is not a public XPLAN site address")]
    Forbidden(String),
}
