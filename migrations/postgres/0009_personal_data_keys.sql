-- Crypto-shredding (issue 15). Personal values in household events are stored sealed with a key
-- of their household (the subject); that key is kept here wrapped by a master key the database
-- never holds. Erasing a household destroys its key: the sealed values stay in the log, so every
-- hash, signature and Merkle proof still holds, but nobody can read them again.
-- Not part of the log: a key row is written when its first sealed value is, re-wrapped when the
-- master key rotates, and emptied on erasure — never filled again.
CREATE TABLE subject_keys (
    subject    UUID PRIMARY KEY,
    key_id     TEXT NOT NULL,
    wrapped    BYTEA,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    erased_at  TIMESTAMPTZ,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL))
);

-- Erasure is final: an erased key can be neither restored nor removed (which would let a new key
-- be created for the subject and a restored backup be read with it).
CREATE FUNCTION hearth_keys_stay_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.erased_at IS NOT NULL THEN
        RAISE EXCEPTION 'the key of subject % is erased for good', OLD.subject
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER subject_keys_erasure_is_final BEFORE UPDATE OR DELETE ON subject_keys
    FOR EACH ROW EXECUTE FUNCTION hearth_keys_stay_erased();

-- Documents of a household (plan PDFs), sealed with the household's key and addressed by the
-- SHA-256 of their plain content (what the event pins). Deleted when the household is erased.
CREATE TABLE sealed_blobs (
    subject    UUID NOT NULL,
    sha256     TEXT NOT NULL,
    mimetype   TEXT NOT NULL,
    content    BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, sha256)
);

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'hearth_service') THEN
        GRANT SELECT, INSERT, UPDATE (key_id, wrapped, erased_at) ON subject_keys TO hearth_service;
        GRANT SELECT, INSERT, DELETE ON sealed_blobs TO hearth_service;
    END IF;
END
$$;
