-- Least privilege (issue 10). Migrations run as the owner of these tables; the service runs as a
-- login role that is a member of `hearth_service`, which may only read and append to the log.
-- Only an owner may ALTER a table (and so disable its triggers); `hearth_service` owns nothing.
--
-- The role is cluster-wide: created here when missing and the migrating role may create roles,
-- otherwise a DBA creates it beforehand (`CREATE ROLE hearth_service NOLOGIN`).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hearth_service') THEN
        BEGIN
            CREATE ROLE hearth_service NOLOGIN;
        EXCEPTION
            WHEN duplicate_object THEN NULL; -- another database's migration created it meanwhile
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'cannot create role hearth_service: create it, then grant as in 0005_service_role.sql';
        END;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'hearth_service') THEN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO hearth_service', current_database());
        GRANT USAGE ON SCHEMA public TO hearth_service;
        -- The log and everything that proves it: read and append, nothing else.
        GRANT SELECT, INSERT ON events, seals, blobs, append_signatures, merkle_leaves,
            merkle_nodes, tree_checkpoints TO hearth_service;
        -- Stream heads: moved only to the stream's newest event (guarded below), never removed.
        GRANT SELECT, INSERT ON streams TO hearth_service;
        GRANT UPDATE (version, hash) ON streams TO hearth_service;
        -- Not the log: subscriber cursors and replaceable, erasable secrets.
        GRANT SELECT, INSERT, UPDATE ON checkpoints TO hearth_service;
        GRANT SELECT, INSERT, UPDATE, DELETE ON integration_tokens TO hearth_service;
        GRANT SELECT ON _sqlx_migrations TO hearth_service;
    END IF;
END $$;

-- The controlled path for stream heads: a head may only name its stream's newest stored event,
-- so it can neither be rolled back nor point at something that is not in the log.
CREATE FUNCTION hearth_guard_stream_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM events WHERE stream = NEW.stream AND version = NEW.version AND hash = NEW.hash)
       OR EXISTS (SELECT 1 FROM events WHERE stream = NEW.stream AND version > NEW.version) THEN
        RAISE EXCEPTION 'the head of stream % must name its newest event', NEW.stream
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER streams_head_follows_events BEFORE INSERT OR UPDATE ON streams
    FOR EACH ROW EXECUTE FUNCTION hearth_guard_stream_head();
