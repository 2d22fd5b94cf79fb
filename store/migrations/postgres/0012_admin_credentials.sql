-- Admin credentials: a clinic's own systems configure it through the admin API
-- (`/api/v1/admin`). Flagged like voice credentials (see 0007), for the same reason.
ALTER TABLE api_credentials ADD COLUMN admin BOOLEAN NOT NULL DEFAULT FALSE;
