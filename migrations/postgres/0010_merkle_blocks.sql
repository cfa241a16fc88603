-- The lowest four levels of the Merkle tree as one row per block of 16 leaves (issue 10).
-- merkle_nodes kept every perfect subtree, two rows per event on average; from now on the
-- tree builder stores there only subtrees of 16 leaves and more, and here the event hashes of
-- each block, from which the lower subtrees are computed when a proof needs them. A block still
-- filling is written again, longer, at each step of the builder (the newest row of a block is
-- the one read), so the table stays append-only. Trees built before keep their stored low nodes.
CREATE TABLE merkle_blocks (
    idx          BIGINT NOT NULL,
    leaves       INT NOT NULL CHECK (leaves BETWEEN 1 AND 16),
    event_hashes BYTEA NOT NULL CHECK (length(event_hashes) = 32 * leaves),
    PRIMARY KEY (idx, leaves)
);

CREATE TRIGGER merkle_blocks_append_only BEFORE UPDATE OR DELETE ON merkle_blocks
    FOR EACH ROW EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER merkle_blocks_no_truncate BEFORE TRUNCATE ON merkle_blocks
    FOR EACH STATEMENT EXECUTE FUNCTION hearth_refuse_change();

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'hearth_service') THEN
        GRANT SELECT, INSERT ON merkle_blocks TO hearth_service;
    END IF;
END
$$;
