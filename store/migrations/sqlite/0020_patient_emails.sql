-- Patient e-mails: confirmation, rescheduled, cancelled and reminder messages, queued from the
-- outbox (each change's event owes at most one message, keyed by the event id) and sent by the
-- mail worker with retries, like webhook deliveries.

-- What each clinic sends; every message is on by default.
ALTER TABLE clinics ADD COLUMN email_confirmation BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE clinics ADD COLUMN email_rescheduled  BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE clinics ADD COLUMN email_cancelled    BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE clinics ADD COLUMN email_reminder     BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE clinics ADD COLUMN reminder_minutes   INTEGER NOT NULL DEFAULT 1440 CHECK (reminder_minutes BETWEEN 60 AND 10080);
-- `Name <address>` or an address; empty: the server's BOOKING_MAIL_FROM.
ALTER TABLE clinics ADD COLUMN email_sender       TEXT    NOT NULL DEFAULT '';
-- Added to every message (directions, what to bring).
ALTER TABLE clinics ADD COLUMN email_note         TEXT    NOT NULL DEFAULT '';

-- `mailed_at` marks outbox rows the mail queue has looked at. Earlier events owe nothing: the
-- patients heard of those changes before e-mails existed.
ALTER TABLE outbox ADD COLUMN mailed_at INTEGER;
UPDATE outbox SET mailed_at = created_at;
CREATE INDEX outbox_unmailed ON outbox(id) WHERE mailed_at IS NULL;

-- Appointments whose patient asked for no reminder (from the manage page). A table of its own:
-- an update of the appointment's row would count as a change of the clinic's availability.
CREATE TABLE reminder_opt_outs (
    appointment_id INTEGER PRIMARY KEY REFERENCES appointments(id),
    created_at     INTEGER NOT NULL
);

CREATE TABLE patient_emails (
    id               INTEGER PRIMARY KEY,
    clinic_id        INTEGER NOT NULL REFERENCES clinics(id),
    appointment_id   INTEGER NOT NULL REFERENCES appointments(id),
    kind             TEXT    NOT NULL CHECK (kind IN ('confirmation', 'rescheduled', 'cancelled', 'reminder')),
    -- What makes a message once: the event's id for a change's message, `reminder:` and the
    -- id of the event (booking or move) that scheduled a reminder.
    once_key         TEXT    NOT NULL UNIQUE,
    -- The address and the name it is greeted by, as they were when the message was queued.
    recipient        TEXT    NOT NULL,
    recipient_name   TEXT    NOT NULL DEFAULT '',
    -- The appointment's time as the change left it (a reminder's: the start it reminds of;
    -- it is not sent when the appointment has moved since).
    starts_at        INTEGER NOT NULL,
    ends_at          INTEGER NOT NULL,
    previous_starts_at INTEGER,
    -- A cancellation's reason, and whether the clinic (not the patient) cancelled.
    reason           TEXT    NOT NULL DEFAULT '',
    by_clinic        BOOLEAN NOT NULL DEFAULT FALSE,
    -- The calendar file's SEQUENCE: the appointment's changes so far.
    sequence         INTEGER NOT NULL DEFAULT 0,
    state            TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
    -- Attempts started; a claim increments it (see webhook_deliveries).
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt is due (a reminder's: when it goes out); while an attempt runs,
    -- when its lease runs out.
    next_attempt_at  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER,
    -- The last failure's reason (the server's answer), or why a message was skipped.
    last_error       TEXT
);
CREATE INDEX patient_emails_due ON patient_emails(next_attempt_at) WHERE state = 'pending';
CREATE INDEX patient_emails_by_appointment ON patient_emails(appointment_id);
