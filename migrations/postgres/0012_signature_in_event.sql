-- An append's signature in its first event's row (issue 10, append cost). It was a row of its
-- own in append_signatures: one more heap tuple and index entry per append, measured at about
-- 3-5% of single-event append throughput. The signature still covers the hashes of the append's
-- `sig_events` events, which follow the first in commit order. append_signatures keeps the
-- signatures of appends written before this migration (it is append-only, and so is events:
-- they are not moved); readers take both, a signature in the event's own row first.
ALTER TABLE events
    ADD COLUMN sig_events INT,
    ADD COLUMN sig_key_id TEXT,
    ADD COLUMN signature  BYTEA;
-- The service no longer writes append_signatures: its role may only read it, so no claim can
-- be added there by the service's own credentials.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'hearth_service') THEN
        REVOKE INSERT ON append_signatures FROM hearth_service;
    END IF;
END
$$;
-- NOT VALID: rows written before have no signature columns to check, and a long log is not
-- scanned under the migration's lock; every row written from now on is checked.
ALTER TABLE events ADD CONSTRAINT events_signature_whole CHECK (
    (signature IS NULL) = (sig_key_id IS NULL) AND (signature IS NULL) = (sig_events IS NULL)
    AND (sig_events IS NULL OR sig_events >= 1)
) NOT VALID;

CREATE OR REPLACE FUNCTION hearth_append(
    w_streams text[], w_versions bigint[], w_hashes bytea[],
    c_streams text[], c_versions bigint[],
    e_stream text[], e_version bigint[], e_id uuid[], e_type text[], e_schema int[],
    e_data jsonb[], e_meta jsonb[], e_at timestamptz[], e_hash bytea[],
    sig_key text, sig bytea, notify boolean,
    OUT first_position bigint, OUT last_position bigint, OUT tx bigint, OUT positions bigint[],
    OUT head_streams text[], OUT head_versions bigint[], OUT head_hashes bytea[])
LANGUAGE plpgsql
-- Left to choose, PostgreSQL re-plans these array-driven statements on every call (the custom
-- plans look cheaper than the generic one), which cost more than the statements themselves.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    moved bigint;
    written uuid[];
BEGIN
    SELECT count(*) INTO moved
      FROM unnest(w_streams, w_versions, w_hashes) AS p(stream, version, hash)
      LEFT JOIN LATERAL (
          SELECT s.version, s.hash FROM streams s WHERE s.stream = p.stream FOR UPDATE
      ) s ON true
     WHERE s.version IS DISTINCT FROM p.version OR s.hash IS DISTINCT FROM p.hash;
    IF moved = 0 AND cardinality(c_streams) > 0 THEN
        SELECT count(*) INTO moved
          FROM unnest(c_streams, c_versions) AS p(stream, version)
          LEFT JOIN LATERAL (
              SELECT s.version FROM streams s WHERE s.stream = p.stream FOR SHARE
          ) s ON true
         WHERE p.version IS DISTINCT FROM -1 AND s.version IS DISTINCT FROM p.version;
    END IF;
    IF moved > 0 THEN
        SELECT coalesce(array_agg(s.stream), '{}'), coalesce(array_agg(s.version), '{}'),
               coalesce(array_agg(s.hash), '{}')
          INTO head_streams, head_versions, head_hashes
          FROM streams s WHERE s.stream = ANY (w_streams || c_streams);
        RETURN;
    END IF;

    -- The signature rides in the append's first row (see the top of this file).
    WITH inserted AS (
        INSERT INTO events (stream, version, event_id, event_type, schema_version, data, metadata,
                            recorded_at, hash, sig_events, sig_key_id, signature)
        SELECT u.stream, u.version, u.id, u.type, u.schema, u.data, u.meta, u.at, u.hash,
               CASE WHEN u.n = 1 AND sig IS NOT NULL THEN cardinality(e_id) END,
               CASE WHEN u.n = 1 AND sig IS NOT NULL THEN sig_key END,
               CASE WHEN u.n = 1 THEN sig END
          FROM unnest(e_stream, e_version, e_id, e_type, e_schema, e_data, e_meta, e_at, e_hash)
               WITH ORDINALITY AS u(stream, version, id, type, schema, data, meta, at, hash, n)
        RETURNING position, event_id
    )
    SELECT min(position), max(position), array_agg(event_id ORDER BY position),
           array_agg(position ORDER BY position)
      INTO first_position, last_position, written, positions FROM inserted;
    -- The signature covers the hashes in array order; readers meet them in position order.
    IF written IS DISTINCT FROM e_id THEN
        RAISE EXCEPTION 'hearth_append: positions were not assigned in the order of the events';
    END IF;
    tx := pg_current_xact_id()::text::bigint;

    -- Existing heads are updated, new ones inserted: the head guard then runs once per stream.
    WITH heads AS (
        SELECT DISTINCT ON (n.stream) n.stream, n.version, n.hash, w.version IS NOT NULL AS existed
          FROM unnest(e_stream, e_version, e_hash) AS n(stream, version, hash)
          JOIN unnest(w_streams, w_versions) AS w(stream, version) ON w.stream = n.stream
         ORDER BY n.stream, n.version DESC
    ), updated AS (
        UPDATE streams s SET version = h.version, hash = h.hash
          FROM heads h WHERE h.existed AND s.stream = h.stream
    )
    INSERT INTO streams (stream, version, hash)
    SELECT h.stream, h.version, h.hash FROM heads h WHERE NOT h.existed;

    IF notify THEN
        PERFORM pg_notify('hearth_events', '');
    END IF;
END $$;
