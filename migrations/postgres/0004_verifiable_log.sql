-- Verifiable audit (issue 10). The service signs with a key the database never holds; these
-- tables keep only public material: signatures, tree nodes and signed tree heads. All append-only.

-- One row per append: an Ed25519 signature over the hashes of the events it wrote, which follow
-- one another in commit order starting at `first_event_id`.
CREATE TABLE append_signatures (
    first_event_id UUID PRIMARY KEY,
    event_count    INT NOT NULL,
    key_id         TEXT NOT NULL,
    signature      BYTEA NOT NULL
);

-- Leaf n of the Merkle tree is the n-th event in commit-safe order, assigned by the tree builder
-- that follows read_all. The practice columns fold each practice's event hashes in leaf order,
-- so a practice's history has a commitment of its own.
CREATE TABLE merkle_leaves (
    leaf_index    BIGINT PRIMARY KEY,
    event_id      UUID NOT NULL UNIQUE,
    tx            BIGINT NOT NULL,
    position      BIGINT NOT NULL,
    event_hash    BYTEA NOT NULL,
    -- Leaf index of the first event of the append that wrote this one (its signature's key).
    group_start   BIGINT NOT NULL,
    practice_id   UUID,
    practice_seq  BIGINT,
    practice_fold BYTEA
);
CREATE INDEX merkle_leaves_practice ON merkle_leaves (practice_id, leaf_index);

-- Perfect subtrees, (level, idx) covering leaves [idx << level, (idx + 1) << level); level 0 holds
-- the leaf hashes. A complete subtree never changes, so proofs read O(log n) rows.
CREATE TABLE merkle_nodes (
    level INT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE tree_checkpoints (
    tree_size BIGINT PRIMARY KEY,
    root      BYTEA NOT NULL,
    signed_at TIMESTAMPTZ NOT NULL,
    key_id    TEXT NOT NULL,
    signature BYTEA NOT NULL
);

CREATE TRIGGER append_signatures_append_only BEFORE UPDATE OR DELETE ON append_signatures
    FOR EACH ROW EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER append_signatures_no_truncate BEFORE TRUNCATE ON append_signatures
    FOR EACH STATEMENT EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER merkle_leaves_append_only BEFORE UPDATE OR DELETE ON merkle_leaves
    FOR EACH ROW EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER merkle_leaves_no_truncate BEFORE TRUNCATE ON merkle_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER merkle_nodes_append_only BEFORE UPDATE OR DELETE ON merkle_nodes
    FOR EACH ROW EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER tree_checkpoints_append_only BEFORE UPDATE OR DELETE ON tree_checkpoints
    FOR EACH ROW EXECUTE FUNCTION hearth_refuse_change();
CREATE TRIGGER tree_checkpoints_no_truncate BEFORE TRUNCATE ON tree_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION hearth_refuse_change();
