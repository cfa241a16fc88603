//! Projection snapshots: a model loaded from a snapshot and caught up answers exactly as one
//! replayed from the log; a snapshot that no longer matches the log (replaced, rewritten,
//! truncated) or of another format is discarded and the model replayed in full.

use std::{collections::BTreeSet, time::Duration};

use chrono::{DateTime, TimeZone, Utc};
use hearth_application::CommandExecutor;
use hearth_domain::{
    household::{HouseholdCommand, NewMember},
    practice::{NewStaff, PracticeCommand},
    roles::{HouseholdRole, PracticeRole},
    Actor, CommandContext, HouseholdId, MemberId, PracticeId, StaffId,
};
use hearth_eventstore::{testing::TestSqlite, Backend, Cursor, EventStore, LogAnchor};
use hearth_projections::{
    build_from_log,
    snapshot::{
        check_against_log, decode, encode, encode_to, read_header, Discard, FORMAT_VERSION,
    },
    AccessModel, Projection, SnapshotDir, SnapshotPolicy,
};

fn t(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(minute.into())
}

fn ctx(actor: Actor, minute: u32) -> CommandContext {
    CommandContext::new(actor, t(minute))
}

/// A log with every kind of fact the model keeps: staff and their roles, households with
/// members, grants changed and revoked, a temporary grant still pending and one expired.
async fn varied_log(store: &EventStore, households: u32) {
    let exec = CommandExecutor::new(store.clone());
    let (p, owner) = (PracticeId::new(), StaffId::new());
    let create = PracticeCommand::CreatePractice {
        practice_id: p,
        name: "Snapshots".into(),
        owner: NewStaff {
            staff_id: owner,
            name: "Owner".into(),
            email: format!("owner-{p}@example.com"),
        },
        licences: 20,
    };
    exec.practice(p, create, &ctx(Actor::Operator, 0))
        .await
        .unwrap();
    let mut staff = Vec::new();
    for (i, role) in [PracticeRole::Professional, PracticeRole::Professional]
        .into_iter()
        .enumerate()
    {
        let s = StaffId::new();
        let invite = PracticeCommand::InviteStaff {
            staff: NewStaff {
                staff_id: s,
                name: format!("Staff {i}"),
                email: format!("s{i}-{p}@example.com"),
            },
            role,
            branch: None,
        };
        exec.practice(p, invite, &ctx(Actor::Staff(owner), 1))
            .await
            .unwrap();
        exec.practice(
            p,
            PracticeCommand::ActivateStaff { staff_id: s },
            &ctx(Actor::Staff(s), 1),
        )
        .await
        .unwrap();
        staff.push(s);
    }
    let (adviser, other) = (staff[0], staff[1]);
    for n in 0..households {
        let h = HouseholdId::new();
        let minute = 2 + n * 10;
        let client = NewMember {
            member_id: MemberId::new(),
            first_name: "Casey".into(),
            last_name: format!("Client {n}"),
            email: Some(format!("c{n}@example.com")),
            title: None,
        };
        let create = HouseholdCommand::CreateHousehold {
            client,
            partner: None,
            branch: None,
            status: None,
        };
        let run = |cmd: HouseholdCommand, minute: u32| {
            let exec = exec.clone();
            async move {
                exec.household(p, h, cmd, &ctx(Actor::Staff(owner), minute))
                    .await
                    .unwrap();
            }
        };
        exec.household(p, h, create, &ctx(Actor::Staff(adviser), minute))
            .await
            .unwrap();
        match n % 3 {
            0 => {
                run(
                    HouseholdCommand::GrantStaffAccess {
                        staff_id: other,
                        role: HouseholdRole::Paraplanner,
                    },
                    minute + 1,
                )
                .await;
                run(
                    HouseholdCommand::ChangeStaffRole {
                        staff_id: other,
                        role: HouseholdRole::ReadOnly,
                    },
                    minute + 2,
                )
                .await;
                run(
                    HouseholdCommand::RevokeStaffAccess { staff_id: other },
                    minute + 3,
                )
                .await;
            }
            1 => {
                run(
                    HouseholdCommand::GrantTemporaryAccess {
                        staff_id: other,
                        role: HouseholdRole::Professional,
                        expires_at: t(minute + 5),
                    },
                    minute + 1,
                )
                .await;
                exec.household(
                    p,
                    h,
                    HouseholdCommand::ExpireStaffAccess { staff_id: other },
                    &ctx(Actor::System("grant-expiry".into()), minute + 6),
                )
                .await
                .unwrap();
            }
            _ => {
                run(
                    HouseholdCommand::GrantTemporaryAccess {
                        staff_id: other,
                        role: HouseholdRole::Paraplanner,
                        expires_at: t(100_000),
                    },
                    minute + 1,
                )
                .await;
            }
        }
    }
}

async fn all_events(store: &EventStore) -> Vec<hearth_eventstore::RecordedEvent> {
    store.read_all(Cursor::START, 1_000_000).await.unwrap()
}

fn policy(dir: &std::path::Path) -> SnapshotPolicy {
    SnapshotPolicy {
        dir: SnapshotDir::new(dir),
        every_events: 0,
        interval: Duration::ZERO,
    }
}

fn scratch_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("hearth-snap-{}", uuid::Uuid::new_v4()))
}

/// The first `n` events of the log, applied as replay does.
fn model_of(events: &[hearth_eventstore::RecordedEvent], n: usize) -> AccessModel {
    let mut m = AccessModel::default();
    for e in &events[..n] {
        m.apply(e);
    }
    m
}

async fn started(store: &EventStore, dir: &std::path::Path) -> Projection {
    let projection = Projection::start_with(store.clone(), Some(policy(dir)))
        .await
        .unwrap();
    assert!(projection.wait_ready(Duration::from_secs(10)).await);
    projection
}

#[tokio::test]
async fn a_model_loaded_from_a_snapshot_and_caught_up_equals_a_full_replay() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    varied_log(&store, 9).await;
    let events = all_events(&store).await;
    let whole = build_from_log(&store).await.unwrap();
    for n in [
        0,
        1,
        events.len() / 3,
        events.len() / 2,
        events.len() - 1,
        events.len(),
    ] {
        let part = model_of(&events, n);
        let (header, mut loaded) = decode(&encode(&part).unwrap()).unwrap();
        assert_eq!(header.format, FORMAT_VERSION);
        assert_eq!(loaded, part, "the snapshot of {n} events round-trips");
        for e in &events[n..] {
            loaded.apply(e);
        }
        assert_eq!(
            loaded, whole,
            "snapshot at {n} events, then the rest, equals a replay"
        );
        assert_eq!(loaded.due_expiries(t(1_000)), whole.due_expiries(t(1_000)));
    }
}

#[tokio::test]
async fn the_projection_starts_from_a_matching_snapshot_and_catches_up() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    varied_log(&store, 6).await;
    let dir = scratch_dir();
    let first = started(&store, &dir).await;
    assert_eq!(first.started_from_snapshot(), None, "no snapshot yet");
    first.write_snapshot().await;
    let covered = first.cursor();
    drop(first);
    varied_log(&store, 3).await;

    let second = started(&store, &dir).await;
    assert_eq!(second.started_from_snapshot(), Some(covered));
    let head = store.head().await.unwrap();
    second
        .wait_for(head, Duration::from_secs(10))
        .await
        .unwrap();
    let replayed = build_from_log(&store).await.unwrap();
    assert_eq!(*second.read(), replayed);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_snapshot_of_another_log_is_discarded_and_the_model_replayed() {
    let (a, b) = (TestSqlite::new(), TestSqlite::new());
    let (store_a, store_b) = (a.store().await.unwrap(), b.store().await.unwrap());
    varied_log(&store_a, 3).await;
    varied_log(&store_b, 6).await;
    let dir = scratch_dir();
    started(&store_a, &dir).await.write_snapshot().await;

    let on_b = started(&store_b, &dir).await;
    assert_eq!(
        on_b.started_from_snapshot(),
        None,
        "another log's snapshot is not used"
    );
    let replayed = build_from_log(&store_b).await.unwrap();
    assert_eq!(*on_b.read(), replayed);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_snapshot_whose_event_was_rewritten_in_the_log_is_discarded() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    varied_log(&store, 3).await;
    let dir = scratch_dir();
    let first = started(&store, &dir).await;
    first.write_snapshot().await;
    let at = first.cursor();
    drop(first);
    let Backend::Sqlite(pool) = store.backend() else {
        unreachable!()
    };
    // Whoever can write the database file can do this; the snapshot must notice.
    for trigger in ["events_no_update", "events_append_only"] {
        let _ = sqlx::query(&format!("DROP TRIGGER IF EXISTS {trigger}"))
            .execute(pool)
            .await;
    }
    let triggers: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for trigger in triggers {
        sqlx::query(&format!("DROP TRIGGER {trigger}"))
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE events SET hash = zeroblob(32) WHERE position = ?")
        .bind(at.position)
        .execute(pool)
        .await
        .unwrap();

    let again = started(&store, &dir).await;
    assert_eq!(again.started_from_snapshot(), None);
    let replayed = build_from_log(&store).await.unwrap();
    assert_eq!(*again.read(), replayed);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_snapshot_of_an_older_format_is_discarded() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    varied_log(&store, 3).await;
    let dir = scratch_dir();
    started(&store, &dir).await.write_snapshot().await;
    let snapshots = SnapshotDir::new(&dir);
    let mut bytes = std::fs::read(snapshots.path()).expect("a snapshot was written");
    bytes[8..12].copy_from_slice(&(FORMAT_VERSION - 1).to_le_bytes());
    assert_eq!(
        read_header(&bytes).unwrap_err(),
        Discard::OtherFormat {
            found: FORMAT_VERSION - 1,
            expected: FORMAT_VERSION
        }
    );
    snapshots
        .write_with(|out| std::io::Write::write_all(out, &bytes))
        .unwrap();

    let again = started(&store, &dir).await;
    assert_eq!(again.started_from_snapshot(), None);
    let replayed = build_from_log(&store).await.unwrap();
    assert_eq!(*again.read(), replayed);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_log_must_hold_the_covered_event_with_its_hash_and_count() {
    let mut model = AccessModel::default();
    let bytes = encode(&model).unwrap();
    let header = read_header(&bytes).unwrap();
    let anchor = header.anchor;
    assert_eq!(check_against_log(&header, Some(anchor)), Ok(()));
    assert_eq!(
        check_against_log(&header, None),
        Err(Discard::NotInLog(header.cursor))
    );
    let other = LogAnchor {
        hash: [7; 32],
        ..anchor
    };
    assert!(matches!(
        check_against_log(&header, Some(other)),
        Err(Discard::HashDiffers(_))
    ));
    let longer = LogAnchor {
        events: anchor.events + 1,
        ..anchor
    };
    assert!(matches!(
        check_against_log(&header, Some(longer)),
        Err(Discard::CountDiffers { .. })
    ));
    // A body that is not the one the header describes is refused too.
    model = AccessModel::default();
    let mut damaged = encode(&model).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 0xff;
    assert!(decode(&damaged).is_err());
    assert_eq!(
        decode(b"not a snapshot").unwrap_err(),
        Discard::NotASnapshot
    );
}

/// History rows name their actors and event types by index: a snapshot whose rows name more
/// than it holds (damaged, or put together by hand) is refused, never read as some other actor.
#[tokio::test]
async fn a_snapshot_whose_history_names_what_it_does_not_hold_is_refused() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    varied_log(&store, 6).await;
    let mut model = build_from_log(&store).await.unwrap();
    assert!(model.households.values().any(|h| !h.trail.is_empty()));
    let whole = encode(&model).unwrap();
    assert!(decode(&whole).is_ok());
    model.history_names = Default::default();
    let damaged = encode(&model).unwrap();
    match decode(&damaged) {
        Err(Discard::Unreadable(why)) => assert!(why.contains("history naming"), "{why}"),
        other => panic!("expected the snapshot refused, got {:?}", other.map(|_| ())),
    }
}

/// The households and the practices' change lists travel in parts of their own: a snapshot of
/// many households and changes round-trips, and one cut anywhere, or whose parts do not add up,
/// is refused without a panic.
#[tokio::test]
async fn households_and_changes_in_parts_round_trip_and_a_cut_snapshot_is_refused() {
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    varied_log(&store, 40).await;
    let model = build_from_log(&store).await.unwrap();
    assert!(model.households.len() > 8, "more households than parts");
    let changes: usize = model.practices.values().map(|p| p.changes.len()).sum();
    assert!(changes > 8, "more changes than parts");
    let mut bytes = Vec::new();
    let sizes = encode_to(&model, &mut bytes).unwrap();
    let header = read_header(&bytes).unwrap();
    assert!(header.household_parts > 1 && header.change_parts > 1);
    assert_eq!(header.households, model.households.len() as u64);
    assert!(sizes.rest > 0 && sizes.households > 0 && sizes.changes > 0);
    let body = bytes.len() as u64 - sizes.rest - sizes.households - sizes.changes;
    assert_eq!(
        body,
        // magic, version, header length, header, and a length before each part
        16 + rmp_serde::to_vec_named(&header).unwrap().len() as u64
            + 8 * (1 + header.household_parts + header.change_parts) as u64
    );
    let (_, loaded) = decode(&bytes).unwrap();
    assert_eq!(loaded, model);
    // Lists read slice by slice keep at most an eighth spare once loaded.
    for p in loaded.practices.values() {
        assert!(p.changes.capacity() <= p.changes.len() + p.changes.len() / 8);
    }
    for keep in [bytes.len() - 1, bytes.len() / 2, bytes.len() / 7, 40] {
        assert!(decode(&bytes[..keep]).is_err(), "cut to {keep} bytes");
    }
    let first_part = 16 + rmp_serde::to_vec_named(&header).unwrap().len();
    let mut longer = bytes.clone();
    longer[first_part] = longer[first_part].wrapping_add(1); // the first part's length
    assert!(decode(&longer).is_err());
    // A length far beyond the file is read as far as the file goes, not allocated up front.
    let mut huge = bytes.clone();
    huge[first_part..first_part + 8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    assert!(decode(&huge).is_err());
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(decode(&extra).is_err());
}

/// Every field path of the serialised model with its kind, ids folded: the model's shape,
/// independent of its values and of hash-map order.
fn shape(value: &serde_json::Value, path: String, out: &mut BTreeSet<String>) {
    use serde_json::Value::*;
    match value {
        Object(map) => {
            for (k, v) in map {
                let key = if uuid::Uuid::parse_str(k).is_ok() {
                    "<id>"
                } else {
                    k
                };
                shape(v, format!("{path}.{key}"), out);
            }
        }
        Array(items) => {
            for v in items {
                shape(v, format!("{path}[]"), out);
            }
        }
        Null => {
            out.insert(format!("{path}:null"));
        }
        Bool(_) => {
            out.insert(format!("{path}:bool"));
        }
        Number(_) => {
            out.insert(format!("{path}:number"));
        }
        String(_) => {
            out.insert(format!("{path}:string"));
        }
    }
}

/// When this fails, the snapshot's shape changed: bump `FORMAT_VERSION` (so older snapshots are
/// discarded instead of misread) and add the new digest below with the new version.
#[tokio::test]
async fn snapshot_shape_is_pinned() {
    const SHAPES: &[(u32, &str)] = &[
        (
            1,
            "2140c23b647a603b511e5c935f01321c332576e40fe62a0147cfad0136a791c8",
        ),
        // Households know when they were archived and erased; practices their retention.
        (
            2,
            "e46f9eddc8bffcedd1fdfb79638073a52d44af5c2610bd510f45405d2b7ff789",
        ),
        // Same model, another layout: the households in parts that decode side by side.
        (
            3,
            "e46f9eddc8bffcedd1fdfb79638073a52d44af5c2610bd510f45405d2b7ff789",
        ),
        // Same model, another layout: the practices' change lists in parts of their own too.
        (
            4,
            "e46f9eddc8bffcedd1fdfb79638073a52d44af5c2610bd510f45405d2b7ff789",
        ),
        // Same model, another layout: parts each with its length, written and read as they go.
        (
            5,
            "e46f9eddc8bffcedd1fdfb79638073a52d44af5c2610bd510f45405d2b7ff789",
        ),
        // Change lists as rows naming their practice's tables of actors, accesses, types;
        // households' intervals and trail entries naming the model's actors and event types.
        (
            6,
            "27830e3e206f9c39f2921c7cbfcee6afa75e13a244a5eb2fd4b98a9b504e3ab1",
        ),
        // Change rows naming their practice's households, staff and reasons too; intervals and
        // trail entries naming the model's reasons.
        (
            7,
            "c7e8792da43fa0b452037c3e3564b305cb42992088bc5f6bd9084edaf535b27f",
        ),
    ];
    let file = TestSqlite::new();
    let store = file.store().await.unwrap();
    varied_log(&store, 9).await;
    let model = build_from_log(&store).await.unwrap();
    let mut paths = BTreeSet::new();
    shape(
        &serde_json::to_value(&model).unwrap(),
        String::new(),
        &mut paths,
    );
    // The households and the change rows are serialised apart from the model (in slices of
    // their own); the change lists' tables are with their practices.
    shape(
        &serde_json::to_value(&model.households).unwrap(),
        ".households".into(),
        &mut paths,
    );
    for p in model.practices.values() {
        shape(
            &serde_json::to_value(p.changes.rows()).unwrap(),
            ".practices.<id>.changes.rows".into(),
            &mut paths,
        );
    }
    let text = paths.into_iter().collect::<Vec<_>>().join("\n");
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
    let versions: BTreeSet<u32> = SHAPES.iter().map(|(v, _)| *v).collect();
    assert_eq!(
        versions.len(),
        SHAPES.len(),
        "one digest per format version"
    );
    // The newest version of this shape (a layout change bumps the version, not the shape).
    let known = SHAPES.iter().rev().find(|(_, d)| *d == digest);
    assert_eq!(
        known.map(|(v, _)| *v),
        Some(FORMAT_VERSION),
        "the snapshot's shape changed (digest {digest}): bump FORMAT_VERSION and pin the digest\n{text}"
    );
}

/// A write that fails midway leaves the previous snapshot whole and no half-written file.
#[test]
fn a_failed_write_keeps_the_previous_snapshot_and_leaves_nothing_half_written() {
    let dir = scratch_dir();
    let snapshots = SnapshotDir::new(&dir);
    snapshots
        .write_with(|out| std::io::Write::write_all(out, b"the previous one"))
        .unwrap();
    let failed = snapshots.write_with(|out| {
        std::io::Write::write_all(out, b"half of the next")?;
        Err::<(), _>(std::io::Error::other("the disk is full"))
    });
    assert!(failed.is_err());
    assert_eq!(
        std::fs::read(snapshots.path()).unwrap(),
        b"the previous one"
    );
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
