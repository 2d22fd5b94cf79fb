-- Who made a subscription (the API credential; NULL when made in the console or before this
-- migration) and the location it is limited to (NULL: the whole clinic). A location-scoped
-- credential sees and manages only its own subscriptions, and they receive only events of
-- appointments at that location.
ALTER TABLE webhook_subscriptions ADD COLUMN credential_id BIGINT REFERENCES api_credentials(id);
ALTER TABLE webhook_subscriptions ADD COLUMN location_id BIGINT REFERENCES locations(id);
