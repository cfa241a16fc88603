//! The event store: one type over both backends.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use sqlx::{PgPool, SqlitePool};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{
    error::StoreError,
    heads::HeadCache,
    model::{
        AppendResult, Cursor, ExpectedVersion, LogAnchor, NewEvent, RecordedEvent, StreamAppend,
    },
    personal::{MasterKeys, PersonalData, PersonalDataPolicy, WrappedKey},
    plan::validate,
    postgres,
    raw::RawEvent,
    signing::LogSigner,
    sqlite,
    upcast::{NoUpcast, Upcaster},
};

#[derive(Clone, Debug)]
pub enum Backend {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// Calls the same-named function of whichever backend the store runs on.
macro_rules! on_backend {
    ($self:expr, $f:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Postgres(pool) => postgres::$f(pool $(, $arg)*).await,
            Backend::Sqlite(pool) => sqlite::$f(pool $(, $arg)*).await,
        }
    };
}

/// Runs one piece of code on whichever pool the store has: for SQL that both dialects accept as
/// written (SQLite takes PostgreSQL's `$1` placeholders), so the text and its binds exist once.
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Postgres($pool) => $body,
            $crate::store::Backend::Sqlite($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

#[derive(Clone)]
pub struct EventStore {
    pub(crate) backend: Backend,
    pub(crate) upcaster: Arc<dyn Upcaster>,
    /// Last position appended through this process: wakes local subscribers at once.
    pub(crate) appended: Arc<watch::Sender<i64>>,
    /// Signs every append when set (the service always sets it; see [`EventStore::with_signer`]).
    pub(crate) signer: Option<Arc<LogSigner>>,
    /// Stream heads seen here, so an append can be planned before it reaches the database.
    pub(crate) heads: Arc<HeadCache>,
    /// Started by the first append (PostgreSQL): tells other processes about this one's appends.
    notifier: Arc<OnceLock<()>>,
    /// Started by the first append (PostgreSQL): writes concurrent appends in groups.
    grouper: Arc<OnceLock<postgres::Grouper>>,
    /// Seals personal values on append and opens them on read, when configured.
    pub(crate) personal: Option<Arc<PersonalData>>,
}

impl EventStore {
    /// Connects and migrates. `postgres://…` for production; `sqlite://path?mode=rwc` or
    /// `sqlite::memory:` for the embedded default and tests.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(postgres::connect(url).await?)
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite(sqlite::connect(url).await?)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        Ok(Self::on(backend))
    }

    pub(crate) fn on(backend: Backend) -> Self {
        Self {
            backend,
            upcaster: Arc::new(NoUpcast),
            appended: Arc::new(watch::channel(0).0),
            signer: None,
            heads: Arc::default(),
            notifier: Arc::default(),
            grouper: Arc::default(),
            personal: None,
        }
    }

    /// Personal values (as `policy` says) are sealed with their subject's key from now on, and
    /// opened on every read; the subjects' keys are wrapped by `master`.
    pub fn with_personal_data(
        mut self,
        policy: Arc<dyn PersonalDataPolicy>,
        master: MasterKeys,
    ) -> Self {
        self.personal = Some(Arc::new(PersonalData::new(
            self.backend.clone(),
            policy,
            master,
        )));
        self
    }

    fn personal(&self) -> Result<&PersonalData, StoreError> {
        self.personal.as_deref().ok_or(StoreError::PersonalDataOff)
    }

    /// Destroys `subject`'s key, so its sealed values read as erased from now on, and deletes
    /// its sealed documents. Idempotent; returns whether a live key was destroyed by this call.
    pub async fn erase_subject(
        &self,
        subject: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let destroyed = self.personal()?.erase(subject, at).await?;
        with_pool!(self, |pool| sqlx::query(
            "DELETE FROM sealed_blobs WHERE subject = $1"
        )
        .bind(subject)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(destroyed)
    }

    /// Fails, naming the key id, when some subject key is wrapped by a master key that is not
    /// configured (the service would otherwise show those subjects as erased).
    pub async fn check_master_keys(&self) -> Result<(), StoreError> {
        self.personal()?.keys().check_openable().await
    }

    /// Re-wraps every subject key under the current master key (after a rotation).
    pub async fn rewrap_subject_keys(&self) -> Result<u64, StoreError> {
        self.personal()?.keys().rewrap().await
    }

    /// The wrapped subject keys, for a backup (they open only with the master key).
    pub async fn wrapped_subject_keys(&self) -> Result<Vec<WrappedKey>, StoreError> {
        self.personal()?.keys().all().await
    }

    /// Every append from now on is signed with this key, so the tree builder and auditors can
    /// tell events this service wrote from rows written around it.
    pub fn with_signer(mut self, signer: Arc<LogSigner>) -> Self {
        self.signer = Some(signer);
        self
    }

    pub fn signer(&self) -> Option<&LogSigner> {
        self.signer.as_deref()
    }

    pub fn with_upcaster(mut self, upcaster: Arc<dyn Upcaster>) -> Self {
        self.upcaster = upcaster;
        self
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        self.append_many(vec![StreamAppend {
            stream: stream.to_string(),
            expected,
            events,
        }])
        .await
    }

    /// Appends to several streams atomically: all or nothing. Re-sending an append whose event
    /// ids are already stored (with the same content) returns the original result and writes nothing.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn append_many(
        &self,
        appends: Vec<StreamAppend>,
    ) -> Result<AppendResult, StoreError> {
        validate(&appends)?;
        let sealed = self.seal_personal(&appends).await?;
        let written = sealed.as_deref().unwrap_or(&appends);
        let signer = self.signer.as_deref();
        let outcome = match &self.backend {
            Backend::Postgres(pool) => {
                let grouper = self
                    .grouper
                    .get_or_init(|| postgres::Grouper::start(pool.clone(), self.heads.clone()));
                grouper
                    .append(pool, written, self.signer.clone(), &self.heads)
                    .await
            }
            Backend::Sqlite(pool) => sqlite::append(pool, written, signer).await,
        };
        match outcome {
            Ok(result) => {
                if result.last_position > 0 {
                    if let Backend::Postgres(pool) = &self.backend {
                        self.notifier.get_or_init(|| {
                            postgres::spawn_notifier(pool.clone(), self.appended.subscribe())
                        });
                    }
                    self.appended.send_replace(result.last_position);
                }
                Ok(result)
            }
            Err(e @ (StoreError::Conflict { .. } | StoreError::DuplicateEventId(_))) => {
                self.resolve_rejected(&appends, e).await
            }
            Err(e) => Err(e),
        }
    }

    /// A rejected append is either a re-send of one already stored (answer as before) or a real
    /// conflict, which is reported with the stream's actual version.
    async fn resolve_rejected(
        &self,
        appends: &[StreamAppend],
        error: StoreError,
    ) -> Result<AppendResult, StoreError> {
        let ids: Vec<Uuid> = appends
            .iter()
            .flat_map(|a| a.events.iter().map(|e| e.event_id))
            .collect();
        let stored = if ids.is_empty() {
            vec![]
        } else {
            on_backend!(self, events_by_id(&ids))?
        };
        // Compared with what was sent, in clear (sealing draws a fresh nonce each time).
        let stored = self.open_personal(stored).await?;
        if !stored.is_empty() {
            return already_appended(appends, &stored);
        }
        for a in appends {
            let actual = self.stream_version(&a.stream).await?;
            if !a.expected.admits(actual) {
                return Err(StoreError::Conflict {
                    stream: a.stream.clone(),
                    expected: a.expected,
                    actual,
                });
            }
        }
        match error {
            StoreError::Conflict {
                stream,
                expected,
                actual,
            } if stream.is_empty() => {
                let first = appends
                    .iter()
                    .find(|a| !a.events.is_empty())
                    .map(|a| a.stream.clone())
                    .unwrap_or_default();
                Err(StoreError::Conflict {
                    stream: first,
                    expected,
                    actual,
                })
            }
            other => Err(other),
        }
    }

    /// PostgreSQL only: appends inside a transaction the caller holds, so other writes (e.g. a
    /// projection's own rows) commit with the events or not at all. Expected versions are checked
    /// and stream heads locked as in [`EventStore::append_many`]; re-sends are not resolved here.
    pub async fn append_in_transaction(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        appends: Vec<StreamAppend>,
    ) -> Result<AppendResult, StoreError> {
        validate(&appends)?;
        let sealed = self.seal_personal(&appends).await?;
        let written = sealed.as_deref().unwrap_or(&appends);
        postgres::append_in(tx, written, self.signer.as_deref()).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(stream = %stream), err(level = "debug"))]
    pub async fn read_stream(
        &self,
        stream: &str,
        from_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let raw = on_backend!(self, read_stream(stream, from_version))?;
        if let Some(last) = raw.last() {
            if let (true, Ok(hash)) = (self.is_postgres(), <[u8; 32]>::try_from(&last.hash[..])) {
                self.heads
                    .record([(last.stream.as_str(), last.version, hash)]);
            }
        }
        self.open_all(raw).await
    }

    /// One event by its id (e.g. to publish it again), upcast like every read.
    #[tracing::instrument(level = "debug", skip_all, fields(event = %id), err(level = "debug"))]
    pub async fn event_by_id(&self, id: Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        let raw = on_backend!(self, events_by_id(&[id]))?;
        Ok(self.open_all(raw).await?.into_iter().next())
    }

    /// Events after `after`, in subscription order, at most `limit`. On PostgreSQL only events of
    /// transactions older than every running one are returned, so a reader never moves past an
    /// event that could still commit.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn read_all(
        &self,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let raw = self.read_all_raw(after, limit).await?;
        self.open_all(raw).await
    }

    pub(crate) async fn read_all_raw(
        &self,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<RawEvent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        on_backend!(self, read_all(after, limit))
    }

    /// The newest deliverable cursor.
    pub async fn head(&self) -> Result<Cursor, StoreError> {
        on_backend!(self, head())
    }

    /// The newest committed event. A reader that reaches it has seen everything committed
    /// before this call (on PostgreSQL it may have to wait for older transactions to end).
    pub async fn committed_head(&self) -> Result<Cursor, StoreError> {
        on_backend!(self, committed_head())
    }

    /// Turns a position (the token commands return) into the cursor a reader must reach.
    pub async fn cursor_of(&self, position: i64) -> Result<Option<Cursor>, StoreError> {
        on_backend!(self, cursor_of(position))
    }

    /// The stored hash of the event at `at` and the count of events up to it, to check that a
    /// copy of derived state (a projection snapshot) still belongs to this log.
    pub async fn anchor(&self, at: Cursor) -> Result<Option<LogAnchor>, StoreError> {
        on_backend!(self, anchor(at))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(name), err(level = "debug"))]
    pub async fn save_checkpoint(&self, name: &str, at: Cursor) -> Result<(), StoreError> {
        on_backend!(self, save_checkpoint(name, at))
    }

    async fn seal_personal(
        &self,
        appends: &[StreamAppend],
    ) -> Result<Option<Vec<StreamAppend>>, StoreError> {
        match &self.personal {
            Some(p) => p.seal(appends).await,
            None => Ok(None),
        }
    }

    async fn open_personal(&self, raw: Vec<RawEvent>) -> Result<Vec<RawEvent>, StoreError> {
        match &self.personal {
            Some(p) => p.clone().open(raw).await,
            None => Ok(raw),
        }
    }

    /// Stored rows as readers see them: personal values opened, then upcast.
    pub(crate) async fn open_all(
        &self,
        raw: Vec<RawEvent>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.open_personal(raw)
            .await?
            .into_iter()
            .map(|r| r.into_recorded(self.upcaster.as_ref()))
            .collect()
    }
}

fn already_appended(
    appends: &[StreamAppend],
    stored: &[RawEvent],
) -> Result<AppendResult, StoreError> {
    let sent: Vec<(&str, &NewEvent)> = appends
        .iter()
        .flat_map(|a| a.events.iter().map(move |e| (a.stream.as_str(), e)))
        .collect();
    for (stream, event) in &sent {
        let same = stored
            .iter()
            .find(|s| s.event_id == event.event_id)
            .is_some_and(|s| {
                s.stream == *stream
                    && s.event_type == event.event_type
                    && s.schema_version == event.schema_version
                    && s.data == event.data
            });
        if !same {
            return Err(StoreError::DuplicateEventId(event.event_id));
        }
    }
    let last = stored
        .iter()
        .max_by_key(|s| s.position)
        .map(|s| s.cursor())
        .unwrap_or_default();
    let mut versions: Vec<(String, i64)> = Vec::new();
    for s in stored {
        match versions.iter_mut().find(|(name, _)| *name == s.stream) {
            Some(v) => v.1 = v.1.max(s.version),
            None => versions.push((s.stream.clone(), s.version)),
        }
    }
    Ok(AppendResult {
        first_position: stored.iter().map(|s| s.position).min().unwrap_or(0),
        last_position: last.position,
        cursor: last,
        versions,
    })
}
