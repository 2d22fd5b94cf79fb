-- Voice-bot integrations. A voice credential serves the clinics whose phone lines (sipIds) it
-- is given; each line belongs to one clinic and one voice credential.
--
-- SQLite cannot widen `api_credentials.kind`'s CHECK without rebuilding a table that others
-- reference, so a voice credential is flagged instead.
ALTER TABLE api_credentials ADD COLUMN voice BOOLEAN NOT NULL DEFAULT FALSE;

-- One key may serve two users (the demo's bot and voice users share theirs), so a digest is
-- unique per user rather than overall. Nothing references api_keys: rebuild it.
CREATE TABLE api_keys_v2 (
    id            INTEGER PRIMARY KEY,
    credential_id INTEGER NOT NULL REFERENCES api_credentials(id),
    key_prefix    TEXT    NOT NULL,
    key_sha256    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    UNIQUE (credential_id, key_sha256)
);
INSERT INTO api_keys_v2 (id, credential_id, key_prefix, key_sha256, created_at, expires_at, revoked_at)
    SELECT id, credential_id, key_prefix, key_sha256, created_at, expires_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_v2 RENAME TO api_keys;
CREATE INDEX api_keys_by_credential ON api_keys(credential_id);

CREATE TABLE voice_lines (
    sip_id        TEXT    PRIMARY KEY,
    clinic_id     INTEGER NOT NULL REFERENCES clinics(id),
    credential_id INTEGER NOT NULL REFERENCES api_credentials(id),
    created_at    INTEGER NOT NULL
);
CREATE INDEX voice_lines_by_credential ON voice_lines(credential_id, clinic_id);
