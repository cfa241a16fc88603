-- OAuth tokens of XPLAN integrations, encrypted by Hearth (XChaCha20-Poly1305, bound to the
-- integration id) before they reach the database. Not part of the log: secrets must be
-- replaceable and erasable, history is in the log as events without them.
CREATE TABLE integration_tokens (
    integration_id TEXT PRIMARY KEY,
    version        INTEGER NOT NULL,
    sealed         BLOB NOT NULL,
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
