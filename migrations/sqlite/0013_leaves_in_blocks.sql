-- The tree's leaves kept by block, not by event: see migrations/postgres/0013_leaves_in_blocks.sql.
-- The tree is removed here and built again from the log by the service's tree builder;
-- checkpoints are kept (the rebuilt tree has the same leaves in the same order).
DROP TABLE merkle_leaves;
DROP TABLE merkle_blocks;
DROP TRIGGER merkle_nodes_no_delete;
DELETE FROM merkle_nodes;
CREATE TRIGGER merkle_nodes_no_delete BEFORE DELETE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the merkle_nodes table is append-only'); END;

CREATE TABLE merkle_blocks (
    idx            INTEGER NOT NULL,
    leaves         INTEGER NOT NULL CHECK (leaves BETWEEN 1 AND 16),
    first_tx       INTEGER NOT NULL,
    first_position INTEGER NOT NULL,
    event_hashes   BLOB NOT NULL CHECK (length(event_hashes) = 32 * leaves),
    event_ids      BLOB NOT NULL CHECK (length(event_ids) = 16 * leaves),
    cursors        BLOB NOT NULL CHECK (length(cursors) = 16 * leaves),
    group_starts   BLOB NOT NULL CHECK (length(group_starts) = 8 * leaves),
    PRIMARY KEY (idx, leaves)
);
CREATE INDEX merkle_blocks_first_cursor ON merkle_blocks (first_position);

CREATE TABLE merkle_practice_runs (
    practice_id  BLOB NOT NULL,
    first_leaf   INTEGER NOT NULL,
    leaf_indexes BLOB NOT NULL CHECK (length(leaf_indexes) >= 8 AND length(leaf_indexes) % 8 = 0),
    events       INTEGER NOT NULL,
    fold         BLOB NOT NULL CHECK (length(fold) = 32),
    PRIMARY KEY (practice_id, first_leaf)
);

CREATE TABLE merkle_steps (
    first_leaf INTEGER PRIMARY KEY,
    leaves     INTEGER NOT NULL CHECK (leaves >= 1)
);

-- A new row of a block must extend its longest stored row (see the PostgreSQL migration).
CREATE TRIGGER merkle_blocks_extend BEFORE INSERT ON merkle_blocks
WHEN EXISTS (SELECT 1 FROM merkle_blocks b WHERE b.idx = NEW.idx AND (b.leaves >= NEW.leaves
    OR substr(NEW.event_hashes, 1, length(b.event_hashes)) <> b.event_hashes
    OR substr(NEW.event_ids, 1, length(b.event_ids)) <> b.event_ids
    OR substr(NEW.cursors, 1, length(b.cursors)) <> b.cursors
    OR substr(NEW.group_starts, 1, length(b.group_starts)) <> b.group_starts))
BEGIN SELECT RAISE(ABORT, 'a merkle block row must extend the stored one'); END;
CREATE TRIGGER merkle_blocks_no_update BEFORE UPDATE ON merkle_blocks
BEGIN SELECT RAISE(ABORT, 'the merkle_blocks table is append-only'); END;
CREATE TRIGGER merkle_blocks_no_delete BEFORE DELETE ON merkle_blocks
BEGIN SELECT RAISE(ABORT, 'the merkle_blocks table is append-only'); END;
CREATE TRIGGER merkle_practice_runs_no_update BEFORE UPDATE ON merkle_practice_runs
BEGIN SELECT RAISE(ABORT, 'the merkle_practice_runs table is append-only'); END;
CREATE TRIGGER merkle_practice_runs_no_delete BEFORE DELETE ON merkle_practice_runs
BEGIN SELECT RAISE(ABORT, 'the merkle_practice_runs table is append-only'); END;
CREATE TRIGGER merkle_steps_no_update BEFORE UPDATE ON merkle_steps
BEGIN SELECT RAISE(ABORT, 'the merkle_steps table is append-only'); END;
CREATE TRIGGER merkle_steps_no_delete BEFORE DELETE ON merkle_steps
BEGIN SELECT RAISE(ABORT, 'the merkle_steps table is append-only'); END;
