//! Every lower-layer error becomes a problem here, once: rules broken → 409/422, missing
//! rights → 403, unknown ids → 404, our own failures → 500 with the detail kept in the log.

use hearth_application::ExecError;
use hearth_domain::DomainError;
use hearth_eventstore::StoreError;
use hearth_projections::QueryError;

use crate::problem::Problem;

impl From<DomainError> for Problem {
    fn from(e: DomainError) -> Self {
        let detail = e.to_string();
        if e.is_not_found() {
            Problem::new(axum::http::StatusCode::NOT_FOUND, e.code(), detail)
        } else if e.is_forbidden() {
            Problem::forbidden(e.code(), detail)
        } else if matches!(
            e,
            DomainError::InvalidInput(_)
                | DomainError::WebhookUrlRefused(_)
                | DomainError::ReasonRequired(_)
        ) {
            Problem::unprocessable(e.code(), detail)
        } else {
            Problem::conflict(e.code(), detail)
        }
    }
}

impl From<ExecError> for Problem {
    fn from(e: ExecError) -> Self {
        match e {
            ExecError::Domain(d) => d.into(),
            ExecError::Rejected { index, error } => {
                let p: Problem = error.into();
                p.with_detail_prefix(&format!("item {index}: "))
            }
            ExecError::Contended => Problem::conflict("contended", e.to_string()),
            ExecError::Store(e) => e.into(),
            other => Problem::internal(&other),
        }
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        if let StoreError::SubjectErased(_) = e {
            // Erased by another instance between this command's decision and its append.
            let d = DomainError::HouseholdErased;
            Problem::conflict(d.code(), d.to_string())
        } else if is_outage(&e) {
            Problem::outage(&e)
        } else {
            Problem::internal(&e)
        }
    }
}

/// The database cannot be reached (down, restarting, refusing connections, pool exhausted):
/// a 503 the client may retry, not a 500.
fn is_outage(e: &StoreError) -> bool {
    let StoreError::Database(db) = e else {
        return false;
    };
    match db {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => true,
        // PostgreSQL class 08 (connection exception), 57P01–57P03 (admin shutdown, crash
        // shutdown, cannot connect now), 53300 (too many connections), 55000 (the database does not
        // accept connections); SQLite busy/locked.
        sqlx::Error::Database(d) => d.code().is_some_and(|c| {
            c.starts_with("08")
                || matches!(
                    &*c,
                    "57P01" | "57P02" | "57P03" | "53300" | "55000" | "5" | "6"
                )
        }),
        _ => false,
    }
}

impl From<QueryError> for Problem {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::PracticeNotFound => Problem::not_found("the practice"),
            QueryError::HouseholdNotFound => Problem::not_found("the household"),
            QueryError::StaffNotFound => Problem::not_found("the staff member"),
        }
    }
}

impl From<hearth_integrations::service::IntegrationError> for Problem {
    fn from(e: hearth_integrations::service::IntegrationError) -> Self {
        use hearth_integrations::{service::IntegrationError as E, xplan::XplanError as X};
        match e {
            E::Exec(e) => e.into(),
            E::SyncRunning => Problem::conflict("sync_running", e.to_string()),
            E::Disabled => Problem::conflict("integration_disabled", e.to_string()),
            E::BadRequest(detail) => Problem::bad_request("invalid_input", detail),
            E::Xplan(x @ (X::ConsentExpired | X::NotConnected)) => {
                Problem::conflict("xplan_consent_expired", x.to_string())
            }
            E::Xplan(x @ X::Unavailable { .. }) => Problem::new(
                axum::http::StatusCode::BAD_GATEWAY,
                "xplan_unavailable",
                x.to_string(),
            ),
            E::Xplan(x @ (X::Rejected { .. } | X::Unreadable(_))) => Problem::new(
                axum::http::StatusCode::BAD_GATEWAY,
                "xplan_refused",
                x.to_string(),
            ),
            E::Xplan(x @ X::Vault(_)) => Problem::internal(&x),
            E::Xplan(x @ X::Forbidden(_)) => {
                Problem::unprocessable("forward_host_refused", x.to_string())
            }
        }
    }
}
