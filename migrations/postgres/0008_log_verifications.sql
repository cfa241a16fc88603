-- Audits of a practice's history run as jobs (the work grows with the practice's events): each
-- run's request, and its outcome when it ends. Not part of the log — a run's record is written
-- twice (started, finished) — and nothing in it is secret.
CREATE TABLE log_verifications (
    id           UUID PRIMARY KEY,
    practice_id  UUID NOT NULL,
    requested_by UUID NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    result       JSONB
);
CREATE INDEX log_verifications_by_practice ON log_verifications (practice_id, started_at DESC);

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'hearth_service') THEN
        GRANT SELECT, INSERT, UPDATE (finished_at, result) ON log_verifications TO hearth_service;
    END IF;
END
$$;
