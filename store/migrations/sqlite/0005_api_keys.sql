-- Bot and staff credentials: one user per facility (a clinic, or one of its locations), each
-- with up to two active keys so that a key can be rotated without downtime. Keys are stored
-- only as SHA-256 digests; `key_prefix` is the key's public start, to tell keys apart.
ALTER TABLE api_credentials ADD COLUMN location_id INTEGER REFERENCES locations(id);
ALTER TABLE api_credentials ADD COLUMN kind TEXT NOT NULL DEFAULT 'bot' CHECK (kind IN ('bot', 'staff'));

CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    credential_id INTEGER NOT NULL REFERENCES api_credentials(id),
    key_prefix    TEXT    NOT NULL,
    key_sha256    TEXT    NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_keys_by_credential ON api_keys(credential_id);

INSERT INTO api_keys (credential_id, key_prefix, key_sha256, created_at)
    SELECT id, '', key_sha256, created_at FROM api_credentials;
ALTER TABLE api_credentials DROP COLUMN key_sha256;

-- Bots may say a new patient's gender (female, male, diverse, unknown); empty when not given.
ALTER TABLE patients ADD COLUMN gender TEXT NOT NULL DEFAULT '';

-- The order in which patients arrived: assigned at check-in, per provider and local day.
ALTER TABLE appointments ADD COLUMN queue_number INTEGER;
CREATE UNIQUE INDEX appointments_queue_unique ON appointments(provider_id, local_date, queue_number);
