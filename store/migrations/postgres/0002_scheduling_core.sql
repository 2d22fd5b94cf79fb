-- Scheduling core: clinic settings, products, richer schedules, patients, the appointment
-- lifecycle, holds, token numbers, the event outbox and idempotency keys.

CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE clinics
    ADD COLUMN minimum_notice_minutes      INTEGER NOT NULL DEFAULT 60   CHECK (minimum_notice_minutes >= 0),
    ADD COLUMN horizon_days                INTEGER NOT NULL DEFAULT 90   CHECK (horizon_days BETWEEN 1 AND 1096),
    ADD COLUMN cancellation_cutoff_minutes INTEGER NOT NULL DEFAULT 1440 CHECK (cancellation_cutoff_minutes >= 0),
    ADD COLUMN hold_minutes                INTEGER NOT NULL DEFAULT 10   CHECK (hold_minutes BETWEEN 1 AND 120);

ALTER TABLE providers
    ADD COLUMN title  TEXT NOT NULL DEFAULT '',
    ADD COLUMN gender TEXT NOT NULL DEFAULT '';

CREATE TABLE products (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clinic_id            BIGINT  NOT NULL REFERENCES clinics(id),
    service_id           BIGINT  NOT NULL REFERENCES services(id),
    name                 TEXT    NOT NULL,
    description          TEXT    NOT NULL DEFAULT '',
    duration_minutes     INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    new_patient_minutes  INTEGER CHECK (new_patient_minutes BETWEEN 1 AND 1440),
    price_cents          BIGINT  NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
    currency             TEXT    NOT NULL DEFAULT 'EUR',
    buffer_before_minutes INTEGER NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 1440),
    buffer_after_minutes  INTEGER NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 1440),
    step_minutes         INTEGER CHECK (step_minutes BETWEEN 1 AND 1440),
    per_day_cap          INTEGER CHECK (per_day_cap >= 1),
    booker_fields        TEXT    NOT NULL DEFAULT 'firstname,lastname,phone',
    participant_fields   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX products_by_service ON products(service_id);

CREATE TABLE provider_services (
    provider_id BIGINT NOT NULL REFERENCES providers(id),
    service_id  BIGINT NOT NULL REFERENCES services(id),
    PRIMARY KEY (provider_id, service_id)
);

ALTER TABLE working_hours
    ADD COLUMN valid_from  DATE,
    ADD COLUMN valid_until DATE;

CREATE TABLE schedule_exceptions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id BIGINT NOT NULL REFERENCES providers(id),
    on_date     DATE   NOT NULL,
    kind        TEXT   NOT NULL CHECK (kind IN ('closed', 'extra')),
    starts_at   TEXT,
    ends_at     TEXT,
    CHECK (kind = 'closed' OR (starts_at IS NOT NULL AND ends_at IS NOT NULL AND starts_at < ends_at))
);
CREATE INDEX schedule_exceptions_by_provider ON schedule_exceptions(provider_id, on_date);

CREATE TABLE schedule_blocks (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id BIGINT      NOT NULL REFERENCES providers(id),
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    label       TEXT        NOT NULL DEFAULT '',
    CHECK (starts_at < ends_at)
);
CREATE INDEX schedule_blocks_by_provider ON schedule_blocks(provider_id, starts_at);

CREATE TABLE holidays (
    clinic_id BIGINT NOT NULL REFERENCES clinics(id),
    on_date   DATE   NOT NULL,
    name      TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (clinic_id, on_date)
);

CREATE TABLE patients (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clinic_id    BIGINT      NOT NULL REFERENCES clinics(id),
    temporary_id TEXT        UNIQUE,
    registered   BOOLEAN     NOT NULL DEFAULT FALSE,
    first_name   TEXT        NOT NULL,
    last_name    TEXT        NOT NULL,
    birth_date   DATE,
    phone        TEXT        NOT NULL DEFAULT '',
    email        TEXT        NOT NULL DEFAULT '',
    address      TEXT        NOT NULL DEFAULT '',
    national_id  TEXT        NOT NULL DEFAULT '',
    mrn          TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX patients_by_clinic_phone ON patients(clinic_id, phone);

ALTER TABLE appointments
    ADD COLUMN product_id             BIGINT REFERENCES products(id),
    ADD COLUMN booker_id              BIGINT REFERENCES patients(id),
    ADD COLUMN participant_id         BIGINT REFERENCES patients(id),
    ADD COLUMN time_zone              TEXT        NOT NULL DEFAULT 'UTC',
    ADD COLUMN local_date             DATE,
    ADD COLUMN token_number           INTEGER,
    ADD COLUMN source                 TEXT        NOT NULL DEFAULT 'staff',
    ADD COLUMN reason                 TEXT        NOT NULL DEFAULT '',
    ADD COLUMN cancellation_reason    TEXT,
    ADD COLUMN updated_at             TIMESTAMPTZ;
ALTER TABLE appointments ADD CONSTRAINT appointments_status_known
    CHECK (status IN ('pending', 'booked', 'checked_in', 'completed', 'cancelled', 'no_show'));
-- The guarantee against double booking lives in the database: two appointments of one
-- provider that occupy time can never overlap, whatever the application does.
ALTER TABLE appointments ADD CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
    provider_id WITH =,
    tstzrange(starts_at, ends_at, '[)') WITH &&
) WHERE (status IN ('pending', 'booked', 'checked_in', 'completed'));
CREATE UNIQUE INDEX appointments_token_unique ON appointments(provider_id, local_date, token_number);

-- Token numbers are drawn from a counter row per provider and local day; the upsert locks the
-- row, so concurrent bookings get consecutive numbers and a number is never handed out twice.
CREATE TABLE token_counters (
    provider_id BIGINT  NOT NULL REFERENCES providers(id),
    local_date  DATE    NOT NULL,
    last_token  INTEGER NOT NULL,
    PRIMARY KEY (provider_id, local_date)
);

CREATE TABLE appointment_changes (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appointment_id BIGINT      NOT NULL REFERENCES appointments(id),
    kind           TEXT        NOT NULL,
    from_status    TEXT,
    to_status      TEXT,
    old_starts_at  TIMESTAMPTZ,
    old_ends_at    TIMESTAMPTZ,
    old_provider_id BIGINT,
    source         TEXT        NOT NULL,
    note           TEXT        NOT NULL DEFAULT '',
    changed_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX appointment_changes_by_appointment ON appointment_changes(appointment_id);

CREATE TABLE holds (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clinic_id   BIGINT      NOT NULL REFERENCES clinics(id),
    provider_id BIGINT      NOT NULL REFERENCES providers(id),
    product_id  BIGINT      NOT NULL REFERENCES products(id),
    token       TEXT        NOT NULL UNIQUE,
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX holds_by_provider ON holds(provider_id, expires_at);

-- Every change writes one row here in the same transaction; webhook delivery reads it.
CREATE TABLE outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     TEXT        NOT NULL UNIQUE,
    clinic_id    BIGINT      NOT NULL REFERENCES clinics(id),
    event_type   TEXT        NOT NULL,
    payload      TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_by_clinic ON outbox(clinic_id, id);

CREATE TABLE idempotency_keys (
    clinic_id      BIGINT      NOT NULL REFERENCES clinics(id),
    key            TEXT        NOT NULL,
    request_sha256 TEXT        NOT NULL,
    appointment_id BIGINT      NOT NULL REFERENCES appointments(id),
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (clinic_id, key)
);
