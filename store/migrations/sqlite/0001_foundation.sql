-- Instants are INTEGER seconds since the Unix epoch, UTC: numeric comparison for overlap
-- checks and compact indexes. Wall-clock rules are TEXT 'HH:MM' in the location's zone.

CREATE TABLE clinics (
    id             INTEGER PRIMARY KEY,
    slug           TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    default_locale TEXT    NOT NULL DEFAULT 'en',
    created_at     INTEGER NOT NULL
);

CREATE TABLE locations (
    id        INTEGER PRIMARY KEY,
    clinic_id INTEGER NOT NULL REFERENCES clinics(id),
    name      TEXT    NOT NULL,
    address   TEXT    NOT NULL,
    time_zone TEXT    NOT NULL
);
CREATE INDEX locations_by_clinic ON locations(clinic_id);

CREATE TABLE providers (
    id           INTEGER PRIMARY KEY,
    clinic_id    INTEGER NOT NULL REFERENCES clinics(id),
    display_name TEXT    NOT NULL,
    specialty    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX providers_by_clinic ON providers(clinic_id);

CREATE TABLE services (
    id               INTEGER PRIMARY KEY,
    clinic_id        INTEGER NOT NULL REFERENCES clinics(id),
    name             TEXT    NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0)
);
CREATE INDEX services_by_clinic ON services(clinic_id);

CREATE TABLE working_hours (
    id          INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    location_id INTEGER NOT NULL REFERENCES locations(id),
    weekday     INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts_at   TEXT    NOT NULL,
    ends_at     TEXT    NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX working_hours_by_provider ON working_hours(provider_id);

CREATE TABLE appointments (
    id          INTEGER PRIMARY KEY,
    clinic_id   INTEGER NOT NULL REFERENCES clinics(id),
    location_id INTEGER NOT NULL REFERENCES locations(id),
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    service_id  INTEGER NOT NULL REFERENCES services(id),
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'booked',
    created_at  INTEGER NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX appointments_by_provider_time ON appointments(provider_id, starts_at);

CREATE TABLE api_credentials (
    id         INTEGER PRIMARY KEY,
    clinic_id  INTEGER NOT NULL REFERENCES clinics(id),
    username   TEXT    NOT NULL UNIQUE,
    key_sha256 TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
