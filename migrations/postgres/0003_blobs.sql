-- Documents events refer to (Best Life Plan PDFs, investment-preference exports), addressed by
-- their SHA-256 so an event's reference proves which bytes it meant. Written before the event
-- that refers to them; never updated.
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY,
    mimetype   TEXT NOT NULL,
    content    BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
