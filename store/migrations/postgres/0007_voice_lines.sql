-- Voice-bot integrations. A voice credential serves the clinics whose phone lines (sipIds) it
-- is given; each line belongs to one clinic and one voice credential. Voice credentials are
-- flagged (as on SQLite, where the kind CHECK cannot be widened in place).
ALTER TABLE api_credentials ADD COLUMN voice BOOLEAN NOT NULL DEFAULT FALSE;

-- One key may serve two users (the demo's bot and voice users share theirs), so a digest is
-- unique per user rather than overall.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_key_sha256_key;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_credential_digest UNIQUE (credential_id, key_sha256);

CREATE TABLE voice_lines (
    sip_id        TEXT        PRIMARY KEY,
    clinic_id     BIGINT      NOT NULL REFERENCES clinics(id),
    credential_id BIGINT      NOT NULL REFERENCES api_credentials(id),
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX voice_lines_by_credential ON voice_lines(credential_id, clinic_id);
