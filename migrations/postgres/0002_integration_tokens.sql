-- OAuth tokens of XPLAN integrations, encrypted by Hearth (XChaCha20-Poly1305, bound to the
-- integration id) before they reach the database. Not part of the log: secrets must be
-- replaceable and erasable, history is in the log as events without them.
CREATE TABLE integration_tokens (
    integration_id UUID PRIMARY KEY,
    version        BIGINT NOT NULL,
    sealed         BYTEA NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
