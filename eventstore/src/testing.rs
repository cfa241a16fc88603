//! Fresh databases for tests. Tests that need PostgreSQL read `HEARTH_TEST_DATABASE_URL` (an
//! admin URL) and FAIL, naming the variable, when it is unset or unreachable — never skip.

use uuid::Uuid;

use crate::{error::StoreError, store::EventStore};

pub const PG_VAR: &str = "HEARTH_TEST_DATABASE_URL";

/// A PostgreSQL database of its own, dropped when this value is dropped (also after a panic).
pub struct TestDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let admin_url = std::env::var(PG_VAR)
            .unwrap_or_else(|_| panic!("{PG_VAR} is not set: point it at a PostgreSQL admin URL, e.g. postgres://postgres@127.0.0.1:5432/postgres (scripts/test sets it)"));
        let name = format!("hearth_test_{}", Uuid::new_v4().simple());
        let mut admin = connect_admin(&admin_url).await;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create a test database via {PG_VAR}: {e}"));
        let url = with_database(&admin_url, &name);
        TestDatabase {
            url,
            admin_url,
            name,
        }
    }

    pub async fn store(&self) -> EventStore {
        EventStore::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open the test database: {e}"))
    }
}

async fn connect_admin(admin_url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {PG_VAR}={admin_url} is unreachable: {e}"))
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut c)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Replaces the database name in a `postgres://…/name?params` URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A SQLite store in a fresh temporary file (removed on drop).
pub struct TestSqlite {
    pub path: std::path::PathBuf,
    pub url: String,
}

impl TestSqlite {
    pub fn new() -> TestSqlite {
        let path = std::env::temp_dir().join(format!("hearth-test-{}.db", Uuid::new_v4().simple()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        TestSqlite { path, url }
    }

    pub async fn store(&self) -> Result<EventStore, StoreError> {
        EventStore::connect(&self.url).await
    }
}

impl Default for TestSqlite {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestSqlite {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

/// Runs one async test body against a fresh PostgreSQL database and a fresh SQLite file.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = hearth_eventstore::testing::TestDatabase::create().await;
                    super::$name(db.store().await).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let file = hearth_eventstore::testing::TestSqlite::new();
                    super::$name(file.store().await.expect("open SQLite")).await;
                }
            )*
        }
    };
}

/// CPU seconds the whole machine has spent busy (all cores, the database included), from
/// /proc/stat; 0 where there is none. On a small shared VM, work per event measured this way is
/// steadier than events per second, which also moves with what the host gives the VM.
pub fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    let busy: f64 = fields
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4 && *i < 8)
        .map(|(_, v)| v)
        .sum();
    // USER_HZ is 100 on Linux.
    busy / 100.0
}

/// Opens a log without migrating it or checking its schema: for tests that set up a log at an
/// older schema and then migrate it.
pub async fn open_unmigrated(url: &str) -> Result<EventStore, StoreError> {
    EventStore::open_as_it_is(url).await
}

/// Stores a checkpoint as the service would, for tests that set up a log by hand (an older
/// schema's, say) where signing one through the tree is not possible.
pub async fn store_checkpoint(
    store: &EventStore,
    checkpoint: &crate::Checkpoint,
) -> Result<(), StoreError> {
    store.insert_checkpoint(checkpoint).await.map(drop)
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_are_replaced_and_parameters_kept() {
        assert_eq!(
            super::with_database("postgres://u@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
    }
}
