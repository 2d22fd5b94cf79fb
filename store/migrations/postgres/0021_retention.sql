-- Retention (store/src/retention.rs) removes an outbox event once no delivery of it remains:
-- without this index, each event's check read every delivery.
CREATE INDEX webhook_deliveries_by_outbox ON webhook_deliveries(outbox_id);
