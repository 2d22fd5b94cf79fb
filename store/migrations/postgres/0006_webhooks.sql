-- Webhook subscriptions and their delivery queue. The outbox row of each change is fanned out
-- once into one delivery per subscription that asked for its event type; each delivery is
-- retried on its own schedule and every attempt is logged.

-- `dispatched_at` marks outbox rows already fanned out; `body` is the exact JSON sent for the
-- event (the same bytes on every attempt, so signatures and receivers' de-duplication agree).
ALTER TABLE outbox ADD COLUMN dispatched_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN body TEXT;
-- Earlier events predate every subscription: nothing is owed for them.
UPDATE outbox SET dispatched_at = created_at;
CREATE INDEX outbox_undispatched ON outbox(id) WHERE dispatched_at IS NULL;

CREATE TABLE webhook_subscriptions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clinic_id       BIGINT  NOT NULL REFERENCES clinics(id),
    url             TEXT    NOT NULL,
    -- Comma-wrapped event names (',appointmentCreated,Queued,'), so one LIKE matches a type.
    events          TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    -- Needed in clear to sign; `whsec_` + base64 of the key bytes.
    secret          TEXT    NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    -- Start of the current run of failed attempts; NULL after any success.
    failing_since   TIMESTAMPTZ,
    disabled_at     TIMESTAMPTZ,
    disabled_reason TEXT
);
CREATE INDEX webhook_subscriptions_by_clinic ON webhook_subscriptions(clinic_id);

CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id BIGINT  NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    outbox_id       BIGINT  NOT NULL REFERENCES outbox(id),
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    -- Attempts started. A claim increments it, so a worker's result only applies while the
    -- count is still the one it claimed (a lease that ran out was claimed again).
    attempts        BIGINT  NOT NULL DEFAULT 0,
    -- When the next attempt is due; while an attempt runs, when its lease runs out.
    next_attempt_at TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ,
    UNIQUE (subscription_id, outbox_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE state = 'pending';

CREATE TABLE webhook_attempts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  BIGINT  NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt      BIGINT  NOT NULL,
    attempted_at TIMESTAMPTZ NOT NULL,
    -- NULL when no HTTP answer came; then `error` says why.
    status_code  BIGINT,
    latency_ms   BIGINT  NOT NULL,
    error        TEXT
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts(delivery_id, id);
