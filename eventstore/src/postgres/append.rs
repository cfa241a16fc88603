//! Appends on PostgreSQL. The usual case is one statement, `hearth_append` (migration 0006),
//! planned from the heads this process already knows; it is its own transaction, so an append
//! costs one round trip. A head that moved meanwhile makes it write nothing and return the
//! actual heads; after a second miss the append locks the heads first, in a transaction.

use std::collections::HashSet;

use sqlx::{PgConnection, PgPool, Postgres, Row, Transaction};

use crate::{
    error::StoreError,
    heads::HeadCache,
    model::{AppendResult, Cursor, ExpectedVersion, StreamAppend},
    plan::{lock_order, new_heads, plan, recorded_at_now, Heads, Row as PlannedRow},
    signing::LogSigner,
};

/// Single-statement tries before falling back to locking: a guess from the cache, then the heads
/// the first try returned.
const TRIES: usize = 2;

pub(crate) async fn append(
    pool: &PgPool,
    appends: &[StreamAppend],
    signer: Option<&LogSigner>,
    known: &HeadCache,
) -> Result<AppendResult, StoreError> {
    if appends.iter().any(|a| !a.events.is_empty()) {
        let mut heads = known_heads(pool, appends, known).await?;
        for _ in 0..TRIES {
            match attempt(pool, appends, &heads, signer, known).await? {
                Outcome::Written(result, _) => return Ok(result),
                Outcome::Moved(actual) => heads = actual,
            }
        }
    }
    let mut tx = pool.begin().await?;
    let result = append_locked(&mut tx, appends, signer, false).await?;
    tx.commit()
        .await
        .map_err(|e| map_unique_violation(e.into()))?;
    Ok(result)
}

/// The heads an append is planned from: the ones this process knows, else read (unlocked).
pub(super) async fn known_heads(
    pool: &PgPool,
    appends: &[StreamAppend],
    known: &HeadCache,
) -> Result<Heads, StoreError> {
    match known.guess(appends) {
        Some(heads) => Ok(heads),
        None => read_heads(pool, appends, known).await,
    }
}

/// One try of the single statement, planned from `heads`; the heads it wrote or found are
/// recorded either way.
pub(super) async fn attempt(
    pool: &PgPool,
    appends: &[StreamAppend],
    heads: &Heads,
    signer: Option<&LogSigner>,
    known: &HeadCache,
) -> Result<Outcome, StoreError> {
    let rows = plan(appends, heads, recorded_at_now())?;
    let mut conn = pool.acquire().await?;
    let outcome = call(&mut conn, appends, heads, &rows, signer, false).await?;
    match &outcome {
        Outcome::Written(..) => known.record(
            new_heads(&rows)
                .iter()
                .map(|(s, v, h)| (s.as_str(), *v, *h)),
        ),
        Outcome::Moved(actual) => {
            known.record(actual.iter().map(|(s, (v, h))| (s.as_str(), *v, *h)))
        }
    }
    Ok(outcome)
}

/// Appends inside the caller's transaction; nothing is visible until the caller commits.
/// Subscribers of other processes are notified at that commit.
pub(crate) async fn append_in(
    tx: &mut Transaction<'_, Postgres>,
    appends: &[StreamAppend],
    signer: Option<&LogSigner>,
) -> Result<AppendResult, StoreError> {
    append_locked(tx, appends, signer, true).await
}

async fn append_locked(
    tx: &mut Transaction<'_, Postgres>,
    appends: &[StreamAppend],
    signer: Option<&LogSigner>,
    notify: bool,
) -> Result<AppendResult, StoreError> {
    let heads = lock_heads(tx, appends).await?;
    let rows = plan(appends, &heads, recorded_at_now())?;
    if rows.is_empty() {
        return Ok(AppendResult {
            first_position: 0,
            last_position: 0,
            cursor: Cursor::START,
            versions: vec![],
        });
    }
    match call(tx, appends, &heads, &rows, signer, notify).await? {
        Outcome::Written(result, _) => Ok(result),
        // The heads are locked by this transaction: they cannot have moved.
        Outcome::Moved(_) => Err(StoreError::Corrupt {
            position: 0,
            reason: "a locked stream head moved".into(),
        }),
    }
}

/// The current heads, unlocked: the plan is checked again under lock by `hearth_append`.
async fn read_heads(
    pool: &PgPool,
    appends: &[StreamAppend],
    known: &HeadCache,
) -> Result<Heads, StoreError> {
    let names: Vec<&str> = appends.iter().map(|a| a.stream.as_str()).collect();
    let rows = sqlx::query("SELECT stream, version, hash FROM streams WHERE stream = ANY($1)")
        .bind(&names)
        .fetch_all(pool)
        .await?;
    let heads = heads_from(rows.iter().map(|r| {
        Ok::<_, sqlx::Error>((
            r.try_get("stream")?,
            r.try_get("version")?,
            r.try_get("hash")?,
        ))
    }))?;
    known.record(heads.iter().map(|(s, (v, h))| (s.as_str(), *v, *h)));
    Ok(heads)
}

/// Writers lock their streams FOR UPDATE; pure version checks FOR SHARE, which still blocks a
/// concurrent writer of that stream until this append commits.
async fn lock_heads(
    tx: &mut Transaction<'_, Postgres>,
    appends: &[StreamAppend],
) -> Result<Heads, StoreError> {
    let writing: HashSet<&str> = appends
        .iter()
        .filter(|a| !a.events.is_empty())
        .map(|a| a.stream.as_str())
        .collect();
    let (write, check): (Vec<String>, Vec<String>) = lock_order(appends)
        .into_iter()
        .partition(|s| writing.contains(s.as_str()));
    let mut heads = Heads::new();
    for (names, mode) in [(write, "UPDATE"), (check, "SHARE")] {
        if names.is_empty() {
            continue;
        }
        let sql = format!("SELECT stream, version, hash FROM streams WHERE stream = ANY($1) ORDER BY stream FOR {mode}");
        let rows = sqlx::query(&sql).bind(&names).fetch_all(&mut **tx).await?;
        heads.extend(heads_from(rows.iter().map(|r| {
            Ok::<_, sqlx::Error>((
                r.try_get("stream")?,
                r.try_get("version")?,
                r.try_get("hash")?,
            ))
        }))?);
    }
    Ok(heads)
}

fn heads_from(
    rows: impl Iterator<Item = Result<(String, i64, Vec<u8>), sqlx::Error>>,
) -> Result<Heads, StoreError> {
    let mut heads = Heads::new();
    for row in rows {
        let (stream, version, hash) = row?;
        let hash: [u8; 32] = hash.try_into().map_err(|_| StoreError::Corrupt {
            position: 0,
            reason: "stream head hash".into(),
        })?;
        heads.insert(stream, (version, hash));
    }
    Ok(heads)
}

pub(super) enum Outcome {
    /// The result, and every event's position in the order of the rows.
    Written(AppendResult, Vec<i64>),
    /// A head was not what the rows were planned from: nothing was written. The actual heads.
    Moved(Heads),
}

/// One call of `hearth_append`: the rows planned from `heads`, signed in row order.
async fn call(
    conn: &mut PgConnection,
    appends: &[StreamAppend],
    heads: &Heads,
    rows: &[PlannedRow<'_>],
    signer: Option<&LogSigner>,
    notify: bool,
) -> Result<Outcome, StoreError> {
    let (mut w_streams, mut w_versions, mut w_hashes) = (vec![], vec![], vec![]);
    let (mut c_streams, mut c_versions) = (vec![], vec![]);
    for a in appends {
        if a.events.is_empty() {
            c_streams.push(a.stream.as_str());
            c_versions.push(match a.expected {
                ExpectedVersion::NoStream => None,
                ExpectedVersion::Exact(n) => Some(n),
                ExpectedVersion::Any => Some(-1),
            });
        } else {
            let head = heads.get(&a.stream);
            w_streams.push(a.stream.as_str());
            w_versions.push(head.map(|h| h.0));
            w_hashes.push(head.map(|h| h.1.to_vec()));
        }
    }
    let n = rows.len();
    let mut streams = Vec::with_capacity(n);
    let mut versions = Vec::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    let mut types = Vec::with_capacity(n);
    let mut schema = Vec::with_capacity(n);
    let mut data = Vec::with_capacity(n);
    let mut meta = Vec::with_capacity(n);
    let mut at = Vec::with_capacity(n);
    let mut hashes = Vec::with_capacity(n);
    for r in rows {
        streams.push(r.stream);
        versions.push(r.version);
        ids.push(r.event.event_id);
        types.push(r.event.event_type.as_str());
        schema.push(r.event.schema_version);
        data.push(&r.event.data);
        meta.push(serde_json::to_value(&r.event.metadata)?);
        at.push(r.recorded_at);
        hashes.push(r.hash.to_vec());
    }
    let (key_id, signature) = match signer {
        Some(s) => {
            let chained: Vec<[u8; 32]> = rows.iter().map(|r| r.hash).collect();
            (Some(s.key_id()), Some(s.sign_append(&chained)))
        }
        None => (None, None),
    };
    let row = sqlx::query(
        "SELECT * FROM hearth_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&w_streams)
    .bind(&w_versions)
    .bind(&w_hashes)
    .bind(&c_streams)
    .bind(&c_versions)
    .bind(&streams)
    .bind(&versions)
    .bind(&ids)
    .bind(&types)
    .bind(&schema)
    .bind(&data)
    .bind(&meta)
    .bind(&at)
    .bind(&hashes)
    .bind(key_id)
    .bind(signature)
    .bind(notify)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| map_unique_violation(e.into()))?;

    let first: Option<i64> = row.try_get("first_position")?;
    let Some(first) = first else {
        let names: Vec<String> = row.try_get("head_streams")?;
        let versions: Vec<i64> = row.try_get("head_versions")?;
        let hashes: Vec<Vec<u8>> = row.try_get("head_hashes")?;
        return Ok(Outcome::Moved(heads_from(
            names
                .into_iter()
                .zip(versions.into_iter().zip(hashes))
                .map(|(s, (v, h))| Ok((s, v, h))),
        )?));
    };
    let last: i64 = row.try_get("last_position")?;
    let positions: Vec<i64> = row.try_get("positions")?;
    Ok(Outcome::Written(
        AppendResult {
            first_position: first,
            last_position: last,
            cursor: Cursor {
                tx: row.try_get("tx")?,
                position: last,
            },
            versions: new_heads(rows)
                .into_iter()
                .map(|(s, v, _)| (s, v))
                .collect(),
        },
        positions,
    ))
}

/// Two writers that both created the same new stream meet at the (stream, version) key.
pub(super) fn map_unique_violation(e: StoreError) -> StoreError {
    if let StoreError::Database(sqlx::Error::Database(db)) = &e {
        if db.code().as_deref() == Some("23505") {
            return match db.constraint() {
                Some("events_event_id_key") => StoreError::DuplicateEventId(uuid::Uuid::nil()),
                _ => StoreError::Conflict {
                    stream: String::new(),
                    expected: crate::model::ExpectedVersion::Any,
                    actual: None,
                },
            };
        }
    }
    e
}
