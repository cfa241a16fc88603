-- The tree's leaves kept by block, not by event (issue 10, append cost). merkle_leaves held a
-- row per event with three index entries (leaf index, event id, practice): as many as the event
-- row itself, and most of the tree builder's cost to the appends it runs beside. Now:
-- - merkle_blocks holds, per block of 16 leaves, every column a leaf row had (event hashes, ids,
--   commit cursors and the leaf where each one's append starts), concatenated; a block still
--   filling is written again, longer, at each builder step, and the longest row is the one read.
--   An event's leaf is found from its commit cursor: the block whose first leaf is the last at
--   or before it.
-- - merkle_practice_runs holds, per practice and builder step, the leaves of that practice's
--   events and its running fold after them: a practice's history and head without a row per
--   event.
-- - merkle_steps holds one row per builder step, so two builders that step from the same place
--   always collide on it (one of them then follows on from the other's leaves).
--
-- The tree is derived from the log, so it is not converted: its rows are removed here and the
-- service's tree builder builds it again from the log (it checks every append's signature on
-- the way), at tens of thousands of events a second. The leaves come out in the same commit
-- order with the same hashes, so checkpoints signed before stay valid and are kept; until the
-- builder has caught up, proofs against them answer "not yet in the tree". The builder accepts
-- appends signed by the service's current key only (key rotation is not built), so a log whose
-- history was signed by an earlier key could not have had a complete tree, and will not now.
DROP TABLE merkle_leaves;
DROP TABLE merkle_blocks;
ALTER TABLE merkle_nodes DISABLE TRIGGER merkle_nodes_no_truncate;
TRUNCATE merkle_nodes;
ALTER TABLE merkle_nodes ENABLE TRIGGER merkle_nodes_no_truncate;

CREATE TABLE merkle_blocks (
    idx            BIGINT NOT NULL,
    leaves         INT NOT NULL CHECK (leaves BETWEEN 1 AND 16),
    -- The commit cursor of the block's first leaf.
    first_tx       BIGINT NOT NULL,
    first_position BIGINT NOT NULL,
    event_hashes   BYTEA NOT NULL CHECK (length(event_hashes) = 32 * leaves),
    event_ids      BYTEA NOT NULL CHECK (length(event_ids) = 16 * leaves),
    -- Per leaf: tx then position, big-endian 8 bytes each.
    cursors        BYTEA NOT NULL CHECK (length(cursors) = 16 * leaves),
    -- Per leaf: the leaf index where its append starts (its signature's first event), 8 bytes.
    group_starts   BYTEA NOT NULL CHECK (length(group_starts) = 8 * leaves),
    PRIMARY KEY (idx, leaves)
);
CREATE INDEX merkle_blocks_first_cursor ON merkle_blocks (first_tx, first_position);

CREATE TABLE merkle_practice_runs (
    practice_id  UUID NOT NULL,
    first_leaf   BIGINT NOT NULL,
    -- The practice's leaves in this step, 8 bytes each, ascending.
    leaf_indexes BYTEA NOT NULL CHECK (length(leaf_indexes) >= 8 AND length(leaf_indexes) % 8 = 0),
    -- The practice's event count and fold after them.
    events       BIGINT NOT NULL,
    fold         BYTEA NOT NULL CHECK (length(fold) = 32),
    PRIMARY KEY (practice_id, first_leaf)
);

CREATE TABLE merkle_steps (
    first_leaf BIGINT PRIMARY KEY,
    leaves     INT NOT NULL CHECK (leaves >= 1)
);

-- A block is written again, longer, as it fills, and readers take its longest row: so a new row
-- must extend the longest stored one (every column a byte prefix of the new one's), and name its
-- first leaf's cursor truly. Otherwise whoever may insert (the service's own role) could rewrite
-- leaves already stored by adding a longer row. Refused as a unique violation: a builder that
-- lost a race to another meets this or the primary key, and checks that the stored leaves are
-- the ones it was writing.
CREATE FUNCTION hearth_block_extends() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    longest merkle_blocks;
BEGIN
    IF NEW.first_tx <> ('x' || encode(substring(NEW.cursors FROM 1 FOR 8), 'hex'))::bit(64)::bigint
       OR NEW.first_position <> ('x' || encode(substring(NEW.cursors FROM 9 FOR 8), 'hex'))::bit(64)::bigint THEN
        RAISE EXCEPTION 'merkle block %: the first cursor is not its first leaf''s', NEW.idx
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT * INTO longest FROM merkle_blocks WHERE idx = NEW.idx ORDER BY leaves DESC LIMIT 1;
    IF FOUND AND (longest.leaves >= NEW.leaves
        OR substring(NEW.event_hashes FROM 1 FOR length(longest.event_hashes)) <> longest.event_hashes
        OR substring(NEW.event_ids FROM 1 FOR length(longest.event_ids)) <> longest.event_ids
        OR substring(NEW.cursors FROM 1 FOR length(longest.cursors)) <> longest.cursors
        OR substring(NEW.group_starts FROM 1 FOR length(longest.group_starts)) <> longest.group_starts) THEN
        RAISE EXCEPTION 'merkle block % of % leaves does not extend the stored one of %', NEW.idx,
            NEW.leaves, longest.leaves USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER merkle_blocks_extend BEFORE INSERT ON merkle_blocks
    FOR EACH ROW EXECUTE FUNCTION hearth_block_extends();

CREATE TRIGGER merkle_blocks_append_only BEFORE UPDATE OR DELETE ON merkle_blocks
    FOR EACH ROW EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER merkle_blocks_no_truncate BEFORE TRUNCATE ON merkle_blocks
    FOR EACH STATEMENT EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER merkle_practice_runs_append_only BEFORE UPDATE OR DELETE ON merkle_practice_runs
    FOR EACH ROW EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER merkle_practice_runs_no_truncate BEFORE TRUNCATE ON merkle_practice_runs
    FOR EACH STATEMENT EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER merkle_steps_append_only BEFORE UPDATE OR DELETE ON merkle_steps
    FOR EACH ROW EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER merkle_steps_no_truncate BEFORE TRUNCATE ON merkle_steps
    FOR EACH STATEMENT EXECUTE FUNCTION hearth_refuse_change();

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'hearth_service') THEN
        GRANT SELECT, INSERT ON merkle_blocks, merkle_practice_runs, merkle_steps TO hearth_service;
    END IF;
END
$$;
