//! A stateful, in-memory XPLAN that speaks exactly the shape of `crate::xplan::shape`: OAuth with
//! one-time codes and rotating refresh tokens, clients with bookmarks, sub-lists, users, file
//! notes with attachments (kept so tests can read them), and fault injection per route.
//! A test double and a demo aid (`hearth fake-xplan`); never a production target.

mod faults;
mod routes;
mod seed;
mod state;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

pub use faults::{Fault, Route};
pub use state::{FakeClient, FakeSettings, RecordedAttachment, RecordedNote};

use state::Inner;

#[derive(Clone)]
pub struct FakeXplan {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl FakeXplan {
    /// Serves on `bind` (port 0: any free port) until the process ends.
    pub async fn start(bind: SocketAddr, settings: FakeSettings) -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner::new(settings)));
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let app = routes::router(inner.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "the fake XPLAN server stopped");
            }
        });
        Ok(Self { addr, inner })
    }

    /// The "forward host" an integration would be configured with.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Adds `clients` generated clients (ids continue after the existing ones), each with
    /// `policies` insurance policies, spread over a few advisers.
    pub fn seed(&self, clients: usize, policies: usize) {
        self.with(|i| seed::generate(i, clients, policies))
    }

    pub fn put_client(&self, client: FakeClient) {
        self.with(|i| {
            i.clients.insert(client.id, client);
        })
    }

    /// Changes a client in place, as an adviser editing it in XPLAN would.
    pub fn edit_client(&self, id: u64, f: impl FnOnce(&mut FakeClient)) {
        self.with(|i| {
            if let Some(c) = i.clients.get_mut(&id) {
                f(c)
            }
        })
    }

    pub fn client_ids(&self) -> Vec<u64> {
        self.with(|i| i.clients.keys().copied().collect())
    }

    pub fn put_user(&self, id: u64, first_name: &str, last_name: &str, email: &str) {
        self.with(|i| i.put_user(id, first_name, last_name, email))
    }

    /// Fails the next `times` calls to `route` with `fault`.
    pub fn inject(&self, route: Route, fault: Fault, times: u32) {
        self.inject_after(route, 0, fault, times)
    }

    /// As [`Self::inject`], after letting `skip` calls through first (e.g. "page 2 fails once").
    pub fn inject_after(&self, route: Route, skip: u32, fault: Fault, times: u32) {
        self.with(|i| i.faults.add(route, skip, fault, times))
    }

    pub fn clear_faults(&self) {
        self.with(|i| i.faults.clear())
    }

    /// Calls answered (or failed) on a route so far.
    pub fn calls(&self, route: Route) -> u64 {
        self.with(|i| i.faults.calls(route))
    }

    /// The most calls `Fault::Latency` held at once so far: how many the caller had in flight
    /// side by side.
    pub fn most_held_at_once(&self) -> u64 {
        self.with(|i| i.faults.most_held())
    }

    pub fn notes(&self) -> Vec<RecordedNote> {
        self.with(|i| i.notes.clone())
    }

    /// Every access token stops working now (the next call gets 401; a refresh still works).
    pub fn expire_access_tokens(&self) {
        self.with(|i| i.access.clear())
    }

    /// The practice revoked Hearth's access in XPLAN: access and refresh tokens stop working.
    pub fn revoke_consent(&self) {
        self.with(|i| {
            i.access.clear();
            i.refresh.clear();
        })
    }

    /// Simulates the consent screen: what XPLAN would put on the redirect for this `state`.
    pub fn consent(&self, state: &str) -> String {
        self.with(|i| i.issue_code(state))
    }
}
