-- An append's signature in its first event's row, as on PostgreSQL (see
-- migrations/postgres/0012_signature_in_event.sql): one row fewer per append. append_signatures
-- keeps the signatures of appends written before; readers take both, the event's own first.
ALTER TABLE events ADD COLUMN sig_events INTEGER CHECK (sig_events IS NULL OR sig_events >= 1);
ALTER TABLE events ADD COLUMN sig_key_id TEXT;
ALTER TABLE events ADD COLUMN signature BLOB;
