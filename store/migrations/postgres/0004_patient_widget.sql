-- Origins (scheme://host[:port]) allowed to embed the booking widget, one per line. Empty
-- means the widget may only be framed by the server's own pages.
ALTER TABLE clinics ADD COLUMN embed_origins TEXT NOT NULL DEFAULT '';

-- Secrets the server generates once and every instance shares, e.g. the key that signs
-- patients' manage links.
CREATE TABLE server_secrets (
    name       TEXT        PRIMARY KEY,
    value      TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- A hold remembers the location it was placed for, so the booking form can show it.
ALTER TABLE holds ADD COLUMN location_id BIGINT REFERENCES locations(id);
