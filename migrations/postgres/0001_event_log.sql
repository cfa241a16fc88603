-- The event log. Append-only: UPDATE, DELETE and TRUNCATE are refused by triggers below.
CREATE TABLE events (
    position       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction: subscriptions order and resume by (tx, position) and only read
    -- below the oldest running transaction, so a late commit can never be skipped.
    tx             XID8 NOT NULL DEFAULT pg_current_xact_id(),
    stream         TEXT NOT NULL,
    version        BIGINT NOT NULL,
    event_id       UUID NOT NULL,
    event_type     TEXT NOT NULL,
    schema_version INT NOT NULL,
    data           JSONB NOT NULL,
    metadata       JSONB NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL,
    hash           BYTEA NOT NULL,
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream, version)
);
CREATE INDEX events_tx_position ON events (tx, position);

-- One row per stream: the head version and hash. Writers lock it FOR UPDATE, pure version checks
-- lock it FOR SHARE, so cross-stream decisions serialise correctly.
CREATE TABLE streams (
    stream  TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    hash    BYTEA NOT NULL
);

-- Periodic seals over the whole log in subscription order: removing a whole stream changes them.
CREATE TABLE seals (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Each seal continues the previous one; UNIQUE makes two concurrent sealers collide.
    prev_seq     BIGINT NOT NULL UNIQUE,
    up_to_tx     BIGINT NOT NULL,
    up_to_pos    BIGINT NOT NULL,
    event_count  BIGINT NOT NULL,
    running_hash BYTEA NOT NULL,
    sealed_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE checkpoints (
    name       TEXT PRIMARY KEY,
    tx         BIGINT NOT NULL,
    position   BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE FUNCTION hearth_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the % table is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER seals_append_only BEFORE UPDATE OR DELETE ON seals
    FOR EACH ROW EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER seals_no_truncate BEFORE TRUNCATE ON seals
    FOR EACH STATEMENT EXECUTE FUNCTION hearth_refuse_change();

-- Wakes live subscribers when an append commits (notifications are delivered at commit and
-- collapse within a transaction). Subscribers also poll, so a lost wake-up only costs latency.
CREATE FUNCTION hearth_notify_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hearth_events', '');
    RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION hearth_notify_append();
