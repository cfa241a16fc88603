-- The event log. Append-only: UPDATE and DELETE are refused by triggers below.
-- Writes are serialised (BEGIN IMMEDIATE), so position order is commit order and tx = position.
CREATE TABLE events (
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    stream         TEXT NOT NULL,
    version        INTEGER NOT NULL,
    event_id       BLOB NOT NULL UNIQUE,
    event_type     TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT NOT NULL,
    metadata       TEXT NOT NULL,
    recorded_at    TEXT NOT NULL,
    hash           BLOB NOT NULL,
    UNIQUE (stream, version)
);

CREATE TABLE streams (
    stream  TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    hash    BLOB NOT NULL
);

CREATE TABLE seals (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    prev_seq     INTEGER NOT NULL UNIQUE,
    up_to_tx     INTEGER NOT NULL,
    up_to_pos    INTEGER NOT NULL,
    event_count  INTEGER NOT NULL,
    running_hash BLOB NOT NULL,
    sealed_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE checkpoints (
    name       TEXT PRIMARY KEY,
    tx         INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the events table is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the events table is append-only'); END;
CREATE TRIGGER seals_no_update BEFORE UPDATE ON seals
BEGIN SELECT RAISE(ABORT, 'the seals table is append-only'); END;
CREATE TRIGGER seals_no_delete BEFORE DELETE ON seals
BEGIN SELECT RAISE(ABORT, 'the seals table is append-only'); END;
