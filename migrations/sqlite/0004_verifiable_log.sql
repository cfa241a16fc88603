-- Verifiable audit (issue 10); see the PostgreSQL migration of the same name for the design.
CREATE TABLE append_signatures (
    first_event_id BLOB PRIMARY KEY,
    event_count    INTEGER NOT NULL,
    key_id         TEXT NOT NULL,
    signature      BLOB NOT NULL
);

CREATE TABLE merkle_leaves (
    leaf_index    INTEGER PRIMARY KEY,
    event_id      BLOB NOT NULL UNIQUE,
    tx            INTEGER NOT NULL,
    position      INTEGER NOT NULL,
    event_hash    BLOB NOT NULL,
    group_start   INTEGER NOT NULL,
    practice_id   BLOB,
    practice_seq  INTEGER,
    practice_fold BLOB
);
CREATE INDEX merkle_leaves_practice ON merkle_leaves (practice_id, leaf_index);

CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE tree_checkpoints (
    tree_size INTEGER PRIMARY KEY,
    root      BLOB NOT NULL,
    signed_at TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature BLOB NOT NULL
);

CREATE TRIGGER append_signatures_no_update BEFORE UPDATE ON append_signatures
BEGIN SELECT RAISE(ABORT, 'the append_signatures table is append-only'); END;
CREATE TRIGGER append_signatures_no_delete BEFORE DELETE ON append_signatures
BEGIN SELECT RAISE(ABORT, 'the append_signatures table is append-only'); END;
CREATE TRIGGER merkle_leaves_no_update BEFORE UPDATE ON merkle_leaves
BEGIN SELECT RAISE(ABORT, 'the merkle_leaves table is append-only'); END;
CREATE TRIGGER merkle_leaves_no_delete BEFORE DELETE ON merkle_leaves
BEGIN SELECT RAISE(ABORT, 'the merkle_leaves table is append-only'); END;
CREATE TRIGGER merkle_nodes_no_update BEFORE UPDATE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the merkle_nodes table is append-only'); END;
CREATE TRIGGER merkle_nodes_no_delete BEFORE DELETE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the merkle_nodes table is append-only'); END;
CREATE TRIGGER tree_checkpoints_no_update BEFORE UPDATE ON tree_checkpoints
BEGIN SELECT RAISE(ABORT, 'the tree_checkpoints table is append-only'); END;
CREATE TRIGGER tree_checkpoints_no_delete BEFORE DELETE ON tree_checkpoints
BEGIN SELECT RAISE(ABORT, 'the tree_checkpoints table is append-only'); END;
