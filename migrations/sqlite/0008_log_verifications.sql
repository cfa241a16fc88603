-- Audits of a practice's history run as jobs (the work grows with the practice's events): each
-- run's request, and its outcome when it ends. Not part of the log, and nothing in it is secret.
CREATE TABLE log_verifications (
    id           TEXT PRIMARY KEY,
    practice_id  TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    result       TEXT
);
CREATE INDEX log_verifications_by_practice ON log_verifications (practice_id, started_at DESC);
