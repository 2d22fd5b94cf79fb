-- A credential made with expiring keys keeps that policy: every key it is issued later
-- lives at most as long as its first one did, so a rotation cannot escape expiry. NULL:
-- keys need not expire. Existing credentials take the lifetime of their first key.
ALTER TABLE api_credentials ADD COLUMN key_lifetime_seconds BIGINT;
UPDATE api_credentials SET key_lifetime_seconds = (
    SELECT EXTRACT(EPOCH FROM k.expires_at - k.created_at)::BIGINT FROM api_keys k
     WHERE k.credential_id = api_credentials.id
     ORDER BY k.created_at, k.id LIMIT 1
);
