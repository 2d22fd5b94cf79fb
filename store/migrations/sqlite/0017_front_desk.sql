-- The front desk: links that open a location's waiting-room display without a login. Only
-- the token's digest is kept; revoking a link stops every screen that uses it.
CREATE TABLE display_links (
    id           INTEGER PRIMARY KEY,
    clinic_id    INTEGER NOT NULL REFERENCES clinics(id),
    location_id  INTEGER NOT NULL REFERENCES locations(id),
    token_sha256 TEXT    NOT NULL UNIQUE,
    label        TEXT    NOT NULL DEFAULT '',
    -- Patients' names on a screen in the waiting room are the clinic's choice, off by default.
    show_names   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX display_links_by_clinic ON display_links(clinic_id);

-- The desk reads a clinic's day by its local date.
CREATE INDEX appointments_by_clinic_day ON appointments(clinic_id, local_date);
