-- Scheduling core: clinic settings, products, richer schedules, patients, the appointment
-- lifecycle, holds, token numbers, the event outbox and idempotency keys.
-- Dates are TEXT 'YYYY-MM-DD'; instants stay INTEGER seconds since the epoch, UTC.

ALTER TABLE clinics ADD COLUMN minimum_notice_minutes      INTEGER NOT NULL DEFAULT 60   CHECK (minimum_notice_minutes >= 0);
ALTER TABLE clinics ADD COLUMN horizon_days                INTEGER NOT NULL DEFAULT 90   CHECK (horizon_days BETWEEN 1 AND 1096);
ALTER TABLE clinics ADD COLUMN cancellation_cutoff_minutes INTEGER NOT NULL DEFAULT 1440 CHECK (cancellation_cutoff_minutes >= 0);
ALTER TABLE clinics ADD COLUMN hold_minutes                INTEGER NOT NULL DEFAULT 10   CHECK (hold_minutes BETWEEN 1 AND 120);

ALTER TABLE providers ADD COLUMN title  TEXT NOT NULL DEFAULT '';
ALTER TABLE providers ADD COLUMN gender TEXT NOT NULL DEFAULT '';

CREATE TABLE products (
    id                    INTEGER PRIMARY KEY,
    clinic_id             INTEGER NOT NULL REFERENCES clinics(id),
    service_id            INTEGER NOT NULL REFERENCES services(id),
    name                  TEXT    NOT NULL,
    description           TEXT    NOT NULL DEFAULT '',
    duration_minutes      INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    new_patient_minutes   INTEGER CHECK (new_patient_minutes BETWEEN 1 AND 1440),
    price_cents           INTEGER NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
    currency              TEXT    NOT NULL DEFAULT 'EUR',
    buffer_before_minutes INTEGER NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 1440),
    buffer_after_minutes  INTEGER NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 1440),
    step_minutes          INTEGER CHECK (step_minutes BETWEEN 1 AND 1440),
    per_day_cap           INTEGER CHECK (per_day_cap >= 1),
    booker_fields         TEXT    NOT NULL DEFAULT 'firstname,lastname,phone',
    participant_fields    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX products_by_service ON products(service_id);

CREATE TABLE provider_services (
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    service_id  INTEGER NOT NULL REFERENCES services(id),
    PRIMARY KEY (provider_id, service_id)
);

ALTER TABLE working_hours ADD COLUMN valid_from  TEXT;
ALTER TABLE working_hours ADD COLUMN valid_until TEXT;

CREATE TABLE schedule_exceptions (
    id          INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    on_date     TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('closed', 'extra')),
    starts_at   TEXT,
    ends_at     TEXT,
    CHECK (kind = 'closed' OR (starts_at IS NOT NULL AND ends_at IS NOT NULL AND starts_at < ends_at))
);
CREATE INDEX schedule_exceptions_by_provider ON schedule_exceptions(provider_id, on_date);

CREATE TABLE schedule_blocks (
    id          INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    label       TEXT    NOT NULL DEFAULT '',
    CHECK (starts_at < ends_at)
);
CREATE INDEX schedule_blocks_by_provider ON schedule_blocks(provider_id, starts_at);

CREATE TABLE holidays (
    clinic_id INTEGER NOT NULL REFERENCES clinics(id),
    on_date   TEXT    NOT NULL,
    name      TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (clinic_id, on_date)
);

CREATE TABLE patients (
    id           INTEGER PRIMARY KEY,
    clinic_id    INTEGER NOT NULL REFERENCES clinics(id),
    temporary_id TEXT    UNIQUE,
    registered   BOOLEAN NOT NULL DEFAULT FALSE,
    first_name   TEXT    NOT NULL,
    last_name    TEXT    NOT NULL,
    birth_date   TEXT,
    phone        TEXT    NOT NULL DEFAULT '',
    email        TEXT    NOT NULL DEFAULT '',
    address      TEXT    NOT NULL DEFAULT '',
    national_id  TEXT    NOT NULL DEFAULT '',
    mrn          TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
);
CREATE INDEX patients_by_clinic_phone ON patients(clinic_id, phone);

-- SQLite cannot add table constraints to an existing table: rebuild appointments.
CREATE TABLE appointments_v2 (
    id                  INTEGER PRIMARY KEY,
    clinic_id           INTEGER NOT NULL REFERENCES clinics(id),
    location_id         INTEGER NOT NULL REFERENCES locations(id),
    provider_id         INTEGER NOT NULL REFERENCES providers(id),
    service_id          INTEGER NOT NULL REFERENCES services(id),
    product_id          INTEGER REFERENCES products(id),
    booker_id           INTEGER REFERENCES patients(id),
    participant_id      INTEGER REFERENCES patients(id),
    starts_at           INTEGER NOT NULL,
    ends_at             INTEGER NOT NULL,
    time_zone           TEXT    NOT NULL DEFAULT 'UTC',
    local_date          TEXT,
    token_number        INTEGER,
    status              TEXT    NOT NULL DEFAULT 'booked'
                        CHECK (status IN ('pending', 'booked', 'checked_in', 'completed', 'cancelled', 'no_show')),
    source              TEXT    NOT NULL DEFAULT 'staff',
    reason              TEXT    NOT NULL DEFAULT '',
    cancellation_reason TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER,
    CHECK (starts_at < ends_at)
);
INSERT INTO appointments_v2 (id, clinic_id, location_id, provider_id, service_id, starts_at, ends_at, status, created_at)
    SELECT id, clinic_id, location_id, provider_id, service_id, starts_at, ends_at, status, created_at FROM appointments;
DROP TABLE appointments;
ALTER TABLE appointments_v2 RENAME TO appointments;
CREATE INDEX appointments_by_provider_time ON appointments(provider_id, starts_at);
CREATE UNIQUE INDEX appointments_token_unique ON appointments(provider_id, local_date, token_number);

-- The guarantee against double booking lives in the database. SQLite runs one writer at a
-- time, so a trigger that looks for an overlapping active appointment cannot race another
-- insert: this is as strong as PostgreSQL's exclusion constraint.
CREATE TRIGGER appointments_no_overlap_insert BEFORE INSERT ON appointments
WHEN NEW.status IN ('pending', 'booked', 'checked_in', 'completed')
BEGIN
    SELECT RAISE(ABORT, 'appointments_no_overlap') WHERE EXISTS (
        SELECT 1 FROM appointments a
         WHERE a.provider_id = NEW.provider_id
           AND a.status IN ('pending', 'booked', 'checked_in', 'completed')
           AND a.starts_at < NEW.ends_at AND a.ends_at > NEW.starts_at);
END;

CREATE TRIGGER appointments_no_overlap_update BEFORE UPDATE OF provider_id, starts_at, ends_at, status ON appointments
WHEN NEW.status IN ('pending', 'booked', 'checked_in', 'completed')
BEGIN
    SELECT RAISE(ABORT, 'appointments_no_overlap') WHERE EXISTS (
        SELECT 1 FROM appointments a
         WHERE a.id <> NEW.id
           AND a.provider_id = NEW.provider_id
           AND a.status IN ('pending', 'booked', 'checked_in', 'completed')
           AND a.starts_at < NEW.ends_at AND a.ends_at > NEW.starts_at);
END;

CREATE TABLE token_counters (
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    local_date  TEXT    NOT NULL,
    last_token  INTEGER NOT NULL,
    PRIMARY KEY (provider_id, local_date)
);

CREATE TABLE appointment_changes (
    id              INTEGER PRIMARY KEY,
    appointment_id  INTEGER NOT NULL REFERENCES appointments(id),
    kind            TEXT    NOT NULL,
    from_status     TEXT,
    to_status       TEXT,
    old_starts_at   INTEGER,
    old_ends_at     INTEGER,
    old_provider_id INTEGER,
    source          TEXT    NOT NULL,
    note            TEXT    NOT NULL DEFAULT '',
    changed_at      INTEGER NOT NULL
);
CREATE INDEX appointment_changes_by_appointment ON appointment_changes(appointment_id);

CREATE TABLE holds (
    id          INTEGER PRIMARY KEY,
    clinic_id   INTEGER NOT NULL REFERENCES clinics(id),
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    product_id  INTEGER NOT NULL REFERENCES products(id),
    token       TEXT    NOT NULL UNIQUE,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX holds_by_provider ON holds(provider_id, expires_at);

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    event_id   TEXT    NOT NULL UNIQUE,
    clinic_id  INTEGER NOT NULL REFERENCES clinics(id),
    event_type TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX outbox_by_clinic ON outbox(clinic_id, id);

CREATE TABLE idempotency_keys (
    clinic_id      INTEGER NOT NULL REFERENCES clinics(id),
    key            TEXT    NOT NULL,
    request_sha256 TEXT    NOT NULL,
    appointment_id INTEGER NOT NULL REFERENCES appointments(id),
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (clinic_id, key)
);
