-- Group commit in the client (issue 13): one call of hearth_append may carry the appends of
-- several callers of this process, so it returns every event's position, in the order of the
-- events, for each caller to take its own. Otherwise as in 0006_one_trip_append.sql (the
-- comments there explain the function); the result type changes, so it is dropped and made again.
DROP FUNCTION hearth_append(text[], bigint[], bytea[], text[], bigint[], text[], bigint[], uuid[],
    text[], int[], jsonb[], jsonb[], timestamptz[], bytea[], text, bytea, boolean);

CREATE FUNCTION hearth_append(
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

    WITH inserted AS (
        INSERT INTO events (stream, version, event_id, event_type, schema_version, data, metadata, recorded_at, hash)
        SELECT * FROM unnest(e_stream, e_version, e_id, e_type, e_schema, e_data, e_meta, e_at, e_hash)
        RETURNING position, event_id
    ), signed AS (
        INSERT INTO append_signatures (first_event_id, event_count, key_id, signature)
        SELECT e_id[1], cardinality(e_id), sig_key, sig WHERE sig IS NOT NULL
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
