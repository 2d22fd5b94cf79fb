-- The clinic's own people: staff accounts, their sign-in sessions and invitations, failed
-- sign-ins (for throttling, shared by every instance), and the audit log of configuration
-- changes. A clinic also gets a home time zone: the zone its new locations start in.

ALTER TABLE clinics ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

CREATE TABLE staff_users (
    id            INTEGER PRIMARY KEY,
    clinic_id     INTEGER NOT NULL REFERENCES clinics(id),
    -- One account per address across the deployment, so signing in needs no clinic.
    email         TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'desk')),
    locale        TEXT    NOT NULL DEFAULT 'en',
    -- NULL until the invitation is accepted: such an account cannot sign in.
    password_hash TEXT,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);
CREATE INDEX staff_users_by_clinic ON staff_users(clinic_id);

-- One-time links: only the token's digest is kept.
CREATE TABLE staff_invitations (
    token_sha256  TEXT    PRIMARY KEY,
    staff_user_id INTEGER NOT NULL REFERENCES staff_users(id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
CREATE INDEX staff_invitations_by_user ON staff_invitations(staff_user_id);

-- Server-side sessions: the cookie holds a random token, the table its digest, so a copy of
-- the database signs nobody in. They survive restarts and are shared by every instance.
CREATE TABLE staff_sessions (
    id_sha256     TEXT    PRIMARY KEY,
    staff_user_id INTEGER NOT NULL REFERENCES staff_users(id),
    csrf_token    TEXT    NOT NULL,
    -- A message for the next page only, e.g. a new API key that is shown once.
    flash         TEXT,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX staff_sessions_by_user ON staff_sessions(staff_user_id);

CREATE TABLE login_failures (
    id      INTEGER PRIMARY KEY,
    email   TEXT    NOT NULL,
    address TEXT    NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX login_failures_by_email ON login_failures(email, at);
CREATE INDEX login_failures_by_address ON login_failures(address, at);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    clinic_id     INTEGER NOT NULL REFERENCES clinics(id),
    staff_user_id INTEGER REFERENCES staff_users(id),
    -- Who, as people read it: the staff member's e-mail, or "cli" for the command line.
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    -- JSON: what changed, e.g. {"horizonDays":{"from":90,"to":120}}.
    detail        TEXT    NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX audit_log_by_clinic ON audit_log(clinic_id, id);
