-- The front desk: links that open a location's waiting-room display without a login. Only
-- the token's digest is kept; revoking a link stops every screen that uses it.
CREATE TABLE display_links (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clinic_id    BIGINT      NOT NULL REFERENCES clinics(id),
    location_id  BIGINT      NOT NULL REFERENCES locations(id),
    token_sha256 TEXT        NOT NULL UNIQUE,
    label        TEXT        NOT NULL DEFAULT '',
    -- Patients' names on a screen in the waiting room are the clinic's choice, off by default.
    show_names   BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX display_links_by_clinic ON display_links(clinic_id);

-- The desk reads a clinic's day by its local date.
CREATE INDEX appointments_by_clinic_day ON appointments(clinic_id, local_date);

-- Every instance's open desks follow the changes of their clinic: each outbox row (one per
-- appointment change, written in the change's transaction) notifies the `booking_changes`
-- channel with its clinic id. PostgreSQL delivers it on commit, to every listening session.
CREATE FUNCTION notify_booking_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('booking_changes', NEW.clinic_id::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER outbox_notifies AFTER INSERT ON outbox
    FOR EACH ROW EXECUTE FUNCTION notify_booking_change();
