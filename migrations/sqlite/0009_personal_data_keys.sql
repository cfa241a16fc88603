-- Crypto-shredding: see migrations/postgres/0009_personal_data_keys.sql.
CREATE TABLE subject_keys (
    subject    BLOB PRIMARY KEY,
    key_id     TEXT NOT NULL,
    wrapped    BLOB,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    erased_at  TEXT,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL))
);

CREATE TRIGGER subject_keys_erasure_is_final_update BEFORE UPDATE ON subject_keys
    WHEN OLD.erased_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'the key of this subject is erased for good');
END;

CREATE TRIGGER subject_keys_erasure_is_final_delete BEFORE DELETE ON subject_keys
BEGIN
    SELECT RAISE(ABORT, 'the key of this subject is erased for good');
END;

CREATE TABLE sealed_blobs (
    subject    BLOB NOT NULL,
    sha256     TEXT NOT NULL,
    mimetype   TEXT NOT NULL,
    content    BLOB NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (subject, sha256)
);
