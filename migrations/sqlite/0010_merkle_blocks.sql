-- The lowest four levels of the Merkle tree as one row per block of 16 leaves (issue 10): see
-- migrations/postgres/0010_merkle_blocks.sql.
CREATE TABLE merkle_blocks (
    idx          INTEGER NOT NULL,
    leaves       INTEGER NOT NULL CHECK (leaves BETWEEN 1 AND 16),
    event_hashes BLOB NOT NULL CHECK (length(event_hashes) = 32 * leaves),
    PRIMARY KEY (idx, leaves)
);

CREATE TRIGGER merkle_blocks_no_update BEFORE UPDATE ON merkle_blocks
BEGIN SELECT RAISE(ABORT, 'the merkle_blocks table is append-only'); END;
CREATE TRIGGER merkle_blocks_no_delete BEFORE DELETE ON merkle_blocks
BEGIN SELECT RAISE(ABORT, 'the merkle_blocks table is append-only'); END;
